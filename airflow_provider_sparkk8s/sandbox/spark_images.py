"""``master: cluster``: the Spark images' pods run on the local kubelet, as a cluster runs them.

With ``master: cluster`` in the sandbox mapping, an image entry that maps Spark applications (``paths``,
``main_classes``) becomes an image whose containers the local kubelet runs (as ``run: host`` does), with the
Spark image's entrypoint (``spark_entrypoint.py``). A driver pod then runs its driver in client mode against the
sandbox's API server, with the conf spark-submit wrote into its ConfigMap, and that driver asks for its executor
pods, which the kubelet runs as executor JVMs: Spark's own Kubernetes scheduler backend at work.

What the image's containers see, as if the image had it (``/opt/sparkk8s`` is the sandbox's own):

- each in-image directory of ``paths`` shows its local directory;
- a remote prefix's directory (``hdfs://namenode:8020/jobs/``) shows at ``/opt/sparkk8s/remote/<n>``, each main
  class stand-in's directory at ``/opt/sparkk8s/stand-ins/<n>``: the entrypoint runs the application from there;
- ``/opt/sparkk8s/image/spark-image.json`` tells the entrypoint all that, the sandbox's ``conf`` and where the
  event logs go: ``/opt/sparkk8s/spark-events``, the History Server's directory; the image's
  ``spark-defaults.conf`` (``SPARK_CONF_DIR``, which a driver pod sets to its own) has the same conf, for a
  container that runs spark-submit itself;
- the sandbox's working directory (``$(SANDBOX_DIR)``) is at its own path;
- ``SPARK_HOME`` is pyspark's directory, ``JAVA_HOME`` this machine's Java, and ``spark-submit`` (for client-mode
  steps that call it) pyspark's.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from .config import ImageMapping, SandboxConfig
from .spark_entrypoint import MAPPING_ENV, event_log_conf

CLUSTER = "cluster"  # the `master` that runs drivers against the sandbox's API server, with executor pods
OWN = "/opt/sparkk8s"
WORKDIR = "/opt/spark/work-dir"  # the image's WORKDIR: where the driver puts the files it downloads
ENTRYPOINT_MODULE = "airflow_provider_sparkk8s.sandbox.spark_entrypoint"


def maps_spark(mapping: ImageMapping) -> bool:
    """An entry that maps Spark applications and says nothing else about how its containers run."""
    return bool(mapping.paths or mapping.main_classes) and not (mapping.runs_locally or mapping.simulate)


def run_in_pods(config: SandboxConfig, workdir: Path, spark_home: Path, events_dir: Path | None) -> SandboxConfig:
    """``config`` with its Spark images run by the local kubelet (see the module docstring); writes each
    image's ``spark-image.json`` under ``workdir``."""
    images = [_spark_image(m, i, config, workdir, spark_home, events_dir) if maps_spark(m) else m
              for i, m in enumerate(config.images)]
    return replace(config, images=images)


def _spark_image(mapping: ImageMapping, index: int, config: SandboxConfig, workdir: Path, spark_home: Path,
                 events_dir: Path | None) -> ImageMapping:
    mounts: dict[str, str] = {}
    paths: dict[str, str] = {}
    for n, (prefix, local) in enumerate(sorted(mapping.paths.items())):
        inside = prefix.rstrip("/") if prefix.startswith("/") else f"{OWN}/remote/{n}"
        mounts[inside] = str(local)
        paths[prefix] = inside
    main_classes: dict[str, str] = {}
    for n, (main_class, local) in enumerate(sorted(mapping.main_classes.items())):
        inside = f"{OWN}/stand-ins/{n}"
        mounts[inside] = str(local.parent)
        main_classes[main_class] = f"{inside}/{local.name}"
    described: dict[str, Any] = {"image": mapping.image, "paths": paths, "main_classes": main_classes,
                                 "conf": config.conf, "max_executors": config.max_executors}
    if events_dir is not None:
        events_dir.mkdir(parents=True, exist_ok=True)
        mounts[f"{OWN}/spark-events"] = str(events_dir)
        described["events_dir"] = f"{OWN}/spark-events"
    # The sandbox's directory, where $(SANDBOX_DIR) in the mapping points (a local stand-in for shared storage
    # such as HDFS), is at the same path in the containers, whose /tmp is their own.
    mounts[str(workdir)] = str(workdir)
    own = workdir / "spark-images" / str(index)
    own.mkdir(parents=True, exist_ok=True)
    (own / "spark-image.json").write_text(json.dumps(described, indent=2))
    # The image's spark-defaults.conf: the sandbox's conf for what runs spark-submit itself (a client-mode step).
    defaults = {**config.conf, **event_log_conf(described.get("events_dir"))}
    (own / "conf").mkdir(exist_ok=True)
    (own / "conf" / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in defaults.items()))
    mounts[f"{OWN}/image"] = str(own)
    spark_submit = str(spark_home / "bin" / "spark-submit")
    env = {"SPARK_HOME": str(spark_home), "SPARK_CONF_DIR": f"{OWN}/image/conf", "PYSPARK_PYTHON": sys.executable,
           MAPPING_ENV: f"{OWN}/image/spark-image.json", **_java_home(), **mapping.env}
    return replace(mapping, run="host", working_dir=WORKDIR, entrypoint=(sys.executable, "-m", ENTRYPOINT_MODULE),
                   commands={"spark-submit": spark_submit, "/opt/spark/bin/spark-submit": spark_submit,
                             **mapping.commands},
                   env=env, mounts={**mounts, **mapping.mounts})


def _java_home() -> dict[str, str]:
    home = os.environ.get("JAVA_HOME")
    if not home:
        java = shutil.which("java")
        home = str(Path(java).resolve().parent.parent) if java else ""
    return {"JAVA_HOME": home} if home else {}
