"""The probes of a local container, as the kubelet's prober runs them (pkg/kubelet/prober).

Every handler runs: ``exec`` (in the container, its ``$(VAR)`` references expanded from the container's plain
``env`` values; the output is the Event's message), ``httpGet`` (success is a status from 200 to 399; a redirect to
another host is a success with a ``ProbeWarning`` Event), ``tcpSocket`` (a connection that opens) and ``grpc``
(``grpc.health.v1.Health/Check``: ``SERVING``); see ``local_actions`` for the network ones. Each try is given
``timeoutSeconds``. A try that cannot be made (a port name the container does not declare) "errors": it writes an
Event and does not count.

The timing: a probe ticks every ``periodSeconds`` from the container's start, skipping the ticks before
``initialDelaySeconds``; readiness is also tried at once when the container starts (or has started: the kubelet
triggers it as soon as the container runs and is not ready). Liveness and readiness wait for the startup probe to
succeed. The result changes after ``successThreshold`` successes or ``failureThreshold`` failures in a row; it
starts as failing for readiness (not ready), succeeding for liveness and unknown for startup. A liveness or
startup probe that fails stops probing: the container is killed. Each failed try writes an ``Unhealthy`` Event,
``<Kind> probe failed: <output>``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..runtime import LocalContainer, expand
from .local_actions import (
    BODY_LIMIT,
    FAILURE,
    SUCCESS,
    WARNING,
    ActionError,
    HttpError,
    Outcome,
    action_headers,
    action_url,
    get,
    grpc_check,
    resolve_port,
    tcp_connect,
)

STARTUP, LIVENESS, READINESS = "Startup", "Liveness", "Readiness"  # as the kubelet's Events name them
HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")

EventWriter = Callable[[str, str], None]  # (reason, message) of a Warning Event


@dataclass(frozen=True)
class Probe:
    kind: str
    action: dict  # the probe, whose handler is one of HANDLERS
    initial_delay: float = 0.0
    period: float = 10.0
    timeout: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3
    termination_grace: float | None = None  # the probe's own terminationGracePeriodSeconds, for its kills

    @classmethod
    def of(cls, kind: str, probe: dict | None) -> Probe | None:
        """The probe's settings with the API's defaults; None without a probe."""
        if not probe:
            return None
        grace = probe.get("terminationGracePeriodSeconds")
        return cls(kind, probe, float(probe.get("initialDelaySeconds") or 0), float(probe.get("periodSeconds") or 10),
                   float(probe.get("timeoutSeconds") or 1), int(probe.get("successThreshold") or 1),
                   int(probe.get("failureThreshold") or 3), None if grace is None else float(grace))


async def try_probe(probe: Probe, container: LocalContainer, spec: dict, pod_ip: str) -> Outcome:
    """One try of ``probe`` against the container ``spec`` runs as ``container``; raises ActionError."""
    action = probe.action
    if (exec_action := action.get("exec")) is not None:
        static_env = {e["name"]: e.get("value", "") for e in spec.get("env") or [] if "valueFrom" not in e}
        argv = [expand(arg, static_env) for arg in exec_action.get("command") or []]
        done = await container.exec_sync(argv, probe.timeout)
        if done.code is None:
            return Outcome(FAILURE, f'command "{" ".join(argv)}" timed out')
        output = (done.stdout + done.stderr)[:BODY_LIMIT].decode(errors="replace")
        return Outcome(SUCCESS if done.code == 0 else FAILURE, output)
    if (http := action.get("httpGet")) is not None:
        try:
            response = await get(action_url(http, spec, pod_ip), action_headers(http, "probe"), probe.timeout)
        except HttpError as exc:
            return Outcome(FAILURE, str(exc))
        body = response.body.decode(errors="replace")
        if 300 <= response.status < 400:
            return Outcome(WARNING, f"Probe terminated redirects, Response body: {body}")
        if 200 <= response.status < 400:
            return Outcome(SUCCESS, body)
        return Outcome(FAILURE, f"HTTP probe failed with statuscode: {response.status}")
    if (tcp := action.get("tcpSocket")) is not None:
        return await tcp_connect(tcp.get("host") or pod_ip, resolve_port(tcp.get("port"), spec), probe.timeout)
    if (grpc := action.get("grpc")) is not None:
        return await grpc_check(pod_ip, int(grpc.get("port") or 0), grpc.get("service") or "", probe.timeout)
    raise ActionError(f"missing probe handler for {spec['name']}")


async def keep_probing(probe: Probe, attempt: Callable[[], Awaitable[Outcome]], started_at: float,
                       started: asyncio.Event, event: EventWriter, changed: Callable[[bool], None]) -> None:
    """Probe until cancelled (or, for liveness and startup, until the result is final): ``started_at`` is the
    container's start (the loop's clock), ``started`` is set once the startup probe has succeeded (at once without
    one); ``changed(ok)`` when the result changes. See the module docstring."""
    loop = asyncio.get_running_loop()
    result: bool | None = {READINESS: False, LIVENESS: True}.get(probe.kind)
    last: bool | None = None
    run = 0
    tick = started_at if probe.kind == READINESS else started_at + probe.period
    while True:
        await asyncio.sleep(max(0.0, tick - loop.time()))
        if probe.kind != STARTUP and not started.is_set():
            await started.wait()
            if probe.kind == LIVENESS:  # readiness is tried at once, liveness on its next tick
                tick = _next_tick(tick, probe.period, loop.time())
                continue
        tick = _next_tick(tick, probe.period, loop.time())
        if int(loop.time() - started_at) < probe.initial_delay:
            continue
        try:
            outcome = await attempt()
        except Exception as exc:  # the try could not be made (ActionError, or a broken client): not counted
            event("Unhealthy", f"{probe.kind} probe errored: {exc}")
            continue
        if outcome.result == FAILURE:
            event("Unhealthy", f"{probe.kind} probe failed: {outcome.output}")
        elif outcome.result == WARNING:
            event("ProbeWarning", f"{probe.kind} probe warning: {outcome.output}")
        ok = outcome.result != FAILURE
        run = run + 1 if ok == last else 1
        last = ok
        if run < (probe.success_threshold if ok else probe.failure_threshold):
            continue
        if ok != result:
            result = ok
            changed(ok)
        if probe.kind != READINESS and (not ok or probe.kind == STARTUP):
            return  # killed, or started: nothing more to probe for this container


def _next_tick(tick: float, period: float, now: float) -> float:
    """A ticker's next tick after ``now`` (ticks missed while a try ran are dropped)."""
    return tick + period * (int(max(0.0, now - tick) // period) + 1)
