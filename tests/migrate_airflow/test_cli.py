"""`sparkk8s migrate airflow` as a user runs it: on every DAG of dags_examples/, and on bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from airflow_provider_sparkk8s.cli import main
from airflow_provider_sparkk8s.testing import KubeEmulator

EXAMPLES = Path(__file__).parents[2] / "dags_examples"
# Each task of the examples that Argo cannot run, and why (the report says it per task, with file and line).
UNMAPPABLE = {
    ("spark_etl_daily.py", "task ingest"): "call of oozie.format_time()",
    ("spark_etl_daily.py", "task has-rows"): "BranchPythonOperator branches in Python at run time",
    ("spark_etl_daily.py", "task fail"): "PythonOperator runs a Python callable inside the Airflow worker",
    ("spark_gated_by_argo_calendar.py", "task calendar_event"): "an Argo step cannot wait for an event",
    ("spark_gated_by_argo_calendar.py", "task pi"): "xcom_pull('calendar_event')['eventTime']",
}


def test_every_example_dag_exports_or_reports_why_a_task_cannot(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               validate: Callable[[dict], None],
                                                               kube_emulator: KubeEmulator) -> None:
    out, report = tmp_path / "manifests", tmp_path / "report.json"
    args = ["migrate", "airflow", str(EXAMPLES), "--out", str(out), "--workflow-templates",
            str(EXAMPLES / "manifests"), "--report", str(report)]
    assert main(args) == 1
    assert not out.exists()  # nothing partial is written
    errors = json.loads(report.read_text())["issues"]
    assert {(i["file"], i["element"]): i["level"] for i in errors} == {key: "error" for key in UNMAPPABLE}
    for issue in errors:
        assert UNMAPPABLE[(issue["file"], issue["element"])] in issue["message"]
        assert issue["line"] is not None
    assert "Nothing was written." in capsys.readouterr().err

    assert main([*args, "--partial"]) == 0
    written = sorted(p.name for p in out.iterdir())
    dags = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    assert [n for n in written if n.endswith(".workflowtemplate.yaml")] == sorted(
        f"{d.replace('_', '-')}.workflowtemplate.yaml" for d in dags)
    kube_emulator.create_namespace("argo")
    for name in written:
        manifest = yaml.safe_load((out / name).read_text())
        validate(manifest)
        kube_emulator.apply(manifest, "argo")  # the API accepts it
    data = json.loads(report.read_text())
    assert data["ok"] is True and sorted(data["files"]) == written
    assert {(i["file"], i["element"]) for i in data["issues"] if i["level"] == "unsupported"} == set(UNMAPPABLE)
    assert "Wrote: " in capsys.readouterr().out


def test_only_the_named_dags_are_exported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["migrate", "airflow", str(EXAMPLES / "spark_pi_spark_operator.py"), "--out", str(out),
                 "--dag-id", "spark_pi_spark_operator", "--namespace", "spark-jobs"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["spark-pi-spark-operator.workflowtemplate.yaml"]
    manifest = yaml.safe_load((out / "spark-pi-spark-operator.workflowtemplate.yaml").read_text())
    assert manifest["metadata"]["namespace"] == "spark-jobs"


def test_a_missing_dags_path_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "airflow", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 1
    assert "DAGS_PATH: " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
