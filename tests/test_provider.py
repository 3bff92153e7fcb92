"""The package as Airflow sees it."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

import airflow_provider_sparkk8s
from airflow_provider_sparkk8s import get_provider_info


def test_provider_info_names_the_distribution() -> None:
    info = get_provider_info()
    assert info["package-name"] == distribution("airflow-provider-sparkk8s").metadata["Name"]
    assert info["name"] and info["description"]


def test_airflow_providers_list_shows_the_provider(tmp_path: Path) -> None:
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path))
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)  # it logs to stdout, which must hold only the JSON
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "providers", "list", "-o", "json"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    providers = {p["package_name"]: p for p in json.loads(result.stdout)}
    assert providers["airflow-provider-sparkk8s"]["version"] == "0.1.0"


def test_importing_the_package_pulls_in_no_heavy_libraries() -> None:
    code = ("import sys, airflow_provider_sparkk8s, airflow_provider_sparkk8s.testing;"
            "print(','.join(m for m in ('kubernetes', 'yaml', 'aiohttp', 'airflow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_lowest_environment_pins_the_declared_lower_bounds() -> None:
    """`make test-lowest` tests the range's lower end only while requirements/lowest.txt (`make lock-lowest`)
    pins every Airflow package pyproject.toml depends on at its lower bound."""
    root = Path(__file__).resolve().parents[1]
    dependencies = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    lower_bounds = {req.name: spec.version for req in map(Requirement, dependencies)
                    if req.name.startswith("apache-airflow") for spec in req.specifier if spec.operator == ">="}
    pinned = dict(line.split(" ", 1)[0].split("==") for line in (root / "requirements" / "lowest.txt").read_text()
                  .splitlines() if line.startswith("apache-airflow"))
    assert lower_bounds == {name: pinned.get(name) for name in lower_bounds}


@pytest.mark.lowest  # also against the lowest supported Airflow (make test-lowest)
def test_every_module_of_the_package_imports() -> None:
    """A name taken from Airflow that an older supported Airflow lacks fails here (the import of a module)."""
    failures = {}
    for module in pkgutil.walk_packages(airflow_provider_sparkk8s.__path__, "airflow_provider_sparkk8s."):
        try:
            importlib.import_module(module.name)
        except Exception as exc:  # noqa: BLE001 - every failing module is reported
            failures[module.name] = repr(exc)
    assert failures == {}
