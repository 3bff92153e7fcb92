"""One Spark application description that renders for every launcher: spark-submit arguments (from the
worker or from a launcher pod) and a spark-operator SparkApplication. Pure: no I/O, no heavy imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

IN_CLUSTER_MASTER = "k8s://https://kubernetes.default.svc"
POD_TEMPLATE_CONF = {"driver": "spark.kubernetes.driver.podTemplateFile",
                     "executor": "spark.kubernetes.executor.podTemplateFile"}
SPARK_SUBMIT_IN_IMAGE = "/opt/spark/bin/spark-submit"
_SECRETISH = re.compile(r"(password|passwd|secret|token|credential|private[._-]?key|access[._-]?key)", re.I)
_VOLUME_TYPES = ("hostPath", "emptyDir", "persistentVolumeClaim", "nfs")


def looks_secret(key: str) -> bool:
    return bool(_SECRETISH.search(key))


def app_type(application: str) -> str:
    """The SparkApplication `type`: a .py application is PySpark, .R is R, anything else runs on the JVM."""
    path = application.split("?", 1)[0].lower()
    if path.endswith(".py"):
        return "Python"
    if path.endswith(".r"):
        return "R"
    return "Scala"


def properties_text(conf: dict[str, str]) -> str:
    """A Java .properties file as `spark-submit --properties-file` reads it (UTF-8), escaped so any value
    survives: separators, comments, backslashes, line breaks and leading spaces."""

    def esc(text: str, is_key: bool) -> str:
        out = []
        for i, ch in enumerate(text):
            if ch == "\\":
                out.append("\\\\")
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif ch in "=:#!" or (ch == " " and (is_key or i == 0)):
                out.append("\\" + ch)
            elif ord(ch) < 32:
                out.append(f"\\u{ord(ch):04x}")
            else:
                out.append(ch)
        return "".join(out)

    return "".join(f"{esc(k, True)}={esc(v, False)}\n" for k, v in sorted(conf.items()))


@dataclass
class SparkApp:
    """What to run. Validated on construction so a bad argument fails before anything is created."""

    application: str
    name: str = "spark-app"
    main_class: str | None = None
    application_args: list[str] = field(default_factory=list)
    image: str | None = None
    image_pull_policy: str | None = None
    image_pull_secrets: list[str] = field(default_factory=list)
    service_account_name: str | None = None
    conf: dict[str, str] = field(default_factory=dict)
    jars: list[str] = field(default_factory=list)
    py_files: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    archives: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    driver_cores: float | None = None
    driver_memory: str | None = None
    executor_cores: int | None = None
    executor_memory: str | None = None
    executor_instances: int | None = None
    dynamic_allocation: dict[str, Any] | None = None  # {"enabled": True, "minExecutors": 1, "maxExecutors": 5}
    env_vars: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)  # Kubernetes Volume objects
    volume_mounts: list[dict[str, Any]] = field(default_factory=list)  # mounted in driver and executors
    driver_pod_template: dict[str, Any] | None = None  # a Pod manifest Spark starts the driver pod from
    executor_pod_template: dict[str, Any] | None = None
    spark_version: str = "4.0.1"

    def __post_init__(self) -> None:
        if not isinstance(self.application, str) or not self.application.strip():
            raise ValueError("application: a path or URL of the application (jar, .py, local://, s3a://, "
                             "https://...) is required")
        if not isinstance(self.application_args, (list, tuple)):
            raise TypeError(f"application_args: expected a list of strings, got {type(self.application_args).__name__}")
        self.application_args = [str(a) for a in self.application_args]
        if not isinstance(self.conf, dict):
            raise TypeError(f"conf: expected a dict of Spark properties, got {type(self.conf).__name__}")
        for key in self.conf:
            if not isinstance(key, str) or not key or any(c.isspace() for c in key):
                raise ValueError(f"conf: invalid Spark property name {key!r}")
        try:
            self.conf = {k: _conf_value(v) for k, v in self.conf.items()}
        except TypeError as exc:
            raise TypeError(f"conf: {exc}") from None
        for arg in ("jars", "py_files", "files", "archives", "packages", "image_pull_secrets"):
            value = getattr(self, arg)
            if isinstance(value, str):
                value = [v for v in value.split(",") if v]
            setattr(self, arg, list(value))
        if self.image_pull_policy not in (None, "Always", "IfNotPresent", "Never"):
            raise ValueError(f"image_pull_policy: expected Always, IfNotPresent or Never, not "
                             f"{self.image_pull_policy!r}")
        for arg in ("executor_instances", "executor_cores"):
            value = getattr(self, arg)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{arg}: expected a non-negative integer, not {value!r}")
        for mount in self.volume_mounts:
            if not {"name", "mountPath"} <= set(mount):
                raise ValueError(f"volume_mounts: each mount needs name and mountPath, got {mount!r}")
        declared = {v["name"] for v in self.volumes if v.get("name")}
        for mount in self.volume_mounts:
            if mount["name"] not in declared:
                raise ValueError(f"volume_mounts: {mount['name']!r} is not one of volumes {sorted(declared)}")
        for arg in ("driver_pod_template", "executor_pod_template"):
            template = getattr(self, arg)
            if template is not None and (not isinstance(template, dict) or template.get("kind", "Pod") != "Pod"):
                raise ValueError(f"{arg}: expected a Pod manifest (a mapping with kind: Pod), got {template!r:.80}")
        for vol in self.volumes:
            if not any(t in vol for t in _VOLUME_TYPES):
                raise ValueError(f"volumes: {vol.get('name')!r} must be one of {', '.join(_VOLUME_TYPES)} (what "
                                 "Spark on Kubernetes can mount)")

    @property
    def type(self) -> str:
        return app_type(self.application)

    def pod_templates(self) -> dict[str, dict[str, Any]]:
        """{"driver": ..., "executor": ...} for the templates that are set."""
        return {role: t for role, t in (("driver", self.driver_pod_template),
                                        ("executor", self.executor_pod_template)) if t}

    # ------------------------------------------------------------------ Spark properties
    def spark_conf(self, namespace: str) -> dict[str, str]:
        """Every setting as a Spark property (for spark-submit); explicit `conf` entries win."""
        c: dict[str, str] = {"spark.kubernetes.namespace": namespace}
        if self.image:
            c["spark.kubernetes.container.image"] = self.image
        if self.image_pull_policy:
            c["spark.kubernetes.container.image.pullPolicy"] = self.image_pull_policy
        if self.image_pull_secrets:
            c["spark.kubernetes.container.image.pullSecrets"] = ",".join(self.image_pull_secrets)
        if self.service_account_name:
            c["spark.kubernetes.authenticate.driver.serviceAccountName"] = self.service_account_name
        for key, value in (("spark.driver.cores", self.driver_cores), ("spark.driver.memory", self.driver_memory),
                           ("spark.executor.cores", self.executor_cores),
                           ("spark.executor.memory", self.executor_memory),
                           ("spark.executor.instances", self.executor_instances)):
            if value is not None:
                c[key] = _conf_value(value)
        if self.dynamic_allocation:
            da = self.dynamic_allocation
            c["spark.dynamicAllocation.enabled"] = _conf_value(da.get("enabled", True))
            c["spark.dynamicAllocation.shuffleTracking.enabled"] = _conf_value(da.get("shuffleTrackingEnabled", True))
            for src, dst in (("minExecutors", "minExecutors"), ("maxExecutors", "maxExecutors"),
                             ("initialExecutors", "initialExecutors")):
                if src in da:
                    c[f"spark.dynamicAllocation.{dst}"] = _conf_value(da[src])
        for role in ("driver", "executor"):
            for key, value in self.labels.items():
                c[f"spark.kubernetes.{role}.label.{key}"] = value
            for key, value in self.annotations.items():
                c[f"spark.kubernetes.{role}.annotation.{key}"] = value
            for vol in self.volumes:
                mount = next((m for m in self.volume_mounts if m["name"] == vol["name"]), None)
                if mount is None:
                    continue
                c.update(_volume_conf(role, vol, mount))
        for key, value in self.env_vars.items():
            c[f"spark.kubernetes.driverEnv.{key}"] = value
            c[f"spark.executorEnv.{key}"] = value
        if self.node_selector:
            for key, value in self.node_selector.items():
                c[f"spark.kubernetes.node.selector.{key}"] = value
        c.update(self.conf)
        return c

    def submit_args(self, master: str, properties_file: str | None = None, conf: dict[str, str] | None = None
                    ) -> list[str]:
        """spark-submit's argv in cluster mode. Properties go in `properties_file` when given (so no value
        shows in the process list), else as --conf pairs."""
        args = ["--master", master, "--deploy-mode", "cluster", "--name", self.name]
        if self.main_class:
            args += ["--class", self.main_class]
        if properties_file:
            args += ["--properties-file", properties_file]
        else:
            for key, value in sorted((conf or {}).items()):
                args += ["--conf", f"{key}={value}"]
        for flag, values in (("--jars", self.jars), ("--py-files", self.py_files), ("--files", self.files),
                             ("--archives", self.archives), ("--packages", self.packages)):
            if values:
                args += [flag, ",".join(values)]
        return [*args, self.application, *self.application_args]

    # ------------------------------------------------------------------ spark-operator
    def spark_application(self, name: str, namespace: str, labels: dict[str, str], annotations: dict[str, str],
                          driver_labels: dict[str, str], restart_policy: dict[str, Any] | None = None) -> dict:
        """A sparkoperator.k8s.io/v1beta2 SparkApplication for the same application."""
        conf = dict(self.conf)
        if self.dynamic_allocation is None:
            dynamic = None
        else:
            dynamic = {"enabled": bool(self.dynamic_allocation.get("enabled", True)),
                       **{k: v for k, v in self.dynamic_allocation.items() if k != "enabled"}}
        env = [{"name": k, "value": v} for k, v in self.env_vars.items()]

        def role(extra_labels: dict[str, str], cores: Any, memory: str | None) -> dict:
            spec: dict[str, Any] = {"labels": {**self.labels, **extra_labels}}
            if self.annotations:
                spec["annotations"] = dict(self.annotations)
            if cores is not None:
                spec["cores"] = int(cores) if float(cores).is_integer() else cores
            if memory:
                spec["memory"] = memory
            if env:
                spec["env"] = env
            if self.node_selector:
                spec["nodeSelector"] = dict(self.node_selector)
            if self.tolerations:
                spec["tolerations"] = list(self.tolerations)
            if self.volume_mounts:
                spec["volumeMounts"] = list(self.volume_mounts)
            return spec

        driver = role(driver_labels, self.driver_cores, self.driver_memory)
        if self.service_account_name:
            driver["serviceAccount"] = self.service_account_name
        executor = role({}, self.executor_cores, self.executor_memory)
        if self.driver_pod_template:
            driver["template"] = self.driver_pod_template
        if self.executor_pod_template:
            executor["template"] = self.executor_pod_template
        if self.executor_instances is not None:
            executor["instances"] = self.executor_instances
        spec: dict[str, Any] = {
            "type": self.type,
            "mode": "cluster",
            "mainApplicationFile": self.application,
            "sparkVersion": self.spark_version,
            "driver": driver,
            "executor": executor,
            "restartPolicy": restart_policy or {"type": "Never"},
        }
        if self.type == "Python":
            spec["pythonVersion"] = "3"
        if self.image:
            spec["image"] = self.image
        if self.image_pull_policy:
            spec["imagePullPolicy"] = self.image_pull_policy
        if self.image_pull_secrets:
            spec["imagePullSecrets"] = list(self.image_pull_secrets)
        if self.main_class:
            spec["mainClass"] = self.main_class
        if self.application_args:
            spec["arguments"] = list(self.application_args)
        deps = {k: v for k, v in (("jars", self.jars), ("pyFiles", self.py_files), ("files", self.files),
                                  ("archives", self.archives), ("packages", self.packages)) if v}
        if deps:
            spec["deps"] = deps
        if dynamic:
            spec["dynamicAllocation"] = dynamic
        if self.volumes:
            spec["volumes"] = list(self.volumes)
        if self.node_selector:
            spec["nodeSelector"] = dict(self.node_selector)
        if conf:
            spec["sparkConf"] = conf
        return {
            "apiVersion": "sparkoperator.k8s.io/v1beta2",
            "kind": "SparkApplication",
            "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations},
            "spec": spec,
        }


def _conf_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple, set)):
        raise TypeError(f"Spark properties are strings; got {type(value).__name__} {value!r}")
    return str(value)


def _volume_conf(role: str, vol: dict[str, Any], mount: dict[str, Any]) -> dict[str, str]:
    kind = next(t for t in _VOLUME_TYPES if t in vol)
    prefix = f"spark.kubernetes.{role}.volumes.{kind}.{vol['name']}"
    out = {f"{prefix}.mount.path": mount["mountPath"]}
    if mount.get("readOnly"):
        out[f"{prefix}.mount.readOnly"] = "true"
    if mount.get("subPath"):
        out[f"{prefix}.mount.subPath"] = mount["subPath"]
    for key, value in (vol.get(kind) or {}).items():
        out[f"{prefix}.options.{key}"] = _conf_value(value)
    return out
