"""ArgoCalendarTimetable inside real Airflow 3: the plugin registry, DAG parsing and serialization, and what the
`airflow` CLI shows for DAGs that use it (next runs, descriptions, import errors)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from airflow.timetables.base import TimeRestriction

from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable

TIMETABLE = "airflow_provider_sparkk8s.timetables.ArgoCalendarTimetable"
BUNDLE = "argo-calendar-tests"
UTC = timezone.utc

EVENT_SOURCE = """\
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: calendar}
spec:
  calendar:
    nightly:
      schedule: "0 23 * * *"
      timezone: Europe/Amsterdam
      exclusionDates: ["EXDATE:20260102T000000Z"]
    hourly:
      interval: 1h
"""
NIGHTLY_DAG = """\
from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable

with DAG("argo_calendar_nightly", start_date=datetime(2026, 1, 1), catchup=True,
         schedule=ArgoCalendarTimetable(event_source_file="calendar.yaml", event_name="nightly")):
    EmptyOperator(task_id="report")
"""
BAD_DAG = """\
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable

with DAG("argo_calendar_bad", start_date=datetime(2026, 1, 1),
         schedule=ArgoCalendarTimetable(event_source_file="bad-calendar.yaml")):
    pass
"""
BAD_EVENT_SOURCE = "kind: EventSource\nmetadata: {name: bad}\nspec:\n  calendar:\n    six: {schedule: '0 0 9 * * *'}\n"


def write_dags(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calendar.yaml").write_text(EVENT_SOURCE)
    (folder / "nightly_dag.py").write_text(NIGHTLY_DAG)
    (folder / "bad-calendar.yaml").write_text(BAD_EVENT_SOURCE)
    (folder / "bad_dag.py").write_text(BAD_DAG)
    return folder


def airflow_cli(*args: str, env: dict[str, str] | None = None, exit_code: int = 0) -> subprocess.CompletedProcess[str]:
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), *args], capture_output=True, text=True, timeout=120,
                            env={**os.environ, **(env or {})})
    assert result.returncode == exit_code, (
        f"airflow {' '.join(args)} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result


def json_output(result: subprocess.CompletedProcess[str]) -> list[dict]:
    """The JSON document printed by `-o json` (Airflow may log other lines around it)."""
    line = next(line for line in result.stdout.splitlines() if line.startswith("["))
    return json.loads(line)


@pytest.fixture
def plugin_registry() -> Iterator[None]:
    """Airflow's plugin registry, loaded afresh."""
    from airflow import plugins_manager

    caches = (plugins_manager._get_plugins, plugins_manager.get_timetables_plugins)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


def next_run_afters(timetable: ArgoCalendarTimetable, count: int) -> list[datetime]:
    restriction = TimeRestriction(earliest=datetime(2026, 1, 1, tzinfo=UTC), latest=None, catchup=True)
    planned, last = [], None
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        assert info is not None
        planned.append(info.run_after)
        last = info.data_interval
    return planned


# ------------------------------------------------------------------------------------- in process


def test_the_provider_registers_the_timetable_plugin(plugin_registry: None) -> None:
    from airflow.plugins_manager import get_timetables_plugins

    assert get_timetables_plugins()[TIMETABLE] is ArgoCalendarTimetable


def test_a_parsed_dag_serializes_and_comes_back_with_the_same_schedule(plugin_registry: None, tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    bag = DagBag(dag_folder=str(write_dags(tmp_path / "dags") / "nightly_dag.py"))
    assert bag.import_errors == {}
    dag = bag.dags["argo_calendar_nightly"]
    stored = json.loads(json.dumps(DagSerialization.to_dict(dag)))
    assert stored["dag"]["timetable"]["__type"] == TIMETABLE
    assert str(tmp_path) not in json.dumps(stored["dag"]["timetable"])  # no machine path in the DB
    restored = DagSerialization.from_dict(stored).timetable
    assert isinstance(restored, ArgoCalendarTimetable)
    assert restored == dag.timetable
    assert next_run_afters(restored, 5) == next_run_afters(dag.timetable, 5) == [
        datetime(2026, 1, 1, 22, tzinfo=UTC), datetime(2026, 1, 3, 22, tzinfo=UTC),
        datetime(2026, 1, 4, 22, tzinfo=UTC), datetime(2026, 1, 5, 22, tzinfo=UTC),
        datetime(2026, 1, 6, 22, tzinfo=UTC)]


def test_a_bad_calendar_is_an_import_error_naming_the_problem(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(write_dags(tmp_path / "dags") / "bad_dag.py"))
    assert bag.dag_ids == []
    [error] = bag.import_errors.values()
    assert "bad-calendar.yaml: spec.calendar.six: schedule: expected exactly 5 fields" in error


# ------------------------------------------------------------------------------------------- CLI


def test_with_default_settings_airflow_lists_the_timetable_plugin(tmp_path: Path) -> None:
    env = {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    plugins = json_output(airflow_cli("plugins", "-o", "json", env=env))
    assert [p["timetables"] for p in plugins if p["name"] == "sparkk8s"] == [[TIMETABLE]]


@pytest.fixture(scope="module")
def calendar_bundle(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A DAG bundle of its own holding a good and a bad calendar DAG, parsed into the metadata DB by
    `airflow dags reserialize` (as the DAG processor would). Returns the environment for later CLI calls."""
    folder = write_dags(tmp_path_factory.mktemp("calendar-bundle"))
    bundles = [{"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {}},
               {"name": BUNDLE, "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(folder)}}]
    env = {"AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles)}
    airflow_cli("dags", "reserialize", "--bundle-name", BUNDLE, env=env)
    return env


def test_airflow_dags_next_execution_lists_the_calendar_fires(calendar_bundle: dict[str, str]) -> None:
    result = airflow_cli("dags", "next-execution", "argo_calendar_nightly", "-n", "4", env=calendar_bundle)
    printed = [line for line in result.stdout.splitlines() if re.fullmatch(r"\d{4}-\d\d-\d\dT\S+", line)]
    # 2026-01-02 is an exclusion date of the EventSource.
    assert printed == ["2026-01-01T22:00:00+00:00", "2026-01-03T22:00:00+00:00",
                                     "2026-01-04T22:00:00+00:00", "2026-01-05T22:00:00+00:00"]


def test_airflow_dags_details_show_the_calendar(calendar_bundle: dict[str, str]) -> None:
    [details] = json_output(airflow_cli("dags", "details", "argo_calendar_nightly", "-o", "json",
                                        env=calendar_bundle))
    assert details["timetable_summary"] == "0 23 * * * Europe/Amsterdam"
    assert details["timetable_description"] == (
        "at 23:00 every day (Europe/Amsterdam), except 2026-01-02; event 'nightly' in calendar.yaml")
    assert details["next_dagrun_run_after"] == "2026-01-01 22:00:00+00:00"
    assert details["has_import_errors"] == "False"


def test_airflow_lists_the_bad_calendar_as_an_import_error(calendar_bundle: dict[str, str]) -> None:
    errors = json_output(airflow_cli("dags", "list-import-errors", "-o", "json", "--bundle-name", BUNDLE,
                                     env=calendar_bundle, exit_code=1))  # 1: there are import errors
    assert [error["filepath"] for error in errors] == ["bad_dag.py"]
    assert ("InvalidArgoCalendar: bad-calendar.yaml: spec.calendar.six: schedule: expected exactly 5 fields "
            "(minute hour day-of-month month day-of-week), found 6") in errors[0]["error"]

