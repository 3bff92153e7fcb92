"""What a task's kill handler does reaches the cluster with the connection the task already loaded.

SIGTERM runs on_kill on the task's main thread, which may be in the middle of a request to Airflow's supervisor
(a task-state write, an XCom push, a connection lookup). A second connection lookup from on_kill would wait for
that request until the supervisor SIGKILLs the task, leaving the application running (found by the kills
campaign). Here the connections break after the first call: the lookup path fails, the kill path still works.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.hooks.argo import ArgoWorkflowsHook, WorkflowRef, shutdown_workflow
from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook
from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.argo_support import LONG, NS, TRANSPORTS, WF

PODS = f"/api/v1/namespaces/{NS}/pods"


def break_connections(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """From now on, looking the connections up gives settings that reach no cluster."""
    missing = json.dumps({"conn_type": "kubernetes", "extra": {"kube_config_path": str(tmp_path / "missing")}})
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", missing)
    monkeypatch.setenv("AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT", json.dumps({"conn_type": "argo_workflows"}))


def test_the_spark_hook_deletes_without_a_second_lookup(kube_emulator_factory, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    kube: KubeEmulator = kube_emulator_factory(tls=True, token="task-token")
    kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app-driver", "annotations": {
        "emulator.sparkk8s.io/outcome": "running"}}, "spec": {"containers": [{"name": "c", "image": "spark"}]}}, NS)
    hook = SparkK8sHook()
    assert [p["metadata"]["name"] for p in hook.run(lambda api: api.request("GET", PODS))["items"]] == ["app-driver"]

    break_connections(monkeypatch, tmp_path)
    hook.run(lambda api: api.request("DELETE", f"{PODS}/app-driver"), lookup=False)
    assert kube.get("v1", "Pod", "app-driver", NS) is None
    with pytest.raises(Exception, match="kube-config"):  # noqa: B017, PT011 - a lookup now fails
        hook.run(lambda api: api.request("GET", PODS))


@pytest.mark.parametrize("argo_conn_id", TRANSPORTS)
def test_the_argo_hook_stops_a_workflow_without_a_second_lookup(
        argo_conn_id: str | None, kube_emulator_factory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    kube: KubeEmulator = kube_emulator_factory(tls=True, token="task-token")
    kube.apply(LONG, NS)
    kube.apply({"apiVersion": WF[0], "kind": WF[1], "metadata": {"name": "long-run"},
                "spec": {"workflowTemplateRef": {"name": "long"}}}, NS)
    hook = ArgoWorkflowsHook(argo_conn_id)
    assert hook.run(lambda transport: transport.get(NS, "long-run"))["metadata"]["name"] == "long-run"

    break_connections(monkeypatch, tmp_path)
    done = hook.run(lambda transport: shutdown_workflow(transport, WorkflowRef(NS, "long-run"), "stop"),
                    lookup=False)
    assert done == f"workflow {NS}/long-run: shutdown strategy Stop requested"
    assert kube.get(*WF, "long-run", NS)["spec"]["shutdown"] == "Stop"
    with pytest.raises(Exception, match="kube-config|has no Argo Server URL"):  # noqa: B017, PT011
        hook.run(lambda transport: transport.get(NS, "long-run"))
