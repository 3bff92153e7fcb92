"""Jinja in templated fields → Argo placeholders, read with Jinja's own parser (never by pattern over text).

An expression maps when Argo has a faithful equivalent: ``params.x`` → the workflow parameter, ``ds`` /
``ts`` / ``logical_date`` → the workflow's creation time (the tick of a CronWorkflow or calendar Sensor),
``run_id`` → ``workflow.name``, ``dag.dag_id`` / ``task.task_id`` → the literal ids, and ``ti.xcom_pull`` of
a task whose XCom an Argo step exposes → that step's output parameter. Anything else (filters, statements,
macros, other context variables) raises :class:`Unmappable` naming the expression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_CREATED = "workflow.creationTimestamp"
# Airflow context variable → (Argo text, why it is only close). The run's logical date becomes the time Argo
# created the workflow: for a CronWorkflow or calendar Sensor that is the tick, give or take seconds.
_TIME_NOTE = "the workflow's creation time (the cron or calendar tick, seconds later) stands for the logical date"
_VARIABLES: Mapping[str, tuple[str, str]] = {
    "ds": (f"{{{{{_CREATED}.Y}}}}-{{{{{_CREATED}.m}}}}-{{{{{_CREATED}.d}}}}", _TIME_NOTE),
    "ds_nodash": (f"{{{{{_CREATED}.Y}}}}{{{{{_CREATED}.m}}}}{{{{{_CREATED}.d}}}}", _TIME_NOTE),
    "ts": (f"{{{{{_CREATED}}}}}", _TIME_NOTE + " (RFC 3339)"),
    "logical_date": (f"{{{{{_CREATED}}}}}", _TIME_NOTE + " (RFC 3339)"),
    "run_id": ("{{workflow.name}}", "run_id becomes the workflow's name: unique per run, but a different text"),
}
_TI = ("ti", "task_instance")
_LOGICAL_DATE = ("logical_date", "dag_run.logical_date")


class Unmappable(Exception):
    """A task (or one of its fields) has no faithful Argo equivalent; the message says why."""


@dataclass
class JinjaContext:
    dag_id: str
    task_id: str
    params: Mapping[str, str]  # Airflow param → Argo parameter name
    # (upstream task id, XCom key, subscripts) → Argo text; raises Unmappable
    xcom: Callable[[str, str, list[Any]], str]
    notes: list[str] = field(default_factory=list)  # approximations made, for the report


def has_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def translate_value(value: Any, ctx: JinjaContext, what: str) -> Any:
    """Translate every string inside a templated field's value (str, list, tuple, dict)."""
    if isinstance(value, str):
        return translate(value, ctx, what)
    if isinstance(value, (list, tuple)):
        return [translate_value(v, ctx, what) for v in value]
    if isinstance(value, dict):
        return {k: translate_value(v, ctx, f"{what}[{k!r}]") for k, v in value.items()}
    return value


def translate(text: str, ctx: JinjaContext, what: str) -> str:
    if not has_jinja(text):
        return text
    from jinja2 import TemplateSyntaxError, nodes

    try:
        tree = _environment().parse(text)
    except TemplateSyntaxError as error:
        raise Unmappable(f"{what}: invalid Jinja {text!r}: {error.message}") from None
    out: list[str] = []
    for statement in tree.body:
        if not isinstance(statement, nodes.Output):
            raise Unmappable(f"{what}: Jinja statement ({type(statement).__name__.lower()}) in {text!r} has no "
                             "Argo equivalent")
        for node in statement.nodes:
            out.append(node.data if isinstance(node, nodes.TemplateData) else _expression(node, ctx, what, text))
    return "".join(out)


def _expression(node: Any, ctx: JinjaContext, what: str, text: str) -> str:
    from jinja2 import nodes

    if isinstance(node, nodes.Const):
        return str(node.value)
    if isinstance(node, nodes.Name) and node.name in _VARIABLES:
        argo, note = _VARIABLES[node.name]
        ctx.notes.append(f"{what}: {{{{ {node.name} }}}} → {argo}: {note}")
        return argo
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr == "isoformat" \
            and not node.args and not node.kwargs and _dotted(node.node.node) in _LOGICAL_DATE:
        return _expression(nodes.Name("logical_date", "load"), ctx, what, text)
    path = _dotted(node)
    if path in ("dag.dag_id", "dag_run.dag_id", "ti.dag_id", "task_instance.dag_id"):
        return ctx.dag_id
    if path in ("task.task_id", "ti.task_id", "task_instance.task_id"):
        return ctx.task_id
    if path in ("dag_run.run_id", "ti.run_id", "task_instance.run_id"):
        return _expression(nodes.Name("run_id", "load"), ctx, what, text)
    param = _param(node)
    if param is not None:
        if param not in ctx.params:
            raise Unmappable(f"{what}: params.{param} is not a param of the DAG")
        return f"{{{{inputs.parameters.{ctx.params[param]}}}}}"
    pulled = xcom_pull(node)
    if pulled is not None:
        task_id, key, subscripts = pulled
        return ctx.xcom(task_id, key, subscripts)
    raise Unmappable(f"{what}: {describe(node)} in {text!r} has no faithful Argo equivalent")


def _dotted(node: Any) -> str | None:
    from jinja2 import nodes

    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return f"{base}.{node.attr}" if base else None
    return None


def _param(node: Any) -> str | None:
    from jinja2 import nodes

    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name == "params":
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.node, nodes.Name) and node.node.name == "params" \
            and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def xcom_pull(node: Any) -> tuple[str, str, list[Any]] | None:
    """``ti.xcom_pull(task_ids='x', key='k')['a']['b']`` → ('x', 'k', ['a', 'b']); None for anything else."""
    from jinja2 import nodes

    subscripts: list[Any] = []
    while isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        subscripts.insert(0, node.arg.value)
        node = node.node
    if not (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr == "xcom_pull"
            and _dotted(node.node.node) in _TI):
        return None
    arguments: dict[str, Any] = {}
    for name, arg in zip(("task_ids", "dag_id", "key"), node.args, strict=False):
        arguments[name] = arg
    arguments.update({kw.key: kw.value for kw in node.kwargs})
    task_ids, key = arguments.get("task_ids"), arguments.get("key")
    if not isinstance(task_ids, nodes.Const) or not isinstance(task_ids.value, str):
        return None
    if key is not None and not (isinstance(key, nodes.Const) and isinstance(key.value, str)):
        return None
    if set(arguments) - {"task_ids", "key"}:
        return None
    return task_ids.value, key.value if key is not None else "return_value", subscripts


def xcom_sources(text: str) -> set[str]:
    """The task ids whose XCom a template pulls (``ti.xcom_pull(task_ids='...')``)."""
    if not isinstance(text, str) or not has_jinja(text):
        return set()
    from jinja2 import TemplateSyntaxError, nodes

    try:
        tree = _environment().parse(text)
    except TemplateSyntaxError:
        return set()
    return {pulled[0] for node in tree.find_all(nodes.Call) if (pulled := xcom_pull(node)) is not None}


def _environment() -> Any:
    from jinja2 import Environment

    # Only parsed, never rendered to HTML: autoescape does not apply.
    return Environment(autoescape=False)  # noqa: S701


def describe(node: Any) -> str:
    """A short name for an expression, for messages."""
    from jinja2 import nodes

    path = _dotted(node)
    if path:
        return path
    if isinstance(node, nodes.Filter):
        return f"filter |{node.name}"
    if isinstance(node, nodes.Call):
        return f"call of {describe(node.node)}()"
    if isinstance(node, nodes.Getitem):
        return f"{describe(node.node)}[...]"
    if isinstance(node, nodes.Getattr):
        return f"{describe(node.node)}.{node.attr}"
    return f"a {type(node).__name__.lower()} expression"
