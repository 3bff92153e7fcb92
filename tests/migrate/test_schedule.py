"""Coordinator frequencies and controls → Airflow schedules and Argo CronWorkflow / calendar entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from croniter import croniter

from airflow_provider_sparkk8s.calendar import ArgoCalendar
from airflow_provider_sparkk8s.migrate.oozie.ir import Controls, Frequency, Source
from airflow_provider_sparkk8s.migrate.oozie.schedule import (
    coordinator_controls,
    quartz_to_unix_cron,
    translate_frequency,
)

SRC = Source("coordinator.xml", 3)


@pytest.mark.parametrize(("quartz", "unix"), [
    ("0 15 * * 2-6", "0 15 * * 1-5"),
    ("0,10 15 * * 2-6", "0,10 15 * * 1-5"),
    ("${0,10 15 * * 2-6}", "0,10 15 * * 1-5"),
    ("0 9 * * 7", "0 9 * * 6"),
    ("0 9 * * 1", "0 9 * * 0"),
    ("0 10,13 * * MON-FRI", "0 10,13 * * MON-FRI"),
    ("0 0 * * 1-7/2", "0 0 * * 0-6/2"),
    ("0 0 * * */2", "0 0 * * */2"),
    ("0 0 * * 2/2", "0 0 * * 1-6/2"),
    ("0 0 * * 1,4,7", "0 0 * * 0,3,6"),
    ("0 0 * * 6-2", "0 0 * * 5,6,0,1"),
    ("0 0 ? * 2", "0 0 * * 1"),
    ("0/10 * * * *", "0/10 * * * *"),
    ("30 2 1 JAN-MAR ?", "30 2 1 JAN-MAR *"),
])
def test_quartz_cron_becomes_unix_cron(quartz: str, unix: str) -> None:
    assert quartz_to_unix_cron(quartz, SRC) == (unix, ())
    assert quartz_to_unix_cron(quartz, SRC, dialect="croniter") == (unix, ())


@pytest.mark.parametrize(("quartz", "croniter_form"), [
    ("1 2 * 3 3#2", "1 2 * 3 2#2"),
    ("0 0 L * ?", "0 0 L * *"),
    ("0 0 ? * 5L", "0 0 * * L4"),
    ("1 2 L-3 * *", None),
    ("1 2 6W 3 ?", None),
])
def test_last_weekday_and_nth_forms_are_flagged_for_argo_and_kept_for_croniter_when_equal(
        quartz: str, croniter_form: str | None) -> None:
    argo, argo_issues = quartz_to_unix_cron(quartz, SRC)
    assert argo is None and argo_issues[0].level == "unsupported" and "Argo" in argo_issues[0].message
    airflow, airflow_issues = quartz_to_unix_cron(quartz, SRC, dialect="croniter")
    assert airflow == croniter_form
    assert bool(airflow_issues) == (croniter_form is None)


@pytest.mark.parametrize("bad", ["0 0 * *", "0 0 * * 0", "0 0 * * 8", "61 * * * *", "0 0 1 * 2", "x * * * *"])
def test_invalid_cron_is_an_error(bad: str) -> None:
    cron, issues = quartz_to_unix_cron(bad, SRC)
    assert cron is None and issues[0].level == "error" and issues[0].source == SRC


def test_croniter_gives_the_second_tuesday_of_march_like_quartz() -> None:
    cron, _ = quartz_to_unix_cron("1 2 * 3 3#2", SRC, dialect="croniter")
    fire = croniter(cron, datetime(2026, 1, 1)).get_next(datetime)
    assert fire == datetime(2026, 3, 10, 2, 1) and fire.strftime("%a") == "Tue"


def _quartz_matches(quartz: str, moment: datetime) -> bool:
    """A reference for plain Quartz fields (no L/W/#): day-of-week 1-7 = SUN-SAT."""
    names = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

    def allowed(field: str, low: int, high: int) -> set[int]:
        values: set[int] = set()
        for item in field.split(","):
            part, _, step = item.partition("/")
            if part in ("*", "?"):
                start, end = low, high
            elif "-" in part:
                start, end = (names.get(p, None) or int(p) for p in part.split("-"))
            else:
                start = names.get(part) or int(part)
                end = high if step else start
            span = [*range(start, high + 1), *range(low, end + 1)] if end < start else range(start, end + 1)
            values |= set(list(span)[::int(step or 1)])  # Quartz wraps FRI-MON around the week
        return values

    minute, hour, dom, month, dow = quartz.split()
    quartz_dow = moment.isoweekday() % 7 + 1
    return (moment.minute in allowed(minute, 0, 59) and moment.hour in allowed(hour, 0, 23)
            and moment.day in allowed(dom, 1, 31) and moment.month in allowed(month, 1, 12)
            and quartz_dow in allowed(dow, 1, 7))


@pytest.mark.parametrize("quartz", ["0 15 * * 2-6", "0,10 15 * * 2-6", "0 9 * * 7", "30 6 * * 1-7/2",
                                    "0 10,13 * * MON-FRI", "15 8 * * 6-2", "0 12 ? * 3/2"])
def test_translated_cron_fires_when_quartz_would_in_argo_calendar(quartz: str) -> None:
    result = translate_frequency(Frequency("cron", cron=quartz), "UTC", "2026-01-01T00:00Z", SRC)
    calendar = ArgoCalendar.from_spec(result.calendar or {})
    begin = datetime(2026, 3, 1, tzinfo=UTC)
    fires = list(calendar.iter_fires(begin, begin + timedelta(days=15)))
    expected = [begin + timedelta(minutes=m) for m in range(1, 15 * 1440 + 1)
                if _quartz_matches(quartz, begin + timedelta(minutes=m))]
    assert fires == expected and fires
    cron = croniter(result.airflow_schedule, begin)
    assert [cron.get_next(datetime) for _ in fires] == fires


def freq(start: str, unit: str, amount: int = 0, text: str = "", tz: str = "UTC"):  # noqa: ANN201
    return translate_frequency(Frequency(unit, amount, text=text), tz, start, SRC)  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "minutes", "cron"), [
    ("2026-01-01T00:15Z", 60, "15 * * * *"),
    ("2026-01-01T00:00Z", 15, "*/15 * * * *"),
    ("2026-01-01T00:05Z", 15, "5-59/15 * * * *"),
    ("2026-01-01T01:20Z", 180, "20 1-23/3 * * *"),
    ("2026-01-01T06:00Z", 720, "0 6-23/12 * * *"),
    ("2026-01-01T07:45Z", 1440, "45 7 * * *"),
    ("2026-01-02T07:45Z", 10080, "45 7 * * 5"),
])
def test_minute_frequencies_that_divide_a_day_become_crons_anchored_at_start(start: str, minutes: int,
                                                                             cron: str) -> None:
    result = freq(start, "minutes", minutes)
    assert (result.airflow_schedule, result.argo_cron, result.timezone) == (cron, cron, "UTC")
    assert result.calendar == {"schedule": cron, "timezone": "UTC"} and result.issues == ()


def test_coord_days_is_daily_at_the_start_wall_time_in_the_coordinator_zone() -> None:
    result = freq("2026-01-01T05:30Z", "minutes", 1440, "${coord:days(1)}", "Europe/Amsterdam")
    assert (result.airflow_schedule, result.argo_cron, result.timezone) == ("30 6 * * *", "30 6 * * *",
                                                                           "Europe/Amsterdam")
    # across the spring DST change the run stays at 06:30 local, as Oozie's coord:days does
    calendar = ArgoCalendar.from_spec(result.calendar or {})
    fires = list(calendar.iter_fires(datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)))
    assert [f.strftime("%H:%M") for f in fires] == ["05:30", "04:30"]


def test_uneven_period_is_a_timedelta_for_airflow_and_unsupported_for_cronworkflow() -> None:
    result = freq("2026-01-01T00:00Z", "minutes", 90, "90")
    assert (result.airflow_schedule, result.airflow_timedelta_minutes, result.argo_cron) == (None, 90, None)
    assert result.calendar == {"interval": "90m", "timezone": "UTC"}
    assert [issue.level for issue in result.issues] == ["unsupported"]


def test_multi_day_coord_days_in_a_dst_zone_is_flagged() -> None:
    result = freq("2026-01-01T05:00Z", "minutes", 2880, "${coord:days(2)}", "America/New_York")
    assert result.airflow_timedelta_minutes == 2880
    assert [issue.level for issue in result.issues] == ["approximated", "unsupported"]


def test_months_is_a_monthly_cron_and_month_end_days_are_flagged() -> None:
    result = freq("2026-01-15T10:00Z", "months", 1, tz="UTC")
    assert (result.airflow_schedule, result.argo_cron, result.issues) == ("0 10 15 * *", "0 10 15 * *", ())
    quarterly = freq("2026-02-01T00:00Z", "months", 3)
    assert quarterly.argo_cron == "0 0 1 2,5,8,11 *"
    end = freq("2026-01-31T00:00Z", "months", 1)
    assert (end.airflow_schedule, end.argo_cron) == ("0 0 L * *", "0 0 31 * *")
    assert "Feb" in end.issues[0].message
    odd = freq("2026-01-01T00:00Z", "months", 5)
    assert odd.argo_cron is None and odd.issues[0].level == "unsupported"


@pytest.mark.parametrize(("unit", "cron"), [("end_of_days", "0 0 * * *"), ("end_of_weeks", "0 0 * * 0"),
                                            ("end_of_months", "0 0 1 * *")])
def test_end_of_units_run_at_the_boundary_in_the_coordinator_zone(unit: str, cron: str) -> None:
    result = freq("2026-01-01T00:00Z", unit, 1, tz="Asia/Tokyo")
    assert (result.airflow_schedule, result.argo_cron, result.timezone) == (cron, cron, "Asia/Tokyo")


def test_cron_in_a_non_utc_coordinator_runs_in_utc_like_the_oozie_server() -> None:
    result = translate_frequency(Frequency("cron", cron="0 15 * * 2-6"), "Europe/Paris", "2026-01-01T00:00Z", SRC)
    assert (result.argo_cron, result.timezone) == ("0 15 * * 1-5", "UTC")
    assert "processing timezone" in result.issues[0].message


def test_bad_timezone_or_frequency_is_an_error() -> None:
    assert freq("2026-01-01T00:00Z", "minutes", 60, tz="Mars/Olympus").issues[0].level == "error"
    assert freq("2026-01-01T00:00Z", "minutes", 0).issues[0].level == "error"


# ------------------------------------------------------------------------------------------ controls


def test_default_controls() -> None:
    result = coordinator_controls(Controls(), SRC)
    assert result["max_active_runs"] == 1 and result["catchup"] is True
    assert result["sensor_timeout_minutes"] == 120 and result["argo_concurrency_policy"] == "Forbid"


def test_controls_mapping() -> None:
    result = coordinator_controls(Controls(timeout_minutes=-1, concurrency=4, execution="LAST_ONLY", throttle=7),
                                  SRC)
    assert (result["max_active_runs"], result["catchup"], result["sensor_timeout_minutes"]) == (4, False, None)
    messages = " ".join(issue.message for issue in result["issues"])  # type: ignore[attr-defined]
    assert "throttle 7" in messages and "LAST_ONLY" in messages
    none = coordinator_controls(Controls(execution="NONE", timeout_minutes=0), SRC)
    assert (none["catchup"], none["argo_starting_deadline_seconds"], none["sensor_timeout_minutes"]) == (False, 60, 0)
    lifo = coordinator_controls(Controls(execution="LIFO"), SRC)
    assert lifo["catchup"] is True and any("LIFO" in i.message for i in lifo["issues"])  # type: ignore[attr-defined]
    bad = coordinator_controls(Controls(execution="RANDOM"), SRC)
    assert any(i.level == "error" for i in bad["issues"])  # type: ignore[attr-defined]


def test_issues_name_the_target_they_concern() -> None:
    # Each emitter reports only what concerns it: an Argo-only limit is not in the Airflow report, and so on.
    _, argo = quartz_to_unix_cron("0 10 L * ?", SRC, dialect="robfig")
    assert [(issue.level, issue.target) for issue in argo] == [("unsupported", "argo")]
    controls = coordinator_controls(Controls(concurrency=1, execution="LIFO", throttle=3), SRC)
    targets = {issue.message.split(":")[0]: issue.target for issue in controls["issues"]}
    assert targets == {"concurrency 1": "argo", "execution LIFO": "airflow", "throttle 3 (the number of "
                       "materialized waiting actions) has no equivalent; not mapped": ""}
