"""One Airflow task → one Argo step: the builders per operator.

A builder reads the operator's constructor arguments (as DagBag loaded them, Jinja not rendered), translates
the templated ones (:mod:`.jinja`) and returns a :class:`Step`; it raises :class:`~.jinja.Unmappable` with the
reason when Argo has no faithful equivalent. Approximations go to the report through ``ctx.note``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_sparkk8s.migrate.argo_manifests import (
    NOOP,
    resource_template,
    spark_application_template,
    spark_submit_template,
)
from airflow_provider_sparkk8s.migrate.oozie.ir import IssueLevel

from .jinja import JinjaContext, Unmappable, has_jinja, translate_value, xcom_sources

XCOM_FILE = "/airflow/xcom/return.json"  # where KubernetesPodOperator's container writes its XCom
SPARK_OPERATOR_EXPLAINED = "the step shows the submission, not the application's result"


@dataclass
class XCom:
    """What of a task's XCom an Argo step exposes: the whole value as a JSON output parameter, and/or keys of
    the returned dict as Argo text."""

    json_param: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    workflow_outputs: bool = False  # ['outputs'][name]: the output parameters of the template the step runs


@dataclass
class Step:
    template: dict[str, Any] | None = None  # a leaf template named after the task
    template_name: str | None = None  # or a template that exists already (noop, an inline workflow's entry)
    template_ref: dict[str, Any] | None = None  # or another WorkflowTemplate's template
    arguments: dict[str, str] = field(default_factory=dict)
    extra_templates: list[dict[str, Any]] = field(default_factory=list)
    xcom: XCom | None = None
    with_items: list[dict[str, Any]] | None = None  # expand over literal lists


@dataclass
class Options:
    namespace: str = "argo"
    spark_image: str = "apache/spark:4.0.1"
    service_account: str | None = None
    entrypoints: Mapping[str, str] = field(default_factory=dict)  # WorkflowTemplate name → its entrypoint
    template_manifests: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    partial: bool = False


@dataclass
class TaskContext:
    op: Any
    name: str  # the Argo task (and template) name
    dag_folder: Path
    options: Options
    jinja: JinjaContext
    upstream: set[str]  # task ids of every upstream task, direct or not
    kinds: Mapping[str, str]  # task id → operator class name, for every task of the DAG
    notes: list[tuple[IssueLevel, str]] = field(default_factory=list)

    def field(self, attr: str) -> Any:
        """The operator's argument, its Jinja translated when the operator templates that field."""
        value = getattr(self.op, attr, None)
        if attr in getattr(self.op, "template_fields", ()):
            return translate_value(value, self.jinja, attr)
        return value

    def note(self, level: IssueLevel, message: str) -> None:
        self.notes.append((level, message))


# ------------------------------------------------------------------------------------------ Spark


def build_spark(ctx: TaskContext) -> Step:
    from airflow_provider_sparkk8s.operators.spark import _APP_FIELDS
    from airflow_provider_sparkk8s.spark_app import SparkApp

    op = ctx.op
    values = {f: ctx.field(f) for f in _APP_FIELDS}
    conf = {str(k): v for k, v in (values.pop("conf") or {}).items()}
    for arg, prop in (("driver_cores", "spark.driver.cores"), ("executor_cores", "spark.executor.cores"),
                      ("executor_instances", "spark.executor.instances")):
        if isinstance(values[arg], str):  # a template: the number is known only at run time
            conf.setdefault(prop, values.pop(arg))
    for arg in ("driver_pod_template", "executor_pod_template"):
        value = ctx.field(arg)
        if isinstance(value, str):
            raise Unmappable(f"{arg}: the file {value!r} is read and rendered at run time; put the Pod in the DAG "
                             "as a dict")
        values[arg] = value
    namespace = ctx.field("namespace") or ctx.options.namespace
    try:
        spark = SparkApp(name=ctx.field("name") or op.task_id, conf=conf, **values)
    except (TypeError, ValueError) as error:
        raise Unmappable(f"invalid Spark application: {error}") from None
    xcom = XCom(keys={"namespace": namespace})
    if op.launcher in ("spark-submit", "pod"):
        image = op.launcher_image or values["image"] or ctx.options.spark_image
        template = spark_submit_template(spark, ctx.name, namespace, image)
        if op.launcher_service_account_name:
            template["serviceAccountName"] = op.launcher_service_account_name
        ctx.note("approximated", f"launcher {op.launcher!r}: spark-submit runs in cluster mode in a step from the "
                 f"image {image}; it exits 0 even when the driver fails: {SPARK_OPERATOR_EXPLAINED} "
                 "(launcher='spark-operator' waits for the application)")
        return Step(template=template, xcom=xcom)
    manifest = ctx.field("spark_application_manifest")
    if manifest is not None:
        manifest = _document(manifest, ctx, "spark_application_manifest", "SparkApplication")
        metadata = dict(manifest.get("metadata") or {})
        metadata.pop("name", None)
        manifest = {**manifest, "metadata": {"generateName": f"{ctx.name}-", **metadata}}
        template = resource_template(ctx.name, manifest, "status.applicationState.state == COMPLETED",
                                     "status.applicationState.state == FAILED")
    else:
        template = spark_application_template(spark, ctx.name, namespace, restart_policy=op.restart_policy)
    template["outputs"] = {"parameters": [{"name": "application", "valueFrom": {"jsonPath": "{.metadata.name}"}}]}
    xcom.keys["application"] = f"{{{{tasks.{ctx.name}.outputs.parameters.application}}}}"
    return Step(template=template, xcom=xcom)


# ------------------------------------------------------------------------------------------ Argo


def build_argo(ctx: TaskContext) -> Step:
    from airflow_provider_sparkk8s.operators.argo import _stringify

    op = ctx.op
    arguments = {str(k): _stringify(v) for k, v in (ctx.field("parameters") or {}).items()}
    namespace = ctx.field("namespace")
    if namespace and namespace != ctx.options.namespace:
        ctx.note("approximated", f"the task ran the workflow in namespace {namespace!r}; the step runs in the "
                 f"exported workflow's namespace {ctx.options.namespace!r}")
    if op.wait_timeout:
        ctx.note("approximated", f"wait_timeout {op.wait_timeout:g}s is not migrated: Argo bounds a step with "
                 "activeDeadlineSeconds (execution_timeout)")
    if op.workflow is not None:
        return _inline_workflow(ctx, arguments)
    cluster = op.cluster_workflow_template is not None
    name = ctx.field("cluster_workflow_template" if cluster else "workflow_template")
    if has_jinja(op.cluster_workflow_template or op.workflow_template or ""):
        raise Unmappable(f"the template name {name!r} is computed at run time; a templateRef names it statically")
    entrypoint = ctx.field("entrypoint") or ctx.options.entrypoints.get(name)
    if not entrypoint:
        raise Unmappable(f"the entrypoint of WorkflowTemplate {name!r} is unknown: set entrypoint= on the task or "
                         "pass the template's manifest (--workflow-templates DIR)")
    known = ctx.options.template_manifests.get(name)
    if known is not None and "workflow.parameters" in json.dumps(known.get("spec", {}).get("templates")):
        ctx.note("approximated", f"WorkflowTemplate {name!r} reads {{{{workflow.parameters...}}}}: through a "
                 "templateRef these are the exporting workflow's parameters; the task's parameters reach only the "
                 "entrypoint's inputs")
    ref: dict[str, Any] = {"name": name, "template": entrypoint}
    if cluster:
        ref["clusterScope"] = True
    return Step(template_ref=ref, arguments=arguments, xcom=_argo_xcom(ctx))


def _argo_xcom(ctx: TaskContext) -> XCom:
    return XCom(keys={"namespace": ctx.options.namespace}, workflow_outputs=True)


def _inline_workflow(ctx: TaskContext, arguments: dict[str, str]) -> Step:
    """The inline Workflow's templates join the exported template, prefixed with the task name."""
    doc = _document(ctx.op.workflow, ctx, "workflow", "Workflow", render=False)
    spec = doc.get("spec") or {}
    templates = spec.get("templates") or []
    entry = ctx.field("entrypoint") or spec.get("entrypoint")
    if not templates or not entry or entry not in {t.get("name") for t in templates}:
        raise Unmappable(f"workflow: the inline Workflow has no template {entry!r} to run")
    if "workflow.parameters" in json.dumps(templates):
        raise Unmappable("workflow: its templates read {{workflow.parameters...}}, which in a step would be the "
                         "exporting workflow's parameters")
    dropped = sorted(set(spec) - {"templates", "entrypoint", "arguments"})
    if dropped:
        ctx.note("approximated", f"workflow: spec fields {', '.join(dropped)} of the inline Workflow are not "
                 "migrated (only its templates run, as a step)")
    prefix = f"{ctx.name}-"
    local = {t["name"] for t in templates}

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: rename(v) for k, v in value.items()}
            if isinstance(out.get("template"), str) and out["template"] in local:
                out["template"] = prefix + out["template"]
            return out
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    renamed = [{**rename(t), "name": prefix + t["name"]} for t in templates]
    entry_template = next(t for t in templates if t["name"] == entry)
    inputs = [p.get("name") for p in (entry_template.get("inputs") or {}).get("parameters") or []]
    given = {p["name"]: str(p.get("value", "")) for p in (spec.get("arguments") or {}).get("parameters") or []
             if "value" in p}
    values = {**given, **arguments}
    return Step(template_name=prefix + entry, extra_templates=renamed,
                arguments={k: values[k] for k in inputs if k in values}, xcom=_argo_xcom(ctx))


def _document(value: Any, ctx: TaskContext, arg: str, kind: str, render: bool = True) -> dict[str, Any]:
    """A manifest argument given as a dict, or as a YAML/JSON file next to the DAG file."""
    if isinstance(value, str):
        import yaml

        path = Path(value) if Path(value).is_absolute() else ctx.dag_folder / value
        try:
            text = path.read_text()
        except OSError as error:
            raise Unmappable(f"{arg}: cannot read {value!r}: {error.strerror}") from None
        if render and has_jinja(text):
            raise Unmappable(f"{arg}: {value!r} is rendered with Jinja at run time")
        value = yaml.safe_load(text)
    if not isinstance(value, dict) or value.get("kind") != kind:
        raise Unmappable(f"{arg}: expected a {kind} manifest")
    return value


# ------------------------------------------------------------------------------------------ pods


def build_pod(ctx: TaskContext) -> Step:
    """cncf.kubernetes' KubernetesPodOperator → a container step with the same pod settings."""
    from kubernetes.client import ApiClient

    op = ctx.op
    for arg in ("pod_template_file", "pod_template_dict", "full_pod_spec"):
        if getattr(op, arg, None):
            raise Unmappable(f"{arg}: the pod comes from a template merged at run time; write its container as the "
                             "task's image, cmds and arguments")
    plain = ApiClient().sanitize_for_serialization

    def translated(attr: str) -> Any:
        return translate_value(plain(getattr(op, attr, None)), ctx.jinja, attr) \
            if attr in op.template_fields else plain(getattr(op, attr, None))

    image = translated("image")
    if not image:
        raise Unmappable("image: the task has no image")
    main: dict[str, Any] = {"image": image}
    if op.cmds:
        main["command"] = [str(c) for c in translated("cmds")]
    if op.arguments:
        main["args"] = [str(a) for a in translated("arguments")]
    env = translated("env_vars") or []
    if isinstance(env, dict):  # kept as given until the task runs
        env = [{"name": k, "value": str(v)} for k, v in env.items()]
    env = list(env)
    env_from = list(translated("env_from") or [])
    volumes = list(translated("volumes") or [])
    mounts = list(translated("volume_mounts") or [])
    for secret in getattr(op, "secrets", None) or []:
        if secret.deploy_type == "env" and secret.key is None:
            env_from.append(plain(secret.to_env_from_secret()))
        elif secret.deploy_type == "env":
            env.append(plain(secret.to_env_secret()))
        else:
            volume, mount = secret.to_volume_secret()
            volumes.append(plain(volume))
            mounts.append(plain(mount))
    for key, value in (("env", env), ("envFrom", env_from), ("resources", translated("container_resources")),
                       ("volumeMounts", mounts), ("imagePullPolicy", op.image_pull_policy),
                       ("securityContext", plain(getattr(op, "container_security_context", None)))):
        if value:
            main[key] = value
    template: dict[str, Any] = {"name": ctx.name}
    metadata = {k: v for k, v in (("labels", translated("labels")), ("annotations", translated("annotations"))) if v}
    if metadata:
        template["metadata"] = metadata
    for key, value in (("nodeSelector", translated("node_selector")), ("tolerations", plain(op.tolerations)),
                       ("affinity", plain(op.affinity)), ("securityContext", plain(op.security_context)),
                       ("serviceAccountName", op.service_account_name),
                       ("priorityClassName", op.priority_class_name)):
        if value:
            template[key] = value
    if volumes:
        template["volumes"] = volumes
    template["container"] = main
    namespace = translated("namespace")
    if namespace and namespace != ctx.options.namespace:
        ctx.note("approximated", f"the pod ran in namespace {namespace!r}; Argo runs the step's pod in the "
                 f"workflow's namespace {ctx.options.namespace!r}")
    if op.image_pull_secrets:
        ctx.note("approximated", "image_pull_secrets: set them on the workflow (spec.imagePullSecrets) or the "
                 "service account; a template cannot carry them")
    if getattr(op, "init_containers", None):
        raise Unmappable("init_containers: Argo's initContainers have a shape of their own; not migrated")
    xcom = None
    if op.do_xcom_push:
        template["outputs"] = {"parameters": [{"name": "return_value", "valueFrom": {"path": XCOM_FILE}}]}
        xcom = XCom(json_param="return_value")
    return Step(template=template, xcom=xcom)


# ------------------------------------------------------------------------------------------ others


def build_empty(ctx: TaskContext) -> Step:
    return Step(template_name=NOOP)


def _waits_for_upstream(ctx: TaskContext, attr: str, producer: str, what: str) -> Step:
    """Our sensors placed after the task that started the object: that step already waited for it."""
    sources = xcom_sources(getattr(ctx.op, attr, None) or "")
    started = [s for s in sources if s in ctx.upstream and ctx.kinds.get(s) == producer]
    if not started or len(sources) != 1:
        raise Unmappable(f"{attr}: waits for a {what} this DAG does not start; an Argo step cannot wait for an "
                         "object another system creates (use an Argo Events sensor)")
    ctx.note("approximated", f"waits for the {what} started by {started[0]!r}, whose step already ran it to the "
             "end: the step passes through")
    return Step(template_name=NOOP)


def build_spark_sensor(ctx: TaskContext) -> Step:
    attr = "application_name" if getattr(ctx.op, "application_name", None) else "driver_pod"
    return _waits_for_upstream(ctx, attr, "SparkK8sOperator", "Spark application")


def build_argo_sensor(ctx: TaskContext) -> Step:
    return _waits_for_upstream(ctx, "workflow_name", "ArgoWorkflowOperator", "workflow")


def build_calendar_sensor(ctx: TaskContext) -> Step:
    raise Unmappable(f"waits for the next event {ctx.op.event_name!r} of the Argo Events calendar "
                     f"{ctx.op.event_source!r}; an Argo step cannot wait for an event: trigger the workflow from that "
                     "calendar instead (schedule the DAG with ArgoCalendarTimetable → EventSource + Sensor)")


BUILDERS: Mapping[str, Callable[[TaskContext], Step]] = {
    "SparkK8sOperator": build_spark,
    "ArgoWorkflowOperator": build_argo,
    "KubernetesPodOperator": build_pod,
    "EmptyOperator": build_empty,
    "SparkK8sSensor": build_spark_sensor,
    "ArgoWorkflowSensor": build_argo_sensor,
    "ArgoCalendarSensor": build_calendar_sensor,
}


def why_unmappable(op: Any) -> str:
    """The reason for operators no builder handles."""
    from airflow.sdk import BaseSensorOperator

    names = {cls.__name__ for cls in type(op).__mro__}
    kind = f"{type(op).__module__}.{type(op).__name__}"
    if "BaseBranchOperator" in names or "BranchMixIn" in names or "SkipMixin" in names and "Branch" in kind:
        return (f"{kind} branches in Python at run time; Argo's `when` needs the decision as an expression over "
                "parameters or outputs: rewrite it as a step that prints the decision and a `when` on it")
    if "PythonOperator" in names or "DecoratedOperator" in names or getattr(op, "python_callable", None):
        return (f"{kind} runs a Python callable inside the Airflow worker; Argo runs containers: package the "
                "callable in an image (a container or script step)")
    if isinstance(op, BaseSensorOperator):
        return (f"{kind} is a sensor that pokes from the Airflow worker; Argo has no equivalent of its check: use an "
                "Argo Events sensor or a step that polls in a container")
    return f"{kind} has no Argo mapping (mapped: {', '.join(sorted(BUILDERS))})"
