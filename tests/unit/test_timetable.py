"""ArgoCalendarTimetable as the scheduler sees it: which runs it plans, with which data intervals, and what
it shows and renders. "Now" is pinned by replacing the module's ``utcnow`` (time, not I/O)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from airflow.exceptions import AirflowTimetableInvalid
from airflow.timetables.base import DataInterval, TimeRestriction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_sparkk8s import timetables
from airflow_provider_sparkk8s.calendar import ArgoCalendar
from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable, InvalidArgoCalendar
from tests.conftest import SHARED, require

pytestmark = pytest.mark.lowest  # also against the lowest supported Airflow (make test-lowest)

UTC = timezone.utc
NIGHTLY = {"schedule": "0 23 * * *", "timezone": "Europe/Amsterdam"}
EVENT_SOURCE = """\
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: calendar
spec:
  calendar:
    nightly:
      schedule: "0 23 * * *"
      timezone: Europe/Amsterdam
      exclusionDates: ["EXDATE:20261224T000000Z"]
      metadata: {team: data}
    every-90m:
      interval: 90m
"""
ARGO_SCHEMA = SHARED / "schemas" / "argo" / "schema.json"
EVENTS = "github.com.argoproj.argo_events.pkg.apis.events.v1alpha1"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def runs(timetable: ArgoCalendarTimetable, *, start: datetime | None = None, end: datetime | None = None,
         catchup: bool = True, count: int = 5, last: DataInterval | None = None) -> list[datetime]:
    """The run_after of the next ``count`` runs the scheduler would create, each after the previous one."""
    restriction = TimeRestriction(earliest=start, latest=end, catchup=catchup)
    planned: list[datetime] = []
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        planned.append(info.run_after)
        last = info.data_interval
    return planned


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    def pin(moment: datetime) -> None:
        monkeypatch.setattr(timetables, "utcnow", lambda: moment)

    return pin


@pytest.fixture
def event_source(tmp_path: Path) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(EVENT_SOURCE)
    return path


# ------------------------------------------------------------------------------------ with catchup


def test_catchup_runs_every_fire_from_the_start_date_in_the_calendar_zone() -> None:
    # Amsterdam moves to CEST on 2026-03-29: 23:00 local is 22:00 UTC before, 21:00 UTC after.
    assert runs(ArgoCalendarTimetable(NIGHTLY), start=utc(2026, 3, 27), count=4) == [
        utc(2026, 3, 27, 22), utc(2026, 3, 28, 22), utc(2026, 3, 29, 21), utc(2026, 3, 30, 21)]


def test_a_fire_exactly_at_the_start_date_is_the_first_run() -> None:
    assert runs(ArgoCalendarTimetable(NIGHTLY), start=utc(2026, 3, 27, 22), count=1) == [utc(2026, 3, 27, 22)]
    assert runs(ArgoCalendarTimetable(NIGHTLY), start=utc(2026, 3, 27, 22, 0, 1), count=1) == [
        utc(2026, 3, 28, 22)]


def test_each_run_is_scheduled_at_its_fire_with_a_data_interval_ending_there() -> None:
    timetable = ArgoCalendarTimetable(NIGHTLY, interval=timedelta(days=1))
    info = timetable.next_dagrun_info(last_automated_data_interval=None,
                                      restriction=TimeRestriction(utc(2026, 3, 27), None, True))
    assert info is not None
    assert info.run_after == utc(2026, 3, 27, 22)
    assert info.data_interval == (utc(2026, 3, 26, 22), utc(2026, 3, 27, 22))
    assert info.logical_date == utc(2026, 3, 26, 22)


def test_exact_data_interval_by_default() -> None:
    info = ArgoCalendarTimetable(NIGHTLY).next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(utc(2026, 3, 27), None, True))
    assert info is not None and info.data_interval == (utc(2026, 3, 27, 22), utc(2026, 3, 27, 22))


def test_exclusion_dates_skip_runs() -> None:
    timetable = ArgoCalendarTimetable({**NIGHTLY, "exclusionDates": ["EXDATE:20261224T000000Z,20261231T000000Z"]})
    planned = runs(timetable, start=utc(2026, 12, 22), count=9)
    assert [run.astimezone(timetable.calendar.zone).date().isoformat() for run in planned] == [
        "2026-12-22", "2026-12-23", "2026-12-25", "2026-12-26", "2026-12-27", "2026-12-28", "2026-12-29",
        "2026-12-30", "2027-01-01"]


def test_a_wall_time_inside_the_spring_forward_gap_does_not_run_that_day() -> None:
    timetable = ArgoCalendarTimetable({"schedule": "30 2 * * *", "timezone": "Europe/Amsterdam"})
    # 2026-03-29 02:00 CET jumps to 03:00 CEST: there is no 02:30 (croniter would run at 03:00).
    assert runs(timetable, start=utc(2026, 3, 27), count=3) == [
        utc(2026, 3, 27, 1, 30), utc(2026, 3, 28, 1, 30), utc(2026, 3, 30, 0, 30)]


def test_a_wall_time_repeated_by_the_fall_back_runs_twice() -> None:
    timetable = ArgoCalendarTimetable({"schedule": "30 1 * * *", "timezone": "America/New_York"})
    # 2026-11-01 02:00 EDT falls back to 01:00 EST: 01:30 happens at 05:30 UTC and again at 06:30 UTC.
    assert runs(timetable, start=utc(2026, 10, 31), count=4) == [
        utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30), utc(2026, 11, 2, 6, 30)]


def test_an_interval_calendar_is_anchored_at_the_start_date() -> None:
    timetable = ArgoCalendarTimetable({"interval": "90m"})
    assert runs(timetable, start=utc(2026, 1, 1, 0, 0, 20), count=3) == [
        utc(2026, 1, 1, 1, 30, 20), utc(2026, 1, 1, 3, 0, 20), utc(2026, 1, 1, 4, 30, 20)]


def test_an_interval_calendar_skips_excluded_days_but_keeps_its_phase() -> None:
    timetable = ArgoCalendarTimetable({"interval": "7h", "exclusionDates": ["EXDATE:20260102T000000Z"]})
    # 2026-01-02 05:00, 12:00 and 19:00 are excluded; the next fire stays on the 7-hour grid.
    assert runs(timetable, start=utc(2026, 1, 1, 1), count=4) == [
        utc(2026, 1, 1, 8), utc(2026, 1, 1, 15), utc(2026, 1, 1, 22), utc(2026, 1, 3, 2)]


def test_without_a_start_date_an_interval_calendar_starts_now(now: Callable[[datetime], None]) -> None:
    now(datetime(2026, 5, 1, 12, 0, 0, 500_000, tzinfo=UTC))
    timetable = ArgoCalendarTimetable({"interval": "1h30m"})
    assert runs(timetable, count=2) == [utc(2026, 5, 1, 13, 30), utc(2026, 5, 1, 15)]
    assert runs(timetable, count=2, catchup=False) == [utc(2026, 5, 1, 13, 30), utc(2026, 5, 1, 15)]


@pytest.mark.parametrize("catchup", [True, False])
def test_without_a_start_date_a_cron_calendar_waits_for_its_next_fire(
        now: Callable[[datetime], None], catchup: bool) -> None:
    now(utc(2026, 5, 1, 12))
    assert runs(ArgoCalendarTimetable(NIGHTLY), count=2, catchup=catchup) == [utc(2026, 5, 1, 21),
                                                                               utc(2026, 5, 2, 21)]


def test_the_end_date_is_the_last_possible_run() -> None:
    planned = runs(ArgoCalendarTimetable(NIGHTLY), start=utc(2026, 3, 27), end=utc(2026, 3, 29, 21), count=10)
    assert planned == [utc(2026, 3, 27, 22), utc(2026, 3, 28, 22), utc(2026, 3, 29, 21)]


def test_a_calendar_without_a_further_fire_plans_no_run() -> None:
    # robfig gives up after five years: after 2096-02-29 the next 29 February is in 2104.
    leap_day = ArgoCalendarTimetable({"schedule": "0 0 29 2 *"})
    last = DataInterval(utc(2096, 2, 29), utc(2096, 2, 29))
    assert runs(leap_day, last=last, start=utc(2026, 1, 1)) == []


def test_a_schedule_that_never_fires_is_rejected() -> None:
    with pytest.raises(InvalidArgoCalendar, match=r"'0 0 30 2 \*' never fires"):
        ArgoCalendarTimetable({"schedule": "0 0 30 2 *"})


# --------------------------------------------------------------------------------- without catchup


def test_without_catchup_the_newest_due_fire_runs_first(now: Callable[[datetime], None]) -> None:
    now(utc(2026, 6, 10, 12))
    assert runs(ArgoCalendarTimetable(NIGHTLY), start=utc(2026, 1, 1), catchup=False, count=2) == [
        utc(2026, 6, 9, 21), utc(2026, 6, 10, 21)]


def test_without_catchup_fires_missed_since_the_last_run_are_skipped(now: Callable[[datetime], None]) -> None:
    now(utc(2026, 6, 10, 12))
    last = DataInterval(utc(2026, 2, 1, 22), utc(2026, 2, 1, 22))
    assert runs(ArgoCalendarTimetable(NIGHTLY), start=utc(2026, 1, 1), catchup=False, last=last, count=1) == [
        utc(2026, 6, 9, 21)]


def test_without_catchup_a_fire_exactly_now_is_due(now: Callable[[datetime], None]) -> None:
    now(utc(2026, 6, 10, 21))
    assert runs(ArgoCalendarTimetable(NIGHTLY), start=utc(2026, 1, 1), catchup=False, count=1) == [
        utc(2026, 6, 10, 21)]


def test_without_catchup_a_future_start_date_waits_for_its_first_fire(now: Callable[[datetime], None]) -> None:
    now(utc(2026, 6, 10, 12))
    assert runs(ArgoCalendarTimetable(NIGHTLY), start=utc(2026, 7, 1), catchup=False, count=1) == [
        utc(2026, 7, 1, 21)]


def test_without_catchup_an_interval_calendar_stays_on_its_chain(now: Callable[[datetime], None]) -> None:
    now(utc(2026, 1, 2))
    timetable = ArgoCalendarTimetable({"interval": "90m"})
    # Fires are 00:00:20 + k * 90 minutes from the start date; the newest one due is k = 15.
    assert runs(timetable, start=utc(2026, 1, 1, 0, 0, 20), catchup=False, count=2) == [
        utc(2026, 1, 1, 22, 30, 20), utc(2026, 1, 2, 0, 0, 20)]


def test_without_catchup_an_interval_calendar_continues_from_the_last_run(now: Callable[[datetime], None]) -> None:
    now(utc(2026, 1, 2))
    last = DataInterval(utc(2026, 1, 1, 10), utc(2026, 1, 1, 10))  # e.g. before the start date was changed
    assert runs(ArgoCalendarTimetable({"interval": "90m"}), start=utc(2026, 1, 1, 0, 0, 20), catchup=False,
                last=last, count=1) == [utc(2026, 1, 1, 23, 30)]


def test_without_catchup_a_fractional_interval_steps_in_whole_seconds_after_the_first_fire(
        now: Callable[[datetime], None]) -> None:
    # Argo floors the previous fire to the second before adding 2.5 s: 00:00:02.5, 00:00:04.5, 00:00:06.5, ...
    start, moment = utc(2026, 1, 1), utc(2026, 1, 1, 1, 0, 1)
    now(moment)
    calendar = ArgoCalendar.from_spec({"interval": "2.5s"})
    *_, newest = calendar.iter_fires(start, until=moment)
    assert newest == datetime(2026, 1, 1, 1, 0, 0, 500_000, tzinfo=UTC)
    assert runs(ArgoCalendarTimetable({"interval": "2.5s"}), start=start, catchup=False, count=1) == [newest]


def test_without_catchup_an_excluded_today_runs_the_last_fire_before_it(now: Callable[[datetime], None]) -> None:
    now(utc(2026, 1, 5, 10, 30))
    timetable = ArgoCalendarTimetable({"interval": "1h", "exclusionDates": ["EXDATE:20260105T000000Z"]})
    assert runs(timetable, start=utc(2026, 1, 1), catchup=False, count=2) == [
        utc(2026, 1, 4, 23), utc(2026, 1, 6, 0)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=st.sampled_from([
        {"schedule": "0 */5 * * *"},
        {"schedule": "15 9 * * 1-5", "timezone": "America/New_York"},
        {"schedule": "0 0 13 * FRI"},
        {"schedule": "30 2 * * *", "timezone": "Europe/Amsterdam"},
        {"schedule": "30 1 * * *", "timezone": "America/New_York", "exclusionDates": ["EXDATE:20261101T000000Z"]},
        {"schedule": "*/20 3-4 * * *", "timezone": "Asia/Kolkata"},
        {"schedule": "0 0 1 1 *"},
        {"interval": "45m", "exclusionDates": ["EXDATE:20260310T000000Z,20261101T000000Z"]},
        {"interval": "7h", "timezone": "Europe/Amsterdam", "exclusionDates": ["EXDATE:20260329T000000Z"]},
        {"interval": "1h30m"},
        {"interval": "2.75h", "exclusionDates": ["EXDATE:20261031T000000Z"]},
    ]),
    start=st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 1), timezones=st.just(UTC)),
    elapsed=st.timedeltas(timedelta(0), timedelta(days=60)),
)
def test_without_catchup_the_first_run_is_the_newest_fire_found_by_walking_forward(
        monkeypatch: pytest.MonkeyPatch, spec: dict, start: datetime, elapsed: timedelta) -> None:
    moment = start + elapsed
    monkeypatch.setattr(timetables, "utcnow", lambda: moment)
    calendar = ArgoCalendar.from_spec(spec)
    walk_from = start if calendar.interval is not None else start - timedelta(microseconds=1)
    due = list(calendar.iter_fires(walk_from, until=moment))
    expected = due[-1] if due else calendar.next_fire_after(walk_from)
    assert runs(ArgoCalendarTimetable(spec), start=start, catchup=False, count=1) == [expected]


# ----------------------------------------------------------------------------------- manual runs


def test_a_manual_run_covers_the_interval_before_it() -> None:
    timetable = ArgoCalendarTimetable(NIGHTLY, interval=timedelta(hours=6))
    assert timetable.infer_manual_data_interval(run_after=utc(2026, 5, 1, 12, 34)) == (
        utc(2026, 5, 1, 6, 34), utc(2026, 5, 1, 12, 34))


# --------------------------------------------------------------------------------- serialization


def test_a_deserialized_timetable_plans_the_same_runs(event_source: Path, now: Callable[[datetime], None]) -> None:
    now(utc(2026, 12, 20))
    for original in (ArgoCalendarTimetable(event_source_file=event_source, event_name="nightly"),
                     ArgoCalendarTimetable({"interval": "90m"}, interval=timedelta(minutes=90), description="x"),
                     ArgoCalendarTimetable(NIGHTLY, event_name="nightly")):
        restored = ArgoCalendarTimetable.deserialize(json.loads(json.dumps(original.serialize())))
        assert restored == original
        assert (restored.summary, restored.description) == (original.summary, original.description)
        for catchup in (True, False):
            assert runs(restored, start=utc(2026, 12, 1), catchup=catchup, count=30) == runs(
                original, start=utc(2026, 12, 1), catchup=catchup, count=30)
        assert restored.infer_manual_data_interval(run_after=utc(2026, 5, 1)) == (
            original.infer_manual_data_interval(run_after=utc(2026, 5, 1)))


def test_deserializing_does_not_read_the_event_source_file(event_source: Path) -> None:
    original = ArgoCalendarTimetable(event_source_file=event_source, event_name="nightly")
    serialized = json.dumps(original.serialize())
    event_source.unlink()
    restored = ArgoCalendarTimetable.deserialize(json.loads(serialized))
    assert runs(restored, start=utc(2026, 12, 23), count=2) == [utc(2026, 12, 23, 22), utc(2026, 12, 25, 22)]
    assert str(event_source.parent) not in serialized  # the file name only, no machine path
    assert "calendar.yaml" in restored.description


def test_validate_rejects_a_serialized_calendar_that_became_invalid() -> None:
    data = ArgoCalendarTimetable(NIGHTLY).serialize()
    data["calendar"]["schedule"] = "0 23 * * 7"
    restored = ArgoCalendarTimetable.deserialize(data)
    with pytest.raises(AirflowTimetableInvalid, match=r"end of range \(7\) above maximum \(6\)"):
        restored.validate()


# --------------------------------------------------------------------------------- EventSource files


def test_a_relative_event_source_file_is_found_next_to_the_dag_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "calendar.yaml").write_text(EVENT_SOURCE)
    (dags / "nightly_dag.py").write_text(textwrap.dedent("""
        from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable

        timetable = ArgoCalendarTimetable(event_source_file="calendar.yaml", event_name="nightly")
    """))
    monkeypatch.chdir(tmp_path)  # the DAG processor's working directory is not the DAG folder
    spec = importlib.util.spec_from_file_location("nightly_dag", dags / "nightly_dag.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.timetable.summary == "0 23 * * * Europe/Amsterdam"
    assert module.timetable.calendar.metadata == {"team": "data"}


def test_event_name_chooses_one_of_several_calendar_events(event_source: Path) -> None:
    assert ArgoCalendarTimetable(event_source_file=event_source, event_name="every-90m").summary == "every 90m"
    assert ArgoCalendarTimetable(event_source_file=str(event_source), event_name="nightly").summary == (
        "0 23 * * * Europe/Amsterdam")


def test_the_event_source_is_found_among_other_documents(tmp_path: Path) -> None:
    path = tmp_path / "all.yaml"
    path.write_text("---\napiVersion: argoproj.io/v1alpha1\nkind: Sensor\nmetadata: {name: s}\n---\n"
                    "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: cal}\n"
                    "spec:\n  calendar:\n    only: {interval: 2h}\n---\n")
    timetable = ArgoCalendarTimetable(event_source_file=path)
    assert timetable.summary == "every 2h"
    assert timetable.description == "every 2h; event 'only' in all.yaml"


@pytest.mark.parametrize(("content", "event_name", "messages"), [
    (None, None, ["missing.yaml", "no such file"]),
    ("kind: EventSource\nspec:\n  calendar:\n    a: {interval: 1h\n", None, ["broken.yaml", "invalid YAML at line"]),
    ("kind: Sensor\nmetadata: {name: s}\n", None, ["broken.yaml", "no document of kind EventSource (found: Sensor)"]),
    ("kind: EventSource\nspec:\n  webhook: {}\n", None, ["broken.yaml", "has no spec.calendar events"]),
    (EVENT_SOURCE, None, ["broken.yaml", "2 calendar events (nightly, every-90m)", "event_name="]),
    (EVENT_SOURCE, "weekly", ["broken.yaml", "no calendar event 'weekly'; it has: nightly, every-90m"]),
    ("kind: EventSource\nspec:\n  calendar:\n    six: {schedule: '0 0 9 * * *'}\n", None,
     ["broken.yaml: spec.calendar.six: schedule: expected exactly 5 fields"]),
    ("kind: EventSource\nspec:\n  calendar:\n    tz: {schedule: '0 9 * * *', timezone: Europe/Amsterdm}\n", None,
     ["broken.yaml: spec.calendar.tz: timezone: unknown time zone 'Europe/Amsterdm'"]),
    ("kind: EventSource\nspec:\n  calendar:\n    empty:\n", None, ["spec.calendar.empty: must be a mapping"]),
])
def test_event_source_file_errors_name_the_file_and_the_problem(
        tmp_path: Path, content: str | None, event_name: str | None, messages: list[str]) -> None:
    path = tmp_path / ("missing.yaml" if content is None else "broken.yaml")
    if content is not None:
        path.write_text(content)
    with pytest.raises(InvalidArgoCalendar) as error:
        ArgoCalendarTimetable(event_source_file=path, event_name=event_name)
    for message in messages:
        assert message in str(error.value)


def test_a_yaml_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("kind: EventSource\nspec:\n  calendar:\n    a: {interval: 1h}\n    b: x: y\n")
    with pytest.raises(InvalidArgoCalendar, match=r"calendar.yaml: invalid YAML at line 5, column 9: mapping values"):
        ArgoCalendarTimetable(event_source_file=path)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "exactly one of calendar="),
    ({"calendar": NIGHTLY, "event_source_file": "x.yaml"}, "exactly one of calendar="),
    ({"calendar": "0 23 * * *"}, "calendar must be a mapping"),
    ({"calendar": {"schedule": "0 23 * * *", "interval": "90"}, "interval": timedelta(-1)}, "non-negative"),
    ({"calendar": {"schedule": "0 23 * * 7"}}, "calendar: schedule: day-of-week field '7'"),
    ({"calendar": {"interval": "1d"}}, "calendar: interval: invalid Go duration '1d'"),
    ({"calendar": {"schedule": "0 23 * * *", "metadata": {"at": datetime(2026, 1, 1)}}},
     "must hold only strings, lists and mappings"),
])
def test_bad_arguments_are_rejected_at_parse_time(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgoCalendar) as error:
        ArgoCalendarTimetable(**kwargs)
    assert message in str(error.value)
    # Airflow records it as an invalid timetable; plain Python code can catch a ValueError.
    assert isinstance(error.value, AirflowTimetableInvalid) and isinstance(error.value, ValueError)


# ------------------------------------------------------------------------------------ UI texts


@pytest.mark.parametrize(("spec", "summary"), [
    (NIGHTLY, "0 23 * * * Europe/Amsterdam"),
    ({"schedule": "0 23 * * *"}, "0 23 * * *"),
    ({"schedule": "CRON_TZ=Asia/Tokyo 0 9 * * *", "timezone": "Europe/Amsterdam"}, "CRON_TZ=Asia/Tokyo 0 9 * * *"),
    ({"interval": "1h30m"}, "every 1h30m"),
    ({"schedule": "0 * * * *", "interval": "1h"}, "0 * * * *"),
])
def test_summary_shows_the_schedule_as_written(spec: dict, summary: str) -> None:
    assert ArgoCalendarTimetable(spec).summary == summary


def test_description_explains_the_calendar() -> None:
    spec = {**NIGHTLY, "exclusionDates": ["EXDATE:20261224T000000Z"]}
    assert ArgoCalendarTimetable(spec).description == "at 23:00 every day (Europe/Amsterdam), except 2026-12-24"
    assert ArgoCalendarTimetable({"interval": "90m"}).description == "every 1h30m"


def test_description_names_the_event_and_its_file(event_source: Path) -> None:
    timetable = ArgoCalendarTimetable(event_source_file=event_source, event_name="nightly")
    assert timetable.description == (
        "at 23:00 every day (Europe/Amsterdam), except 2026-12-24; event 'nightly' in calendar.yaml")


def test_a_given_description_wins(event_source: Path) -> None:
    timetable = ArgoCalendarTimetable(event_source_file=event_source, event_name="nightly",
                                      description="Nightly, as the Argo calendar")
    assert timetable.description == "Nightly, as the Argo calendar"


# ------------------------------------------------------------------------------------ Argo Events


def test_the_rendered_event_source_fires_like_the_timetable(event_source: Path) -> None:
    timetable = ArgoCalendarTimetable(event_source_file=event_source, event_name="nightly")
    rendered, _ = timetable.to_argo_events("nightly-report")
    calendar = ArgoCalendar.from_event_source(rendered, "nightly")
    start = utc(2026, 12, 1)
    assert list(calendar.iter_fires(start - timedelta(microseconds=1), until=utc(2027, 1, 31))) == runs(
        timetable, start=start, end=utc(2027, 1, 31), count=100)
    assert rendered["spec"]["calendar"]["nightly"] == yaml.safe_load(EVENT_SOURCE)["spec"]["calendar"]["nightly"]


def test_the_rendered_sensor_submits_the_template_with_the_event_time() -> None:
    timetable = ArgoCalendarTimetable(NIGHTLY, event_name="nightly")
    event_source, sensor = timetable.to_argo_events(
        "nightly-report", namespace="data", event_source_name="calendars", parameters={"team": "data", "day": "x"})
    assert event_source["metadata"] == {"name": "calendars", "namespace": "data"}
    assert (sensor["apiVersion"], sensor["kind"]) == ("argoproj.io/v1alpha1", "Sensor")
    assert sensor["metadata"] == {"name": "nightly-report-calendar", "namespace": "data"}
    [dependency] = sensor["spec"]["dependencies"]
    assert dependency == {"name": dependency["name"], "eventSourceName": "calendars", "eventName": "nightly"}
    [trigger] = sensor["spec"]["triggers"]
    argo_workflow = trigger["template"]["argoWorkflow"]
    assert argo_workflow["operation"] == "submit"
    workflow = argo_workflow["source"]["resource"]
    assert workflow == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "nightly-report-"},
        "spec": {
            "arguments": {"parameters": [{"name": "team", "value": "data"}, {"name": "day", "value": "x"},
                                         {"name": "event-time", "value": ""}]},
            "workflowTemplateRef": {"name": "nightly-report", "clusterScope": False},
        },
    }
    assert argo_workflow["parameters"] == [{"src": {"dependencyName": dependency["name"], "dataKey": "eventTime"},
                                            "dest": "spec.arguments.parameters.2.value"}]
    assert "template" not in sensor["spec"]


def test_cluster_templates_and_the_sensor_service_account() -> None:
    _, sensor = ArgoCalendarTimetable(NIGHTLY).to_argo_events(
        "shared-report", cluster_scope=True, service_account="operate-workflow-sa", sensor_name="nightly")
    assert sensor["metadata"]["name"] == "nightly"
    assert sensor["spec"]["template"] == {"serviceAccountName": "operate-workflow-sa"}
    assert sensor["spec"]["dependencies"][0]["eventName"] == "calendar"
    workflow = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]["source"]["resource"]
    assert workflow["spec"]["workflowTemplateRef"] == {"name": "shared-report", "clusterScope": True}
    assert workflow["spec"]["arguments"]["parameters"] == [{"name": "event-time", "value": ""}]


def test_the_rendered_objects_match_argo_schemas(event_source: Path) -> None:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    require(ARGO_SCHEMA.exists(), f"{ARGO_SCHEMA} is missing")
    registry = Registry().with_resource(
        "urn:argo", Resource.from_contents(json.loads(ARGO_SCHEMA.read_text()), default_specification=DRAFT202012))

    def errors(instance: dict, definition: str) -> list[str]:
        validator = jsonschema.Draft202012Validator({"$ref": f"urn:argo#/definitions/{definition}"},
                                                    registry=registry)
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]

    timetable = ArgoCalendarTimetable(event_source_file=event_source, event_name="nightly")
    event_source_object, sensor = timetable.to_argo_events(
        "nightly-report", parameters={"team": "data"}, service_account="operate-workflow-sa")
    assert errors(event_source_object, f"{EVENTS}.EventSource") == []
    assert errors(sensor, f"{EVENTS}.Sensor") == []
    workflow = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]["source"]["resource"]
    assert errors(workflow, "io.argoproj.workflow.v1alpha1.Workflow") == []
    # The schema is not blind: a parameter value that is not a string is reported.
    workflow["spec"]["arguments"]["parameters"][0]["value"] = 1
    assert errors(workflow, "io.argoproj.workflow.v1alpha1.Workflow") != []


def test_the_yaml_holds_the_same_objects() -> None:
    timetable = ArgoCalendarTimetable({"interval": "90m"}, event_name="every-90m")
    text = timetable.to_argo_events_yaml("report", parameters={"team": "data"})
    assert list(yaml.safe_load_all(text)) == timetable.to_argo_events("report", parameters={"team": "data"})
    assert "\n---\n" in text


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"workflow_template": "Nightly_Report"}, "workflow_template='Nightly_Report'"),
    ({"namespace": "data.team"}, "namespace='data.team'"),
    ({"event_source_name": "-calendar"}, "event_source_name='-calendar'"),
    ({"sensor_name": "x" * 64}, "sensor_name="),
    ({"workflow_template": "report.v2"}, "sensor_name='report.v2-calendar'"),
    ({"service_account": "Operator"}, "service_account='Operator'"),
    ({"event_name": "every day"}, "event_name='every day'"),
])
def test_invalid_names_are_rejected_naming_the_argument(kwargs: dict[str, str], argument: str) -> None:
    kwargs = {"workflow_template": "report", **kwargs}
    with pytest.raises(ValueError, match="is not a valid name") as error:
        ArgoCalendarTimetable(NIGHTLY).to_argo_events(**kwargs)
    assert argument in str(error.value)


@pytest.mark.parametrize(("parameters", "message"), [
    ({"day": 1}, "the value of 'day' must be a string"),
    ({"event-time": "now"}, "'event-time' is filled from the calendar event"),
    ({"a b": "x"}, "'a b' is not a valid Argo parameter name"),
])
def test_bad_workflow_parameters_are_rejected(parameters: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        ArgoCalendarTimetable(NIGHTLY).to_argo_events("report", parameters=parameters)
    assert message in str(error.value)


# ------------------------------------------------------------------------------------ import cost


def test_dag_files_importing_the_timetable_do_not_load_the_plugin_machinery() -> None:
    code = ("import sys; import airflow_provider_sparkk8s.timetables as t;"
            "print('airflow.plugins_manager' in sys.modules);"
            "from airflow.plugins_manager import AirflowPlugin;"
            "print(issubclass(t.ArgoCalendarPlugin, AirflowPlugin), t.ArgoCalendarPlugin.name,"
            " t.ArgoCalendarPlugin.timetables == [t.ArgoCalendarTimetable])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "sparkk8s", "True"]
