"""ArgoWorkflowSensor: wait for an Argo Workflow that something else started (an Argo Events sensor, a
CronWorkflow, a person)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.common.compat.sdk import conf as airflow_conf

from ..arguments import STRING, check_arguments
from ._waiting import WaitingSensor

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger

    from ..hooks.argo import ArgoWorkflowsHook, WorkflowOutcome, WorkflowTarget

__all__ = ["ArgoWorkflowSensor"]

ARGUMENTS = {arg: STRING for arg in ("workflow_name", "label_selector", "namespace", "argo_conn_id",
                                     "kubernetes_conn_id")}


class ArgoWorkflowSensor(WaitingSensor):
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
    argument_kinds = ARGUMENTS

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

    def _target(self, hook: ArgoWorkflowsHook) -> WorkflowTarget:
        from ..hooks.argo import WorkflowTarget

        return WorkflowTarget(self.namespace or hook.get_namespace(), self.workflow_name, self.label_selector)

    def trigger(self, deadline: float) -> BaseTrigger:
        from ..triggers.argo import ArgoWorkflowTrigger

        # kill_action=None: killing the sensor must not stop a workflow it only follows
        return ArgoWorkflowTrigger(None, self.argo_conn_id, self.kubernetes_conn_id, kill_action=None,
                                   target=self._target(self.hook).to_dict(), deadline=deadline)

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        hook = self.hook
        state, outcome = hook.check(self._target(hook))
        self.note(state)
        if outcome is None:
            return False
        return PokeReturnValue(True, self._result(outcome))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        from ..hooks.argo import WorkflowOutcome

        return self._result(WorkflowOutcome.from_event(event))

    def _result(self, outcome: WorkflowOutcome) -> dict[str, Any]:
        if outcome.status == "timeout":
            self.timed_out(outcome.message)
        if outcome.status != "success":
            raise AirflowFailException(outcome.error_message() if outcome.status == "failed" else outcome.message)
        ref = outcome.ref
        return {"name": ref.name, "namespace": ref.namespace, "uid": ref.uid, "phase": outcome.phase,
                "progress": outcome.progress, "started_at": outcome.started_at,
                "finished_at": outcome.finished_at, "outputs": outcome.outputs}
