"""SparkK8sOperator with the pod launcher: spark-submit runs in a launcher pod inside the cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator

IMPORTS = "from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator\n"
NS = "spark-jobs"
DRIVER = "spark.kubernetes.driver.annotation.emulator.sparkk8s.io/"


def task(**kwargs: Any) -> str:
    args = {"task_id": "pi", "application": "local:///opt/spark/examples/src/main/python/pi.py",
            "application_args": ["10"], "image": "apache/spark:4.0.1", "namespace": NS, "launcher": "pod",
            **kwargs}
    return "SparkK8sOperator(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


@pytest.fixture
def cluster(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory(namespaces=[NS])


@pytest.mark.lowest  # also against the lowest supported Airflow (make test-lowest)
@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_success_returns_the_application_and_shows_driver_logs(cluster: KubeEmulator, run_dag,
                                                                deferrable: bool) -> None:
    result = run_dag(task(deferrable=deferrable, conf={DRIVER + "log": "Pi is roughly 3.14159"}), IMPORTS)
    assert result.states == {"pi": "success"}
    value = result.xcom("pi")
    driver = cluster.get("v1", "Pod", value["driver_pod"], NS)
    launcher = cluster.get("v1", "Pod", value["launcher_pod"], NS)
    assert driver["status"]["phase"] == "Succeeded"
    assert launcher["status"]["phase"] == "Succeeded"
    assert value == {
        "namespace": NS, "driver_pod": driver["metadata"]["name"],
        "spark_app_id": driver["metadata"]["labels"]["spark-app-selector"], "launcher": "pod",
        "state": "Succeeded", "application": None, "launcher_pod": launcher["metadata"]["name"], "adopted": False,
    }
    assert result.xcom("pi", "driver_pod") == value["driver_pod"]
    assert result.xcom("pi", "namespace") == NS
    assert result.output.count("[driver] Pi is roughly 3.14159") == 1
    assert launcher["metadata"]["labels"]["sparkk8s.io/role"] == "launcher"
    assert driver["metadata"]["labels"]["sparkk8s.io/role"] == "driver"
    assert driver["metadata"]["annotations"]["sparkk8s.io/run-id"] == result.dag_run.run_id
    assert len(cluster.list("v1", "Pod", NS, "spark-role=driver")) == 1


def test_launcher_failure_fails_the_task_with_the_launcher_log(cluster: KubeEmulator, run_dag) -> None:
    # No image for the driver: the spark-submit inside the launcher pod refuses to submit.
    result = run_dag(task(launcher_image="apache/spark:4.0.1", image=None), IMPORTS)
    assert result.states == {"pi": "failed"}
    assert "failed (exit code 1, Error) before the driver started" in result.output
    assert "Last launcher pod log lines:\n" in result.output
    assert "Must specify the driver container image" in result.output
    assert cluster.list("v1", "Pod", NS, "spark-role=driver") == []


def test_driver_failure_fails_the_task_with_exit_code_and_reason(cluster: KubeEmulator, run_dag) -> None:
    result = run_dag(task(conf={DRIVER + "outcome": "failed", DRIVER + "exit-code": "3",
                                DRIVER + "log": "Exception: table not found"}), IMPORTS)
    assert result.states == {"pi": "failed"}
    assert "failed (exit code 3, reason Error)" in result.output
    assert "Last driver log lines:\nException: table not found" in result.output


def test_launcher_image_pull_backoff_fails_after_startup_timeout_and_cleans_up(cluster: KubeEmulator,
                                                                               run_dag) -> None:
    cluster.pods.behave(name="*-launcher", namespace=NS, outcome="imagepullbackoff")
    result = run_dag(task(launcher_image="registry.example/missing:1", startup_timeout_seconds=2), IMPORTS)
    assert result.states == {"pi": "failed"}
    assert "did not start in time: still Pending (ImagePullBackOff)" in result.output
    assert "launcher pod spark-jobs/" in result.output
    assert cluster.list("v1", "Pod", NS) == []
