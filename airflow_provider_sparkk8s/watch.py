"""The one waiting engine: wait for a Kubernetes object to reach a condition.

List once, then watch from the returned resourceVersion; resume from the last seen version after a drop;
relist on 410 Gone; follow bookmarks; relist at the end of each watch window as a slow safety re-GET (so a
lost event can never strand a waiter); back off with full jitter on errors, honouring Retry-After. Every
trigger and sensor of the provider waits through this module, in the triggerer and in the worker alike
(the worker runs it with ``asyncio.run``).

I/O goes through a kubernetes_asyncio ``ApiClient`` so authentication and TLS come from the connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRYABLE = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    def path(self, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name:
            base += f"/{quote(name, safe='')}"
        if sub:
            base += f"/{sub}"
        return base


PODS = Resource("", "v1", "pods", "Pod")
EVENTS = Resource("", "v1", "events", "Event")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
SPARK_APPLICATIONS = Resource("sparkoperator.k8s.io", "v1beta2", "sparkapplications", "SparkApplication")
EVENT_SOURCES = Resource("argoproj.io", "v1alpha1", "eventsources", "EventSource")


class KubeApiError(Exception):
    """A failed API call, with what the server said."""

    def __init__(self, status: int, body: Any, retry_after: float | None = None, method: str = "",
                 path: str = "") -> None:
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.reason = self.body.get("reason", "")
        self.message = self.body.get("message") or (body if isinstance(body, str) else "")
        self.retry_after = retry_after
        super().__init__(f"{method} {path}: HTTP {status} {self.reason}: {self.message}".strip())

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE


class Backoff:
    """Exponential backoff with full jitter; a server's Retry-After is a floor, not a suggestion."""

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self.base, self.cap, self.attempt = base, cap, 0

    def next(self, retry_after: float | None = None) -> float:
        delay = random.uniform(0, min(self.cap, self.base * 2 ** self.attempt))
        self.attempt += 1
        return max(delay, retry_after or 0.0)

    def reset(self) -> None:
        self.attempt = 0


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class KubeAPI:
    """Raw JSON access to any resource path through a kubernetes_asyncio ApiClient."""

    def __init__(self, api_client: Any) -> None:
        self.client = api_client

    async def _call(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None,
                    content_type: str | None = None, timeout: Any = None) -> Any:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        return await self.client.call_api(path, method, query_params=params, header_params=headers, body=body,
                                          auth_settings=["BearerToken"], _preload_content=False,
                                          _request_timeout=timeout)

    async def request(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None,
                      content_type: str | None = None, timeout: float | None = 60) -> Any:
        resp = await self._call(method, path, query, body, content_type, timeout)
        try:
            raw = await resp.read()
        finally:
            resp.release()
        try:
            data: Any = json.loads(raw) if raw else {}
        except ValueError:
            data = raw.decode(errors="replace")
        if resp.status >= 400:
            raise KubeApiError(resp.status, data, _retry_after(resp.headers), method, path)
        return data

    async def text(self, path: str, query: dict[str, Any] | None = None, timeout: float | None = 60) -> str:
        resp = await self._call("GET", path, query, timeout=timeout)
        try:
            raw = await resp.read()
        finally:
            resp.release()
        if resp.status >= 400:
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            raise KubeApiError(resp.status, body, _retry_after(resp.headers), "GET", path)
        return raw.decode(errors="replace")

    async def lines(self, path: str, query: dict[str, Any] | None = None, read_timeout: float | None = None
                    ) -> AsyncIterator[bytes]:
        """Stream a response line by line (watches, followed logs). `read_timeout` bounds the silence between
        chunks, so a half-open connection is noticed instead of hanging forever."""
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=read_timeout)
        resp = await self._call("GET", path, query, timeout=timeout)
        try:
            if resp.status >= 400:
                raw = await resp.read()
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                raise KubeApiError(resp.status, body, _retry_after(resp.headers), "GET", path)
            while True:
                line = await resp.content.readline()
                if not line:
                    return
                yield line
        finally:
            resp.close()


@dataclass
class Waited(Generic[T]):
    verdict: T
    object: dict | None


async def wait_for_object(
    api: KubeAPI,
    resource: Resource,
    namespace: str,
    name: str,
    decide: Callable[[dict | None], T | None],
    *,
    deadline: Callable[[dict | None], float | None] | None = None,
    on_deadline: Callable[[dict | None], T] | None = None,
    window: float = 300.0,
    on_error: Callable[[Exception, float], None] | None = None,
) -> Waited[T]:
    """Wait until ``decide(obj)`` returns something other than None; obj is None once the object is gone.

    ``deadline(obj)`` may return a loop time by which the wait ends with ``on_deadline(obj)`` (a startup
    timeout while a pod is Pending, say); it is re-evaluated on every change.
    """
    loop = asyncio.get_running_loop()
    backoff = Backoff()
    selector = f"metadata.name={name}"
    rv: str | None = None
    last: dict | None = None

    def due() -> float | None:
        at = deadline(last) if deadline else None
        return None if at is None else at - loop.time()

    listed_once = False  # the deadline is judged on what the server says, never before the first list
    while True:
        remaining = due() if listed_once else None
        if remaining is not None and remaining <= 0 and on_deadline is not None:
            return Waited(on_deadline(last), last)
        try:
            if rv is None:
                listed = await api.request("GET", resource.path(namespace), {"fieldSelector": selector})
                rv = listed["metadata"]["resourceVersion"]
                items = listed.get("items") or []
                last = items[0] if items else None
                listed_once = True
                verdict = decide(last)
                if verdict is not None:
                    return Waited(verdict, last)
            query = {"watch": "true", "fieldSelector": selector, "resourceVersion": rv,
                     "allowWatchBookmarks": "true", "timeoutSeconds": str(int(window))}
            stream = api.lines(resource.path(namespace), query, read_timeout=window + 30).__aiter__()
            try:
                while True:
                    remaining = due()
                    if remaining is not None and remaining <= 0 and on_deadline is not None:
                        return Waited(on_deadline(last), last)
                    try:
                        line = await asyncio.wait_for(stream.__anext__(), remaining)
                    except asyncio.TimeoutError:
                        continue  # the deadline check at the top of the loop decides
                    except StopAsyncIteration:
                        rv = None  # the window ended: relist, the slow safety re-GET
                        break
                    event = json.loads(line)
                    kind, obj = event.get("type"), event.get("object") or {}
                    if kind == "ERROR":
                        if obj.get("code") == 410:
                            rv = None  # too old: relist
                            break
                        raise KubeApiError(int(obj.get("code") or 500), obj, None, "WATCH", resource.path(namespace))
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    if kind == "BOOKMARK":
                        continue
                    last = None if kind == "DELETED" else obj
                    backoff.reset()
                    verdict = decide(last)
                    if verdict is not None:
                        return Waited(verdict, last)
            finally:
                await stream.aclose()
        except KubeApiError as exc:
            if exc.status == 410:
                rv = None
                continue
            if not exc.retryable:
                raise
            await _pause(backoff.next(exc.retry_after), exc, on_error)
        except (OSError, asyncio.TimeoutError, ValueError) as exc:
            await _pause(backoff.next(), exc, on_error)
        except Exception as exc:  # aiohttp's ClientError family, imported lazily
            if not _is_connection_error(exc):
                raise
            await _pause(backoff.next(), exc, on_error)


def _is_connection_error(exc: Exception) -> bool:
    import aiohttp

    return isinstance(exc, aiohttp.ClientError)


async def _pause(delay: float, exc: Exception, on_error: Callable[[Exception, float], None] | None) -> None:
    if on_error is not None:
        on_error(exc, delay)
    else:
        log.warning("Kubernetes API call failed (%s); retrying in %.1fs", exc, delay)
    await asyncio.sleep(delay)


async def call_with_retries(fn: Callable[[], Any], attempts: int = 6) -> Any:
    """Run one API call, retrying what is retryable (429 honouring Retry-After, 5xx, connection errors)."""
    backoff = Backoff()
    for attempt in range(attempts):
        try:
            return await fn()
        except KubeApiError as exc:
            if not exc.retryable or attempt == attempts - 1:
                raise
            await _pause(backoff.next(exc.retry_after), exc, None)
        except (OSError, asyncio.TimeoutError) as exc:
            if attempt == attempts - 1:
                raise
            await _pause(backoff.next(), exc, None)
        except Exception as exc:
            if not _is_connection_error(exc) or attempt == attempts - 1:
                raise
            await _pause(backoff.next(), exc, None)
    raise AssertionError("unreachable")
