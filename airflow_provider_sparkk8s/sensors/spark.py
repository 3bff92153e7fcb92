"""SparkK8sSensor: wait for a Spark application that something else started."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.common.compat.sdk import conf as airflow_conf
from airflow.sdk import BaseSensorOperator

from ..arguments import STRING, check_arguments, check_rendered, renamed

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..hooks.spark import SparkK8sHook, SparkRun

ARGUMENTS = {arg: STRING for arg in ("driver_pod", "application_name", "label_selector", "namespace",
                                     "kubernetes_conn_id", "cluster_context", "config_file")}


class SparkK8sSensor(BaseSensorOperator):
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

    async def _resolve(self, hook: SparkK8sHook, api: Any, namespace: str) -> tuple[SparkRun | None, dict | None]:
        """The application to follow and its object as just read (SparkApplication or driver pod), or
        (None, None) while it does not exist (yet)."""
        from ..hooks.spark import SparkRun
        from ..kube_api import PODS, SPARK_APPLICATIONS

        if self.application_name:
            cr = await hook.get(api, SPARK_APPLICATIONS, namespace, self.application_name)
            if cr is None:
                return None, None
            driver = ((cr.get("status") or {}).get("driverInfo") or {}).get("podName") or \
                f"{self.application_name}-driver"
            return SparkRun("spark-operator", namespace, driver, application=self.application_name, adopted=True), cr
        if self.driver_pod:
            pod = await hook.get(api, PODS, namespace, self.driver_pod)
            if pod is None:
                return None, None
            return SparkRun("spark-submit", namespace, self.driver_pod, adopted=True), pod
        selector = ",".join(filter(None, [self.label_selector, "spark-role=driver"]))
        pods = await hook.list(api, PODS, namespace, selector)
        if not pods:
            return None, None
        newest = max(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "")
        return SparkRun("spark-submit", namespace, newest["metadata"]["name"], adopted=True), newest

    def _what(self) -> str:
        return (f"SparkApplication {self.application_name}" if self.application_name else
                f"driver pod {self.driver_pod}" if self.driver_pod else f"driver pods matching {self.label_selector}")

    def execute(self, context: Context) -> Any:
        check_rendered(self, ARGUMENTS)
        if not self.deferrable:
            return super().execute(context)
        return self.defer_on_application(context)

    def defer_on_application(self, context: Context, event: Any = None) -> Any:
        from ..triggers.spark import SparkK8sTrigger

        hook = self.hook
        namespace = self.namespace or hook.get_namespace()
        run, _ = hook.run(lambda api: self._resolve(hook, api, namespace))
        if run is None:  # nothing to follow yet: look again after poke_interval without holding a worker slot
            from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger

            self.log.info("No %s in %s yet; checking again in %ss", self._what(), namespace, self.poke_interval)
            self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=self.poke_interval)),
                       method_name="defer_on_application")
        self.defer(trigger=SparkK8sTrigger(run.to_dict(), self.kubernetes_conn_id, self.startup_timeout_seconds,
                                           self.cluster_context, self.config_file, self.in_cluster),
                   method_name="execute_complete", timeout=timedelta(seconds=self.timeout))

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        hook = self.hook
        namespace = self.namespace or hook.get_namespace()

        async def check(api: Any) -> Any:
            from ..hooks.spark import LOG_TAIL_LINES

            run, current = await self._resolve(hook, api, namespace)  # one read per poke
            if run is None:
                return None
            outcome = await hook.is_finished(api, run, current)
            if outcome is not None and outcome.status != "success" and outcome.run.driver_pod:
                outcome.log_tail, _ = await hook.read_log(api, namespace, outcome.run.driver_pod,
                                                          tail_lines=LOG_TAIL_LINES)
            return outcome

        outcome = hook.run(check)
        if outcome is None:
            self.log.info("Waiting for %s in %s", self._what(), namespace)
            return False
        if outcome.status != "success":
            raise AirflowFailException(self._failure(outcome))
        return PokeReturnValue(True, self._result(outcome))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        from ..hooks.spark import SparkOutcome

        outcome = SparkOutcome.from_event(event)
        if outcome.status != "success":
            raise AirflowFailException(self._failure(outcome))
        return self._result(outcome)

    @staticmethod
    def _failure(outcome: Any) -> str:
        message = outcome.message
        if outcome.log_tail:
            message += "\nLast driver log lines:\n" + "\n".join(outcome.log_tail)
        return message

    @staticmethod
    def _result(outcome: Any) -> dict[str, Any]:
        run = outcome.run
        return {"namespace": run.namespace, "driver_pod": run.driver_pod, "spark_app_id": run.spark_app_id,
                "application": run.application, "state": outcome.state}
