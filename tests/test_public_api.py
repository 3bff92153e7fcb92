"""The public API: each public module declares what users import from it in `__all__`, the names the design
promises are exported from the modules it names, and the package ships its type hints (PEP 561).

The other modules (identity, kube_api, spark_app, task_state, safe_yaml, yaml_text, and the submodules of
migrate/oozie, testing and sandbox) are implementation details of these.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import tomllib

import airflow_provider_sparkk8s

PACKAGE = "airflow_provider_sparkk8s"

PUBLIC_MODULES = [
    PACKAGE,
    f"{PACKAGE}.hooks.spark",
    f"{PACKAGE}.hooks.argo",
    f"{PACKAGE}.operators.spark",
    f"{PACKAGE}.operators.argo",
    f"{PACKAGE}.sensors.spark",
    f"{PACKAGE}.sensors.argo",
    f"{PACKAGE}.sensors.calendar",
    f"{PACKAGE}.triggers.spark",
    f"{PACKAGE}.triggers.argo",
    f"{PACKAGE}.triggers.calendar",
    f"{PACKAGE}.watch",
    f"{PACKAGE}.calendar",
    f"{PACKAGE}.timetables",
    f"{PACKAGE}.links",
    f"{PACKAGE}.migrate",
    f"{PACKAGE}.migrate.airflow",
    f"{PACKAGE}.migrate.runtime",  # generated DAGs import its MACROS
    f"{PACKAGE}.testing",
    f"{PACKAGE}.testing.pytest_plugin",
    f"{PACKAGE}.sandbox",
    f"{PACKAGE}.cli",
]

# The design's table of public names: name, module.
PUBLIC_NAMES = [
    ("SparkK8sHook", "hooks.spark"),
    ("SparkK8sOperator", "operators.spark"),
    ("SparkK8sSensor", "sensors.spark"),
    ("SparkK8sTrigger", "triggers.spark"),
    ("ArgoWorkflowsHook", "hooks.argo"),
    ("ArgoWorkflowOperator", "operators.argo"),
    ("ArgoWorkflowSensor", "sensors.argo"),
    ("ArgoWorkflowTrigger", "triggers.argo"),
    ("ArgoCalendar", "calendar"),
    ("ArgoCalendarSensor", "sensors.calendar"),
    ("ArgoCalendarTimetable", "timetables"),
    ("KubeEmulator", "testing"),
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_declares_all_and_every_name_in_it_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list) and exported, f"{module_name} has no __all__"
    assert len(set(exported)) == len(exported), f"{module_name}.__all__ repeats a name"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names what the module does not define: {missing}"


@pytest.mark.parametrize(("name", "module"), PUBLIC_NAMES)
def test_design_public_name_is_exported_from_its_module(name: str, module: str) -> None:
    imported = importlib.import_module(f"{PACKAGE}.{module}")
    assert name in getattr(imported, "__all__", ()), f"{name} is not in {PACKAGE}.{module}.__all__"
    assert getattr(imported, name).__name__ == name


def test_package_ships_its_py_typed_marker() -> None:
    package_dir = Path(airflow_provider_sparkk8s.__file__).parent
    assert (package_dir / "py.typed").is_file()
    pyproject = tomllib.loads((package_dir.parent / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"][PACKAGE]
