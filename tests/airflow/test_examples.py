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
    assert {"spark_pi_spark_submit", "spark_pi_launcher_pod", "spark_pi_spark_operator"} <= set(bag.dag_ids)


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
