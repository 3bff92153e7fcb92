"""ArgoWorkflowOperator in a real Airflow 3 deployment: a user kill ("mark failed") of a task waiting on the
worker or deferred in the triggerer stops the workflow (exit handlers run) or terminates it (they do not)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.argo_support import LONG
from tests.stack import AirflowStack
from tests.stack_fixtures import NAMESPACE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TASK = "wf"
WF = ("argoproj.io/v1alpha1", "Workflow")


def argo_dag(dag_id: str, *, deferrable: bool, kill_action: str, conn: str | None) -> str:
    return f"""
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator

with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    ArgoWorkflowOperator(task_id={TASK!r}, workflow_template="long", namespace={NAMESPACE!r},
                         argo_conn_id={conn!r}, deferrable={deferrable!r}, kill_action={kill_action!r})
"""


def killed_workflow(stack: AirflowStack, kube: KubeEmulator, **dag: Any) -> dict:
    """Run the DAG, mark the task failed while its workflow runs, and return the workflow once it ended."""
    kube.apply({**LONG, "metadata": {"name": "long", "namespace": NAMESPACE}})
    dag_id = f"e2e_argo_{uuid.uuid4().hex[:8]}"
    stack.add_dag(dag_id, argo_dag(dag_id, **dag))
    run_id = stack.trigger(dag_id)
    selector = f"sparkk8s.io/dag-id={dag_id}"

    def running() -> dict | None:
        wfs = [w for w in kube.list(*WF, NAMESPACE, selector) if (w.get("status") or {}).get("phase") == "Running"]
        return wfs[0] if wfs else None

    name = stack.wait(running, 60, f"a Running workflow of {dag_id}")["metadata"]["name"]
    stack.wait_for_ti(dag_id, run_id, TASK, ["deferred" if dag["deferrable"] else "running"], 60)
    if dag["deferrable"]:
        stack.wait(lambda: "Waiting for workflow" in stack.trigger_log(dag_id, run_id, TASK), 30, "the trigger")
    stack.set_ti_state(dag_id, run_id, TASK, "failed")
    killed = time.monotonic()

    def ended() -> dict | None:
        wf = kube.get(*WF, name, NAMESPACE)
        return wf if (wf.get("status") or {}).get("phase") == "Failed" else None

    wf = stack.wait(ended, 15, f"workflow {name} to end")
    assert time.monotonic() - killed < 10
    assert stack.ti(dag_id, run_id, TASK)["state"] == "failed"
    return wf


def exit_handler_ran(wf: dict) -> bool:
    node = wf["status"]["nodes"].get(f"{wf['metadata']['name']}.onExit") or next(
        (n for n in wf["status"]["nodes"].values() if n.get("name") == f"{wf['metadata']['name']}.onExit"), None)
    return node is not None and node.get("phase") == "Succeeded"


@pytest.mark.parametrize("conn", [None, "argo_workflows_default"], ids=["k8s", "argo-server"])
def test_mark_failed_while_running_stops_the_workflow(airflow_stack: AirflowStack, e2e_kube: KubeEmulator,
                                                      conn: str | None) -> None:
    wf = killed_workflow(airflow_stack, e2e_kube, deferrable=False, kill_action="stop", conn=conn)
    assert wf["spec"]["shutdown"] == "Stop"
    assert wf["status"]["message"] == "Stopped with strategy 'Stop'"
    airflow_stack.wait(lambda: exit_handler_ran(e2e_kube.get(*WF, wf["metadata"]["name"], NAMESPACE)), 10,
                       "the exit handler to run")


@pytest.mark.parametrize("conn", [None, "argo_workflows_default"], ids=["k8s", "argo-server"])
def test_mark_failed_while_deferred_terminates_the_workflow(airflow_stack: AirflowStack, e2e_kube: KubeEmulator,
                                                            conn: str | None) -> None:
    wf = killed_workflow(airflow_stack, e2e_kube, deferrable=True, kill_action="terminate", conn=conn)
    assert wf["spec"]["shutdown"] == "Terminate"
    assert wf["status"]["message"] == "Stopped with strategy 'Terminate'"
    assert not exit_handler_ran(wf)
