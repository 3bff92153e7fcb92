"""The Argo Server emulation as Hera's real client (``WorkflowsService``) and raw HTTP see it: submit from
templates, create, get with ``fields``, list, stop/terminate, logs, the workflow-events stream, templates,
errors in grpc-gateway's shape, TLS and bearer tokens, request accounting and fault injection."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
import requests
import yaml
from hera.exceptions import BadRequest, HeraException, InternalServerError, NotFound, Unauthorized
from hera.workflows import WorkflowsService
from hera.workflows.models import (
    SubmitOpts,
    Workflow,
    WorkflowCreateRequest,
    WorkflowStopRequest,
    WorkflowSubmitRequest,
    WorkflowTerminateRequest,
)

from airflow_provider_sparkk8s.testing import Fault, KubeEmulator
from tests.emulator.test_argo_controller import REFERENCE_TEMPLATE, SPARK_APP, workflow_validator

DONE = ("Succeeded", "Failed", "Error")


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    emulator = kube_emulator_factory(pod_run_seconds=0.2, pod_pending_seconds=0.05)
    emulator.apply(REFERENCE_TEMPLATE)
    return emulator


@pytest.fixture
def argo(kube: KubeEmulator) -> Iterator[WorkflowsService]:
    with WorkflowsService(host=kube.argo_server_url, namespace="default") as service:
        yield service


def submit_reference(argo: WorkflowsService, **opts: object) -> str:
    wf = argo.submit_workflow(WorkflowSubmitRequest(
        resource_kind="WorkflowTemplate", resource_name="spark-app-workflow-template",
        submit_options=SubmitOpts(parameters=[f"sparkJobFilePath={SPARK_APP}"], **opts)))
    assert wf.metadata.name and wf.metadata.name.startswith("spark-app-workflow-template-")
    return wf.metadata.name


def wait(argo: WorkflowsService, name: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wf = argo.get_workflow(name, fields="metadata.name,status.phase")
        if wf.status and wf.status.phase in DONE:
            return wf.status.phase
        time.sleep(0.1)
    raise AssertionError(f"{name} did not finish")


def test_submit_reference_template(kube: KubeEmulator, argo: WorkflowsService) -> None:
    name = submit_reference(argo, labels="team=data,dag=spark", annotations="airflow/run-id=manual__1")
    assert wait(argo, name) == "Succeeded"
    wf = argo.get_workflow(name)
    assert wf.metadata.labels["workflows.argoproj.io/workflow-template"] == "spark-app-workflow-template"
    assert wf.metadata.labels["team"] == "data" and wf.metadata.annotations == {"airflow/run-id": "manual__1"}
    assert wf.spec.workflow_template_ref.name == "spark-app-workflow-template"
    assert [(p.name, p.value) for p in wf.spec.arguments.parameters] == [("sparkJobFilePath", SPARK_APP)]
    pod = kube.get("v1", "Pod", name)
    assert pod["spec"]["containers"][0]["args"] == [SPARK_APP]
    # fields: only what was asked for, and what Go always writes (spec, null times)
    raw = requests.get(f"{kube.argo_server_url}/api/v1/workflows/default/{name}",
                       params={"fields": "metadata.name,status.phase"}, timeout=5).json()
    assert raw == {"metadata": {"name": name, "creationTimestamp": None}, "spec": {},
                   "status": {"phase": "Succeeded", "startedAt": None, "finishedAt": None}}
    raw = requests.get(f"{kube.argo_server_url}/api/v1/workflows/default/{name}",
                       params={"fields": "-status.nodes,-status.storedWorkflowTemplateSpec"}, timeout=5).json()
    assert "nodes" not in raw["status"] and raw["status"]["progress"] == "1/1"
    validator = workflow_validator()
    assert not list(validator.iter_errors(kube.get("argoproj.io/v1alpha1", "Workflow", name)))


def test_submit_errors(kube: KubeEmulator, argo: WorkflowsService) -> None:
    url = f"{kube.argo_server_url}/api/v1/workflows/default/submit"
    with pytest.raises(NotFound, match='workflowtemplate.argoproj.io \\\\?"absent\\\\?" not found'):
        argo.submit_workflow(WorkflowSubmitRequest(resource_kind="WorkflowTemplate", resource_name="absent"))
    resp = requests.post(url, json={"resourceKind": "ClusterWorkflowTemplate", "resourceName": "absent"}, timeout=5)
    assert resp.status_code == 404
    assert resp.json() == {"code": 5, "message": 'clusterworkflowtemplate.argoproj.io "absent" not found'}
    with pytest.raises(BadRequest, match="spark-app-workflow-template.*not supplied|not supplied"):
        argo.submit_workflow(WorkflowSubmitRequest(resource_kind="WorkflowTemplate",
                                                   resource_name="spark-app-workflow-template"))
    kube.apply({"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "needs"},
                "spec": {"entrypoint": "main", "arguments": {"parameters": [{"name": "size"}]},
                         "templates": [{"name": "main", "container": {"image": "busybox"}}]}})
    resp = requests.post(url, json={"resourceKind": "WorkflowTemplate", "resourceName": "needs"}, timeout=5)
    assert resp.status_code == 400
    assert resp.json() == {"code": 3, "message": "spec.arguments.size.value or spec.arguments.size.valueFrom is "
                                                 "required"}
    resp = requests.post(url, json={"resourceKind": "WorkflowTemplate", "resourceName": "needs",
                                    "submitOptions": {"parameters": ["size"]}}, timeout=5)
    assert resp.status_code == 500
    assert resp.json()["message"] == "expected parameter of the form: NAME=VALUE. Received: size"
    resp = requests.post(url, json={"resourceKind": "Pod", "resourceName": "needs"}, timeout=5)
    assert (resp.status_code, resp.json()["message"]) == (400, "Resource kind 'Pod' is not supported for submitting")
    assert kube.list("argoproj.io/v1alpha1", "Workflow") == []  # validation comes before creation


def test_create_list_and_templates(kube: KubeEmulator, argo: WorkflowsService) -> None:
    manifest = yaml.safe_load("""
metadata: {generateName: hello-, labels: {team: data}}
spec:
  entrypoint: main
  arguments: {parameters: [{name: who, value: argo}]}
  templates:
    - name: main
      steps: [[{name: greet, template: greet}]]
    - name: greet
      container: {image: busybox, command: [echo], args: ["hello {{workflow.parameters.who}}"]}
""")
    created = argo.create_workflow(WorkflowCreateRequest(workflow=Workflow.model_validate(manifest)))
    name = created.metadata.name
    assert name.startswith("hello-")
    assert wait(argo, name) == "Succeeded"
    listed = argo.list_workflows(label_selector="team=data", fields="items.metadata.name,items.status.phase")
    assert [(w.metadata.name, w.status.phase) for w in listed.items] == [(name, "Succeeded")]
    done = argo.list_workflows(label_selector="workflows.argoproj.io/completed=true")
    assert [w.metadata.name for w in done.items] == [name]
    assert argo.list_workflows(label_selector="team=other").items == []
    template = argo.get_workflow_template("spark-app-workflow-template")
    assert template.spec.entrypoint == "spark-submit"
    assert [t.metadata.name for t in argo.list_workflow_templates().items] == ["spark-app-workflow-template"]
    with pytest.raises(NotFound):
        argo.get_cluster_workflow_template("absent")
    assert argo.get_version().version.startswith("v4.")
    argo.delete_workflow(name)
    with pytest.raises(NotFound, match="not found"):
        argo.get_workflow(name)


@pytest.mark.parametrize("strategy", ["stop", "terminate"])
def test_stop_and_terminate(strategy: str, kube: KubeEmulator, argo: WorkflowsService) -> None:
    kube.pods.behave(labels={"workflows.argoproj.io/workflow": "long"}, run_seconds=30)
    argo.create_workflow(WorkflowCreateRequest(workflow=Workflow.model_validate({
        "metadata": {"name": "long"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]}})))
    deadline = time.monotonic() + 10
    while argo.get_workflow("long").status.nodes is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if strategy == "stop":
        wf = argo.stop_workflow("long", WorkflowStopRequest(name="long", namespace="default"))
    else:
        wf = argo.terminate_workflow("long", WorkflowTerminateRequest(name="long", namespace="default"))
    assert wf.spec.shutdown == strategy.capitalize()
    assert wait(argo, "long") == "Failed"
    assert argo.get_workflow("long").status.message == f"Stopped with strategy '{strategy.capitalize()}'"
    with pytest.raises(InternalServerError, match="cannot shutdown a completed workflow"):
        argo.stop_workflow("long", WorkflowStopRequest(name="long", namespace="default"))


def test_workflow_events_and_logs(kube: KubeEmulator, argo: WorkflowsService) -> None:
    kube.pods.behave(labels={"workflows.argoproj.io/workflow": "talk"}, log="line one\nline two\nline three",
                     run_seconds=0.6)
    base = kube.argo_server_url
    with requests.get(f"{base}/api/v1/workflow-events/default", stream=True, timeout=10,
                      params={"listOptions.fieldSelector": "metadata.name=talk"}) as events:
        argo.create_workflow(WorkflowCreateRequest(workflow=Workflow.model_validate({
            "metadata": {"name": "talk"},
            "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]}})))
        with requests.get(f"{base}/api/v1/workflows/default/talk/log", stream=True, timeout=10,
                          params={"logOptions.container": "main", "logOptions.follow": "true"}) as logs:
            lines = [json.loads(line) for line in logs.iter_lines() if line]
        seen = []
        for line in events.iter_lines():
            result = json.loads(line)["result"]
            seen.append((result["type"], (result["object"].get("status") or {}).get("phase")))
            if seen[-1][1] in DONE:
                break
    assert seen[0] == ("ADDED", None) and seen[-1] == ("MODIFIED", "Succeeded")
    assert ("MODIFIED", "Running") in seen
    assert lines == [{"result": {"content": text, "podName": "talk"}} for text in ("line one", "line two",
                                                                                   "line three")]
    resp = requests.get(f"{base}/api/v1/workflows/default/talk/log",
                        params={"podName": "talk", "logOptions.tailLines": "1", "grep": "line"}, timeout=5)
    assert resp.text == '{"result":{"content":"line three","podName":"talk"}}\n'
    counters = kube.counters()
    assert counters["watch argo/workflows"] == 1 and counters["get argo/workflows/log"] == 2


def test_tls_token_and_faults(kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory(tls=True, token="s3cret", pod_run_seconds=0.2, pod_pending_seconds=0.05)
    kube.apply(REFERENCE_TEMPLATE)
    assert kube.argo_server_url.startswith("https://")
    with WorkflowsService(host=kube.argo_server_url, token="s3cret", verify_ssl=str(kube.ca_path),
                          namespace="default") as argo:
        name = submit_reference(argo)
        assert wait(argo, name) == "Succeeded"
        kube.faults.add(Fault(resource="argo/workflows", verb="get", status=503, times=1))
        with pytest.raises(HeraException, match="503"):
            argo.get_workflow(name)
        assert argo.get_workflow(name).status.phase == "Succeeded"
    with WorkflowsService(host=kube.argo_server_url, token="wrong", verify_ssl=str(kube.ca_path),
                          namespace="default") as argo, pytest.raises(Unauthorized):
        argo.list_workflows()
    resp = requests.get(f"{kube.argo_server_url}/api/v1/workflows/default", verify=str(kube.ca_path), timeout=5)
    assert resp.status_code == 401 and resp.json()["code"] == 16
    counters = kube.counters()
    assert counters["create argo/workflows/submit"] == 1 and counters["list argo/workflows"] == 2
