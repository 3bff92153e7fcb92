"""SparkK8sTrigger as the triggerer sees it: serialized, re-created from its classpath and kwargs, and run in
another process than the worker that deferred."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_provider_sparkk8s.hooks.spark import SparkRun
from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.triggers.spark import SparkK8sTrigger
from tests.triggers.runner import recreate, run_in_triggerer

NS = "spark-jobs"


def driver_pod(name: str, outcome: str, exit_code: int = 1) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"spark-role": "driver", "spark-app-selector": f"spark-{name}"},
                     "annotations": {"emulator.sparkk8s.io/outcome": outcome,
                                     "emulator.sparkk8s.io/exit-code": str(exit_code),
                                     "emulator.sparkk8s.io/log": "stage 1 done\nstage 2 done",
                                     "emulator.sparkk8s.io/executors": "0"}},
        "spec": {"restartPolicy": "Never",
                 "containers": [{"name": "spark-kubernetes-driver", "image": "apache/spark:4.0.1",
                                 "args": ["driver"]}]},
    }


def trigger_for(pod: str, **kwargs: object) -> SparkK8sTrigger:
    return SparkK8sTrigger(SparkRun("spark-submit", NS, pod, spark_app_id=None).to_dict(), **kwargs)


@pytest.fixture
def cluster(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory(namespaces=[NS])




def test_serialize_round_trips() -> None:
    trigger = trigger_for("pi-driver", kubernetes_conn_id="k8s_prod", startup_timeout=42.5, cluster_context="prod",
                          config_file="/etc/kube/config", in_cluster=False)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_sparkk8s.triggers.spark.SparkK8sTrigger"
    assert recreate(trigger).serialize() == (classpath, kwargs)
    assert kwargs["run"]["driver_pod"] == "pi-driver" and kwargs["startup_timeout"] == 42.5


def test_run_outside_the_worker_reports_success(cluster: KubeEmulator) -> None:
    cluster.apply(driver_pod("pi-driver", "succeeded"))
    event = run_in_triggerer(trigger_for("pi-driver", startup_timeout=30))
    assert (event["status"], event["state"], event["exit_code"]) == ("success", "Succeeded", 0)
    assert event["run"]["driver_pod"] == "pi-driver"
    assert event["run"]["spark_app_id"] == "spark-pi-driver"


def test_run_outside_the_worker_reports_failure_with_exit_code(cluster: KubeEmulator) -> None:
    cluster.apply(driver_pod("pi-driver", "failed", exit_code=3))
    event = run_in_triggerer(trigger_for("pi-driver", startup_timeout=30))
    assert (event["status"], event["state"], event["exit_code"], event["reason"]) == ("failed", "Failed", 3, "Error")
    assert event["message"] == f"driver pod {NS}/pi-driver failed (exit code 3, reason Error)"
    assert event["log_tail"] == ["stage 1 done", "stage 2 done"]


def test_a_sensor_target_that_never_appears_fires_a_timeout_at_the_deadline(cluster: KubeEmulator) -> None:
    import time

    from airflow_provider_sparkk8s.hooks.spark import SparkTarget

    trigger = SparkK8sTrigger(target=SparkTarget(NS, label_selector="team=nobody").to_dict(), deadline=time.time() + 3)
    assert recreate(trigger).serialize() == trigger.serialize()
    event = run_in_triggerer(trigger)
    assert (event["status"], event["message"]) == ("timeout", f"no driver pods matching team=nobody in {NS}")
    assert time.time() >= trigger.deadline
