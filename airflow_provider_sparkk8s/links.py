"""Operator extra links. Each URL is computed when the application is submitted; Airflow stores what
`get_link` returns at the end of each execution segment, so the button works while the task is deferred
and after it finished. The URLs are also pushed to XCom for downstream tasks.

A link that can have no URL is not declared at all: Airflow's UI shows an "Extra Links" heading for every task
that declares links, and a button only for those with a URL (the API server turns "" into null; a None from
`get_link` would be stored and shown as the text "None"). So the operators declare a link only when its URL
template is an argument or an extra of the connection (`links_with_a_url`), which Airflow evaluates when it
serializes the DAG and when the task finishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["ArgoWorkflowsUILink", "SparkDriverUILink", "SparkHistoryServerLink"]

SPARK_HISTORY_URL_KEY = "spark_history_server_url"
SPARK_DRIVER_UI_URL_KEY = "spark_driver_ui_url"
ARGO_UI_URL_KEY = "argo_workflow_url"


def _url(operator: BaseOperator, ti_key: TaskInstanceKey, key: str) -> str:
    # The worker computes links with the live operator, which keeps the URLs it published.
    known = getattr(operator, "published_links", None) or {}
    return known.get(key, "")


class SparkHistoryServerLink(BaseOperatorLink):
    name = "Spark History Server"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _url(operator, ti_key, SPARK_HISTORY_URL_KEY)


class SparkDriverUILink(BaseOperatorLink):
    name = "Spark Driver UI"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _url(operator, ti_key, SPARK_DRIVER_UI_URL_KEY)


class ArgoWorkflowsUILink(BaseOperatorLink):
    name = "Argo Workflows UI"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _url(operator, ti_key, ARGO_UI_URL_KEY)


def render_url(template: str | None, values: Mapping[str, str | None], history_server: bool = False) -> str | None:
    """Fill `{namespace}`, `{driver_pod}`, `{spark_app_id}`, `{app_name}` into a URL template. A History Server
    URL without placeholders gets the application's page appended."""
    if not template:
        return None
    clean = {k: v or "" for k, v in values.items()}
    if history_server and "{" not in template and clean.get("spark_app_id"):
        return f"{template.rstrip('/')}/history/{clean['spark_app_id']}/jobs/"
    try:
        return template.format(**clean)
    except (KeyError, IndexError, ValueError):
        return template


def links_with_a_url(operator: Any, candidates: Iterable[tuple[BaseOperatorLink, tuple[str, ...], str]],
                     conn_argument: str = "kubernetes_conn_id", default_conn: str = "kubernetes_default",
                     lookup: bool = True) -> tuple[BaseOperatorLink, ...]:
    """The candidate links of `operator` that can have a URL. Each candidate (link, arguments, extra) has one
    when one of the operator's `arguments` is set (or mapped: known per index only), or when the connection
    that `conn_argument` names has the `extra`. A connection that cannot be read here (e.g. one defined only
    on the workers) keeps the link. `lookup=False` (the task ran in this process, and Airflow only stores each
    link's URL now, "" without one): every candidate, without asking Airflow for the connection again."""
    if not lookup:
        return tuple(link for link, _, _ in candidates)
    found = []
    extras: dict[str, Any] | None = {}
    looked_up = False
    for link, arguments, extra in candidates:
        if not any(_argument(operator, name) is not None for name in arguments):
            if not looked_up:
                extras, looked_up = _connection_extras(_argument(operator, conn_argument) or default_conn), True
            if extras is not None and not (extras.get(extra) or extras.get(f"extra__kubernetes__{extra}")):
                continue
        found.append(link)
    return tuple(found)


_MAPPED = object()  # an argument given to .expand(): known per map index only


def _argument(operator: Any, name: str) -> Any:
    """An argument of an operator, or of a mapped task while Airflow serializes it (`.partial().expand()`: the
    property then gets the mapped operator, whose arguments are not attributes)."""
    partial = getattr(operator, "partial_kwargs", None)
    if partial is None:
        return getattr(operator, name, None)
    expanded = getattr(getattr(operator, "expand_input", None), "value", None) or {}
    return _MAPPED if name in expanded else partial.get(name)


def _connection_extras(conn_id: Any) -> dict[str, Any] | None:
    """The connection's extras, or None when they cannot be known here."""
    if not isinstance(conn_id, str) or "{{" in conn_id:
        return None
    from airflow.providers.common.compat.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id).extra_dejson
    except Exception:  # noqa: BLE001 - not defined here, or not readable now: keep the link
        return None
