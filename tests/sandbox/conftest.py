"""Sandboxes for the tests: the examples' mapping plus a test image whose apps are small scripts."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from kubernetes.client import CoreV1Api

from airflow_provider_sparkk8s.sandbox import Sandbox, SandboxConfig
from airflow_provider_sparkk8s.sandbox.history import MAIN_CLASS, HistoryServerSettings
from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import REPO, require
from tests.runtime.support import bwrap
from tests.sandbox.local_kubelet import MAPPING

EXAMPLES = REPO / "dags_examples"
TEST_IMAGE = "example.test/apps:1"
TERMINAL = ("Succeeded", "Failed")

# Small apps that need spark-submit's Python runner but no SparkContext: quick to run.
APPS = {
    "hello.py": "import os, sys\nprint('hello from', ' '.join(sys.argv[1:]), os.environ.get('GREETING'), flush=True)\n"
                "print('SPARK_LOCAL_DIRS', os.environ.get('SPARK_LOCAL_DIRS'), flush=True)\n",
    "fail.py": "import sys\nprint('failing on purpose', flush=True)\nsys.exit(3)\n",
    "sleep.py": "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n",
}


def require_spark() -> None:
    require(shutil.which("java") is not None, "java is not installed")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        require(False, "pyspark is not installed")


@pytest.fixture
def apps_dir(tmp_path: Path) -> Path:
    apps = tmp_path / "apps"
    apps.mkdir()
    for name, text in APPS.items():
        (apps / name).write_text(text)
    return apps


@pytest.fixture
def sandbox_factory(tmp_path: Path, apps_dir: Path) -> Iterator[Callable[..., Sandbox]]:
    started: list[Sandbox] = []

    def start(images: list[dict] | None = None, **overrides: Any) -> Sandbox:
        """A sandbox with the examples' mapping, the test image and ``images`` (more mapping entries)."""
        config = SandboxConfig.load(EXAMPLES / "sandbox.yaml")
        test_images = [{"image": TEST_IMAGE, "paths": {"/apps/": str(apps_dir)}}, *(images or [])]
        test_config = SandboxConfig.from_dict({"images": test_images}, base=tmp_path)
        config.images += test_config.images
        config.history_server = HistoryServerSettings(enabled=False)  # a JVM: only for the tests that ask for it
        config.master = "local[1]"  # one JVM an application; the tests of executor pods ask for `cluster`
        for key, value in overrides.items():
            setattr(config, key, value)
        events: list[str] = []
        sandbox = Sandbox(config, workdir=tmp_path / f"sandbox{len(started)}", console=events.append,
                          pod_run_seconds=0.2, pod_pending_seconds=0.05)
        sandbox.events = events  # type: ignore[attr-defined]
        started.append(sandbox.start())
        sandbox.emulator.create_namespace("spark-jobs")
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator], tmp_path: Path) -> KubeEmulator:
    """An emulator whose kubelet runs the pods of MAPPING's host images on this machine."""
    bwrap()
    config = SandboxConfig.from_dict(MAPPING, base=tmp_path)
    return kube_emulator_factory(run_images=config.image, pod_pending_seconds=0.05, restart_backoff_seconds=0.2)


@pytest.fixture
def core(kube: KubeEmulator) -> CoreV1Api:
    return CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


def driver_pod(name: str, resource: str, *args: str, image: str = TEST_IMAGE, main_class: str | None = None,
               env: dict[str, str] | None = None) -> dict:
    """A driver pod as Spark's submission client writes it."""
    cls = ["--class", main_class or "org.apache.spark.deploy.PythonRunner"]
    labels = {"spark-role": "driver", "spark-app-name": name.removesuffix("-driver"), "spark-app-selector": "spark-0"}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": {"restartPolicy": "Never", "containers": [{
                "name": "spark-kubernetes-driver", "image": image,
                "args": ["driver", "--properties-file", "/opt/spark/conf/spark.properties", *cls, resource, *args],
                "env": [{"name": k, "value": v} for k, v in (env or {}).items()]}]}}


def wait_for_pod(sandbox: Sandbox, name: str, namespace: str = "spark-jobs", timeout: float = 150) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod = sandbox.emulator.get("v1", "Pod", name, namespace)
        if pod and (pod.get("status") or {}).get("phase") in TERMINAL:
            return pod
        time.sleep(0.2)
    raise AssertionError(f"pod {namespace}/{name} did not finish within {timeout}s: "
                         f"{sandbox.emulator.pods.logs(namespace, name)}")


def exit_code(pod: dict) -> int:
    return pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]


def history_server_processes(workdir: Path) -> list[int]:
    """The History Server JVMs whose command line names this sandbox's working directory."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if MAIN_CLASS.encode() in argv and any(str(workdir).encode() in arg for arg in argv):
            found.append(int(proc.name))
    return found
