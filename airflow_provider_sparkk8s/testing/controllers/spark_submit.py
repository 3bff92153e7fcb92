"""Launcher pods: pods whose container runs Spark's spark-submit behave as spark-submit does inside a
cluster, in cluster mode.

A pod is a launcher when the basename of its first container's ``command[0]`` (of ``args[0]`` when it has
no command) is ``spark-submit``, e.g. ``command: ["/opt/spark/bin/spark-submit"]`` with args
``["--master", "k8s://https://kubernetes.default.svc", "--deploy-mode", "cluster", "--name", "pi",
"--conf", "spark.kubernetes.container.image=apache/spark:4.0.1", "local:///opt/.../pi.py", "100"]``.

When the launcher pod runs, its argv is parsed as spark-submit does (``--conf k=v`` / ``--conf=k=v``,
``--name``, ``--class``, ``--master``, ``--deploy-mode``, ``--jars``, ``--py-files``, ``--files``,
``--archives``, ``--packages``, ``--driver-memory``, ``--executor-memory``, ``--driver-cores``,
``--executor-cores``, ``--num-executors``, ...; ``--properties-file`` is accepted but not read; options win
over the same ``--conf``), then what Spark 4's Kubernetes submission client creates appears:

- the driver pod, named by ``spark.kubernetes.driver.pod.name`` or ``<app>-<16 hex>-driver``, labels
  ``spark-app-selector=spark-<32 hex>``, ``spark-app-name``, ``spark-role=driver``, ``spark-version`` and
  every ``spark.kubernetes.driver.label.X=V``; annotations from ``spark.kubernetes.driver.annotation.X=V``
  (so the pod simulator's ``emulator.sparkk8s.io/*`` annotations reach the driver); container
  ``spark-kubernetes-driver`` (image from ``spark.kubernetes.driver.container.image`` or
  ``spark.kubernetes.container.image``, args ``driver --properties-file /opt/spark/conf/spark.properties
  --class <main class> <resource> <app args>``), service account from
  ``spark.kubernetes.authenticate.driver.serviceAccountName``;
- then, each owned by the driver pod and written by server-side apply as fabric8 does: the headless
  ``<prefix>-driver-svc`` Service, the ``<prefix>-policy`` NetworkPolicy and the
  ``spark-drv-<16 hex>-conf-map`` ConfigMap whose ``spark.properties`` holds the effective conf
  (``spark.executor.instances`` among it when set, which the pod simulator reads for executor pods).

Like real spark-submit, the driver goes to ``spark.kubernetes.namespace``, which defaults to ``default``,
not to the launcher pod's own namespace: a launcher in another namespace must set it.

The launcher's log has spark-submit's lines (``INFO Client: Deployed Spark application <name> with
application ID spark-... and submission ID <ns>:<driver pod> into Kubernetes``). With
``spark.kubernetes.submission.waitAppCompletion=false`` the launcher succeeds right after submitting; with
``true`` (Spark's default) it reports the driver's state until the driver pod ends (or is deleted) and then
exits 0, even when the driver failed, as spark-submit 4 does.

Errors a real spark-submit hits fail the launcher with exit code 1 and the exception in its log: no
container image (``Must specify the driver container image``), a master that is not ``k8s://``, no primary
resource, a JAR without ``--class``, and any API error such as a driver pod of the same name that already
exists (409 AlreadyExists, logged as fabric8's KubernetesClientException; no second driver is created).
In client mode the application runs inside the launcher itself (no pods are created) for the pod's
run-seconds.

The launcher pod's explicit outcome annotation (or a ``behave`` rule with an outcome) still wins: e.g.
``outcome=imagepullbackoff`` means spark-submit never starts. ``submit`` is also what the simulated spark
operator uses to launch its drivers.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .. import errors
from .base import ApiClient
from .pod_behaviour import PodBehaviour

SPARK_VERSION = "4.0.1"
DRIVER_CONTAINER = "spark-kubernetes-driver"
PROPERTIES_FILE = "/opt/spark/conf/spark.properties"
PYTHON_RUNNER = "org.apache.spark.deploy.PythonRunner"
R_RUNNER = "org.apache.spark.deploy.RRunner"

# spark-submit's options that take a value, and the conf key each one sets (None: no conf key).
_VALUE_OPTIONS: dict[str, str | None] = {
    "--master": "spark.master", "--deploy-mode": "spark.submit.deployMode", "--class": None,
    "--name": "spark.app.name", "--jars": "spark.jars", "--packages": "spark.jars.packages",
    "--exclude-packages": "spark.jars.excludes", "--repositories": "spark.jars.repositories",
    "--py-files": "spark.submit.pyFiles", "--files": "spark.files", "--archives": "spark.archives",
    "--conf": None, "-c": None, "--properties-file": None,
    "--driver-memory": "spark.driver.memory", "--driver-java-options": "spark.driver.extraJavaOptions",
    "--driver-library-path": "spark.driver.extraLibraryPath",
    "--driver-class-path": "spark.driver.extraClassPath", "--executor-memory": "spark.executor.memory",
    "--proxy-user": None, "--driver-cores": "spark.driver.cores",
    "--total-executor-cores": "spark.cores.max", "--executor-cores": "spark.executor.cores",
    "--queue": "spark.yarn.queue", "--num-executors": "spark.executor.instances",
    "--principal": "spark.kerberos.principal", "--keytab": "spark.kerberos.keytab",
    "--kill": None, "--status": None, "--remote": None,
}
_SWITCHES = ("--verbose", "-v", "--supervise", "--load-spark-defaults")


class SparkSubmitError(Exception):
    """What makes spark-submit exit 1; `text` is what it prints."""

    def __init__(self, message: str, text: str | None = None) -> None:
        super().__init__(message)
        self.text = text or f'Exception in thread "main" org.apache.spark.SparkException: {message}'


@dataclass
class SparkSubmitArgs:
    """A spark-submit command line, resolved as SparkSubmitArguments does."""

    master: str = "local[*]"
    deploy_mode: str = "client"
    name: str | None = None
    main_class: str | None = None
    resource: str | None = None
    app_args: list[str] = field(default_factory=list)
    conf: dict[str, str] = field(default_factory=dict)

    @property
    def is_python(self) -> bool:
        return bool(self.resource) and self.resource.endswith(".py")  # type: ignore[union-attr]

    @property
    def is_r(self) -> bool:
        return bool(self.resource) and self.resource.lower().endswith(".r")  # type: ignore[union-attr]


def is_spark_submit(pod: dict) -> bool:
    container = ((pod.get("spec") or {}).get("containers") or [{}])[0]
    argv = list(container.get("command") or []) or list(container.get("args") or [])
    return bool(argv) and os.path.basename(str(argv[0])) == "spark-submit"


def launcher_argv(pod: dict) -> list[str]:
    """spark-submit's own arguments (argv without the program) from the pod's first container."""
    container = pod["spec"]["containers"][0]
    command, args = list(container.get("command") or []), list(container.get("args") or [])
    return [str(a) for a in (command[1:] + args if command else args[1:])]


def parse_spark_submit(argv: list[str]) -> SparkSubmitArgs:
    """Parse spark-submit's arguments; raises SparkSubmitError where spark-submit would exit 1."""
    parsed = SparkSubmitArgs()
    options: dict[str, str] = {}
    conf: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        opt, eq, inline = arg.partition("=")
        if arg.startswith("-") and opt in _VALUE_OPTIONS:
            if eq:
                value = inline
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                raise SparkSubmitError(f"Missing argument for option '{opt}'.")
            if opt in ("--conf", "-c"):
                key, sep, conf_value = value.partition("=")
                if not sep:
                    raise SparkSubmitError(f"Spark config without '=': {value}")
                conf[key] = conf_value
            elif opt == "--class":
                parsed.main_class = value
            elif opt not in ("--properties-file", "--proxy-user"):  # a file in the launcher image: not read
                options[opt] = value
            i += 1
            continue
        if arg in _SWITCHES:
            i += 1
            continue
        if arg.startswith("-") and arg != "-":
            raise SparkSubmitError(f"Unrecognized option '{arg}'.")
        parsed.resource, parsed.app_args = arg, argv[i + 1:]
        break
    for opt, value in options.items():
        conf_key = _VALUE_OPTIONS[opt]
        if conf_key:
            conf[conf_key] = value  # an explicit option wins over --conf, as in SparkSubmitArguments
    parsed.conf = conf
    parsed.master = conf.get("spark.master", parsed.master)
    parsed.deploy_mode = conf.get("spark.submit.deployMode", parsed.deploy_mode)
    if "--kill" in options or "--status" in options:
        raise SparkSubmitError("--kill and --status are not supported by launcher pods of this emulator.")
    if parsed.resource is None:
        raise SparkSubmitError("Must specify a primary resource (JAR or Python or R file)")
    if parsed.main_class is None and not parsed.is_python and not parsed.is_r:
        scheme = parsed.resource.partition("://")[0] if "://" in parsed.resource else "file"
        raise SparkSubmitError(f"Cannot load main class from JAR {parsed.resource} with URI {scheme}. Please "
                               "specify a class through --class.")
    parsed.name = conf.get("spark.app.name") or parsed.main_class or os.path.basename(parsed.resource)
    master = parsed.master
    if master.startswith("yarn"):
        raise SparkSubmitError(f"When running with master '{master}' either HADOOP_CONF_DIR or YARN_CONF_DIR "
                               "must be set in the environment.")
    if not master.startswith(("k8s://", "local", "spark://")):
        raise SparkSubmitError("Master must either be yarn or start with spark, k8s, or local")
    if parsed.deploy_mode not in ("client", "cluster"):
        raise SparkSubmitError("Deploy mode must be either client or cluster")
    if parsed.deploy_mode == "cluster" and master.startswith("local"):
        raise SparkSubmitError(f'Cluster deploy mode is not compatible with master "{master}"')
    if parsed.deploy_mode == "cluster" and master.startswith("spark://"):
        # Standalone cluster mode asks a Spark master that does not exist in this cluster.
        raise SparkSubmitError(f"All masters are unresponsive! Giving up. ({master})",
                               f"ERROR ClientEndpoint: All masters are unresponsive! Giving up. ({master})")
    return parsed


# ---------------------------------------------------------------------------------------------- submission
@dataclass
class SubmittedDriver:
    namespace: str
    pod_name: str
    app_id: str
    pod: dict

    @property
    def submission_id(self) -> str:
        return f"{self.namespace}:{self.pod_name}"


def log_line(level: str, logger: str, message: str) -> str:
    """A line in Spark's default log4j2 layout."""
    return f"{datetime.now(timezone.utc).strftime('%y/%m/%d %H:%M:%S')} {level} {logger}: {message}"


def unique_id() -> str:
    # KubernetesUtils.uniqueID: 3 random bytes and the low 40 bits of the clock in milliseconds, in hex.
    return secrets.token_hex(3) + format(int(time.time() * 1000) & 0xFFFFFFFFFF, "010x")


def app_name_label(name: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", name.strip().lower()))[:63].strip("-") or "spark"


def resource_name_prefix(name: str) -> str:
    prefix = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", f"{name}-{unique_id()}".strip().lower())).lstrip("-")
    return re.sub(r"^[0-9]", "x", prefix)


def memory_mib(text: str, default: int = 1024) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([kmgtp]?)b?\s*", (text or "").lower())
    if not m:
        return default
    value, unit = int(m.group(1)), m.group(2) or "m"
    return {"k": value // 1024, "m": value, "g": value * 1024, "t": value * 1024 ** 2, "p": value * 1024 ** 3}[unit]


def _properties(conf: dict[str, str], cm_name: str) -> str:
    def escape(text: str, key: bool) -> str:
        out = []
        for i, ch in enumerate(text):
            if ch in "\\=:#!" or (ch == " " and (key or i == 0)):
                out.append("\\" + ch)
            elif ch == "\n":
                out.append("\\n")
            elif ord(ch) > 126:
                out.append(f"\\u{ord(ch):04X}")
            else:
                out.append(ch)
        return "".join(out)

    stamp = datetime.now(timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
    lines = [f"#Java properties built from Kubernetes config map with name: {cm_name}", f"#{stamp}"]
    lines += [f"{escape(k, True)}={escape(v, False)}" for k, v in conf.items()]
    return "\n".join(lines) + "\n"


def _prefixed(conf: dict[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix):]: v for k, v in conf.items() if k.startswith(prefix) and len(k) > len(prefix)}


def submit(api: ApiClient, args: SparkSubmitArgs, log: Callable[[str], None] = lambda _: None, *,
           driver_owner_references: list[dict] | None = None) -> SubmittedDriver:
    """Do what Spark 4's KubernetesClientApplication does in cluster mode; raises SparkSubmitError.

    `driver_owner_references` are added to the driver pod as an admission webhook would (the spark
    operator's webhook makes its SparkApplication own the driver).
    """
    conf = dict(args.conf)
    image = conf.get("spark.kubernetes.driver.container.image") or conf.get("spark.kubernetes.container.image")
    log(log_line("INFO", "SparkKubernetesClientFactory",
                 "Auto-configuring K8S client using current context from users K8S config file"))
    if not image:
        raise SparkSubmitError("Must specify the driver container image")
    namespace = conf.get("spark.kubernetes.namespace") or "default"
    name = args.name or "spark"
    app_id = "spark-" + uuid.uuid4().hex
    prefix = resource_name_prefix(name)
    pod_name = conf.get("spark.kubernetes.driver.pod.name") or f"{prefix}-driver"
    service_name = f"{prefix}-driver-svc" if len(f"{prefix}-driver-svc") <= 63 else f"spark-{unique_id()}-driver-svc"
    cm_name = f"spark-drv-{unique_id()}-conf-map"
    resource_type = "python" if args.is_python else "r" if args.is_r else "java"
    main_class = PYTHON_RUNNER if args.is_python else R_RUNNER if args.is_r else args.main_class

    labels = {"spark-app-name": app_name_label(name), "spark-version": SPARK_VERSION, "spark-role": "driver",
              "spark-app-selector": app_id, **_prefixed(conf, "spark.kubernetes.driver.label.")}
    annotations = _prefixed(conf, "spark.kubernetes.driver.annotation.")

    # The conf the driver reads from its conf map: what was given, plus what the client derives.
    effective = dict(conf)
    if resource_type == "java":
        effective["spark.jars"] = ",".join(x for x in (conf.get("spark.jars"), args.resource) if x)
    effective.setdefault("spark.submit.pyFiles", "")
    factor = float(conf.get("spark.driver.memoryOverheadFactor")
                   or conf.get("spark.kubernetes.memoryOverheadFactor") or (0.1 if resource_type == "java" else 0.4))
    effective.update({
        "spark.master": args.master, "spark.app.name": name, "spark.submit.deployMode": "cluster",
        "spark.kubernetes.resource.type": resource_type, "spark.app.id": app_id,
        "spark.app.submitTime": str(int(time.time() * 1000)), "spark.kubernetes.submitInDriver": "true",
        "spark.kubernetes.driver.pod.name": pod_name, "spark.kubernetes.memoryOverheadFactor": str(factor),
        "spark.driver.host": f"{service_name}.{namespace}.svc",
        "spark.driver.port": conf.get("spark.driver.port", "7078"),
        "spark.driver.blockManager.port": conf.get("spark.driver.blockManager.port", "7079"),
    })
    driver_mib = memory_mib(conf.get("spark.driver.memory", "1g"))
    overhead = (memory_mib(conf["spark.driver.memoryOverhead"]) if conf.get("spark.driver.memoryOverhead")
                else max(384, int(factor * driver_mib)))
    memory = f"{driver_mib + overhead}Mi"
    cpu = conf.get("spark.kubernetes.driver.request.cores") or conf.get("spark.driver.cores", "1")
    limits: dict[str, str] = {"memory": memory}
    if conf.get("spark.kubernetes.driver.limit.cores"):
        limits["cpu"] = conf["spark.kubernetes.driver.limit.cores"]
    local_dir = f"/var/data/spark-{uuid.uuid4()}"
    env = [{"name": "SPARK_USER", "value": "spark"}, {"name": "SPARK_APPLICATION_ID", "value": app_id},
           {"name": "SPARK_DRIVER_BIND_ADDRESS",
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
           {"name": "SPARK_LOCAL_DIRS", "value": local_dir}, {"name": "SPARK_CONF_DIR", "value": "/opt/spark/conf"}]
    env += [{"name": k, "value": v} for k, v in _prefixed(conf, "spark.kubernetes.driverEnv.").items()]
    ports = [("driver-rpc-port", int(effective["spark.driver.port"])),
             ("blockmanager", int(effective["spark.driver.blockManager.port"])),
             ("spark-ui", int(conf.get("spark.ui.port", "4040"))), ("spark-connect", 15002)]
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [{
            "name": DRIVER_CONTAINER, "image": image,
            "imagePullPolicy": conf.get("spark.kubernetes.container.image.pullPolicy", "IfNotPresent"),
            "args": ["driver", "--properties-file", PROPERTIES_FILE,
                     *(["--class", main_class] if main_class else []), args.resource, *args.app_args],
            "env": env,
            "ports": [{"containerPort": port, "name": pname, "protocol": "TCP"} for pname, port in ports],
            "resources": {"limits": limits, "requests": {"cpu": cpu, "memory": memory}},
            "securityContext": {"allowPrivilegeEscalation": False},
            "volumeMounts": [{"mountPath": local_dir, "name": "spark-local-dir-1"},
                             {"mountPath": "/opt/spark/conf", "name": "spark-conf-volume-driver"}],
        }],
        "volumes": [{"name": "spark-local-dir-1", "emptyDir": {}},
                    {"name": "spark-conf-volume-driver",
                     "configMap": {"name": cm_name, "items": [{"key": "spark.properties", "mode": 420,
                                                               "path": "spark.properties"}]}}],
    }
    account = conf.get("spark.kubernetes.authenticate.driver.serviceAccountName")
    if account:
        spec["serviceAccount"] = spec["serviceAccountName"] = account
    selector = {**_prefixed(conf, "spark.kubernetes.node.selector."),
                **_prefixed(conf, "spark.kubernetes.driver.node.selector.")}
    if selector:
        spec["nodeSelector"] = selector
    pull_secrets = [s.strip() for s in conf.get("spark.kubernetes.container.image.pullSecrets", "").split(",")
                    if s.strip()]
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in pull_secrets]
    metadata: dict[str, Any] = {"name": pod_name, "labels": labels}
    if annotations:
        metadata["annotations"] = annotations
    if driver_owner_references:
        metadata["ownerReferences"] = driver_owner_references

    base = args.master[len("k8s://"):] if args.master.startswith("k8s://") else args.master
    try:
        pod = api.create({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}, namespace)
    except errors.ApiError as exc:
        log(log_line("ERROR", "Client", 'Please check "kubectl auth can-i create pod" first. It should be yes.'))
        raise SparkSubmitError(str(exc), _client_exception("POST", f"{base}/api/v1/namespaces/{namespace}/pods",
                                                           exc)) from exc
    owner = [{"apiVersion": "v1", "kind": "Pod", "controller": True, "name": pod_name,
              "uid": pod["metadata"]["uid"]}]
    owned: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
        ("", "v1", "services", "Service", service_name, {
            "metadata": {"name": service_name, "labels": {"spark-app-selector": app_id}, "ownerReferences": owner},
            "spec": {"clusterIP": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "ports": [{"name": pname, "port": port, "targetPort": port,
                                **({"appProtocol": "grpc"} if pname == "spark-connect" else {})}
                               for pname, port in ports],
                     "publishNotReadyAddresses": False, "selector": labels}}),
        ("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", f"{prefix}-policy", {
            "metadata": {"name": f"{prefix}-policy", "labels": {"spark-app-selector": app_id},
                         "ownerReferences": owner},
            "spec": {"ingress": [{"from": [{"podSelector": {"matchLabels": {"spark-app-selector": app_id}}}]}],
                     "podSelector": {"matchLabels": {"spark-role": "executor", "spark-app-selector": app_id}}}}),
        ("", "v1", "configmaps", "ConfigMap", cm_name, {
            "metadata": {"name": cm_name, "ownerReferences": owner},
            "data": {"spark.properties": _properties(effective, cm_name), "spark.kubernetes.namespace": namespace},
            "immutable": True}),
    ]
    for group, version, plural, kind, obj_name, body in owned:
        api_version = f"{group}/{version}" if group else version
        body = {"apiVersion": api_version, "kind": kind, **body}
        body["metadata"]["namespace"] = namespace
        try:
            api.patch(api_version, kind, namespace, obj_name, body, "apply", field_manager="fabric8", force=True)
        except errors.ApiError as exc:
            # The client deletes the driver it created when the rest of the submission fails.
            try:
                api.delete("v1", "Pod", namespace, pod_name, "Background")
            except errors.ApiError:
                pass
            path = f"{base}/{'apis/' + group if group else 'api'}/{version}/namespaces/{namespace}/{plural}/{obj_name}"
            raise SparkSubmitError(str(exc), _client_exception("PATCH", path, exc)) from exc
    return SubmittedDriver(namespace, pod_name, app_id, pod)


def _client_exception(method: str, url: str, exc: errors.ApiError) -> str:
    """fabric8's rendering of a failed API call, as spark-submit prints it."""
    details = exc.details or {}
    status = (f"Status(apiVersion=v1, code={exc.code}, details=StatusDetails(causes=[], group="
              f"{details.get('group') or 'null'}, kind={details.get('kind') or 'null'}, name="
              f"{details.get('name') or 'null'}, retryAfterSeconds=null, uid=null, additionalProperties={{}}), "
              f"kind=Status, message={exc.message}, metadata=ListMeta(_continue=null, remainingItemCount=null, "
              f"resourceVersion=null, selfLink=null, additionalProperties={{}}), reason={exc.reason}, "
              f"status=Failure, additionalProperties={{}})")
    return (f'Exception in thread "main" io.fabric8.kubernetes.client.KubernetesClientException: Failure '
            f"executing: {method} at: {url}. Message: {exc.message}. Received status: {status}.")


# ---------------------------------------------------------------------------------------------- launcher pods
class SparkSubmitProgram:
    """The container program of launcher pods (see the module docstring): register it with the kubelet's
    ContainerPrograms."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def claims(self, pod: dict) -> bool:
        return is_spark_submit(pod)

    async def run(self, pod: dict, log: Callable[[str], None], behaviour: PodBehaviour) -> int | None:
        try:
            args = parse_spark_submit(launcher_argv(pod))
        except SparkSubmitError as exc:
            log(exc.text)
            return 1
        if args.deploy_mode == "client":
            return await self._client_mode(pod, args, log, behaviour)
        if args.master.startswith("k8s://http://"):
            log(log_line("WARN", "Utils", "Kubernetes master URL uses HTTP instead of HTTPS."))
        try:
            driver = submit(self.api, args, log)
        except SparkSubmitError as exc:
            log(exc.text)
            return 1
        log(log_line("INFO", "KerberosConfDriverFeatureStep", "You have not specified a krb5.conf file locally "
                     "or via a ConfigMap. Make sure that you have the krb5.conf locally on the driver image."))
        if args.conf.get("spark.kubernetes.submission.waitAppCompletion", "true").strip().lower() == "false":
            log(log_line("INFO", "Client", f"Deployed Spark application {args.name} with application ID "
                                           f"{driver.app_id} and submission ID {driver.submission_id} into Kubernetes"))
            return 0
        return await self._wait(pod, args, driver, log)

    def _alive(self, pod: dict) -> bool:
        """The launcher still runs: its pod exists and is not being deleted (SIGTERM)."""
        current = self.api.get("v1", "Pod", pod["metadata"].get("namespace"), pod["metadata"]["name"])
        return (current is not None and current["metadata"]["uid"] == pod["metadata"]["uid"]
                and not current["metadata"].get("deletionTimestamp"))

    async def _client_mode(self, pod: dict, args: SparkSubmitArgs, log: Callable[[str], None],
                           behaviour: PodBehaviour) -> int | None:
        # The driver is the launcher process itself: the application runs here for the pod's run time.
        log(log_line("INFO", "SparkContext", f"Running Spark version {SPARK_VERSION}"))
        log(log_line("INFO", "SparkContext", f"Submitted application: {args.name}"))
        loop = asyncio.get_running_loop()
        end = loop.time() + float(behaviour.run_seconds or 0)
        while loop.time() < end:
            await asyncio.sleep(min(0.05, end - loop.time()))
            if not self._alive(pod):
                return None
        log(log_line("INFO", "SparkContext", "Successfully stopped SparkContext"))
        return 0

    async def _wait(self, launcher: dict, args: SparkSubmitArgs, driver: SubmittedDriver,
                    log: Callable[[str], None]) -> int | None:
        """LoggingPodStatusWatcherImpl: report the driver until it ends or goes away; spark-submit exits 0."""
        interval = _seconds(args.conf.get("spark.kubernetes.report.interval", "1s"))
        watcher = "LoggingPodStatusWatcherImpl"
        last_seen: dict = driver.pod
        last_state: Any = None
        waiting_logged = False
        loop = asyncio.get_running_loop()
        next_report = loop.time() + interval
        while True:
            if not self._alive(launcher):
                return None
            pod = self.api.get("v1", "Pod", driver.namespace, driver.pod_name)
            if pod is None or pod["metadata"]["uid"] != driver.pod["metadata"]["uid"]:
                break  # deleted: the watch closes and spark-submit reports what it saw last
            last_seen = pod
            phase = (pod.get("status") or {}).get("phase", "Pending")
            state = (phase, [cs.get("state") for cs in (pod.get("status") or {}).get("containerStatuses") or []],
                     pod["spec"].get("nodeName"))
            if state != last_state:
                last_state = state
                log(log_line("INFO", watcher, f"State changed, new state: \n{_describe_pod(pod)}"))
            if phase in ("Succeeded", "Failed"):
                log(log_line("INFO", watcher, f"Application status for {driver.app_id} (phase: {phase})"))
                break
            if not waiting_logged:
                waiting_logged = True
                log(log_line("INFO", watcher, f"Waiting for application {args.name} with application ID "
                                              f"{driver.app_id} and submission ID {driver.submission_id} to finish..."))
            if loop.time() >= next_report:
                next_report = loop.time() + interval
                log(log_line("INFO", watcher, f"Application status for {driver.app_id} (phase: {phase})"))
            await asyncio.sleep(0.05)
        statuses = _describe_containers(last_seen)
        log(log_line("INFO", watcher, f"Container final statuses:\n\n{statuses}" if statuses
                     else "No containers were found in the driver pod."))
        log(log_line("INFO", watcher, f"Application {args.name} with application ID {driver.app_id} and "
                                      f"submission ID {driver.submission_id} finished"))
        return 0


def _seconds(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*", text or "")
    if not m:
        return 1.0
    scale = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600}.get(m.group(2) or "ms", 1)
    return max(0.05, float(m.group(1)) * scale)


def _describe_containers(pod: dict) -> str:
    out = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        state = cs.get("state") or {}
        lines = [f"container name: {cs.get('name')}", f"container image: {cs.get('image')}"]
        if "running" in state:
            lines += ["container state: running", f"container started at: {state['running'].get('startedAt')}"]
        elif "terminated" in state:
            t = state["terminated"]
            lines += ["container state: terminated", f"container started at: {t.get('startedAt')}",
                      f"container finished at: {t.get('finishedAt')}", f"exit code: {t.get('exitCode')}",
                      f"termination reason: {t.get('reason')}"]
        else:
            lines += ["container state: waiting",
                      f"pending reason: {(state.get('waiting') or {}).get('reason', 'ContainerCreating')}"]
        out.append("\n".join("\t " + line for line in lines))
    return "\n\n".join(out)


def _describe_pod(pod: dict) -> str:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    labels = ", ".join(f"{k} -> {v}" for k, v in (meta.get("labels") or {}).items())
    lines = [f"pod name: {meta['name']}", f"namespace: {meta.get('namespace')}", f"labels: {labels}",
             f"pod uid: {meta.get('uid')}", f"creation time: {meta.get('creationTimestamp')}",
             f"service account name: {spec.get('serviceAccountName', 'default')}",
             f"volumes: {', '.join(v['name'] for v in spec.get('volumes') or [])}",
             f"node name: {spec.get('nodeName') or 'N/A'}", f"start time: {status.get('startTime') or 'N/A'}",
             f"phase: {status.get('phase', 'Pending')}", "container status: "]
    containers = _describe_containers(pod).replace("\t ", "\t\t ")
    return "\n".join("\t " + line for line in lines) + ("\n" + containers if containers else "\n\t\t N/A")
