"""The Spark image's entrypoint (apache/spark's ``/opt/entrypoint.sh``) for the sandbox's locally-run Spark pods.

The local kubelet runs a mapped Spark image's containers with this program as the image's ENTRYPOINT, inside the
pod's own view of this machine (its volumes, its ``/etc/hosts``, its loopback IP). As the image's script does:

- ``driver <spark-submit args>``: ``spark-submit --conf spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS
  --deploy-mode client <args>``; the pod's properties file (spark-submit's ConfigMap, mounted at
  ``/opt/spark/conf``) makes it a driver of the cluster (``--master k8s://...``), which asks the API server for
  its executor pods;
- ``executor``: ``java ... org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend --driver-url
  $SPARK_DRIVER_URL ...`` from the pod's environment, which the driver wrote into the executor pod;
- anything else runs as given (pass-through), as a client-mode ``spark-submit`` step does.

Spark is pyspark's (``SPARK_HOME``, its ``bin/`` and ``jars/``) and Java the machine's. What only the sandbox adds:

- the application resource, which is a path in the image (``local:///opt/spark/...``) or in remote storage, runs
  from the local file the image mapping names (``SPARKK8S_SPARK_IMAGE``: a JSON file the sandbox writes); a JVM
  main class runs through its Python stand-in;
- the sandbox's ``conf`` (the driver's, which Spark passes on to its executors) and event log settings;
- ``SPARK_LOCAL_IP`` is the pod's IP: a container has a network namespace of its own, where Spark's listeners
  (``0.0.0.0`` by default) take ports nobody else has; here they bind the pod's own loopback address instead.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

MAPPING_ENV = "SPARKK8S_SPARK_IMAGE"
PREFIX = "[sandbox] "
EXECUTOR_BACKEND = "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend"
PYTHON_RUNNER = "org.apache.spark.deploy.PythonRunner"


class EntrypointError(Exception):
    """The pod cannot run here; the message says why (the container's log shows it)."""


def driver_command(args: list[str], env: Mapping[str, str], mapping: dict) -> list[str]:
    """The entrypoint's driver command, with the application resource made local (see the module docstring)."""
    from ..testing.spark_submit_pods import SparkSubmitError, parse_spark_submit

    try:
        submitted = parse_spark_submit(args)
    except SparkSubmitError as exc:
        raise EntrypointError(f"the driver's arguments: {exc}") from exc
    resource, app_args, main_class = str(submitted.resource), submitted.app_args, submitted.main_class
    options = args[:len(args) - len(app_args) - 1]  # spark-submit's options, before the resource
    local, stand_in = local_resource(resource, main_class, mapping)
    if stand_in:
        print(f"{PREFIX}main class {main_class} of {resource} runs as the local stand-in {local}", flush=True)
    settings = {**mapping.get("conf", {}), **event_log_conf(mapping.get("events_dir"))}
    if stand_in or main_class == PYTHON_RUNNER:  # spark-submit picks the runner from the .py resource itself
        options = _without(options, "--class")
    properties = {**_properties(_option(options, "--properties-file")), **submitted.conf}  # options win
    if stand_in:  # spark-submit put the application's jar into spark.jars: the stand-in replaces it
        jars = properties.get("spark.jars", "")
        settings["spark.jars"] = ",".join(j for j in jars.split(",") if j and j != resource)
    settings.update(_capped_executors(properties, mapping.get("max_executors")))
    settings.update(_local_dependencies(properties, mapping, settings))
    conf = [a for k, v in settings.items() for a in ("--conf", f"{k}={v}")]
    bind = env.get("SPARK_DRIVER_BIND_ADDRESS", "")
    return [f"{env['SPARK_HOME']}/bin/spark-submit",
            "--conf", f"spark.driver.bindAddress={bind}",
            "--conf", f"spark.executorEnv.SPARK_DRIVER_POD_IP={bind}",
            "--deploy-mode", "client", *options, *conf, local, *app_args]


def local_resource(resource: str, main_class: str | None, mapping: dict) -> tuple[str, bool]:
    """The file in this container that runs for ``resource``, and whether it is the stand-in of a JVM main class.

    ``mapping["paths"]``: resource prefix (a directory in the image, or remote storage) -> the directory in this
    container where the sandbox shows the local files (the image's own directory: the same path);
    ``mapping["main_classes"]``: JVM main class -> its Python stand-in in this container."""
    path = resource
    for scheme in ("local://", "file://"):
        if resource.startswith(scheme):
            path = resource[len(scheme):]
    python = path.endswith(".py")
    if not python and main_class in mapping.get("main_classes", {}):
        return mapping["main_classes"][main_class], True
    local = _mapped_path(path, mapping)
    if local is not None:
        if not os.path.isfile(local):
            raise EntrypointError(f"{resource} is not in the sandbox's files (no {local} here)")
        return local, False
    what = f"main class {main_class} of {resource}" if main_class and not python else resource
    raise EntrypointError(f"{what} is not mapped for image {mapping.get('image', '?')} in the sandbox mapping")


def executor_command(env: Mapping[str, str], cwd: str) -> list[str]:
    """The entrypoint's executor command: the JVM of Spark's Kubernetes executor backend."""
    missing = [name for name in ("SPARK_DRIVER_URL", "SPARK_EXECUTOR_ID", "SPARK_APPLICATION_ID")
               if not env.get(name)]
    if missing:
        raise EntrypointError(f"an executor needs {', '.join(missing)} in its environment")
    java_options = [env[name] for name in sorted((n for n in env if n.startswith("SPARK_JAVA_OPT_")),
                                                 key=lambda n: int(n.rsplit("_", 1)[1] or 0))]
    conf_dir = env.get("SPARK_CONF_DIR") or f"{env['SPARK_HOME']}/conf"
    classpath = ":".join([conf_dir, f"{env['SPARK_HOME']}/jars/*", env.get("SPARK_DIST_CLASSPATH", ""), cwd])
    memory = env.get("SPARK_EXECUTOR_MEMORY", "1024m")
    java = f"{env['JAVA_HOME']}/bin/java" if env.get("JAVA_HOME") else "java"
    return [java, *java_options, f"-Xms{memory}", f"-Xmx{memory}", "-cp", classpath, EXECUTOR_BACKEND,
            "--driver-url", env["SPARK_DRIVER_URL"], "--executor-id", env["SPARK_EXECUTOR_ID"],
            "--cores", env.get("SPARK_EXECUTOR_CORES", "1"), "--app-id", env["SPARK_APPLICATION_ID"],
            "--hostname", env.get("SPARK_EXECUTOR_POD_IP", ""),
            "--resourceProfileId", env.get("SPARK_RESOURCE_PROFILE_ID", "0"),
            "--podName", env.get("SPARK_EXECUTOR_POD_NAME", "")]


def event_log_conf(events: str | None) -> dict[str, str]:
    """The conf that writes an application's event log into ``events`` (the History Server's directory)."""
    if not events:
        return {}
    # Rolling: the History Server shows the application while it runs, not only once it has ended.
    return {"spark.eventLog.enabled": "true", "spark.eventLog.dir": Path(events).as_uri(),
            "spark.eventLog.rolling.enabled": "true"}


# The dependency lists spark-submit passes to the driver (--files, --jars, --py-files, --archives).
_DEPENDENCIES = ("spark.files", "spark.jars", "spark.submit.pyFiles", "spark.archives")


def _local_dependencies(properties: dict[str, str], mapping: dict, settings: dict[str, str]) -> dict[str, str]:
    """The application's dependencies in remote storage (``hdfs://...``), which the driver would download, from
    the sandbox's files: a mapped one that is there runs from its local copy, any other is left out (with a line
    saying so) rather than failing the driver on a host it cannot reach. Maven packages are left out too."""
    changed = {}
    for key in _DEPENDENCIES:
        entries = [e for e in settings.get(key, properties.get(key, "")).split(",") if e]
        kept = []
        for entry in entries:
            uri, hash_, fragment = entry.partition("#")
            scheme = uri.partition("://")[0] if "://" in uri else ""
            if scheme in ("", "local", "file"):
                kept.append(entry)
                continue
            local = _mapped_path(uri, mapping)
            if local is not None and os.path.isfile(local):
                kept.append(f"file://{local}{hash_}{fragment}")
            else:
                print(f"{PREFIX}{key}: {uri} is left out: the sandbox has no copy of it", flush=True)
        if kept != entries:
            changed[key] = ",".join(kept)
    if properties.get("spark.jars.packages"):
        print(f"{PREFIX}spark.jars.packages: {properties['spark.jars.packages']} is left out: the sandbox resolves "
              f"no Maven packages", flush=True)
        changed["spark.jars.packages"] = ""
    return changed


def _mapped_path(resource: str, mapping: dict) -> str | None:
    """Where the sandbox shows ``resource`` in this container, by the longest mapped prefix; None if unmapped."""
    for prefix in sorted(mapping.get("paths", {}), key=len, reverse=True):
        if resource == prefix or resource.startswith(prefix.rstrip("/") + "/"):
            rest = posixpath.normpath(resource[len(prefix.rstrip("/")):].lstrip("/") or ".")
            return None if rest.startswith("..") else posixpath.join(mapping["paths"][prefix], rest)
    return None


def _capped_executors(properties: dict[str, str], most: int | None) -> dict[str, str]:
    """At most ``most`` executors (the sandbox mapping's ``max_executors``: each is a JVM on this machine)."""
    capped = {}
    for key, default in (("spark.executor.instances", "2"), ("spark.dynamicAllocation.maxExecutors", None),
                         ("spark.dynamicAllocation.initialExecutors", None),
                         ("spark.dynamicAllocation.minExecutors", None)):
        value = properties.get(key, default)
        if most is not None and value is not None and value.strip().isdigit() and int(value) > most:
            capped[key] = str(most)
            print(f"{PREFIX}{key}={value} runs as {most} (max_executors of the sandbox mapping)", flush=True)
    return capped


def _properties(path: str | None) -> dict[str, str]:
    """The ``key=value`` lines of a properties file as Spark writes it (``java.util.Properties``, escapes
    undone); nothing when there is none."""
    if not path or not os.path.isfile(path):
        return {}
    found = {}
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, i = "", 0
        while i < len(line) and line[i] not in "=:":
            if line[i] == "\\" and i + 1 < len(line):
                i += 1
            key += line[i]
            i += 1
        value = re.sub(r"\\(.)", r"\1", line[i + 1:].strip())
        found[key.strip()] = value
    return found


def _option(options: list[str], name: str) -> str | None:
    for i, arg in enumerate(options):
        if arg == name and i + 1 < len(options):
            return options[i + 1]
    return None


def _without(options: list[str], name: str) -> list[str]:
    out, i = [], 0
    while i < len(options):
        if options[i] == name:
            i += 2
            continue
        out.append(options[i])
        i += 1
    return out


def main(argv: list[str]) -> int:
    env = dict(os.environ)
    try:
        if argv[:1] == ["driver"]:
            mapping = json.loads(Path(env[MAPPING_ENV]).read_text())
            env["SPARK_LOCAL_IP"] = env.get("SPARK_DRIVER_BIND_ADDRESS", "")
            command = driver_command(argv[1:], env, mapping)
        elif argv[:1] == ["executor"]:
            env["SPARK_LOCAL_IP"] = env.get("SPARK_EXECUTOR_POD_IP", "")
            command = executor_command(env, os.getcwd())
        elif argv:
            command = argv
        else:
            raise EntrypointError("no command given")
    except (EntrypointError, KeyError, OSError, ValueError) as exc:
        print(f"{PREFIX}entrypoint: {exc}", file=sys.stderr, flush=True)
        return 1
    env.pop(MAPPING_ENV, None)
    print("+ exec " + shlex.join(command), flush=True)  # as the image's script (`set -x`) shows it
    try:
        os.execvpe(command[0], command, env)  # noqa: S606 - an argv list, as the image's `exec "${CMD[@]}"`
    except OSError as exc:
        print(f"{PREFIX}entrypoint: cannot run {command[0]}: {exc}", file=sys.stderr, flush=True)
        return 127
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
