"""Shared test settings. The emulator fixtures come from the project's pytest plugin (entry point).

Airflow reads AIRFLOW_HOME when it is first imported, so the test session's home (config, SQLite
metadata DB, dags folder) is set here, at import time, before any test module imports Airflow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest_plugins = ["tests.stack_fixtures"]  # the Airflow stack the e2e tests and reliability campaigns share

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="sparkk8s-airflow-home-"))
(AIRFLOW_HOME / "dags").mkdir()
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(AIRFLOW_HOME / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
# kubectl keeps discovery for hours in its cache, keyed by host:port only; emulators reuse ports, so each test
# process gets its own cache rather than documents left by another run's emulator.
os.environ["KUBECACHEDIR"] = tempfile.mkdtemp(prefix="sparkk8s-kubectl-cache-")

# The suite's JVMs (spark-submit against the emulator, the sandbox's local Spark) are short-lived: most of their
# time is startup. The client compiler alone and the serial collector start them about twice as fast on 2 cores,
# and change nothing they do. Set for every process the tests start (Airflow's tasks included), unless given.
JVM_STARTUP_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
os.environ.setdefault("SPARK_SUBMIT_OPTS", JVM_STARTUP_OPTIONS)  # spark-submit's JVM (and a local driver's)
os.environ.setdefault("SPARK_LAUNCHER_OPTS", JVM_STARTUP_OPTIONS)  # the JVM that builds its command line


def require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing on a developer's machine; fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing prerequisite under CI=true: {reason}")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed")
    return path or name


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated metadata DB for the test session; returns AIRFLOW_HOME (its dags folder is `dags/`)."""
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return AIRFLOW_HOME


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
