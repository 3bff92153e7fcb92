"""The demo runner end to end, in one run (Airflow's start-up is most of its cost): real Airflow runs the
launcher-pod example, whose driver runs pi.py for real in the sandbox, and a DAG whose application fails."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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
    assert "Real Spark: 2 application(s) ran on this machine" in output
    # Each application's page in the sandbox's Spark History Server (the examples' mapping runs one).
    page = r"pi\.py exit 0 \(\d+\.\ds\)  http://127\.0\.0\.1:\d+/history/local-\d+/jobs/"
    assert re.search(page, output), output[-3000:]
    assert "Demo FAILED" in output
    root = Path(re.search(r"Logs, AIRFLOW_HOME and the sandbox's files: (\S+)", output).group(1))
    try:
        task_log = (root / "logs" / "spark_pi_launcher_pod.log").read_text()
        assert "[driver] Pi is roughly 3.1" in task_log  # the driver's output in the Airflow task log
        assert "[driver] [sandbox] executors are not started" in task_log
        assert "[driver] failing on purpose" in (root / "logs" / "failing.log").read_text()
        assert not _processes_under(str(root)), "the demo left processes running"
    finally:
        shutil.rmtree(root, ignore_errors=True)
