"""Schedule DAGs at the instants an Argo Events calendar EventSource fires.

:class:`ArgoCalendarTimetable` takes one calendar entry, either inline or from an EventSource YAML file that
sits next to the DAG file, and runs the DAG whenever Argo Events would send that calendar event (fires are
computed by :class:`~airflow_provider_sparkk8s.calendar.ArgoCalendar`, not croniter: Argo's DST rules,
exclusion dates and ``interval`` anchoring apply)::

    from airflow.sdk import DAG
    from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable

    with DAG("nightly", start_date=datetime(2026, 1, 1), catchup=False,
             schedule=ArgoCalendarTimetable(event_source_file="calendar-eventsource.yaml", event_name="nightly")):
        ...

Runs follow Airflow 3's trigger timetables (``CronTriggerTimetable``): a run's ``run_after`` is the fire
time and its data interval is ``(fire - interval, fire)``, exact by default. With ``catchup`` every fire
from ``start_date`` on gets a run; without it the newest fire at or before now is run, then the following
ones. An ``interval`` calendar (``interval: 1h``) is anchored like the Argo EventSource, which fires first
one interval after it starts: here the first fire is ``start_date + interval`` (``now + interval`` when the
DAG has no ``start_date``) and each next one follows the previous run.

The same schedule can be moved to Argo Events unchanged: :meth:`ArgoCalendarTimetable.to_argo_events`
renders the EventSource and a Sensor that submits a WorkflowTemplate on every fire.

The plugin :class:`ArgoCalendarPlugin` registers the timetable so that the scheduler can deserialize it.
This module is imported by DAG files and, through the plugin entry point, by every Airflow process that loads
plugins: it imports the calendar engine, YAML and the plugin machinery only when they are used.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.exceptions import AirflowTimetableInvalid
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

if TYPE_CHECKING:
    from airflow.timetables.base import TimeRestriction
    from pendulum import DateTime

    from airflow_provider_sparkk8s.calendar import ArgoCalendar

__all__ = ["ArgoCalendarTimetable", "InvalidArgoCalendar"]  # and ArgoCalendarPlugin, built on access

UTC = timezone.utc
_TICK = timedelta(microseconds=1)
# Windows searched backwards for the newest fire at or before a time; the last one is robfig's 5-year horizon.
_LOOKBACK = tuple(timedelta(days=days) for days in (1 / 24, 1, 7, 35, 400, 5 * 366))
# Distinct cron fires are at least a minute apart, so a bisection can stop at this width.
_CRON_RESOLUTION = timedelta(seconds=30)
# DagModel.timetable_description is a VARCHAR(1000).
_DESCRIPTION_LIMIT = 1000
# Name rules for to_argo_events(), compiled on first use (re caches them): only that method needs them.
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_EVENT_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_PARAMETER_NAME = r"[-a-zA-Z0-9_]+"
EVENT_TIME_PARAMETER = "event-time"


def utcnow() -> datetime:
    """The current time; tests replace it to pin "now"."""
    return datetime.now(UTC)


class InvalidArgoCalendar(AirflowTimetableInvalid, ValueError):
    """The calendar entry or its EventSource file cannot be used; the message names the file and the problem."""


class ArgoCalendarTimetable(Timetable):
    """Run a DAG whenever an Argo Events calendar event fires.

    :param calendar: one calendar entry as written under ``spec.calendar.<event>`` of an EventSource:
        ``schedule`` (5-field cron) or ``interval`` (Go duration), optional ``timezone``, ``exclusionDates``
        (``EXDATE:20261224T000000Z``), ``metadata``. Give this or ``event_source_file``.
    :param event_source_file: an EventSource YAML file, read once when the DAG file is parsed. A relative path
        is resolved against the directory of the Python file that constructs the timetable (the DAG file).
    :param event_name: which ``spec.calendar`` entry of the file to use; required when it has more than one.
        With an inline ``calendar`` it only names the event (description, :meth:`to_argo_events`).
    :param interval: length of each run's data interval, which ends at the fire time (default: exact).
    :param description: shown in the UI instead of the generated description.
    """

    def __init__(
        self,
        calendar: Mapping[str, Any] | None = None,
        *,
        event_source_file: str | os.PathLike[str] | None = None,
        event_name: str | None = None,
        interval: timedelta = timedelta(0),
        description: str | None = None,
    ) -> None:
        if (calendar is None) == (event_source_file is None):
            raise InvalidArgoCalendar("ArgoCalendarTimetable needs exactly one of calendar= (an inline calendar "
                                      "entry) or event_source_file= (an EventSource YAML file)")
        if not isinstance(interval, timedelta) or interval < timedelta(0):
            raise InvalidArgoCalendar(f"interval must be a non-negative timedelta, got {interval!r}")
        source = None
        if event_source_file is not None:
            path = _resolve_against_caller(event_source_file)
            event_name, calendar = _read_event_source(path, event_name)
            source = path.name
        elif not isinstance(calendar, Mapping):
            raise InvalidArgoCalendar(f"calendar must be a mapping like {{'schedule': '0 23 * * *'}}, "
                                      f"got {type(calendar).__name__}")
        self._setup(_plain_entry(calendar, source, event_name), event_name=event_name, source=source,
                    interval=interval, description=description)
        self.validate()

    def _setup(self, entry: dict[str, Any], *, event_name: str | None, source: str | None, interval: timedelta,
               description: str | None) -> None:
        self._entry = entry
        self._event_name = event_name
        self._source = source
        self._interval = interval
        self._description = description

    # -- serialization (the scheduler rebuilds the timetable from this; it never reads the file again)

    def serialize(self) -> dict[str, Any]:
        return {"calendar": self._entry, "event_name": self._event_name, "source": self._source,
                "interval": self._interval.total_seconds(), "description": self._description}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> ArgoCalendarTimetable:
        timetable = cls.__new__(cls)
        timetable._setup(dict(data["calendar"]), event_name=data.get("event_name"), source=data.get("source"),
                         interval=timedelta(seconds=data.get("interval", 0)), description=data.get("description"))
        return timetable

    def validate(self) -> None:
        """Raise :class:`InvalidArgoCalendar` (an ``AirflowTimetableInvalid``) when the entry is invalid or
        never fires (``0 0 30 2 *``). Airflow calls this when it parses the DAG."""
        probe = utcnow()
        if self.calendar.next_fire_after(probe) is None:
            raise InvalidArgoCalendar(f"{self._where()}: schedule {self._entry.get('schedule')!r} never fires "
                                      f"(no matching time within 5 years of {probe:%Y-%m-%d})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArgoCalendarTimetable):
            return NotImplemented
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(json.dumps(self.serialize(), sort_keys=True))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._where()}: {self.summary})"

    # -- what the UI shows

    @property
    def summary(self) -> str:
        """The schedule as written: ``0 23 * * * Europe/Amsterdam`` or ``every 1h30m``."""
        schedule, zone = self._entry.get("schedule"), self._entry.get("timezone")
        if schedule:
            prefixed = schedule.startswith(("TZ=", "CRON_TZ="))
            return f"{schedule} {zone}" if zone and not prefixed else schedule
        return f"every {self._entry.get('interval')}"

    @property
    def description(self) -> str:  # type: ignore[override]  # a class attribute on the base protocol
        """``at 23:00 every day (Europe/Amsterdam), except 2026-12-24; event 'nightly' in calendar.yaml``."""
        text = self._description
        if text is None:
            text = self.calendar.describe()
            if self._event_name:
                text += f"; event {self._event_name!r}" + (f" in {self._source}" if self._source else "")
        return text if len(text) <= _DESCRIPTION_LIMIT else text[:_DESCRIPTION_LIMIT - 1] + "…"

    @property
    def calendar(self) -> ArgoCalendar:
        """The parsed calendar entry."""
        return self._calendar

    @cached_property
    def _calendar(self) -> ArgoCalendar:
        from airflow_provider_sparkk8s.calendar import ArgoCalendar  # the engine is loaded by the first DAG using it

        try:
            return ArgoCalendar.from_spec(self._entry)
        except ValueError as error:
            raise InvalidArgoCalendar(f"{self._where()}: {error}") from None

    def _where(self) -> str:
        event = f"spec.calendar.{self._event_name}" if self._event_name else "calendar"
        return f"{self._source}: {event}" if self._source else event

    # -- scheduling

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        return DataInterval(pendulum.instance(run_after - self._interval), run_after)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        last = _utc(last_automated_data_interval.end) if last_automated_data_interval is not None else None
        earliest = _utc(restriction.earliest) if restriction.earliest is not None else None
        if restriction.catchup:
            if last is not None:
                fire = self.calendar.next_fire_after(last)
            else:
                fire = self._first_fire_from(earliest if earliest is not None else _utc(utcnow()))
        else:
            now = _utc(utcnow())
            # Like CronTriggerTimetable: skip missed fires but run the newest one that is already due.
            anchor = last if last is not None else earliest
            candidates = [self._latest_fire_at_or_before(now, anchor)]
            if last is not None:
                candidates.append(self.calendar.next_fire_after(last))
            else:
                candidates.append(self._first_fire_from(earliest if earliest is not None else now))
            fire = max((candidate for candidate in candidates if candidate is not None), default=None)
        if fire is None or (restriction.latest is not None and fire > restriction.latest):
            return None
        return DagRunInfo.interval(pendulum.instance(fire - self._interval), pendulum.instance(fire))

    def _first_fire_from(self, start: datetime) -> datetime | None:
        """The first fire of a calendar that starts at ``start`` (the DAG's start_date, else now).

        Cron fires do not depend on when the calendar starts, and one exactly at ``start`` counts. An interval
        calendar fires first one interval after it starts, as an Argo EventSource does after its start.
        """
        if self.calendar.interval is not None:
            return self.calendar.next_fire_after(start)
        return self.calendar.next_fire_after(start - _TICK)

    def _latest_fire_at_or_before(self, moment: datetime, anchor: datetime | None) -> datetime | None:
        """The newest fire at or before ``moment``; interval fires exist only on the chain from ``anchor``."""
        if self.calendar.interval is not None:
            return None if anchor is None else self._latest_interval_fire(moment, anchor)
        return self._latest_cron_fire(moment)

    def _latest_cron_fire(self, moment: datetime) -> datetime | None:
        """Search backwards: find a window ending at ``moment`` that holds a fire, then bisect it."""
        calendar = self.calendar

        def due(after: datetime) -> bool:  # is there a fire in (after, moment]?
            fire = calendar.next_fire_after(after)
            return fire is not None and fire <= moment

        low = next((moment - window for window in _LOOKBACK if due(moment - window)), None)
        if low is None:
            return None
        high = moment  # invariant: a fire in (low, moment], none in (high, moment]
        while high - low > _CRON_RESOLUTION:
            middle = low + (high - low) / 2
            low, high = (middle, high) if due(middle) else (low, middle)
        return calendar.next_fire_after(low)

    def _latest_interval_fire(self, moment: datetime, anchor: datetime) -> datetime | None:
        """Argo floors each fire to the second before adding the interval, so after the first fire the fires
        are the non-excluded points of ``first + k * whole seconds of the interval``: jump there directly."""
        calendar = self.calendar
        first = calendar.next_fire_after(anchor)
        if first is None or first > moment:
            return None
        stride = timedelta(seconds=(calendar.interval_ns or 0) // 1_000_000_000)
        candidate = first + ((moment - first) // stride) * stride
        while calendar.is_excluded(candidate):  # go back to the last point before the excluded local day
            day = candidate.astimezone(calendar.zone).date()
            day_start = datetime(day.year, day.month, day.day, tzinfo=calendar.zone).astimezone(UTC)
            candidate = first + ((day_start - _TICK - first) // stride) * stride
        return candidate

    # -- the same schedule in Argo Events

    def to_argo_events(
        self,
        workflow_template: str,
        *,
        namespace: str = "argo",
        event_source_name: str = "calendar-source",
        event_name: str | None = None,
        sensor_name: str | None = None,
        cluster_scope: bool = False,
        parameters: Mapping[str, str] | None = None,
        service_account: str | None = None,
    ) -> list[dict[str, Any]]:
        """An EventSource with this calendar entry and a Sensor that submits ``workflow_template`` on each fire.

        The Workflow gets ``parameters`` as static arguments plus ``event-time``, the event's ``eventTime``
        (Go ``time.String()``, e.g. ``2026-12-23 23:00:00 +0100 CET``). ``service_account`` runs the Sensor
        pod; it needs RBAC to create Workflows in ``namespace``.
        """
        event_name = event_name or self._event_name or "calendar"
        sensor_name = sensor_name or f"{workflow_template}-calendar"
        _check_name("workflow_template", workflow_template, _DNS_SUBDOMAIN, 253)
        for argument, value in (("namespace", namespace), ("event_source_name", event_source_name),
                                ("sensor_name", sensor_name)):
            _check_name(argument, value, _DNS_LABEL, 63)
        if service_account is not None:
            _check_name("service_account", service_account, _DNS_SUBDOMAIN, 253)
        _check_name("event_name", event_name, _EVENT_NAME, 253)
        arguments = _workflow_parameters(parameters or {})
        dependency = "calendar"
        event_source = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "EventSource",
            "metadata": {"name": event_source_name, "namespace": namespace},
            "spec": {"calendar": {event_name: json.loads(json.dumps(self._entry))}},
        }
        workflow = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"generateName": f"{workflow_template}-"},
            "spec": {
                "arguments": {"parameters": arguments},
                "workflowTemplateRef": {"name": workflow_template, "clusterScope": cluster_scope},
            },
        }
        sensor_spec: dict[str, Any] = {
            "dependencies": [{"name": dependency, "eventSourceName": event_source_name, "eventName": event_name}],
            "triggers": [{"template": {"name": "submit-workflow", "argoWorkflow": {
                "operation": "submit",
                "source": {"resource": workflow},
                "parameters": [{"src": {"dependencyName": dependency, "dataKey": "eventTime"},
                                "dest": f"spec.arguments.parameters.{len(arguments) - 1}.value"}],
            }}}],
        }
        if service_account is not None:
            sensor_spec = {"template": {"serviceAccountName": service_account}, **sensor_spec}
        sensor = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Sensor",
            "metadata": {"name": sensor_name, "namespace": namespace},
            "spec": sensor_spec,
        }
        return [event_source, sensor]

    def to_argo_events_yaml(self, workflow_template: str, **kwargs: Any) -> str:
        """:meth:`to_argo_events` as one multi-document YAML text, ready for ``kubectl apply -f -``."""
        from airflow_provider_sparkk8s import yaml_text

        return yaml_text.dump_all(self.to_argo_events(workflow_template, **kwargs), sort_keys=False)


# ------------------------------------------------------------------------------------------ helpers


def _utc(moment: datetime) -> datetime:
    """A plain aware UTC datetime (Airflow passes pendulum DateTimes)."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                    moment.microsecond, tzinfo=UTC)


def _resolve_against_caller(path: str | os.PathLike[str]) -> Path:
    """Resolve a relative path against the directory of the file that called into this module (the DAG file),
    so that it does not depend on the working directory of whichever Airflow process parses the DAG."""
    path = Path(os.fspath(path)).expanduser()
    if path.is_absolute():
        return path
    frame = inspect.currentframe()
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    caller = frame.f_globals.get("__file__") if frame is not None else None
    base = Path(os.path.dirname(os.path.abspath(caller))) if caller else Path.cwd()
    return base / path


def _read_event_source(path: Path, event_name: str | None) -> tuple[str, Mapping[str, Any]]:
    """The (event name, calendar entry) chosen from the EventSource documents of a YAML file."""
    import yaml

    from airflow_provider_sparkk8s.safe_yaml import safe_load_all

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidArgoCalendar(f"event_source_file {path}: no such file") from None
    except OSError as error:
        raise InvalidArgoCalendar(f"event_source_file {path}: cannot read it: {error.strerror or error}") from None
    try:
        documents = [doc for doc in safe_load_all(text) if doc is not None]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidArgoCalendar(f"event_source_file {path}: invalid YAML{where}: {problem}") from None
    sources = [doc for doc in documents if isinstance(doc, Mapping) and doc.get("kind") == "EventSource"]
    if not sources:
        kinds = sorted({str(doc.get("kind")) for doc in documents if isinstance(doc, Mapping)})
        found = f" (found: {', '.join(kinds)})" if kinds else ""
        raise InvalidArgoCalendar(f"event_source_file {path}: no document of kind EventSource{found}")
    entries: list[tuple[str, str, Any]] = []  # (EventSource name, event name, entry)
    for source in sources:
        spec = source.get("spec")
        if not isinstance(spec, Mapping):
            spec = {}
        calendars = spec.get("calendar")
        if isinstance(calendars, Mapping):
            metadata = source.get("metadata")
            name = str(metadata.get("name", "?")) if isinstance(metadata, Mapping) else "?"
            entries.extend((name, str(event), entry) for event, entry in calendars.items())
    if not entries:
        raise InvalidArgoCalendar(f"event_source_file {path}: the EventSource has no spec.calendar events")
    events = ", ".join(event for _, event, _ in entries)
    if event_name is None:
        if len(entries) > 1:
            raise InvalidArgoCalendar(f"event_source_file {path}: it has {len(entries)} calendar events "
                                      f"({events}); choose one with event_name=")
        _, event_name, entry = entries[0]
        return event_name, entry
    matches = [(source, entry) for source, event, entry in entries if event == event_name]
    if not matches:
        raise InvalidArgoCalendar(f"event_source_file {path}: no calendar event {event_name!r}; it has: {events}")
    if len(matches) > 1:
        raise InvalidArgoCalendar(f"event_source_file {path}: calendar event {event_name!r} is defined by "
                                  f"several EventSources ({', '.join(source for source, _ in matches)})")
    return event_name, matches[0][1]


def _plain_entry(entry: Any, source: str | None, event_name: str | None) -> dict[str, Any]:
    """A JSON-only copy of the entry: it is stored in the serialized DAG and rendered back into YAML."""
    where = f"{source}: spec.calendar.{event_name}" if source else "calendar"
    if not isinstance(entry, Mapping):
        raise InvalidArgoCalendar(f"{where}: must be a mapping with schedule or interval, got {entry!r}")
    try:
        return json.loads(json.dumps(entry))
    except (TypeError, ValueError) as error:
        raise InvalidArgoCalendar(f"{where}: must hold only strings, lists and mappings: {error}") from None


def _check_name(argument: str, value: object, pattern: str, limit: int) -> None:
    if not isinstance(value, str) or len(value) > limit or not re.fullmatch(pattern, value):
        kind = {_DNS_LABEL: "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a "
                            "letter or digit)",
                _DNS_SUBDOMAIN: "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
                _EVENT_NAME: "letters, digits, '-', '_' and '.'"}[pattern]
        raise ValueError(f"{argument}={value!r} is not a valid name: it must be {kind}, at most {limit} characters")


def _workflow_parameters(parameters: Mapping[str, str]) -> list[dict[str, str]]:
    """Static Workflow arguments, then ``event-time``, whose value the Sensor fills from the event."""
    arguments = []
    for name, value in parameters.items():
        if not isinstance(name, str) or not re.fullmatch(_PARAMETER_NAME, name):
            raise ValueError(f"parameters: {name!r} is not a valid Argo parameter name (letters, digits, '-', '_')")
        if name == EVENT_TIME_PARAMETER:
            raise ValueError(f"parameters: {EVENT_TIME_PARAMETER!r} is filled from the calendar event; "
                             "choose another name")
        if not isinstance(value, str):
            raise ValueError(f"parameters: the value of {name!r} must be a string (Argo parameter values are "
                             f"strings), got {type(value).__name__} {value!r}")
        arguments.append({"name": name, "value": value})
    arguments.append({"name": EVENT_TIME_PARAMETER, "value": ""})
    return arguments


# ------------------------------------------------------------------------------------------- plugin


def __getattr__(name: str) -> Any:
    # The plugin class is built on first access (by Airflow's plugins manager), so DAG files that import
    # the timetable do not import the plugin machinery.
    if name != "ArgoCalendarPlugin":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from airflow.plugins_manager import AirflowPlugin

    class ArgoCalendarPlugin(AirflowPlugin):
        """Registers ArgoCalendarTimetable, so that the scheduler can load DAGs that use it."""

        name = "sparkk8s"
        timetables = [ArgoCalendarTimetable]

    ArgoCalendarPlugin.__qualname__ = "ArgoCalendarPlugin"
    globals()[name] = ArgoCalendarPlugin
    return ArgoCalendarPlugin
