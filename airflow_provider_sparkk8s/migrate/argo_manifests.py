"""Argo Workflows / Argo Events manifests shared by the migration emitters (Oozie → Argo, Airflow → Argo).

Names (DNS labels, parameter and task names that Argo accepts, deterministic de-duplication), the
WorkflowTemplate with a ``main`` DAG, the Spark steps (spark-submit in cluster mode, or a SparkApplication
resource), the CronWorkflow and the calendar EventSource + Sensor, and the lifting of references a leaf template
cannot resolve itself into template inputs. Pure functions over plain dicts: no Airflow import, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

API_VERSION = "argoproj.io/v1alpha1"
MAIN = "main"
NOOP = "noop"  # the pod-less gate template
ANNOTATION_PREFIX = "sparkk8s.io/"

_INVALID_PARAM = re.compile(r"[^-a-zA-Z0-9_]+")
_INVALID_TASK = re.compile(r"[^-a-zA-Z0-9]+")
_INVALID_DNS = re.compile(r"[^a-z0-9-]+")
_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_TASK_OUTPUT = re.compile(r"^\s*tasks\.([-a-zA-Z0-9]+)\.outputs\.parameters\.([-a-zA-Z0-9_]+)\s*$")
_EXPR_TASK_OUTPUT = re.compile(r"tasks(?:\.([-a-zA-Z0-9]+)|\[\s*'([-a-zA-Z0-9]+)'\s*\])\.outputs\.parameters"
                               r"(?:\.([-a-zA-Z0-9_]+)|\[\s*'([-a-zA-Z0-9_]+)'\s*\])")
_INPUT_REF = re.compile(r"inputs\.parameters(?:\.([-a-zA-Z0-9_]+)|\[\s*['\"]([^'\"]+)['\"]\s*\])")


# ------------------------------------------------------------------------------------------ names


def dns_name(text: str, limit: int = 63) -> str:
    """A lowercase DNS-1123 label from any text; too long → truncated with a hash of the original so it stays
    distinct."""
    name = _INVALID_DNS.sub("-", text.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name) or "oozie"
    if len(name) > limit:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        name = name[: limit - 9].rstrip("-") + "-" + digest
    return name


def param_name(key: str) -> str:
    """An Argo parameter name (``[-a-zA-Z0-9_]+``) for a property or Param name."""
    return _INVALID_PARAM.sub("-", key).strip("-") or "param"


def task_name(node: str) -> str:
    """An Argo task / template name (``[a-zA-Z0-9][-a-zA-Z0-9]*``) for a node or task id."""
    return re.sub(r"-{2,}", "-", _INVALID_TASK.sub("-", node)).strip("-") or "node"


class Names:
    """Hands out unique names: the first claimant gets the plain name, later ones ``-2``, ``-3``, ..."""

    def __init__(self, reserved: Iterable[str] = (), limit: int = 128) -> None:
        self.taken = set(reserved)
        self.limit = limit

    def claim(self, wanted: str) -> str:
        name, n = wanted, 1
        while name in self.taken:
            n += 1
            suffix = f"-{n}"
            name = wanted[: self.limit - len(suffix)] + suffix
        self.taken.add(name)
        return name


def param_mapping(keys: Iterable[str]) -> dict[str, str]:
    """Source parameter name → Argo parameter name; sorted first so collisions resolve the same way every time."""
    names = Names()
    return {key: names.claim(param_name(key)) for key in sorted(set(keys))}


# ------------------------------------------------------------------------------------------ manifests


def dump_files(manifests: Iterable[tuple[str, dict]]) -> dict[str, str]:
    """{file name: YAML text}, one manifest per file, the same bytes for the same manifests."""
    from airflow_provider_sparkk8s import yaml_text

    return {name: yaml_text.dump(body, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)
            for name, body in manifests}


def noop_template() -> dict[str, Any]:
    """A pod-less step that succeeds at once: a gate, or a task that does nothing."""
    return {"name": NOOP, "suspend": {"duration": "0"}}


def container(image: str, argv: list[str], env: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"image": image, "command": argv[:1], "args": argv[1:]}
    if env:
        out["env"] = [{"name": k, "value": v} for k, v in env]
    return out


def workflow_template(name: str, namespace: str, annotations: Mapping[str, str],
                      parameters: Mapping[str, str | None], tasks: list[dict[str, Any]],
                      templates: list[dict[str, Any]], *, service_account: str | None = None,
                      fail_fast: bool | None = None) -> dict[str, Any]:
    """A WorkflowTemplate whose entrypoint ``main`` is a DAG of ``tasks``. ``parameters`` ({Argo name: default,
    None when required}) become the workflow's arguments and the inputs of ``main``, so that the template also
    runs through a ``templateRef`` with the caller's values."""
    arguments = []
    inputs = []
    for param, default in parameters.items():
        arguments.append({"name": param} if default is None else {"name": param, "value": default})
        inputs.append({"name": param} if default is None else {"name": param, "default": default})
    dag: dict[str, Any] = {}
    if fail_fast is not None:
        dag["failFast"] = fail_fast
    dag["tasks"] = tasks
    main: dict[str, Any] = {"name": MAIN}
    if inputs:
        main["inputs"] = {"parameters": inputs}
    main["dag"] = dag
    spec: dict[str, Any] = {"entrypoint": MAIN}
    if arguments:
        spec["arguments"] = {"parameters": arguments}
    if service_account:
        spec["serviceAccountName"] = service_account
    spec["templates"] = [main, *templates]
    return {"apiVersion": API_VERSION, "kind": "WorkflowTemplate",
            "metadata": {"name": name, "namespace": namespace, "annotations": dict(annotations)}, "spec": spec}


def cron_workflow(name: str, namespace: str, annotations: Mapping[str, str], schedule: str | list[str],
                  template: str, *,
                  timezone: str | None = None, concurrency_policy: str | None = None,
                  starting_deadline_seconds: int | None = None, suspend: bool = False,
                  arguments: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A CronWorkflow that runs the WorkflowTemplate ``template`` on ``schedule`` (one cron or several)."""
    spec: dict[str, Any] = {"schedules": [schedule] if isinstance(schedule, str) else list(schedule)}
    if timezone:
        spec["timezone"] = timezone
    if concurrency_policy:
        spec["concurrencyPolicy"] = concurrency_policy
    if starting_deadline_seconds is not None:
        spec["startingDeadlineSeconds"] = starting_deadline_seconds
    if suspend:
        spec["suspend"] = True
    workflow_spec: dict[str, Any] = {"workflowTemplateRef": {"name": template}}
    if arguments:
        workflow_spec["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in arguments.items()]}
    spec["workflowSpec"] = workflow_spec
    return {"apiVersion": API_VERSION, "kind": "CronWorkflow",
            "metadata": {"name": name, "namespace": namespace, "annotations": dict(annotations)}, "spec": spec}


def calendar_events(name: str, template: str, timetable: Any, arguments: Mapping[str, str], namespace: str,
                    service_account: str | None) -> list[tuple[str, dict]]:
    """The calendar EventSource + Sensor that submit ``template`` on each fire, rendered by the
    :class:`~airflow_provider_sparkk8s.timetables.ArgoCalendarTimetable` Airflow uses for the same calendar."""
    event_source, sensor = timetable.to_argo_events(template, namespace=namespace, event_source_name=name,
                                                    sensor_name=name, parameters=dict(arguments),
                                                    service_account=service_account)
    return [(f"{name}.eventsource.yaml", event_source), (f"{name}.sensor.yaml", sensor)]


# ------------------------------------------------------------------------------------------ Spark steps


def spark_submit_template(spark: Any, name: str, namespace: str, image: str) -> dict[str, Any]:
    """A step that runs spark-submit in cluster mode from the Spark image, for a
    :class:`~airflow_provider_sparkk8s.spark_app.SparkApp`."""
    from airflow_provider_sparkk8s.spark_app import IN_CLUSTER_MASTER, SPARK_SUBMIT_IN_IMAGE

    argv = [SPARK_SUBMIT_IN_IMAGE, *spark.submit_args(IN_CLUSTER_MASTER, conf=spark.spark_conf(namespace))]
    return {"name": name, "container": container(image, argv)}


def spark_application_template(spark: Any, name: str, namespace: str,
                               restart_policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """A step that creates a SparkApplication for ``spark`` and waits until it completes or fails."""
    labels = {"workflows.argoproj.io/workflow": "{{workflow.name}}"}
    manifest = spark.spark_application(name, namespace, labels, {}, {}, restart_policy)
    metadata = manifest["metadata"]
    metadata.pop("name")
    metadata.pop("annotations")
    manifest["metadata"] = {"generateName": f"{name}-", **metadata}  # one application per run and retry
    return resource_template(name, manifest, "status.applicationState.state == COMPLETED",
                             "status.applicationState.state == FAILED")


def resource_template(name: str, manifest: Mapping[str, Any], success: str, failure: str) -> dict[str, Any]:
    """A step that creates ``manifest`` (owned by the workflow) and waits for ``success`` or ``failure``."""
    from airflow_provider_sparkk8s import yaml_text

    return {"name": name, "resource": {
        "action": "create",
        "setOwnerReference": True,
        "successCondition": success,
        "failureCondition": failure,
        "manifest": yaml_text.dump(dict(manifest), sort_keys=False, width=120),
    }}


# ------------------------------------------------------------------------------------------ lifting


def lift_all(template: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The templates to add (a wrapper first, then its ``_children``) and the task arguments they need."""
    children = template.pop("_children", [])
    if not children:
        lifted, needed = lift(template)
        return [lifted], needed
    out: list[dict[str, Any]] = []
    needed = {}
    for child in children:
        lifted, child_needed = lift(child)
        out.append(lifted)
        needed.update(child_needed)
    if needed:
        template["inputs"] = {"parameters": [{"name": n} for n in needed]}
        passed = {"parameters": [{"name": n, "value": f"{{{{inputs.parameters.{n}}}}}"} for n in needed]}
        for group in template["steps"]:
            for step in group:
                child = next(c for c in out if c["name"] == step["template"])
                if "inputs" in child:
                    names = {p["name"] for p in child["inputs"]["parameters"]}
                    step["arguments"] = {"parameters": [p for p in passed["parameters"] if p["name"] in names]}
    return [template, *out], needed


def lift(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Replace references a leaf template cannot resolve itself (task outputs) by inputs, and declare the
    workflow parameters it reads as inputs. Returns the template and {input name: value in the DAG's scope}."""
    needed: dict[str, str] = {}

    def rewrite(text: str) -> str:
        def tag(match: re.Match[str]) -> str:
            body = match.group(1)
            output = _TASK_OUTPUT.match(body)
            if output:
                local = param_name(f"{output.group(1)}-{output.group(2)}")
                needed[local] = match.group(0)
                return f"{{{{inputs.parameters.{local}}}}}"
            if body.startswith("="):  # an expression: task outputs inside it become inputs too
                body = _EXPR_TASK_OUTPUT.sub(lift_expression_output, body)
            for simple, quoted in _INPUT_REF.findall(body):
                name = simple or quoted
                needed.setdefault(name, f"{{{{inputs.parameters.{name}}}}}")
            return f"{{{{{body}}}}}"

        def lift_expression_output(match: re.Match[str]) -> str:
            task, key = match.group(1) or match.group(2), match.group(3) or match.group(4)
            local = param_name(f"{task}-{key}")
            needed[local] = f"{{{{tasks.{task}.outputs.parameters.{key}}}}}"
            return f"inputs.parameters['{local}']"

        return _TAG.sub(tag, text)

    lifted = map_strings(template, rewrite)
    if needed:
        lifted = {"name": lifted["name"], "inputs": {"parameters": [{"name": n} for n in needed]},
                  **{k: v for k, v in lifted.items() if k != "name"}}
    return lifted, needed


def map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    return value
