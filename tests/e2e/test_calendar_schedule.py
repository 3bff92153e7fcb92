"""ArgoCalendarTimetable and ArgoCalendarSensor in a real Airflow 3 deployment: the scheduler (through the
provider's plugin) creates runs at the calendar's fire times, and the sensor waits in the triggerer."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_sparkk8s.calendar import parse_event_time
from tests.stack import AirflowStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

INTERVAL = 10  # seconds between the calendar's fires: the test waits for two of them


def calendar_dag(dag_id: str, start: datetime) -> str:
    return f"""
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.sensors.calendar import ArgoCalendarSensor
from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable

with DAG({dag_id!r}, start_date=datetime.fromisoformat({start.isoformat()!r}), catchup=True,
         is_paused_upon_creation=False, max_active_runs=1,
         schedule=ArgoCalendarTimetable(calendar={{"interval": "{INTERVAL}s"}})):
    ArgoCalendarSensor(task_id="event", calendar={{"interval": "3s", "metadata": {{"stage": "e2e"}}}},
                       after="{{{{ macros.datetime.now().astimezone() }}}}", deferrable=True, timeout=120)
"""


def test_scheduler_runs_at_calendar_fires_and_the_sensor_defers(airflow_stack: AirflowStack) -> None:
    dag_id = f"e2e_calendar_{uuid.uuid4().hex[:8]}"
    start = datetime.now(timezone.utc).replace(microsecond=0)
    airflow_stack.add_dag(dag_id, calendar_dag(dag_id, start))
    try:
        check_calendar_runs(airflow_stack, dag_id, start)
    finally:
        # Paused afterwards: a DAG firing every few seconds would keep the shared stack's database busy for the
        # tests that come after it.
        airflow_stack.api("PATCH", f"/dags/{dag_id}", json={"is_paused": True})


def check_calendar_runs(airflow_stack: AirflowStack, dag_id: str, start: datetime) -> None:
    def two_runs() -> list[dict] | None:
        runs = airflow_stack.api("GET", f"/dags/{dag_id}/dagRuns", params={"order_by": "run_after"})["dag_runs"]
        return runs if len(runs) >= 2 else None

    first, second = airflow_stack.wait(two_runs, 120, f"two scheduled runs of {dag_id}")[:2]
    # An interval calendar fires one interval after it starts (the DAG's start_date), then every interval.
    fires = [start + timedelta(seconds=INTERVAL), start + timedelta(seconds=2 * INTERVAL)]
    for run, fire in zip((first, second), fires, strict=True):
        assert run["run_type"] == "scheduled"
        assert datetime.fromisoformat(run["run_after"]) == fire
        assert datetime.fromisoformat(run["data_interval_start"]) == fire
        assert datetime.fromisoformat(run["data_interval_end"]) == fire

    ti = airflow_stack.wait_for_ti(dag_id, first["dag_run_id"], "event", ["success"], 90)
    assert "Waiting for calendar event" in airflow_stack.trigger_log(dag_id, first["dag_run_id"], "event")
    event = airflow_stack.api("GET", f"/dags/{dag_id}/dagRuns/{first['dag_run_id']}/taskInstances/event/xcomEntries/"
                                     "return_value")["value"]
    assert event["metadata"] == {"stage": "e2e"}
    assert parse_event_time(event["eventTime"]) <= datetime.fromisoformat(ti["end_date"])
    details = airflow_stack.api("GET", f"/dags/{dag_id}/details")
    assert details["timetable_summary"] == f"every {INTERVAL}s"
    assert details["timetable_description"] == f"every {INTERVAL}s"
