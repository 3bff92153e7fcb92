"""The demo runner end to end (Airflow's start-up is most of a run's cost): real Airflow runs the launcher-pod
example, whose driver runs pi.py for real in the sandbox, and a DAG whose application fails; and the migrated Oozie
example, whose shell steps run on this machine and whose Spark applications run with spark-submit."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.runtime.support import bwrap
from tests.sandbox.conftest import EXAMPLES, require_spark

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

FAILING_DAG = """\
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

with DAG("failing", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    SparkK8sOperator(task_id="job", launcher="pod", application="local:///opt/jobs/fail.py",
                     image="apache/spark:4.0.1", namespace="spark-jobs", deferrable=False)
"""


def _processes_under(path: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and path in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(proc.name)
        except OSError:
            continue
    return found


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """The launcher-pod example beside a DAG whose application exits 4, with their manifests and mapping."""
    folder = tmp_path / "dags"
    (folder / "manifests").mkdir(parents=True)
    (folder / "jobs").mkdir()
    shutil.copy(EXAMPLES / "spark_pi_launcher_pod.py", folder)
    shutil.copy(EXAMPLES / "manifests" / "spark-rbac.yaml", folder / "manifests")
    (folder / "failing.py").write_text(FAILING_DAG)
    (folder / "jobs" / "fail.py").write_text("import sys\nprint('failing on purpose')\nsys.exit(4)\n")
    (folder / ".airflowignore").write_text("jobs/.*\n")
    mapping = yaml.safe_load((EXAMPLES / "sandbox.yaml").read_text())  # its conf; the images are the test's
    mapping["max_executors"] = 1  # one executor JVM an application is enough here
    mapping["images"] = [{"image": "apache/spark:4.0.1", "paths": {
        "/opt/spark/examples/src/main/python/": str(EXAMPLES / "apps"), "/opt/jobs/": "jobs/"}}]
    (folder / "sandbox.yaml").write_text(yaml.safe_dump(mapping))
    return folder


def test_the_demo_runs_dags_prints_the_summary_and_fails_when_a_task_failed(examples: Path) -> None:
    require_spark()
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_sparkk8s.sandbox.demo", "--examples", str(examples), "--timeout",
         "240"], capture_output=True, text=True, timeout=480, cwd=examples.parent)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-5000:]  # a task failed
    assert "an EMULATED Kubernetes control plane" in output
    rows = {line.split()[0]: line for line in output.splitlines()
            if line.startswith(("spark_pi_launcher_pod ", "failing "))}
    assert re.search(r"spark_pi_launcher_pod\s+pi\s+success\s+\d+\.\ds\s+Pi is roughly 3\.1\d*; driver "
                     r"pi-\w+-driver Succeeded", rows["spark_pi_launcher_pod"]), rows
    assert re.search(r"failing\s+job\s+failed\s+\d+\.\ds\s+.*exit code 4", rows["failing"]), rows
    assert "Real Spark: 2 application(s) ran in pods on this machine" in output
    # Each application: its executors, and its page in the sandbox's Spark History Server (the examples' mapping
    # runs one), under the id spark-submit gave it.
    page = r"pi\.py exit 0 \(\d+\.\ds, 1 executor\(s\)\)  http://127\.0\.0\.1:\d+/history/spark-[0-9a-f]{32}/jobs/"
    assert re.search(page, output), output[-3000:]
    assert "Demo FAILED" in output
    root = Path(re.search(r"Logs, AIRFLOW_HOME and the sandbox's files: (\S+)", output).group(1))
    try:
        task_log = (root / "logs" / "spark_pi_launcher_pod.log").read_text()
        assert "[driver] Pi is roughly 3.1" in task_log  # the driver's output in the Airflow task log
        assert "[driver] + exec " in task_log and " --deploy-mode client " in task_log  # the image's entrypoint
        assert "[driver] failing on purpose" in (root / "logs" / "failing.log").read_text()
        assert not _processes_under(str(root)), "the demo left processes running"
    finally:
        shutil.rmtree(root, ignore_errors=True)


ETL_DAG = "spark-etl-daily"
APP_ROOT = Path("user/etl/apps/spark-etl")  # hdfs://namenode:8020/user/etl/apps/spark-etl in the local HDFS


def run_demo(*args: str, cwd: Path = REPO) -> tuple[subprocess.CompletedProcess, str, Path]:
    """The demo's result, its output, and its kept working directory (logs, AIRFLOW_HOME, the sandbox's files)."""
    result = subprocess.run([sys.executable, "-m", "airflow_provider_sparkk8s.sandbox.demo", "--keep", *args],
                            capture_output=True, text=True, timeout=540, cwd=cwd)
    output = result.stdout + result.stderr
    kept = re.search(r"Logs, AIRFLOW_HOME and the sandbox's files: (\S+)", output)
    assert kept, output[-5000:]
    return result, output, Path(kept.group(1))


def task_states(root: Path, dag_id: str) -> dict[str, str]:
    [result] = [r for r in json.loads((root / "results.json").read_text()) if r["dag_id"] == dag_id]
    return {task["task_id"]: task["state"] for task in result["tasks"]}


def xcom(root: Path, dag_id: str, task_id: str) -> object:
    """The task's return_value XCom, as Airflow stored it in the demo's metadata database."""
    with sqlite3.connect(root / "airflow" / "airflow.db") as db:
        [(value,)] = db.execute("SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value'",
                                (dag_id, task_id)).fetchall()
    return json.loads(value)


def test_the_demo_runs_the_migrated_oozie_example_with_its_shell_steps_on_this_machine(tmp_path: Path) -> None:
    """spark_etl_daily.py as `make demo` runs it, with dags_examples/sandbox.yaml: the `hdfs dfs` prepare steps and
    the check-count script run as processes here (stand-ins working on a local directory that stands for HDFS),
    the three Spark applications run with spark-submit, and what check-count prints reaches XCom as on a cluster:
    KubernetesPodOperator reads /airflow/xcom/return.json from its sidecar through pods/exec."""
    require_spark()
    bwrap()
    folder = tmp_path / "dags"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    mapping = yaml.safe_load((folder / "sandbox.yaml").read_text())
    mapping["max_executors"] = 1  # the examples' mapping but for this: one executor JVM an application is enough
    (folder / "sandbox.yaml").write_text(yaml.safe_dump(mapping))
    result, output, root = run_demo("--examples", str(folder), "--only", ETL_DAG, cwd=tmp_path)
    try:
        assert result.returncode == 0, output[-5000:]
        assert task_states(root, ETL_DAG) == {
            "wait_for_input": "success", "ingest__prepare_delete": "success", "ingest__prepare_mkdir": "success",
            "ingest": "success", "check-count": "success", "has-rows": "success", "transform": "success",
            "aggregate": "success", "score": "success", "joined": "success", "end": "success", "fail": "skipped"}
        assert xcom(root, ETL_DAG, "check-count") == {"rows": "40"}
        assert re.search(r"check-count\s+success\s+\d+\.\ds\s+XCom rows=40", output), output[-5000:]
        assert "Real Spark: 3 application(s) ran in pods on this machine" in output
        # What the steps wrote in the local directory that stands for HDFS.
        hdfs = root / "sandbox" / "hdfs" / APP_ROOT
        [staged] = (hdfs / "staging").glob("*/part-*.csv")
        assert len(staged.read_text().splitlines()) == 40
        [aggregates] = (hdfs / "aggregates").glob("part-*.csv")
        counts = {event: int(n) for event, n, _ in (line.split(",") for line in aggregates.read_text().splitlines())}
        assert set(counts) == {"click", "purchase", "view"} and sum(counts.values()) == 40
        [scores] = (hdfs / "scores").glob("part-*.csv")
        assert len(scores.read_text().splitlines()) == 8  # one line per user of the sample
        log = (root / "logs" / f"{ETL_DAG}.log").read_text()
        assert "[base] count_rows.sh: run manual__" in log  # the stand-in script's own output in the task log
        assert "[base] rows=40" in log  # the capture-output wrapper echoes what becomes the XCom
        assert "[driver] spark-etl ingest: staged 40 events of " in log
        assert not _processes_under(str(root)), "the demo left processes running"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_shell_step_that_really_fails_fails_its_task(tmp_path: Path) -> None:
    """With its Spark applications left simulated (the mapping does not name them), nothing is staged: the
    check-count script's `hdfs dfs -cat` finds no files and exits 1, so its pod fails, the task fails, and the
    Oozie kill node (the `fail` task) fails the run with its message."""
    bwrap()
    folder = tmp_path / "dags"
    folder.mkdir()
    shutil.copy(EXAMPLES / "spark_etl_daily.py", folder)
    shutil.copytree(EXAMPLES / "manifests", folder / "manifests")
    shutil.copytree(EXAMPLES / "stand-ins", folder / "stand-ins")
    mapping = yaml.safe_load((EXAMPLES / "sandbox.yaml").read_text())
    mapping["images"] = [entry for entry in mapping["images"] if entry["image"] != "apache/spark:4.0.1"]
    mapping["images"].append({"image": "apache/spark:4.0.1"})  # listed (it pulls), its applications simulated
    (folder / "sandbox.yaml").write_text(yaml.safe_dump(mapping))
    result, output, root = run_demo("--examples", str(folder), "--only", ETL_DAG, cwd=tmp_path)
    try:
        assert result.returncode == 1, output[-5000:]
        states = task_states(root, ETL_DAG)
        assert (states["ingest"], states["check-count"], states["has-rows"], states["fail"]) == (
            "success", "failed", "upstream_failed", "failed"), states
        assert "Simulated Spark pods (not run locally): 1" in output
        log = (root / "logs" / f"{ETL_DAG}.log").read_text()
        assert "[base] cat: `hdfs://namenode:8020/user/etl/apps/spark-etl/staging/*/part-*': No such file or " \
               "directory" in log
        assert "spark-etl failed at [check-count]" in log
        assert not _processes_under(str(root)), "the demo left processes running"
    finally:
        shutil.rmtree(root, ignore_errors=True)
