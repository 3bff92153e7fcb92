"""ArgoWorkflowOperator: submit an Argo Workflow from a (Cluster)WorkflowTemplate or a manifest, and wait."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jinja2
from airflow.sdk import BaseOperator
from airflow.sdk import conf as airflow_conf
from airflow.sdk.exceptions import AirflowException

from ..links import ARGO_UI_URL_KEY, ArgoWorkflowsUILink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..hooks.argo import ArgoWorkflowsHook, WorkflowOutcome, WorkflowRef
    from ..identity import TaskIdentity

KILL_ACTIONS = ("stop", "terminate")
STATE_KEY = "sparkk8s_argo_workflow"


class ArgoWorkflowOperator(BaseOperator):
    """Submit an Argo Workflow and wait until it ends.

    Name exactly one of ``workflow_template``, ``cluster_workflow_template`` or ``workflow`` (a Workflow
    manifest: dict, or a .yaml/.json path rendered with Jinja).

    :param parameters: workflow arguments; values are stringified. Unknown names, missing required values
        and enum violations fail before anything is created.
    :param argo_conn_id: an ``argo_workflows`` connection: submit through the Argo Server. Without it the
        Kubernetes API of ``kubernetes_conn_id`` is used.
    :param wait_timeout: seconds to wait for the workflow to end (workflows can hang in Running); then the
        task fails and the workflow is stopped.
    :param kill_action: what a user kill does to a running workflow: ``stop`` (exit handlers run) or
        ``terminate``. Completed workflows are left alone.
    """

    # `workflow` is rendered in execute(), not by Airflow: Argo's own {{inputs.parameters.x}} placeholders must
    # survive Jinja (see _render_manifest).
    template_fields: Sequence[str] = ("workflow_template", "cluster_workflow_template", "parameters",
                                      "namespace", "entrypoint", "service_account", "labels", "annotations",
                                      "generate_name")
    template_fields_renderers = {"parameters": "json"}
    operator_extra_links = (ArgoWorkflowsUILink(),)
    ui_color = "#d4e6f7"

    def __init__(
        self,
        *,
        workflow_template: str | None = None,
        cluster_workflow_template: str | None = None,
        workflow: dict[str, Any] | str | None = None,
        parameters: dict[str, Any] | None = None,
        namespace: str | None = None,
        entrypoint: str | None = None,
        service_account: str | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        generate_name: str | None = None,
        priority: int | None = None,
        argo_conn_id: str | None = None,
        kubernetes_conn_id: str = "kubernetes_default",
        wait_timeout: float | None = None,
        kill_action: str = "stop",
        get_logs: bool = True,
        ui_base_url: str | None = None,
        deferrable: bool = airflow_conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        given = [n for n, v in (("workflow_template", workflow_template),
                                ("cluster_workflow_template", cluster_workflow_template), ("workflow", workflow)) if v]
        if len(given) != 1:
            raise ValueError("ArgoWorkflowOperator: set exactly one of workflow_template, cluster_workflow_template, "
                             "workflow" + (f" (got {', '.join(given)})" if given else ""))
        if kill_action not in KILL_ACTIONS:
            raise ValueError(f"kill_action: expected stop or terminate, not {kill_action!r}")
        if parameters is not None and not isinstance(parameters, dict):
            raise ValueError(f"parameters: expected a dict of name -> value, got {type(parameters).__name__}")
        if wait_timeout is not None and (not isinstance(wait_timeout, (int, float)) or wait_timeout <= 0):
            raise ValueError(f"wait_timeout: expected a positive number of seconds, not {wait_timeout!r}")
        self.workflow_template = workflow_template
        self.cluster_workflow_template = cluster_workflow_template
        self.workflow = workflow
        self.parameters = dict(parameters or {})
        self.namespace = namespace
        self.entrypoint = entrypoint
        self.service_account = service_account
        self.labels = dict(labels or {})
        self.annotations = dict(annotations or {})
        self.generate_name = generate_name
        self.priority = priority
        self.argo_conn_id = argo_conn_id
        self.kubernetes_conn_id = kubernetes_conn_id
        self.wait_timeout = wait_timeout
        self.kill_action = kill_action
        self.get_logs = get_logs
        self.ui_base_url = ui_base_url
        self.deferrable = deferrable
        self._ref: WorkflowRef | None = None
        self._submitting: tuple[str, TaskIdentity] | None = None  # namespace and task while submitting
        self._hook: ArgoWorkflowsHook | None = None  # the hook of this try: on_kill reuses its loaded connection
        self.published_links: dict[str, str] = {}

    @property
    def hook(self) -> ArgoWorkflowsHook:
        from ..hooks.argo import ArgoWorkflowsHook

        return ArgoWorkflowsHook(self.argo_conn_id, self.kubernetes_conn_id, self.namespace)

    # ------------------------------------------------------------------ building the workflow
    def _inline_workflow(self, context: Context) -> dict[str, Any] | None:
        if self.workflow is None:
            return None
        doc = self.workflow
        if isinstance(doc, str):
            from pathlib import Path

            import yaml

            from ..safe_yaml import safe_load

            path = Path(self.render_template(doc, context))
            try:
                text = path.read_text()
            except OSError as exc:
                raise AirflowException(f"workflow: cannot read {path}: {exc.strerror}") from exc
            try:
                doc = safe_load(self._render_manifest(text, context))
            except yaml.YAMLError as exc:
                raise AirflowException(f"workflow: {path} is not valid YAML: {exc}") from exc
        elif isinstance(doc, dict):
            doc = self._render_manifest(doc, context)
        if not isinstance(doc, dict) or doc.get("kind") != "Workflow":
            raise AirflowException("workflow: expected a Workflow manifest (kind: Workflow)")
        _validate_workflow(doc)
        return copy.deepcopy(doc)

    def _render_manifest(self, value: Any, context: Context) -> Any:
        """Render Jinja in a manifest (strings of a dict, or a file's text) with the Airflow context; names
        Airflow does not know stay Argo placeholders: {{inputs.parameters.x}}, {{steps.my-step.outputs.result}}."""
        if isinstance(value, dict):
            return {k: self._render_manifest(v, context) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render_manifest(v, context) for v in value]
        if not isinstance(value, str) or "{{" not in value and "{%" not in value:
            return value
        env = self.get_template_env().overlay(undefined=_ArgoPlaceholder)
        try:
            return env.from_string(value).render(**context)
        except jinja2.TemplateError as exc:
            raise AirflowException(f"workflow: cannot render {value[:80]!r}: {exc} (wrap Argo expressions "
                                   "that are not valid Jinja in {% raw %}...{% endraw %})") from exc

    def _manifest(self, identity: TaskIdentity, namespace: str, inline: dict[str, Any] | None) -> dict[str, Any]:
        params = {k: _stringify(v) for k, v in self.parameters.items()}
        template = self.workflow_template or self.cluster_workflow_template
        base = self.generate_name or (template or (inline or {}).get("metadata", {}).get("generateName")
                                      or (inline or {}).get("metadata", {}).get("name") or self.task_id)
        body = inline or {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "spec": {
            "workflowTemplateRef": {"name": template, **({"clusterScope": True}
                                                           if self.cluster_workflow_template else {})}}}
        meta = body.setdefault("metadata", {})
        meta.pop("generateName", None)
        meta["name"] = identity.name(base.rstrip("-"))
        meta["namespace"] = namespace
        meta["labels"] = {**(meta.get("labels") or {}), **self.labels, **identity.labels("workflow")}
        meta["annotations"] = {**(meta.get("annotations") or {}), **self.annotations, **identity.annotations()}
        spec = body.setdefault("spec", {})
        if params:
            existing = [p for p in (spec.get("arguments") or {}).get("parameters") or [] if p["name"] not in params]
            spec.setdefault("arguments", {})["parameters"] = existing + [{"name": k, "value": v}
                                                                        for k, v in params.items()]
        if self.entrypoint:
            spec["entrypoint"] = self.entrypoint
        if self.service_account:
            spec["serviceAccountName"] = self.service_account
        if self.priority is not None:
            spec["priority"] = self.priority
        return body

    # ------------------------------------------------------------------ execution
    def execute(self, context: Context) -> Any:
        from .. import task_state
        from ..hooks.argo import ArgoError, WorkflowRef
        from ..identity import TaskIdentity

        identity = TaskIdentity.from_context(context)
        hook = self._hook = self.hook
        namespace = self.namespace or hook.get_namespace()
        inline = self._inline_workflow(context)
        body = self._manifest(identity, namespace, inline)
        template_ref = (inline or {}).get("spec", {}).get("workflowTemplateRef")
        template = None
        if inline is None or template_ref:
            cluster = bool(self.cluster_workflow_template or (template_ref or {}).get("clusterScope"))
            template = ("ClusterWorkflowTemplate" if cluster else "WorkflowTemplate",
                        self.workflow_template or self.cluster_workflow_template or template_ref["name"])
        parameters = {k: _stringify(v) for k, v in self.parameters.items()} if inline is None else None

        self._submitting = (namespace, identity)  # a kill before the create returns still finds the workflow
        try:
            result = hook.adopt_or_submit(namespace, body, identity, template, parameters, self.entrypoint,
                                          task_state.recall(context, STATE_KEY, self.log))
        except ArgoError as exc:
            raise AirflowException(f"Task {self.task_id}: {exc}") from exc
        self._submitting = None
        if not isinstance(result, WorkflowRef):
            if result.ref.try_number == identity.try_number:
                self.log.info("Workflow %s/%s of this try already ended %s; not submitting again", namespace,
                              result.ref.name, result.phase)
            return self._finish(context, result.to_event())
        ref = result
        self.log.info("%s workflow %s/%s (%s)", "Adopting" if ref.adopted else "Submitted", ref.namespace, ref.name,
                      hook.transport_name)
        self._ref = ref
        self._remember(context, ref)
        self._publish(context, hook, ref)
        if self.deferrable:
            from ..triggers.argo import ArgoWorkflowTrigger

            self.defer(trigger=ArgoWorkflowTrigger(ref.to_dict(), self.argo_conn_id, self.kubernetes_conn_id,
                                                   self.wait_timeout, self.kill_action),
                       method_name="execute_complete")
        return self._finish(context, hook.wait(ref, self.wait_timeout).to_event())

    def _remember(self, context: Context, ref: WorkflowRef, reported: bool = False) -> None:
        from .. import task_state

        task_state.record(context, STATE_KEY, ref.to_dict(), self.log, reported)

    def _publish(self, context: Context, hook: ArgoWorkflowsHook, ref: WorkflowRef) -> None:
        context["ti"].xcom_push(key="workflow_name", value=ref.name)
        context["ti"].xcom_push(key="namespace", value=ref.namespace)
        base = self.ui_base_url or hook.ui_base_url()
        if base:
            url = f"{base.rstrip('/')}/workflows/{ref.namespace}/{ref.name}"
            self.published_links = {ARGO_UI_URL_KEY: url}
            context["ti"].xcom_push(key=ARGO_UI_URL_KEY, value=url)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        return self._finish(context, event)

    def _finish(self, context: Context, event: dict[str, Any]) -> Any:
        from ..hooks.argo import WorkflowOutcome

        outcome: WorkflowOutcome = WorkflowOutcome.from_event(event)
        ref = outcome.ref
        self._ref = ref
        hook = self._hook = self._hook or self.hook
        if not self.published_links:
            self._publish(context, hook, ref)
        if self.get_logs and outcome.phase != "Deleted":
            try:
                for pod, line in hook.logs(ref):
                    self.log.info("[%s] %s", pod, line)
            except Exception as exc:  # noqa: BLE001 - logs are a courtesy; the outcome decides the task
                self.log.warning("Could not read the workflow's logs: %s", exc)
        result = {"name": ref.name, "namespace": ref.namespace, "uid": ref.uid, "phase": outcome.phase,
                  "progress": outcome.progress, "started_at": outcome.started_at,
                  "finished_at": outcome.finished_at, "outputs": outcome.outputs, "adopted": ref.adopted}
        if outcome.status == "success":
            self._remember(context, ref, reported=True)  # a clear after this submits the workflow again
            return result
        if outcome.status == "timeout":
            [done] = hook.shutdown(self.kill_action, ref)
            raise AirflowException(f"Workflow {ref.namespace}/{ref.name} {outcome.message}; {done}")
        if outcome.status == "error":
            raise AirflowException(outcome.message)
        raise AirflowException(outcome.error_message())

    def on_kill(self) -> None:
        """Killed while waiting on the worker: stop (or terminate) the workflow; a finished one is left alone."""
        if self._ref is None and self._submitting is None:
            return
        from ._on_kill import run_on_kill

        ref, hook = self._ref, self._hook or self.hook
        namespace, identity = self._submitting or (None, None)
        run_on_kill("stop the workflow", lambda: hook.shutdown(self.kill_action, ref, identity, namespace,
                                                               lookup=False), self.log)


class _ArgoPlaceholder(jinja2.Undefined):
    """An undefined Jinja name rendered back as the Argo placeholder it was (a-b: a hyphenated name)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return type(self)(name=f"{self._undefined_name}.{name}")

    def __getitem__(self, key: Any) -> Any:
        return type(self)(name=f"{self._undefined_name}.{key}")

    def __sub__(self, other: Any) -> Any:
        tail = other
        if isinstance(other, jinja2.Undefined):  # `-1.ip` arrives as the undefined attribute ip of 1
            owner = other._undefined_obj
            tail = other._undefined_name if owner is jinja2.utils.missing or isinstance(owner, jinja2.Undefined) \
                else f"{owner}.{other._undefined_name}"
        return type(self)(name=f"{self._undefined_name}-{tail}")

    def __str__(self) -> str:
        return "{{" + str(self._undefined_name) + "}}"


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value)
    return str(value)


def _validate_workflow(doc: dict[str, Any]) -> None:
    """Validate an inline Workflow with Hera's models (Argo's own schema), naming the offending field."""
    from hera.workflows.models import Workflow
    from pydantic import ValidationError

    try:
        Workflow.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise AirflowException(f"workflow: invalid manifest at {where}: {first['msg']}") from exc
    spec = doc.get("spec") or {}
    if not spec.get("workflowTemplateRef"):
        names = {t.get("name") for t in spec.get("templates") or []}
        if not spec.get("entrypoint"):
            raise AirflowException("workflow: invalid manifest at spec.entrypoint: required without a "
                                   "workflowTemplateRef")
        if spec["entrypoint"] not in names:
            raise AirflowException(f"workflow: invalid manifest at spec.entrypoint: {spec['entrypoint']!r} is not "
                                   f"one of spec.templates ({', '.join(sorted(n for n in names if n))})")
