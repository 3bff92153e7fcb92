"""SparkK8sSensor: wait for a Spark application that something else started."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.common.compat.sdk import conf as airflow_conf

from ..arguments import STRING, check_arguments, renamed
from ._waiting import WaitingSensor

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger

    from ..hooks.spark import SparkK8sHook, SparkOutcome, SparkTarget

__all__ = ["SparkK8sSensor"]

ARGUMENTS = {arg: STRING for arg in ("driver_pod", "application_name", "label_selector", "namespace",
                                     "kubernetes_conn_id", "cluster_context", "config_file")}


class SparkK8sSensor(WaitingSensor):
    """Succeed when a Spark application on Kubernetes succeeds; fail (or skip, with ``soft_fail``) when it fails.

    Name exactly one of ``driver_pod``, ``application_name`` or ``label_selector``. Every templated argument
    also takes a Jinja string or an XComArg (e.g. the ``driver_pod`` XCom of a SparkK8sOperator).

    :param driver_pod: a driver pod name (spark-submit in cluster mode, any launcher).
    :param application_name: a spark-operator SparkApplication name, as in cncf.kubernetes'
        SparkKubernetesSensor.
    :param label_selector: a label selector for driver pods (``spark-role=driver`` is added); the newest
        matching pod is followed.
    :param namespace: where the application runs (default: the connection's namespace).
    :param kubernetes_conn_id: the ``kubernetes`` connection of the cluster.
    :param cluster_context: the kubeconfig context to use (default: the connection's).
    :param config_file: a kubeconfig file to use instead of the connection's.
    :param in_cluster: use the service account of the pod the task runs in (default: the connection's setting).
    :param startup_timeout_seconds: seconds the driver may stay Pending before the sensor fails with the reason.
    :param deferrable: wait in the triggerer (one watch, nothing polls); otherwise each poke is one GET.
    :param spark_application: deprecated name of ``application_name``.
    :param startup_timeout: deprecated name of ``startup_timeout_seconds``.
    """

    template_fields: Sequence[str] = tuple(ARGUMENTS)
    argument_kinds = ARGUMENTS

    def __init__(
        self,
        *,
        driver_pod: str | None = None,
        application_name: str | None = None,
        label_selector: str | None = None,
        namespace: str | None = None,
        kubernetes_conn_id: str = "kubernetes_default",
        cluster_context: str | None = None,
        config_file: str | None = None,
        in_cluster: bool | None = None,
        startup_timeout_seconds: float = 600,
        deferrable: bool = airflow_conf.getboolean("operators", "default_deferrable", fallback=False),
        spark_application: str | None = None,
        startup_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        task = self.task_id
        application_name = renamed(task, "spark_application", "application_name", spark_application,
                                   application_name)
        startup_timeout_seconds = renamed(task, "startup_timeout", "startup_timeout_seconds", startup_timeout,
                                          startup_timeout_seconds, 600)
        given = [n for n, v in (("driver_pod", driver_pod), ("application_name", application_name),
                                ("label_selector", label_selector)) if v]
        if len(given) != 1:
            raise ValueError(f"Task {task}: set exactly one of driver_pod, application_name, label_selector"
                             + (f" (got {', '.join(given)})" if given else ""))
        if not isinstance(startup_timeout_seconds, (int, float)) or startup_timeout_seconds <= 0:
            raise ValueError(f"Task {task}: startup_timeout_seconds: expected a positive number of seconds, not "
                             f"{startup_timeout_seconds!r}")
        self.driver_pod = driver_pod
        self.application_name = application_name
        self.label_selector = label_selector
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.cluster_context = cluster_context
        self.config_file = config_file
        self.in_cluster = in_cluster
        self.startup_timeout_seconds = startup_timeout_seconds
        self.deferrable = deferrable
        check_arguments(self, ARGUMENTS)

    @property
    def hook(self) -> SparkK8sHook:
        from ..hooks.spark import SparkK8sHook

        return SparkK8sHook(self.kubernetes_conn_id, namespace=self.namespace, cluster_context=self.cluster_context,
                            config_file=self.config_file, in_cluster=self.in_cluster)

    def _target(self, hook: SparkK8sHook) -> SparkTarget:
        from ..hooks.spark import SparkTarget

        return SparkTarget(self.namespace or hook.get_namespace(), self.driver_pod, self.application_name,
                           self.label_selector)

    def trigger(self, deadline: float) -> BaseTrigger:
        from ..triggers.spark import SparkK8sTrigger

        return SparkK8sTrigger(None, self.kubernetes_conn_id, self.startup_timeout_seconds, self.cluster_context,
                               self.config_file, self.in_cluster, target=self._target(self.hook).to_dict(),
                               deadline=deadline)

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        hook = self.hook
        state, outcome = hook.check(self._target(hook))
        self.note(state)
        if outcome is None:
            return False
        return PokeReturnValue(True, self._result(outcome))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        from ..hooks.spark import SparkOutcome

        return self._result(SparkOutcome.from_event(event))

    def _result(self, outcome: SparkOutcome) -> dict[str, Any]:
        if outcome.status == "timeout":
            self.timed_out(outcome.message)
        if outcome.status != "success":
            message = outcome.message
            if outcome.log_tail:
                message += "\nLast driver log lines:\n" + "\n".join(outcome.log_tail)
            raise AirflowFailException(message)
        run = outcome.run
        return {"namespace": run.namespace, "driver_pod": run.driver_pod, "spark_app_id": run.spark_app_id,
                "application": run.application, "state": outcome.state}
