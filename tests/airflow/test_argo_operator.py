"""ArgoWorkflowOperator in real Airflow (dag.test) against the emulator, over both transports (the Kubernetes
API and the Argo Server), waiting on the worker and deferred: submission, results, failures, validation."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.argo_support import (
    MODES,
    NS,
    OPERATOR_IMPORTS,
    TRANSPORTS,
    WF,
    argo,
    operator,
    workflows,
)

__all__ = ["argo"]

INLINE = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"generateName": "inline-"},
    "spec": {"entrypoint": "say", "arguments": {"parameters": [{"name": "word", "value": "hi"}]},
             "templates": [{"name": "say", "inputs": {"parameters": [{"name": "word"}]},
                            "container": {"image": "busybox:1.36", "command": ["echo"],
                                          "args": ["{{inputs.parameters.word}}"]}}]},
}


def failed_message(wf: dict) -> str:
    return wf["status"]["message"]


@pytest.mark.lowest  # also against the lowest supported Airflow (make test-lowest)
@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_success_pushes_the_workflow_and_its_outputs_to_xcom(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    result = run_dag(operator(deferrable, conn, workflow_template="pipeline", parameters={"dataset": "sales"},
                              ui_base_url="https://argo.example.com/"), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    [wf] = workflows(argo)
    status = wf["status"]
    value = result.xcom("wf")
    assert value == {"name": wf["metadata"]["name"], "namespace": NS, "uid": wf["metadata"]["uid"],
                     "phase": "Succeeded", "progress": "2/2", "started_at": status["startedAt"],
                     "finished_at": status["finishedAt"], "outputs": {"rows": "42"}, "adopted": False}
    assert result.xcom("wf", "argo_workflow_url") == f"https://argo.example.com/workflows/{NS}/{value['name']}"
    assert result.xcom("wf", "workflow_name") == value["name"]
    assert "trained on sales" in result.output


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_overrides_and_airflow_identity_go_into_the_workflow(argo: KubeEmulator, run_dag, conn) -> None:
    result = run_dag(operator(False, conn, workflow_template="pipeline",
                              parameters={"dataset": 2026, "mode": "full"}, labels={"team": "data"},
                              annotations={"example.com/ticket": "DATA-1"}, service_account_name="argo-runner",
                              priority=5, generate_name="nightly-"), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    [wf] = workflows(argo)
    meta, spec = wf["metadata"], wf["spec"]
    assert meta["name"].startswith("nightly-")
    assert spec["workflowTemplateRef"] == {"name": "pipeline"}
    assert spec["arguments"]["parameters"] == [{"name": "dataset", "value": "2026"}, {"name": "mode", "value": "full"}]
    assert spec["serviceAccountName"] == "argo-runner" and spec["priority"] == 5
    assert meta["labels"]["team"] == "data"
    assert meta["labels"]["sparkk8s.io/dag-id"] == result.dag_id and meta["labels"]["sparkk8s.io/task-id"] == "wf"
    assert meta["labels"]["sparkk8s.io/try-number"] == "1"
    assert meta["annotations"]["example.com/ticket"] == "DATA-1"
    assert meta["annotations"]["sparkk8s.io/run-id"] == result.dag_run.run_id


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_entrypoint_override_runs_another_template(argo: KubeEmulator, run_dag, conn) -> None:
    result = run_dag(operator(False, conn, workflow_template="pipeline", entrypoint="prepare",
                              parameters={"dataset": "x"}), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    [wf] = workflows(argo)
    assert wf["spec"]["entrypoint"] == "prepare"
    assert wf["status"]["progress"] == "1/1"


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_cluster_workflow_template_with_stringified_parameters(argo: KubeEmulator, run_dag, conn) -> None:
    result = run_dag(operator(False, conn, cluster_workflow_template="shared-hello", parameters={"who": 7}),
                     OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    [wf] = workflows(argo)
    assert wf["spec"]["workflowTemplateRef"] == {"name": "shared-hello", "clusterScope": True}
    assert wf["spec"]["arguments"]["parameters"] == [{"name": "who", "value": "7"}]
    assert wf["metadata"]["labels"]["workflows.argoproj.io/cluster-workflow-template"] == "shared-hello"


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_inline_manifest_dict(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    result = run_dag(operator(deferrable, conn, workflow=INLINE, parameters={"word": "bonjour"}), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    [wf] = workflows(argo)
    assert wf["metadata"]["name"].startswith("inline-")
    assert wf["spec"]["arguments"]["parameters"] == [{"name": "word", "value": "bonjour"}]
    [pod] = argo.list("v1", "Pod", NS, f"workflows.argoproj.io/workflow={wf['metadata']['name']}")
    assert pod["spec"]["containers"][0]["args"] == ["bonjour"]


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_inline_manifest_from_a_templated_yaml_file(argo: KubeEmulator, run_dag, conn, tmp_path: Path) -> None:
    manifest = tmp_path / "say.yaml"
    manifest.write_text("""\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: say-}
spec:
  entrypoint: say
  templates:
    - name: say
      container: {image: busybox:1.36, command: [echo], args: ["{{ dag.dag_id }}/{{ task.task_id }}"]}
""")
    result = run_dag(operator(False, conn, workflow="say.yaml"), OPERATOR_IMPORTS, template_searchpath=[str(tmp_path)])
    assert result.states == {"wf": "success"}
    [wf] = workflows(argo)
    assert wf["spec"]["templates"][0]["container"]["args"] == [f"{result.dag_id}/wf"]


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_failed_workflow_lists_the_failed_step(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    result = run_dag(operator(deferrable, conn, workflow_template="failing"), OPERATOR_IMPORTS)
    assert result.states == {"wf": "failed"}
    [wf] = workflows(argo)
    name = wf["metadata"]["name"]
    assert wf["status"]["phase"] == "Failed"
    assert (f"Workflow {NS}/{name} ended Failed: {failed_message(wf)}\n"
            f"  step load (template load) Failed, exit code 3: main: Error (exit code 3)") in result.output


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_error_phase_is_terminal_and_fails_the_task(argo: KubeEmulator, run_dag, conn) -> None:
    """An output parameter whose file is missing: Argo ends the node, and the workflow, in Error."""
    broken = {**INLINE, "spec": {"entrypoint": "say", "templates": [{
        "name": "say", "container": {"image": "busybox:1.36", "command": ["true"]},
        "outputs": {"parameters": [{"name": "n", "valueFrom": {"path": "/tmp/n"}}]}}]}}
    result = run_dag(operator(False, conn, workflow=broken), OPERATOR_IMPORTS)
    assert result.states == {"wf": "failed"}
    [wf] = workflows(argo)
    assert wf["status"]["phase"] == "Error"
    assert f"Workflow {NS}/{wf['metadata']['name']} ended Error" in result.output
    node = next(n for n in wf["status"]["nodes"].values() if n["type"] == "Pod")
    assert (f"  step {node['displayName']} (template say) Error, exit code {node['outputs']['exitCode']}: "
            f"{node['message']}") in result.output


@pytest.mark.parametrize("conn", TRANSPORTS)
@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"workflow_template": "nope"}, "WorkflowTemplate 'nope' not found in namespace default", id="wftmpl"),
    pytest.param({"cluster_workflow_template": "nope"}, "ClusterWorkflowTemplate 'nope' not found", id="cwftmpl"),
    pytest.param({"workflow": {**INLINE, "spec": {"workflowTemplateRef": {"name": "nope"}}}},
                 "WorkflowTemplate 'nope' not found in namespace default", id="inline-ref"),
])
def test_missing_template_fails_before_anything_is_created(argo: KubeEmulator, run_dag, conn, kwargs,
                                                           message) -> None:
    result = run_dag(operator(False, conn, **kwargs), OPERATOR_IMPORTS)
    assert result.states == {"wf": "failed"}
    assert f"Task wf: {message}" in result.output
    assert workflows(argo) == []


@pytest.mark.parametrize("conn", TRANSPORTS)
@pytest.mark.parametrize(("parameters", "message"), [
    pytest.param({"dataset": "x", "datset": "y", "colour": "z"},
                 "parameters: colour, datset are not declared by WorkflowTemplate pipeline "
                 "(it declares: dataset, mode)", id="unknown"),
    pytest.param({"mode": "full"}, "parameters: WorkflowTemplate pipeline requires a value for dataset",
                 id="missing"),
    pytest.param({"dataset": "x", "mode": "slow"},
                 "parameters: mode='slow' is not one of ['fast', 'full'] (WorkflowTemplate pipeline)", id="enum"),
])
def test_bad_parameters_fail_before_anything_is_created(argo: KubeEmulator, run_dag, conn, parameters,
                                                        message) -> None:
    result = run_dag(operator(False, conn, workflow_template="pipeline", parameters=parameters), OPERATOR_IMPORTS)
    assert result.states == {"wf": "failed"}
    assert f"Task wf: {message}" in result.output
    assert workflows(argo) == []


@pytest.mark.parametrize(("spec", "message"), [
    pytest.param({"entrypoint": "say", "templates": [{"name": "say", "container": {"image": 5}}]},
                 "workflow: invalid manifest at spec.templates.0.container.image: Input should be a valid string",
                 id="type"),
    pytest.param({"entrypoint": "main", "templates": [{"name": "say", "container": {"image": "busybox"}}]},
                 "workflow: invalid manifest at spec.entrypoint: 'main' is not one of spec.templates (say)",
                 id="entrypoint"),
])
def test_invalid_inline_manifest_fails_naming_the_field(argo: KubeEmulator, run_dag, spec, message) -> None:
    result = run_dag(operator(False, None, workflow={**INLINE, "spec": spec}), OPERATOR_IMPORTS)
    assert result.states == {"wf": "failed"}
    assert message in result.output
    assert workflows(argo) == []


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_wait_timeout_fails_the_task_and_stops_the_workflow(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    result = run_dag(operator(deferrable, conn, workflow_template="long", wait_timeout=2), OPERATOR_IMPORTS)
    assert result.states == {"wf": "failed"}
    [wf] = workflows(argo)
    name = wf["metadata"]["name"]
    assert (f"Workflow {NS}/{name} still Running after the wait timeout of 2s; workflow {NS}/{name}: "
            f"shutdown strategy Stop requested") in result.output
    assert wf["spec"]["shutdown"] == "Stop"
    deadline = time.monotonic() + 10
    while (argo.get(*WF, name, NS)["status"]["phase"]) != "Failed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert argo.get(*WF, name, NS)["status"]["message"] == "Stopped with strategy 'Stop'"


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_workflow_deleted_while_waiting_fails_the_task(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    def delete_when_running() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for wf in workflows(argo):
                if (wf.get("status") or {}).get("phase") == "Running":
                    time.sleep(0.5)
                    argo.store.delete(argo.store.rt(*WF), NS, wf["metadata"]["name"])
                    return
            time.sleep(0.1)

    threading.Thread(target=delete_when_running, daemon=True).start()
    result = run_dag(operator(deferrable, conn, workflow_template="long"), OPERATOR_IMPORTS)
    assert result.states == {"wf": "failed"}
    assert workflows(argo) == []
    assert "ended Deleted: the workflow was deleted before it finished" in result.output


def test_argo_server_submits_templates_through_the_submit_endpoint(argo: KubeEmulator, run_dag) -> None:
    result = run_dag(operator(False, "argo_workflows_default", workflow_template="pipeline",
                              parameters={"dataset": "sales"}), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    posts = [r.path for r in argo.requests.snapshot() if r.method == "POST"]
    assert posts == [f"/api/v1/workflows/{NS}/submit"]
    [wf] = workflows(argo)
    assert wf["metadata"]["name"] == result.xcom("wf")["name"]  # the deterministic name went through submit
    assert wf["metadata"]["annotations"]["sparkk8s.io/run-id"] == result.dag_run.run_id
