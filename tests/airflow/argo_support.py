"""Shared pieces of the ArgoWorkflowOperator / ArgoWorkflowSensor tests: an emulator with Argo templates,
both transports as a parameter, and a check that every Workflow the provider created is valid for Argo's
JSON Schema."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator

NS = "default"
WF = ("argoproj.io/v1alpha1", "Workflow")
ARGO_SERVER = "argo_workflows_default"
# argo_conn_id=None: the Kubernetes API of kubernetes_default; else the Argo Server emulation.
TRANSPORTS = [pytest.param(None, id="k8s"), pytest.param(ARGO_SERVER, id="argo-server")]
MODES = [pytest.param(False, id="sync"), pytest.param(True, id="deferred")]
OPERATOR_IMPORTS = "from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator\n"
SENSOR_IMPORTS = "from airflow_provider_sparkk8s.sensors.argo import ArgoWorkflowSensor\n"


def container(name: str, annotations: dict[str, str] | None = None, **extra: Any) -> dict:
    tmpl: dict[str, Any] = {"name": name, "container": {"image": "busybox:1.36", "command": ["sh", "-c"],
                                                       "args": [f"echo {name}"]}}
    if annotations:
        tmpl["metadata"] = {"annotations": annotations}
    tmpl.update(extra)
    return tmpl


# Two steps: "prepare" then "train"; train reports an output parameter `rows` that becomes a workflow output.
PIPELINE = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
    "metadata": {"name": "pipeline"},
    "spec": {
        "entrypoint": "main",
        "arguments": {"parameters": [{"name": "dataset"}, {"name": "mode", "value": "fast",
                                                           "enum": ["fast", "full"]}]},
        "templates": [
            {"name": "main",
             "steps": [[{"name": "prepare", "template": "prepare"}],
                       [{"name": "train", "template": "train"}]],
             "outputs": {"parameters": [{"name": "rows",
                                         "valueFrom": {"parameter": "{{steps.train.outputs.parameters.rows}}"}}]}},
            container("prepare"),
            container("train", {"emulator.sparkk8s.io/output.rows": "42",
                                "emulator.sparkk8s.io/log": "trained on {{workflow.parameters.dataset}}"},
                      outputs={"parameters": [{"name": "rows", "valueFrom": {"path": "/tmp/rows"}}]}),
        ],
    },
}

# "load" fails with exit code 3 after "prepare" succeeded.
FAILING = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
    "metadata": {"name": "failing"},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": "prepare", "template": "prepare"}],
                                       [{"name": "load", "template": "load"}]]},
            container("prepare"),
            container("load", {"emulator.sparkk8s.io/outcome": "failed", "emulator.sparkk8s.io/exit-code": "3"}),
        ],
    },
}

# A step that runs until stopped, and an exit handler.
LONG = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
    "metadata": {"name": "long"},
    "spec": {
        "entrypoint": "main",
        "onExit": "cleanup",
        "templates": [
            {"name": "main", "steps": [[{"name": "work", "template": "work"}]]},
            container("work", {"emulator.sparkk8s.io/outcome": "running"}),
            container("cleanup"),
        ],
    },
}

# One step that takes a few seconds.
SLOW = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
    "metadata": {"name": "slow"},
    "spec": {"entrypoint": "work",
             "templates": [container("work", {"emulator.sparkk8s.io/run-seconds": "3"})]},
}

CLUSTER_TEMPLATE = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "ClusterWorkflowTemplate",
    "metadata": {"name": "shared-hello"},
    "spec": {"entrypoint": "hello",
             "templates": [{"name": "hello", "inputs": {"parameters": [{"name": "who"}]},
                            "container": {"image": "busybox:1.36", "command": ["echo"],
                                          "args": ["hello {{inputs.parameters.who}}"]}}]},
}


def operator(deferrable: bool, conn: str | None, **kwargs: Any) -> str:
    args = {"task_id": "wf", "deferrable": deferrable, "argo_conn_id": conn, **kwargs}
    return "ArgoWorkflowOperator(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


def workflows(kube: KubeEmulator, selector: str | None = None) -> list[dict]:
    return sorted(kube.list(*WF, NS, selector), key=lambda w: w["metadata"]["creationTimestamp"])


def workflow_validator() -> Any:
    from tests.emulator.test_argo_controller import workflow_validator as build

    return build()


@pytest.fixture
def argo(kube_emulator_factory: Callable[..., KubeEmulator]) -> Iterator[KubeEmulator]:
    """An emulator (Kubernetes API + Argo Server) with the test templates. Every Workflow created in it is
    checked against Argo's JSON Schema when the test ends."""
    kube = kube_emulator_factory(pod_run_seconds=0.2, pod_pending_seconds=0.05)
    kube.apply([PIPELINE, FAILING, LONG, SLOW], NS)
    kube.apply(CLUSTER_TEMPLATE)
    created: list[dict] = []

    def record(event_type: str, rt: Any, obj: dict, old: dict | None) -> None:
        if event_type == "ADDED" and rt.plural == "workflows":
            created.append(copy.deepcopy(obj))

    kube.store.add_listener(record)
    kube.created_workflows = created
    yield kube
    if created:
        validator = workflow_validator()
        for wf in created:
            errors = sorted(validator.iter_errors(wf), key=lambda e: list(e.absolute_path))
            assert not errors, f"Workflow {wf['metadata']['name']} is not valid for Argo's schema: " + "; ".join(
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def create_earlier_attempt(context: Any, template: str, conn: str | None, wait: bool) -> None:
    """What an earlier attempt of try 1 of task `wf` left behind (a worker that died after submitting): the
    workflow the operator would have created, optionally run to its end."""
    import time

    from airflow_provider_sparkk8s.hooks.argo import ArgoWorkflowsHook
    from airflow_provider_sparkk8s.identity import TaskIdentity
    from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator

    ti = context["ti"]
    identity = TaskIdentity(ti.dag_id, "wf", ti.run_id, -1, 1)
    body = ArgoWorkflowOperator(task_id="wf", workflow_template=template)._manifest(identity, NS, None)
    hook = ArgoWorkflowsHook(conn)
    hook.run(lambda transport: transport.create(NS, body))
    deadline = time.monotonic() + 30
    while wait and ((hook.run(lambda transport: transport.get(NS, body["metadata"]["name"])) or {})
                    .get("status") or {}).get("phase") not in ("Succeeded", "Failed", "Error"):
        assert time.monotonic() < deadline, "the earlier attempt did not finish"
        time.sleep(0.2)
