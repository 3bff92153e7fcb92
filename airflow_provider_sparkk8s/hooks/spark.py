"""SparkK8sHook: every Kubernetes call the Spark launchers make, and spark-submit itself.

The connection is the cncf.kubernetes provider's `kubernetes` connection (in-cluster, kubeconfig path,
inline kubeconfig, context, namespace); its clients are built by that provider's hooks. Waiting goes
through `airflow_provider_sparkk8s.watch`.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseHook

from ..identity import ROLE, TaskIdentity
from ..kube_api import (
    CONFIGMAPS,
    EVENTS,
    PODS,
    SPARK_APPLICATIONS,
    KubeAPI,
    KubeApiError,
    Resource,
    SharedKubeAPI,
    call_with_retries,
)
from ..spark_app import (
    IN_CLUSTER_MASTER,
    POD_TEMPLATE_CONF,
    SPARK_SUBMIT_IN_IMAGE,
    SparkApp,
    looks_secret,
    properties_text,
)
from ..watch import before, newest, present, wait_for_object

if TYPE_CHECKING:
    from ..watch import Waited

LAUNCHERS = ("spark-submit", "pod", "spark-operator")
DRIVER_CONTAINER = "spark-kubernetes-driver"
TERMINAL_POD_PHASES = ("Succeeded", "Failed")
# spark-operator states after which the controller does nothing more.
SPARKAPP_SUCCESS = ("COMPLETED",)
SPARKAPP_FAILED = ("FAILED",)
STARTUP_STATES = ("", "NEW", "SUBMITTED", "PENDING_RERUN")
LOG_TAIL_LINES = 30
LAUNCHER_TEMPLATE_DIR = "/opt/spark/pod-templates"


@dataclass
class SparkRun:
    """A submitted (or adopted) application: enough to find, wait for and delete it."""

    launcher: str
    namespace: str
    driver_pod: str
    application: str | None = None  # SparkApplication name (spark-operator launcher)
    launcher_pod: str | None = None  # launcher pod name (pod launcher)
    spark_app_id: str | None = None
    try_number: int = 1
    adopted: bool = False
    started_at: float = field(default_factory=time.time)  # wall clock, survives deferral

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SparkRun:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        if self.application:
            return f"SparkApplication {self.namespace}/{self.application}"
        return f"driver pod {self.namespace}/{self.driver_pod}"


@dataclass
class SparkOutcome:
    """How an application ended, as the trigger reports it and the operator turns into success or an error."""

    status: str  # success | failed | timeout (a sensor's timeout ran out first)
    state: str  # pod phase, SparkApplication state, StartupTimeout or Deleted
    message: str
    run: SparkRun
    exit_code: int | None = None
    reason: str | None = None
    log_tail: list[str] = field(default_factory=list)

    def to_event(self) -> dict[str, Any]:
        data = asdict(self)
        data["run"] = self.run.to_dict()
        return data

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> SparkOutcome:
        data = dict(event)
        data["run"] = SparkRun.from_dict(data["run"])
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class SparkTarget:
    """What a sensor follows: a driver pod, a SparkApplication, or the newest driver pod matching a label
    selector (exactly one), which may not exist yet."""

    namespace: str
    driver_pod: str | None = None
    spark_application: str | None = None
    label_selector: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SparkTarget:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        if self.spark_application:
            return f"SparkApplication {self.namespace}/{self.spark_application}"
        if self.driver_pod:
            return f"driver pod {self.namespace}/{self.driver_pod}"
        return f"driver pods matching {self.label_selector} in {self.namespace}"

    def wanted(self) -> str:
        """The target as named before it exists ("No ... yet", "Waiting for ...")."""
        if self.label_selector:
            return self.describe()
        if self.spark_application:
            return f"SparkApplication {self.spark_application} in {self.namespace}"
        return f"driver pod {self.driver_pod} in {self.namespace}"

    @property
    def resource(self) -> Resource:
        return SPARK_APPLICATIONS if self.spark_application else PODS

    @property
    def selector(self) -> str | None:
        return ",".join(filter(None, [self.label_selector, "spark-role=driver"])) if self.label_selector else None

    def run(self, obj: dict) -> SparkRun:
        """The application to follow, from its SparkApplication or driver pod as read."""
        name = obj["metadata"]["name"]
        if self.spark_application:
            driver = ((obj.get("status") or {}).get("driverInfo") or {}).get("podName") or f"{name}-driver"
            return SparkRun("spark-operator", self.namespace, driver, application=name, adopted=True)
        return SparkRun("spark-submit", self.namespace, name, adopted=True)


def state_of(obj: dict | None) -> str:
    """A SparkApplication's state or a pod's phase, as a person reads it."""
    if obj is None:
        return "missing"
    status = obj.get("status") or {}
    if obj.get("kind") == "SparkApplication":
        return (status.get("applicationState") or {}).get("state") or "NEW"
    return status.get("phase") or "Pending"


class SparkSubmitError(RuntimeError):
    pass


class SparkK8sHook(BaseHook):
    """Kubernetes access for Spark applications, from a `kubernetes` connection."""

    conn_name_attr = "kubernetes_conn_id"
    default_conn_name = "kubernetes_default"
    conn_type = "kubernetes"
    hook_name = "Kubernetes (Spark)"

    def __init__(self, kubernetes_conn_id: str = default_conn_name, namespace: str | None = None,
                 cluster_context: str | None = None, config_file: str | None = None,
                 in_cluster: bool | None = None) -> None:
        super().__init__()
        self.kubernetes_conn_id = kubernetes_conn_id
        self.namespace = namespace
        self.cluster_context = cluster_context
        self.config_file = config_file
        self.in_cluster = in_cluster
        self.active_process: subprocess.Popen | None = None
        self._client_configuration: Any = None  # the settings of the last client api() loaded

    # ------------------------------------------------------------------ connection
    def _extras(self) -> dict[str, Any]:
        from airflow.providers.common.compat.sdk import AirflowNotFoundException

        try:
            extra = self.get_connection(self.kubernetes_conn_id).extra_dejson
        except AirflowNotFoundException:  # not defined means "defaults", as KubernetesHook treats it
            return {}
        except Exception as exc:  # a secrets backend failing must not silently mean ~/.kube/config
            raise RuntimeError(f"Could not read connection {self.kubernetes_conn_id!r}: {exc}") from exc
        return {k.removeprefix("extra__kubernetes__"): v for k, v in extra.items()}

    def get_namespace(self) -> str:
        return self.namespace or self._extras().get("namespace") or "default"

    def connection_extra(self, key: str) -> Any:
        return self._extras().get(key)

    @contextlib.asynccontextmanager
    async def api(self, lookup: bool = True) -> AsyncIterator[KubeAPI]:
        """A client of this hook's connection. `lookup=False`: with the settings this hook loaded last, if any,
        without asking Airflow for the connection again. For kill handlers: SIGTERM can interrupt the task in the
        middle of a request to Airflow's supervisor, and a connection lookup would wait for that one forever."""
        reuse = not lookup and self._client_configuration is not None
        if reuse:
            from kubernetes_asyncio.client import ApiClient

            opened: Any = ApiClient(self._client_configuration)
        else:
            opened = self._connect()
        async with opened as client:
            api = KubeAPI(client)
            if not reuse:  # after a 401 (an expired token), calls go on with the credentials read again
                api.reopen = self.api
            try:
                yield api
            finally:
                await api.aclose()

    @contextlib.asynccontextmanager
    async def _connect(self) -> AsyncIterator[Any]:
        """A client from the connection, looked up now; its settings are kept for `api(lookup=False)`."""
        from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook
        from kubernetes_asyncio.client import Configuration

        configuration = Configuration()
        hook = AsyncKubernetesHook(conn_id=self.kubernetes_conn_id, cluster_context=self.cluster_context,
                                   config_file=self.config_file, in_cluster=self.in_cluster,
                                   client_configuration=configuration)
        # TLS is verified unless the connection says otherwise, explicitly and loudly (the async hook of the
        # cncf provider ignores disable_verify_ssl: apply it here, as its sync hook and spark-submit do).
        extras = await hook.get_conn_extras()
        by_extra = _truthy(extras.get("disable_verify_ssl", extras.get("extra__kubernetes__disable_verify_ssl")))
        if by_extra:
            self.log.warning("TLS verification is disabled for connection %s (disable_verify_ssl): the API "
                             "server's certificate is not checked", self.kubernetes_conn_id)
            configuration.verify_ssl = False
        async with hook.get_conn() as client:
            if not by_extra and not configuration.verify_ssl:
                self.log.warning("TLS verification is disabled for connection %s (insecure-skip-tls-verify in "
                                 "its kubeconfig): the API server's certificate is not checked",
                                 self.kubernetes_conn_id)
            self._client_configuration = configuration
            yield client

    def shared_api(self) -> SharedKubeAPI:
        """The API for triggers: its waits share the triggerer's watches of this cluster (see watch.py), and it
        opens a client of its own only for direct calls (use it with ``async with``)."""
        return SharedKubeAPI(self.api, ("kubernetes", self.kubernetes_conn_id, self.cluster_context,
                                        self.config_file, self.in_cluster))

    def run(self, fn: Callable[[KubeAPI], Any], lookup: bool = True) -> Any:
        """Run `await fn(api)` from synchronous code (the worker). `lookup`: see api()."""

        async def main() -> Any:
            async with self.api(lookup) as api:
                return await fn(api)

        return asyncio.run(main())

    # ------------------------------------------------------------------ objects
    async def create(self, api: KubeAPI, resource: Resource, namespace: str, body: dict) -> tuple[dict, bool]:
        """Create; returns (object, created). An existing object of that name is returned, not replaced."""
        name = body["metadata"]["name"]
        try:
            obj = await call_with_retries(lambda: api.request("POST", resource.path(namespace), body=body))
            return obj, True
        except KubeApiError as exc:
            if exc.status != 409:
                raise
        return await call_with_retries(lambda: api.request("GET", resource.path(namespace, name))), False

    async def get(self, api: KubeAPI, resource: Resource, namespace: str, name: str) -> dict | None:
        try:
            return await call_with_retries(lambda: api.request("GET", resource.path(namespace, name)))
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise

    def read(self, resource: Resource, namespace: str, name: str) -> dict | None:
        """One object, read now from the worker; None when it does not exist."""
        return self.run(lambda api: self.get(api, resource, namespace, name))

    async def delete(self, api: KubeAPI, resource: Resource, namespace: str, name: str) -> bool:
        """Delete (background propagation, so what it owns goes too); False when it was already gone."""
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        try:
            await call_with_retries(lambda: api.request("DELETE", resource.path(namespace, name), body=body))
            return True
        except KubeApiError as exc:
            if exc.status == 404:
                return False
            raise

    async def list(self, api: KubeAPI, resource: Resource, namespace: str, selector: str) -> list[dict]:
        listed = await call_with_retries(
            lambda: api.request("GET", resource.path(namespace), {"labelSelector": selector}))
        return listed.get("items") or []

    async def delete_run(self, api: KubeAPI, run: SparkRun) -> builtins.list[str]:
        """Remove an application: its SparkApplication, launcher pod and driver pod. Returns what was deleted."""
        deleted = []
        if run.application and await self.delete(api, SPARK_APPLICATIONS, run.namespace, run.application):
            deleted.append(f"SparkApplication {run.namespace}/{run.application}")
        if run.launcher_pod and await self.delete(api, PODS, run.namespace, run.launcher_pod):
            deleted.append(f"launcher pod {run.namespace}/{run.launcher_pod}")
        if run.driver_pod and await self.delete(api, PODS, run.namespace, run.driver_pod):
            deleted.append(f"driver pod {run.namespace}/{run.driver_pod}")
        return deleted

    # ------------------------------------------------------------------ logs and events
    async def read_log(self, api: KubeAPI, namespace: str, pod: str, container: str | None = None,
                       cursor: str | None = None, tail_lines: int | None = None
                       ) -> tuple[builtins.list[str], str | None]:
        """Log lines after `cursor` (from a previous call; None = from the start) and the new cursor."""
        position = LogCursor.parse(cursor)
        query: dict[str, Any] = {"timestamps": "true", "container": container, "tailLines": tail_lines,
                                 "sinceTime": position.since_time()}
        try:
            text = await call_with_retries(lambda: api.text(PODS.path(namespace, pod, "log"), query))
        except KubeApiError as exc:
            if exc.status in (400, 404):  # not started yet, or gone
                return [], cursor
            raise
        lines = [line for ts, line in _split_timestamps(text) if position.advance(ts)]
        return lines, str(position)

    async def follow_log(self, api: KubeAPI, namespace: str, pod: str, emit: Callable[[str], None],
                         cursor: str | None = None, container: str | None = None) -> str:
        """Follow a container's log until it ends, resuming after drops without repeating lines; returns the
        cursor after the last line emitted. Cancel it to stop early."""
        position = LogCursor.parse(cursor)
        while True:
            query = {"follow": "true", "timestamps": "true", "container": container,
                     "sinceTime": position.since_time()}
            try:
                async for raw in api.lines(PODS.path(namespace, pod, "log"), query, read_timeout=None):
                    for ts, line in _split_timestamps(raw.decode(errors="replace")):
                        if position.advance(ts):
                            emit(line)
                return str(position)
            except KubeApiError as exc:
                if exc.status == 404:
                    return str(position)
                if exc.status != 400 and not exc.retryable:
                    raise
                await asyncio.sleep(1.0)  # 400: the container has not started yet
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(1.0)

    async def events_for(self, api: KubeAPI, namespace: str, name: str) -> builtins.list[dict]:
        try:
            listed = await api.request("GET", EVENTS.path(namespace),
                                       {"fieldSelector": f"involvedObject.name={name}"})
        except KubeApiError:
            return []
        return sorted(listed.get("items") or [], key=_event_order)

    # ------------------------------------------------------------------ submission
    def spark_submit_binary(self, spark_home: str | None = None, binary: str | None = None) -> str:
        """spark-submit to run: explicit binary, else SPARK_HOME's, else pyspark's, else the one on PATH."""
        if binary:
            return binary
        home = spark_home or os.environ.get("SPARK_HOME")
        if not home:
            import importlib.util

            spec = importlib.util.find_spec("pyspark")
            if spec and spec.origin:
                home = str(Path(spec.origin).parent)
        if home and (Path(home) / "bin" / "spark-submit").exists():
            return str(Path(home) / "bin" / "spark-submit")
        found = shutil.which("spark-submit")
        if not found:
            raise SparkSubmitError("spark-submit was not found: set spark_home or spark_binary, or SPARK_HOME, "
                                   "or install pyspark on the worker")
        return found

    @contextlib.contextmanager
    def _submission_credentials(self, workdir: Path) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
        """(master URL, environment, extra Spark conf) that give spark-submit the connection's credentials
        without putting any of them on its command line."""
        import yaml

        extras = self._extras()
        env: dict[str, str] = {}
        conf: dict[str, str] = {}
        in_cluster = self.in_cluster if self.in_cluster is not None else _truthy(extras.get("in_cluster"))
        context = self.cluster_context or extras.get("cluster_context")
        if in_cluster:
            host = os.environ.get("KUBERNETES_SERVICE_HOST")
            port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
            yield (f"k8s://https://{host}:{port}" if host else IN_CLUSTER_MASTER), env, conf
            return
        inline = extras.get("kube_config")
        path = self.config_file or extras.get("kube_config_path")
        if inline:
            text = inline if isinstance(inline, str) else yaml.safe_dump(inline)
            kubeconfig = workdir / "kubeconfig"
            fd = os.open(kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            path = str(kubeconfig)
        path = path or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
        try:
            config = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise SparkSubmitError(f"cannot read the kubeconfig of connection {self.kubernetes_conn_id!r}: "
                                   f"{exc.strerror}: {path}") from exc
        context = context or config.get("current-context")
        ctx = next((c.get("context") or {} for c in config.get("contexts") or [] if c.get("name") == context), {})
        cluster = next((c.get("cluster") or {} for c in config.get("clusters") or []
                        if c.get("name") == ctx.get("cluster")), {})
        if not cluster.get("server"):
            raise SparkSubmitError(f"kubeconfig {path} has no cluster server for context {context!r}")
        env["KUBECONFIG"] = path
        if context:
            conf["spark.kubernetes.context"] = context
        if _truthy(extras.get("disable_verify_ssl")):
            self.log.warning("TLS verification is disabled for connection %s (disable_verify_ssl)",
                             self.kubernetes_conn_id)
            conf["spark.kubernetes.trust.certificates"] = "true"
        elif _truthy(cluster.get("insecure-skip-tls-verify")):
            self.log.warning("TLS verification is disabled for connection %s (insecure-skip-tls-verify in its "
                             "kubeconfig)", self.kubernetes_conn_id)
        yield f"k8s://{cluster['server']}", env, conf

    def submit_with_spark_submit(self, app: SparkApp, run: SparkRun, identity: TaskIdentity,
                                 binary: str, timeout: float = 600,
                                 emit: Callable[[str], None] | None = None) -> SparkRun:
        """Run spark-submit in cluster mode with waitAppCompletion=false and a deterministic driver pod name.

        Properties (which may hold secrets) go through a 0600 properties file, credentials through
        KUBECONFIG: nothing secret is on the command line. Raises SparkSubmitError with its last output.
        """
        import yaml

        emit = emit or self.log.info
        with tempfile.TemporaryDirectory(prefix="sparkk8s-submit-") as tmp:
            workdir = Path(tmp)
            with self._submission_credentials(workdir) as (master, env_extra, conf_extra):
                conf = {**app.spark_conf(run.namespace), **conf_extra, **self._driver_conf(run, identity, app)}
                for role, template in app.pod_templates().items():
                    path = workdir / f"{role}-pod-template.yaml"
                    path.write_text(yaml.safe_dump(template))
                    conf[POD_TEMPLATE_CONF[role]] = str(path)
                props = workdir / "spark.properties"
                fd = os.open(props, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(properties_text(conf))
                argv = [binary, *app.submit_args(master, properties_file=str(props))]
                env = {**os.environ, **env_extra}
                if "SPARK_HOME" not in env and Path(binary).parent.name == "bin":
                    env["SPARK_HOME"] = str(Path(binary).parent.parent)
                emit(f"Submitting {app.name} with {Path(binary).name} to {master} (driver pod "
                     f"{run.namespace}/{run.driver_pod})")
                tail: list[str] = []
                cause = ""  # the exception spark-submit died of: its stack trace can push it out of the tail
                proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                        text=True, errors="replace", start_new_session=True)
                self.active_process = proc  # so a task kill can stop it (see SparkK8sOperator.on_kill)
                deadline = time.monotonic() + timeout
                assert proc.stdout is not None
                try:
                    for line in proc.stdout:
                        line = line.rstrip("\n")
                        emit(line)
                        tail = (tail + [line])[-LOG_TAIL_LINES:]
                        if not cause and line.startswith("Exception in thread"):
                            cause = line
                        if time.monotonic() > deadline:
                            raise subprocess.TimeoutExpired(argv, timeout)
                    code = proc.wait(max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired as exc:
                    proc.kill()
                    proc.wait()
                    raise SparkSubmitError(f"spark-submit did not finish within {timeout:.0f}s") from exc
                except BaseException:
                    proc.kill()  # a killed task must not leave spark-submit running behind it
                    proc.wait()
                    raise
                finally:
                    self.active_process = None
                if code != 0:
                    first = f" {cause}" if cause and cause not in tail else ""
                    raise SparkSubmitError(f"spark-submit exited with code {code}:{first}\n" + "\n".join(tail))
        return run

    def _driver_conf(self, run: SparkRun, identity: TaskIdentity, app: SparkApp) -> dict[str, str]:
        conf = {
            "spark.kubernetes.driver.pod.name": run.driver_pod,
            "spark.kubernetes.submission.waitAppCompletion": "false",
            "spark.app.name": app.name,
        }
        for key, value in identity.labels("driver").items():
            conf[f"spark.kubernetes.driver.label.{key}"] = value
        for key, value in identity.annotations().items():
            conf[f"spark.kubernetes.driver.annotation.{key}"] = value
        return conf

    def launcher_pod_manifest(self, app: SparkApp, run: SparkRun, identity: TaskIdentity,
                              service_account: str | None = None, image: str | None = None) -> dict:
        """The launcher pod: spark-submit from the Spark image, in cluster mode against the in-cluster API."""
        assert run.launcher_pod
        conf = {**app.spark_conf(run.namespace), **self._driver_conf(run, identity, app)}
        for role in app.pod_templates():
            conf[POD_TEMPLATE_CONF[role]] = f"{LAUNCHER_TEMPLATE_DIR}/{role}.yaml"
        secret_keys = sorted(k for k in conf if looks_secret(k))
        if secret_keys:
            self.log.warning("Spark properties %s will be visible in the launcher pod's arguments; prefer "
                             "Kubernetes secrets (spark.kubernetes.driver.secretKeyRef.*)", ", ".join(secret_keys))
        labels = {**app.labels, **identity.labels("launcher")}
        account = service_account or app.service_account_name
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": run.launcher_pod, "namespace": run.namespace, "labels": labels,
                         "annotations": {**identity.annotations(), "sparkk8s.io/driver-pod": run.driver_pod}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{
                    "name": "spark-submit",
                    "image": image or app.image,
                    "command": [SPARK_SUBMIT_IN_IMAGE],
                    "args": app.submit_args(IN_CLUSTER_MASTER, conf=conf),
                }],
            },
        }
        if app.pod_templates():
            # spark-submit reads the templates from files: a ConfigMap (see launcher_templates) mounted here.
            pod["spec"]["volumes"] = [{"name": "pod-templates", "configMap": {"name": run.launcher_pod}}]
            pod["spec"]["containers"][0]["volumeMounts"] = [
                {"name": "pod-templates", "mountPath": LAUNCHER_TEMPLATE_DIR, "readOnly": True}]
        if account:
            pod["spec"]["serviceAccountName"] = account
        if app.image_pull_secrets:
            pod["spec"]["imagePullSecrets"] = [{"name": s} for s in app.image_pull_secrets]
        if app.image_pull_policy:
            pod["spec"]["containers"][0]["imagePullPolicy"] = app.image_pull_policy
        return pod

    def launcher_templates_manifest(self, app: SparkApp, run: SparkRun, identity: TaskIdentity) -> dict | None:
        """The ConfigMap holding the pod templates a launcher pod mounts, or None without templates."""
        import yaml

        templates = app.pod_templates()
        if not templates:
            return None
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": run.launcher_pod, "namespace": run.namespace,
                             "labels": identity.labels("launcher"), "annotations": identity.annotations()},
                "data": {f"{role}.yaml": yaml.safe_dump(t) for role, t in templates.items()}}

    async def create_launcher(self, api: KubeAPI, app: SparkApp, run: SparkRun, identity: TaskIdentity,
                              service_account: str | None = None, image: str | None = None) -> bool:
        """Create the launcher pod (and the ConfigMap of pod templates it mounts, then owned by the pod so
        it goes with it). Returns False when the pod already existed."""
        templates = self.launcher_templates_manifest(app, run, identity)
        if templates is not None:
            await self.create(api, CONFIGMAPS, run.namespace, templates)
        pod, created = await self.create(api, PODS, run.namespace,
                                         self.launcher_pod_manifest(app, run, identity, service_account, image))
        if templates is not None:
            owner = {"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": run.launcher_pod,
                                                       "uid": pod["metadata"]["uid"]}]}}
            await call_with_retries(lambda: api.request(
                "PATCH", CONFIGMAPS.path(run.namespace, run.launcher_pod), body=owner,
                content_type="application/merge-patch+json"))
        return created

    def spark_application_manifest(self, app: SparkApp, run: SparkRun, identity: TaskIdentity,
                                   restart_policy: dict[str, Any] | None = None) -> dict:
        assert run.application
        labels = {**app.labels, **identity.labels("application")}
        manifest = app.spark_application(run.application, run.namespace, labels, identity.annotations(),
                                         identity.labels("driver"), restart_policy)
        manifest["spec"]["driver"]["podName"] = run.driver_pod
        return manifest

    # ------------------------------------------------------------------ adoption
    async def find_runs(self, api: KubeAPI, namespace: str, identity: TaskIdentity, launcher: str
                        ) -> builtins.list[SparkRun]:
        """Applications any try of this task instance created, newest try first."""
        runs: list[SparkRun] = []
        if launcher == "spark-operator":
            for cr in await self.list(api, SPARK_APPLICATIONS, namespace, identity.selector("application")):
                meta = cr["metadata"]
                runs.append(SparkRun(launcher, namespace, (cr.get("spec", {}).get("driver") or {}).get("podName")
                                     or f"{meta['name']}-driver", application=meta["name"],
                                     spark_app_id=(cr.get("status") or {}).get("sparkApplicationId"),
                                     try_number=_try(meta), adopted=True))
        else:
            role = "launcher" if launcher == "pod" else "driver"
            for pod in await self.list(api, PODS, namespace, identity.selector(role)):
                meta = pod["metadata"]
                if launcher == "pod":
                    runs.append(SparkRun(launcher, namespace, (meta.get("annotations") or {}).get(
                        "sparkk8s.io/driver-pod", ""), launcher_pod=meta["name"], try_number=_try(meta),
                        adopted=True))
                else:
                    runs.append(SparkRun(launcher, namespace, meta["name"], try_number=_try(meta),
                                         spark_app_id=(meta.get("labels") or {}).get("spark-app-selector"),
                                         adopted=True))
        return sorted(runs, key=lambda r: r.try_number, reverse=True)

    async def is_finished(self, api: KubeAPI, run: SparkRun, current: dict | None = None) -> SparkOutcome | None:
        """The outcome of a run that has already ended, or None while it is still going. `current` is the run's
        SparkApplication (spark-operator) or driver pod when the caller has just read it: one call saved."""
        if run.launcher == "spark-operator":
            assert run.application
            cr = current or await self.get(api, SPARK_APPLICATIONS, run.namespace, run.application)
            return None if cr is None else _sparkapp_verdict(cr, run)
        driver = current or (await self.get(api, PODS, run.namespace, run.driver_pod) if run.driver_pod else None)
        if driver is not None:
            return _driver_verdict(driver, run)
        if run.launcher == "pod" and run.launcher_pod:
            launcher = await self.get(api, PODS, run.namespace, run.launcher_pod)
            if launcher is not None and (launcher.get("status") or {}).get("phase") == "Failed":
                return SparkOutcome("failed", "LauncherFailed", "launcher pod failed", run)
            return None
        return SparkOutcome("failed", "Deleted", f"{run.describe()} no longer exists", run)

    # ------------------------------------------------------------------ the operator's steps (on the worker)
    def adopt(self, namespace: str, identity: TaskIdentity, launcher: str, recorded: dict[str, Any] | None = None
              ) -> SparkRun | SparkOutcome | None:
        """A run of this task instance to adopt (still running), the outcome of a finished run to take, or None to
        submit.

        The run `recorded` in Airflow's task state store is checked first (one GET): still running, it is
        adopted; ended in success that no try reported (its worker died after the end), its outcome is taken.
        The label search finds the rest, including a run whose worker died before it could record anything."""
        from .. import task_state

        async def adopt(api: KubeAPI) -> SparkRun | SparkOutcome | None:
            if recorded is not None and recorded.get("launcher") == launcher:
                remembered = SparkRun.from_dict({**recorded, "adopted": True})
                outcome = await self.is_finished(api, remembered)
                if outcome is None:
                    return remembered
                if outcome.status == "success" and task_state.unreported_success(recorded, identity.try_number):
                    self.log.info("%s of try %s succeeded, but that try ended before it could report it; taking "
                                  "its outcome instead of running the application again", remembered.describe(),
                                  remembered.try_number)
                    return outcome
            for run in await self.find_runs(api, namespace, identity, launcher):
                outcome = await self.is_finished(api, run)
                if outcome is None:
                    return run
                if run.try_number == identity.try_number:
                    self.log.info("%s of this try already ended (%s); not running it again", run.describe(),
                                  outcome.state)
                    return outcome
            return None

        return self.run(adopt)

    def submit(self, run: SparkRun, identity: TaskIdentity, app: SparkApp | None = None,
               spark_application: dict | None = None, *, binary: str | None = None, submit_timeout: float = 600,
               launcher_service_account: str | None = None, launcher_image: str | None = None,
               emit: Callable[[str], None] | None = None) -> SparkRun:
        """Submit by the run's launcher: spark-submit from here (with `binary`), a launcher pod, or the
        `spark_application` manifest. Returns the run as submitted; SparkSubmitError says why it could not be."""
        emit = emit or self.log.info
        if run.launcher == "spark-submit":
            assert app is not None and binary is not None
            try:
                self.submit_with_spark_submit(app, run, identity, binary, submit_timeout, emit=emit)
            except Exception as exc:
                raise SparkSubmitError(f"Submitting {app.name} with spark-submit failed: {exc}") from exc
            pod = self.read(PODS, run.namespace, run.driver_pod)
            if pod is None:
                raise SparkSubmitError(f"spark-submit finished but driver pod {run.namespace}/{run.driver_pod} does "
                                       "not exist; see the spark-submit output above")
            run.spark_app_id = (pod["metadata"].get("labels") or {}).get("spark-app-selector")
        elif run.launcher == "pod":
            assert app is not None and run.launcher_pod
            created = self.run(lambda api: self.create_launcher(api, app, run, identity, launcher_service_account,
                                                                launcher_image))
            emit(f"{'Created' if created else 'Found'} launcher pod {run.namespace}/{run.launcher_pod}")
        else:
            assert spark_application is not None
            _, created = self.run(lambda api: self.create(api, SPARK_APPLICATIONS, run.namespace, spark_application))
            emit(f"{'Created' if created else 'Found'} SparkApplication {run.namespace}/{run.application}")
        return run

    def wait_following_logs(self, run: SparkRun, startup_timeout: float,
                            emit: Callable[[str], None] | None = None) -> SparkOutcome:
        """Wait (on the worker) until the application ends, passing each driver log line to `emit` meanwhile."""

        async def wait(api: KubeAPI) -> SparkOutcome:
            follower = None
            if emit is not None:
                async def follow() -> None:
                    while True:  # the driver pod may not exist yet (launcher pod, spark-operator)
                        if await self.get(api, PODS, run.namespace, run.driver_pod) is not None:
                            await self.follow_log(api, run.namespace, run.driver_pod, emit)
                            return
                        await asyncio.sleep(1.0)

                follower = asyncio.ensure_future(follow())
            try:
                outcome = await self.wait(api, run, startup_timeout)
            except BaseException:
                if follower is not None:
                    follower.cancel()
                raise
            if follower is not None and not follower.done():
                driver = await self.get(api, PODS, run.namespace, run.driver_pod)
                if driver is None or (driver.get("status") or {}).get("phase") not in TERMINAL_POD_PHASES:
                    follower.cancel()  # the driver never ran (or is gone): there is no stream to finish
                else:
                    try:  # let the stream deliver the last lines, but never hang on it
                        await asyncio.wait_for(asyncio.shield(follower), timeout=5)
                    except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                        follower.cancel()
            return outcome

        return self.run(wait)

    def driver_log(self, run: SparkRun) -> builtins.list[str]:
        """The driver's whole log (what is left of it)."""
        lines, _ = self.run(lambda api: self.read_log(api, run.namespace, run.driver_pod))
        return lines

    def delete_application(self, run: SparkRun, lookup: bool = True) -> builtins.list[str]:
        """Remove the application (see delete_run); what was deleted. `lookup`: see api()."""
        return self.run(lambda api: self.delete_run(api, run), lookup)

    # ------------------------------------------------------------------ sensors
    async def find(self, api: KubeAPI, target: SparkTarget) -> tuple[SparkRun | None, dict | None]:
        """The application a sensor follows and its object as just read (one call), or (None, None) while it does
        not exist."""
        if target.selector:
            obj = newest(await self.list(api, PODS, target.namespace, target.selector))
        else:
            obj = await self.get(api, target.resource, target.namespace,
                                 target.spark_application or target.driver_pod or "")
        return (None, None) if obj is None else (target.run(obj), obj)

    def check(self, target: SparkTarget) -> tuple[str, SparkOutcome | None]:
        """A sensor's poke: the target's state and, once it ended, its outcome (with the driver's last log lines
        on failure). One API call while it runs."""

        async def check(api: KubeAPI) -> tuple[str, SparkOutcome | None]:
            run, current = await self.find(api, target)
            if run is None:
                return f"No {target.wanted()} yet", None
            outcome = await self.is_finished(api, run, current)
            if outcome is not None and outcome.status != "success" and outcome.run.driver_pod:
                outcome.log_tail, _ = await self.read_log(api, run.namespace, outcome.run.driver_pod,
                                                          tail_lines=LOG_TAIL_LINES)
            state = f"{run.describe()} is {state_of(current)}" if target.label_selector else state_of(current)
            return f"Waiting for {target.wanted()}: {state}", outcome

        return self.run(check)

    async def wait_for_target(self, api: KubeAPI, target: SparkTarget, startup_timeout: float,
                              deadline: float | None = None,
                              on_error: Callable[[Exception, float], None] | None = None) -> SparkOutcome:
        """Wait for a sensor's target to exist, then for it to end; at `deadline` (wall clock) a "timeout" outcome
        says what the target was doing."""
        async def follow() -> SparkOutcome:
            name, decide = present(target.spark_application or target.driver_pod)
            waited = await wait_for_object(api, target.resource, target.namespace, name, decide, on_error=on_error,
                                           label_selector=target.selector)
            return await self.wait(api, target.run(waited.verdict), startup_timeout, on_error)

        done, outcome = await before(deadline, follow())
        if done:
            return outcome  # type: ignore[return-value]
        run, current = await self.find(api, target)
        if run is None:
            return SparkOutcome("timeout", "missing", f"no {target.wanted()}",
                                SparkRun("spark-submit", target.namespace, target.driver_pod or ""))
        return SparkOutcome("timeout", state_of(current), f"{run.describe()} is still {state_of(current)}", run)

    # ------------------------------------------------------------------ waiting
    async def wait(self, api: KubeAPI, run: SparkRun, startup_timeout: float,
                   on_error: Callable[[Exception, float], None] | None = None) -> SparkOutcome:
        """Wait until the application ends; fail it when the driver cannot start within startup_timeout."""
        loop = asyncio.get_running_loop()
        startup_deadline = loop.time() + max(0.0, run.started_at + startup_timeout - time.time())
        if run.launcher == "spark-operator":
            return await self._wait_spark_application(api, run, startup_deadline, on_error, startup_timeout)
        if run.launcher == "pod" and run.launcher_pod:
            outcome = await self._wait_launcher(api, run, startup_deadline, on_error)
            if outcome is not None:
                return outcome
        # Drivers created by spark-submit carry spark-role=driver, so a shared watch can leave other pods out; a
        # pod someone else named (an adopted run) may not, and shares the namespace's unfiltered pod watch.
        waited: Waited[SparkOutcome] = await wait_for_object(
            api, PODS, run.namespace, run.driver_pod, lambda pod: _driver_verdict(pod, run),
            deadline=lambda pod: startup_deadline if _not_started(pod) else None,
            on_deadline=lambda pod: _startup_timeout(pod, run), on_error=on_error,
            label_selector=None if run.adopted else "spark-role=driver")
        return await self._enrich(api, waited.verdict, waited.object)

    async def _wait_launcher(self, api: KubeAPI, run: SparkRun, startup_deadline: float,
                             on_error: Callable[[Exception, float], None] | None) -> SparkOutcome | None:
        """Wait for the launcher pod to hand over to the driver; an outcome when it failed instead."""
        assert run.launcher_pod

        def decide(pod: dict | None) -> SparkOutcome | str | None:
            if pod is None:
                return SparkOutcome("failed", "Deleted", f"launcher pod {run.namespace}/{run.launcher_pod} was "
                                    "deleted before the driver started", run)
            phase = (pod.get("status") or {}).get("phase")
            if phase == "Succeeded":
                return "handed-over"
            if phase == "Failed":
                code, reason, _ = _container_exit(pod, None)
                return SparkOutcome("failed", "LauncherFailed", f"launcher pod {run.namespace}/{run.launcher_pod} "
                                    f"failed (exit code {code}, {reason}) before the driver started", run,
                                    code, reason)
            return None

        waited = await wait_for_object(
            api, PODS, run.namespace, run.launcher_pod, decide,
            deadline=lambda pod: startup_deadline if _not_started(pod) else None,
            on_deadline=lambda pod: _startup_timeout(pod, run, launcher=True), on_error=on_error,
            label_selector=f"{ROLE}=launcher")
        if waited.verdict == "handed-over":
            return None
        outcome = waited.verdict
        assert isinstance(outcome, SparkOutcome)
        if outcome.state == "LauncherFailed":
            outcome.log_tail, _ = await self.read_log(api, run.namespace, run.launcher_pod,
                                                      tail_lines=LOG_TAIL_LINES)
            return outcome
        return await self._enrich(api, outcome, waited.object)

    async def _wait_spark_application(self, api: KubeAPI, run: SparkRun, startup_deadline: float,
                                      on_error: Callable[[Exception, float], None] | None,
                                      startup_timeout: float | None = None) -> SparkOutcome:
        assert run.application
        loop = asyncio.get_running_loop()
        startup: dict[str, Any] = {"deadline": startup_deadline, "starting": True, "submission": None}

        def deadline(cr: dict | None) -> float | None:
            # A rerun under the CR's restart policy (or a resubmission) starts a new driver, which gets its
            # own startup_timeout from the moment the application went back to a starting state (or from a
            # new submission, should the states in between have been missed).
            starting = _sparkapp_starting(cr)
            submission = ((cr or {}).get("status") or {}).get("submissionID")
            renewed = not startup["starting"] or (submission and startup["submission"]
                                                  and submission != startup["submission"])
            if starting and renewed and startup_timeout is not None:
                startup["deadline"] = loop.time() + startup_timeout
            startup["starting"] = starting
            startup["submission"] = submission or startup["submission"]
            return startup["deadline"] if starting else None

        waited = await wait_for_object(
            api, SPARK_APPLICATIONS, run.namespace, run.application, lambda cr: _sparkapp_verdict(cr, run),
            deadline=deadline,
            on_deadline=lambda cr: SparkOutcome("failed", "StartupTimeout", "", run), on_error=on_error)
        outcome = waited.verdict
        driver = await self.get(api, PODS, run.namespace, run.driver_pod)
        if outcome.state == "StartupTimeout":
            return await self._enrich(api, _startup_timeout(driver, run), driver)
        if outcome.status == "failed" and driver is not None:
            code, reason, _ = _container_exit(driver, DRIVER_CONTAINER)
            outcome.exit_code, outcome.reason = outcome.exit_code or code, outcome.reason or reason
        elif outcome.status == "failed" and ((waited.object or {}).get("status") or {}).get("driverInfo", {}).get(
                "podName"):
            # A driver was submitted and is gone (the controller only says "driver pod not found").
            outcome.message += f" (driver pod {run.namespace}/{run.driver_pod} was deleted)"
        return await self._enrich(api, outcome, driver)

    async def _enrich(self, api: KubeAPI, outcome: SparkOutcome, pod: dict | None) -> SparkOutcome:
        """Add what a person needs to act on a failure: warning Events and the driver's last log lines."""
        if outcome.status != "failed":
            return outcome
        name = (pod or {}).get("metadata", {}).get("name") or outcome.run.driver_pod
        if outcome.state == "StartupTimeout":
            warnings = [e.get("message", "") for e in await self.events_for(api, outcome.run.namespace, name)
                        if e.get("type") == "Warning"]
            # The kubelet follows a telling event ("Failed to pull image X: not found") with ones that only
            # repeat the waiting reason ("Error: ImagePullBackOff", "Back-off pulling image X"): prefer the
            # last event that says something the message does not already say.
            telling = [w for w in warnings if not re.fullmatch(r"Error: \w+", w) and w not in outcome.message]
            telling = telling or warnings
            if telling:
                outcome.message += f"; last warning event: {telling[-1]}"
        elif pod is not None:
            outcome.log_tail, _ = await self.read_log(api, outcome.run.namespace, name, tail_lines=LOG_TAIL_LINES,
                                                      container=_main_container(pod))
        return outcome


# ---------------------------------------------------------------------- verdicts (pure)
def _event_order(event: dict) -> tuple[str, int]:
    """Events in the order they happened: timestamps have whole seconds, so resourceVersion (in practice an
    increasing integer) orders events of the same second."""
    when = event.get("lastTimestamp") or event.get("eventTime") or ""
    version = str((event.get("metadata") or {}).get("resourceVersion") or "")
    return when[:19], int(version) if version.isdigit() else 0


def _try(meta: dict) -> int:
    try:
        return int((meta.get("labels") or {}).get("sparkk8s.io/try-number", "0"))
    except ValueError:
        return 0


def _main_container(pod: dict) -> str | None:
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    return DRIVER_CONTAINER if DRIVER_CONTAINER in names else (names[0] if names else None)


def _container_exit(pod: dict, container: str | None) -> tuple[int | None, str | None, str | None]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for cs in statuses:
        if container and cs.get("name") != container:
            continue
        term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
        if term:
            return term.get("exitCode"), term.get("reason"), term.get("message")
    return None, None, None


def _not_started(pod: dict | None) -> bool:
    return pod is None or (pod.get("status") or {}).get("phase", "Pending") == "Pending"


def _driver_verdict(pod: dict | None, run: SparkRun) -> SparkOutcome | None:
    if pod is None:
        return SparkOutcome("failed", "Deleted", f"driver pod {run.namespace}/{run.driver_pod} was deleted before "
                            "the application finished", run)
    labels = pod["metadata"].get("labels") or {}
    run.spark_app_id = labels.get("spark-app-selector") or run.spark_app_id
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return SparkOutcome("success", phase, f"driver pod {run.namespace}/{run.driver_pod} succeeded", run, 0)
    if phase == "Failed":
        code, reason, message = _container_exit(pod, _main_container(pod))
        detail = f"exit code {code}, reason {reason}" + (f": {message}" if message else "")
        return SparkOutcome("failed", phase, f"driver pod {run.namespace}/{run.driver_pod} failed ({detail})", run,
                            code, reason)
    return None


def _startup_timeout(pod: dict | None, run: SparkRun, launcher: bool = False) -> SparkOutcome:
    """Why a pod has not started: a container's waiting reason or the scheduler's condition."""
    what = f"launcher pod {run.namespace}/{run.launcher_pod}" if launcher else \
        f"driver pod {run.namespace}/{run.driver_pod}"
    if pod is None:
        return SparkOutcome("failed", "StartupTimeout", f"{what} was never created", run, reason="NotCreated")
    status = pod.get("status") or {}
    reason, message = "Pending", ""
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            reason, message = cond.get("reason") or "Unschedulable", cond.get("message") or ""
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") and waiting["reason"] != "ContainerCreating":
            reason, message = waiting["reason"], waiting.get("message") or ""
    text = f"{what} did not start in time: still Pending ({reason})" + (f": {message}" if message else "")
    return SparkOutcome("failed", "StartupTimeout", text, run, reason=reason)


def _sparkapp_starting(cr: dict | None) -> bool:
    if cr is None:
        return False
    return ((cr.get("status") or {}).get("applicationState") or {}).get("state", "") in STARTUP_STATES


def _sparkapp_retries_left(cr: dict) -> bool:
    policy = (cr.get("spec") or {}).get("restartPolicy") or {}
    if policy.get("type", "Never") == "Never":
        return False
    if policy.get("type") == "Always":
        return True
    attempts = (cr.get("status") or {}).get("submissionAttempts") or 0
    return attempts <= (policy.get("onSubmissionFailureRetries") or 0)


def _sparkapp_verdict(cr: dict | None, run: SparkRun) -> SparkOutcome | None:
    if cr is None:
        return SparkOutcome("failed", "Deleted", f"SparkApplication {run.namespace}/{run.application} was deleted "
                            "before it finished", run)
    status = cr.get("status") or {}
    state = (status.get("applicationState") or {}).get("state", "")
    run.spark_app_id = status.get("sparkApplicationId") or run.spark_app_id
    run.driver_pod = (status.get("driverInfo") or {}).get("podName") or run.driver_pod
    error = (status.get("applicationState") or {}).get("errorMessage") or ""
    if state in SPARKAPP_SUCCESS:
        return SparkOutcome("success", state, f"SparkApplication {run.namespace}/{run.application} completed", run, 0)
    if state in SPARKAPP_FAILED or (state == "SUBMISSION_FAILED" and not _sparkapp_retries_left(cr)):
        return SparkOutcome("failed", state, f"SparkApplication {run.namespace}/{run.application} ended in "
                            f"{state}" + (f": {error}" if error else ""), run)
    return None


@dataclass
class LogCursor:
    """Where a reader is in a log: the last timestamp seen and how many lines carried it (several lines can
    share one timestamp, so the timestamp alone would drop or repeat some)."""

    ts: str = ""
    count: int = 0
    seen: int = 0  # lines at `ts` met in the current pass over the log

    @classmethod
    def parse(cls, text: str | None) -> LogCursor:
        if not text:
            return cls()
        ts, _, count = text.rpartition("|")
        return cls(ts, int(count or 0))

    def __str__(self) -> str:
        return f"{self.ts}|{self.count}"

    def since_time(self) -> str | None:
        """Start of the next pass: sinceTime takes whole seconds, so a pass re-reads that second."""
        self.seen = 0
        return self.ts[:19] + "Z" if self.ts else None

    def advance(self, ts: str) -> bool:
        """True when a line with this timestamp is new (and counts it)."""
        if not ts:
            return True
        if ts > self.ts:
            self.ts, self.count, self.seen = ts, 1, 1
            return True
        if ts == self.ts:
            self.seen += 1
            if self.seen > self.count:
                self.count = self.seen
                return True
        return False


def _split_timestamps(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        ts, sep, rest = line.partition(" ")
        if sep and ts[:4].isdigit() and "T" in ts:
            out.append((ts, rest))
        else:
            out.append(("", line))
    return out


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


__all__ = ["LAUNCHERS", "LogCursor", "SparkK8sHook", "SparkOutcome", "SparkRun", "SparkSubmitError", "SparkTarget"]
