"""SparkK8sOperator in a real Airflow 3 deployment: what happens to the Spark application when a user kills
the task, when the task process crashes, and when the triggerer or the scheduler is restarted."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_sparkk8s.identity import TASK_KEY, TaskIdentity
from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.e2e.held_drivers import HeldDrivers
from tests.stack import AirflowStack
from tests.stack_fixtures import NAMESPACE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TASK = "spark"
KILL_DEADLINE = 5.0  # seconds from "mark failed" until the application is gone


def spark_dag(dag_id: str, *, launcher: str, deferrable: bool, run_seconds: float | None = None, held: bool = False,
              retries: int = 0, retry_delay: float = 1) -> str:
    """A DAG with one SparkK8sOperator whose driver runs `run_seconds`, or forever when None, or (`held`) until
    the test releases it (HeldDrivers)."""
    behaviour = ({} if held else {"emulator.sparkk8s.io/outcome": "running"} if run_seconds is None
                 else {"emulator.sparkk8s.io/run-seconds": str(run_seconds)})
    return f"""
from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    SparkK8sOperator(
        task_id={TASK!r},
        application="local:///opt/spark/examples/src/main/python/pi.py",
        image="apache/spark:4.0.1",
        namespace={NAMESPACE!r},
        launcher={launcher!r},
        deferrable={deferrable!r},
        annotations={behaviour!r},
        conf={{"spark.executor.instances": "1"}},
        retries={retries},
        retry_delay=timedelta(seconds={retry_delay}),
    )
"""


class SparkDag:
    """One DAG run of `spark_dag` and what it created in the emulator."""

    def __init__(self, stack: AirflowStack, kube: KubeEmulator, held: HeldDrivers | None = None, **dag: Any) -> None:
        self.stack, self.kube, self.held = stack, kube, held
        self.dag_id = f"e2e_{uuid.uuid4().hex[:10]}"
        if held is not None:
            held.hold(self.dag_id)
        stack.add_dag(self.dag_id, spark_dag(self.dag_id, held=held is not None, **dag))
        self.run_id = stack.trigger(self.dag_id)
        self.task_key = TaskIdentity(self.dag_id, TASK, self.run_id).task_key

    def objects(self, role: str, kind: str = "Pod", api_version: str = "v1") -> list[dict]:
        """What any try of the task created, by the provider's role label (driver, launcher, application)."""
        return self.kube.list(api_version, kind, NAMESPACE, f"{TASK_KEY}={self.task_key},sparkk8s.io/role={role}")

    def drivers(self) -> list[dict]:
        return self.objects("driver")

    def release_driver(self) -> None:
        """Let the held driver succeed."""
        assert self.held is not None, "the driver of this run is not held"
        self.held.release(self.dag_id)

    def wait_for_running_driver(self, timeout: float = 60) -> dict:
        def running() -> dict | None:
            pods = [p for p in self.drivers() if (p.get("status") or {}).get("phase") == "Running"]
            return pods[0] if pods else None

        return self.stack.wait(running, timeout, f"a Running driver pod of {self.dag_id}")

    def ti(self) -> dict[str, Any]:
        return self.stack.ti(self.dag_id, self.run_id, TASK)

    def wait_for_state(self, *states: str, timeout: float = 60) -> dict[str, Any]:
        return self.stack.wait_for_ti(self.dag_id, self.run_id, TASK, states, timeout)

    def mark_failed(self) -> float:
        """Mark the task instance failed as the UI does; returns when it was done (monotonic)."""
        self.stack.set_ti_state(self.dag_id, self.run_id, TASK, "failed")
        return time.monotonic()

    def log(self, try_number: int = 1) -> str:
        return self.stack.task_log(self.dag_id, self.run_id, TASK, try_number)

    def wait_for_trigger(self, timeout: float = 30) -> None:
        """Until the triggerer runs the trigger: a deferred state alone only means a trigger row exists."""
        self.stack.wait(lambda: "Waiting for " in self.stack.trigger_log(self.dag_id, self.run_id, TASK), timeout,
                        f"the triggerer to run the trigger of {self.dag_id}")

    def xcom(self, key: str = "return_value") -> Any:
        entry = self.stack.api("GET", f"/dags/{self.dag_id}/dagRuns/{self.run_id}/taskInstances/{TASK}/"
                                      f"xcomEntries/{key}")
        return entry["value"]


@pytest.fixture(scope="module")
def held_drivers(e2e_kube: KubeEmulator) -> Iterator[HeldDrivers]:
    held = HeldDrivers()
    e2e_kube.pods.add_program(held)
    yield held
    held.release_all()  # nothing of this module keeps running in the session's emulator


def wait_gone(stack: AirflowStack, what: str, present: Any, since: float, deadline: float = KILL_DEADLINE) -> float:
    """Wait until `present()` is empty; returns the seconds it took from `since`."""
    stack.wait(lambda: not present(), deadline - (time.monotonic() - since), what, interval=0.1)
    return time.monotonic() - since


def test_mark_failed_while_running_deletes_the_application(airflow_stack: AirflowStack,
                                                           e2e_kube: KubeEmulator) -> None:
    """A user kill of a task waiting on the worker (non-deferrable): the operator's on_kill deletes the
    launcher and driver pods."""
    run = SparkDag(airflow_stack, e2e_kube, launcher="pod", deferrable=False)
    run.wait_for_running_driver()
    assert run.objects("launcher"), "the pod launcher's pod should exist"
    run.wait_for_state("running")

    killed_at = run.mark_failed()
    took = wait_gone(airflow_stack, "driver and launcher pods deleted",
                     lambda: run.drivers() + run.objects("launcher"), killed_at)

    assert run.ti()["state"] == "failed"
    assert took < KILL_DEADLINE
    airflow_stack.wait(lambda: "Deleted " in run.log(), 15, "the task log to record the deletion")


def test_mark_failed_while_deferred_deletes_the_application(airflow_stack: AirflowStack,
                                                            e2e_kube: KubeEmulator) -> None:
    """A user kill of a deferred task: the triggerer cancels the trigger and its on_kill deletes the
    SparkApplication (and with it the driver pod)."""
    run = SparkDag(airflow_stack, e2e_kube, launcher="spark-operator", deferrable=True)
    run.wait_for_running_driver()
    run.wait_for_state("deferred")
    run.wait_for_trigger()
    assert len(run.objects("application", "SparkApplication", "sparkoperator.k8s.io/v1beta2")) == 1

    killed_at = run.mark_failed()
    took = wait_gone(airflow_stack, "SparkApplication and driver pod deleted",
                     lambda: run.drivers() + run.objects("application", "SparkApplication",
                                                         "sparkoperator.k8s.io/v1beta2"), killed_at)

    assert run.ti()["state"] == "failed"
    assert took < KILL_DEADLINE
    airflow_stack.wait(lambda: "Task killed: deleted SparkApplication" in airflow_stack.trigger_log(
        run.dag_id, run.run_id, TASK), 10, "the trigger to log the deletion")


def test_triggerer_restart_keeps_the_application_and_the_task_completes(airflow_stack: AirflowStack,
                                                                         e2e_kube: KubeEmulator,
                                                                         held_drivers: HeldDrivers) -> None:
    """SIGTERM to the triggerer is a shutdown, not a user kill: the application keeps running, a new
    triggerer takes the trigger over and the task succeeds when the driver does."""
    run = SparkDag(airflow_stack, e2e_kube, held_drivers, launcher="pod", deferrable=True)
    driver = run.wait_for_running_driver()
    run.wait_for_state("deferred")
    run.wait_for_trigger()

    old = airflow_stack.components["triggerer"]
    airflow_stack.restart("triggerer")
    assert "invoking on_kill" not in old.tail(400)
    assert [p["metadata"]["uid"] for p in run.drivers()] == [driver["metadata"]["uid"]]
    assert run.ti()["state"] == "deferred"

    run.release_driver()
    ti = run.wait_for_state("success", timeout=90)
    assert ti["try_number"] == 1
    pods = run.drivers()
    assert [(p["metadata"]["uid"], p["status"]["phase"]) for p in pods] == [(driver["metadata"]["uid"], "Succeeded")]
    assert run.xcom()["state"] == "Succeeded"


@pytest.mark.parametrize(("retry_delay", "retry_finds"), [
    (1, "Adopting"),
    # The driver is let finish at the kill: the retry, at least retry_delay after it, finds it ended.
    (5, "taking its outcome instead of running the application again"),
], ids=["retry-while-running", "retry-after-it-succeeded"])
def test_killed_task_process_is_retried_and_adopts_the_application(airflow_stack: AirflowStack,
                                                                   e2e_kube: KubeEmulator, held_drivers: HeldDrivers,
                                                                   retry_delay: float, retry_finds: str) -> None:
    """SIGKILL of the task process (no on_kill can run): the retry finds the application the lost try
    submitted and waits for it, or takes its success when it has already ended, instead of submitting a
    second one."""
    run = SparkDag(airflow_stack, e2e_kube, held_drivers, launcher="pod", deferrable=False, retries=1,
                   retry_delay=retry_delay)
    driver = run.wait_for_running_driver()
    ti = run.wait_for_state("running")
    pid = airflow_stack.task_process(ti["id"])
    assert pid is not None, f"no task process for task instance {ti['id']}"
    os.kill(pid, signal.SIGKILL)
    if retry_finds == "Adopting":
        airflow_stack.wait(lambda: retry_finds in run.log(2), 90, "the retry to adopt the running driver")
    run.release_driver()

    ti = run.wait_for_state("success", timeout=retry_delay + 90)
    assert ti["try_number"] == 2
    assert [p["metadata"]["uid"] for p in run.drivers()] == [driver["metadata"]["uid"]]
    assert len(run.objects("launcher")) == 1
    result = run.xcom()
    assert result["adopted"] is True and result["state"] == "Succeeded"
    assert retry_finds in run.log(2)


def test_cleared_task_runs_its_application_again(airflow_stack: AirflowStack, e2e_kube: KubeEmulator) -> None:
    """Clearing a task whose application succeeded (and reported it) is a request to run it again: the next
    try submits a new application rather than taking the old outcome."""
    run = SparkDag(airflow_stack, e2e_kube, launcher="pod", deferrable=False, run_seconds=1)
    run.wait_for_state("success", timeout=90)
    # Clear the finished run, as a user sees it in the UI: on SQLite (no row locks) a clear that lands while
    # the scheduler is still marking the run successful is overwritten, leaving the task cleared in a
    # finished run that is never scheduled again. That race is Airflow's, not the operator's.
    airflow_stack.wait(lambda: airflow_stack.dag_run_state(run.dag_id, run.run_id) == "success", 60,
                       "the scheduler to mark the run successful")
    [first] = run.drivers()
    airflow_stack.api("POST", f"/dags/{run.dag_id}/clearTaskInstances",
                      json={"dag_run_id": run.run_id, "task_ids": [TASK], "dry_run": False, "only_failed": False})
    airflow_stack.wait(lambda: run.ti()["try_number"] == 2 and run.ti()["state"] == "success", 90,
                       "the second try to succeed")
    drivers = run.drivers()
    assert len(drivers) == 2 and first["metadata"]["uid"] in {p["metadata"]["uid"] for p in drivers}
    assert run.xcom()["adopted"] is False
    assert "Created launcher pod" in run.log(2)


def test_scheduler_sigterm_waits_for_the_running_task(airflow_stack: AirflowStack, e2e_kube: KubeEmulator,
                                                      held_drivers: HeldDrivers) -> None:
    """A plain shutdown of the scheduler (SIGTERM to its main process, as a process manager or Kubernetes
    sends it) while a non-deferrable Spark task runs: the LocalExecutor waits for running tasks, so the task
    is not killed, the application survives and the task succeeds; the scheduler exits afterwards."""
    run = SparkDag(airflow_stack, e2e_kube, held_drivers, launcher="pod", deferrable=False)
    driver = run.wait_for_running_driver()
    run.wait_for_state("running")
    scheduler = airflow_stack.components["scheduler"]
    try:
        airflow_stack.signal("scheduler", signal.SIGTERM)
        time.sleep(3)
        assert scheduler.alive(), "the scheduler should wait for the running task"
        assert "waiting for running tasks to finish" in scheduler.tail(200)
        assert [p["status"]["phase"] for p in run.drivers()] == ["Running"]
        assert run.ti()["state"] == "running"

        run.release_driver()
        ti = run.wait_for_state("success", timeout=60)
        assert ti["try_number"] == 1
        assert [p["metadata"]["uid"] for p in run.drivers()] == [driver["metadata"]["uid"]]
        airflow_stack.wait(lambda: not scheduler.alive(), 30, "the scheduler to exit after the task")
        assert scheduler.process is not None and scheduler.process.returncode == 0
    finally:
        airflow_stack.restart("scheduler")
