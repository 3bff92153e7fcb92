"""The simulated Argo workflow controller as a user of the kubernetes client sees it: Workflows from
(Cluster)WorkflowTemplates, steps and DAGs run as pods, failures, stop/terminate, garbage collection. Every
Workflow the controller writes must validate against Argo's JSON Schema (schema.json, Workflow)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jsonschema
import kubernetes
import pytest
import yaml
from kubernetes import watch
from kubernetes.client import CoreV1Api, CustomObjectsApi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.testing.argo_controller import node_id
from tests.conftest import SHARED, require

GROUP, VERSION = "argoproj.io", "v1alpha1"
SCHEMA = SHARED / "schemas" / "argo" / "schema.json"
DONE = ("Succeeded", "Failed", "Error")
REFERENCE_TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: spark-app-workflow-template}
spec:
  entrypoint: spark-submit
  templates:
    - name: spark-submit
      inputs: {parameters: [{name: sparkJobFilePath}]}
      container:
        image: mycompany/spark-3.0.0:prod
        command: [/opt/spark/bin/spark-submit]
        args: ["{{inputs.parameters.sparkJobFilePath}}"]
"""
SPARK_APP = "/mounted/volume/spark-apps/my-spark-app.py"


def workflow_validator() -> jsonschema.Draft202012Validator:
    require(SCHEMA.exists(), f"{SCHEMA} is missing")
    schema = json.loads(SCHEMA.read_text())
    # swagger 2.0 cannot say int-or-string: the generated JSON Schema says string; YAML gives integers.
    schema["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {
        "anyOf": [{"type": "string"}, {"type": "integer"}]}
    root = Resource.from_contents(schema, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:argo", root)
    return jsonschema.Draft202012Validator(
        {"$ref": "urn:argo#/definitions/io.argoproj.workflow.v1alpha1.Workflow"}, registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return workflow_validator()


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory(pod_run_seconds=0.2, pod_pending_seconds=0.05, argo_server=False)


@pytest.fixture
def core(kube: KubeEmulator) -> CoreV1Api:
    return CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


@pytest.fixture
def custom(kube: KubeEmulator) -> CustomObjectsApi:
    return CustomObjectsApi(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


def apply_template(custom: CustomObjectsApi, text: str, cluster: bool = False) -> None:
    body = yaml.safe_load(text)
    if cluster:
        custom.create_cluster_custom_object(GROUP, VERSION, "clusterworkflowtemplates", body)
    else:
        custom.create_namespaced_custom_object(GROUP, VERSION, "default", "workflowtemplates", body)


def submit(custom: CustomObjectsApi, spec: dict[str, Any], name: str = "wf") -> tuple[str, str]:
    """Create a Workflow; returns (name, resourceVersion before it)."""
    rv = custom.list_namespaced_custom_object(GROUP, VERSION, "default", "workflows")["metadata"]["resourceVersion"]
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow", "metadata": {"name": name}, "spec": spec}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", "workflows", body)
    assert "status" not in created  # the API server stores it; the controller has not seen it yet
    return created["metadata"]["name"], rv


def observe(custom: CustomObjectsApi, validator: jsonschema.Draft202012Validator, name: str, since: str,
            until: Callable[[dict], bool] = lambda wf: (wf.get("status") or {}).get("phase") in DONE,
            timeout: float = 15) -> list[dict]:
    """Every version of the workflow (from a watch), each validated against Argo's schema, up to `until`."""
    seen: list[dict] = []
    w = watch.Watch()
    for event in w.stream(custom.list_namespaced_custom_object, GROUP, VERSION, "default", "workflows",
                          field_selector=f"metadata.name={name}", resource_version=since,
                          timeout_seconds=int(timeout)):
        obj = event["object"]
        errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, f"{'/'.join(map(str, errors[0].path))}: {errors[0].message}"
        seen.append(obj)
        if until(obj):
            w.stop()
            break
    assert seen and until(seen[-1]), f"workflow {name} did not get there: {seen[-1:] or 'no events'}"
    return seen


def pod_events(core: CoreV1Api, since: str) -> list[tuple[str, str, str]]:
    """(type, pod name, phase) of every pod change since `since`, in order (a watch replays them)."""
    out = []
    for event in watch.Watch().stream(core.list_namespaced_pod, "default", resource_version=since,
                                      timeout_seconds=1):
        out.append((event["type"], event["object"].metadata.name, event["object"].status.phase))
    return out


def nodes_by_display(wf: dict) -> dict[str, dict]:
    return {n["displayName"]: n for n in wf["status"]["nodes"].values()}


def container_step(name: str, *, args: list[str] | None = None, annotations: dict[str, str] | None = None,
                   outputs: list[dict] | None = None, inputs: list[str] | None = None, **extra: Any) -> dict:
    tmpl: dict[str, Any] = {"name": name, "container": {"image": "busybox:1.36", "command": ["echo"],
                                                        "args": args or [name]}, **extra}
    if annotations:
        tmpl["metadata"] = {"annotations": annotations}
    if outputs:
        tmpl["outputs"] = {"parameters": outputs}
    if inputs:
        tmpl["inputs"] = {"parameters": [{"name": i} for i in inputs]}
    return tmpl


def test_template_ref_steps_with_outputs(custom: CustomObjectsApi, core: CoreV1Api,
                                         validator: jsonschema.Draft202012Validator) -> None:
    apply_template(custom, yaml.safe_dump({
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkflowTemplate", "metadata": {"name": "pipeline"},
        "spec": {
            "entrypoint": "main",
            "arguments": {"parameters": [{"name": "who", "value": "template"}, {"name": "greeting",
                                                                                "value": "hello"}]},
            "templates": [
                {"name": "main",
                 "steps": [[{"name": "produce", "template": "produce"}],
                           [{"name": "consume", "template": "consume", "arguments": {"parameters": [
                               {"name": "msg", "value": "{{steps.produce.outputs.parameters.msg}}"}]}}]],
                 "outputs": {"parameters": [{"name": "final", "valueFrom": {
                     "parameter": "{{steps.consume.outputs.parameters.echo}}"}}]}},
                container_step("produce", args=["{{workflow.parameters.greeting}} {{workflow.parameters.who}}"],
                               annotations={"emulator.sparkk8s.io/output.msg": "{{workflow.parameters.greeting}}"
                                                                               " {{workflow.parameters.who}}"},
                               outputs=[{"name": "msg", "valueFrom": {"path": "/tmp/msg"}}]),
                container_step("consume", args=["{{inputs.parameters.msg}}"], inputs=["msg"],
                               outputs=[{"name": "echo", "valueFrom": {"path": "/tmp/echo",
                                                                       "default": "got {{inputs.parameters.msg}}"}}]),
            ]}}))
    name, since = submit(custom, {"workflowTemplateRef": {"name": "pipeline"},
                                  "arguments": {"parameters": [{"name": "who", "value": "airflow"}]}})
    history = observe(custom, validator, name, since)
    wf = history[-1]
    status, labels = wf["status"], wf["metadata"]["labels"]
    assert status["phase"] == "Succeeded" and "message" not in status
    assert [h["status"]["phase"] for h in history if h.get("status")][0] == "Running"
    assert labels == {"workflows.argoproj.io/workflow-template": "pipeline", "workflows.argoproj.io/phase":
                      "Succeeded", "workflows.argoproj.io/completed": "true"}
    # merged arguments: the workflow's value wins by name, the template's other parameters stay
    assert status["storedWorkflowTemplateSpec"]["arguments"]["parameters"] == [
        {"name": "who", "value": "airflow"}, {"name": "greeting", "value": "hello"}]
    assert status["progress"] == "2/2" and status["startedAt"] and status["finishedAt"]
    assert status["outputs"] == {"parameters": [{"name": "final", "value": "got hello airflow"}]}
    nodes = nodes_by_display(wf)
    root = status["nodes"][name]
    assert root["type"] == "Steps" and root["templateScope"] == "namespaced/pipeline"
    assert nodes["[0]"]["type"] == nodes["[1]"]["type"] == "StepGroup"
    produce, consume = nodes["produce"], nodes["consume"]
    assert produce["name"] == f"{name}[0].produce" and produce["id"] == node_id(name, f"{name}[0].produce")
    assert produce["boundaryID"] == name and produce["outputs"]["exitCode"] == "0"
    assert produce["outputs"]["parameters"][0]["value"] == "hello airflow"
    assert consume["inputs"] == {"parameters": [{"name": "msg", "value": "hello airflow"}]}

    pods = {p.metadata.annotations["workflows.argoproj.io/node-name"]: p
            for p in core.list_namespaced_pod("default", label_selector=f"workflows.argoproj.io/workflow={name}").items}
    pod = pods[f"{name}[1].consume"]
    assert pod.metadata.name.startswith(f"{name}-consume-")
    assert pod.metadata.labels["workflows.argoproj.io/completed"] == "true"
    assert pod.metadata.annotations["workflows.argoproj.io/node-id"] == consume["id"]
    assert pod.metadata.owner_references[0].kind == "Workflow" and pod.metadata.owner_references[0].name == name
    assert [(c.name, c.command, c.args) for c in pod.spec.containers] == [("main", ["echo"], ["hello airflow"])]
    # the second step group's pod is created only after the first one's pod succeeded
    events = pod_events(core, since)
    produce_pod, consume_pod = pods[f"{name}[0].produce"].metadata.name, pod.metadata.name
    produced = events.index(("MODIFIED", produce_pod, "Succeeded"))
    assert events.index(("ADDED", consume_pod, "Pending")) > produced


def test_missing_template_is_an_error(custom: CustomObjectsApi, core: CoreV1Api,
                                      validator: jsonschema.Draft202012Validator) -> None:
    name, since = submit(custom, {"workflowTemplateRef": {"name": "absent"}})
    wf = observe(custom, validator, name, since)[-1]
    assert wf["status"]["phase"] == "Error"
    assert wf["status"]["message"] == 'workflowtemplate.argoproj.io "absent" not found'
    assert wf["status"]["startedAt"] and wf["status"]["finishedAt"]
    assert wf["metadata"]["labels"]["workflows.argoproj.io/phase"] == "Error"
    assert wf["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"
    name, since = submit(custom, {"workflowTemplateRef": {"name": "absent", "clusterScope": True}}, "wf-cluster")
    wf = observe(custom, validator, name, since)[-1]
    assert wf["status"]["message"] == 'clusterworkflowtemplate.argoproj.io "absent" not found'
    assert wf["metadata"]["labels"]["workflows.argoproj.io/cluster-workflow-template"] == "absent"
    assert core.list_namespaced_pod("default").items == []


def test_parameter_errors_fail_the_workflow(custom: CustomObjectsApi,
                                            validator: jsonschema.Draft202012Validator) -> None:
    apply_template(custom, yaml.safe_dump({
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkflowTemplate", "metadata": {"name": "needs"},
        "spec": {"entrypoint": "main", "arguments": {"parameters": [
            {"name": "size"}, {"name": "mode", "value": "fast", "enum": ["fast", "slow"]}]},
            "templates": [container_step("main")]}}))
    name, since = submit(custom, {"workflowTemplateRef": {"name": "needs"}})
    wf = observe(custom, validator, name, since)[-1]
    assert wf["status"]["phase"] == "Failed"
    assert wf["status"]["message"] == ("invalid spec: spec.arguments.size.value or spec.arguments.size.valueFrom "
                                       "is required")
    name, since = submit(custom, {"workflowTemplateRef": {"name": "needs"}, "arguments": {"parameters": [
        {"name": "size", "value": "3"}, {"name": "mode", "value": "turbo"}]}}, "wf-enum")
    wf = observe(custom, validator, name, since)[-1]
    assert wf["status"]["phase"] == "Failed"
    assert wf["status"]["message"].endswith("spec.arguments.mode.value should be present in spec.arguments.mode.enum "
                                            "list")


def test_dag_diamond_order_when_and_template_ref(custom: CustomObjectsApi, core: CoreV1Api,
                                                 validator: jsonschema.Draft202012Validator) -> None:
    apply_template(custom, yaml.safe_dump({
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "ClusterWorkflowTemplate", "metadata": {"name": "library"},
        "spec": {"templates": [container_step("shout", args=["{{inputs.parameters.text}}!"], inputs=["text"])]}}),
        cluster=True)
    name, since = submit(custom, {
        "entrypoint": "diamond",
        "arguments": {"parameters": [{"name": "flag", "value": "no"}]},
        "templates": [
            {"name": "diamond", "dag": {"tasks": [
                {"name": "A", "template": "step"},
                {"name": "B", "template": "step", "dependencies": ["A"]},
                {"name": "C", "depends": "A", "templateRef": {"name": "library", "template": "shout",
                                                               "clusterScope": True},
                 "arguments": {"parameters": [{"name": "text", "value": "from {{tasks.A.id}}"}]}},
                {"name": "D", "template": "step", "depends": "B && C"},
                {"name": "E", "template": "step", "depends": "D", "when": "{{workflow.parameters.flag}} == yes"},
            ]}},
            container_step("step"),
        ]})
    wf = observe(custom, validator, name, since)[-1]
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    nodes = nodes_by_display(wf)
    assert nodes["E"]["phase"] == "Skipped" and nodes["E"]["type"] == "Skipped"
    assert nodes["E"]["message"] == "when 'no == yes' evaluated false"
    assert nodes["C"]["templateScope"] == "cluster/library"
    assert wf["status"]["nodes"][name]["children"] == [nodes["A"]["id"]]
    assert set(nodes["A"]["children"]) == {nodes["B"]["id"], nodes["C"]["id"]}
    assert wf["status"]["progress"] == "4/4"
    pod_of = {p.metadata.annotations["workflows.argoproj.io/node-name"].rsplit(".", 1)[1]: p
              for p in core.list_namespaced_pod("default").items}
    assert pod_of["C"].spec.containers[0].args == [f"from {nodes['A']['id']}!"]
    events = pod_events(core, since)

    def added(task: str) -> int:
        return events.index(("ADDED", pod_of[task].metadata.name, "Pending"))

    def succeeded(task: str) -> int:
        return events.index(("MODIFIED", pod_of[task].metadata.name, "Succeeded"))

    assert added("B") > succeeded("A") and added("C") > succeeded("A")
    assert added("D") > max(succeeded("B"), succeeded("C"))


def test_failing_step_fails_the_workflow(custom: CustomObjectsApi,
                                         validator: jsonschema.Draft202012Validator) -> None:
    name, since = submit(custom, {"entrypoint": "main", "templates": [
        {"name": "main", "steps": [[{"name": "ok", "template": "ok"}], [{"name": "boom", "template": "boom"}],
                                   [{"name": "never", "template": "ok"}]]},
        container_step("ok"),
        container_step("boom", annotations={"emulator.sparkk8s.io/outcome": "failed",
                                            "emulator.sparkk8s.io/exit-code": "3"}),
    ]})
    wf = observe(custom, validator, name, since)[-1]
    status, nodes = wf["status"], nodes_by_display(wf)
    boom = nodes["boom"]
    assert boom["phase"] == "Failed" and boom["type"] == "Pod"
    assert boom["message"] == "main: Error (exit code 3)" and boom["outputs"]["exitCode"] == "3"
    assert status["phase"] == "Failed" and status["message"] == f"child '{boom['id']}' failed"
    assert nodes["[1]"]["phase"] == "Failed" and "never" not in nodes
    assert status["progress"] == "1/2"
    assert wf["metadata"]["labels"]["workflows.argoproj.io/phase"] == "Failed"


def test_depends_on_failure_runs_the_error_path(custom: CustomObjectsApi,
                                                validator: jsonschema.Draft202012Validator) -> None:
    name, since = submit(custom, {"entrypoint": "main", "templates": [
        {"name": "main", "dag": {"tasks": [
            {"name": "work", "template": "boom"},
            {"name": "publish", "template": "ok", "depends": "work.Succeeded"},
            {"name": "alert", "template": "ok", "depends": "work.Failed"},
            {"name": "cleanup", "template": "ok", "depends": "publish.Succeeded || alert.Succeeded"},
        ]}},
        container_step("ok"),
        container_step("boom", annotations={"emulator.sparkk8s.io/outcome": "failed"}),
    ]})
    wf = observe(custom, validator, name, since)[-1]
    nodes = nodes_by_display(wf)
    assert nodes["work"]["phase"] == "Failed" and nodes["work"]["message"] == "main: Error (exit code 1)"
    assert nodes["publish"]["phase"] == "Omitted"
    assert nodes["publish"]["message"] == "omitted: depends condition not met"
    assert nodes["alert"]["phase"] == nodes["cleanup"]["phase"] == "Succeeded"
    assert wf["status"]["phase"] == "Succeeded"  # the failure was handled


def test_retry_strategy(kube: KubeEmulator, custom: CustomObjectsApi,
                        validator: jsonschema.Draft202012Validator) -> None:
    # Only the first attempt's pod fails; the retry succeeds.
    kube.pods.behave(match=lambda pod: pod["metadata"]["annotations"].get(
        "workflows.argoproj.io/node-name", "").endswith("(0)"), outcome="failed", exit_code=2)
    name, since = submit(custom, {"entrypoint": "main", "templates": [
        {"name": "main", "steps": [[{"name": "flaky", "template": "flaky"}]]},
        container_step("flaky", retryStrategy={"limit": 2}),
    ]})
    wf = observe(custom, validator, name, since)[-1]
    nodes = nodes_by_display(wf)
    assert nodes["flaky"]["type"] == "Retry" and nodes["flaky"]["phase"] == "Succeeded"
    assert [wf["status"]["nodes"][c]["phase"] for c in nodes["flaky"]["children"]] == ["Failed", "Succeeded"]
    assert nodes["flaky(0)"]["message"] == "main: Error (exit code 2)"
    assert wf["status"]["phase"] == "Succeeded"


def _long_workflow() -> dict:
    return {"entrypoint": "main", "onExit": "notify", "templates": [
        {"name": "main", "steps": [[{"name": "long", "template": "long"}], [{"name": "after", "template": "ok"}]]},
        container_step("long", annotations={"emulator.sparkk8s.io/run-seconds": "30"}),
        container_step("ok"),
        container_step("notify", args=["workflow {{workflow.status}}"]),
    ]}


@pytest.mark.parametrize("strategy", ["Stop", "Terminate"])
def test_stop_and_terminate(strategy: str, custom: CustomObjectsApi, core: CoreV1Api,
                            validator: jsonschema.Draft202012Validator) -> None:
    name, since = submit(custom, _long_workflow())
    observe(custom, validator, name, since, until=lambda wf: any(
        n["displayName"] == "long" and n["phase"] == "Running"
        for n in (wf.get("status") or {}).get("nodes", {}).values()))
    long_pod = core.list_namespaced_pod("default").items[0].metadata.name
    custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "workflows", name,
                                          {"spec": {"shutdown": strategy}})
    wf = observe(custom, validator, name, since)[-1]
    status, nodes = wf["status"], nodes_by_display(wf)
    assert status["phase"] == "Failed" and status["message"] == f"Stopped with strategy '{strategy}'"
    assert nodes["long"]["phase"] == "Failed"
    assert nodes["long"]["message"] == f"workflow shutdown with strategy: {strategy}"
    assert "after" not in nodes  # the steps end at the failed group: the next one never starts
    pods = {p.metadata.name: p for p in core.list_namespaced_pod("default").items}
    assert long_pod not in pods  # the running step's pod was killed
    if strategy == "Stop":
        assert nodes["onExit"]["phase"] == "Succeeded"
        exit_pod = next(p for p in pods.values()
                        if p.metadata.annotations["workflows.argoproj.io/node-name"] == f"{name}.onExit")
        assert exit_pod.spec.containers[0].args == ["workflow Failed"]
    else:
        assert "onExit" not in nodes and not pods


def test_deleting_the_workflow_collects_its_pods(custom: CustomObjectsApi, core: CoreV1Api,
                                                 validator: jsonschema.Draft202012Validator) -> None:
    name, since = submit(custom, _long_workflow())
    observe(custom, validator, name, since, until=lambda wf: (wf.get("status") or {}).get("phase") == "Running"
            and any(n["type"] == "Pod" for n in wf["status"].get("nodes", {}).values()))
    selector = f"workflows.argoproj.io/workflow={name}"
    assert len(core.list_namespaced_pod("default", label_selector=selector).items) == 1
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "workflows", name)
    # The garbage collector deletes the running pod gracefully: gone once the kubelet has stopped it.
    deadline = time.monotonic() + 5
    while core.list_namespaced_pod("default", label_selector=selector).items:
        assert time.monotonic() < deadline, "the workflow's pod outlived it"
        time.sleep(0.05)


def test_reference_template_passes_parameters_as_arguments(kube: KubeEmulator, custom: CustomObjectsApi,
                                                           core: CoreV1Api,
                                                           validator: jsonschema.Draft202012Validator) -> None:
    """The issue's template: spark-submit with only the application file. Without ``--master`` spark-submit
    runs the application in local mode inside the step's pod (the emulator's spark-submit program does
    so): the step succeeds and no driver pod appears."""
    apply_template(custom, REFERENCE_TEMPLATE)
    name, since = submit(custom, {"workflowTemplateRef": {"name": "spark-app-workflow-template"},
                                  "arguments": {"parameters": [{"name": "sparkJobFilePath", "value": SPARK_APP}]}})
    wf = observe(custom, validator, name, since)[-1]
    assert wf["status"]["phase"] == "Succeeded"
    pods = core.list_namespaced_pod("default").items
    assert [p.metadata.name for p in pods] == [name]  # a one-pod workflow's pod is named like it
    main = pods[0].spec.containers[0]
    assert (main.name, main.image, main.command, main.args) == (
        "main", "mycompany/spark-3.0.0:prod", ["/opt/spark/bin/spark-submit"], [SPARK_APP])
    log = core.read_namespaced_pod_log(name, "default", container="main")
    assert "Submitted application: my-spark-app.py" in log
    # The same template with a step that is told to fail, as a template's annotations can do.
    failing = yaml.safe_load(REFERENCE_TEMPLATE)
    failing["metadata"]["name"] = "spark-app-failing"
    failing["spec"]["templates"][0]["metadata"] = {"annotations": {"emulator.sparkk8s.io/outcome": "failed",
                                                                   "emulator.sparkk8s.io/exit-code": "101"}}
    apply_template(custom, yaml.safe_dump(failing))
    name, since = submit(custom, {"workflowTemplateRef": {"name": "spark-app-failing"}, "arguments": {
        "parameters": [{"name": "sparkJobFilePath", "value": SPARK_APP}]}}, "wf-failing")
    wf = observe(custom, validator, name, since)[-1]
    assert wf["status"]["phase"] == "Failed"
    assert wf["status"]["message"] == "main: Error (exit code 101)"
    assert wf["status"]["nodes"][name]["outputs"]["exitCode"] == "101"
