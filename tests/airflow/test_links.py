"""Extra links as the Airflow API server returns them to the UI (which shows an "Extra Links" heading when a task
has any, and a button per non-null URL), with the connections the sandbox and the emulator hand out: a link with
no target is not listed at all, and the links listed open pages that show the application."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.airflow_api import extra_links, xcom
from tests.airflow.argo_support import ARGO_SERVER, argo, operator

__all__ = ["argo"]

NS = "spark-jobs"
IMPORTS = """\
from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator
"""
PI = ("SparkK8sOperator(task_id='pi', application='local:///opt/spark/examples/src/main/python/pi.py', "
      f"image='apache/spark:4.0.1', namespace={NS!r}, launcher='pod', executor_instances=1)")


@pytest.fixture
def cluster(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory(namespaces=[NS])


def test_spark_links_without_a_url_are_not_listed(cluster: KubeEmulator, run_dag) -> None:
    # The emulator's (and the sandbox's) kubernetes connection names no Spark History Server nor driver UI.
    result = run_dag(PI, IMPORTS)
    assert result.states == {"pi": "success"}
    assert extra_links(result, "pi") == {}


def test_spark_history_link_from_the_connection_is_listed(cluster: KubeEmulator, run_dag,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    connection = cluster.airflow_connection(NS)
    connection["extra"]["spark_history_server_url"] = "http://history.example:18080"
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", json.dumps(connection))
    result = run_dag(PI, IMPORTS)
    app_id = xcom(result, "pi")["spark_app_id"]
    assert extra_links(result, "pi") == {
        "Spark History Server": f"http://history.example:18080/history/{app_id}/jobs/"}


def test_argo_link_opens_a_page_that_shows_the_workflow(argo: KubeEmulator, run_dag) -> None:
    result = run_dag(operator(False, ARGO_SERVER, workflow_template="pipeline", parameters={"dataset": "sales"}),
                     IMPORTS)
    assert result.states == {"wf": "success"}
    name = xcom(result, "wf")["name"]
    url = extra_links(result, "wf")["Argo Workflows UI"]
    assert url == f"{argo.argo_server_url}/workflows/default/{name}"
    page = requests.get(url, verify=str(argo.ca_path) if argo.ca_path else True, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert f"Workflow default/{name}" in page.text
    assert "Phase: <strong class=\"Succeeded\">Succeeded</strong>" in page.text
    for step in ("prepare", "train"):
        assert f"<td>{step}</td>" in page.text


def test_argo_page_of_a_failed_workflow_shows_the_failed_step_and_its_message(argo: KubeEmulator, run_dag
                                                                              ) -> None:
    result = run_dag(operator(False, ARGO_SERVER, workflow_template="failing"), IMPORTS)
    assert result.states == {"wf": "failed"}
    page = requests.get(extra_links(result, "wf")["Argo Workflows UI"],
                        verify=str(argo.ca_path) if argo.ca_path else True, timeout=10)
    assert page.status_code == 200
    assert "Phase: <strong class=\"Failed\">Failed</strong>" in page.text
    assert "<td>load</td><td>Pod</td><td class=\"Failed\">Failed</td><td>main: Error (exit code 3)</td>" in page.text


def test_argo_link_over_the_kubernetes_api_without_a_ui_url_is_not_listed(argo: KubeEmulator, run_dag) -> None:
    # No Argo Server connection, and the kubernetes connection has no `argo_ui_base_url` extra.
    result = run_dag(operator(False, None, workflow_template="pipeline", parameters={"dataset": "sales"}), IMPORTS)
    assert result.states == {"wf": "success"}
    assert extra_links(result, "wf") == {}
