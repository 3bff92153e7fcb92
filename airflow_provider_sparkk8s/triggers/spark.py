"""SparkK8sTrigger: waits in the triggerer until a Spark application ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class SparkK8sTrigger(BaseTrigger):
    """Fire once the application described by `run` (a SparkRun as a dict) ends.

    The event is a SparkOutcome as a dict: status (success/failed), state, message, exit code, reason, the
    driver's last log lines on failure, and the run (namespace, driver pod, Spark application id).
    On a user kill (mark failed, clear) the application is deleted.
    """

    def __init__(self, run: dict[str, Any], kubernetes_conn_id: str = "kubernetes_default",
                 startup_timeout: float = 600.0, cluster_context: str | None = None,
                 config_file: str | None = None, in_cluster: bool | None = None) -> None:
        super().__init__()
        self.run_data = dict(run)
        self.kubernetes_conn_id = kubernetes_conn_id
        self.startup_timeout = startup_timeout
        self.cluster_context = cluster_context
        self.config_file = config_file
        self.in_cluster = in_cluster

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
        from ..hooks.spark import SparkOutcome, SparkRun

        spark_run = SparkRun.from_dict(self.run_data)
        self.log.info("Waiting for %s", spark_run.describe())
        try:
            async with hook.shared_api() as api:  # waits share the triggerer's watches
                outcome = await hook.wait(api, spark_run, self.startup_timeout,
                                          on_error=lambda exc, delay: self.log.warning(
                                              "Kubernetes API error (%s); retrying in %.1fs", exc, delay))
        except Exception as exc:  # noqa: BLE001 - reported to the task, which raises it with context
            outcome = SparkOutcome("error", "Error", f"waiting for {spark_run.describe()} failed: {exc}", spark_run)
        yield TriggerEvent(outcome.to_event())

    async def on_kill(self) -> None:
        hook = await self._load_hook()
        from ..hooks.spark import SparkRun

        spark_run = SparkRun.from_dict(self.run_data)
        async with hook.api() as api:
            deleted = await hook.delete_run(api, spark_run)
        self.log.info("Task killed: deleted %s", ", ".join(deleted) or "nothing (already gone)")
