"""ArgoWorkflowSensor: wait for a workflow something else started, by name or label selector, poking or
deferred, over both transports; the operator's success and failure semantics, and soft_fail."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.argo_support import MODES, NS, SENSOR_IMPORTS, TRANSPORTS, argo

__all__ = ["argo"]


def workflow(name: str, template: str, **labels: str) -> dict:
    """A workflow as an Argo Events sensor or a person submits it."""
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"workflowTemplateRef": {"name": template},
                     "arguments": {"parameters": [{"name": "dataset", "value": "events"}]}}}


def sensor(deferrable: bool, conn: str | None, **kwargs: Any) -> str:
    args = {"task_id": "wait", "deferrable": deferrable, "argo_conn_id": conn, "poke_interval": 0.5,
            "timeout": 60, **kwargs}
    return "ArgoWorkflowSensor(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


@pytest.fixture
def later(argo: KubeEmulator) -> Iterator[Any]:
    threads: list[threading.Thread] = []

    def apply(manifest: dict, delay: float) -> None:
        def run() -> None:
            time.sleep(delay)
            argo.apply(manifest)

        threads.append(threading.Thread(target=run, daemon=True))
        threads[-1].start()

    yield apply
    for thread in threads:
        thread.join(10)


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_by_name_succeeds_with_the_outputs(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    argo.apply(workflow("nightly-1", "pipeline"))
    result = run_dag(sensor(deferrable, conn, workflow_name="nightly-1"), SENSOR_IMPORTS)
    assert result.states == {"wait": "success"}
    value = result.xcom("wait")
    wf = argo.get("argoproj.io/v1alpha1", "Workflow", "nightly-1", NS)
    assert value == {"name": "nightly-1", "namespace": NS, "uid": wf["metadata"]["uid"], "phase": "Succeeded",
                     "progress": "2/2", "started_at": wf["status"]["startedAt"],
                     "finished_at": wf["status"]["finishedAt"], "outputs": {"rows": "42"}}


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_by_label_selector_waits_for_a_workflow_to_appear(argo: KubeEmulator, run_dag, later, conn,
                                                          deferrable) -> None:
    later(workflow("from-events", "slow", **{"events.argoproj.io/sensor": "calendar"}), 1.5)
    result = run_dag(sensor(deferrable, conn, label_selector="events.argoproj.io/sensor=calendar"), SENSOR_IMPORTS)
    assert result.states == {"wait": "success"}
    assert result.xcom("wait")["name"] == "from-events"


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("conn", TRANSPORTS)
def test_failed_workflow_fails_the_sensor_naming_the_step(argo: KubeEmulator, run_dag, conn, deferrable) -> None:
    argo.apply(workflow("broken-1", "failing"))
    result = run_dag(sensor(deferrable, conn, workflow_name="broken-1"), SENSOR_IMPORTS)
    assert result.states == {"wait": "failed"}
    assert f"Workflow {NS}/broken-1 ended Failed" in result.output
    assert "step load (template load) Failed, exit code 3: main: Error (exit code 3)" in result.output


@pytest.mark.parametrize("deferrable", MODES)
def test_soft_fail_skips_on_a_failed_workflow(argo: KubeEmulator, run_dag, deferrable) -> None:
    argo.apply(workflow("broken-2", "failing"))
    result = run_dag(sensor(deferrable, None, workflow_name="broken-2", soft_fail=True), SENSOR_IMPORTS)
    assert result.states == {"wait": "skipped"}
