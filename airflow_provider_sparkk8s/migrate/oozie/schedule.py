"""Oozie coordinator frequencies and controls, translated to Airflow schedules and Argo CronWorkflows.

Oozie semantics reproduced here:

* Cron frequencies are Quartz-flavoured (day-of-week 1-7 = SUN-SAT, ``?``, ``L``, ``W``, ``#``) and evaluated in
  the Oozie server's processing timezone (``oozie.processing.timezone``, UTC by default), not the coordinator's.
* Minute frequencies (numbers, ``coord:minutes``, ``coord:hours``) are fixed periods anchored at ``start``;
  ``coord:days``/``coord:months``/``coord:endOf*`` step in calendar units of the coordinator timezone (DST-aware).

Airflow 3 runs a cron schedule at the cron time (``CronTriggerTimetable``) and a timedelta schedule at
``start_date + k * delta``, so the run's ``logical_date`` is Oozie's nominal time. Crons are given for croniter
(Airflow) and robfig/cron (Argo CronWorkflow and Argo Events calendars) separately: croniter knows ``L`` and
``#``, robfig does not.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal, TypedDict
from zoneinfo import ZoneInfo

from airflow_provider_sparkk8s.migrate.oozie.ir import Controls, Frequency, Issue, Source

UTC = timezone.utc  # datetime.UTC is Python 3.11+

Dialect = Literal["robfig", "croniter"]
_FREQUENCY = "coordinator frequency"
_CONTROLS = "coordinator controls"
DEFAULT_TIMEOUT_MINUTES = 120  # Oozie's default wait for input data


@dataclass(frozen=True)
class ScheduleTranslation:
    airflow_schedule: str | None  # a cron for Airflow (croniter dialect, Unix DOW 0-6)
    airflow_timedelta_minutes: int | None  # a fixed period anchored at start (render a timedelta)
    argo_cron: str | None  # robfig/cron 5 fields for a CronWorkflow
    calendar: dict[str, str] | None  # an Argo Events calendar entry {"schedule"|"interval", "timezone"}
    issues: tuple[Issue, ...] = ()
    timezone: str = "UTC"  # the zone the crons are evaluated in (DAG timetable / CronWorkflow timezone)


# ------------------------------------------------------------------------------------------ Quartz cron

_DOW_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_FIELD_NAMES = ["minute", "hour", "day-of-month", "month", "day-of-week"]
_BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7)]
_ITEM = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>\d+))?$")


class _CronProblem(Exception):
    def __init__(self, level: Literal["error", "unsupported"], message: str) -> None:
        super().__init__(message)
        self.level = level


def quartz_to_unix_cron(expr: str, source: Source, *, dialect: Dialect = "robfig"
                        ) -> tuple[str | None, tuple[Issue, ...]]:
    """An Oozie (Quartz-flavoured, 5-field) cron as a Unix cron with day-of-week 0-6.

    ``dialect="croniter"`` (Airflow) keeps the Quartz forms croniter evaluates the same way: ``L`` as the day of
    the month, ``N#k`` and ``NL`` in the day of the week. Anything else that cannot be expressed gives None and
    an issue."""
    text = expr.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1].strip()
    fields = text.split()
    try:
        if len(fields) != 5:
            raise _CronProblem("error", f"cron {expr!r} must have 5 fields (minute hour day-of-month month "
                                        f"day-of-week), found {len(fields)}")
        minute, hour, dom, month, dow = fields
        converted = [_plain(minute, 0), _plain(hour, 1), _day_of_month(dom, dialect), _plain(month, 3),
                     _day_of_week(dow, dialect)]
        if converted[2] != "*" and converted[4] != "*":
            raise _CronProblem("error", f"cron {expr!r} restricts both day-of-month and day-of-week, which "
                                        "Oozie (Quartz) rejects")
    except _CronProblem as problem:
        target: Literal["", "airflow", "argo"] = ""
        if problem.level == "unsupported":
            target = "airflow" if dialect == "croniter" else "argo"
        where = {"airflow": " for Airflow", "argo": " for Argo", "": ""}[target]
        return None, (Issue(problem.level, f"{problem}{where}", source, _FREQUENCY, target),)
    return " ".join(converted), ()


def _plain(text: str, index: int) -> str:
    """minute, hour, month: Quartz and Unix agree except for '?'."""
    if text == "?":
        return "*"
    if re.search(r"[LW#]", text.upper()) and index != 3:
        raise _CronProblem("unsupported", f"{_FIELD_NAMES[index]} field {text!r} uses L/W/#")
    for item in text.split(","):
        if not _ITEM.match(item):
            raise _CronProblem("error", f"{_FIELD_NAMES[index]} field {text!r} is not valid cron")
        for value in re.findall(r"[A-Za-z0-9]+", item.split("/")[0]):
            _value(value, index)
    return text


def _value(text: str, index: int) -> int:
    names = _MONTH_NAMES if index == 3 else _DOW_NAMES if index == 4 else []
    if text.upper() in names:
        return names.index(text.upper()) + 1  # JAN = 1, SUN = 1 (Quartz)
    if not text.isdigit():
        raise _CronProblem("error", f"{_FIELD_NAMES[index]} value {text!r} is not valid")
    value = int(text)
    low, high = _BOUNDS[index]
    if not low <= value <= high:
        extra = " (Oozie day-of-week is 1-7 = SUN-SAT)" if index == 4 else ""
        raise _CronProblem("error", f"{_FIELD_NAMES[index]} value {value} is out of range {low}-{high}{extra}")
    return value


def _day_of_month(text: str, dialect: Dialect) -> str:
    if text == "?":
        return "*"
    if text.upper() == "L" and dialect == "croniter":
        return "L"  # croniter's L is the last day of the month, as in Quartz
    if re.search(r"[LW]", text.upper()):
        raise _CronProblem("unsupported", f"day-of-month {text!r} (last day / nearest weekday) cannot be expressed")
    return _plain(text, 2)


def _day_of_week(text: str, dialect: Dialect) -> str:
    if text in ("?", "*"):
        return "*"
    upper = text.upper()
    if dialect == "croniter":
        if match := re.fullmatch(r"([1-7]|[A-Z]{3})#([1-5])", upper):
            return f"{_dow_number(match.group(1)) - 1}#{match.group(2)}"
        if match := re.fullmatch(r"([1-7]|[A-Z]{3})L", upper):
            return f"L{_dow_number(match.group(1)) - 1}"
    if "#" in upper or "L" in upper:  # no day name contains L
        raise _CronProblem("unsupported", f"day-of-week {text!r} (nth / last weekday of the month) cannot be "
                                          "expressed")
    return ",".join(_dow_item(item, text) for item in text.split(","))


def _dow_number(text: str) -> int:
    return _value(text, 4)


def _dow_item(item: str, whole: str) -> str:
    match = _ITEM.match(item)
    if not match:
        raise _CronProblem("error", f"day-of-week field {whole!r} is not valid cron")
    part, step = match.group("range"), match.group("step")
    suffix = f"/{step}" if step else ""
    if part == "*":
        return item  # */n: Quartz 1,1+n,... shifted by -1 is Unix 0,n,...: the same text
    bounds = part.split("-")
    values = [_dow_number(bound) for bound in bounds]
    shifted = [_shift(bound) for bound in bounds]
    if len(values) == 2 and values[0] > values[1]:
        # a wrap-around range (FRI-MON): robfig rejects start > end, so list the days
        days = [*range(values[0], 8), *range(1, values[1] + 1)][::int(step or 1)]
        return ",".join(str(day - 1) for day in days)
    if len(values) == 1 and step:
        return f"{shifted[0]}-6{suffix}"  # Quartz N/s runs to 7 (SAT), Unix 6
    return "-".join(shifted) + suffix


def _shift(bound: str) -> str:
    return bound if bound.upper() in _DOW_NAMES else str(int(bound) - 1)


# ------------------------------------------------------------------------------------------ frequencies


def _parse_start(start: str) -> datetime:
    text = start.strip()
    text = text[:-1] + "+00:00" if text.endswith("Z") else re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def translate_frequency(freq: Frequency, timezone: str, start: str, source: Source) -> ScheduleTranslation:
    """The schedule for a coordinator ``frequency``, ``timezone`` and ``start`` (ISO 8601, e.g. 2026-01-01T00:00Z)."""
    try:
        zone = ZoneInfo(timezone)
        begin = _parse_start(start)
    except (ValueError, KeyError) as error:
        issue = Issue("error", f"cannot read coordinator timezone {timezone!r} / start {start!r}: {error}", source,
                      _FREQUENCY)
        return ScheduleTranslation(None, None, None, None, (issue,))
    builder = _Builder(freq, zone, timezone, begin.astimezone(zone), source)
    return builder.build()


@dataclass
class _Builder:
    freq: Frequency
    zone: ZoneInfo
    zone_name: str
    local_start: datetime
    source: Source
    issues: list[Issue] = field(default_factory=list)

    def issue(self, level: Literal["error", "unsupported", "approximated"], message: str,
              target: Literal["", "airflow", "argo"] = "") -> None:
        self.issues.append(Issue(level, message, self.source, _FREQUENCY, target))

    def result(self, airflow: str | None, argo: str | None, *, zone: str, delta: int | None = None,
               interval: int | None = None) -> ScheduleTranslation:
        calendar_entry: dict[str, str] | None = None
        if argo is not None:
            calendar_entry = {"schedule": argo, "timezone": zone}
        elif interval is not None:
            calendar_entry = {"interval": f"{interval}m", "timezone": zone}
        return ScheduleTranslation(airflow, delta, argo, calendar_entry, tuple(self.issues), zone)

    def build(self) -> ScheduleTranslation:
        unit, amount = self.freq.unit, self.freq.amount
        if unit == "cron":
            return self.cron()
        if amount <= 0:
            self.issue("error", f"frequency {self.freq.text or amount!r} must be a positive number")
            return self.result(None, None, zone="UTC")
        if unit == "minutes":
            return self.minutes(amount)
        if unit == "months":
            return self.months(amount, self.local_start.day, self.local_start.hour, self.local_start.minute)
        if unit == "end_of_months":
            return self.months(amount, 1, 0, 0)
        if unit == "end_of_weeks":
            if amount != 1:
                return self.unsupported_period(amount * 10080, f"coord:endOfWeeks({amount})")
            # Oozie's week starts on the server locale's first day: Sunday for en_US
            return self.same_cron("0 0 * * 0", self.zone_name)
        return self.end_of_days(amount)

    def same_cron(self, cron: str, zone: str) -> ScheduleTranslation:
        return self.result(cron, cron, zone=zone)

    def cron(self) -> ScheduleTranslation:
        airflow, airflow_issues = quartz_to_unix_cron(self.freq.cron, self.source, dialect="croniter")
        argo, argo_issues = quartz_to_unix_cron(self.freq.cron, self.source)
        self.issues.extend(airflow_issues)
        self.issues.extend(issue for issue in argo_issues if issue.level != "error" or not airflow_issues)
        if self.zone_name != "UTC" and (airflow or argo):
            self.issue("approximated", f"Oozie evaluates cron frequencies in the server's processing timezone "
                                       f"(UTC unless oozie.processing.timezone says otherwise), not in the "
                                       f"coordinator timezone {self.zone_name}; the schedule uses UTC")
        return self.result(airflow, argo, zone="UTC")

    def minutes(self, amount: int) -> ScheduleTranslation:
        calendar_days = "coord:days" in self.freq.text and amount % 1440 == 0
        if calendar_days:
            return self.days(amount // 1440)
        utc_start = self.local_start.astimezone(UTC)
        if amount < 60 and 60 % amount == 0:
            first = utc_start.minute % amount
            cron = f"*/{amount} * * * *" if first == 0 else f"{first}-59/{amount} * * * *"
            return self.same_cron(cron, "UTC")
        if amount % 60 == 0 and 1440 % amount == 0:
            hours = amount // 60
            first = utc_start.hour % hours
            hour = "*" if hours == 1 else str(first) if hours == 24 else f"*/{hours}" if first == 0 \
                else f"{first}-23/{hours}"
            return self.same_cron(f"{utc_start.minute} {hour} * * *", "UTC")
        if amount == 10080:
            return self.same_cron(f"{utc_start.minute} {utc_start.hour} * * {_unix_dow(utc_start)}", "UTC")
        return self.unsupported_period(amount, self.freq.text or f"{amount} minutes", exact_airflow=True)

    def days(self, days: int) -> ScheduleTranslation:
        start = self.local_start
        if days == 1:
            return self.same_cron(f"{start.minute} {start.hour} * * *", self.zone_name)
        if days == 7:
            return self.same_cron(f"{start.minute} {start.hour} * * {_unix_dow(start)}", self.zone_name)
        return self.unsupported_period(days * 1440, f"coord:days({days})", dst_aware=True)

    def end_of_days(self, days: int) -> ScheduleTranslation:
        if days == 1:
            return self.same_cron("0 0 * * *", self.zone_name)
        return self.unsupported_period(days * 1440, f"coord:endOfDays({days})", dst_aware=True)

    def months(self, months: int, day: int, hour: int, minute: int) -> ScheduleTranslation:
        if 12 % months:
            self.issue("unsupported", f"every {months} months cannot be expressed as a cron (12 is not a multiple "
                                      f"of {months}); Airflow and Argo get no schedule")
            return self.result(None, None, zone=self.zone_name)
        start_month = self.local_start.month
        month_field = "*" if months == 1 else ",".join(
            str(m) for m in range(1, 13) if (m - start_month) % months == 0)
        argo = f"{minute} {hour} {day} {month_field} *"
        airflow = argo
        if day > 28:
            shorter = [calendar.month_abbr[m] for m in range(1, 13) if calendar.monthrange(2025, m)[1] < day]
            if day == 31:
                airflow = f"{minute} {hour} L {month_field} *"  # Oozie clamps to the month's last day, as L does
                self.issue("approximated", f"Oozie runs on the last day of months shorter than {day} days "
                                           f"({', '.join(shorter)}); the Argo cron skips those months", "argo")
            else:
                self.issue("approximated", f"Oozie runs on the last day of months shorter than {day} days "
                                           f"({', '.join(shorter)}); the crons skip those months")
        return self.result(airflow, argo, zone=self.zone_name)

    def unsupported_period(self, minutes: int, what: str, *, exact_airflow: bool = False,
                           dst_aware: bool = False) -> ScheduleTranslation:
        """A period no cron expresses: a timedelta for Airflow, an unanchored interval for an Argo calendar."""
        if not exact_airflow and dst_aware and _has_dst(self.zone):
            self.issue("approximated", f"{what} steps in calendar days of {self.zone_name} (DST-aware); the Airflow "
                                       f"timedelta is a fixed {minutes} minutes", "airflow")
        self.issue("unsupported", f"{what} has no CronWorkflow schedule (a cron cannot express every {minutes} "
                                  "minutes from the start); the Argo Events calendar interval counts from when "
                                  "the EventSource starts, not from the coordinator start", "argo")
        return self.result(None, None, zone=self.zone_name, delta=minutes, interval=minutes)


def _unix_dow(moment: datetime) -> int:
    return (moment.weekday() + 1) % 7


def _has_dst(zone: ZoneInfo) -> bool:
    offsets = {datetime(2026, month, 1, tzinfo=zone).utcoffset() for month in (1, 7)}
    return len(offsets) > 1


# ------------------------------------------------------------------------------------------ controls


class CoordinatorControls(TypedDict):
    max_active_runs: int
    catchup: bool
    sensor_timeout_minutes: int | None  # for the dataset-wait sensors; None waits forever
    argo_concurrency_policy: str
    argo_starting_deadline_seconds: int | None
    issues: tuple[Issue, ...]


def coordinator_controls(controls: Controls, source: Source) -> CoordinatorControls:
    """Oozie ``<controls>`` as DAG / CronWorkflow settings. Oozie's timeout bounds the wait for input data, not
    the run, so it is not a ``dagrun_timeout``."""
    issues: list[Issue] = []

    def note(message: str, target: Literal["", "airflow", "argo"] = "") -> None:
        issues.append(Issue("approximated", message, source, _CONTROLS, target))

    concurrency = controls.concurrency if controls.concurrency is not None else 1
    if concurrency < 1:
        issues.append(Issue("error", f"concurrency must be at least 1, got {concurrency}", source, _CONTROLS))
        concurrency = 1
    if concurrency == 1:
        policy = "Forbid"
        note("concurrency 1: Oozie queues the next action until the running one ends; Argo's Forbid skips a "
             "scheduled run while one is running", "argo")
    else:
        policy = "Allow"
        note(f"concurrency {concurrency}: Argo CronWorkflows cannot cap concurrent runs above 1; they are allowed",
             "argo")
    execution = (controls.execution or "FIFO").upper()
    catchup, deadline = True, None
    if execution == "LIFO":
        note("execution LIFO: Airflow catches up oldest first (FIFO)", "airflow")
    elif execution in ("LAST_ONLY", "NONE"):
        catchup = False
        deadline = 60 if execution == "NONE" else None
        note(f"execution {execution}: translated as catchup=False (Airflow schedules only the latest missed run)"
             + ("; Argo skips runs more than 60 s late" if deadline else ""), "airflow")
    elif execution != "FIFO":
        issues.append(Issue("error", f"execution {controls.execution!r} is not FIFO, LIFO, LAST_ONLY or NONE",
                            source, _CONTROLS))
    if controls.throttle is not None:
        note(f"throttle {controls.throttle} (the number of materialized waiting actions) has no equivalent; "
             "not mapped")
    timeout = controls.timeout_minutes if controls.timeout_minutes is not None else DEFAULT_TIMEOUT_MINUTES
    return {
        "max_active_runs": concurrency,
        "catchup": catchup,
        "sensor_timeout_minutes": None if timeout < 0 else timeout,
        "argo_concurrency_policy": policy,
        "argo_starting_deadline_seconds": deadline,
        "issues": tuple(issues),
    }
