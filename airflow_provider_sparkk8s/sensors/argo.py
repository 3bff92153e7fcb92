"""ArgoWorkflowSensor: wait for an Argo Workflow that something else started (an Argo Events sensor, a
CronWorkflow, a person)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.common.compat.sdk import conf as airflow_conf
from airflow.sdk import BaseSensorOperator

from ..arguments import STRING, check_arguments, check_rendered

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..hooks.argo import ArgoWorkflowsHook, WorkflowRef

ARGUMENTS = {arg: STRING for arg in ("workflow_name", "label_selector", "namespace", "argo_conn_id",
                                     "kubernetes_conn_id")}


class ArgoWorkflowSensor(BaseSensorOperator):
    """Succeed when the workflow succeeds; fail (or skip, with ``soft_fail``) when it fails or errors.

    Name exactly one of ``workflow_name`` or ``label_selector``. Every templated argument also takes a Jinja
    string or an XComArg (e.g. the ``workflow_name`` XCom of an ArgoWorkflowOperator).

    :param workflow_name: the workflow's name.
    :param label_selector: a label selector; the newest matching workflow is followed (e.g.
        ``events.argoproj.io/sensor=calendar-sensor``).
    :param namespace: where the workflow runs (default: the connection's namespace).
    :param argo_conn_id: an ``argo_workflows`` connection: read through the Argo Server. Without it the
        Kubernetes API of ``kubernetes_conn_id`` is used.
    :param kubernetes_conn_id: the ``kubernetes`` connection used when ``argo_conn_id`` is not set.
    :param deferrable: wait in the triggerer (one watch, nothing polls); otherwise each poke is one GET.
    """

    template_fields: Sequence[str] = tuple(ARGUMENTS)

    def __init__(self, *, workflow_name: str | None = None, label_selector: str | None = None,
                 namespace: str | None = None, argo_conn_id: str | None = None,
                 kubernetes_conn_id: str = "kubernetes_default",
                 deferrable: bool = airflow_conf.getboolean("operators", "default_deferrable", fallback=False),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if bool(workflow_name) == bool(label_selector):
            raise ValueError(f"Task {self.task_id}: set exactly one of workflow_name, label_selector")
        self.workflow_name = workflow_name
        self.label_selector = label_selector
        self.namespace = namespace
        self.argo_conn_id = argo_conn_id
        self.kubernetes_conn_id = kubernetes_conn_id
        self.deferrable = deferrable
        check_arguments(self, ARGUMENTS)

    @property
    def hook(self) -> ArgoWorkflowsHook:
        from ..hooks.argo import ArgoWorkflowsHook

        return ArgoWorkflowsHook(self.argo_conn_id, self.kubernetes_conn_id, self.namespace)

    async def _find(self, transport: Any, namespace: str) -> tuple[WorkflowRef | None, dict | None]:
        from ..hooks.argo import WorkflowRef

        if self.workflow_name:
            wf = await transport.get(namespace, self.workflow_name)
        else:
            items = await transport.list(namespace, self.label_selector)
            wf = max(items, key=lambda w: w["metadata"].get("creationTimestamp") or "") if items else None
        if wf is None:
            return None, None
        return WorkflowRef(namespace, wf["metadata"]["name"], wf["metadata"].get("uid", ""), adopted=True), wf

    def _what(self) -> str:
        return f"workflow {self.workflow_name}" if self.workflow_name else f"workflows matching {self.label_selector}"

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        from ..hooks.argo import outcome_of

        hook = self.hook
        namespace = self.namespace or hook.get_namespace()
        ref, wf = hook.run(lambda transport: self._find(transport, namespace))
        if ref is None:
            self.log.info("No %s in %s yet", self._what(), namespace)
            return False
        outcome = outcome_of(wf, ref)
        if outcome is None:
            self.log.info("Workflow %s/%s is %s", namespace, ref.name, (wf.get("status") or {}).get("phase") or "new")
            return False
        return PokeReturnValue(True, self._result(outcome))

    def execute(self, context: Context) -> Any:
        check_rendered(self, ARGUMENTS)
        if not self.deferrable:
            return super().execute(context)
        return self.defer_on_workflow(context)

    def defer_on_workflow(self, context: Context, event: Any = None) -> Any:
        from ..triggers.argo import ArgoWorkflowTrigger

        hook = self.hook
        namespace = self.namespace or hook.get_namespace()
        ref, _ = hook.run(lambda transport: self._find(transport, namespace))
        if ref is None:  # nothing to follow yet: look again after poke_interval without holding a worker slot
            from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger

            self.log.info("No %s in %s yet; checking again in %ss", self._what(), namespace, self.poke_interval)
            self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=self.poke_interval)),
                       method_name="defer_on_workflow")
        # kill_action=None: killing the sensor must not stop a workflow it only follows
        self.defer(trigger=ArgoWorkflowTrigger(ref.to_dict(), self.argo_conn_id, self.kubernetes_conn_id,
                                               kill_action=None),
                   method_name="execute_complete", timeout=timedelta(seconds=self.timeout))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        from ..hooks.argo import WorkflowOutcome

        return self._result(WorkflowOutcome.from_event(event))

    @staticmethod
    def _result(outcome: Any) -> dict[str, Any]:
        if outcome.status != "success":
            raise AirflowFailException(outcome.error_message() if outcome.status == "failed" else outcome.message)
        ref = outcome.ref
        return {"name": ref.name, "namespace": ref.namespace, "uid": ref.uid, "phase": outcome.phase,
                "progress": outcome.progress, "started_at": outcome.started_at,
                "finished_at": outcome.finished_at, "outputs": outcome.outputs}
