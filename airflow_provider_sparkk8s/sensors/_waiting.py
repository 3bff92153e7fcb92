"""What every sensor of this package shares: its `timeout` counted as Airflow counts it, one deferral until the
trigger reports, and a log line when the state of what it waits for changes (not one per poke)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowSensorTimeout, AirflowSkipException
from airflow.sdk import BaseSensorOperator

from ..arguments import Kind, check_rendered

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger

SAFETY_MARGIN = 60.0  # seconds


class WaitingSensor(BaseSensorOperator):
    """A sensor that waits in the triggerer (``deferrable``) or pokes (``mode`` poke or reschedule)."""

    deferrable: bool
    _state: str | None = None
    argument_kinds: Mapping[str, Kind] = {}  # checked once Airflow has rendered them (arguments.check_rendered)

    def deadline(self, context: Context) -> float:
        """When this sensor's `timeout` runs out (wall clock): counted from the start of the try, or in reschedule
        mode from its first poke, as BaseSensorOperator counts it. A resumed deferral keeps the try's start."""
        ti = context["ti"]
        started = (ti.get_first_reschedule_date(context) if self.reschedule else None) or ti.start_date
        return (started.timestamp() if started else time.time()) + self.timeout

    def defer_until_done(self, context: Context, trigger: Callable[[float], BaseTrigger]) -> NoReturn:
        """Defer once on `trigger(deadline)`, which reports the outcome, or a timeout at the deadline."""
        deadline = self.deadline(context)
        # The trigger ends itself at the deadline, saying what it saw (even when the deadline has already passed);
        # Airflow's trigger timeout, a little later, is only the safety net for a triggerer that is down
        # (BaseSensorOperator turns it into a sensor timeout too).
        remaining = max(0.0, deadline - time.time()) + SAFETY_MARGIN
        self.defer(trigger=trigger(deadline), method_name="execute_complete", timeout=timedelta(seconds=remaining))

    def timed_out(self, what: str) -> NoReturn:
        """Raise Airflow's sensor timeout, or skip with ``soft_fail`` (or ``never_fail``)."""
        message = f"Sensor has timed out after {self.timeout:g}s: {what}"
        if self.soft_fail or self.never_fail:
            raise AirflowSkipException(message)
        raise AirflowSensorTimeout(message)

    def note(self, state: str) -> None:
        """Log the state of what the sensor waits for when it differs from the last one logged."""
        if state != self._state:
            self._state = state
            self.log.info("%s", state)

    def execute(self, context: Context) -> Any:
        check_rendered(self, self.argument_kinds)
        return self.wait(context)

    def wait(self, context: Context) -> Any:
        """Wait in the triggerer (``deferrable``) or poke."""
        if not self.deferrable:
            return super().execute(context)
        self.defer_until_done(context, self.trigger)

    def trigger(self, deadline: float) -> BaseTrigger:
        """The trigger that waits for the target and its outcome until `deadline`."""
        raise NotImplementedError
