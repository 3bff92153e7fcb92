"""The example DAGs in dags_examples/: they load, and the Spark ones run against the emulator."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.conftest import run_dag_file
from tests.conftest import REPO

EXAMPLES = REPO / "dags_examples"


def test_every_example_dag_loads_without_import_errors(airflow_db: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES))
    assert bag.import_errors == {}
    assert {"spark_pi_spark_submit", "spark_pi_launcher_pod", "spark_pi_spark_operator",
            "argo_spark_app_workflow"} <= set(bag.dag_ids)


@pytest.fixture
def spark_cluster(kube_emulator_factory) -> KubeEmulator:
    cluster = kube_emulator_factory()
    cluster.apply((EXAMPLES / "manifests" / "spark-rbac.yaml").read_text())
    return cluster


@pytest.mark.parametrize("example", ["spark_pi_launcher_pod", "spark_pi_spark_operator"])
def test_spark_example_runs_to_success(spark_cluster: KubeEmulator, airflow_db: Path, capfd, example: str) -> None:
    path = airflow_db / "dags" / f"{example}.py"
    shutil.copy(EXAMPLES / f"{example}.py", path)
    result = run_dag_file(path, capfd)
    assert set(result.states.values()) == {"success"}, result.states
    drivers = spark_cluster.list("v1", "Pod", "spark-jobs", "spark-role=driver")
    assert [d["status"]["phase"] for d in drivers] == ["Succeeded"]
    assert drivers[0]["spec"]["serviceAccountName"] == "spark"


@pytest.mark.parametrize("conn", [None, "argo_workflows_default"], ids=["k8s", "argo-server"])
def test_argo_example_runs_to_success(kube_emulator_factory, airflow_db: Path, capfd, conn: str | None) -> None:
    cluster = kube_emulator_factory(pod_run_seconds=0.2, pod_pending_seconds=0.05)
    cluster.apply((EXAMPLES / "manifests" / "argo-rbac.yaml").read_text())
    cluster.apply((EXAMPLES / "manifests" / "spark-app-workflow-template.yaml").read_text(), "argo")
    path = airflow_db / "dags" / f"argo_spark_app_workflow_{conn or 'k8s'}.py"
    source = (EXAMPLES / "argo_spark_app_workflow.py").read_text()
    assert "\nARGO_CONN_ID = None\n" in source
    path.write_text(source.replace("\nARGO_CONN_ID = None\n", f"\nARGO_CONN_ID = {conn!r}\n"))
    result = run_dag_file(path, capfd)
    assert result.states == {"spark_app": "success", "confirm_spark_app": "success"}
    [wf] = cluster.list("argoproj.io/v1alpha1", "Workflow", "argo")
    assert wf["status"]["phase"] == "Succeeded"
    assert wf["spec"]["arguments"]["parameters"] == [
        {"name": "sparkJobFilePath", "value": "/mounted/volume/spark-apps/my-spark-app.py"}]
    [pod] = cluster.list("v1", "Pod", "argo", f"workflows.argoproj.io/workflow={wf['metadata']['name']}")
    assert pod["spec"]["containers"][0]["args"] == ["/mounted/volume/spark-apps/my-spark-app.py"]
    assert result.xcom("confirm_spark_app")["name"] == wf["metadata"]["name"]
