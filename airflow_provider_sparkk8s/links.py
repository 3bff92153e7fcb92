"""Operator extra links. Each URL is computed when the application is submitted; Airflow stores what
`get_link` returns at the end of each execution segment, so the button works while the task is deferred
and after it finished. The URLs are also pushed to XCom for downstream tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

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


def render_url(template: str | None, history_server: bool = False, **values: str | None) -> str | None:
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
