"""ArgoCalendarTrigger as the triggerer sees it: re-created from its serialized kwargs in another process,
it sleeps until the fire time and delivers the event Argo Events would dispatch live."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_provider_sparkk8s.calendar import parse_event_time
from airflow_provider_sparkk8s.triggers.calendar import ArgoCalendarTrigger
from tests.triggers.runner import recreate, run_in_triggerer


def test_serialize_round_trips() -> None:
    trigger = ArgoCalendarTrigger("2026-12-24T22:00:00+00:00", {"team": "data"}, "schedule-a")
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_sparkk8s.triggers.calendar.ArgoCalendarTrigger"
    assert recreate(trigger).serialize() == (classpath, kwargs)
    assert kwargs == {"fire_time": "2026-12-24T22:00:00+00:00", "metadata": {"team": "data"},
                      "event_name": "schedule-a", "deadline": None}


def test_fires_at_the_fire_time_with_a_live_event() -> None:
    fire = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=4)
    event = run_in_triggerer(ArgoCalendarTrigger(fire.isoformat(), {"team": "data"}, "schedule-a"))
    received = datetime.now(timezone.utc)
    assert event["fire_time"] == fire.isoformat()
    assert event["event"]["metadata"] == {"team": "data"}
    fired_at = parse_event_time(event["event"]["eventTime"])
    assert fire <= fired_at <= received
    assert " +0000 UTC m=+" in event["event"]["eventTime"]


def test_a_past_fire_time_fires_at_once_without_metadata() -> None:
    fire = datetime(2025, 12, 25, 22, tzinfo=timezone.utc)
    event = run_in_triggerer(ArgoCalendarTrigger(fire.isoformat()), timeout=30)
    assert event["fire_time"] == fire.isoformat()
    assert set(event["event"]) == {"eventTime"}
