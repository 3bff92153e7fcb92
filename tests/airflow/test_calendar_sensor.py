"""ArgoCalendarSensor in real Airflow (`dag.test()`): inline calendars and EventSources read from the
emulated cluster, deferred and poking; the event lands in XCom as Argo Events sends it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_sparkk8s.calendar import parse_event_time
from airflow_provider_sparkk8s.testing import KubeEmulator

NS = "argo-events"
IMPORTS = "from airflow_provider_sparkk8s.sensors.calendar import ArgoCalendarSensor\n"
# Rendered when the task runs, so the next event is always a few seconds ahead of the sensor.
NOW = "{{ macros.datetime.now().astimezone() }}"
MODES = [pytest.param(False, id="poke"), pytest.param(True, id="deferred")]

CALENDAR_SOURCE = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "EventSource",
    "metadata": {"name": "calendar-source", "namespace": NS},
    "spec": {"calendar": {
        "schedule-a": {"schedule": "0 23 * * *", "timezone": "Europe/Amsterdam",
                       "exclusionDates": ["EXDATE:20251224T000000Z,20251231T000000Z"],
                       "metadata": {"team": "data"}},
        "every-2s": {"interval": "2s"},
    }},
}


@pytest.fixture
def cluster(kube_emulator_factory) -> KubeEmulator:
    kube = kube_emulator_factory(namespaces=[NS])
    kube.apply(CALENDAR_SOURCE)
    return kube


def sensor(**kwargs: Any) -> str:
    args = {"task_id": "wait", "poke_interval": 1, "timeout": 60, **kwargs}
    return "ArgoCalendarSensor(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


@pytest.mark.parametrize("deferrable", MODES)
def test_waits_for_the_next_event_and_pushes_it(run_dag, deferrable: bool) -> None:
    spec = {"interval": "3s", "metadata": {"source": "airflow"}}
    result = run_dag(sensor(calendar=spec, after=NOW, deferrable=deferrable), IMPORTS)
    assert result.states == {"wait": "success"}
    task = result.dag_run.get_task_instance("wait")
    fire = datetime.fromisoformat(result.xcom("wait", "fire_time"))
    assert fire.microsecond == 0 and task.start_date < fire < task.start_date + timedelta(seconds=60)
    event = result.xcom("wait")
    assert event["metadata"] == {"source": "airflow"}
    # A live dispatch: the wall clock in UTC when the timer fired, with Go's monotonic suffix.
    assert " +0000 UTC m=+" in event["eventTime"]
    assert fire <= parse_event_time(event["eventTime"]) < fire + timedelta(seconds=3)
    assert task.end_date >= fire


@pytest.mark.parametrize("deferrable", MODES)
def test_event_source_from_the_cluster_with_exclusions(cluster: KubeEmulator, run_dag, deferrable: bool) -> None:
    # 2025-12-24 is excluded: after the 23rd's fire, the next event is on the 25th, 23:00 in Amsterdam.
    result = run_dag(sensor(event_source="calendar-source", event_name="schedule-a", namespace=NS,
                            after="2025-12-23T22:00:00+00:00", deferrable=deferrable), IMPORTS)
    assert result.states == {"wait": "success"}
    assert result.xcom("wait") == {"eventTime": "2025-12-25 23:00:00 +0100 CET", "metadata": {"team": "data"}}
    assert result.xcom("wait", "fire_time") == "2025-12-25T22:00:00+00:00"
    assert "EventSource argo-events/calendar-source event schedule-a" in result.output
    assert cluster.requests.count(verb="get", resource="eventsources") >= 1


def test_event_source_interval_waits_in_the_triggerer(cluster: KubeEmulator, run_dag) -> None:
    result = run_dag(sensor(event_source="calendar-source", event_name="every-2s", namespace=NS,
                            after=NOW, deferrable=True), IMPORTS)
    assert result.states == {"wait": "success"}
    fire = datetime.fromisoformat(result.xcom("wait", "fire_time"))
    assert fire <= parse_event_time(result.xcom("wait")["eventTime"]) < fire + timedelta(seconds=3)
    assert "metadata" not in result.xcom("wait")
    assert " m=+" in result.xcom("wait")["eventTime"]


def test_default_after_is_the_runs_data_interval_start(run_dag) -> None:
    started = datetime.now(timezone.utc)
    result = run_dag(sensor(calendar={"interval": "2s"}), IMPORTS)
    assert result.states == {"wait": "success"}
    fire = datetime.fromisoformat(result.xcom("wait", "fire_time"))
    start = result.dag_run.data_interval_start or result.dag_run.run_after
    assert fire == start.replace(microsecond=0) + timedelta(seconds=2)
    assert started - timedelta(seconds=5) < fire < datetime.now(timezone.utc)


def test_missing_event_source_fails_with_its_name(cluster: KubeEmulator, run_dag) -> None:
    result = run_dag(sensor(event_source="nope", event_name="x", namespace=NS, retries=0), IMPORTS)
    assert result.states == {"wait": "failed"}
    assert "EventSource argo-events/nope not found" in result.output


def test_ambiguous_event_source_lists_its_events(cluster: KubeEmulator, run_dag) -> None:
    result = run_dag(sensor(event_source="calendar-source", namespace=NS), IMPORTS)
    assert result.states == {"wait": "failed"}
    assert "set event_name; its calendar events are: every-2s, schedule-a" in result.output


def test_invalid_calendar_in_the_cluster_fails_without_retry(cluster: KubeEmulator, run_dag) -> None:
    cluster.apply({"apiVersion": "argoproj.io/v1alpha1", "kind": "EventSource",
                   "metadata": {"name": "broken", "namespace": NS},
                   "spec": {"calendar": {"sunday": {"schedule": "0 0 * * 7"}}}})
    result = run_dag(sensor(event_source="broken", namespace=NS, retries=3), IMPORTS)
    assert result.states == {"wait": "failed"}
    assert "EventSource argo-events/broken: spec.calendar.sunday: schedule" in result.output
    assert "above maximum (6)" in result.output


def test_invalid_inline_calendar_is_a_dag_import_error() -> None:
    from airflow_provider_sparkk8s.sensors.calendar import ArgoCalendarSensor

    with pytest.raises(ValueError, match=r"Task wait: calendar: .*descriptors"):
        ArgoCalendarSensor(task_id="wait", calendar={"schedule": "@daily"})
    with pytest.raises(ValueError, match="exactly one of calendar, event_source"):
        ArgoCalendarSensor(task_id="wait")


def test_a_calendar_that_never_fires_again_fails(run_dag) -> None:
    result = run_dag(sensor(calendar={"schedule": "0 0 30 2 *"}, retries=2), IMPORTS)
    assert result.states == {"wait": "failed"}
    assert "never fires after" in result.output


@pytest.mark.parametrize("soft_fail, state", [(False, "failed"), (True, "skipped")])
def test_times_out_before_a_distant_event(run_dag, soft_fail: bool, state: str) -> None:
    result = run_dag(sensor(calendar={"interval": "1h"}, timeout=2, soft_fail=soft_fail, retries=0), IMPORTS)
    assert result.states == {"wait": state}
    assert "timed out" in result.output.lower() or "timeout" in result.output.lower()
