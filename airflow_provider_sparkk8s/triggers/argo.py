"""ArgoWorkflowTrigger: waits in the triggerer until an Argo Workflow ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

__all__ = ["ArgoWorkflowTrigger"]


class ArgoWorkflowTrigger(BaseTrigger):
    """Fire once the workflow ends (Succeeded, Failed, Error), is deleted, or `timeout` seconds pass.

    The event is a WorkflowOutcome as a dict: status, phase, message, progress, times, output parameters
    and the failed leaf steps. On a user kill the workflow is stopped (or terminated: `kill_action`); with
    ``kill_action=None`` (a sensor following someone else's workflow) it is left alone.

    A sensor gives a `target` (a WorkflowTarget as a dict) instead of `ref`: the trigger waits for the workflow to
    exist, then for it to end, and fires with status "timeout" at `deadline` (wall clock, seconds since the epoch)
    if it has not ended by then.
    """

    def __init__(self, ref: dict[str, Any] | None = None, argo_conn_id: str | None = None,
                 kubernetes_conn_id: str = "kubernetes_default", timeout: float | None = None,
                 kill_action: str | None = "stop", target: dict[str, Any] | None = None,
                 deadline: float | None = None) -> None:
        super().__init__()
        if (ref is None) == (target is None):
            raise ValueError("ArgoWorkflowTrigger: give exactly one of ref, target")
        self.ref = dict(ref) if ref is not None else None
        self.argo_conn_id = argo_conn_id
        self.kubernetes_conn_id = kubernetes_conn_id
        self.timeout = timeout
        self.kill_action = kill_action
        self.target = dict(target) if target is not None else None
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"ref": self.ref, "argo_conn_id": self.argo_conn_id, "kubernetes_conn_id": self.kubernetes_conn_id,
                 "timeout": self.timeout, "kill_action": self.kill_action, "target": self.target,
                 "deadline": self.deadline})

    async def _hook(self) -> Any:
        def load() -> Any:  # heavy imports off the triggerer's event loop
            from ..hooks.argo import ArgoWorkflowsHook

            return ArgoWorkflowsHook(self.argo_conn_id, self.kubernetes_conn_id)

        return await asyncio.to_thread(load)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from ..hooks.argo import WorkflowOutcome, WorkflowRef, WorkflowTarget, wait_for_target

        hook = await self._hook()
        target = WorkflowTarget.from_dict(self.target) if self.target is not None else None
        ref = WorkflowRef.from_dict(self.ref) if self.ref is not None else None
        what = target.wanted() if target is not None else f"workflow {ref.namespace}/{ref.name}"  # type: ignore[union-attr]
        self.log.info("Waiting for %s (%s)", what, hook.transport_name)

        def on_error(exc: Exception, delay: float) -> None:
            self.log.warning("Argo/Kubernetes API error (%s); retrying in %.1fs", exc, delay)

        try:
            async with hook.transport(shared=True) as transport:  # waits share the triggerer's watches
                if target is not None:
                    outcome = await wait_for_target(transport, target, self.deadline, on_error)
                else:
                    outcome = await transport.wait(ref, self.timeout, on_error)
        except Exception as exc:  # noqa: BLE001 - reported to the task, which raises it with context
            outcome = WorkflowOutcome("error", "Unknown", f"waiting for {what} failed: {exc}",
                                      ref or WorkflowRef(target.namespace, target.name or ""))  # type: ignore[union-attr]
        yield TriggerEvent(outcome.to_event())

    async def on_kill(self) -> None:
        from ..hooks.argo import WorkflowRef, shutdown_workflow

        if self.kill_action is None or self.ref is None:
            self.log.info("Task killed; %s left alone", self.ref or self.target)
            return
        hook = await self._hook()
        ref = WorkflowRef.from_dict(self.ref)
        async with hook.transport() as transport:
            done = await shutdown_workflow(transport, ref, self.kill_action)
        self.log.info("Task killed: %s", done)
