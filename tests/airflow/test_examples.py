"""The example DAGs in dags_examples/: they load, and the Spark ones run against the emulator."""

from __future__ import annotations

import itertools
import shutil
from datetime import datetime, timezone
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
    assert set(bag.dag_ids) == {"spark_pi_spark_submit", "spark_pi_launcher_pod", "spark_pi_spark_operator",
                                "argo_spark_app_workflow", "spark_gated_by_argo_calendar",
                                "spark_nightly_argo_calendar", "spark-etl-daily", "spark_argo_params"}
    undocumented = [dag_id for dag_id, dag in bag.dags.items() if not (dag.doc_md or "").strip()]
    assert undocumented == []


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


def test_calendar_gated_example_runs_after_the_event(spark_cluster: KubeEmulator, airflow_db: Path, capfd) -> None:
    spark_cluster.create_namespace("argo-events")  # where Argo Events is installed
    spark_cluster.apply((EXAMPLES / "manifests" / "calendar-source.yaml").read_text())
    path = airflow_db / "dags" / "spark_gated_by_argo_calendar.py"
    shutil.copy(EXAMPLES / "spark_gated_by_argo_calendar.py", path)
    # The first event after 2026-11-20 23:00 in Amsterdam is the next day's, already due: no waiting.
    result = run_dag_file(path, capfd, conf={"after": "2026-11-20T22:00:00Z"})
    assert result.states == {"calendar_event": "success", "pi": "success"}
    assert result.xcom("calendar_event") == {"eventTime": "2026-11-21 23:00:00 +0100 CET",
                                             "metadata": {"job": "spark-pi"}}
    [app] = spark_cluster.list("sparkoperator.k8s.io/v1beta2", "SparkApplication", "spark-jobs")
    assert {"name": "CALENDAR_EVENT_TIME", "value": "2026-11-21 23:00:00 +0100 CET"} in app["spec"]["driver"]["env"]


def test_calendar_timetable_example_schedules_at_argo_fires(airflow_db: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction

    from airflow_provider_sparkk8s.calendar import ArgoCalendar

    bag = DagBag(dag_folder=str(EXAMPLES / "spark_nightly_argo_calendar.py"))
    dag = bag.dags["spark_nightly_argo_calendar"]
    # What the scheduler sees: the serialized DAG, rebuilt without reading the EventSource file again.
    timetable = DagSerialization.from_dict(DagSerialization.to_dict(dag)).timetable
    restriction = TimeRestriction(datetime(2026, 12, 22, tzinfo=timezone.utc), None, catchup=True)
    fires, last = [], None
    for _ in range(4):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        fires.append(info.run_after.isoformat())
        last = info.data_interval
    # 23:00 in Amsterdam (22:00 UTC), and neither the 24th nor the 31st (the EventSource's exclusion dates).
    assert fires == ["2026-12-22T22:00:00+00:00", "2026-12-23T22:00:00+00:00", "2026-12-25T22:00:00+00:00",
                     "2026-12-26T22:00:00+00:00"]
    import yaml

    manifest = yaml.safe_load((EXAMPLES / "manifests" / "calendar-source.yaml").read_text())
    calendar = ArgoCalendar.from_event_source(manifest, "schedule-a")
    argo_fires = calendar.iter_fires(datetime(2026, 12, 22, 21, tzinfo=timezone.utc))
    assert fires == [fire.isoformat() for fire in itertools.islice(argo_fires, 4)]


MIGRATED = ["--spark-launcher", "spark-operator", "--namespace", "spark-jobs"]


def test_migrated_oozie_example_is_what_the_migration_generates(tmp_path: Path) -> None:
    from airflow_provider_sparkk8s.cli import main

    assert main(["migrate", "oozie", str(EXAMPLES / "oozie" / "spark-etl"), "--to", "airflow",
                 "--out", str(tmp_path), *MIGRATED]) == 0
    assert (tmp_path / "spark_etl_daily.py").read_text() == (EXAMPLES / "spark_etl_daily.py").read_text()
    assert main(["migrate", "oozie", str(EXAMPLES / "oozie" / "spark-etl"), "--to", "argo", "--out",
                 str(tmp_path / "argo"), "--namespace", "argo", "--spark-mode", "spark-application"]) == 0
    argo = EXAMPLES / "oozie" / "spark-etl-argo"
    assert {p.name: p.read_text() for p in (tmp_path / "argo").iterdir()} == {
        p.name: p.read_text() for p in argo.iterdir()}


def test_migrated_oozie_coordinator_runs(spark_cluster: KubeEmulator, airflow_db: Path, capfd,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.migrate.airflow_run_support import fake_xcom_sidecar

    fake_xcom_sidecar(monkeypatch, spark_cluster)
    spark_cluster.pods.behave(name="check-count*", log="rows=42\n")
    path = airflow_db / "dags" / "spark_etl_daily.py"
    shutil.copy(EXAMPLES / "spark_etl_daily.py", path)
    result = run_dag_file(path, capfd)
    assert result.state == "success"
    assert result.states["fail"] == "skipped"
    assert {state for task, state in result.states.items() if task != "fail"} == {"success"}
    assert result.xcom("check-count") == {"rows": "42"}
    apps = spark_cluster.list("sparkoperator.k8s.io/v1beta2", "SparkApplication", "spark-jobs")
    assert sorted(a["spec"]["mainApplicationFile"].rsplit("/", 1)[-1] for a in apps) == [
        "aggregate.py", "ingest.py", "score.jar"]
