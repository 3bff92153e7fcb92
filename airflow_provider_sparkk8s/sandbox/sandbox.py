"""Sandbox: the Kubernetes API emulator plus a controller that runs mapped Spark applications for real.

    with Sandbox(SandboxConfig.load("dags_examples/sandbox.yaml")) as sandbox:
        sandbox.apply_folder("dags_examples/manifests")
        os.environ.update(sandbox.airflow_env())

It is an emulated control plane: the API server, kubelet, spark-operator and Argo controller are the
simulations of ``airflow_provider_sparkk8s.testing``. What is real: Spark drivers (and client-mode spark-submit
steps) whose image and application the mapping names run ``spark-submit --master local[1]`` from pyspark on
this machine (``local_spark.py``), and the containers of pods whose images the mapping runs (``run: host`` or
``rootfs``) run as processes here, each in bubblewrap namespaces (``testing/runtime``). Other pods are simulated,
or fail to pull when the mapping does not list their image. Unless the mapping's ``history_server`` says
otherwise, pyspark's Spark History Server runs too, over those applications' event logs (``history.py``), and
the Kubernetes connection's ``spark_history_server_url`` extra sends the operators' link there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..testing.emulator import KubeEmulator
from .config import SandboxConfig, shown
from .history import HistoryServer
from .local_spark import LocalSpark
from .spark_apps import SparkApps
from .spark_images import CLUSTER, run_in_pods

_NAMESPACE_HINT = re.compile(r"^#.*kubectl apply -n\s+(\S+)", re.M)


class Sandbox:
    """The emulated control plane with local Spark (see the module docstring).

    Args:
        config: the image-to-local mapping; None maps nothing (every pod is simulated).
        workdir: kubeconfig and the working directories of local applications (a temporary directory by
            default, removed on stop).
        console: receives one line per notable event (an application started locally, a Spark pod
            simulated and why).
        emulator_options: passed to KubeEmulator (host, port, namespaces, pod_run_seconds, ...).
    """

    def __init__(self, config: SandboxConfig | None = None, *, workdir: str | Path | None = None,
                 console: Callable[[str], None] = lambda _: None, **emulator_options: Any) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="sparkk8s-sandbox-"))
        self.config = (config or SandboxConfig()).in_sandbox(self.workdir.resolve())
        self.spark = LocalSpark(self.config, console)
        self.history: HistoryServer | None = None
        settings = self.config.history_server
        if settings.enabled and self.config.images and not self.spark.unavailable and self.spark.spark_home:
            self.history = self.spark.history = HistoryServer(self.spark.spark_home, self.workdir, settings.port,
                                                              java=_java())
        if self.in_cluster_mode and self.spark.spark_home is not None:
            self.config = run_in_pods(self.config, self.workdir.resolve(), self.spark.spark_home,
                                      self.history.log_dir if self.history is not None else None)
        # Only a given mapping runs containers on this machine (and fails the pulls of images it does not list).
        run_images = self.config.image if config is not None else None
        self.emulator = KubeEmulator(workdir=self.workdir, run_images=run_images, **emulator_options)
        self.apps = SparkApps(self.history.page if self.history is not None else None, self._why_simulated)
        if self.in_cluster_mode:
            self.emulator.store.add_listener(self.apps)
        else:
            self.spark.install(self.emulator, self.workdir)

    def _why_simulated(self, pod: dict) -> str | None:
        """Why the local kubelet leaves a (driver) pod to the simulation, or None when it runs it."""
        for container in (pod.get("spec") or {}).get("containers") or []:
            mapping = self.config.image(container.get("image", ""))
            if mapping is not None and not mapping.runs_locally:
                return f"image {mapping.image} maps no Spark application and does not run here: simulated"
        return None

    @property
    def in_cluster_mode(self) -> bool:
        """Drivers run against the sandbox's API server and get executor pods (``master: cluster``)."""
        return self.config.master == CLUSTER and not self.spark.unavailable and self.spark.spark_home is not None

    def start(self) -> Sandbox:
        """Start the emulator and the History Server; the latter becomes ready in the background (a JVM takes
        seconds): `wait_for_history_server` waits for it."""
        self.emulator.start()
        if self.history is not None:
            self.history.start()
        return self

    def wait_for_history_server(self, timeout: float = 120.0) -> bool:
        """True once the History Server answers (False without one, or when it did not start)."""
        return self.history is not None and self.history.wait_ready(timeout)

    def stop(self) -> None:
        """Stop the emulator; applications still running locally are killed with their pods' simulation."""
        self.emulator.stop()
        if self.history is not None:
            self.history.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ for clients
    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def kubeconfig_path(self) -> Path | None:
        return self.emulator.kubeconfig_path

    def airflow_env(self, namespace: str = "default") -> dict[str, str]:
        """AIRFLOW_CONN_KUBERNETES_DEFAULT, AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT and KUBECONFIG for this sandbox.
        With a History Server, the Kubernetes connection's ``spark_history_server_url`` extra is its front: the
        operators' link ``<url>/history/<spark-app-selector>/jobs/`` opens the local application's page; when the
        mapping's conf turns the driver's UI on, ``spark_driver_ui_url`` leads to the running driver's UI."""
        env = self.emulator.airflow_env(namespace=namespace)
        if self.history is not None and self.history.proc is not None:
            key = "AIRFLOW_CONN_KUBERNETES_DEFAULT"
            conn = json.loads(env[key])
            conn["extra"]["spark_history_server_url"] = self.history.front_url
            if self.spark.driver_ui:
                conn["extra"]["spark_driver_ui_url"] = f"{self.history.front_url}/driver/{{spark_app_id}}/"
            env[key] = json.dumps(conn)
        return env

    def apply_folder(self, folder: str | Path) -> list[str]:
        """Apply every ``*.yaml`` of `folder` as `kubectl apply` would: namespaces first (also those that objects
        only name), objects without a namespace into the one a ``# kubectl apply -n NS`` comment of their file
        names, else ``default``. Returns ``kind/namespace/name`` of what was applied."""
        import yaml

        files = sorted(Path(folder).glob("*.yaml"))
        documents: list[tuple[dict, str | None]] = []
        for path in files:
            text = path.read_text()
            match = _NAMESPACE_HINT.search(text)
            file_namespace = match.group(1) if match else None
            documents += [(doc, file_namespace) for doc in yaml.safe_load_all(text) if doc]
        for doc, hint in documents:
            if doc.get("kind") == "Namespace":
                self.emulator.create_namespace(doc["metadata"]["name"])
            namespace = (doc.get("metadata") or {}).get("namespace") or hint
            if namespace:
                self.emulator.create_namespace(namespace)
        applied = []
        for doc, hint in documents:
            if doc.get("kind") == "Namespace":
                continue
            [obj] = self.emulator.apply(doc, namespace=(doc.get("metadata") or {}).get("namespace") or hint)
            meta = obj["metadata"]
            applied.append(f"{obj.get('kind')}/{meta.get('namespace', '-')}/{meta['name']}")
        return applied

    def banner(self) -> str:
        """What the sandbox is, said plainly: printed when it starts."""
        config = self.config
        lines = [
            "sparkk8s sandbox: an EMULATED Kubernetes control plane, not a cluster.",
            "  The API server, kubelet, spark-operator and Argo controller are simulations "
            "(airflow_provider_sparkk8s.testing).",
        ]
        if self.spark.unavailable:
            lines.append(f"  Every pod is simulated: {self.spark.unavailable}.")
        elif not config.images:
            lines.append("  Every pod is simulated: no image-to-local mapping was given (--config).")
        else:
            source = shown(config.source) if config.source else "the mapping"
            if self.in_cluster_mode:
                lines.append(f"  Real: Spark applications mapped by {source} run in pods on this machine: drivers "
                             f"against this API server, with their executor pods;")
            else:
                lines.append(f"  Real: Spark applications mapped by {source} run on this machine with spark-submit "
                             f"--master {config.master} (no executors);")
            for mapping in config.images:
                targets = [f"{prefix.rstrip('/')}/ -> {shown(local)}/" for prefix, local in mapping.paths.items()]
                targets += [f"{cls} -> {shown(local)} (stand-in)" for cls, local in mapping.main_classes.items()]
                if targets:
                    lines.append(f"    {mapping.image}: " + "; ".join(targets))
            hosted = [m for m in config.images if m.runs_locally]
            if hosted:
                lines.append("  Real: the containers of these images' pods run their commands on this machine:")
                lines += [f"    {m.image}: " + (f"root filesystem {shown(m.rootfs)}" if m.rootfs else "host programs")
                          for m in hosted]
                lines.append("  Pods of images the mapping does not list fail to pull (ImagePullBackOff).")
            lines.append("  Every other pod is simulated (timers and canned logs).")
        lines.append(f"  API server: {self.url}")
        if self.history is not None and self.history.proc is not None:
            lines.append(f"  Spark History Server (pyspark's, over the local applications' event logs): "
                         f"{self.history.url}; the connection's spark_history_server_url, {self.history.front_url}, "
                         f"leads the operators' links to it")
        width = max(len(line) for line in lines)
        rule = "=" * min(width, 110)
        return "\n".join([rule, *lines, rule])


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java")
    return shutil.which("java") or "java"
