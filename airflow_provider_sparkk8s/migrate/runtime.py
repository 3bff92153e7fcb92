"""Run-time helpers for DAGs migrated from Oozie: the ``oozie`` Jinja macro namespace.

Generated DAG files import this module and pass ``user_defined_macros=MACROS``; templated fields then call
``{{ oozie.format_time(oozie.nominal_time(logical_date), 'yyyyMMdd') }}`` and the like. Standard library only,
imported by every migrated DAG file at parse time, so it stays cheap.

Values follow Oozie EL: times travel as strings in Oozie's format (``yyyy-MM-dd'T'HH:mm'Z'``, UTC), ``null``
renders as the empty string and booleans as ``true``/``false``.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote_plus
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

UTC = timezone.utc  # datetime.UTC is Python 3.11+

__all__ = ["MACROS", "OOZIE_MACROS", "java_pattern_tokens", "parse_capture_output"]

CAPTURE_OUTPUT_MAX_BYTES = 2048  # Oozie's oozie.action.max.output.data default
_OOZIE_TIME = "%Y-%m-%dT%H:%MZ"

# ------------------------------------------------------------------------------------------ EL coercions


def num(value: Any) -> int | float:
    """EL's coercion to a number: null and "" are 0; a string with '.', 'e' or 'E' is a double."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"EL cannot coerce boolean {value} to a number")
    if isinstance(value, int | float):
        return value
    text = str(value).strip()
    return float(text) if any(char in text for char in ".eE") else int(text)


def to_bool(value: Any) -> bool:
    """EL's coercion to boolean: only the string "true" (any case) is true; null and "" are false."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).lower() == "true"


def to_str(value: Any) -> str:
    """EL's coercion to string: null is "", booleans are lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def empty(value: Any) -> bool:
    """EL ``empty``: null, "" and empty collections."""
    return value is None or (isinstance(value, str | Mapping | list | tuple) and len(value) == 0)


# ------------------------------------------------------------------------------------------ basic EL functions


def concat(first: Any, second: Any) -> str:
    return to_str(first) + to_str(second)


def trim(value: Any) -> str:
    return to_str(value).strip()


def first_not_null(first: Any, second: Any) -> Any:
    return first if first is not None else second


def replace_all(source: Any, regex: str, replacement: Any) -> str | None:
    """Java ``String.replaceAll``: the regex runs with Python ``re`` (same syntax for common patterns) and
    Java's ``$1`` group references become Python's."""
    if source is None:
        return None
    python_replacement = re.sub(r"\\(.)|\$(\d+)", _java_group_ref, to_str(replacement))
    return re.sub(regex, python_replacement, to_str(source))


def _java_group_ref(match: re.Match[str]) -> str:
    if match.group(1) is not None:  # \$ and \\ are literal in a Java replacement
        return match.group(1).replace("\\", "\\\\")
    return f"\\g<{match.group(2)}>"


def append_all(source: Any, append: Any, delimiter: str) -> str | None:
    """Oozie ``appendAll``: append ``append`` to every ``delimiter``-separated element of ``source``."""
    if source is None:
        return None
    return delimiter.join(part + to_str(append) for part in to_str(source).split(delimiter))


def url_encode(value: Any) -> str:
    """Java ``URLEncoder.encode(value, "UTF-8")``: space is '+', '*' is kept, '~' is encoded."""
    return quote_plus(to_str(value), safe="*").replace("~", "%7E")


def timestamp() -> str:
    """Oozie ``timestamp()``: now in UTC, ``yyyy-MM-ddTHH:mm:ss.SSSZ``."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def to_json_str(value: Any) -> str:
    return json.dumps(value if value is not None else {}, separators=(",", ":"))


def to_properties_str(value: Mapping[str, Any] | None) -> str:
    """A map as Java properties text (``key=value`` lines, '=' ':' and '\\' escaped)."""
    def esc(text: Any) -> str:
        return re.sub(r"([\\=:#!])", r"\\\1", to_str(text)).replace("\n", "\\n")

    return "".join(f"{esc(key)}={esc(val)}\n" for key, val in (value or {}).items())


def to_configuration_str(value: Mapping[str, Any] | None) -> str:
    """A map as a Hadoop configuration XML document."""
    properties = "".join(f"<property><name>{escape(to_str(key))}</name><value>{escape(to_str(val))}</value></property>"
                         for key, val in (value or {}).items())
    return f"<configuration>{properties}</configuration>"


def parse_capture_output(text: str | bytes) -> dict[str, str]:
    """The output of a ``capture-output`` action (Java properties text, at most 2 KB like Oozie) as a dict."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if len(text.encode("utf-8")) > CAPTURE_OUTPUT_MAX_BYTES:
        raise ValueError(f"capture-output is {len(text.encode('utf-8'))} bytes; Oozie accepts at most "
                         f"{CAPTURE_OUTPUT_MAX_BYTES} (oozie.action.max.output.data)")
    result: dict[str, str] = {}
    for line in _logical_lines(text):
        key, value = _split_property(line)
        result[key] = value
    return result


def _logical_lines(text: str) -> Iterable[str]:
    """Java properties lines: comments and blanks dropped, backslash continuations joined."""
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip()
        if not pending and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            pending += line[:-1]
            continue
        yield pending + line
        pending = ""
    if pending:
        yield pending


def _split_property(line: str) -> tuple[str, str]:
    index, key_chars = 0, []
    while index < len(line) and line[index] not in "=: \t\f":
        if line[index] == "\\" and index + 1 < len(line):
            index += 1
        key_chars.append(line[index])
        index += 1
    rest = line[index:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return "".join(key_chars), _unescape(rest)


def _unescape(text: str) -> str:
    escapes = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}

    def repl(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        return escapes.get(match.group(2), match.group(2))

    return re.sub(r"\\(?:u([0-9a-fA-F]{4})|(.))", repl, text)


# ------------------------------------------------------------------------------------------ time functions


def parse_time(value: Any) -> datetime:
    """An aware UTC datetime from a datetime (naive = UTC) or an Oozie/ISO 8601 time string."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    text = to_str(value).strip()
    if not text:
        raise ValueError("empty time value")
    text = text[:-1] + "+00:00" if text.endswith("Z") else text
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)  # +0530 -> +05:30
    parsed = datetime.fromisoformat(text)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def oozie_time(value: Any) -> str:
    """A time in Oozie's format, ``yyyy-MM-dd'T'HH:mm'Z'`` in UTC."""
    return parse_time(value).strftime(_OOZIE_TIME)


def nominal_time(logical_date: Any) -> str:
    """``coord:nominalTime()``: the run's logical date in Oozie's format."""
    return oozie_time(logical_date)


_UNIT_MINUTES = {"MINUTE": 1, "HOUR": 60, "DAY": 1440, "WEEK": 10080}


def date_offset(base: Any, offset: Any, unit: str) -> str:
    """``coord:dateOffset(base, n, unit)``: MINUTE, HOUR, DAY, WEEK (fixed lengths in UTC), MONTH, YEAR."""
    moment, amount, unit = parse_time(base), int(num(offset)), unit.upper()
    if unit in _UNIT_MINUTES:
        return oozie_time(moment + timedelta(minutes=amount * _UNIT_MINUTES[unit]))
    if unit in ("MONTH", "YEAR"):
        return oozie_time(add_months(moment, amount * (12 if unit == "YEAR" else 1)))
    raise ValueError(f"coord:dateOffset: unknown unit {unit!r} (MINUTE, HOUR, DAY, WEEK, MONTH, YEAR)")


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar month arithmetic, clamping the day like java.util.Calendar (Jan 31 + 1 month = Feb 28/29)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def date_tz_offset(base: Any, timezone: str) -> str:
    """``coord:dateTzOffset(base, tz)``: the base time shifted by the zone's UTC offset at that instant."""
    moment = parse_time(base)
    offset = moment.astimezone(ZoneInfo(timezone)).utcoffset() or timedelta(0)
    return oozie_time(moment + offset)


def epoch_time(base: Any, millis: Any = False) -> str:
    """``coord:epochTime(ts, millis)``: seconds (or milliseconds) since the epoch, as a string."""
    seconds = parse_time(base).timestamp()
    return str(int(seconds * 1000) if to_bool(millis) else int(seconds))


def dataset_instance(nominal: Any, n: Any, initial_instance: str, amount: int, unit: str, timezone: str) -> str:
    """``coord:current(n)``: the dataset instance at or before the nominal time, moved by n dataset periods.

    Instances are ``initial_instance + k * frequency``; ``unit`` is "minutes" (day multiples step in calendar
    days of the dataset's zone, like Oozie's DST-aware coord:days) or "months"."""
    zone = ZoneInfo(timezone)
    at = parse_time(nominal)
    initial = parse_time(initial_instance)
    k = _periods_before(initial, at, amount, unit, zone)
    return oozie_time(_instance(initial, k + int(num(n)), amount, unit, zone))


def _instance(initial: datetime, k: int, amount: int, unit: str, zone: tzinfo) -> datetime:
    if unit == "months":
        return add_months(initial.astimezone(zone), k * amount).astimezone(UTC)
    if amount % 1440 == 0:  # whole days: keep the wall-clock time across DST changes
        wall = initial.astimezone(zone).replace(tzinfo=None) + timedelta(days=k * amount // 1440)
        return wall.replace(tzinfo=zone).astimezone(UTC)
    return initial + timedelta(minutes=k * amount)


def _periods_before(initial: datetime, at: datetime, amount: int, unit: str, zone: tzinfo) -> int:
    """The largest k with instance(k) <= at (an estimate corrected by stepping)."""
    if unit == "months":
        k = ((at.year - initial.year) * 12 + at.month - initial.month) // amount
    else:
        k = int((at - initial).total_seconds() // (amount * 60))
    while _instance(initial, k, amount, unit, zone) > at:
        k -= 1
    while _instance(initial, k + 1, amount, unit, zone) <= at:
        k += 1
    return k


# ------------------------------------------------------------------------------------------ Java date patterns

_JAVA_LETTERS = "GyYMLwWDdFEuaHkKhmsSzZX"


def java_pattern_tokens(pattern: str) -> list[tuple[str, str]]:
    """Split a java.text.SimpleDateFormat pattern into ("field", "yyyy") and ("literal", text) tokens."""
    tokens: list[tuple[str, str]] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            text, index = _quoted(pattern, index)
            tokens.append(("literal", text))
        elif char.isascii() and char.isalpha():
            if char not in _JAVA_LETTERS:
                raise ValueError(f"illegal pattern character {char!r} in date pattern {pattern!r}")
            end = index
            while end < len(pattern) and pattern[end] == char:
                end += 1
            tokens.append(("field", pattern[index:end]))
            index = end
        else:
            tokens.append(("literal", char))
            index += 1
    return tokens


def _quoted(pattern: str, index: int) -> tuple[str, int]:
    """The text of a quote starting at ``index`` ('' is a literal quote) and the index after it."""
    if pattern[index + 1:index + 2] == "'":
        return "'", index + 2
    text: list[str] = []
    position = index + 1
    while position < len(pattern):
        if pattern[position] == "'":
            if pattern[position + 1:position + 2] != "'":
                return "".join(text), position + 1
            position += 1
        text.append(pattern[position])
        position += 1
    raise ValueError(f"unterminated quote in date pattern {pattern!r}")


_MONTHS = [calendar.month_name[i] for i in range(1, 13)]
_DAYS = list(calendar.day_name)  # Monday first, as date.weekday()


def _format_field(token: str, moment: datetime) -> str:
    letter, width = token[0], len(token)
    if letter == "y" or letter == "Y":
        return f"{moment.year % 100:02d}" if width == 2 else f"{moment.year:0{width}d}"
    if letter in "ML":
        if width >= 4:
            return _MONTHS[moment.month - 1]
        return _MONTHS[moment.month - 1][:3] if width == 3 else f"{moment.month:0{width}d}"
    if letter == "E":
        name = _DAYS[moment.weekday()]
        return name if width >= 4 else name[:3]
    numbers = {"d": moment.day, "H": moment.hour, "m": moment.minute, "s": moment.second,
               "h": moment.hour % 12 or 12, "K": moment.hour % 12, "k": moment.hour or 24,
               "D": moment.timetuple().tm_yday, "u": moment.isoweekday(), "S": moment.microsecond // 1000,
               "F": (moment.day - 1) // 7 + 1, "w": moment.isocalendar()[1]}
    if letter in numbers:
        return f"{numbers[letter]:0{width}d}"
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter == "z":
        return "UTC" if width < 4 else "Coordinated Universal Time"
    if letter == "Z":
        return "+0000"
    if letter == "X":
        return "Z"
    if letter == "G":
        return "AD"
    raise ValueError(f"date pattern letter {letter!r} is not supported")


def format_time(value: Any, pattern: str) -> str:
    """``coord:formatTime(ts, pattern)``: the time in UTC formatted with a Java SimpleDateFormat pattern."""
    moment = parse_time(value)
    return "".join(text if kind == "literal" else _format_field(text, moment)
                   for kind, text in java_pattern_tokens(pattern))


# ------------------------------------------------------------------------------------------ workflow state


def _task_states(dag_run: Any, ti: Any) -> list[tuple[str, str, Any]]:
    """(task_id, state, end_date or None) of the run's task instances.

    Works with a metadata-DB DagRun (``get_task_instances()``) and, inside an Airflow 3 task, through the
    running task instance's ``get_task_states`` (the Task SDK's supported way; it returns no end dates)."""
    if hasattr(dag_run, "get_task_instances"):
        return [(t.task_id, str(t.state or ""), getattr(t, "end_date", None)) for t in dag_run.get_task_instances()]
    if ti is None:
        raise ValueError("oozie workflow-state macros need the task instance: pass `ti`")
    states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
    return [(task_id, str(state or ""), None) for task_id, state in states.items()]


def _dag_order(ti: Any) -> list[str]:
    dag = getattr(getattr(ti, "task", None), "dag", None)
    return list(getattr(dag, "task_ids", None) or [])


def last_error_node(dag_run: Any, ti: Any = None) -> str:
    """``wf:lastErrorNode()``: the task id of the failed task that ended last ("" when none failed).

    Without end dates (Airflow 3 tasks), the failed task defined last in the DAG is taken: migrated DAGs define
    tasks in the workflow's order, so this is the most downstream failure."""
    failed = [(task_id, end) for task_id, state, end in _task_states(dag_run, ti) if state == "failed"]
    if not failed:
        return ""
    if all(end is not None for _, end in failed):
        return max(failed, key=lambda item: item[1])[0]
    order = {task_id: index for index, task_id in enumerate(_dag_order(ti))}
    return max(failed, key=lambda item: order.get(item[0], -1))[0]


def task_state(dag_run: Any, task_id: str, ti: Any = None) -> str:
    """The Airflow state of a task in this run, upper case like Oozie's external statuses ("" if unknown)."""
    for current, state, _ in _task_states(dag_run, ti):
        if current == task_id:
            return state.upper()
    return ""


def error_code(dag_run: Any, task_id: str, ti: Any = None) -> str:
    """``wf:errorCode(node)``: Airflow keeps no error codes; "FAILED" for a failed task, else ""."""
    return "FAILED" if task_state(dag_run, task_id, ti) == "FAILED" else ""


def error_message(dag_run: Any, task_id: str, ti: Any = None) -> str:
    """``wf:errorMessage(node)``: Airflow does not store a task's exception, so this says which task failed
    (see its log for the cause); "" when the task did not fail."""
    if not task_id or task_state(dag_run, task_id, ti) != "FAILED":
        return ""
    return f"task {task_id} failed (see its log)"


OOZIE_MACROS = SimpleNamespace(
    num=num, to_bool=to_bool, to_str=to_str, empty=empty, concat=concat, trim=trim, first_not_null=first_not_null,
    replace_all=replace_all, append_all=append_all, url_encode=url_encode, timestamp=timestamp,
    to_json_str=to_json_str, to_properties_str=to_properties_str, to_configuration_str=to_configuration_str,
    parse_capture_output=parse_capture_output, parse_time=parse_time, oozie_time=oozie_time,
    nominal_time=nominal_time, format_time=format_time, date_offset=date_offset, date_tz_offset=date_tz_offset,
    epoch_time=epoch_time, dataset_instance=dataset_instance, last_error_node=last_error_node,
    error_message=error_message, error_code=error_code, task_state=task_state,
)
"""The ``oozie`` namespace templates use: ``{{ oozie.format_time(...) }}``."""

MACROS: dict[str, Any] = {"oozie": OOZIE_MACROS}
"""Pass as ``DAG(user_defined_macros=MACROS)``."""
