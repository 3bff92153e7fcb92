"""TLS and authentication as a DAG author sees them (dag.test against the emulator serving HTTPS with its own CA):
a rejected token and an untrusted certificate fail the task with an error that says so, and turning
verification off works only when the connection says so, with a warning in the task log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.conftest import DagResult, run_dag_file

SPARK_TASK = """
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

SparkK8sOperator(task_id="pi", launcher="spark-operator", image="apache/spark:4.0.1", namespace="spark-jobs",
                 application="local:///opt/spark/examples/src/main/python/pi.py", retries=0)
"""
ARGO_TASK = """
from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator

ArgoWorkflowOperator(task_id="wf", workflow_template="spark-app-workflow-template", namespace="argo",
                     parameters={"sparkJobFilePath": "/apps/app.py"}, argo_conn_id=ARGO_CONN_ID, retries=0)
"""


@pytest.fixture
def cluster(kube_emulator_factory) -> KubeEmulator:
    from tests.reliability.rbac_support import MANIFESTS

    kube = kube_emulator_factory(tls=True, token="right-token", namespaces=["spark-jobs", "argo"],
                                 pod_run_seconds=0.1, pod_pending_seconds=0.01)
    kube.apply((MANIFESTS / "spark-app-workflow-template.yaml").read_text(), "argo")
    return kube


def run_task(airflow_db: Path, capfd, name: str, task: str) -> DagResult:
    path = airflow_db / "dags" / f"{name}.py"
    path.write_text("from datetime import datetime\nfrom airflow.sdk import DAG\n\n"
                    f"with DAG({name!r}, schedule=None, start_date=datetime(2026, 1, 1)) as dag:\n"
                    + "".join(f"    {line}\n" for line in task.strip().splitlines()))
    try:
        return run_dag_file(path, capfd)
    finally:
        path.unlink()


def kubernetes_connection(kube: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *,
                          token: str | None = None, ca: bool = True, **extra: object) -> None:
    config = kube.kubeconfig(token=token)
    if not ca:
        del config["clusters"][0]["cluster"]["certificate-authority-data"]
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", json.dumps(
        {"conn_type": "kubernetes", "extra": {"kube_config_path": str(path), **extra}}))
    monkeypatch.setenv("KUBECONFIG", str(path))


def test_a_wrong_token_fails_the_spark_task_with_401_unauthorized(cluster, airflow_db, capfd, tmp_path,
                                                                  monkeypatch) -> None:
    kubernetes_connection(cluster, tmp_path, monkeypatch, token="wrong-token")
    result = run_task(airflow_db, capfd, "tls_wrong_token_spark", SPARK_TASK)
    assert result.states == {"pi": "failed"}
    assert "HTTP 401 Unauthorized" in result.output
    assert cluster.list("sparkoperator.k8s.io/v1beta2", "SparkApplication", "spark-jobs") == []


@pytest.mark.parametrize("transport", ["kubernetes", "argo-server"])
def test_a_wrong_token_fails_the_argo_task_with_401_unauthorized(cluster, airflow_db, capfd, tmp_path, monkeypatch,
                                                                 transport: str) -> None:
    kubernetes_connection(cluster, tmp_path, monkeypatch, token="wrong-token")
    monkeypatch.setenv("AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT",
                       json.dumps(cluster.argo_connection("argo", token="wrong-token")))
    conn = "argo_workflows_default" if transport == "argo-server" else None
    result = run_task(airflow_db, capfd, f"tls_wrong_token_argo_{transport.replace('-', '_')}",
                      f"ARGO_CONN_ID = {conn!r}\n{ARGO_TASK}")
    assert result.states == {"wf": "failed"}
    assert "HTTP 401 Unauthorized" in result.output
    assert cluster.list("argoproj.io/v1alpha1", "Workflow", "argo") == []


def test_a_connection_without_the_ca_fails_on_the_certificate(cluster, airflow_db, capfd, tmp_path,
                                                              monkeypatch) -> None:
    kubernetes_connection(cluster, tmp_path, monkeypatch, ca=False)
    result = run_task(airflow_db, capfd, "tls_no_ca", SPARK_TASK)
    assert result.states == {"pi": "failed"}
    assert "certificate verify failed" in result.output
    assert "TLS verification is disabled" not in result.output


def test_turning_verification_off_takes_the_connection_extra_and_warns(cluster, airflow_db, capfd, tmp_path,
                                                                       monkeypatch) -> None:
    kubernetes_connection(cluster, tmp_path, monkeypatch, ca=False, disable_verify_ssl=True)
    result = run_task(airflow_db, capfd, "tls_insecure_extra", SPARK_TASK)
    assert result.states == {"pi": "success"}
    assert "TLS verification is disabled for connection kubernetes_default (disable_verify_ssl)" in result.output


def test_an_argo_server_connection_names_its_ca_bundle_or_fails(cluster, airflow_db, capfd, tmp_path,
                                                                monkeypatch) -> None:
    kubernetes_connection(cluster, tmp_path, monkeypatch)
    other = tmp_path / "other-ca.crt"
    from airflow_provider_sparkk8s.testing.tls import make_certificates

    (tmp_path / "other").mkdir()
    other_ca, _, _ = make_certificates(tmp_path / "other", "127.0.0.1")
    other.write_bytes(other_ca.read_bytes())
    connection = cluster.argo_connection("argo")
    connection["extra"]["ca_bundle"] = str(other)
    monkeypatch.setenv("AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT", json.dumps(connection))
    result = run_task(airflow_db, capfd, "tls_argo_other_ca", f"ARGO_CONN_ID = 'argo_workflows_default'\n{ARGO_TASK}")
    assert result.states == {"wf": "failed"}
    assert "certificate verify failed" in result.output
