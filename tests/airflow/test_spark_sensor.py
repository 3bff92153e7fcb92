"""SparkK8sSensor: wait for a Spark application something else started, by driver pod name, SparkApplication
name or label selector; deferrable or poking; the same success and failure semantics as the operator."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator

IMPORTS = "from airflow_provider_sparkk8s.sensors.spark import SparkK8sSensor\n"
NS = "spark-jobs"
SA = ("sparkoperator.k8s.io/v1beta2", "SparkApplication")
MODES = [pytest.param(False, id="poke"), pytest.param(True, id="deferred")]


def sensor(deferrable: bool, **kwargs: Any) -> str:
    args = {"task_id": "wait", "namespace": NS, "deferrable": deferrable, "poke_interval": 0.5, "timeout": 60,
            **kwargs}
    return "SparkK8sSensor(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


def driver_pod(name: str, outcome: str = "succeeded", log: str = "Pi is roughly 3.14", **labels: str) -> dict:
    """A driver pod as spark-submit creates it, started by someone else."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"spark-role": "driver", "spark-app-selector": f"spark-{name}", **labels},
                     "annotations": {"emulator.sparkk8s.io/outcome": outcome, "emulator.sparkk8s.io/log": log,
                                     "emulator.sparkk8s.io/executors": "0"}},
        "spec": {"restartPolicy": "Never",
                 "containers": [{"name": "spark-kubernetes-driver", "image": "apache/spark:4.0.1",
                                 "args": ["driver"]}]},
    }


def spark_application(name: str, outcome: str = "succeeded") -> dict:
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"type": "Python", "mode": "cluster", "image": "apache/spark:4.0.1", "sparkVersion": "4.0.1",
                 "mainApplicationFile": "local:///opt/spark/examples/src/main/python/pi.py",
                 "driver": {"cores": 1, "memory": "512m",
                            "annotations": {"emulator.sparkk8s.io/outcome": outcome,
                                            "emulator.sparkk8s.io/log": "Pi is roughly 3.14"}},
                 "executor": {"cores": 1, "memory": "512m", "instances": 1}},
    }


@pytest.fixture
def later(spark_cluster: KubeEmulator) -> Iterator[Any]:
    """Apply manifests from another thread after a delay, as another system starting an application would."""
    threads: list[threading.Thread] = []

    def apply(manifest: dict, delay: float) -> None:
        def run() -> None:
            time.sleep(delay)
            spark_cluster.apply(manifest)

        threads.append(threading.Thread(target=run, daemon=True))
        threads[-1].start()

    yield apply
    for t in threads:
        t.join(10)


@pytest.mark.parametrize("deferrable", MODES)
def test_driver_pod_success_succeeds_with_the_application_in_xcom(spark_cluster: KubeEmulator, run_dag,
                                                                   deferrable: bool) -> None:
    spark_cluster.apply(driver_pod("pi-driver"))
    result = run_dag(sensor(deferrable, driver_pod="pi-driver"), IMPORTS)
    assert result.states == {"wait": "success"}
    assert result.xcom("wait") == {"namespace": NS, "driver_pod": "pi-driver", "spark_app_id": "spark-pi-driver",
                                   "application": None, "state": "Succeeded"}


@pytest.mark.parametrize("deferrable", MODES)
def test_spark_application_success_succeeds_with_the_application_in_xcom(spark_cluster: KubeEmulator, run_dag,
                                                                          deferrable: bool) -> None:
    spark_cluster.apply(spark_application("nightly"))
    result = run_dag(sensor(deferrable, application_name="nightly"), IMPORTS)
    assert result.states == {"wait": "success"}
    status = spark_cluster.get(*SA, "nightly", NS)["status"]
    assert result.xcom("wait") == {"namespace": NS, "driver_pod": "nightly-driver",
                                   "spark_app_id": status["sparkApplicationId"], "application": "nightly",
                                   "state": "COMPLETED"}


@pytest.mark.parametrize("deferrable", MODES)
def test_label_selector_follows_the_newest_matching_driver(spark_cluster: KubeEmulator, run_dag,
                                                           deferrable: bool) -> None:
    spark_cluster.apply(driver_pod("other-driver", outcome="failed", team="other"))
    spark_cluster.apply(driver_pod("etl-driver", team="data"))
    result = run_dag(sensor(deferrable, label_selector="team=data"), IMPORTS)
    assert result.states == {"wait": "success"}
    assert result.xcom("wait")["driver_pod"] == "etl-driver"


@pytest.mark.parametrize("deferrable", MODES)
def test_failed_driver_fails_the_sensor_with_the_message_and_log_tail(spark_cluster: KubeEmulator, run_dag,
                                                                      deferrable: bool) -> None:
    spark_cluster.apply(driver_pod("pi-driver", outcome="failed", log="ValueError: bad input"))
    result = run_dag(sensor(deferrable, driver_pod="pi-driver"), IMPORTS)
    assert result.states == {"wait": "failed"}
    assert f"driver pod {NS}/pi-driver failed (exit code 1, reason Error)" in result.output
    assert "Last driver log lines:\nValueError: bad input" in result.output


@pytest.mark.parametrize("deferrable", MODES)
def test_failed_spark_application_fails_the_sensor_with_the_controller_message(spark_cluster: KubeEmulator,
                                                                               run_dag, deferrable: bool) -> None:
    spark_cluster.apply(spark_application("nightly", outcome="failed"))
    result = run_dag(sensor(deferrable, application_name="nightly"), IMPORTS)
    assert result.states == {"wait": "failed"}
    assert (f"SparkApplication {NS}/nightly ended in FAILED: driver container failed with ExitCode: 1, "
            "Reason: Error") in result.output


@pytest.mark.parametrize("deferrable", MODES)
def test_soft_fail_skips_on_a_failed_application(spark_cluster: KubeEmulator, run_dag, deferrable: bool) -> None:
    spark_cluster.apply(driver_pod("pi-driver", outcome="failed"))
    result = run_dag(sensor(deferrable, driver_pod="pi-driver", soft_fail=True), IMPORTS)
    assert result.states == {"wait": "skipped"}


@pytest.mark.parametrize("deferrable", MODES)
def test_application_that_does_not_exist_yet_is_waited_for(spark_cluster: KubeEmulator, run_dag, later,
                                                           deferrable: bool) -> None:
    later(spark_application("late"), delay=1.5)
    result = run_dag(sensor(deferrable, application_name="late"), IMPORTS)
    assert result.states == {"wait": "success"}
    assert result.xcom("wait")["state"] == "COMPLETED"
    assert "No SparkApplication late in spark-jobs yet" in result.output or "Waiting for SparkApplication late" \
        in result.output


@pytest.mark.parametrize("target", ["driver_pod", "application_name", "label_selector"])
def test_each_poke_costs_one_api_call(spark_cluster: KubeEmulator, target: str) -> None:
    from airflow_provider_sparkk8s.sensors.spark import SparkK8sSensor

    if target == "application_name":
        spark_cluster.apply(spark_application("etl", outcome="running"), NS)
        kwargs = {"application_name": "etl"}
    else:
        spark_cluster.apply(driver_pod("etl-driver", outcome="running", team="a"), NS)
        kwargs = {"driver_pod": "etl-driver"} if target == "driver_pod" else {"label_selector": "team=a"}
    wait = SparkK8sSensor(task_id="wait", namespace=NS, **kwargs)
    before = len(spark_cluster.requests.snapshot())
    assert [wait.poke({}) for _ in range(3)] == [False, False, False]
    assert len(spark_cluster.requests.snapshot()) - before == 3
