"""SparkK8sOperator with the spark-submit launcher: the real spark-submit from pyspark, in real Airflow."""

from __future__ import annotations

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.contract.test_spark_submit import spark_home

pytestmark = pytest.mark.slow

IMPORTS = "from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator\n"


def pi_task(deferrable: bool, outcome: str = "succeeded", **extra: str) -> str:
    spark_home()  # skips (or fails under CI) without pyspark and Java
    conf = {"spark.kubernetes.driver.annotation.emulator.sparkk8s.io/outcome": outcome,
            "spark.kubernetes.driver.annotation.emulator.sparkk8s.io/log": "Pi is roughly 3.14159",
            "spark.executor.instances": "1"}
    args = ", ".join(f"{k}={v!r}" for k, v in extra.items())
    return (f"SparkK8sOperator(task_id='pi', application='local:///opt/spark/examples/src/main/python/pi.py', "
            f"application_args=['10'], image='apache/spark:4.0.1', namespace='spark-jobs', "
            f"launcher='spark-submit', deferrable={deferrable}, conf={conf!r}"
            f"{', ' + args if args else ''})")


@pytest.fixture
def cluster(kube_emulator_factory) -> KubeEmulator:
    return kube_emulator_factory(namespaces=["spark-jobs"])


@pytest.mark.lowest  # also against the lowest supported Airflow (make test-lowest)
@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_success_returns_the_application_and_shows_driver_logs(cluster: KubeEmulator, run_dag, deferrable) -> None:
    result = run_dag(pi_task(deferrable, history_server_url="http://history.example:18080"), IMPORTS)
    assert result.states == {"pi": "success"}
    value = result.xcom("pi")
    driver = cluster.get("v1", "Pod", value["driver_pod"], "spark-jobs")
    assert driver["status"]["phase"] == "Succeeded"
    assert value == {
        "namespace": "spark-jobs", "driver_pod": driver["metadata"]["name"],
        "spark_app_id": driver["metadata"]["labels"]["spark-app-selector"], "launcher": "spark-submit",
        "state": "Succeeded", "application": None, "launcher_pod": None, "adopted": False,
    }
    assert result.xcom("pi", "spark_app_id") == value["spark_app_id"]
    assert result.xcom("pi", "spark_history_server_url") == (
        f"http://history.example:18080/history/{value['spark_app_id']}/jobs/")
    assert "[driver] Pi is roughly 3.14159" in result.output
    labels = driver["metadata"]["labels"]
    assert labels["sparkk8s.io/dag-id"] == result.dag_id and labels["sparkk8s.io/try-number"] == "1"
    assert driver["metadata"]["annotations"]["sparkk8s.io/run-id"] == result.dag_run.run_id


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_failed_driver_fails_the_task_with_exit_code_and_last_log_lines(cluster: KubeEmulator, run_dag,
                                                                          deferrable) -> None:
    result = run_dag(pi_task(deferrable, outcome="failed"), IMPORTS)
    assert result.states == {"pi": "failed"}
    assert "driver pod spark-jobs/" in result.output
    assert "failed (exit code 1, reason Error)" in result.output
    assert "Last driver log lines:\nPi is roughly 3.14159" in result.output
    # Failed drivers are kept for inspection by default.
    assert [p["status"]["phase"] for p in cluster.list("v1", "Pod", "spark-jobs", "spark-role=driver")] == ["Failed"]
