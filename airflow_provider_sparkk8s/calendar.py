"""Argo Events calendar EventSources: when they fire, and what event they send.

An Argo Events ``EventSource`` of type ``calendar`` maps event names to entries such as::

    schedule: "0 23 * * *"            # or  interval: 1h30m
    timezone: Europe/Amsterdam
    exclusionDates: ["EXDATE:20261224T000000Z,20261231T000000Z"]
    metadata: {team: data}

:class:`ArgoCalendar` reproduces Argo Events' own next-fire computation
(``pkg/eventsources/sources/calendar/start.go`` with robfig/cron v3.0.1), so that Airflow can run a DAG
at the same instants an Argo calendar would. The module is pure: standard library only, no I/O.

Semantics
---------
* ``schedule`` is parsed with robfig's parser restricted to ``Minute | Hour | Dom | Month | Dow``:
  exactly 5 fields; day-of-week 0-6 (0 = Sunday, ``7`` is rejected); ``*``, ``?`` (= ``*``), ``a-b``,
  ``a,b``, ``*/n``, ``a/n`` (= ``a-max/n``), ``a-b/n``; case-insensitive names ``jan``-``dec`` and
  ``sun``-``sat``; an optional ``CRON_TZ=<zone>`` or ``TZ=<zone>`` prefix. Rejected: seconds fields,
  descriptors (``@daily``, ``@every 1h``), ``L``, ``W``, ``#``.
* Day-of-month and day-of-week: if either field starts with ``*``/``?`` (step 1) both must match;
  if both are restricted, either may match (``0 0 13 * FRI``: every Friday and every 13th).
* Cron fields are read in the wall-clock time of the ``CRON_TZ=`` zone if given, else of ``timezone``,
  else UTC (Argo's process zone in its container). The next fire is the earliest instant strictly after
  the previous one whose wall-clock time matches, seconds = 0:
  a wall time skipped by a DST spring-forward gap does **not** fire that day, and a wall time repeated by
  a fall-back fires **twice** (once per UTC offset). A schedule that cannot match within 5 years
  (``0 0 30 2 *``) has no next fire (robfig gives up after 5 years).
* ``interval`` is a Go duration (``90m``, ``1h30m``, ``2.75h``); the next fire is the previous one
  floored to the second plus the interval, in absolute time (no DST effect). ``schedule`` wins when both
  are set. Intervals under one second are rejected (Argo Events would never advance).
* ``exclusionDates``: only entries starting with ``EXDATE:`` are read (others are ignored, as in Argo);
  each holds comma-separated ``YYYYMMDDTHHMMSSZ`` values (the ``Z`` is required). A fire is skipped when
  its date in ``timezone`` (else UTC) equals the EXDATE's **UTC** date; the time of day is ignored.
* The event payload is ``{"eventTime": <Go time.String()>, "metadata": {...}}``; ``eventTime`` is the
  scheduled instant in ``timezone`` (else UTC), e.g. ``2026-12-23 23:00:00 +0100 CET``, which is what
  Argo sends when it dispatches a due point. A live Argo dispatch instead carries the wall clock in UTC
  with a monotonic suffix (``... +0000 UTC m=+0.011255726``); :func:`parse_event_time` reads both.

Differences from Airflow's croniter-based ``CronTriggerTimetable``
------------------------------------------------------------------
croniter moves a wall time that falls in a DST gap to after the gap (``30 2 * * *`` in New York fires at
03:00 EDT on 2024-03-10); Argo skips it. croniter accepts ``7`` for Sunday, descriptors, ``L``/``W``/``#``
and a sixth (seconds) field; Argo rejects them. Airflow has no equivalent of ``exclusionDates``.

Known limit: in zones whose DST shift is 30/45 minutes or happens at local midnight (Australia/Lord_Howe,
Pacific/Chatham, America/Havana, ...) robfig has quirks (skipped days, non-monotonic fires) that this
module does not reproduce; there it returns the earliest matching instant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["ArgoCalendar", "CronSpec", "event_data", "live_event_time", "parse_event_time", "parse_go_duration"]

UTC = timezone.utc
_SECOND_NS = 1_000_000_000
# Larger than any UTC offset change between neighbouring wall times (DST shifts are at most 2 hours).
_SLACK = timedelta(hours=3)
_YEAR_LIMIT = 5  # robfig's SpecSchedule.Next gives up after this many years

_MONTH_NAMES = {name: i + 1 for i, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_DOW_NAMES = {name: i for i, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_MONTH_WORDS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December"]
_DOW_WORDS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


@dataclass(frozen=True)
class _Bounds:
    name: str
    low: int
    high: int
    names: Mapping[str, int] | None = None


_FIELDS = (
    _Bounds("minute", 0, 59),
    _Bounds("hour", 0, 23),
    _Bounds("day-of-month", 1, 31),
    _Bounds("month", 1, 12, _MONTH_NAMES),
    _Bounds("day-of-week", 0, 6, _DOW_NAMES),
)


# --------------------------------------------------------------------------------------------- cron


@dataclass(frozen=True)
class CronSpec:
    """A parsed robfig 5-field schedule (the sets of allowed values per field)."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    dom_star: bool
    dow_star: bool
    zone: tzinfo | None = None  # from a CRON_TZ=/TZ= prefix
    zone_name: str | None = None

    @classmethod
    def parse(cls, text: str) -> CronSpec:
        """Parse like robfig/cron v3.0.1 ``NewParser(Minute|Hour|Dom|Month|Dow).Parse``."""
        if not text:
            raise ValueError("schedule: empty spec string")
        spec, zone, zone_name = text, None, None
        if spec.startswith(("TZ=", "CRON_TZ=")):
            space = spec.find(" ")
            if space < 0:
                raise ValueError(f"schedule: {text!r} has a time zone prefix but no cron fields")
            zone_name = spec[spec.index("=") + 1:space]
            zone = _load_zone(zone_name, "schedule")
            spec = spec[space:].strip()
        if spec.startswith("@"):
            raise ValueError(f"schedule: parser does not accept descriptors: {spec} "
                             "(Argo Events only takes 5 cron fields)")
        fields = spec.split()
        if len(fields) != len(_FIELDS):
            raise ValueError(f"schedule: expected exactly 5 fields (minute hour day-of-month month day-of-week), "
                             f"found {len(fields)}: {fields}")
        parsed = [_parse_field(value, bounds) for value, bounds in zip(fields, _FIELDS, strict=True)]
        (minutes, _), (hours, _), (days, dom_star), (months, _), (weekdays, dow_star) = parsed
        return cls(text=text, minutes=tuple(sorted(minutes)), hours=tuple(sorted(hours)), days=frozenset(days),
                   months=frozenset(months), weekdays=frozenset(weekdays), dom_star=dom_star, dow_star=dow_star,
                   zone=zone, zone_name=zone_name)

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.weekday() + 1) % 7 in self.weekdays
        if self.dom_star or self.dow_star:
            return dom and dow
        return dom or dow

    def matches(self, wall: datetime) -> bool:
        """Whether a naive wall-clock time matches every field (seconds must be 0)."""
        return (wall.second == 0 and wall.microsecond == 0 and wall.minute in self.minutes
                and wall.hour in self.hours and self.day_matches(wall.date()))

    def next_after(self, after: datetime, zone: tzinfo) -> datetime | None:
        """The earliest instant (UTC) strictly after ``after`` whose wall time in the zone matches."""
        zone = self.zone or zone
        start = (_floor_second(after) + timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None)
        year_limit = start.year + _YEAR_LIMIT
        best: datetime | None = None
        best_wall = start
        for wall in self._walls_from(start - _SLACK):
            if wall.year > year_limit or (best is not None and wall > best_wall + _SLACK):
                break
            for instant in _instants(wall, zone):
                if instant > after and (best is None or instant < best):
                    best, best_wall = instant, wall
        return best

    def _walls_from(self, lower: datetime) -> Iterator[datetime]:
        """Matching naive wall times >= lower, in ascending order."""
        day = lower.date()
        while True:
            if self.day_matches(day):
                for hour in self.hours:
                    if datetime(day.year, day.month, day.day, hour, 59) < lower:
                        continue
                    for minute in self.minutes:
                        wall = datetime(day.year, day.month, day.day, hour, minute)
                        if wall >= lower:
                            yield wall
            if day == date.max:
                return
            day += timedelta(days=1)
            if day.year > lower.year + _YEAR_LIMIT + 1:
                return


def _parse_field(text: str, bounds: _Bounds) -> tuple[set[int], bool]:
    """A comma list of ranges -> (allowed values, whether robfig's 'star bit' is set)."""
    values: set[int] = set()
    star = False
    for expr in (part for part in text.split(",") if part):
        part_values, part_star = _parse_range(expr, bounds)
        values |= part_values
        star = star or part_star
    return values, star


def _parse_range(expr: str, bounds: _Bounds) -> tuple[set[int], bool]:
    where = f"schedule: {bounds.name} field {expr!r}"
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    star = low_and_high[0] in ("*", "?")
    if star:
        start, end = bounds.low, bounds.high
    else:
        start = _parse_int_or_name(low_and_high[0], bounds, where)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _parse_int_or_name(low_and_high[1], bounds, where)
        else:
            raise ValueError(f"{where}: too many hyphens")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _parse_int(range_and_step[1], where)
        if len(low_and_high) == 1:  # "N/step" means "N-max/step"
            end = bounds.high
        star = star and step <= 1
    else:
        raise ValueError(f"{where}: too many slashes")
    if start < bounds.low:
        raise ValueError(f"{where}: beginning of range ({start}) below minimum ({bounds.low})")
    if end > bounds.high:
        hint = " (Sunday is 0)" if bounds.name == "day-of-week" and end == 7 else ""
        raise ValueError(f"{where}: end of range ({end}) above maximum ({bounds.high}){hint}")
    if start > end:
        raise ValueError(f"{where}: beginning of range ({start}) beyond end of range ({end})")
    if step == 0:
        raise ValueError(f"{where}: step of range should be a positive number")
    return set(range(start, end + 1, step)), star


def _parse_int_or_name(text: str, bounds: _Bounds, where: str) -> int:
    if bounds.names and text.lower() in bounds.names:
        return bounds.names[text.lower()]
    return _parse_int(text, where)


def _parse_int(text: str, where: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        hint = " (L, W and # are not supported)" if re.search(r"[LW#]", text, re.IGNORECASE) else ""
        raise ValueError(f"{where}: failed to parse int from {text!r}{hint}")
    number = int(text)
    if number < 0:
        raise ValueError(f"{where}: negative number ({number}) not allowed")
    return number


def _instants(wall: datetime, zone: tzinfo) -> list[datetime]:
    """The UTC instants showing this wall time: none in a DST gap, two in a fall-back overlap."""
    found: list[datetime] = []
    for fold in (0, 1):
        instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall and instant not in found:
            found.append(instant)
    return found


def _floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


# ------------------------------------------------------------------------------------ durations

_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": _SECOND_NS,
                   "m": 60 * _SECOND_NS, "h": 3600 * _SECOND_NS}
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def parse_go_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` -> nanoseconds (``90m``, ``1h30m``, ``2.75h``, ``-1.5s``, ``0``)."""
    def invalid(reason: str) -> ValueError:
        return ValueError(f"invalid Go duration {text!r}: {reason} (examples: 90m, 1h30m, 2.75h; "
                          "units ns, us, ms, s, m, h)")

    rest, sign = text, 1
    if rest[:1] in ("+", "-"):
        sign, rest = (-1 if rest[0] == "-" else 1), rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid("empty")
    total = 0
    while rest:
        match = _DURATION_PART.match(rest)
        if match is None or not (match.group(1) or match.group(2)):
            raise invalid("expected a number")
        whole, fraction, unit = match.group(1), match.group(2), match.group(3)
        if not unit:
            raise invalid("missing unit")
        if unit not in _DURATION_UNITS:
            raise invalid(f"unknown unit {unit!r}")
        scale = _DURATION_UNITS[unit]
        total += int(whole or "0") * scale
        if fraction:
            total += int(float(int(fraction)) * (scale / 10 ** len(fraction)))
        if total > 2**63 - 1:
            raise invalid("out of range")
        rest = rest[match.end():]
    return sign * total


def _format_duration(nanoseconds: int) -> str:
    """Short form: 5400 s -> '1h30m', 9900 s -> '2h45m', 1.5 s -> '1.5s'."""
    seconds, rest_ns = divmod(nanoseconds, _SECOND_NS)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    if rest_ns:
        text += f"{seconds}.{rest_ns:09d}".rstrip("0") + "s"
    elif seconds or not text:
        text += f"{seconds}s"
    return text


# --------------------------------------------------------------------------------- exclusions

_EXDATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:[.,]\d+)?Z")


def _parse_exclusions(entries: object) -> tuple[date, ...]:
    """``EXDATE:`` entries -> their UTC dates; other entries are ignored (as Argo Events does)."""
    if entries is None:
        return ()
    if not isinstance(entries, list | tuple) or not all(isinstance(entry, str) for entry in entries):
        raise ValueError("exclusionDates: must be a list of strings like 'EXDATE:20261224T000000Z'")
    dates: list[date] = []
    for entry in entries:
        if not entry.startswith("EXDATE:"):
            continue
        for value in entry[len("EXDATE:"):].split(","):
            dates.append(_parse_exdate(value))
    return tuple(sorted(set(dates)))


def _parse_exdate(value: str) -> date:
    match = _EXDATE.fullmatch(value)
    if not match:
        hint = " (the trailing Z is required)" if re.fullmatch(r"\d{8}T\d{6}", value) else ""
        raise ValueError(f"exclusionDates: cannot parse {value!r} as YYYYMMDDTHHMMSSZ "
                         f"(e.g. EXDATE:20261224T000000Z){hint}")
    try:
        year, month, day, hour, minute, second = (int(group) for group in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC).date()
    except ValueError as error:
        raise ValueError(f"exclusionDates: {value!r} is not a valid date-time: {error}") from None


# ------------------------------------------------------------------------------------- zones


def _load_zone(name: str, field_name: str) -> tzinfo:
    """Go's time.LoadLocation: '' and 'UTC' are UTC; 'Local' is the Argo pod's zone, UTC in its image."""
    if name in ("", "UTC", "Local"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{field_name}: unknown time zone {name!r} (use an IANA name such as "
                         "'Europe/Amsterdam')") from None


# ----------------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class ArgoCalendar:
    """One entry of an Argo Events calendar EventSource (``spec.calendar.<name>``)."""

    schedule: CronSpec | None
    interval_ns: int | None
    timezone_name: str
    exclusion_dates: tuple[date, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)

    # -- construction

    @classmethod
    def from_spec(cls, spec: Mapping[str, object]) -> ArgoCalendar:
        """Build from a calendar entry as written in an EventSource; unknown keys are ignored."""
        if not isinstance(spec, Mapping):
            raise ValueError(f"calendar spec must be a mapping, got {type(spec).__name__}")
        schedule = _string_field(spec, "schedule")
        interval = _string_field(spec, "interval")
        timezone_name = _string_field(spec, "timezone")
        _load_zone(timezone_name, "timezone")
        cron, interval_ns = None, None
        if schedule:
            cron = CronSpec.parse(schedule)
        elif interval:
            interval_ns = _parse_interval(interval)
        else:
            raise ValueError("calendar event must contain either a schedule or interval")
        return cls(schedule=cron, interval_ns=interval_ns, timezone_name=timezone_name,
                   exclusion_dates=_parse_exclusions(spec.get("exclusionDates")),
                   metadata=_parse_metadata(spec.get("metadata")))

    @classmethod
    def from_event_source(cls, manifest: Mapping[str, object], name: str) -> ArgoCalendar:
        """Build from a whole EventSource manifest: its ``spec.calendar[name]``."""
        kind = manifest.get("kind") if isinstance(manifest, Mapping) else None
        if kind not in (None, "EventSource"):
            raise ValueError(f"expected an EventSource manifest, got kind {kind!r}")
        spec = manifest.get("spec") if isinstance(manifest, Mapping) else None
        calendars = spec.get("calendar") if isinstance(spec, Mapping) else None
        if not isinstance(calendars, Mapping) or not calendars:
            raise ValueError("EventSource has no spec.calendar entries")
        if name not in calendars:
            raise ValueError(f"EventSource has no calendar event {name!r}; it has: {', '.join(sorted(calendars))}")
        try:
            return cls.from_spec(calendars[name])
        except ValueError as error:
            raise ValueError(f"spec.calendar.{name}: {error}") from None

    # -- queries

    @property
    def zone(self) -> tzinfo:
        """The zone of Argo's clock for this event: ``timezone``, else UTC."""
        return _load_zone(self.timezone_name, "timezone")

    @property
    def interval(self) -> timedelta | None:
        return None if self.interval_ns is None else timedelta(microseconds=self.interval_ns // 1000)

    def next_fire_after(self, previous: datetime) -> datetime | None:
        """The next fire (aware, UTC) when the previous fire was ``previous``; None if there is none."""
        if previous.tzinfo is None or previous.utcoffset() is None:
            raise ValueError("next_fire_after needs a timezone-aware datetime")
        candidate = self._step(previous.astimezone(UTC))
        while candidate is not None and self.is_excluded(candidate):
            candidate = self._skip_excluded_day(candidate)
        return candidate

    def iter_fires(self, after: datetime, until: datetime | None = None) -> Iterator[datetime]:
        """Successive fires after ``after`` (up to and including ``until`` if given)."""
        current = self.next_fire_after(after)
        while current is not None and (until is None or current <= until):
            yield current
            current = self.next_fire_after(current)

    def is_excluded(self, moment: datetime) -> bool:
        """Whether a fire at this instant is suppressed: its local date is an EXDATE's UTC date."""
        return bool(self.exclusion_dates) and moment.astimezone(self.zone).date() in self.exclusion_dates

    def event_payload(self, fire_time: datetime) -> dict[str, object]:
        """The event data Argo Events sends when it dispatches a point that is already due (catch-up):
        ``eventTime`` is the scheduled instant in ``timezone``."""
        if fire_time.tzinfo is None or fire_time.utcoffset() is None:
            raise ValueError("event_payload needs a timezone-aware datetime")
        return event_data(go_time_string(fire_time.astimezone(self.zone)), self.metadata)

    def describe(self) -> str:
        """A short human summary, e.g. 'at 23:00 every day (Europe/Amsterdam), except 2026-12-24'."""
        if self.schedule is not None:
            zone = self.schedule.zone_name or self.timezone_name or "UTC"
            text = f"{_describe_cron(self.schedule)} ({zone})"
        else:
            text = f"every {_format_duration(self.interval_ns or 0)}"
        if self.exclusion_dates:
            text += ", except " + ", ".join(day.isoformat() for day in self.exclusion_dates)
        return text

    # -- internals

    def _step(self, previous: datetime) -> datetime | None:
        if self.schedule is not None:
            return self.schedule.next_after(previous, self.zone)
        return _floor_second(previous) + timedelta(microseconds=(self.interval_ns or 0) // 1000)

    def _skip_excluded_day(self, excluded: datetime) -> datetime | None:
        """Argo's ``next(nextT)`` recursion; for intervals, jumps whole ticks over the excluded day."""
        if self.schedule is not None:
            return self._step(excluded)
        following = self._step(excluded)
        zone = self.zone
        day_after = excluded.astimezone(zone).date() + timedelta(days=1)
        next_midnight = datetime(day_after.year, day_after.month, day_after.day, tzinfo=zone).astimezone(UTC)
        if following is None or following >= next_midnight:
            return following
        # After the first tick every step adds the interval's whole seconds (the fraction is floored away).
        stride = timedelta(seconds=(self.interval_ns or 0) // _SECOND_NS)
        steps = -(-(next_midnight - following) // stride)
        return following + steps * stride


def _string_field(spec: Mapping[str, object], key: str) -> str:
    value = spec.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key}: must be a string, got {type(value).__name__} {value!r}")
    return value


def _parse_interval(text: str) -> int:
    try:
        nanoseconds = parse_go_duration(text)
    except ValueError as error:
        raise ValueError(f"interval: {error}") from None
    if nanoseconds < _SECOND_NS:
        raise ValueError(f"interval: {text!r} is shorter than one second; Argo Events floors the previous fire "
                         "to the second before adding it and would never advance")
    return nanoseconds


def _parse_metadata(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
            isinstance(key, str) and isinstance(item, str) for key, item in value.items()):
        raise ValueError(f"metadata: must map strings to strings (quote numbers and booleans), got {value!r}")
    return dict(value)


# -------------------------------------------------------------------------------- Go time text


def go_time_string(moment: datetime) -> str:
    """Go's ``time.Time.String()`` without a monotonic reading: ``2006-01-02 15:04:05.999999999 -0700 MST``."""
    fraction = f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else ""
    offset_seconds = int((moment.utcoffset() or timedelta()).total_seconds())
    sign = "-" if offset_seconds < 0 else "+"
    offset_minutes = abs(offset_seconds) // 60
    offset = f"{sign}{offset_minutes // 60:02d}{offset_minutes % 60:02d}"
    abbreviation = moment.tzname() or offset
    return f"{moment:%Y-%m-%d %H:%M:%S}{fraction} {offset} {abbreviation}"


def live_event_time(fired_at: datetime, uptime_seconds: float) -> str:
    """``eventTime`` of a live dispatch: the wall clock when the timer fired, in UTC (the EventSource
    container's zone), with Go's monotonic-clock suffix (seconds since the process started)."""
    return f"{go_time_string(fired_at.astimezone(UTC))} m=+{max(uptime_seconds, 0.0):.9f}"


def event_data(event_time: str, metadata: Mapping[str, str]) -> dict[str, object]:
    """Argo Events' ``CalendarEventData``: ``{"eventTime": ..., "metadata": {...}}`` (metadata omitted when empty)."""
    payload: dict[str, object] = {"eventTime": event_time}
    if metadata:
        payload["metadata"] = dict(sorted(metadata.items()))
    return payload


_GO_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,9}))?"
    r" (?P<sign>[+-])(?P<hours>\d{2})(?P<minutes>\d{2})(?: (?P<abbreviation>[^\s]+))?"
    r"(?: m=[+-]\d+(?:\.\d+)?)?")


def parse_event_time(text: str) -> datetime:
    """Parse an Argo Events ``eventTime`` (Go ``time.String()``), e.g. ``2024-03-08 09:00:00 -0500 EST`` or
    ``2026-11-25 22:04:55.921929862 +0000 UTC m=+0.011255726``. Nanoseconds are truncated to microseconds;
    the result carries the numeric offset (named with the zone abbreviation)."""
    match = _GO_TIME.fullmatch(text.strip())
    if not match:
        raise ValueError(f"eventTime: cannot parse {text!r} as Go time.String() "
                         "('2006-01-02 15:04:05.999999999 -0700 MST')")
    offset = timedelta(hours=int(match["hours"]), minutes=int(match["minutes"]))
    if match["sign"] == "-":
        offset = -offset
    try:
        zone = timezone(offset, match["abbreviation"]) if match["abbreviation"] else timezone(offset)
        naive = datetime.fromisoformat(f"{match['date']}T{match['time']}")
    except ValueError as error:
        raise ValueError(f"eventTime: {text!r} is not a valid time: {error}") from None
    microseconds = int((match["fraction"] or "0").ljust(9, "0")[:6])
    return naive.replace(microsecond=microseconds, tzinfo=zone)


# ------------------------------------------------------------------------------------ describe


def _describe_cron(cron: CronSpec) -> str:
    return f"{_describe_time(cron)} {_describe_days(cron)}"


def _describe_time(cron: CronSpec) -> str:
    minutes, hours = cron.minutes, cron.hours
    all_minutes, all_hours = len(minutes) == 60, len(hours) == 24
    if all_minutes and all_hours:
        return "every minute"
    if len(minutes) == 1 and len(hours) <= 4:
        times = [f"{hour:02d}:{minutes[0]:02d}" for hour in hours]
        return "at " + _join(times)
    if len(minutes) == 1 and all_hours:
        return f"at minute {minutes[0]} of every hour"
    minute_text = "every minute" if all_minutes else f"at minute {_compress(minutes)}"
    hour_text = "of every hour" if all_hours else f"of hour {_compress(hours)}"
    return f"{minute_text} {hour_text}"


def _describe_days(cron: CronSpec) -> str:
    all_days = cron.dom_star or len(cron.days) == 31
    all_weekdays = cron.dow_star or len(cron.weekdays) == 7
    dom_text = f"on day {_compress(sorted(cron.days))} of the month"
    dow_text = "on " + _compress(sorted(cron.weekdays), _DOW_WORDS)
    if cron.dom_star and cron.dow_star or all_days and all_weekdays:
        text = "every day"
    elif cron.dom_star or cron.dow_star:
        text = dow_text if cron.dom_star else dom_text
    else:
        text = f"{dom_text} or {dow_text}"
    if len(cron.months) < 12:
        text += " in " + _compress(sorted(cron.months), [""] + _MONTH_WORDS)
    return text


def _compress(values: list[int] | tuple[int, ...], words: list[str] | None = None) -> str:
    """[1, 2, 3, 5] -> '1-3, 5' (or names)."""
    def show(value: int) -> str:
        return words[value] if words else str(value)

    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    parts = [show(run[0]) if len(run) == 1 else
             f"{show(run[0])}, {show(run[1])}" if len(run) == 2 else f"{show(run[0])}-{show(run[-1])}"
             for run in runs]
    return _join(parts)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
