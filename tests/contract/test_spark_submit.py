"""Spark's own Kubernetes submission client (spark-submit from the pyspark distribution, fabric8 inside)
against the emulator, in cluster mode."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require

pytestmark = [pytest.mark.contract, pytest.mark.slow]

DRIVER = "pi-driver-1"
OWNED_KINDS = (("v1", "Service"), ("v1", "ConfigMap"), ("networking.k8s.io/v1", "NetworkPolicy"))


def spark_home() -> Path:
    try:
        import pyspark
    except ImportError:
        require(False, "pyspark is not installed")
    require(shutil.which("java") is not None, "java is not installed")
    return Path(pyspark.__file__).parent


def spark_submit(cluster: KubeEmulator, *args: str) -> subprocess.CompletedProcess[str]:
    home = spark_home()
    env = dict(os.environ, SPARK_HOME=str(home), KUBECONFIG=str(cluster.kubeconfig_path),
               SPARK_LOCAL_IP="127.0.0.1")
    return subprocess.run([str(home / "bin" / "spark-submit"), "--master", f"k8s://{cluster.url}", *args],
                          capture_output=True, text=True, env=env, timeout=180)


def submit(cluster: KubeEmulator, *, wait: bool, **annotations: str) -> subprocess.CompletedProcess[str]:
    conf = {
        "spark.kubernetes.container.image": "apache/spark:4.0.1",
        "spark.kubernetes.submission.waitAppCompletion": str(wait).lower(),
        "spark.kubernetes.driver.pod.name": DRIVER,
        "spark.executor.instances": "1",
    }
    for key, value in annotations.items():
        conf[f"spark.kubernetes.driver.annotation.emulator.sparkk8s.io/{key.replace('_', '-')}"] = value
    conf_args = [a for k, v in conf.items() for a in ("--conf", f"{k}={v}")]
    return spark_submit(cluster, "--deploy-mode", "cluster", "--name", "pi", *conf_args,
                        "local:///opt/spark/examples/src/main/python/pi.py", "10")


def owned_by_driver(cluster: KubeEmulator) -> list[dict]:
    return [obj for api_version, kind in OWNED_KINDS for obj in cluster.list(api_version, kind, "default")
            if obj["metadata"]["name"] not in ("kube-root-ca.crt", "kubernetes")]  # the cluster's own


def test_cluster_mode_creates_the_driver_pod_and_objects_it_owns(cluster: KubeEmulator) -> None:
    result = submit(cluster, wait=False, outcome="running")
    assert result.returncode == 0, result.stderr
    driver = cluster.get("v1", "Pod", DRIVER)
    labels = driver["metadata"]["labels"]
    assert labels["spark-role"] == "driver"
    assert labels["spark-app-selector"].startswith("spark-")
    owned = owned_by_driver(cluster)
    assert {o["kind"] for o in owned} == {"Service", "ConfigMap", "NetworkPolicy"}
    for obj in owned:
        assert [ref["uid"] for ref in obj["metadata"]["ownerReferences"]] == [driver["metadata"]["uid"]]


def test_waiting_submission_exits_zero_when_the_driver_succeeds(cluster: KubeEmulator) -> None:
    result = submit(cluster, wait=True, outcome="succeeded")
    assert result.returncode == 0, result.stderr
    assert "phase: Succeeded" in result.stderr
    assert "termination reason: Completed" in result.stderr
    assert f"submission ID default:{DRIVER} finished" in result.stderr


def test_waiting_submission_reports_the_failed_driver(cluster: KubeEmulator) -> None:
    # Real spark-submit (4.x) logs the driver's failure but still exits 0: it never propagates the
    # driver's exit code. This is why a launcher must judge the driver pod itself, not the exit status.
    result = submit(cluster, wait=True, outcome="failed", exit_code="3")
    assert "phase: Failed" in result.stderr
    assert "exit code: 3" in result.stderr
    assert "termination reason: Error" in result.stderr
    assert result.returncode == 0


def test_status_reports_the_running_driver(cluster: KubeEmulator) -> None:
    assert submit(cluster, wait=False, outcome="running").returncode == 0
    _wait_for_phase(cluster, "Running")
    result = spark_submit(cluster, "--status", f"default:{DRIVER}")
    assert result.returncode == 0, result.stderr
    assert f"pod name: {DRIVER}" in result.stderr
    assert "phase: Running" in result.stderr


def test_kill_deletes_the_driver_and_garbage_collects_what_it_owned(cluster: KubeEmulator) -> None:
    assert submit(cluster, wait=False, outcome="running").returncode == 0
    _wait_for_phase(cluster, "Running")
    assert cluster.list("v1", "Pod", "default", "spark-role=executor"), "the driver started no executor"
    result = spark_submit(cluster, "--kill", f"default:{DRIVER}")
    assert result.returncode == 0, result.stderr
    assert cluster.get("v1", "Pod", DRIVER) is None
    assert owned_by_driver(cluster) == []
    assert cluster.list("v1", "Pod", "default") == []
    assert cluster.requests.count(verb="delete", resource="pods") == 1


def _wait_for_phase(cluster: KubeEmulator, phase: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod = cluster.get("v1", "Pod", DRIVER)
        if pod and pod["status"].get("phase") == phase:
            return
        time.sleep(0.05)
    raise AssertionError(f"driver never reached {phase}")
