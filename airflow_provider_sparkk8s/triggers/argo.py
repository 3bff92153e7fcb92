"""ArgoWorkflowTrigger: waits in the triggerer until an Argo Workflow ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class ArgoWorkflowTrigger(BaseTrigger):
    """Fire once the workflow ends (Succeeded, Failed, Error), is deleted, or `timeout` seconds pass.

    The event is a WorkflowOutcome as a dict: status, phase, message, progress, times, output parameters
    and the failed leaf steps. On a user kill the workflow is stopped (or terminated: `kill_action`); with
    ``kill_action=None`` (a sensor following someone else's workflow) it is left alone.
    """

    def __init__(self, ref: dict[str, Any], argo_conn_id: str | None = None,
                 kubernetes_conn_id: str = "kubernetes_default", timeout: float | None = None,
                 kill_action: str | None = "stop") -> None:
        super().__init__()
        self.ref = dict(ref)
        self.argo_conn_id = argo_conn_id
        self.kubernetes_conn_id = kubernetes_conn_id
        self.timeout = timeout
        self.kill_action = kill_action

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"ref": self.ref, "argo_conn_id": self.argo_conn_id, "kubernetes_conn_id": self.kubernetes_conn_id,
                 "timeout": self.timeout, "kill_action": self.kill_action})

    async def _hook(self) -> Any:
        def load() -> Any:  # heavy imports off the triggerer's event loop
            from ..hooks.argo import ArgoWorkflowsHook

            return ArgoWorkflowsHook(self.argo_conn_id, self.kubernetes_conn_id)

        return await asyncio.to_thread(load)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from ..hooks.argo import WorkflowOutcome, WorkflowRef

        hook = await self._hook()
        ref = WorkflowRef.from_dict(self.ref)
        self.log.info("Waiting for workflow %s/%s (%s)", ref.namespace, ref.name, hook.transport_name)
        try:
            async with hook.transport(shared=True) as transport:  # waits share the triggerer's watches
                outcome = await transport.wait(ref, self.timeout, lambda exc, delay: self.log.warning(
                    "Argo/Kubernetes API error (%s); retrying in %.1fs", exc, delay))
        except Exception as exc:  # noqa: BLE001 - reported to the task, which raises it with context
            outcome = WorkflowOutcome("error", "Unknown", f"waiting for workflow {ref.namespace}/{ref.name} "
                                      f"failed: {exc}", ref)
        yield TriggerEvent(outcome.to_event())

    async def on_kill(self) -> None:
        from ..hooks.argo import WorkflowRef, shutdown_workflow

        if self.kill_action is None:
            self.log.info("Task killed; workflow %s/%s left alone", self.ref.get("namespace"), self.ref.get("name"))
            return
        hook = await self._hook()
        ref = WorkflowRef.from_dict(self.ref)
        async with hook.transport() as transport:
            done = await shutdown_workflow(transport, ref, self.kill_action)
        self.log.info("Task killed: %s", done)
