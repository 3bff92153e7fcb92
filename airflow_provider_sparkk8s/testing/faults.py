"""Fault injection and request accounting for the emulator.

Rules match requests by method, verb, resource, namespace, name and a path regex. A rule can fail the
request with a status (500, 503, 429 with Retry-After, 401, 403, ...), delay it, reset the connection,
cut the connection after the request was served (the response is lost: a retry must not do the work
twice), cut a watch after N events or seconds, stall a watch (headers sent, then silence, then a cut), or answer
the next watch with 410 Gone. `times` bounds how often a rule fires (None = until removed).
`rotate_token` expires the emulator's bearer token and writes its successor into the kubeconfig.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ApiError

if TYPE_CHECKING:
    from aiohttp import web

    from .emulator import KubeEmulator

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass
class RequestInfo:
    """What a request is, in the API server's own terms."""

    method: str
    path: str
    query: str = ""
    verb: str = ""  # get, list, watch, create, update, patch, delete, deletecollection, or "" for non-resource
    resource: str = ""  # plural, with "/subresource" where there is one (pods/log)
    group: str = ""
    namespace: str = ""
    name: str = ""


@dataclass
class Fault:
    method: str | None = None
    verb: str | None = None
    resource: str | None = None
    namespace: str | None = None
    name: str | None = None
    path: str | None = None  # regular expression searched in the path
    status: int | None = None
    message: str | None = None
    retry_after: float | None = None
    latency: float = 0.0
    reset: bool = False  # cut the connection before the request is served
    reset_after: bool = False  # serve the request, then cut the connection instead of answering
    drop_watch_after_events: int | None = None
    drop_watch_after_seconds: float | None = None
    gone: bool = False  # answer a watch with an ERROR event carrying 410
    # a stalled watch: the response starts, nothing (no event, no bookmark) follows for this many seconds,
    # then the connection is cut, as when a proxy or a dead node black-holes the stream
    stall_watch_seconds: float | None = None
    times: int | None = None
    id: int = 0
    fired: int = 0

    def matches(self, info: RequestInfo) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        checks = (
            (self.method, info.method),
            (self.verb, info.verb),
            (self.resource, info.resource),
            (self.namespace, info.namespace),
            (self.name, info.name),
        )
        if any(want is not None and want.lower() != have.lower() for want, have in checks):
            return False
        return not (self.path and not re.search(self.path, info.path))

    def status_body(self) -> dict[str, Any]:
        code = self.status or 500
        details = {"retryAfterSeconds": int(self.retry_after)} if self.retry_after is not None else None
        return ApiError(code, _REASONS.get(code, "InternalError"), self.message or f"injected fault: {code}",
                        details).status()


class Faults:
    """The active fault rules. Thread-safe; add from tests or through the admin endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._next_id = 1

    def add(self, fault: Fault | None = None, **kwargs: Any) -> Fault:
        fault = fault or Fault(**kwargs)
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._rules.append(fault)
        return fault

    def remove(self, fault_id: int) -> None:
        with self._lock:
            self._rules = [f for f in self._rules if f.id != fault_id]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, info: RequestInfo) -> list[Fault]:
        """The rules that fire for this request (each counts as fired)."""
        with self._lock:
            hits = [f for f in self._rules if f.matches(info)]
            for f in hits:
                f.fired += 1
            return hits

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._rules]


def cut_response(request: web.Request, faults: list[Fault]) -> None:
    """After the handler ran: lose its response by cutting the connection when a `reset_after` rule fired."""
    if any(f.reset_after for f in faults):
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("injected connection reset after the request was served")


async def stall_watch(request: web.Request, faults: list[Fault]) -> bool:
    """Hold a prepared watch response silent for the longest matching stall, then cut the connection.
    True when the watch was stalled (the handler must then end without writing)."""
    stall = max((f.stall_watch_seconds for f in faults if f.stall_watch_seconds is not None), default=None)
    if stall is None:
        return False
    await asyncio.sleep(stall)
    if request.transport is not None:
        request.transport.abort()
    return True


def rotate_token(emulator: KubeEmulator, new_token: str | None = None) -> str:
    """Token expiry: the server stops accepting the current bearer token (requests carrying it get 401) and
    accepts a new one for the same user, which is written into the emulator's kubeconfig, as a credential
    plugin or a projected service-account token refreshes it. Returns the new token."""
    old = emulator.token
    if old is None:
        raise ValueError("rotate_token: the emulator was started without a token (token=...)")
    new_token = new_token or secrets.token_urlsafe(24)
    emulator.tokens[new_token] = emulator.tokens.get(old, "admin")
    emulator.token = new_token
    if emulator.kubeconfig_path is not None:
        emulator.write_kubeconfig(emulator.kubeconfig_path)
    emulator.tokens.pop(old, None)  # after the kubeconfig has the successor: a reload never finds no valid token
    return new_token


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    status: int  # 0 while the request is still open (a watch, a log follow) or when the connection was reset
    started: float
    duration: float
    verb: str
    resource: str
    namespace: str
    name: str
    user: str = ""


@dataclass
class RequestLog:
    """Every request the emulator served, and counters by verb and resource."""

    records: list[RequestRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    max_records: int = 200_000

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self.records.append(record)
            if len(self.records) > self.max_records:
                del self.records[: len(self.records) - self.max_records]

    def clear(self) -> None:
        with self._lock:
            self.records.clear()

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self.records)

    def counters(self) -> dict[str, int]:
        """Counts keyed "verb resource" (e.g. "watch pods", "get pods/log"); non-resource paths by path."""
        counts: Counter[str] = Counter()
        for r in self.snapshot():
            counts[f"{r.verb} {r.resource}" if r.verb else f"{r.method} {r.path}"] += 1
        return dict(counts)

    def count(self, verb: str | None = None, resource: str | None = None, since: float | None = None) -> int:
        return sum(
            1
            for r in self.snapshot()
            if (verb is None or r.verb == verb)
            and (resource is None or r.resource == resource)
            and (since is None or r.started >= since)
        )


def monotonic() -> float:
    return time.monotonic()
