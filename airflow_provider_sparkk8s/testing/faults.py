"""Fault injection and request accounting for the emulator.

Rules match requests by method, verb, resource, namespace, name and a path regex. A rule can fail the
request with a status (500, 503, 429 with Retry-After, 401, 403, ...), delay it, reset the connection,
cut a watch after N events or seconds, or answer the next watch with 410 Gone. `times` bounds how
often a rule fires (None = until removed).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

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
    reset: bool = False
    drop_watch_after_events: int | None = None
    drop_watch_after_seconds: float | None = None
    gone: bool = False  # answer a watch with an ERROR event carrying 410
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
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message or f"injected fault: {code}",
            "reason": _REASONS.get(code, "InternalError"),
            "code": code,
        }
        if self.retry_after is not None:
            body["details"] = {"retryAfterSeconds": int(self.retry_after)}
        return body


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
