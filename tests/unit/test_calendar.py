"""Argo Events calendar semantics (robfig/cron v3 + start.go), checked against explicit tables and properties."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_sparkk8s.calendar import ArgoCalendar, CronSpec, parse_event_time, parse_go_duration

pytestmark = pytest.mark.lowest  # also against the lowest supported Airflow (make test-lowest)

UTC = timezone.utc
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(spec: dict, start: datetime, count: int) -> list[datetime]:
    cal = ArgoCalendar.from_spec(spec)
    out: list[datetime] = []
    current: datetime | None = start
    for _ in range(count):
        current = cal.next_fire_after(current)
        assert current is not None
        out.append(current)
    return out


# ----------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(("field", "expected"), [
    ("*", set(range(60))),
    ("?", set(range(60))),
    ("5", {5}),
    ("1-3", {1, 2, 3}),
    ("1,7,9", {1, 7, 9}),
    ("*/15", {0, 15, 30, 45}),
    ("5/15", {5, 20, 35, 50}),
    ("10-20/5", {10, 15, 20}),
    ("1-3,50-59/4", {1, 2, 3, 50, 54, 58}),
    ("+5", {5}),
    ("05", {5}),
    ("1,,2", {1, 2}),
])
def test_minute_field_syntax(field: str, expected: set[int]) -> None:
    assert set(CronSpec.parse(f"{field} 0 * * *").minutes) == expected


def test_names_are_case_insensitive_and_work_in_ranges() -> None:
    cron = CronSpec.parse("0 0 * JAN-mar,Dec MON-fri")
    assert cron.months == {1, 2, 3, 12}
    assert cron.weekdays == {1, 2, 3, 4, 5}
    assert CronSpec.parse("0 0 * * sun,SAT").weekdays == {0, 6}


def test_star_bit_rules() -> None:
    assert CronSpec.parse("0 0 * * 1").dom_star
    assert CronSpec.parse("0 0 ? * 1").dom_star
    assert CronSpec.parse("0 0 */1 * 1").dom_star
    assert not CronSpec.parse("0 0 */2 * 1").dom_star
    assert not CronSpec.parse("0 0 1-31 * 1").dom_star


@pytest.mark.parametrize("prefix", ["CRON_TZ=Asia/Tokyo", "TZ=Asia/Tokyo"])
def test_time_zone_prefix(prefix: str) -> None:
    cal = ArgoCalendar.from_spec({"schedule": f"{prefix} 0 9 * * *"})
    assert cal.next_fire_after(utc(2024, 1, 1, 0, 0)) == utc(2024, 1, 2, 0, 0)
    assert cal.describe() == "at 09:00 every day (Asia/Tokyo)"


@pytest.mark.parametrize(("spec", "message"), [
    ({"schedule": "0 0 9 * * *"}, "expected exactly 5 fields"),
    ({"schedule": "0 0 * *"}, "expected exactly 5 fields"),
    ({"schedule": "   "}, "found 0"),
    ({"schedule": "0 0 * * 7"}, "day-of-week field '7': end of range (7) above maximum (6)"),
    ({"schedule": "0 0 * * 1-7"}, "above maximum (6)"),
    ({"schedule": "@daily"}, "parser does not accept descriptors: @daily"),
    ({"schedule": "@every 1h"}, "does not accept descriptors"),
    ({"schedule": "CRON_TZ=UTC @hourly"}, "does not accept descriptors"),
    ({"schedule": "0 0 L * *"}, "failed to parse int from 'L' (L, W and # are not supported)"),
    ({"schedule": "0 0 15W * *"}, "L, W and #"),
    ({"schedule": "0 0 * * 5#3"}, "L, W and #"),
    ({"schedule": "60 * * * *"}, "minute field '60': end of range (60) above maximum (59)"),
    ({"schedule": "0 24 * * *"}, "hour field"),
    ({"schedule": "0 0 0 * *"}, "beginning of range (0) below minimum (1)"),
    ({"schedule": "0 0 * 13 *"}, "month field"),
    ({"schedule": "5-1 * * * *"}, "beyond end of range"),
    ({"schedule": "*/0 * * * *"}, "step of range should be a positive number"),
    ({"schedule": "1-2-3 * * * *"}, "too many hyphens"),
    ({"schedule": "1/2/3 * * * *"}, "too many slashes"),
    ({"schedule": "0 0 * * mon/x"}, "failed to parse int"),
    ({"schedule": "CRON_TZ=Mars/Olympus 0 9 * * *"}, "unknown time zone 'Mars/Olympus'"),
    ({"schedule": "CRON_TZ=UTC"}, "no cron fields"),
    ({"schedule": "0 0 * * *", "timezone": "Europe/Amsterdm"}, "timezone: unknown time zone 'Europe/Amsterdm'"),
    ({"interval": "1d"}, "interval: invalid Go duration '1d': unknown unit 'd'"),
    ({"interval": "10"}, "missing unit"),
    ({"interval": "h"}, "expected a number"),
    ({"interval": "500ms"}, "shorter than one second"),
    ({"interval": "0"}, "shorter than one second"),
    ({"interval": "-1h"}, "shorter than one second"),
    ({}, "must contain either a schedule or interval"),
    ({"schedule": "", "interval": ""}, "must contain either a schedule or interval"),
    ({"schedule": 5}, "schedule: must be a string"),
    ({"interval": "1h", "exclusionDates": ["EXDATE:20240102T000000"]}, "the trailing Z is required"),
    ({"interval": "1h", "exclusionDates": ["EXDATE:2024-01-02"]}, "cannot parse '2024-01-02'"),
    ({"interval": "1h", "exclusionDates": ["EXDATE:20240102T000000Z,"]}, "cannot parse ''"),
    ({"interval": "1h", "exclusionDates": ["EXDATE:20240230T000000Z"]}, "not a valid date-time"),
    ({"interval": "1h", "exclusionDates": "EXDATE:20240102T000000Z"}, "exclusionDates: must be a list"),
    ({"interval": "1h", "metadata": {"n": 1}}, "metadata: must map strings to strings"),
])
def test_rejections_name_the_field_and_problem(spec: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        ArgoCalendar.from_spec(spec)
    assert message in str(error.value)


def test_unknown_keys_and_invalid_interval_next_to_schedule_are_ignored() -> None:
    cal = ArgoCalendar.from_spec({"schedule": "0 * * * *", "interval": "bogus", "filter": {"expression": "x"},
                                  "persistence": {"catchup": {"enabled": True, "maxDuration": "5m"}}})
    assert cal.schedule is not None and cal.interval is None


@pytest.mark.parametrize(("text", "nanoseconds"), [
    ("90m", 90 * 60 * 10**9), ("1h30m", 90 * 60 * 10**9), ("2.75h", 9900 * 10**9), ("1.5s", 1_500_000_000),
    ("300ms", 300_000_000), ("1h1m1s1ms1us1ns", 3661_001_001_001), ("10µs", 10_000), ("-1.5h", -5400 * 10**9),
    ("0", 0), ("+5s", 5 * 10**9), (".5m", 30 * 10**9), ("1.m", 60 * 10**9),
])
def test_go_durations(text: str, nanoseconds: int) -> None:
    assert parse_go_duration(text) == nanoseconds


# ------------------------------------------------------------------------------------ next fire


def test_search_starts_strictly_after_previous() -> None:
    cal = ArgoCalendar.from_spec({"schedule": "30 * * * *"})
    assert cal.next_fire_after(utc(2024, 1, 1, 10, 30)) == utc(2024, 1, 1, 11, 30)
    assert cal.next_fire_after(utc(2024, 1, 1, 10, 29, 59, 999999)) == utc(2024, 1, 1, 10, 30)
    assert cal.next_fire_after(datetime(2024, 1, 1, 11, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))) == \
        utc(2024, 1, 1, 11, 30)


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ArgoCalendar.from_spec({"schedule": "* * * * *"}).next_fire_after(datetime(2024, 1, 1))


def test_dom_dow_or_when_both_restricted() -> None:
    # 2024-09-13 is a Friday; every Friday and every 13th.
    got = fires({"schedule": "0 0 13 * FRI"}, utc(2024, 9, 1), 5)
    assert got == [utc(2024, 9, 6), utc(2024, 9, 13), utc(2024, 9, 20), utc(2024, 9, 27), utc(2024, 10, 4)]
    got = fires({"schedule": "0 0 13 * TUE"}, utc(2024, 9, 30), 3)
    assert got == [utc(2024, 10, 1), utc(2024, 10, 8), utc(2024, 10, 13)]


def test_dom_dow_and_when_one_is_star() -> None:
    assert fires({"schedule": "0 0 * * FRI"}, utc(2024, 9, 12), 2) == [utc(2024, 9, 13), utc(2024, 9, 20)]
    assert fires({"schedule": "0 0 13 * ?"}, utc(2024, 9, 12), 2) == [utc(2024, 9, 13), utc(2024, 10, 13)]
    # '*/1' keeps the star bit, '1-31' does not.
    assert fires({"schedule": "0 0 */1 * FRI"}, utc(2024, 9, 12), 1) == [utc(2024, 9, 13)]
    assert fires({"schedule": "0 0 1-31 * FRI"}, utc(2024, 9, 12), 1) == [utc(2024, 9, 13)]
    assert fires({"schedule": "0 0 1-31 * FRI"}, utc(2024, 9, 13), 1) == [utc(2024, 9, 14)]


def test_steps_names_and_leap_days() -> None:
    assert fires({"schedule": "5/15 * * * *"}, utc(2024, 1, 1), 4) == [
        utc(2024, 1, 1, 0, 5), utc(2024, 1, 1, 0, 20), utc(2024, 1, 1, 0, 35), utc(2024, 1, 1, 0, 50)]
    assert fires({"schedule": "0 12 29 feb *"}, utc(2024, 3, 1), 1) == [utc(2028, 2, 29, 12)]


def test_impossible_schedule_has_no_next_fire() -> None:
    assert ArgoCalendar.from_spec({"schedule": "0 0 30 2 *"}).next_fire_after(utc(2024, 1, 1)) is None
    assert list(ArgoCalendar.from_spec({"schedule": "0 0 31 4,6 *"}).iter_fires(utc(2024, 1, 1))) == []


NY, LONDON, AMSTERDAM, SYDNEY = "America/New_York", "Europe/London", "Europe/Amsterdam", "Australia/Sydney"

# (zone, schedule, start, expected fires in UTC) -- gaps skipped, ambiguous wall times fire twice.
DST_TABLE = [
    # New York 2024-03-10 02:00 EST -> 03:00 EDT: no 02:30 that day.
    (NY, "30 2 * * *", utc(2024, 3, 8, 12), [utc(2024, 3, 9, 7, 30), utc(2024, 3, 11, 6, 30)]),
    (NY, "0 2 * * *", utc(2024, 3, 9, 12), [utc(2024, 3, 11, 6)]),
    (NY, "0 * * * *", utc(2024, 3, 10, 5), [utc(2024, 3, 10, 6), utc(2024, 3, 10, 7), utc(2024, 3, 10, 8)]),
    # New York 2024-11-03 02:00 EDT -> 01:00 EST: 01:30 EDT and 01:30 EST.
    (NY, "30 1 * * *", utc(2024, 11, 2, 0),
     [utc(2024, 11, 2, 5, 30), utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 6, 30), utc(2024, 11, 4, 6, 30)]),
    (NY, "0 * * * *", utc(2024, 11, 3, 3, 30),
     [utc(2024, 11, 3, 4), utc(2024, 11, 3, 5), utc(2024, 11, 3, 6), utc(2024, 11, 3, 7)]),
    (NY, "45 1 * * *", utc(2024, 11, 3, 5, 50), [utc(2024, 11, 3, 6, 45), utc(2024, 11, 4, 6, 45)]),
    # London 2024-03-31 01:00 GMT -> 02:00 BST; 2024-10-27 02:00 BST -> 01:00 GMT.
    (LONDON, "30 1 * * *", utc(2024, 3, 29, 12), [utc(2024, 3, 30, 1, 30), utc(2024, 4, 1, 0, 30)]),
    (LONDON, "30 1 * * *", utc(2024, 10, 26, 0),
     [utc(2024, 10, 26, 0, 30), utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 1, 30), utc(2024, 10, 28, 1, 30)]),
    # Amsterdam 2024-03-31 02:00 CET -> 03:00 CEST; 2024-10-27 03:00 CEST -> 02:00 CET.
    (AMSTERDAM, "30 2 * * *", utc(2024, 3, 29, 12), [utc(2024, 3, 30, 1, 30), utc(2024, 4, 1, 0, 30)]),
    (AMSTERDAM, "30 2 * * *", utc(2024, 10, 26, 0),
     [utc(2024, 10, 26, 0, 30), utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 1, 30), utc(2024, 10, 28, 1, 30)]),
    (AMSTERDAM, "0 23 * * *", utc(2024, 10, 25), [utc(2024, 10, 25, 21), utc(2024, 10, 26, 21), utc(2024, 10, 27, 22)]),
    # Sydney 2024-04-07 03:00 AEDT -> 02:00 AEST (fires twice); 2024-10-06 02:00 AEST -> 03:00 AEDT (skipped).
    (SYDNEY, "30 2 * * *", utc(2024, 4, 5),
     [utc(2024, 4, 5, 15, 30), utc(2024, 4, 6, 15, 30), utc(2024, 4, 6, 16, 30), utc(2024, 4, 7, 16, 30)]),
    (SYDNEY, "30 2 * * *", utc(2024, 10, 4), [utc(2024, 10, 4, 16, 30), utc(2024, 10, 6, 15, 30)]),
]


@pytest.mark.parametrize(("zone", "schedule", "start", "expected"), DST_TABLE)
def test_dst_table(zone: str, schedule: str, start: datetime, expected: list[datetime]) -> None:
    assert fires({"schedule": schedule, "timezone": zone}, start, len(expected)) == expected


# ------------------------------------------------------------------------------------- intervals


@pytest.mark.parametrize(("interval", "step"), [
    ("90m", timedelta(minutes=90)), ("1h30m", timedelta(minutes=90)), ("2.75h", timedelta(hours=2, minutes=45)),
    ("10s", timedelta(seconds=10)),
])
def test_interval_is_floor_plus_delay(interval: str, step: timedelta) -> None:
    start = utc(2024, 3, 10, 5, 0, 0, 750_000)
    got = fires({"interval": interval, "timezone": NY}, start, 3)
    assert got == [utc(2024, 3, 10, 5) + step * i for i in (1, 2, 3)]


def test_fractional_interval_loses_its_fraction_after_the_first_tick() -> None:
    got = fires({"interval": "1500ms"}, utc(2024, 1, 1, 0, 0, 0, 300_000), 3)
    assert got == [utc(2024, 1, 1, 0, 0, second, 500_000) for second in (1, 2, 3)]


def test_schedule_wins_over_interval() -> None:
    assert fires({"schedule": "0 0 * * *", "interval": "1m"}, utc(2024, 1, 1, 12), 1) == [utc(2024, 1, 2)]


def test_interval_skips_excluded_local_day() -> None:
    cal = ArgoCalendar.from_spec({"interval": "1s", "timezone": AMSTERDAM,
                                  "exclusionDates": ["EXDATE:20240102T120000Z,20240103T000000Z"]})
    # 2024-01-01 23:59:59 CET is the last tick before two excluded local days.
    assert cal.next_fire_after(utc(2024, 1, 1, 22, 59, 58)) == utc(2024, 1, 1, 22, 59, 59)
    assert cal.next_fire_after(utc(2024, 1, 1, 22, 59, 59)) == utc(2024, 1, 3, 23)
    three = ArgoCalendar.from_spec({"interval": "7s", "exclusionDates": ["EXDATE:20240102T000000Z"]})
    after = three.next_fire_after(utc(2024, 1, 1, 23, 59, 55))
    tick = utc(2024, 1, 1, 23, 59, 55)
    while True:  # Argo's recursion, one tick at a time
        tick += timedelta(seconds=7)
        if tick.date() != date(2024, 1, 2):
            break
    assert after == tick == utc(2024, 1, 3, 0, 0, 3)


# ------------------------------------------------------------------------------------ exclusions


def test_issue_example_christmas_and_new_year() -> None:
    cal = ArgoCalendar.from_spec({"schedule": "0 23 * * *", "timezone": AMSTERDAM,
                                  "exclusionDates": ["EXDATE:20261224T000000Z", "EXDATE:20261231T000000Z"]})
    got = list(cal.iter_fires(utc(2026, 12, 22, 23), until=utc(2027, 1, 2, 23)))
    assert got == [utc(2026, 12, 23, 22)] + [utc(2026, 12, d, 22) for d in range(25, 31)] + \
        [utc(2027, 1, 1, 22), utc(2027, 1, 2, 22)]
    assert cal.next_fire_after(datetime(2026, 12, 1, tzinfo=UTC)) == utc(2026, 12, 1, 22)
    assert cal.describe() == "at 23:00 every day (Europe/Amsterdam), except 2026-12-24, 2026-12-31"


def test_exdate_utc_date_against_local_fire_date() -> None:
    # argo.md: LA, 0 23 * * *, EXDATE 20240105 suppresses 2024-01-05 23:00 PST (= 01-06 07:00Z).
    cal = ArgoCalendar.from_spec({"schedule": "0 23 * * *", "timezone": "America/Los_Angeles",
                                  "exclusionDates": ["EXDATE:20240105T000000Z"]})
    assert fires({"schedule": "0 23 * * *", "timezone": "America/Los_Angeles",
                  "exclusionDates": ["EXDATE:20240105T000000Z"]}, utc(2024, 1, 4, 12), 2) == \
        [utc(2024, 1, 5, 7), utc(2024, 1, 7, 7)]
    assert cal.is_excluded(utc(2024, 1, 6, 7)) and not cal.is_excluded(utc(2024, 1, 5, 7))


def test_exdate_time_of_day_is_ignored_and_utc_date_is_used() -> None:
    # 2024-12-24T23:00Z is 2024-12-25 00:00 in Amsterdam, but the UTC date (24th) is what counts.
    spec = {"schedule": "0 12 * * *", "timezone": AMSTERDAM, "exclusionDates": ["EXDATE:20241224T230000Z"]}
    assert fires(spec, utc(2024, 12, 23, 12), 2) == [utc(2024, 12, 25, 11), utc(2024, 12, 26, 11)]
    # Without a timezone the fire's UTC date is compared.
    spec = {"schedule": "30 23 * * *", "exclusionDates": ["EXDATE:20241224T000000Z"]}
    assert fires(spec, utc(2024, 12, 23, 23, 30), 1) == [utc(2024, 12, 25, 23, 30)]


def test_exclusions_compare_in_timezone_even_with_cron_tz_prefix() -> None:
    # Fires at 09:00 Tokyo = 00:00 UTC; with no timezone the exclusion compares the UTC date.
    spec = {"schedule": "CRON_TZ=Asia/Tokyo 0 9 * * *", "exclusionDates": ["EXDATE:20240102T000000Z"]}
    assert fires(spec, utc(2024, 1, 1, 12), 1) == [utc(2024, 1, 3)]


def test_non_exdate_entries_are_ignored() -> None:
    cal = ArgoCalendar.from_spec({"interval": "1h", "exclusionDates": ["RDATE:20240102T000000Z", "20240102"]})
    assert cal.exclusion_dates == ()


# ------------------------------------------------------------------------------- payload + parse


def test_event_payload_in_calendar_zone() -> None:
    cal = ArgoCalendar.from_spec({"schedule": "0 9 * * *", "timezone": NY, "metadata": {"hello": "world", "a": "b"}})
    payload = cal.event_payload(utc(2024, 3, 8, 14))
    assert payload == {"eventTime": "2024-03-08 09:00:00 -0500 EST", "metadata": {"a": "b", "hello": "world"}}
    assert list(payload["metadata"]) == ["a", "hello"]
    assert ArgoCalendar.from_spec({"interval": "1h"}).event_payload(utc(2024, 1, 1, 12)) == \
        {"eventTime": "2024-01-01 12:00:00 +0000 UTC"}
    kolkata = ArgoCalendar.from_spec({"interval": "1h", "timezone": "Asia/Kolkata"})
    assert kolkata.event_payload(utc(2024, 1, 1, 12, 0, 0, 120_000))["eventTime"] == \
        "2024-01-01 17:30:00.12 +0530 IST"


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25 22:04:55.921929862 +0000 UTC m=+0.011255726", utc(2026, 11, 25, 22, 4, 55, 921929)),
    ("2020-10-19 22:50:00.0003192 +0000 UTC m=+683.567066901", utc(2020, 10, 19, 22, 50, 0, 319)),
    ("2024-03-08 09:00:00 -0500 EST", utc(2024, 3, 8, 14)),
    ("2024-01-01 12:00:00 +0000 UTC", utc(2024, 1, 1, 12)),
    ("2024-01-01 17:30:00 +0530 IST", utc(2024, 1, 1, 12)),
    ("2024-06-01 09:00:00 -0300 -03", utc(2024, 6, 1, 12)),
])
def test_parse_event_time(text: str, expected: datetime) -> None:
    parsed = parse_event_time(text)
    assert parsed == expected
    assert parsed.utcoffset() is not None


def test_parse_event_time_rejects_rfc3339() -> None:
    with pytest.raises(ValueError, match="eventTime: cannot parse"):
        parse_event_time("2024-01-01T12:00:00Z")


@pytest.mark.parametrize("zone", ["UTC", NY, LONDON, AMSTERDAM, SYDNEY, "Asia/Kolkata"])
def test_payload_round_trip(zone: str) -> None:
    cal = ArgoCalendar.from_spec({"schedule": "30 1 * * *", "timezone": zone})
    for fire in cal.iter_fires(utc(2024, 3, 1), until=utc(2024, 12, 1)):
        assert parse_event_time(cal.event_payload(fire)["eventTime"]) == fire


# ------------------------------------------------------------------------------ event sources


MANIFEST = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "EventSource", "metadata": {"name": "calendar"},
    "spec": {"calendar": {
        "example-with-interval": {"interval": "10s"},
        "example-with-schedule": {
            "schedule": "30 * * * *", "timezone": NY, "metadata": {"hello": "world"},
            "exclusionDates": ["EXDATE:20190102T150405Z", "EXDATE:20190602T160210Z"],
            "persistence": {"catchup": {"enabled": True, "maxDuration": "5m"},
                            "configMap": {"name": "test-configmap", "createIfNotExist": True}},
            "filter": {"expression": 'metadata.hello == "world"'}},
        "broken": {"schedule": "0 0 * * 7"},
    }},
}


def test_from_event_source() -> None:
    cal = ArgoCalendar.from_event_source(MANIFEST, "example-with-schedule")
    assert cal.exclusion_dates == (date(2019, 1, 2), date(2019, 6, 2))
    assert cal.describe() == "at minute 30 of every hour every day (America/New_York), except 2019-01-02, 2019-06-02"
    assert ArgoCalendar.from_event_source(MANIFEST, "example-with-interval").describe() == "every 10s"
    with pytest.raises(ValueError, match="no calendar event 'nope'; it has: broken, example-with-interval"):
        ArgoCalendar.from_event_source(MANIFEST, "nope")
    with pytest.raises(ValueError, match=r"spec.calendar.broken: schedule: day-of-week"):
        ArgoCalendar.from_event_source(MANIFEST, "broken")
    with pytest.raises(ValueError, match="kind 'Sensor'"):
        ArgoCalendar.from_event_source({**MANIFEST, "kind": "Sensor"}, "broken")
    with pytest.raises(ValueError, match="no spec.calendar"):
        ArgoCalendar.from_event_source({"kind": "EventSource", "spec": {"webhook": {}}}, "x")


@pytest.mark.parametrize(("schedule", "text"), [
    ("* * * * *", "every minute every day (UTC)"),
    ("0 9,12 * * MON-FRI", "at 09:00 and 12:00 on Monday-Friday (UTC)"),
    ("*/15 9-17 * * *", "at minute 0, 15, 30 and 45 of hour 9-17 every day (UTC)"),
    ("0 0 1 jan,jul *", "at 00:00 on day 1 of the month in January and July (UTC)"),
])
def test_describe(schedule: str, text: str) -> None:
    assert ArgoCalendar.from_spec({"schedule": schedule}).describe() == text


# --------------------------------------------------------------------------------- properties

ZONES = ["UTC", NY, LONDON, AMSTERDAM, SYDNEY, "Asia/Kolkata"]


def _field(low: int, high: int, names: list[str] | None = None) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    atom = value.map(str) if names is None else st.one_of(
        value.map(str), value.map(lambda v: names[v - low] if v - low < len(names) else str(v)))
    ranges = st.tuples(value, value).map(lambda ab: f"{min(ab)}-{max(ab)}")
    steps = st.tuples(st.sampled_from(["*", f"{low}", f"{low}-{high}"]), st.integers(1, 20)).map(
        lambda ps: f"{ps[0]}/{ps[1]}")
    single = st.one_of(st.just("*"), st.just("?"), atom, ranges, steps)
    return st.one_of(single, st.lists(st.one_of(atom, ranges, steps), min_size=1, max_size=3).map(",".join))


MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
schedules = st.tuples(_field(0, 59), _field(0, 23), _field(1, 31), _field(1, 12, MONTHS), _field(0, 6, DAYS)).map(
    " ".join)
starts = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
exdates = st.lists(st.integers(0, 40), max_size=4)


def _calendar(schedule: str, zone: str, start: datetime, offsets: list[int]) -> ArgoCalendar:
    days = [(start + timedelta(days=offset)).strftime("%Y%m%dT%H%M%SZ") for offset in offsets]
    return ArgoCalendar.from_spec({"schedule": schedule, "timezone": zone,
                                   "exclusionDates": [f"EXDATE:{','.join(days)}"] if days else []})


@PROPERTY_SETTINGS
@given(schedules, st.sampled_from(ZONES), starts, exdates)
def test_fires_increase_match_fields_and_avoid_excluded_days(schedule: str, zone: str, start: datetime,
                                                              offsets: list[int]) -> None:
    cal = _calendar(schedule, zone, start, offsets)
    assert cal.schedule is not None
    previous = start
    for _ in range(8):
        fire = cal.next_fire_after(previous)
        if fire is None:
            break
        assert fire > previous and fire.tzinfo is UTC
        local = fire.astimezone(ZoneInfo(zone))
        assert cal.schedule.matches(local.replace(tzinfo=None))
        assert local.date() not in cal.exclusion_dates
        previous = fire


@PROPERTY_SETTINGS
@given(schedules, st.sampled_from(ZONES), starts, exdates, st.lists(st.floats(0, 1), min_size=1, max_size=4))
def test_iterating_equals_jumping(schedule: str, zone: str, start: datetime, offsets: list[int],
                                  fractions: list[float]) -> None:
    """From any instant between two consecutive fires, the next fire is the later one (cron only)."""
    cal = _calendar(schedule, zone, start, offsets)
    sequence = [start, *islice(cal.iter_fires(start, until=start + timedelta(days=400)), 5)]
    for earlier, later in zip(sequence, sequence[1:], strict=False):
        for fraction in fractions:
            point = earlier + (later - earlier) * fraction
            if point < later:
                assert cal.next_fire_after(point) == later


minute_heavy = st.tuples(_field(0, 59), st.sampled_from(["*", "0-3", "1,2,3", "*/2", "22-23,0-4"]),
                         st.sampled_from(["*", "?"]), st.just("*"), st.sampled_from(["*", "?"])).map(" ".join)
dst_starts = st.sampled_from([utc(2024, 3, 9, 20), utc(2024, 3, 30, 20), utc(2024, 10, 26, 20),
                              utc(2024, 11, 2, 20), utc(2024, 4, 6, 10), utc(2024, 10, 5, 10)])


@PROPERTY_SETTINGS
@given(minute_heavy, st.sampled_from(ZONES), dst_starts, st.integers(0, 30 * 60))
def test_no_matching_minute_is_skipped(schedule: str, zone: str, base: datetime, offset: int) -> None:
    """Brute force over UTC minutes around DST changes: nothing matches between the start and the next fire."""
    cal = ArgoCalendar.from_spec({"schedule": schedule, "timezone": zone})
    assert cal.schedule is not None
    tz = ZoneInfo(zone)
    start = base + timedelta(minutes=offset, seconds=30)
    fire = cal.next_fire_after(start)
    assert fire is not None
    assert cal.schedule.matches(fire.astimezone(tz).replace(tzinfo=None))
    moment = start.replace(second=0) + timedelta(minutes=1)
    while moment < min(fire, start + timedelta(hours=30)):
        assert not cal.schedule.matches(moment.astimezone(tz).replace(tzinfo=None)), moment
        moment += timedelta(minutes=1)


@PROPERTY_SETTINGS
@given(st.sampled_from(["90m", "1h30m", "2.75h", "17s", "1500ms"]), st.sampled_from(ZONES), starts, exdates)
def test_interval_properties(interval: str, zone: str, start: datetime, offsets: list[int]) -> None:
    days = [(start + timedelta(days=offset)).strftime("%Y%m%dT000000Z") for offset in offsets]
    cal = ArgoCalendar.from_spec({"interval": interval, "timezone": zone,
                                  "exclusionDates": [f"EXDATE:{','.join(days)}"] if days else []})
    previous = start
    for _ in range(20):
        fire = cal.next_fire_after(previous)
        assert fire is not None and fire > previous
        assert fire.astimezone(ZoneInfo(zone)).date() not in cal.exclusion_dates
        previous = fire


# ------------------------------------------------------------------------------------ imports


def test_import_uses_only_the_standard_library() -> None:
    code = ("import sys, airflow_provider_sparkk8s.calendar\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('airflow', 'yaml', 'kubernetes', 'kubernetes_asyncio', 'hera', 'pydantic', 'croniter', 'pendulum'))\n"
            "print(','.join(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
