"""SparkK8sTrigger: waits in the triggerer until a Spark application ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

__all__ = ["SparkK8sTrigger"]


class SparkK8sTrigger(BaseTrigger):
    """Fire once the application described by `run` (a SparkRun as a dict) ends.

    The event is a SparkOutcome as a dict: status (success/failed), state, message, exit code, reason, the
    driver's last log lines on failure, and the run (namespace, driver pod, Spark application id).
    On a user kill (mark failed, clear) the application is deleted.

    A sensor gives a `target` (a SparkTarget as a dict) instead of `run`: the trigger waits for it to exist, then
    for it to end, and fires with status "timeout" at `deadline` (wall clock, seconds since the epoch) if it has
    not ended by then. A kill leaves the target alone: the sensor only follows it.
    """

    def __init__(self, run: dict[str, Any] | None = None, kubernetes_conn_id: str = "kubernetes_default",
                 startup_timeout: float = 600.0, cluster_context: str | None = None,
                 config_file: str | None = None, in_cluster: bool | None = None,
                 target: dict[str, Any] | None = None, deadline: float | None = None) -> None:
        super().__init__()
        if (run is None) == (target is None):
            raise ValueError("SparkK8sTrigger: give exactly one of run, target")
        self.run_data = dict(run) if run is not None else None
        self.kubernetes_conn_id = kubernetes_conn_id
        self.startup_timeout = startup_timeout
        self.cluster_context = cluster_context
        self.config_file = config_file
        self.in_cluster = in_cluster
        self.target = dict(target) if target is not None else None
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run": self.run_data,
                "kubernetes_conn_id": self.kubernetes_conn_id,
                "startup_timeout": self.startup_timeout,
                "cluster_context": self.cluster_context,
                "config_file": self.config_file,
                "in_cluster": self.in_cluster,
                "target": self.target,
                "deadline": self.deadline,
            },
        )

    def _hook(self) -> Any:
        from ..hooks.spark import SparkK8sHook

        return SparkK8sHook(self.kubernetes_conn_id, cluster_context=self.cluster_context,
                            config_file=self.config_file, in_cluster=self.in_cluster)

    async def _load_hook(self) -> Any:
        # The first trigger in a triggerer process imports kubernetes and kubernetes_asyncio: seconds of CPU
        # that would block the event loop every trigger of the triggerer shares. Import them in a thread.
        import asyncio
        import importlib

        for module in (f"{__package__.rpartition('.')[0]}.hooks.spark",
                       "airflow.providers.cncf.kubernetes.hooks.kubernetes"):
            await asyncio.to_thread(importlib.import_module, module)
        return self._hook()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await self._load_hook()
        from ..hooks.spark import SparkOutcome, SparkRun, SparkTarget

        target = SparkTarget.from_dict(self.target) if self.target is not None else None
        spark_run = SparkRun.from_dict(self.run_data) if self.run_data is not None else None
        what = target.wanted() if target is not None else spark_run.describe()  # type: ignore[union-attr]
        self.log.info("Waiting for %s", what)

        def on_error(exc: Exception, delay: float) -> None:
            self.log.warning("Kubernetes API error (%s); retrying in %.1fs", exc, delay)

        try:
            async with hook.shared_api() as api:  # waits share the triggerer's watches
                if target is not None:
                    outcome = await hook.wait_for_target(api, target, self.startup_timeout, self.deadline, on_error)
                else:
                    outcome = await hook.wait(api, spark_run, self.startup_timeout, on_error=on_error)
        except Exception as exc:  # noqa: BLE001 - reported to the task, which raises it with context
            outcome = SparkOutcome("error", "Error", f"waiting for {what} failed: {exc}",
                                   spark_run or SparkRun("spark-submit", target.namespace, ""))  # type: ignore[union-attr]
        yield TriggerEvent(outcome.to_event())

    async def on_kill(self) -> None:
        if self.run_data is None:
            self.log.info("Task killed; %s left alone", self.target)
            return
        hook = await self._load_hook()
        from ..hooks.spark import SparkRun

        spark_run = SparkRun.from_dict(self.run_data)
        async with hook.api() as api:
            deleted = await hook.delete_run(api, spark_run)
        self.log.info("Task killed: deleted %s", ", ".join(deleted) or "nothing (already gone)")
