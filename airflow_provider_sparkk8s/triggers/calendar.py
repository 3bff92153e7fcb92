"""ArgoCalendarTrigger: sleeps in the triggerer until a calendar event's fire time, then delivers the event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

__all__ = ["ArgoCalendarTrigger"]

# Sleep at most this long at a time, so a wall-clock jump (a suspended host, an NTP step) delays the event
# by at most this much instead of by the whole jump.
_MAX_SLEEP = 60.0


class ArgoCalendarTrigger(BaseTrigger):
    """Fire at ``fire_time`` (ISO 8601, aware) with the event Argo Events would dispatch live.

    The event is ``{"fire_time": <ISO>, "event": {"eventTime": ..., "metadata": {...}}}`` where
    ``eventTime`` is the wall clock when the timer fired, in UTC, with Go's ``m=+`` monotonic suffix.
    Nothing is polled: the trigger sleeps until the fire time. With a `deadline` (wall clock, seconds since the
    epoch: a sensor's timeout) before it, the event at the deadline is ``{"status": "timeout", "fire_time": ...}``.
    """

    def __init__(self, fire_time: str, metadata: dict[str, str] | None = None, event_name: str = "",
                 deadline: float | None = None) -> None:
        super().__init__()
        self.fire_time = fire_time
        self.metadata = dict(metadata or {})
        self.event_name = event_name
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"fire_time": self.fire_time, "metadata": self.metadata, "event_name": self.event_name,
                 "deadline": self.deadline})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from ..calendar import event_data, live_event_time

        started = time.monotonic()
        moment = datetime.fromisoformat(self.fire_time)
        self.log.info("Waiting for calendar event %s at %s", self.event_name or "(inline)", moment.isoformat())
        timed_out = self.deadline is not None and self.deadline < moment.timestamp()
        if timed_out:
            moment = datetime.fromtimestamp(self.deadline, timezone.utc)  # type: ignore[arg-type]
        while (remaining := (moment - datetime.now(timezone.utc)).total_seconds()) > 0:
            await asyncio.sleep(min(remaining, _MAX_SLEEP))
        if timed_out:
            yield TriggerEvent({"status": "timeout", "fire_time": self.fire_time})
            return
        fired_at = datetime.now(timezone.utc)
        event = event_data(live_event_time(fired_at, time.monotonic() - started), self.metadata)
        yield TriggerEvent({"fire_time": self.fire_time, "event": event})
