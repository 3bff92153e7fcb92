"""ArgoWorkflowOperator idempotency and API faults, over both transports: a workflow an earlier attempt of the
same try created is adopted (running) or reported (finished) instead of submitted again; dropped watches and
server errors never change the outcome nor submit twice."""

from __future__ import annotations

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.argo_support import MODES, OPERATOR_IMPORTS, TRANSPORTS, argo, operator, workflows

__all__ = ["argo"]

ADOPT_IMPORTS = OPERATOR_IMPORTS + ("from airflow.sdk import task\n"
                                    "from tests.airflow.argo_support import create_earlier_attempt\n")


def earlier_then_operator(template: str, conn: str | None, wait: bool, deferrable: bool = False) -> str:
    return f"""
        @task
        def earlier(**context):
            create_earlier_attempt(context, {template!r}, {conn!r}, wait={wait!r})

        earlier() >> {operator(deferrable, conn, workflow_template=template)}
        """


def creates(kube: KubeEmulator) -> int:
    """Successful Workflow creations through either transport (the Argo Server submits templates)."""
    return sum(1 for r in kube.requests.snapshot() if r.verb == "create" and 200 <= r.status < 300
               and r.resource in ("workflows", "argo/workflows", "argo/workflows/submit"))


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_running_workflow_of_the_same_try_is_adopted(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    result = run_dag(earlier_then_operator("slow", conn, wait=False, deferrable=deferrable), ADOPT_IMPORTS)
    assert result.states == {"earlier": "success", "wf": "success"}
    [wf] = workflows(argo)
    assert creates(argo) == 1
    value = result.xcom("wf")
    assert value["adopted"] is True and value["name"] == wf["metadata"]["name"] and value["phase"] == "Succeeded"
    assert f"Adopting workflow default/{wf['metadata']['name']}" in result.output


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_finished_workflow_of_the_same_try_is_not_run_again(argo: KubeEmulator, run_dag, conn) -> None:
    result = run_dag(earlier_then_operator("failing", conn, wait=True), ADOPT_IMPORTS)
    assert result.states == {"earlier": "success", "wf": "failed"}
    [wf] = workflows(argo)
    assert creates(argo) == 1
    name = wf["metadata"]["name"]
    assert f"Workflow default/{name} of this try already ended Failed; not submitting again" in result.output
    assert f"Workflow default/{name} ended Failed" in result.output
    assert "step load (template load) Failed, exit code 3" in result.output


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_dropped_watches_do_not_change_the_outcome(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    resource = "argo/workflows" if conn else "workflows"
    fault = argo.faults.add(verb="watch", resource=resource, drop_watch_after_events=1, times=4)
    result = run_dag(operator(deferrable, conn, workflow_template="slow"), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    assert fault.fired >= 1
    assert creates(argo) == 1
    assert result.xcom("wf")["phase"] == "Succeeded"


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_server_errors_on_watch_and_reads_are_retried(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    resource = "argo/workflows" if conn else "workflows"
    watch = argo.faults.add(verb="watch", resource=resource, status=500, times=2)
    # both transports list: to adopt a workflow of the same try, and to (re)sync the watch
    get = argo.faults.add(verb="list", resource=resource, status=503, times=2)
    result = run_dag(operator(deferrable, conn, workflow_template="slow"), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    assert watch.fired == 2 and get.fired == 2
    assert creates(argo) == 1
    assert result.xcom("wf")["phase"] == "Succeeded"


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_a_failed_create_is_retried_without_a_second_workflow(argo: KubeEmulator, run_dag, conn) -> None:
    resource = "argo/workflows/submit" if conn else "workflows"
    fault = argo.faults.add(verb="create", resource=resource, status=503, times=1)
    result = run_dag(operator(False, conn, workflow_template="slow"), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    assert fault.fired == 1
    assert len(workflows(argo)) == 1 and creates(argo) == 1


@pytest.mark.parametrize("conn", TRANSPORTS)
def test_a_create_whose_response_was_lost_is_not_a_conflict(argo: KubeEmulator, run_dag, conn) -> None:
    # The server creates the workflow but the connection drops before the answer: the retry gets 409.
    resource = "argo/workflows/submit" if conn else "workflows"
    fault = argo.faults.add(verb="create", resource=resource, reset_after=True, times=1)
    result = run_dag(operator(False, conn, workflow_template="slow"), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}
    assert fault.fired == 1
    assert len(workflows(argo)) == 1
    attempts = [r.status for r in argo.requests.snapshot() if r.verb == "create" and r.resource == resource]
    assert attempts == [0, 409]  # the lost answer (no status), then the retry that found the name taken
