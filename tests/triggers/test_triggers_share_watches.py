"""Deferred tasks in one triggerer share watches: many SparkK8sTriggers and ArgoWorkflowTriggers running in one
event loop of another process hold one watch connection per (cluster, resource, namespace), not one each."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from airflow_provider_sparkk8s.hooks.argo import WorkflowRef
from airflow_provider_sparkk8s.hooks.spark import SparkRun
from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.triggers.argo import ArgoWorkflowTrigger
from airflow_provider_sparkk8s.triggers.spark import SparkK8sTrigger
from tests.airflow.argo_support import NS, TRANSPORTS
from tests.triggers.runner import events, start_in_triggerer

N = 20


def requests(kube: KubeEmulator, verb: str, resource: str) -> int:
    return sum(1 for r in kube.requests.snapshot() if r.verb == verb and r.resource == resource)


def wait_until(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_spark_triggers_share_one_pod_watch(kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory(simulate_pods=False)
    names = [f"app-{i}-driver" for i in range(N)]
    kube.apply([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"spark-role": "driver"}},
                 "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "spark"}]}} for name in names],
               NS)
    proc = start_in_triggerer([SparkK8sTrigger(SparkRun("spark-submit", NS, name).to_dict()) for name in names])
    try:
        wait_until(lambda: kube.store.watcher_count == 1 and requests(kube, "list", "pods") == 1)
        time.sleep(1)  # holding: no polling while nothing changes
        before = len(kube.requests.snapshot())
        time.sleep(2)
        assert len(kube.requests.snapshot()) == before
        for i, name in enumerate(names):
            phase = "Failed" if i == 0 else "Succeeded"
            kube.store.patch(kube.store.registry.get("", "v1", "pods"), NS, name, "merge",
                             {"status": {"phase": phase}}, subresource="status")
        fired = events(proc, N)
    finally:
        proc.kill()
    assert sorted(e["status"] for e in fired) == ["failed"] + ["success"] * (N - 1)
    assert requests(kube, "watch", "pods") == 1 and requests(kube, "get", "pods") <= 1  # the failed one's detail
    assert kube.store.watcher_count == 0


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_argo_triggers_share_one_workflow_watch(kube_emulator_factory: Callable[..., KubeEmulator], conn) -> None:
    kube = kube_emulator_factory(simulate_argo=False)
    workflows = kube.store.registry.get("argoproj.io", "v1alpha1", "workflows")
    names = [f"wf-{i}" for i in range(N)]
    kube.apply([{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": name},
                 "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]}}
                for name in names], NS)
    for name in names:
        kube.store.patch(workflows, NS, name, "merge", {"status": {"phase": "Running"}}, subresource="status")
    proc = start_in_triggerer([ArgoWorkflowTrigger(WorkflowRef(NS, name).to_dict(), conn) for name in names])
    resource = "argo/workflows" if conn else "workflows"
    try:
        wait_until(lambda: kube.store.watcher_count == 1 and requests(kube, "list", resource) == 1)
        for name in names:
            kube.store.patch(workflows, NS, name, "merge", {"status": {"phase": "Succeeded"}}, subresource="status")
        fired = events(proc, N)
    finally:
        proc.kill()
    assert {e["status"] for e in fired} == {"success"}
    assert requests(kube, "watch", resource) == 1 and requests(kube, "get", resource) == 0
