"""`sparkk8s migrate oozie` as a user runs it: exit codes, the report, and all-or-nothing output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"
SPARKK8S = Path(sys.executable).with_name("sparkk8s")


def migrate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SPARKK8S), "migrate", "oozie", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("target", ["argo", "airflow"])
def test_converts_an_application_and_reports(tmp_path: Path, target: str) -> None:
    out, report = tmp_path / "out", tmp_path / "report.json"
    result = migrate(CORPUS / "spark-etl", "--to", target, "--out", out, "--report", report)
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["ok"] is True and data["target"] == target and data["source"] == "spark-etl"
    assert data["files"] == sorted(tree(out)) and data["files"]
    assert f"Oozie spark-etl -> {target}:" in result.stdout
    assert "Wrote: " in result.stdout
    # Every issue names the file and line it comes from.
    assert all(issue["file"] and issue["line"] for issue in data["issues"] if issue["file"].endswith(".xml"))
    assert any(i["level"] == "unsupported" and "coord:dataIn" in i["message"] for i in data["issues"])


@pytest.mark.parametrize("target", ["argo", "airflow"])
def test_same_input_gives_byte_identical_output(tmp_path: Path, target: str) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert migrate(CORPUS / "all-actions-1.0", "--to", target, "--out", first).returncode == 0
    assert migrate(CORPUS / "all-actions-1.0", "--to", target, "--out", second).returncode == 0
    assert tree(first) == tree(second) and tree(first)


@pytest.mark.parametrize("case, expected", [
    ("dangling", "workflow.xml:"),
    ("cycle", "workflow.xml:"),
    ("xxe", "workflow.xml:"),
    ("billion-laughs", "workflow.xml:"),
    ("malformed", "workflow.xml:"),
])
def test_bad_input_fails_names_the_place_and_writes_nothing(tmp_path: Path, case: str, expected: str) -> None:
    out = tmp_path / "dags"
    out.mkdir()
    (out / "existing.py").write_text("# a DAG that was already there\n")
    report = tmp_path / "report.json"
    result = migrate(CORPUS / "bad" / case, "--to", "airflow", "--out", out, "--report", report)
    assert result.returncode == 1
    assert expected in result.stderr and "error" in result.stderr
    assert "Nothing was written." in result.stderr
    assert tree(out) == {"existing.py": b"# a DAG that was already there\n"}
    data = json.loads(report.read_text())
    assert data["ok"] is False and data["files"] == [] and data["summary"]["error"] >= 1


def test_hostile_xml_is_refused_without_reading_local_files(tmp_path: Path) -> None:
    result = migrate(CORPUS / "bad" / "xxe", "--to", "argo", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "root:" not in result.stderr + result.stdout  # /etc/passwd was not expanded into anything
    assert not (tmp_path / "out").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    result = migrate(CORPUS / "spark-etl", "--to", "luigi", "--out", tmp_path)
    assert result.returncode == 2 and "invalid choice: 'luigi'" in result.stderr
    result = migrate(CORPUS / "spark-etl", "--to", "argo", "--out", tmp_path, "--action-image", "shell")
    assert result.returncode == 2 and "expected ACTION=IMAGE" in result.stderr


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    result = migrate(tmp_path / "nope", "--to", "argo", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "nope" in result.stderr
    assert not (tmp_path / "out").exists()


def test_properties_file_overrides_job_properties(tmp_path: Path) -> None:
    props = tmp_path / "prod.properties"
    props.write_text((CORPUS / "spark-etl" / "job.properties").read_text().replace("queueName=default",
                                                                                   "queueName=prod-queue"))
    out = tmp_path / "out"
    assert migrate(CORPUS / "spark-etl", "--to", "argo", "--out", out, "--properties", props).returncode == 0
    assert "prod-queue" in "".join(p.read_text() for p in out.iterdir())


def test_output_file_permissions_are_readable(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert migrate(CORPUS / "spark-etl", "--to", "argo", "--out", out).returncode == 0
    assert all(os.stat(p).st_mode & 0o777 == 0o644 for p in out.iterdir())
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left behind
