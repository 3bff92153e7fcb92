"""ArgoWorkflowOperator: submit an Argo Workflow from a (Cluster)WorkflowTemplate or a manifest, and wait."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

import jinja2
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from airflow.providers.common.compat.sdk import conf as airflow_conf
from airflow.sdk import BaseOperator

from ..arguments import (
    INTEGER,
    MANIFEST,
    MANIFEST_SUFFIXES,
    MAPPING,
    STRING,
    Kind,
    check_arguments,
    check_rendered,
    read_template_file,
    renamed,
)
from ..links import ARGO_UI_URL_KEY, ArgoWorkflowsUILink, links_with_a_url

if TYPE_CHECKING:
    from airflow.sdk import BaseOperatorLink, Context

    from ..hooks.argo import ArgoWorkflowsHook, WorkflowOutcome, WorkflowRef
    from ..identity import TaskIdentity

__all__ = ["ArgoWorkflowOperator"]

KillAction = Literal["stop", "terminate"]
KILL_ACTIONS: tuple[str, ...] = get_args(KillAction)
# The link, the operator arguments that give its URL (an Argo Server always has one), and the Kubernetes
# connection's extra that gives it otherwise.
_LINKS = ((ArgoWorkflowsUILink(), ("ui_base_url", "argo_conn_id"), "argo_ui_base_url"),)
STATE_KEY = "sparkk8s_argo_workflow"
ARGUMENTS: dict[str, Kind] = {
    "workflow_template": STRING, "cluster_workflow_template": STRING, "workflow": MANIFEST, "parameters": MAPPING,
    "namespace": STRING, "entrypoint": STRING, "service_account_name": STRING, "labels": MAPPING,
    "annotations": MAPPING, "generate_name": STRING, "priority": INTEGER, "argo_conn_id": STRING,
    "kubernetes_conn_id": STRING, "ui_base_url": STRING,
}


class ArgoWorkflowOperator(BaseOperator):
    """Submit an Argo Workflow and wait until it ends.

    Name exactly one of ``workflow_template``, ``cluster_workflow_template`` or ``workflow``. Every templated
    argument (see ``template_fields``) also takes a Jinja string or an XComArg; its type is then checked after
    rendering, before anything is created.

    :param workflow_template: the name of a WorkflowTemplate (in ``namespace``) to run.
    :param cluster_workflow_template: the name of a ClusterWorkflowTemplate to run.
    :param workflow: a Workflow manifest: a dict, or the path of a .yaml/.yml/.json file found as Airflow finds
        template files (relative to the DAG folder or a directory of the DAG's ``template_searchpath``, or
        absolute). It is rendered with Jinja; names Airflow does not know stay Argo placeholders
        (``{{inputs.parameters.x}}``).
    :param parameters: workflow arguments; values are stringified (lists and dicts as JSON). Unknown names,
        missing required values and enum violations fail before anything is created.
    :param namespace: where the workflow runs (default: the connection's namespace).
    :param entrypoint: the template to start from instead of the workflow's entrypoint.
    :param service_account_name: the workflow's ``spec.serviceAccountName``. Not templated: Airflow masks every
        rendered field whose name contains ``service_account``.
    :param labels: labels added to the workflow.
    :param annotations: annotations added to the workflow.
    :param generate_name: the prefix of the workflow's name (default: the template's name, else the task id).
    :param priority: the workflow's ``spec.priority``.
    :param argo_conn_id: an ``argo_workflows`` connection: submit through the Argo Server. Without it the
        Kubernetes API of ``kubernetes_conn_id`` is used.
    :param kubernetes_conn_id: the ``kubernetes`` connection used when ``argo_conn_id`` is not set.
    :param wait_timeout: seconds to wait for the workflow to end (workflows can hang in Running); then the
        task fails and the workflow is stopped. Default: no limit.
    :param kill_action: what a user kill does to a running workflow: ``stop`` (exit handlers run) or
        ``terminate``. Completed workflows are left alone.
    :param get_logs: write the logs of the workflow's pods into the task log when it ends.
    :param ui_base_url: the Argo UI base URL of the extra link (default: the connection's).
    :param deferrable: wait in the triggerer instead of holding a worker slot (default: Airflow's
        ``[operators] default_deferrable``).
    :param service_account: deprecated name of ``service_account_name``.
    """

    template_fields: Sequence[str] = ("workflow_template", "cluster_workflow_template", "workflow", "parameters",
                                      "namespace", "entrypoint", "labels", "annotations", "generate_name",
                                      "priority", "argo_conn_id", "kubernetes_conn_id")
    template_fields_renderers = {"parameters": "json", "workflow": "yaml"}

    @property
    def operator_extra_links(self) -> tuple[BaseOperatorLink, ...]:  # type: ignore[override]
        """The link when it can have a URL (links.links_with_a_url): the Argo Server's, or the Kubernetes
        connection's ``argo_ui_base_url``. `self` is a mapped operator when Airflow serializes a
        `.partial().expand()` task."""
        return links_with_a_url(self, _LINKS, lookup=getattr(self, "_hook", None) is None)

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
        service_account_name: str | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        generate_name: str | None = None,
        priority: int | None = None,
        argo_conn_id: str | None = None,
        kubernetes_conn_id: str = "kubernetes_default",
        wait_timeout: float | None = None,
        kill_action: KillAction = "stop",
        get_logs: bool = True,
        ui_base_url: str | None = None,
        deferrable: bool = airflow_conf.getboolean("operators", "default_deferrable", fallback=False),
        service_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        task = self.task_id
        service_account_name = renamed(task, "service_account", "service_account_name", service_account,
                                       service_account_name)
        given = [n for n, v in (("workflow_template", workflow_template),
                                ("cluster_workflow_template", cluster_workflow_template), ("workflow", workflow)) if v]
        if len(given) != 1:
            raise ValueError(f"Task {task}: set exactly one of workflow_template, cluster_workflow_template, "
                             "workflow" + (f" (got {', '.join(given)})" if given else ""))
        if kill_action not in KILL_ACTIONS:
            raise ValueError(f"Task {task}: kill_action: expected stop or terminate, not {kill_action!r}")
        if wait_timeout is not None and (not isinstance(wait_timeout, (int, float)) or wait_timeout <= 0):
            raise ValueError(f"Task {task}: wait_timeout: expected a positive number of seconds, not {wait_timeout!r}")
        self.workflow_template = workflow_template
        self.cluster_workflow_template = cluster_workflow_template
        self.workflow = workflow
        self.parameters = parameters if parameters is not None else {}
        self.namespace = namespace
        self.entrypoint = entrypoint
        self.service_account_name = service_account_name
        self.labels = labels if labels is not None else {}
        self.annotations = annotations if annotations is not None else {}
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
        check_arguments(self, ARGUMENTS)

    def _do_render_template_fields(self, parent: Any, template_fields: Iterable[str], context: Context,
                                   jinja_env: jinja2.Environment, seen_oids: set[int]) -> None:
        # `workflow` renders with names Airflow does not know kept as Argo placeholders; its file is found as
        # Airflow finds the files of template_ext. Hooked here because a mapped task renders through this only.
        if parent is self and "workflow" in template_fields:
            template_fields = [f for f in template_fields if f != "workflow"]
            self.workflow = self._render_workflow(self.workflow, context, jinja_env)
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)

    @property
    def hook(self) -> ArgoWorkflowsHook:
        from ..hooks.argo import ArgoWorkflowsHook

        return ArgoWorkflowsHook(self.argo_conn_id, self.kubernetes_conn_id, self.namespace)

    # ------------------------------------------------------------------ building the workflow
    def _render_workflow(self, value: Any, context: Context, jinja_env: jinja2.Environment) -> Any:
        """The workflow with Airflow's Jinja rendered: a dict, or the text of its file; an XComArg's value as is."""
        if isinstance(value, str) and value.endswith(MANIFEST_SUFFIXES):
            value = read_template_file(self, "workflow", value, jinja_env)
        elif not isinstance(value, (str, dict, list)) and callable(getattr(value, "resolve", None)):
            return value.resolve(context)
        return self._render_manifest(value, context, jinja_env)

    def _inline_workflow(self, context: Context) -> dict[str, Any] | None:
        """The rendered `workflow` as a validated Workflow manifest (None without one)."""
        if not self.workflow:
            return None
        doc = self.workflow
        if isinstance(doc, str):
            import yaml

            from ..safe_yaml import safe_load

            try:
                doc = safe_load(doc)
            except yaml.YAMLError as exc:
                raise AirflowFailException(f"Task {self.task_id}: workflow: not valid YAML: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("kind") != "Workflow":
            raise AirflowFailException(f"Task {self.task_id}: workflow: expected a Workflow manifest (kind: Workflow)"
                                       f", as a dict or the path of a {'/'.join(MANIFEST_SUFFIXES)} file")
        _validate_workflow(self.task_id, doc)
        return copy.deepcopy(doc)

    def _render_manifest(self, value: Any, context: Context, jinja_env: jinja2.Environment) -> Any:
        """Render Jinja in a manifest (strings of a dict, or a file's text) with the Airflow context; names
        Airflow does not know stay Argo placeholders: {{inputs.parameters.x}}, {{steps.my-step.outputs.result}}."""
        if isinstance(value, dict):
            return {k: self._render_manifest(v, context, jinja_env) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render_manifest(v, context, jinja_env) for v in value]
        if not isinstance(value, str) or "{{" not in value and "{%" not in value:
            return value
        env = jinja_env.overlay(undefined=_ArgoPlaceholder)
        try:
            return env.from_string(value).render(**context)
        except jinja2.TemplateError as exc:
            raise AirflowFailException(f"Task {self.task_id}: workflow: cannot render {value[:80]!r}: {exc} (wrap "
                                       "Argo expressions that are not valid Jinja in {% raw %}...{% endraw %})"
                                       ) from exc

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
        if self.service_account_name:
            spec["serviceAccountName"] = self.service_account_name
        if self.priority is not None:
            spec["priority"] = self.priority
        return body

    # ------------------------------------------------------------------ execution
    def execute(self, context: Context) -> Any:
        from .. import task_state
        from ..hooks.argo import ArgoError, WorkflowRef
        from ..identity import TaskIdentity

        check_rendered(self, ARGUMENTS)  # before anything is created
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


def _validate_workflow(task_id: str, doc: dict[str, Any]) -> None:
    """Validate an inline Workflow with Hera's models (Argo's own schema), naming the offending field."""
    from hera.workflows.models import Workflow
    from pydantic import ValidationError

    try:
        Workflow.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise AirflowFailException(f"Task {task_id}: workflow: invalid manifest at {where}: {first['msg']}") from exc
    spec = doc.get("spec") or {}
    if not spec.get("workflowTemplateRef"):
        names = {t.get("name") for t in spec.get("templates") or []}
        if not spec.get("entrypoint"):
            raise AirflowFailException(f"Task {task_id}: workflow: invalid manifest at spec.entrypoint: required "
                                       "without a workflowTemplateRef")
        if spec["entrypoint"] not in names:
            raise AirflowFailException(f"Task {task_id}: workflow: invalid manifest at spec.entrypoint: "
                                       f"{spec['entrypoint']!r} is not one of spec.templates "
                                       f"({', '.join(sorted(n for n in names if n))})")
