"""ArgoWorkflowTrigger as the triggerer sees it: serialized, re-created from its classpath and kwargs, and run
in another process than the worker that deferred, over both transports."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_provider_sparkk8s.hooks.argo import WorkflowRef
from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.triggers.argo import ArgoWorkflowTrigger
from tests.airflow.argo_support import FAILING, NS, PIPELINE, TRANSPORTS
from tests.triggers.runner import recreate, run_in_triggerer


@pytest.fixture
def cluster(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    kube = kube_emulator_factory(pod_run_seconds=0.2, pod_pending_seconds=0.05)
    kube.apply([PIPELINE, FAILING], NS)
    return kube


def submitted(kube: KubeEmulator, name: str, template: str) -> dict:
    kube.apply({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": name},
                "spec": {"workflowTemplateRef": {"name": template},
                         "arguments": {"parameters": [{"name": "dataset", "value": "d"}]}}}, NS)
    return WorkflowRef(NS, name, try_number=1).to_dict()




def test_serialize_round_trips() -> None:
    trigger = ArgoWorkflowTrigger(WorkflowRef(NS, "wf-1", "uid-1", 2, adopted=True).to_dict(), "argo_prod",
                                  "k8s_prod", timeout=90.5, kill_action="terminate")
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_sparkk8s.triggers.argo.ArgoWorkflowTrigger"
    assert recreate(trigger).serialize() == (classpath, kwargs)
    assert kwargs == {"ref": {"namespace": NS, "name": "wf-1", "uid": "uid-1", "try_number": 2, "adopted": True},
                      "argo_conn_id": "argo_prod", "kubernetes_conn_id": "k8s_prod", "timeout": 90.5,
                      "kill_action": "terminate", "target": None, "deadline": None}


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_run_outside_the_worker_reports_success_with_outputs(cluster: KubeEmulator, conn) -> None:
    event = run_in_triggerer(ArgoWorkflowTrigger(submitted(cluster, "ok-1", "pipeline"), conn, timeout=30))
    wf = cluster.get("argoproj.io/v1alpha1", "Workflow", "ok-1", NS)
    assert (event["status"], event["phase"], event["outputs"]) == ("success", "Succeeded", {"rows": "42"})
    assert event["ref"]["uid"] == wf["metadata"]["uid"] and event["progress"] == "2/2"


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_run_outside_the_worker_reports_the_failed_step(cluster: KubeEmulator, conn) -> None:
    event = run_in_triggerer(ArgoWorkflowTrigger(submitted(cluster, "bad-1", "failing"), conn, timeout=30))
    assert (event["status"], event["phase"]) == ("failed", "Failed")
    [node] = event["failed_nodes"]
    assert (node["display_name"], node["template"], node["exit_code"], node["message"]) == (
        "load", "load", "3", "main: Error (exit code 3)")
