"""Shared test settings. The emulator fixtures come from the project's pytest plugin (entry point)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"


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


@pytest.fixture(autouse=True, scope="session")
def _airflow_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep Airflow's home, config and SQLite DB inside the test session."""
    home = tmp_path_factory.mktemp("airflow-home")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
