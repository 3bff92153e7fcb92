"""SparkK8sOperator: run a Spark application in cluster mode on Kubernetes and wait for it.

One application description, three launchers:

- ``spark-submit``: spark-submit runs on the worker against the connection's API server.
- ``pod``: a launcher pod from the Spark image runs spark-submit inside the cluster (the worker needs
  neither Java nor Spark).
- ``spark-operator``: a sparkoperator.k8s.io/v1beta2 SparkApplication for the Kubeflow spark-operator.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from airflow.providers.common.compat.sdk import conf as airflow_conf
from airflow.sdk import BaseOperator

from ..arguments import (
    INTEGER,
    MANIFEST,
    MANIFEST_SUFFIXES,
    MAPPING,
    MAPPINGS,
    NUMBER,
    STRING,
    STRINGS,
    STRINGS_OR_CSV,
    Kind,
    check_arguments,
    check_rendered,
    describe,
    is_templated,
    read_template_file,
    renamed,
)
from ..links import (
    SPARK_DRIVER_UI_URL_KEY,
    SPARK_HISTORY_URL_KEY,
    SparkDriverUILink,
    SparkHistoryServerLink,
    links_with_a_url,
)

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import BaseOperatorLink, Context

    from ..hooks.spark import SparkK8sHook, SparkRun
    from ..identity import TaskIdentity
    from ..spark_app import SparkApp

__all__ = ["SparkK8sOperator"]

Launcher = Literal["spark-submit", "pod", "spark-operator"]
LAUNCHERS: tuple[str, ...] = get_args(Launcher)
# What to do with the driver pod (and SparkApplication or launcher pod) when the application ends: the values of
# cncf.kubernetes' OnFinishAction.
OnFinishAction = Literal["delete_pod", "delete_succeeded_pod", "keep_pod"]
ON_FINISH_ACTIONS: tuple[str, ...] = get_args(OnFinishAction)
STATE_KEY = "sparkk8s_spark_run"  # the submitted application, in Airflow's task state store
# The spark-operator names the UI Service "<application>-ui-svc", and a Service name is at most 63 characters.
APP_NAME_MAX = 63 - len("-ui-svc")
# Each link, the operator arguments that give its URL, and the connection extra that gives it otherwise.
_LINKS = ((SparkHistoryServerLink(), ("history_server_url",), "spark_history_server_url"),
          (SparkDriverUILink(), ("driver_ui_url",), "spark_driver_ui_url"))
_APP_FIELDS = (
    "application", "main_class", "application_args", "image", "image_pull_policy", "image_pull_secrets",
    "service_account_name", "conf", "jars", "py_files", "files", "archives", "packages", "driver_cores",
    "driver_memory", "executor_cores", "executor_memory", "executor_instances", "dynamic_allocation", "env_vars",
    "labels", "annotations", "node_selector", "tolerations", "volumes", "volume_mounts", "spark_version",
)
_POD_TEMPLATES = ("driver_pod_template", "executor_pod_template")
_MANIFESTS = ("spark_application_manifest", *_POD_TEMPLATES)
ARGUMENTS: dict[str, Kind] = {
    "application": STRING, "name": STRING, "main_class": STRING, "application_args": STRINGS, "image": STRING,
    "image_pull_policy": STRING, "image_pull_secrets": STRINGS_OR_CSV, "namespace": STRING,
    "service_account_name": STRING, "conf": MAPPING, "jars": STRINGS_OR_CSV, "py_files": STRINGS_OR_CSV,
    "files": STRINGS_OR_CSV, "archives": STRINGS_OR_CSV, "packages": STRINGS_OR_CSV, "driver_cores": NUMBER,
    "driver_memory": STRING, "executor_cores": INTEGER, "executor_memory": STRING, "executor_instances": INTEGER,
    "dynamic_allocation": MAPPING, "env_vars": MAPPING, "labels": MAPPING, "annotations": MAPPING,
    "node_selector": MAPPING, "tolerations": MAPPINGS, "volumes": MAPPINGS, "volume_mounts": MAPPINGS,
    "driver_pod_template": MANIFEST, "executor_pod_template": MANIFEST, "spark_version": STRING,
    "kubernetes_conn_id": STRING, "cluster_context": STRING, "config_file": STRING, "spark_home": STRING,
    "spark_binary": STRING, "launcher_image": STRING, "launcher_service_account_name": STRING,
    "spark_application_manifest": MANIFEST, "restart_policy": MAPPING, "history_server_url": STRING,
    "driver_ui_url": STRING,
}


class SparkK8sOperator(BaseOperator):
    """Run a Spark application in cluster mode on Kubernetes and wait until it ends.

    Every templated argument (see ``template_fields``) also takes a Jinja string or an XComArg; its type is then
    checked after rendering, before anything is created. A Jinja string renders to a string unless the DAG sets
    ``render_template_as_native_obj=True``: use that (or an XComArg) for lists and dicts.

    :param application: the application: a jar or .py, as a ``local://``, ``s3a://``, ``https://`` ... URI.
        Required, unless ``spark_application_manifest`` describes it.
    :param launcher: ``spark-submit`` (default: spark-submit runs on the worker), ``pod`` (spark-submit runs in a
        launcher pod in the cluster; the worker needs neither Java nor Spark) or ``spark-operator`` (a
        SparkApplication for the Kubeflow spark-operator).
    :param name: the Spark application name (default: the task id); the driver pod and SparkApplication names
        derive from it.
    :param main_class: the main class of a JVM application (``--class``).
    :param application_args: arguments of the application, a list of strings.
    :param image: the Spark image of the driver and executors (``spark.kubernetes.container.image``).
    :param image_pull_policy: ``Always``, ``IfNotPresent`` or ``Never``.
    :param image_pull_secrets: names of the Secrets to pull the image with: a list, or a comma-separated string.
    :param namespace: where the application runs (default: the connection's namespace, else ``default``).
    :param service_account_name: the service account of the driver pod. Not templated, as in
        KubernetesPodOperator: Airflow masks every rendered field whose name contains ``service_account``.
    :param conf: Spark properties; values are strings (numbers and booleans are converted).
    :param jars: jars for the driver and executor class paths (``--jars``).
    :param py_files: .zip, .egg or .py files for the Python path (``--py-files``).
    :param files: files placed in the working directory of each executor (``--files``).
    :param archives: archives extracted into the working directory of each executor (``--archives``).
    :param packages: Maven coordinates of jars to include (``--packages``).
    :param driver_cores: cores of the driver (``spark.driver.cores``).
    :param driver_memory: memory of the driver, e.g. ``2g`` (``spark.driver.memory``).
    :param executor_cores: cores of each executor (``spark.executor.cores``).
    :param executor_memory: memory of each executor, e.g. ``4g`` (``spark.executor.memory``).
    :param executor_instances: number of executors (``spark.executor.instances``).
    :param dynamic_allocation: dynamic allocation settings as the spark-operator names them, e.g.
        ``{"enabled": True, "minExecutors": 1, "maxExecutors": 5}``.
    :param env_vars: environment variables of the driver and executors.
    :param labels: labels of the driver and executor pods.
    :param annotations: annotations of the driver and executor pods.
    :param node_selector: node selector of the driver and executor pods.
    :param tolerations: tolerations of the driver and executor pods (Kubernetes Toleration objects as dicts).
    :param volumes: volumes (Kubernetes Volume objects as dicts: ``hostPath``, ``emptyDir``,
        ``persistentVolumeClaim`` or ``nfs``), mounted by ``volume_mounts``.
    :param volume_mounts: mounts of ``volumes`` in the driver and executors (Kubernetes VolumeMount objects).
    :param driver_pod_template: a Pod Spark starts the driver from, for what Spark properties cannot express: a
        dict, or the path of a .yaml/.yml/.json file, found (and rendered with Jinja) as Airflow finds template
        files: relative to the DAG folder or a directory of the DAG's ``template_searchpath``, or absolute.
    :param executor_pod_template: the same for the executors.
    :param spark_version: the Spark version of the image (the SparkApplication's ``sparkVersion``).
    :param kubernetes_conn_id: the ``kubernetes`` connection of the cluster.
    :param cluster_context: the kubeconfig context to use (default: the connection's).
    :param config_file: a kubeconfig file to use instead of the connection's.
    :param in_cluster: use the service account of the pod the task runs in (default: the connection's setting).
    :param spark_home: where spark-submit is installed on the worker (``spark-submit`` launcher; default:
        ``$SPARK_HOME``, else the ``PATH``).
    :param spark_binary: the spark-submit command to run (``spark-submit`` launcher).
    :param submit_timeout: seconds spark-submit may take to create the driver (``spark-submit`` launcher).
    :param launcher_image: the image of the launcher pod (``pod`` launcher; default: ``image``).
    :param launcher_service_account_name: the service account of the launcher pod (``pod`` launcher), which
        creates the driver pod; default: ``service_account_name``.
    :param spark_application_manifest: for ``spark-operator``: a SparkApplication used instead of one built
        from the arguments: a dict, or the path of a .yaml/.yml/.json file found as ``driver_pod_template`` is.
    :param restart_policy: the SparkApplication's ``restartPolicy`` (``spark-operator``; default
        ``{"type": "Never"}``).
    :param startup_timeout_seconds: seconds the driver may stay Pending (unschedulable, image pull errors)
        before the task fails and the application is deleted.
    :param get_logs: write the driver's log into the task log.
    :param on_finish_action: what to do with the driver pod (and the SparkApplication or launcher pod) when the
        application ends: ``keep_pod`` (default), ``delete_succeeded_pod`` or ``delete_pod``, as in
        KubernetesPodOperator. An application that did not start in time is always deleted.
    :param history_server_url: URL template of the Spark History Server extra link (``{spark_app_id}``,
        ``{namespace}``, ``{driver_pod}``, ``{app_name}``); default: the connection's extra
        ``spark_history_server_url``.
    :param driver_ui_url: URL template of the Spark driver UI extra link, with the same fields; default: the
        connection's extra ``spark_driver_ui_url``.
    :param deferrable: wait in the triggerer instead of holding a worker slot (default: Airflow's
        ``[operators] default_deferrable``).
    :param service_account: deprecated name of ``service_account_name``.
    :param launcher_service_account: deprecated name of ``launcher_service_account_name``.
    :param startup_timeout: deprecated name of ``startup_timeout_seconds``.
    :param delete_on_success: deprecated: ``on_finish_action="delete_succeeded_pod"``.
    :param delete_on_failure: deprecated: with ``delete_on_success``, ``on_finish_action="delete_pod"``.
    """

    template_fields: Sequence[str] = (
        "application", "main_class", "application_args", "name", "image", "image_pull_policy",
        "image_pull_secrets", "namespace", "conf", "jars", "py_files", "files", "archives", "packages",
        "driver_cores", "driver_memory", "executor_cores", "executor_memory", "executor_instances",
        "dynamic_allocation", "env_vars", "labels", "annotations", "node_selector", "tolerations", "volumes",
        "volume_mounts", "spark_application_manifest", "driver_pod_template", "executor_pod_template",
        "spark_version", "kubernetes_conn_id", "cluster_context", "config_file", "launcher_image",
    )
    template_fields_renderers = {"conf": "json", "env_vars": "json", "spark_application_manifest": "yaml",
                                 "driver_pod_template": "yaml", "executor_pod_template": "yaml"}

    @property
    def operator_extra_links(self) -> tuple[BaseOperatorLink, ...]:  # type: ignore[override]
        """Only the links that can have a URL (links.links_with_a_url). `self` is a mapped operator when
        Airflow serializes a `.partial().expand()` task."""
        return links_with_a_url(self, _LINKS, lookup=getattr(self, "_hook", None) is None)

    ui_color = "#f9d6a5"

    def __init__(
        self,
        *,
        application: str = "",
        launcher: Launcher = "spark-submit",
        name: str | None = None,
        main_class: str | None = None,
        application_args: list[str] | None = None,
        image: str | None = None,
        image_pull_policy: str | None = None,
        image_pull_secrets: list[str] | str | None = None,
        namespace: str | None = None,
        service_account_name: str | None = None,
        conf: dict[str, Any] | None = None,
        jars: list[str] | str | None = None,
        py_files: list[str] | str | None = None,
        files: list[str] | str | None = None,
        archives: list[str] | str | None = None,
        packages: list[str] | str | None = None,
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
        launcher_service_account_name: str | None = None,
        spark_application_manifest: dict[str, Any] | str | None = None,
        restart_policy: dict[str, Any] | None = None,
        startup_timeout_seconds: float = 600,
        get_logs: bool = True,
        on_finish_action: OnFinishAction = "keep_pod",
        history_server_url: str | None = None,
        driver_ui_url: str | None = None,
        deferrable: bool = airflow_conf.getboolean("operators", "default_deferrable", fallback=False),
        service_account: str | None = None,
        launcher_service_account: str | None = None,
        startup_timeout: float | None = None,
        delete_on_success: bool | None = None,
        delete_on_failure: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        task = self.task_id
        service_account_name = renamed(task, "service_account", "service_account_name", service_account,
                                       service_account_name)
        launcher_service_account_name = renamed(task, "launcher_service_account", "launcher_service_account_name",
                                                launcher_service_account, launcher_service_account_name)
        startup_timeout_seconds = renamed(task, "startup_timeout", "startup_timeout_seconds", startup_timeout,
                                          startup_timeout_seconds, 600)
        on_finish_action = _on_finish_action(task, on_finish_action, delete_on_success, delete_on_failure)
        if launcher not in LAUNCHERS:
            raise ValueError(f"Task {task}: launcher: expected one of {', '.join(LAUNCHERS)}, not {launcher!r}")
        if not application and not (launcher == "spark-operator" and spark_application_manifest):
            raise ValueError(f"Task {task}: application: required (or spark_application_manifest with "
                             "launcher='spark-operator')")
        if spark_application_manifest is not None and launcher != "spark-operator":
            raise ValueError(f"Task {task}: spark_application_manifest: only used with launcher='spark-operator'")
        if launcher == "pod" and not (image or launcher_image):
            raise ValueError(f"Task {task}: image: the pod launcher runs spark-submit from the Spark image; set image")
        for arg, value in (("startup_timeout_seconds", startup_timeout_seconds), ("submit_timeout", submit_timeout)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Task {task}: {arg}: expected a positive number of seconds, not {value!r}")
        self.application = application
        self.launcher = launcher
        self.name = name or self.task_id
        self.main_class = main_class
        self.application_args = application_args if application_args is not None else []
        self.image = image
        self.image_pull_policy = image_pull_policy
        self.image_pull_secrets = image_pull_secrets if image_pull_secrets is not None else []
        self.namespace = namespace
        self.service_account_name = service_account_name
        self.conf = conf if conf is not None else {}
        self.jars = jars if jars is not None else []
        self.py_files = py_files if py_files is not None else []
        self.files = files if files is not None else []
        self.archives = archives if archives is not None else []
        self.packages = packages if packages is not None else []
        self.driver_cores = driver_cores
        self.driver_memory = driver_memory
        self.executor_cores = executor_cores
        self.executor_memory = executor_memory
        self.executor_instances = executor_instances
        self.dynamic_allocation = dynamic_allocation
        self.env_vars = env_vars if env_vars is not None else {}
        self.labels = labels if labels is not None else {}
        self.annotations = annotations if annotations is not None else {}
        self.node_selector = node_selector if node_selector is not None else {}
        self.tolerations = tolerations if tolerations is not None else []
        self.volumes = volumes if volumes is not None else []
        self.volume_mounts = volume_mounts if volume_mounts is not None else []
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
        self.launcher_service_account_name = launcher_service_account_name
        self.spark_application_manifest = spark_application_manifest
        self.restart_policy = restart_policy
        self.startup_timeout_seconds = startup_timeout_seconds
        self.get_logs = get_logs
        self.on_finish_action = on_finish_action
        self.history_server_url = history_server_url
        self.driver_ui_url = driver_ui_url
        self.deferrable = deferrable
        self._run: SparkRun | None = None
        self._submitting: SparkK8sHook | None = None
        self._hook: SparkK8sHook | None = None  # the hook of this try: on_kill reuses its loaded connection
        self.published_links: dict[str, str] = {}
        self._published_app_id: str | None = None
        check_arguments(self, ARGUMENTS)
        self._check_application()

    def _check_application(self) -> None:
        """Validate the application when the DAG file is parsed, unless a value is only known when the task runs
        (a Jinja template, an XCom): a bad argument then fails at parse time, naming the task and the argument."""
        from ..spark_app import SparkApp

        values: dict[str, Any] = {f: getattr(self, f) for f in _APP_FIELDS}
        if not self.application or any(is_templated(v, deep=True) for v in (*values.values(), self.name)):
            return
        templates: dict[str, Any] = {arg: value for arg in _POD_TEMPLATES
                                     if isinstance(value := getattr(self, arg), dict)
                                     and not is_templated(value, deep=True)}
        try:
            SparkApp(name=self.name, **templates, **values)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"Task {self.task_id}: {exc}") from None

    def _do_render_template_fields(self, parent: Any, template_fields: Iterable[str], context: Context,
                                   jinja_env: jinja2.Environment, seen_oids: set[int]) -> None:
        # A manifest path is read as Airflow reads the files of template_ext (from the DAG folder and
        # template_searchpath) and then rendered; template_ext itself is not set because it would take any
        # string ending in .yaml or .json in any field for a file (application_args, conf values, files).
        # Hooked here because a mapped task renders through this method only.
        if parent is self:
            for arg in _MANIFESTS:
                value = getattr(self, arg)
                if isinstance(value, str) and value.endswith(MANIFEST_SUFFIXES):
                    setattr(self, arg, read_template_file(self, arg, value, jinja_env))
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)

    # ------------------------------------------------------------------ helpers
    @property
    def hook(self) -> SparkK8sHook:
        from ..hooks.spark import SparkK8sHook

        return SparkK8sHook(self.kubernetes_conn_id, namespace=self.namespace, cluster_context=self.cluster_context,
                            config_file=self.config_file, in_cluster=self.in_cluster)

    def _spark_app(self, context: Context) -> SparkApp:
        from ..spark_app import SparkApp

        templates: dict[str, Any] = {arg: self._document(getattr(self, arg), arg, "Pod", context)
                                     for arg in _POD_TEMPLATES}
        values: dict[str, Any] = {f: value for f in _APP_FIELDS if (value := getattr(self, f)) is not None}
        try:
            return SparkApp(name=self.name, **templates, **values)
        except (TypeError, ValueError) as exc:
            raise AirflowException(f"Task {self.task_id}: invalid Spark application: {exc}") from exc

    def _document(self, value: Mapping[str, Any] | str | None, arg: str, kind: str, context: Context
                  ) -> dict[str, Any] | None:
        """A rendered manifest argument: a dict, or the YAML/JSON text of its file. Errors name the argument."""
        if value is None or isinstance(value, Mapping):
            return None if value is None else dict(value)
        import yaml

        from ..safe_yaml import safe_load

        try:
            doc = safe_load(value)
        except yaml.YAMLError as exc:
            raise AirflowFailException(f"Task {self.task_id}: {arg}: not valid YAML: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("kind") != kind:
            found = f"kind {doc.get('kind')!r}" if isinstance(doc, dict) else describe(doc)
            raise AirflowFailException(f"Task {self.task_id}: {arg}: expected a {kind} manifest (a dict, or the path "
                                       f"of a {'/'.join(MANIFEST_SUFFIXES)} file in the DAG folder or "
                                       f"template_searchpath), got {found}")
        return doc

    # ------------------------------------------------------------------ execution
    def execute(self, context: Context) -> Any:
        from .. import task_state
        from ..hooks.spark import SparkOutcome, SparkRun
        from ..identity import TaskIdentity

        check_rendered(self, ARGUMENTS)  # before anything is created
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

            self.defer(trigger=SparkK8sTrigger(run.to_dict(), self.kubernetes_conn_id, self.startup_timeout_seconds,
                                               self.cluster_context, self.config_file, self.in_cluster),
                       method_name="execute_complete")
        outcome = hook.wait_following_logs(run, self.startup_timeout_seconds,
                                           self._log_driver_line if self.get_logs else None)
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
                               launcher_service_account=self.launcher_service_account_name,
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
        history = render_url(history_template, values, history_server=True)
        driver_ui = render_url(driver_ui_template, values)
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
            if self.on_finish_action in ("delete_pod", "delete_succeeded_pod"):
                self._delete(hook, run)
            return result
        if outcome.state == "StartupTimeout" or self.on_finish_action == "delete_pod":
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

def _on_finish_action(task_id: str, action: Any, delete_on_success: bool | None, delete_on_failure: bool | None
                      ) -> OnFinishAction:
    """on_finish_action, from its deprecated predecessors delete_on_success / delete_on_failure when given."""
    action = str(getattr(action, "value", action))  # also cncf.kubernetes' OnFinishAction enum
    if delete_on_success is not None or delete_on_failure is not None:
        success, failure = bool(delete_on_success), bool(delete_on_failure)
        if failure and not success:
            raise ValueError(f"Task {task_id}: delete_on_failure=True without delete_on_success has no "
                             "on_finish_action equivalent; use on_finish_action='delete_pod'")
        action = renamed(task_id, "delete_on_success/delete_on_failure", "on_finish_action",
                         "delete_pod" if failure else "delete_succeeded_pod" if success else "keep_pod", action,
                         "keep_pod", stacklevel=5)
    if action not in ON_FINISH_ACTIONS:
        raise ValueError(f"Task {task_id}: on_finish_action: expected one of {', '.join(ON_FINISH_ACTIONS)}, "
                         f"not {action!r}")
    return cast("OnFinishAction", action)
