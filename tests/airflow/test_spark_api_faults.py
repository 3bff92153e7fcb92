"""Kubernetes API faults while an application is submitted and waited for: 500s, 429 with Retry-After,
dropped watches, 410 Gone and a compacted history never change the outcome nor submit twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator

IMPORTS = "from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator\n"
NS = "spark-jobs"
SA = ("sparkoperator.k8s.io/v1beta2", "SparkApplication")
MODES = [pytest.param(False, id="sync"), pytest.param(True, id="deferred")]


def task(launcher: str = "pod", driver: dict[str, str] | None = None, **kwargs: Any) -> str:
    annotations = {f"emulator.sparkk8s.io/{k}": v for k, v in (driver or {}).items()}
    args: dict[str, Any] = {"task_id": "pi", "application": "local:///opt/spark/examples/src/main/python/pi.py",
                            "image": "apache/spark:4.0.1", "namespace": NS, "launcher": launcher,
                            "executor_instances": 1}
    if launcher == "spark-operator":
        args["annotations"] = annotations
    else:
        args["conf"] = {f"spark.kubernetes.driver.annotation.{k}": v for k, v in annotations.items()}
    args.update(kwargs)
    return "SparkK8sOperator(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


def submissions(cluster: KubeEmulator, resource: str) -> int:
    """Successful create calls (failed attempts that created nothing do not count)."""
    return sum(1 for r in cluster.requests.snapshot() if r.verb == "create" and r.resource == resource
               and 200 <= r.status < 300)


def assert_one_submission(cluster: KubeEmulator, launcher: str) -> None:
    if launcher == "pod":
        assert cluster.requests.count(verb="create", resource="pods") == 1
        assert len(cluster.list("v1", "Pod", NS, "sparkk8s.io/role=launcher")) == 1
    else:
        assert cluster.requests.count(verb="create", resource="sparkapplications") == 1
        assert len(cluster.list(*SA, NS)) == 1
    assert len(cluster.list("v1", "Pod", NS, "spark-role=driver")) == 1


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("launcher", ["pod", "spark-operator"])
def test_server_errors_on_watches_are_retried(spark_cluster: KubeEmulator, run_dag, launcher: str,
                                              deferrable: bool) -> None:
    resource = "pods" if launcher == "pod" else "sparkapplications"
    fault = spark_cluster.faults.add(status=500, verb="watch", resource=resource, times=3)
    result = run_dag(task(launcher, deferrable=deferrable), IMPORTS)
    assert result.states == {"pi": "success"}
    assert fault.fired == 3
    assert_one_submission(spark_cluster, launcher)


def test_server_errors_on_create_submit_exactly_once(spark_cluster: KubeEmulator, run_dag) -> None:
    fault = spark_cluster.faults.add(status=500, verb="create", resource="sparkapplications", times=2)
    result = run_dag(task("spark-operator"), IMPORTS)
    assert result.states == {"pi": "success"}
    assert fault.fired == 2
    assert submissions(spark_cluster, "sparkapplications") == 1
    assert len(spark_cluster.list(*SA, NS)) == 1


@pytest.mark.parametrize("deferrable", MODES)
def test_too_many_requests_is_retried_after_retry_after(spark_cluster: KubeEmulator, run_dag,
                                                        deferrable: bool) -> None:
    spark_cluster.faults.add(status=429, retry_after=1, verb="list", resource="pods", times=1)
    result = run_dag(task(deferrable=deferrable), IMPORTS)
    assert result.states == {"pi": "success"}
    records = spark_cluster.requests.snapshot()
    throttled = next(r for r in records if r.status == 429)
    retry = next(r for r in records if r.started > throttled.started and (r.verb, r.resource, r.path) ==
                 (throttled.verb, throttled.resource, throttled.path))
    assert retry.started - throttled.started >= 1.0
    assert_one_submission(spark_cluster, "pod")


def test_too_many_requests_on_create_waits_and_submits_once(spark_cluster: KubeEmulator, run_dag) -> None:
    spark_cluster.faults.add(status=429, retry_after=1, verb="create", resource="sparkapplications", times=1)
    result = run_dag(task("spark-operator"), IMPORTS)
    assert result.states == {"pi": "success"}
    creates = [r for r in spark_cluster.requests.snapshot() if r.verb == "create"
               and r.resource == "sparkapplications"]
    assert [r.status for r in creates] == [429, 201]
    assert creates[1].started - creates[0].started >= 1.0
    assert len(spark_cluster.list(*SA, NS)) == 1


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("launcher", ["pod", "spark-operator"])
def test_dropped_watches_are_resumed(spark_cluster: KubeEmulator, run_dag, launcher: str, deferrable: bool) -> None:
    fault = spark_cluster.faults.add(verb="watch", drop_watch_after_events=1)
    result = run_dag(task(launcher, {"run-seconds": "2"}, deferrable=deferrable), IMPORTS)
    assert result.states == {"pi": "success"}
    assert fault.fired >= 1  # how many watches it cuts depends on when the wait starts
    assert_one_submission(spark_cluster, launcher)


def test_dropped_watches_do_not_hide_a_failure(spark_cluster: KubeEmulator, run_dag) -> None:
    spark_cluster.faults.add(verb="watch", drop_watch_after_events=1)
    result = run_dag(task("pod", {"outcome": "failed", "exit-code": "4"}), IMPORTS)
    assert result.states == {"pi": "failed"}
    assert "failed (exit code 4, reason Error)" in result.output
    assert_one_submission(spark_cluster, "pod")


@pytest.mark.parametrize("deferrable", MODES)
def test_gone_watches_relist(spark_cluster: KubeEmulator, run_dag, deferrable: bool) -> None:
    fault = spark_cluster.faults.add(verb="watch", resource="pods", gone=True, times=3)
    result = run_dag(task(deferrable=deferrable), IMPORTS)
    assert result.states == {"pi": "success"}
    assert fault.fired == 3
    assert spark_cluster.requests.count(verb="list", resource="pods") >= 4  # each 410 means a relist
    assert_one_submission(spark_cluster, "pod")


@pytest.fixture
def compaction(spark_cluster: KubeEmulator) -> Iterator[list[int]]:
    """Write something and compact the store's history (as etcd compaction does) every 0.05 s while the test
    runs: any watch resumed from a resourceVersion seen before then gets 410 Gone. Yields the list of
    compactions done."""
    done: list[int] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.05):
            # The write moves the resourceVersion on, so even a client that saw the newest event is behind.
            spark_cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "compaction-tick", "namespace": "default"},
                                 "data": {"tick": str(len(done))}})
            spark_cluster.store.compact()
            done.append(spark_cluster.store.resource_version)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield done
    stop.set()
    thread.join(5)


@pytest.mark.parametrize("deferrable", MODES)
def test_compacted_history_mid_wait_relists(spark_cluster: KubeEmulator, run_dag, compaction: list[int],
                                            deferrable: bool) -> None:
    # Every watch is cut after 0.3 s (before any bookmark could move it on), so the waiter keeps resuming
    # from resourceVersions that the compaction has meanwhile forgotten.
    spark_cluster.faults.add(verb="watch", resource="sparkapplications", drop_watch_after_seconds=0.3)
    result = run_dag(task("spark-operator", {"run-seconds": "1.5"}, deferrable=deferrable), IMPORTS)
    assert compaction
    assert result.states == {"pi": "success"}
    # One list to look for an application to adopt, one to start waiting: any more followed a 410.
    assert spark_cluster.requests.count(verb="list", resource="sparkapplications") > 2
    assert_one_submission(spark_cluster, "spark-operator")


def test_an_expired_token_is_read_again_while_waiting(kube_emulator_factory, run_dag) -> None:
    from airflow_provider_sparkk8s.testing.faults import rotate_token

    cluster = kube_emulator_factory(namespaces=[NS], token="first-token")
    rotated = threading.Event()

    def rotate_once_the_driver_runs() -> None:
        while not rotated.is_set():
            if any((p.get("status") or {}).get("phase") == "Running"
                   for p in cluster.list("v1", "Pod", NS, "spark-role=driver")):
                rotate_token(cluster)  # the kubeconfig now holds the new token; the old one gets 401
                rotated.set()
            rotated.wait(0.05)

    thread = threading.Thread(target=rotate_once_the_driver_runs, daemon=True)
    thread.start()
    result = run_dag(task("pod", {"run-seconds": "3"}), IMPORTS)
    rotated.set()
    thread.join(5)
    assert result.states == {"pi": "success"}
    statuses = [r.status for r in cluster.requests.snapshot()]
    assert 401 in statuses  # the waiting task did hold the expired token
    assert_one_submission(cluster, "pod")
