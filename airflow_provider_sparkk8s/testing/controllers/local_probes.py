"""Exec probes of a local container, as the kubelet's prober runs them: after ``initialDelaySeconds``, every
``periodSeconds``, each try killed after ``timeoutSeconds``; the result changes after ``successThreshold``
successes or ``failureThreshold`` failures in a row. Only ``exec`` probes run: an ``httpGet``, ``tcpSocket`` or
``grpc`` probe is not (a container with one is ready as soon as it runs, and never restarted by it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from ..runtime import LocalContainer


@dataclass(frozen=True)
class ExecProbe:
    argv: tuple[str, ...]
    initial_delay: float = 0.0
    period: float = 10.0
    timeout: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3

    @classmethod
    def of(cls, probe: dict | None) -> ExecProbe | None:
        """The probe's settings with the API's defaults; None when it is not an exec probe."""
        command = ((probe or {}).get("exec") or {}).get("command")
        if not probe or not command:
            return None
        return cls(tuple(command), float(probe.get("initialDelaySeconds", 0)), float(probe.get("periodSeconds", 10)),
                   float(probe.get("timeoutSeconds", 1)), int(probe.get("successThreshold", 1)),
                   int(probe.get("failureThreshold", 3)))


async def keep_probing(container: LocalContainer, probe: ExecProbe, failed: Callable[[], None],
                       changed: Callable[[bool], None]) -> None:
    """Probe until cancelled: ``failed()`` after each failed try (the kubelet's Unhealthy Event), ``changed(ok)``
    when the result changes (it starts as failing: not ready, for a readiness probe)."""
    await asyncio.sleep(probe.initial_delay)
    result, successes, failures = False, 0, 0
    while True:
        ok = await container.probe(probe.argv, probe.timeout)
        successes, failures = (successes + 1, 0) if ok else (0, failures + 1)
        if not ok:
            failed()
        if ok and not result and successes >= probe.success_threshold:
            result = True
            changed(True)
        elif not ok and (result or failures == probe.failure_threshold) and failures >= probe.failure_threshold:
            result = False
            changed(False)
        await asyncio.sleep(probe.period)
