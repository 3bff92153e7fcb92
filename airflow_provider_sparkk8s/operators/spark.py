"""SparkK8sOperator: run a Spark application in cluster mode on Kubernetes and wait for it.

One application description, three launchers:

- ``spark-submit``: spark-submit runs on the worker against the connection's API server.
- ``pod``: a launcher pod from the Spark image runs spark-submit inside the cluster (the worker needs
  neither Java nor Spark).
- ``spark-operator``: a sparkoperator.k8s.io/v1beta2 SparkApplication for the Kubeflow spark-operator.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk import conf as airflow_conf
from airflow.sdk.exceptions import AirflowException

from ..links import SPARK_DRIVER_UI_URL_KEY, SPARK_HISTORY_URL_KEY, SparkDriverUILink, SparkHistoryServerLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..hooks.spark import SparkK8sHook, SparkRun
    from ..identity import TaskIdentity
    from ..spark_app import SparkApp

LAUNCHERS = ("spark-submit", "pod", "spark-operator")
STATE_KEY = "sparkk8s_spark_run"  # the submitted application, in Airflow's task state store
# The spark-operator names the UI Service "<application>-ui-svc", and a Service name is at most 63 characters.
APP_NAME_MAX = 63 - len("-ui-svc")
_APP_FIELDS = (
    "application", "main_class", "application_args", "image", "image_pull_policy", "image_pull_secrets",
    "service_account", "conf", "jars", "py_files", "files", "archives", "packages", "driver_cores",
    "driver_memory", "executor_cores", "executor_memory", "executor_instances", "dynamic_allocation", "env_vars",
    "labels", "annotations", "node_selector", "tolerations", "volumes", "volume_mounts", "spark_version",
)


class SparkK8sOperator(BaseOperator):
    """Run a Spark application in cluster mode on Kubernetes.

    :param application: the application: a jar or .py, as a ``local://``, ``s3a://``, ``https://`` ... URI.
    :param launcher: ``spark-submit`` (default), ``pod`` or ``spark-operator``.
    :param name: the Spark application name (default: the task id).
    :param conf: Spark properties; values are strings.
    :param startup_timeout: seconds the driver may stay Pending (unschedulable, image pull errors) before
        the task fails and the application is deleted.
    :param get_logs: write the driver's log into the task log.
    :param delete_on_success / delete_on_failure: remove the driver pod (and SparkApplication or launcher
        pod) when the application ends; failed ones are kept by default for inspection.
    :param history_server_url / driver_ui_url: URL templates for the extra links (``{spark_app_id}``,
        ``{namespace}``, ``{driver_pod}``, ``{app_name}``); default from the connection's extras
        ``spark_history_server_url`` / ``spark_driver_ui_url``.
    :param spark_application_manifest: for ``spark-operator``: a SparkApplication (dict, or path to a
        .yaml/.json file rendered with Jinja) used instead of one built from the arguments.
    :param driver_pod_template / executor_pod_template: Spark pod templates (a Pod as a dict, or a
        .yaml/.json path rendered with Jinja), for what Spark properties cannot express.
    """

    template_fields: Sequence[str] = (
        "application", "main_class", "application_args", "name", "image", "namespace", "service_account",
        "conf", "jars", "py_files", "files", "archives", "packages", "driver_cores", "driver_memory",
        "executor_cores", "executor_memory", "executor_instances", "env_vars", "labels", "annotations",
        "spark_application_manifest", "driver_pod_template", "executor_pod_template",
    )
    template_fields_renderers = {"conf": "json", "env_vars": "json", "spark_application_manifest": "yaml"}
    operator_extra_links = (SparkHistoryServerLink(), SparkDriverUILink())
    ui_color = "#f9d6a5"

    def __init__(
        self,
        *,
        application: str = "",
        launcher: str = "spark-submit",
        name: str | None = None,
        main_class: str | None = None,
        application_args: list[str] | None = None,
        image: str | None = None,
        image_pull_policy: str | None = None,
        image_pull_secrets: list[str] | None = None,
        namespace: str | None = None,
        service_account: str | None = None,
        conf: dict[str, Any] | None = None,
        jars: list[str] | None = None,
        py_files: list[str] | None = None,
        files: list[str] | None = None,
        archives: list[str] | None = None,
        packages: list[str] | None = None,
        driver_cores: float | None = None,
        driver_memory: str | None = None,
        executor_cores: int | None = None,
        executor_memory: str | None = None,
        executor_instances: int | None = None,
        dynamic_allocation: dict[str, Any] | None = None,
        env_vars: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        node_selector: dict[str, str] | None = None,
        tolerations: list[dict[str, Any]] | None = None,
        volumes: list[dict[str, Any]] | None = None,
        volume_mounts: list[dict[str, Any]] | None = None,
        driver_pod_template: dict[str, Any] | str | None = None,
        executor_pod_template: dict[str, Any] | str | None = None,
        spark_version: str = "4.0.1",
        kubernetes_conn_id: str = "kubernetes_default",
        cluster_context: str | None = None,
        config_file: str | None = None,
        in_cluster: bool | None = None,
        spark_home: str | None = None,
        spark_binary: str | None = None,
        submit_timeout: float = 600,
        launcher_image: str | None = None,
        launcher_service_account: str | None = None,
        spark_application_manifest: dict[str, Any] | str | None = None,
        restart_policy: dict[str, Any] | None = None,
        startup_timeout: float = 600,
        get_logs: bool = True,
        delete_on_success: bool = False,
        delete_on_failure: bool = False,
        history_server_url: str | None = None,
        driver_ui_url: str | None = None,
        deferrable: bool = airflow_conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if launcher not in LAUNCHERS:
            raise ValueError(f"launcher: expected one of {', '.join(LAUNCHERS)}, not {launcher!r}")
        if not application and not (launcher == "spark-operator" and spark_application_manifest):
            raise ValueError("application: required (or spark_application_manifest with launcher='spark-operator')")
        if spark_application_manifest is not None and launcher != "spark-operator":
            raise ValueError("spark_application_manifest: only used with launcher='spark-operator'")
        if launcher == "pod" and not (image or launcher_image):
            raise ValueError("image: the pod launcher runs spark-submit from the Spark image; set image")
        for arg, value in (("startup_timeout", startup_timeout), ("submit_timeout", submit_timeout)):
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{arg}: expected a positive number of seconds, not {value!r}")
        self.application = application
        self.launcher = launcher
        self.name = name or self.task_id
        self.main_class = main_class
        self.application_args = _sequence("application_args", application_args)
        self.image = image
        self.image_pull_policy = image_pull_policy
        self.image_pull_secrets = image_pull_secrets or []
        self.namespace = namespace
        self.service_account = service_account
        self.conf = _mapping("conf", conf)
        self.jars = jars or []
        self.py_files = py_files or []
        self.files = files or []
        self.archives = archives or []
        self.packages = packages or []
        self.driver_cores = driver_cores
        self.driver_memory = driver_memory
        self.executor_cores = executor_cores
        self.executor_memory = executor_memory
        self.executor_instances = executor_instances
        self.dynamic_allocation = dynamic_allocation
        self.env_vars = _mapping("env_vars", env_vars)
        self.labels = _mapping("labels", labels)
        self.annotations = _mapping("annotations", annotations)
        self.node_selector = _mapping("node_selector", node_selector)
        self.tolerations = list(tolerations or [])
        self.volumes = list(volumes or [])
        self.volume_mounts = list(volume_mounts or [])
        self.driver_pod_template = driver_pod_template
        self.executor_pod_template = executor_pod_template
        self.spark_version = spark_version
        self.kubernetes_conn_id = kubernetes_conn_id
        self.cluster_context = cluster_context
        self.config_file = config_file
        self.in_cluster = in_cluster
        self.spark_home = spark_home
        self.spark_binary = spark_binary
        self.submit_timeout = submit_timeout
        self.launcher_image = launcher_image
        self.launcher_service_account = launcher_service_account
        self.spark_application_manifest = spark_application_manifest
        self.restart_policy = restart_policy
        self.startup_timeout = startup_timeout
        self.get_logs = get_logs
        self.delete_on_success = delete_on_success
        self.delete_on_failure = delete_on_failure
        self.history_server_url = history_server_url
        self.driver_ui_url = driver_ui_url
        self.deferrable = deferrable
        self._run: SparkRun | None = None
        self._submitting: SparkK8sHook | None = None
        self._hook: SparkK8sHook | None = None  # the hook of this try: on_kill reuses its loaded connection
        self.published_links: dict[str, str] = {}
        self._published_app_id: str | None = None
        self._check_application()

    def _check_application(self) -> None:
        """Validate the application when the DAG file is parsed, unless a value is only known when the task runs
        (a Jinja template, an XCom): a bad argument then fails at parse time, naming the argument."""
        from ..spark_app import SparkApp

        values = {f: getattr(self, f) for f in _APP_FIELDS}
        plain = (str, int, float, bool, list, tuple, dict, type(None))
        if not self.application or not all(isinstance(v, plain) for v in values.values()) or "{{" in repr(values):
            return
        templates = {arg: value for arg in ("driver_pod_template", "executor_pod_template")
                     if isinstance(value := getattr(self, arg), dict) and "{{" not in repr(value)}
        SparkApp(name=self.name, **templates, **values)

    # ------------------------------------------------------------------ helpers
    @property
    def hook(self) -> SparkK8sHook:
        from ..hooks.spark import SparkK8sHook

        return SparkK8sHook(self.kubernetes_conn_id, namespace=self.namespace, cluster_context=self.cluster_context,
                            config_file=self.config_file, in_cluster=self.in_cluster)

    def _spark_app(self, context: Context) -> SparkApp:
        from ..spark_app import SparkApp

        templates = {arg: self._document(getattr(self, arg), arg, "Pod", context)
                     for arg in ("driver_pod_template", "executor_pod_template")}
        try:
            return SparkApp(name=self.name, **templates, **{f: getattr(self, f) for f in _APP_FIELDS})
        except (TypeError, ValueError) as exc:
            raise AirflowException(f"Task {self.task_id}: invalid Spark application: {exc}") from exc

    def _document(self, value: dict[str, Any] | str | None, arg: str, kind: str, context: Context
                  ) -> dict[str, Any] | None:
        """A manifest argument: a dict, or a .yaml/.json file rendered with Jinja. Errors name the argument."""
        if value is None or isinstance(value, dict):
            return value
        from pathlib import Path

        import yaml

        from ..safe_yaml import safe_load

        path = Path(value)
        try:
            text = path.read_text()
        except OSError as exc:
            raise AirflowException(f"{arg}: cannot read {path}: {exc.strerror}") from exc
        rendered = self.render_template(text, context)
        try:
            doc = safe_load(rendered)
        except yaml.YAMLError as exc:
            raise AirflowException(f"{arg}: {path} is not valid YAML: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("kind") != kind:
            raise AirflowException(f"{arg}: {path} is not a {kind} manifest")
        return doc

    # ------------------------------------------------------------------ execution
    def execute(self, context: Context) -> Any:
        from .. import task_state
        from ..hooks.spark import SparkOutcome, SparkRun
        from ..identity import TaskIdentity

        identity = TaskIdentity.from_context(context)
        hook = self._hook = self.hook
        namespace = self.namespace or hook.get_namespace()
        manifest = self._document(self.spark_application_manifest, "spark_application_manifest",
                                  "SparkApplication", context)
        app = self._spark_app(context) if self.application else None

        adopted = hook.adopt(namespace, identity, self.launcher, task_state.recall(context, STATE_KEY, self.log))
        if isinstance(adopted, SparkOutcome):  # this try already ran to the end
            return self._finish(context, adopted.to_event())
        if adopted is not None:
            run = adopted
            self.log.info("Adopting %s, created by try %s of this task and still running", run.describe(),
                          run.try_number)
        else:
            base = identity.name(app.name if app else self.name, max_len=APP_NAME_MAX)
            run = SparkRun(self.launcher, namespace, driver_pod=f"{base}-driver", try_number=identity.try_number)
            self._run, self._submitting = run, hook  # a kill during submission still finds what to stop
            run = self._submit(hook, run, identity, app, manifest)
            self._submitting = None
            run.started_at = time.time()  # startup_timeout counts from the end of the submission
        self._run = run
        self._remember(context, run)
        self._publish(context, hook, run)
        if self.deferrable:
            from ..triggers.spark import SparkK8sTrigger

            self.defer(trigger=SparkK8sTrigger(run.to_dict(), self.kubernetes_conn_id, self.startup_timeout,
                                               self.cluster_context, self.config_file, self.in_cluster),
                       method_name="execute_complete")
        outcome = hook.wait_following_logs(run, self.startup_timeout, self._log_driver_line if self.get_logs else None)
        return self._finish(context, outcome.to_event(), logs_shown=True)

    def _submit(self, hook: SparkK8sHook, run: SparkRun, identity: TaskIdentity, app: SparkApp | None,
                manifest: dict[str, Any] | None) -> SparkRun:
        """Name the run's objects and build what the launcher needs from the arguments; the hook submits it."""
        from ..hooks.spark import SparkSubmitError

        body = None
        if self.launcher == "pod":
            run.launcher_pod = run.driver_pod.removesuffix("-driver") + "-launcher"
        elif self.launcher == "spark-operator":
            run.application = run.driver_pod.removesuffix("-driver")
            if manifest is not None:
                body = self._own_manifest(manifest, run, identity)
            else:
                assert app is not None
                body = hook.spark_application_manifest(app, run, identity, self.restart_policy)
            run.driver_pod = body["spec"]["driver"]["podName"]
        binary = hook.spark_submit_binary(self.spark_home, self.spark_binary) if self.launcher == "spark-submit" \
            else None
        try:
            return hook.submit(run, identity, app, body, binary=binary, submit_timeout=self.submit_timeout,
                               launcher_service_account=self.launcher_service_account,
                               launcher_image=self.launcher_image, emit=self.log.info)
        except SparkSubmitError as exc:
            raise AirflowException(str(exc)) from exc

    def _own_manifest(self, manifest: dict[str, Any], run: SparkRun, identity: TaskIdentity) -> dict[str, Any]:
        """A user's SparkApplication, labelled as ours; its name gets the try's suffix so retries never clash."""
        import copy

        body = copy.deepcopy(manifest)
        meta = body.setdefault("metadata", {})
        if meta.get("name"):
            run.application = identity.name(meta["name"], max_len=APP_NAME_MAX)
        meta["name"] = run.application
        meta["namespace"] = run.namespace
        meta.setdefault("labels", {}).update(identity.labels("application"))
        meta.setdefault("annotations", {}).update(identity.annotations())
        driver = body.setdefault("spec", {}).setdefault("driver", {})
        driver.setdefault("labels", {}).update(identity.labels("driver"))
        driver["podName"] = f"{run.application}-driver"
        return body

    def _remember(self, context: Context, run: SparkRun, reported: bool = False) -> None:
        from .. import task_state

        task_state.record(context, STATE_KEY, run.to_dict(), self.log, reported)

    def _publish(self, context: Context, hook: SparkK8sHook, run: SparkRun) -> None:
        """Push what downstream tasks, sensors and the extra links need before waiting."""
        from ..links import render_url

        ti = context["ti"]
        values = {"namespace": run.namespace, "driver_pod": run.driver_pod, "spark_app_id": run.spark_app_id,
                  "app_name": self.name}
        for key in ("namespace", "driver_pod", "spark_app_id"):
            if values[key]:
                ti.xcom_push(key=key, value=values[key])
        history_template = self.history_server_url or hook.connection_extra("spark_history_server_url")
        driver_ui_template = self.driver_ui_url or hook.connection_extra("spark_driver_ui_url")
        history = render_url(history_template, True, **values)
        driver_ui = render_url(driver_ui_template, **values)
        self._published_app_id = run.spark_app_id
        self.published_links = {k: v for k, v in ((SPARK_HISTORY_URL_KEY, history),
                                                   (SPARK_DRIVER_UI_URL_KEY, driver_ui)) if v}
        for key, url in self.published_links.items():
            ti.xcom_push(key=key, value=url)

    def _log_driver_line(self, line: str) -> None:
        self.log.info("[driver] %s", line)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        return self._finish(context, event)

    def _finish(self, context: Context, event: dict[str, Any], logs_shown: bool = False) -> Any:
        from ..hooks.spark import SparkOutcome

        outcome = SparkOutcome.from_event(event)
        run = outcome.run
        self._run = run
        hook = self._hook = self._hook or self.hook
        # Resumed after deferral in a fresh operator instance, or the Spark application id became known only
        # now (spark-operator): push the keys and links downstream tasks and sensors need.
        if not self.published_links or run.spark_app_id != self._published_app_id:
            self._publish(context, hook, run)
        if self.get_logs and not logs_shown and run.driver_pod:
            for line in hook.driver_log(run):
                self._log_driver_line(line)
        result = {"namespace": run.namespace, "driver_pod": run.driver_pod, "spark_app_id": run.spark_app_id,
                  "launcher": run.launcher, "state": outcome.state, "application": run.application,
                  "launcher_pod": run.launcher_pod, "adopted": run.adopted}
        if outcome.status == "success":
            self._remember(context, run, reported=True)  # a clear after this runs the application again
            if self.delete_on_success:
                self._delete(hook, run)
            return result
        if outcome.state == "StartupTimeout" or self.delete_on_failure:
            self._delete(hook, run)
        message = outcome.message
        if outcome.log_tail:
            source = "launcher pod" if outcome.state == "LauncherFailed" else "driver"
            message += f"\nLast {source} log lines:\n" + "\n".join(outcome.log_tail)
        raise AirflowException(message)

    def _delete(self, hook: SparkK8sHook, run: SparkRun) -> None:
        deleted = hook.delete_application(run)
        if deleted:
            self.log.info("Deleted %s", ", ".join(deleted))

    def on_kill(self) -> None:
        """The task was killed while running on the worker (user action, timeout or worker shutdown): delete
        the application so nothing keeps running unowned. Deferred tasks are handled by the trigger."""
        process = getattr(self._submitting, "active_process", None)
        if process is not None:
            process.kill()  # spark-submit runs in its own session: stop it before it creates the driver
        if self._run is None:
            return
        from ._on_kill import run_on_kill

        run, hook = self._run, self._hook or self.hook

        def delete() -> list[str]:
            deleted = hook.delete_application(run, lookup=False)
            return [f"Deleted {', '.join(deleted)}"] if deleted else []

        run_on_kill(f"delete {run.describe()}", delete, self.log)


def _sequence(arg: str, value: Any) -> list[Any]:
    if isinstance(value, str):  # list("a b") would silently split it into characters
        raise TypeError(f"{arg}: expected a list of strings, got str {value[:80]!r}")
    return list(value or [])


def _mapping(arg: str, value: Any) -> dict[str, Any]:
    if value is not None and not isinstance(value, dict):
        raise TypeError(f"{arg}: expected a dict, got {type(value).__name__}")
    return dict(value or {})
