"""The package as Airflow sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

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
