"""Exported workflows submitted to the Kubernetes API emulator's Argo controller run their steps in the DAG's
dependency order: on every observed state of the workflow, a step exists only once every upstream task of the
Airflow DAG (as DagBag loaded it) has finished. Checked on a generated DAG with fan-out, fan-in and a failure
path, and on the example DAGs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_provider_sparkk8s.migrate.airflow import load_dags, render_airflow
from airflow_provider_sparkk8s.testing import KubeEmulator

from .conftest import Exporter

NS = "default"
WF = "argoproj.io/v1alpha1"
DONE = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
EXAMPLES = Path(__file__).parents[2] / "dags_examples"


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory(pod_run_seconds=0.2, pod_pending_seconds=0.02, argo_server=False)


def run_in_order(kube: KubeEmulator, name: str, template: str, upstream: dict[str, set[str]],
                 arguments: dict[str, str] | None = None, namespace: str = NS) -> dict[str, str]:
    """Run the template; assert the dependency order on every state seen; return {task: phase} and, under "",
    the workflow's phase."""
    spec: dict[str, Any] = {"workflowTemplateRef": {"name": template}}
    if arguments:
        spec["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in arguments.items()]}
    kube.apply({"apiVersion": WF, "kind": "Workflow", "metadata": {"name": name}, "spec": spec}, namespace)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        wf = kube.get(WF, "Workflow", name, namespace) or {}
        status = wf.get("status") or {}
        phases = {n["displayName"]: n["phase"] for n in (status.get("nodes") or {}).values()
                  if n.get("type") != "DAG" and "(" not in n["displayName"]}
        for task, phase in phases.items():
            unfinished = {u for u in upstream[task] if phases.get(u) not in DONE}
            assert not unfinished, f"{task} is {phase} while its upstream {sorted(unfinished)} have not finished"
        if status.get("phase") in ("Succeeded", "Failed", "Error"):
            assert set(phases) == set(upstream), status.get("message")
            return {**phases, "": status["phase"]}
        time.sleep(0.02)
    raise AssertionError(f"workflow {name} did not finish: {status}")


def upstream_of(dag: Any) -> dict[str, set[str]]:
    """Argo task name → the Argo names of its upstream tasks, from the Airflow DAG."""
    from airflow_provider_sparkk8s.migrate.argo_manifests import task_name

    return {task_name(t): {task_name(u) for u in task.upstream_task_ids} for t, task in dag.task_dict.items()}


FAN = """
    with DAG("fan", schedule=None, start_date=datetime(2026, 1, 1), params={"right_outcome": "succeeded"}):
        def pod(task_id, **kwargs):
            return KubernetesPodOperator(task_id=task_id, image="busybox", cmds=["echo", task_id], **kwargs)

        start = pod("start")
        left = pod("left")
        # the emulator's pod simulator reads the outcome from this annotation
        right = pod("right", annotations={"emulator.sparkk8s.io/outcome": "{{ params.right_outcome }}"})
        join = pod("join")
        report = pod("report")
        cleanup = pod("cleanup", trigger_rule="one_failed")
        start >> [left, right] >> join >> report
        [left, right] >> cleanup
"""


@pytest.mark.parametrize(("outcome", "expected"), [
    ("succeeded", {"start": "Succeeded", "left": "Succeeded", "right": "Succeeded", "join": "Succeeded",
                   "report": "Succeeded", "cleanup": "Omitted", "": "Succeeded"}),
    # the failure is handled by `cleanup` (one_failed), so Argo ends the workflow Succeeded (reported approximation)
    ("failed", {"start": "Succeeded", "left": "Succeeded", "right": "Failed", "join": "Omitted",
                "report": "Omitted", "cleanup": "Succeeded", "": "Succeeded"}),
])
def test_fan_out_fan_in_and_failure_path_run_in_the_dag_order(export: Exporter, kube: KubeEmulator, tmp_path: Path,
                                                              outcome: str, expected: dict[str, str]) -> None:
    manifests, _ = export(FAN)
    for manifest in manifests.values():
        kube.apply(manifest, NS)
    dags, _ = load_dags(tmp_path / "dags")
    phases = run_in_order(kube, f"fan-{outcome}", "fan", upstream_of(dags["fan"]), {"right_outcome": outcome})
    assert phases == expected


RUNNABLE_EXAMPLES = ["argo_spark_app_workflow", "spark_argo_params", "spark_nightly_argo_calendar",
                     "spark_pi_launcher_pod", "spark_pi_spark_operator", "spark_pi_spark_submit"]


def test_example_dags_run_in_the_dag_order(kube: KubeEmulator, validate: Callable[[dict], None]) -> None:
    # exported into the namespace the examples' Spark tasks use, where the steps' pods and Spark objects go
    namespace = "spark-jobs"
    files, report = render_airflow(EXAMPLES, dag_ids=RUNNABLE_EXAMPLES, namespace=namespace,
                                   workflow_templates=EXAMPLES / "manifests")
    assert report.counts()["unsupported"] == 0
    kube.create_namespace(namespace)
    kube.apply((EXAMPLES / "manifests" / "spark-app-workflow-template.yaml").read_text(), namespace)
    for text in files.values():
        manifest = yaml.safe_load(text)
        validate(manifest)
        kube.apply(manifest, namespace)
    dags, _ = load_dags(EXAMPLES)
    for dag_id in RUNNABLE_EXAMPLES:
        template = dag_id.replace("_", "-")
        phases = run_in_order(kube, f"{template}-run", template, upstream_of(dags[dag_id]), namespace=namespace)
        assert set(phases.values()) == {"Succeeded"}, (dag_id, phases)  # every step and the workflow
    applications = kube.list("sparkoperator.k8s.io/v1beta2", "SparkApplication", namespace)
    assert sorted(a["metadata"]["generateName"] for a in applications) == ["pi-", "pi-"]
