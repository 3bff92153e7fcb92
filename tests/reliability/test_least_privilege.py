"""Least privilege: every example DAG runs when its connections act as the worker ServiceAccount bound by the
shipped Role manifests (the emulator enforces RBAC for it), and a missing permission fails the task with an
error that names the verb and the resource."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.conftest import run_dag_file
from tests.conftest import require
from tests.reliability.rbac_support import (
    EXAMPLES,
    WORKER_USER,
    rbac_documents,
    roles_of_worker,
    start_cluster,
    without,
    worker_calls,
    worker_env,
)


@pytest.fixture
def least_privilege(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., KubeEmulator]]:
    """Start a cluster (shipped RBAC unless given) whose Airflow connections use the worker's token."""
    started: list[KubeEmulator] = []

    def start(rbac: list[dict] | None = None, **options: object) -> KubeEmulator:
        kube = start_cluster(tmp_path / f"kube{len(started)}", rbac, **options)
        started.append(kube)
        for key, value in worker_env(kube, tmp_path / f"kube{len(started)}").items():
            monkeypatch.setenv(key, value)
        return kube

    yield start
    for kube in started:
        kube.stop()


def example(airflow_db: Path, name: str, source: str | None = None) -> Path:
    path = airflow_db / "dags" / f"{name}.py"
    shutil.copytree(EXAMPLES / "manifests", path.parent / "manifests", dirs_exist_ok=True)  # read by the timetable
    if source is None:
        shutil.copy(EXAMPLES / f"{name}.py", path)
    else:
        path.write_text(source)
    return path


def assert_never_forbidden(kube: KubeEmulator) -> None:
    calls = worker_calls(kube)
    assert calls, "the worker's token was not used"
    assert sorted(c for c in calls if c[3] in (401, 403)) == []


@pytest.mark.parametrize("name", ["spark_pi_launcher_pod", "spark_pi_spark_operator", "spark_nightly_argo_calendar"])
def test_spark_example_runs_under_the_shipped_roles(least_privilege, airflow_db: Path, capfd, name: str) -> None:
    kube = least_privilege()
    result = run_dag_file(example(airflow_db, name), capfd)
    assert set(result.states.values()) == {"success"}, result.states
    assert_never_forbidden(kube)


@pytest.mark.parametrize("conn", [None, "argo_workflows_default"], ids=["k8s", "argo-server"])
def test_argo_example_runs_under_the_shipped_roles(least_privilege, airflow_db: Path, capfd, conn: str | None
                                                   ) -> None:
    kube = least_privilege(pod_run_seconds=0.2, pod_pending_seconds=0.05)
    source = (EXAMPLES / "argo_spark_app_workflow.py").read_text()
    source = source.replace("\nARGO_CONN_ID = None\n", f"\nARGO_CONN_ID = {conn!r}\n")
    result = run_dag_file(example(airflow_db, f"argo_spark_app_workflow_{conn or 'k8s'}", source), capfd)
    assert result.states == {"spark_app": "success", "confirm_spark_app": "success"}
    assert_never_forbidden(kube)


def test_params_example_runs_under_the_shipped_roles(least_privilege, airflow_db: Path, capfd) -> None:
    kube = least_privilege(pod_run_seconds=0.2, pod_pending_seconds=0.05)
    result = run_dag_file(example(airflow_db, "spark_argo_params"), capfd)
    assert result.states == {"spark_pi": "success", "argo_spark_app": "success"}
    assert_never_forbidden(kube)


def test_calendar_gated_example_runs_under_the_shipped_roles(least_privilege, airflow_db: Path, capfd) -> None:
    kube = least_privilege()
    result = run_dag_file(example(airflow_db, "spark_gated_by_argo_calendar"), capfd,
                          conf={"after": "2026-11-20T22:00:00Z"})
    assert result.states == {"calendar_event": "success", "pi": "success"}
    assert_never_forbidden(kube)


def test_migrated_oozie_example_runs_under_the_shipped_roles(least_privilege, airflow_db: Path, capfd,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.migrate.airflow_run_support import fake_xcom_sidecar

    kube = least_privilege()
    fake_xcom_sidecar(monkeypatch, kube)
    kube.pods.behave(name="check-count*", log="rows=42\n")
    result = run_dag_file(example(airflow_db, "spark_etl_daily"), capfd)
    assert result.state == "success", result.states
    assert_never_forbidden(kube)


@pytest.mark.slow
def test_spark_submit_example_runs_under_the_shipped_roles(least_privilege, airflow_db: Path, capfd) -> None:
    require(shutil.which("java") is not None, "java is not installed")
    kube = least_privilege()
    result = run_dag_file(example(airflow_db, "spark_pi_spark_submit"), capfd)
    assert set(result.states.values()) == {"success"}, result.states
    assert_never_forbidden(kube)


def test_a_missing_permission_fails_the_task_naming_the_verb_and_resource(least_privilege, airflow_db: Path,
                                                                          capfd) -> None:
    docs = rbac_documents()
    [(index, role)] = [(i, r) for i, r in roles_of_worker(docs) if r["metadata"]["name"] == "airflow-spark"]
    rule = next(n for n, r in enumerate(role["rules"]) if "sparkapplications" in r["resources"])
    least_privilege(without(docs, index, rule, "create"))
    result = run_dag_file(example(airflow_db, "spark_pi_spark_operator"), capfd)
    assert result.states["pi"] == "failed"
    assert (f'sparkapplications.sparkoperator.k8s.io is forbidden: User "{WORKER_USER}" cannot create resource '
            '"sparkapplications" in API group "sparkoperator.k8s.io" in the namespace "spark-jobs"') in result.output
