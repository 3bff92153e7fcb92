"""ArgoCalendarSensor: wait for the next event of an Argo Events calendar, computed as Argo computes it."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from airflow.providers.common.compat.sdk import conf as airflow_conf

from ..arguments import MAPPING, STRING, Kind, check_arguments, is_templated
from ._waiting import WaitingSensor

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger

    from ..calendar import ArgoCalendar

__all__ = ["ArgoCalendarSensor"]

ARGUMENTS: dict[str, Kind] = {
    "calendar": MAPPING, "event_source": STRING, "event_name": STRING, "namespace": STRING,
    "kubernetes_conn_id": STRING,
    "after": Kind("a datetime or an ISO 8601 string", lambda v: isinstance(v, (datetime, str))),
}


class ArgoCalendarSensor(WaitingSensor):
    """Succeed at the first calendar event after ``after`` and push the event to XCom.

    The calendar is an inline entry (``calendar={"schedule": "0 23 * * *", "timezone": ...}``, exactly as
    under ``spec.calendar.<name>`` of an EventSource) or an EventSource read from the cluster
    (``event_source``, ``event_name``, ``namespace``, ``kubernetes_conn_id``).

    Every templated argument also takes a Jinja string or an XComArg; its type is then checked after rendering.

    :param calendar: an inline calendar entry: ``schedule`` or ``interval``, ``timezone``, ``exclusionDates``,
        ``metadata``, as Argo Events reads them.
    :param event_source: the name of an EventSource in the cluster whose calendar to follow.
    :param event_name: the calendar event of ``event_source`` (default: its only one).
    :param namespace: the namespace of ``event_source`` (default: the connection's namespace).
    :param kubernetes_conn_id: the ``kubernetes`` connection the EventSource is read with.
    :param after: the previous fire, as Argo would see it: a datetime or ISO 8601 string (templated);
        default the run's data interval start (else its logical date, else when it was due to run).
    :param deferrable: wait in the triggerer (nothing polls); otherwise poke, sleeping out the last
        ``poke_interval`` so the event is delivered on time.

    XCom: the return value is the event data Argo Events sends, ``{"eventTime": ..., "metadata": {...}}``
    (``eventTime`` in Go's ``time.String()`` form: the wall clock in UTC with ``m=+...`` when the sensor
    waited for the event, the scheduled instant in the calendar's zone when it was already due); the key
    ``fire_time`` holds the scheduled instant as ISO 8601 UTC.
    """

    template_fields: Sequence[str] = tuple(ARGUMENTS)
    argument_kinds = ARGUMENTS
    ui_color = "#c3e6f5"

    def __init__(self, *, calendar: Mapping[str, Any] | None = None, event_source: str | None = None,
                 event_name: str | None = None, namespace: str | None = None,
                 kubernetes_conn_id: str = "kubernetes_default", after: datetime | str | None = None,
                 deferrable: bool = airflow_conf.getboolean("operators", "default_deferrable", fallback=False),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (calendar is None) == (event_source is None):
            raise ValueError(f"Task {self.task_id}: set exactly one of calendar, event_source")
        self.calendar = calendar
        self.event_source = event_source
        self.event_name = event_name
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.after = after
        self.deferrable = deferrable
        self._started = time.monotonic()
        self._fire: datetime | None = None
        self._argo_calendar: ArgoCalendar | None = None
        check_arguments(self, ARGUMENTS)
        if calendar is not None and not is_templated(calendar, deep=True):  # else checked when rendered
            self._parse_inline(calendar)

    # ------------------------------------------------------------------ the calendar
    def _parse_inline(self, spec: Mapping[str, Any]) -> ArgoCalendar:
        from ..calendar import ArgoCalendar

        try:
            return ArgoCalendar.from_spec(spec)
        except ValueError as error:
            raise ValueError(f"Task {self.task_id}: calendar: {error}") from None

    def _load(self) -> tuple[ArgoCalendar, str]:
        """The calendar and how to name it in messages."""
        if self.calendar is not None:
            try:
                return self._parse_inline(self.calendar), "inline calendar"
            except ValueError as error:
                raise AirflowFailException(str(error)) from None
        from ..calendar import ArgoCalendar
        from ..hooks.spark import SparkK8sHook
        from ..kube_api import EVENT_SOURCES, KubeApiError

        assert self.event_source is not None  # exactly one of calendar, event_source: checked at construction

        hook = SparkK8sHook(self.kubernetes_conn_id, self.namespace)
        namespace = hook.get_namespace()
        where = f"EventSource {namespace}/{self.event_source}"
        try:
            manifest = hook.read(EVENT_SOURCES, namespace, self.event_source)
        except KubeApiError as error:
            raise AirflowException(f"reading {where} failed: {error}") from error
        if manifest is None:
            raise AirflowException(f"{where} not found (connection {self.kubernetes_conn_id!r})")
        name = self.event_name or _only_event(manifest, where)
        try:
            return ArgoCalendar.from_event_source(manifest, name), f"{where} event {name}"
        except ValueError as error:
            raise AirflowFailException(f"{where}: {error}") from None

    def _after(self, context: Context) -> datetime:
        value = self.after
        if value is None:
            dag_run = context.get("dag_run")
            value = (context.get("data_interval_start") or context.get("logical_date")
                     or getattr(dag_run, "run_after", None))
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise AirflowFailException(f"after: {value!r} is not an ISO 8601 date-time") from None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise AirflowFailException(f"after: need a timezone-aware date-time, got {value!r}")
        return value

    def _resolve(self, context: Context) -> tuple[datetime, ArgoCalendar]:
        """Compute (once per try) the fire this sensor waits for."""
        if self._fire is None:
            argo_calendar, label = self._load()
            after = self._after(context)
            fire = argo_calendar.next_fire_after(after)
            if fire is None:
                raise AirflowFailException(f"{label} ({argo_calendar.describe()}) never fires after "
                                           f"{after.isoformat()}")
            self.log.info("%s (%s): next event after %s is at %s (%s)", label, argo_calendar.describe(),
                          after.isoformat(), fire.isoformat(), fire.astimezone(argo_calendar.zone).isoformat())
            self._fire, self._argo_calendar = fire, argo_calendar
        assert self._argo_calendar is not None
        return self._fire, self._argo_calendar

    # ------------------------------------------------------------------ waiting
    def wait(self, context: Context) -> Any:
        self._started = time.monotonic()
        fire, argo_calendar = self._resolve(context)
        if fire <= datetime.now(timezone.utc):
            return self._deliver(context, fire, argo_calendar.event_payload(fire))
        return super().wait(context)

    def trigger(self, deadline: float) -> BaseTrigger:
        from ..triggers.calendar import ArgoCalendarTrigger

        assert self._fire is not None and self._argo_calendar is not None
        return ArgoCalendarTrigger(self._fire.isoformat(), dict(self._argo_calendar.metadata), self.event_name or "",
                                   deadline=deadline)

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        from ..calendar import event_data, live_event_time

        fire, argo_calendar = self._resolve(context)
        remaining = (fire - datetime.now(timezone.utc)).total_seconds()
        if remaining > self.poke_interval:
            self.note(f"Waiting for the calendar event at {fire.isoformat()}")
            return False
        if remaining > 0:
            time.sleep(remaining)  # one sleep to the fire time, so the event is not up to poke_interval late
        fired_at = datetime.now(timezone.utc)
        event = event_data(live_event_time(fired_at, time.monotonic() - self._started), argo_calendar.metadata)
        self._push_fire_time(context, fire)
        return PokeReturnValue(True, event)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        if event.get("status") == "timeout":
            self.timed_out(f"the calendar event is at {event['fire_time']}")
        return self._deliver(context, datetime.fromisoformat(event["fire_time"]), event["event"])

    def _deliver(self, context: Context, fire: datetime, event: dict[str, Any]) -> dict[str, Any]:
        self.log.info("Calendar event at %s: %s", fire.isoformat(), event)
        self._push_fire_time(context, fire)
        return event

    @staticmethod
    def _push_fire_time(context: Context, fire: datetime) -> None:
        context["ti"].xcom_push(key="fire_time", value=fire.astimezone(timezone.utc).isoformat())


def _only_event(manifest: Mapping[str, Any], where: str) -> str:
    calendars = (manifest.get("spec") or {}).get("calendar") or {}
    if len(calendars) == 1:
        return next(iter(calendars))
    names = ", ".join(sorted(calendars)) or "none"
    raise AirflowFailException(f"{where}: set event_name; its calendar events are: {names}")
