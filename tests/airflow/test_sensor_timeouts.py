"""Every sensor honours `timeout`, `soft_fail` and `mode="reschedule"` whatever the state of what it waits for
(not there yet, pending, running), deferred or poking, and waits quietly: a log line when that state changes,
not one per poke. In real Airflow (`dag.test()`, which runs triggers in line and never enforces a deferral's
timeout itself: the trigger must end at the sensor's deadline)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.argo_support import ARGO_SERVER, NS, WF, argo

__all__ = ["argo"]

IMPORTS = ("from airflow_provider_sparkk8s.sensors.argo import ArgoWorkflowSensor\n"
           "from airflow_provider_sparkk8s.sensors.calendar import ArgoCalendarSensor\n"
           "from airflow_provider_sparkk8s.sensors.spark import SparkK8sSensor\n")
# Rendered when the task runs: the next event of an hourly calendar is an hour away.
NOW = "{{ macros.datetime.now().astimezone() }}"
HOURLY = {"interval": "1h"}
# Without the fix a deferred sensor never ends: fail instead of hanging.
pytestmark = pytest.mark.timeout(240)


def task(kind: str, task_id: str, **kwargs: Any) -> str:
    args = {"task_id": task_id, "poke_interval": 0.2, "timeout": 3, "retries": 0, **kwargs}
    if kind != "ArgoCalendarSensor" and "argo_conn_id" not in args:
        args.setdefault("namespace", NS)
    return f"{kind}(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")\n"


def driver_pod(name: str, outcome: str = "succeeded", **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {"spark-role": "driver", **labels},
                         "annotations": {"emulator.sparkk8s.io/outcome": outcome,
                                         "emulator.sparkk8s.io/executors": "0"}},
            "spec": {"restartPolicy": "Never",
                     "containers": [{"name": "spark-kubernetes-driver", "image": "apache/spark:4.0.1"}]}}


def workflow(name: str, template: str, **labels: str) -> dict:
    return {"apiVersion": WF[0], "kind": WF[1], "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"workflowTemplateRef": {"name": template},
                     "arguments": {"parameters": [{"name": "dataset", "value": "events"}]}}}


@pytest.fixture
def when_seen(argo: KubeEmulator) -> Iterator[Callable[..., None]]:
    """Apply a manifest once the emulator has served `count` requests of a verb on a resource (a sensor looked and
    found nothing), as another system starting an application at that moment would."""
    threads: list[threading.Thread] = []

    def apply(manifest: dict, verb: str, resource: str, count: int = 1) -> None:
        def run() -> None:
            deadline = time.monotonic() + 120
            while argo.requests.count(verb=verb, resource=resource) < count and time.monotonic() < deadline:
                time.sleep(0.1)
            argo.apply(manifest)

        threads.append(threading.Thread(target=run, daemon=True))
        threads[-1].start()

    yield apply
    for thread in threads:
        thread.join(1)


def waited(result: Any, task_id: str) -> float:
    ti = result.dag_run.get_task_instance(task_id)
    return (ti.end_date - ti.start_date).total_seconds()


def test_deferred_sensors_time_out_while_their_target_does_not_exist(argo: KubeEmulator, run_dag) -> None:
    body = (task("SparkK8sSensor", "spark_pod", driver_pod="never-appears", deferrable=True)
            + task("SparkK8sSensor", "spark_app", application_name="never-appears", deferrable=True)
            + task("SparkK8sSensor", "spark_selector", label_selector="team=nobody", deferrable=True)
            + task("ArgoWorkflowSensor", "argo_name", workflow_name="never-appears", deferrable=True)
            + task("ArgoWorkflowSensor", "argo_selector", label_selector="team=nobody", argo_conn_id=ARGO_SERVER,
                   deferrable=True)
            + task("ArgoCalendarSensor", "calendar", calendar=HOURLY, after=NOW, deferrable=True))
    result = run_dag(body, IMPORTS)
    assert set(result.states.values()) == {"failed"}, result.states
    for message in (f"no driver pod never-appears in {NS}",
                    f"no SparkApplication never-appears in {NS}",
                    f"no driver pods matching team=nobody in {NS}",
                    f"no workflow never-appears in {NS}",
                    f"no workflows matching team=nobody in {NS}",
                    "the calendar event is at "):
        assert f"AirflowSensorTimeout: Sensor has timed out after 3s: {message}" in result.output
    for task_id in result.states:
        assert waited(result, task_id) < 30


def test_soft_fail_skips_a_deferred_sensor_that_timed_out(argo: KubeEmulator, run_dag) -> None:
    body = (task("SparkK8sSensor", "spark", driver_pod="never-appears", deferrable=True, soft_fail=True)
            + task("ArgoWorkflowSensor", "argo", workflow_name="never-appears", deferrable=True, soft_fail=True)
            + task("ArgoCalendarSensor", "calendar", calendar=HOURLY, after=NOW, deferrable=True, soft_fail=True))
    result = run_dag(body, IMPORTS)
    assert result.states == {"spark": "skipped", "argo": "skipped", "calendar": "skipped"}


def test_deferred_sensors_time_out_while_their_target_is_pending_or_running(argo: KubeEmulator, run_dag) -> None:
    argo.apply(driver_pod("stuck-driver", outcome="unschedulable"))
    argo.apply(driver_pod("busy-driver", outcome="running"))
    argo.apply(workflow("busy", "long"))
    body = (task("SparkK8sSensor", "pending", driver_pod="stuck-driver", deferrable=True)
            + task("SparkK8sSensor", "running", driver_pod="busy-driver", deferrable=True)
            + task("ArgoWorkflowSensor", "workflow", workflow_name="busy", deferrable=True))
    result = run_dag(body, IMPORTS)
    assert result.states == {"pending": "failed", "running": "failed", "workflow": "failed"}
    assert f"Sensor has timed out after 3s: driver pod {NS}/stuck-driver is still Pending" in result.output
    assert f"Sensor has timed out after 3s: driver pod {NS}/busy-driver is still Running" in result.output
    assert f"Sensor has timed out after 3s: workflow {NS}/busy is still Running" in result.output


def test_a_target_that_appears_after_the_sensor_deferred_is_followed(argo: KubeEmulator, run_dag,
                                                                     when_seen) -> None:
    when_seen(driver_pod("late-driver"), "watch", "pods")
    when_seen(workflow("late", "pipeline", team="data"), "watch", "workflows")
    body = (task("SparkK8sSensor", "spark", driver_pod="late-driver", deferrable=True, timeout=120)
            + task("ArgoWorkflowSensor", "argo", label_selector="team=data", deferrable=True, timeout=120))
    result = run_dag(body, IMPORTS)
    assert result.states == {"spark": "success", "argo": "success"}
    assert result.xcom("spark")["state"] == "Succeeded"
    assert result.xcom("argo")["name"] == "late"


def test_reschedule_mode_waits_for_a_target_to_appear_and_times_out_across_reschedules(
        argo: KubeEmulator, run_dag, when_seen) -> None:
    when_seen(driver_pod("late-driver"), "get", "pods", count=2)  # after a reschedule
    body = (task("SparkK8sSensor", "appears", driver_pod="late-driver", mode="reschedule", poke_interval=1,
                 timeout=120)
            + task("ArgoWorkflowSensor", "never", workflow_name="never-appears", mode="reschedule", poke_interval=1))
    result = run_dag(body, IMPORTS)
    assert result.states == {"appears": "success", "never": "failed"}
    assert result.xcom("appears")["state"] == "Succeeded"
    assert "Rescheduling task, marking task as UP_FOR_RESCHEDULE" in result.output
    assert f"No driver pod late-driver in {NS} yet" in result.output
    assert "AirflowSensorTimeout" in result.output


def test_waiting_sensors_log_a_line_per_state_not_per_poke(argo: KubeEmulator, run_dag) -> None:
    body = (task("SparkK8sSensor", "spark", driver_pod="never-appears")
            + task("ArgoWorkflowSensor", "argo", workflow_name="never-appears")
            + task("ArgoCalendarSensor", "calendar", calendar=HOURLY, after=NOW)
            + task("SparkK8sSensor", "deferred", driver_pod="never-appears-either", deferrable=True))
    result = run_dag(body, IMPORTS)
    assert set(result.states.values()) == {"failed"}, result.states
    lines = result.output.splitlines()
    # 3 s of pokes every 0.2 s: one line says what each sensor waits for.
    assert len([line for line in lines if f"No driver pod never-appears in {NS} yet" in line]) == 1
    assert len([line for line in lines if f"No workflow never-appears in {NS} yet" in line]) == 1
    assert len([line for line in lines if "Waiting for the calendar event at" in line]) == 1
    assert not [line for line in lines if "sleeping" in line]
