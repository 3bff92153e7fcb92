"""How applications fail, as a user sees it in Airflow: the task state, the error message, and what is left
in the cluster. Uses the pod and spark-operator launchers (no JVM needed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator

IMPORTS = "from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator\n"
NS = "spark-jobs"
SA = ("sparkoperator.k8s.io/v1beta2", "SparkApplication")
LAUNCHERS = ["pod", "spark-operator"]
SCHEDULER_MESSAGE = "0/1 nodes are available: 1 Insufficient cpu."
DRIVER_LOG = "Pi is roughly 3.14"


def task(launcher: str, driver: dict[str, str] | None = None, **kwargs: Any) -> str:
    """A pi task; `driver` are emulator behaviour annotations (outcome, exit-code, log ...) for the driver."""
    annotations = {f"emulator.sparkk8s.io/{k}": v for k, v in (driver or {}).items()}
    args: dict[str, Any] = {"task_id": "pi", "application": "local:///opt/spark/examples/src/main/python/pi.py",
                            "image": "apache/spark:4.0.1", "namespace": NS, "launcher": launcher,
                            "executor_instances": 1}
    if launcher == "spark-operator":
        args["annotations"] = annotations  # spec.driver.annotations (and the executors', which ignore them)
    else:
        args["conf"] = {f"spark.kubernetes.driver.annotation.{k}": v for k, v in annotations.items()}
    args.update(kwargs)
    return "SparkK8sOperator(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


def left_behind(cluster: KubeEmulator) -> list[str]:
    pods = [f"pod/{p['metadata']['name']}" for p in cluster.list("v1", "Pod", NS)]
    return pods + [f"sparkapplication/{a['metadata']['name']}" for a in cluster.list(*SA, NS)]


@pytest.fixture
def delete_running_driver(spark_cluster: KubeEmulator) -> Iterator[Callable[[], None]]:
    """Start a thread that deletes the driver pod once it is Running, as a person or a controller might."""
    threads: list[threading.Thread] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            for pod in spark_cluster.list("v1", "Pod", NS, "spark-role=driver"):
                if (pod.get("status") or {}).get("phase") == "Running":
                    time.sleep(0.3)  # the task is waiting on it by now
                    spark_cluster.store.delete(spark_cluster.store.rt("v1", "Pod"), NS, pod["metadata"]["name"])
                    return

    def start() -> None:
        threads.append(threading.Thread(target=watch, daemon=True))
        threads[-1].start()

    yield start
    stop.set()
    for t in threads:
        t.join(5)


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_unschedulable_driver_fails_after_startup_timeout_with_the_scheduler_message_and_is_deleted(
        spark_cluster: KubeEmulator, run_dag, launcher: str) -> None:
    result = run_dag(task(launcher, {"outcome": "unschedulable"}, startup_timeout_seconds=2), IMPORTS)
    assert result.states == {"pi": "failed"}
    assert "-driver did not start in time: still Pending (Unschedulable): " + SCHEDULER_MESSAGE in result.output
    assert left_behind(spark_cluster) == []


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_image_pull_backoff_driver_fails_after_startup_timeout_and_is_deleted(spark_cluster: KubeEmulator, run_dag,
                                                                              launcher: str) -> None:
    result = run_dag(task(launcher, {"outcome": "imagepullbackoff"}, startup_timeout_seconds=2), IMPORTS)
    assert result.states == {"pi": "failed"}
    assert ("-driver did not start in time: still Pending (ImagePullBackOff): Back-off pulling image "
            '"apache/spark:4.0.1"') in result.output
    assert 'last warning event: Failed to pull image "apache/spark:4.0.1": rpc error' in result.output
    assert left_behind(spark_cluster) == []


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_oom_killed_driver_fails_naming_oomkilled_and_exit_code_137(spark_cluster: KubeEmulator, run_dag,
                                                                    launcher: str) -> None:
    result = run_dag(task(launcher, {"outcome": "oomkilled"}), IMPORTS)
    assert result.states == {"pi": "failed"}
    if launcher == "pod":
        assert "-driver failed (exit code 137, reason OOMKilled)" in result.output
    else:
        assert "ended in FAILED: driver container failed with ExitCode: 137, Reason: OOMKilled" in result.output
    # Failed applications are kept for inspection by default.
    assert [p["status"]["phase"] for p in spark_cluster.list("v1", "Pod", NS, "spark-role=driver")] == ["Failed"]


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_driver_deleted_by_someone_else_fails_the_task_saying_it_was_deleted(
        spark_cluster: KubeEmulator, run_dag, delete_running_driver: Callable[[], None], launcher: str,
        deferrable: bool) -> None:
    delete_running_driver()
    result = run_dag(task(launcher, {"outcome": "running"}, deferrable=deferrable), IMPORTS)
    assert result.states == {"pi": "failed"}
    assert "-driver was deleted" in result.output
    assert spark_cluster.list("v1", "Pod", NS, "spark-role=driver") == []


def test_spark_application_deleted_by_someone_else_fails_the_task(spark_cluster: KubeEmulator, run_dag) -> None:
    def delete_app() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for app in spark_cluster.list(*SA, NS):
                if (app.get("status") or {}).get("applicationState", {}).get("state") == "RUNNING":
                    spark_cluster.store.delete(spark_cluster.store.rt(*SA), NS, app["metadata"]["name"])
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=delete_app, daemon=True)
    thread.start()
    result = run_dag(task("spark-operator", {"outcome": "running"}), IMPORTS)
    thread.join(5)
    assert result.states == {"pi": "failed"}
    assert "was deleted before it finished" in result.output


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_delete_succeeded_pod_removes_the_driver(spark_cluster: KubeEmulator, run_dag, launcher: str) -> None:
    result = run_dag(task(launcher, on_finish_action="delete_succeeded_pod"), IMPORTS)
    assert result.states == {"pi": "success"}
    assert spark_cluster.get("v1", "Pod", result.xcom("pi")["driver_pod"], NS) is None
    assert left_behind(spark_cluster) == [] or all(
        name.startswith("pod/") and "-exec-" in name for name in left_behind(spark_cluster))


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_get_logs_false_writes_no_driver_lines(spark_cluster: KubeEmulator, run_dag, deferrable: bool) -> None:
    result = run_dag(task("pod", {"log": DRIVER_LOG}, get_logs=False, deferrable=deferrable), IMPORTS)
    assert result.states == {"pi": "success"}
    assert "[driver]" not in result.output
    assert DRIVER_LOG not in result.output
