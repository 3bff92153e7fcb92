"""The one waiting engine: wait for a Kubernetes object to reach a condition, through watches shared by every
waiter in the process.

A *collection* is one list + watch of a resource in a namespace (optionally narrowed by a selector), kept as a
local cache the way client-go's informers keep theirs: list once, watch from the returned resourceVersion,
resume after a drop, relist on 410 Gone, follow bookmarks, relist when a watch window ends (the slow safety
re-read, so a lost event can never strand a waiter), back off with full jitter on errors honouring Retry-After,
and reopen the client on 401 (tokens rotate). Every waiter on an object of the collection is told each change.

In the triggerer, all waits through a `SharedKubeAPI` share one collection per (cluster, resource, namespace,
selector): a thousand deferred Spark tasks hold one watch connection instead of polling a thousand times. A
collection starts lazily in the event loop with its first waiter and stops when its last waiter leaves. In the
worker (``asyncio.run`` per call) a wait gets a private collection narrowed to its object by a field selector.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .kube_api import (
    Backoff,
    KubeAPI,
    KubeApiError,
    Resource,
    call_with_retries,
    is_certificate_error,
    is_connection_error,
)

__all__ = ["KubeSource", "Source", "Waited", "reopening", "shared_collections", "wait_for", "wait_for_object"]

log = logging.getLogger(__name__)

T = TypeVar("T")
# As the name waited for: the whole collection. Its `decide` is told every object of the collection (a list) on each
# change, to wait for one to appear (see `present`).
ANY = ""
WINDOW = 300.0  # seconds per watch request; a window that runs its course ends in a relist
UNAUTHORIZED_REOPENS = 2  # a 401 may be a rotated token: reopen the client this many times before giving up


class Source(Protocol):
    """One collection as an API serves it."""

    async def list(self) -> tuple[list[dict], str]:
        """Every object and the collection's resourceVersion."""

    def watch(self, resource_version: str, window: float) -> AsyncGenerator[tuple[str, dict], None]:
        """(type, object) events after `resource_version`; raises KubeApiError (410 when it is too old)."""

    async def get(self, name: str) -> dict | None:
        """One object, freshly read; None when it does not exist."""


class KubeSource:
    """A Kubernetes resource in a namespace, through the raw JSON API."""

    def __init__(self, api: KubeAPI, resource: Resource, namespace: str, *, field_selector: str | None = None,
                 label_selector: str | None = None) -> None:
        self.api, self.resource, self.namespace = api, resource, namespace
        self.selectors = {"fieldSelector": field_selector, "labelSelector": label_selector}

    async def list(self) -> tuple[list[dict], str]:
        listed = await self.api.request("GET", self.resource.path(self.namespace), self.selectors)
        return listed.get("items") or [], listed["metadata"]["resourceVersion"]

    async def watch(self, resource_version: str, window: float) -> AsyncGenerator[tuple[str, dict], None]:
        path = self.resource.path(self.namespace)
        query = {**self.selectors, "watch": "true", "resourceVersion": resource_version,
                 "allowWatchBookmarks": "true", "timeoutSeconds": str(int(window))}
        async with aclosing(self.api.lines(path, query, read_timeout=window + 30)) as lines:
            async for line in lines:
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    raise KubeApiError(int(obj.get("code") or 500), obj, None, "WATCH", path)
                yield kind, obj

    async def get(self, name: str) -> dict | None:
        try:
            return await self.api.request("GET", self.resource.path(self.namespace, name))
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise


@dataclass
class Waited(Generic[T]):
    verdict: T
    object: dict | None


class _Waiter(Generic[T]):
    """One wait on one object: told each state of it, it ends with a verdict, a deadline, or an error."""

    def __init__(self, name: str, decide: Callable[[dict | None], T | None],
                 deadline: Callable[[dict | None], float | None] | None,
                 on_deadline: Callable[[dict | None], T] | None,
                 on_error: Callable[[Exception, float], None] | None) -> None:
        self.name, self.decide, self.deadline, self.on_deadline, self.on_error = (
            name, decide, deadline, on_deadline, on_error)
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[Waited[T]] = self.loop.create_future()
        self.last: dict | None = None
        self.told = 0  # states told so far; deadlines are judged on what the server says, never before
        self.timer: asyncio.TimerHandle | None = None
        self.confirming: asyncio.Task | None = None

    def see(self, obj: dict | None) -> None:
        if self.future.done():
            return
        self.last = obj
        self.told += 1
        try:
            verdict = self.decide(obj)
            if verdict is not None:
                return self._finish(Waited(verdict, obj))
            at = self.deadline(obj) if self.deadline and self.on_deadline else None
        except Exception as exc:  # noqa: BLE001 - a failing decision ends this wait, not the shared watch
            return self.fail(exc)
        if self.timer:
            self.timer.cancel()
        self.timer = self.loop.call_at(at, self._expire) if at is not None else None

    def _expire(self) -> None:
        if self.future.done() or self.on_deadline is None:
            return
        try:
            self._finish(Waited(self.on_deadline(self.last), self.last))
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)

    def _finish(self, waited: Waited[T]) -> None:
        self.close()
        self.future.set_result(waited)

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.close()
            self.future.set_exception(exc)

    def close(self) -> None:
        if self.timer:
            self.timer.cancel()
        if self.confirming and self.confirming is not asyncio.current_task():
            self.confirming.cancel()


def _name(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def _version(obj: dict | None) -> str | None:
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


def _slim(obj: dict) -> dict:
    """What the cache keeps: managedFields can be most of an object and nobody here reads them."""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    return obj


class Collection:
    """One list + watch, its cache, and the waiters on its objects."""

    def __init__(self, open_source: Callable[[], AbstractAsyncContextManager[Source]], window: float = WINDOW,
                 on_close: Callable[[Collection], None] | None = None) -> None:
        self.open_source, self.window, self.on_close = open_source, window, on_close
        self.objects: dict[str, dict] = {}
        self.synced = False
        self.waiters: dict[str, set[_Waiter]] = {}
        self.source: Source | None = None
        self.task: asyncio.Task | None = None
        self.resource_version: str | None = None
        self.closed = False

    # ------------------------------------------------------------------ waiters
    async def wait(self, waiter: _Waiter[T]) -> Waited[T]:
        self.waiters.setdefault(waiter.name, set()).add(waiter)
        if self.task is None:
            self.task = asyncio.create_task(self._run(), name="sparkk8s-watch")
        elif self.synced:
            self._tell(waiter, self.objects.get(waiter.name))
        try:
            return await waiter.future
        finally:
            self._leave(waiter)

    def _leave(self, waiter: _Waiter) -> None:
        waiter.close()
        same = self.waiters.get(waiter.name)
        if same is not None:
            same.discard(waiter)
            if not same:
                del self.waiters[waiter.name]
        if not self.waiters:
            self._close()

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()
        if self.on_close is not None:
            self.on_close(self)

    def _tell(self, waiter: _Waiter, obj: dict | None) -> None:
        if waiter.name == ANY:
            waiter.see(list(self.objects.values()))  # type: ignore[arg-type]
            return
        if obj is None and (not waiter.told or waiter.last is not None):
            # Absent from the collection, but this waiter has not seen it go. It may have been created a moment
            # ago and the watch has not said so yet, or it may lie outside the collection's selector: read it
            # before saying it is gone (for an object outside the selector, this per-object re-read at each
            # relist is how it is followed).
            if waiter.confirming is None:
                waiter.confirming = asyncio.create_task(self._confirm(waiter))
            return
        waiter.see(obj)

    async def _confirm(self, waiter: _Waiter) -> None:
        source, told = self.source, waiter.told
        if source is None:
            return  # reconnecting: the next list tells this waiter
        try:
            obj = await call_with_retries(lambda: source.get(waiter.name))
        except Exception as exc:  # noqa: BLE001 - the next relist tells this waiter
            log.debug("Reading %s failed (%s); the next relist decides", waiter.name, exc)
            return
        finally:
            waiter.confirming = None
        if waiter.told == told:  # nothing newer was told meanwhile
            waiter.see(obj)

    def _changed(self, name: str, obj: dict | None) -> None:
        for waiter in list(self.waiters.get(name, ())):
            self._tell(waiter, obj) if obj is None else waiter.see(obj)
        for waiter in list(self.waiters.get(ANY, ()) if name != ANY else ()):
            self._tell(waiter, None)

    # ------------------------------------------------------------------ the cache
    def _replace(self, items: list[dict]) -> None:
        before, self.objects = self.objects, {_name(o): _slim(o) for o in items}
        first = not self.synced
        self.synced = True
        for name, waiters in list(self.waiters.items()):
            obj = self.objects.get(name)
            if first or _version(obj) != _version(before.get(name)):
                self._changed(name, obj)
            else:  # unchanged: only those not told this state yet need telling
                for waiter in [w for w in waiters if not w.told or (obj is None and w.last is not None)]:
                    self._tell(waiter, obj)

    def _apply(self, kind: str, obj: dict) -> None:
        name = _name(obj)
        if kind == "DELETED":
            self.objects.pop(name, None)
            for waiter in list(self.waiters.get(name, ())):
                waiter.see(None)
            for waiter in list(self.waiters.get(ANY, ())):
                self._tell(waiter, None)
            return
        self.objects[name] = _slim(obj)
        self._changed(name, self.objects[name])

    # ------------------------------------------------------------------ the stream
    async def _run(self) -> None:
        backoff = Backoff()
        reopens = 0
        while True:
            try:
                async with self.open_source() as source:
                    self.source = source
                    try:
                        await self._sync(source, backoff)
                    finally:
                        self.source = None
            except asyncio.CancelledError:
                raise
            except KubeApiError as exc:
                if exc.status != 401 or reopens >= UNAUTHORIZED_REOPENS:
                    return self._fail_all(exc)
                reopens += 1  # maybe a rotated token: a new client reads the credentials again
                await self._pause(backoff.next(), exc)
            except Exception as exc:  # noqa: BLE001 - opening the client failed, or the stream broke for good
                if is_certificate_error(exc) or not (isinstance(exc, OSError | asyncio.TimeoutError)
                                                     or is_connection_error(exc)):
                    return self._fail_all(exc)
                await self._pause(backoff.next(), exc)

    async def _sync(self, source: Source, backoff: Backoff) -> None:
        """List and watch until a non-retryable error (raised) or cancellation."""
        loop = asyncio.get_running_loop()
        self.resource_version = None
        while True:
            try:
                if self.resource_version is None:
                    items, self.resource_version = await source.list()
                    self._replace(items)
                    backoff.reset()
                started, events = loop.time(), 0
                async with aclosing(source.watch(self.resource_version, self.window)) as stream:
                    async for kind, obj in stream:
                        self.resource_version = _version(obj) or self.resource_version
                        events += 1
                        if kind != "BOOKMARK":
                            self._apply(kind, obj)
                        backoff.reset()
                if loop.time() - started >= self.window * 0.9:
                    self.resource_version = None  # a full window: relist, the slow safety re-read
                elif not events:
                    await asyncio.sleep(backoff.next())  # closed at once and empty: do not spin
            except KubeApiError as exc:
                if exc.status == 410:
                    self.resource_version = None  # too old: relist
                    continue
                if not exc.retryable:
                    raise
                await self._pause(backoff.next(exc.retry_after), exc)
            except (OSError, asyncio.TimeoutError, ValueError) as exc:
                if is_certificate_error(exc):
                    raise  # an untrusted certificate stays untrusted: fail the waiters
                await self._pause(backoff.next(), exc)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                await self._pause(backoff.next(), exc)

    async def _pause(self, delay: float, exc: Exception) -> None:
        told = False
        for waiters in list(self.waiters.values()):
            for waiter in waiters:
                if waiter.on_error is not None:
                    waiter.on_error(exc, delay)
                    told = True
        if not told:
            log.warning("Kubernetes API call failed (%s); retrying in %.1fs", exc, delay)
        await asyncio.sleep(delay)

    def _fail_all(self, exc: Exception) -> None:
        for waiters in list(self.waiters.values()):
            for waiter in list(waiters):
                waiter.fail(exc)
        self._close()


# One registry of shared collections per event loop: the triggerer runs all triggers in one loop; the worker
# runs a loop per call and its collections end with it.
_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, Collection]] = \
    weakref.WeakKeyDictionary()


def shared_collections() -> dict[Hashable, Collection]:
    """The shared collections of the running event loop, by key (for tests and diagnostics)."""
    return _SHARED.setdefault(asyncio.get_running_loop(), {})


async def wait_for(key: Hashable | None, open_source: Callable[[], AbstractAsyncContextManager[Source]], name: str,
                   decide: Callable[[dict | None], T | None], *,
                   deadline: Callable[[dict | None], float | None] | None = None,
                   on_deadline: Callable[[dict | None], T] | None = None,
                   on_error: Callable[[Exception, float], None] | None = None,
                   window: float = WINDOW) -> Waited[T]:
    """Wait until ``decide(obj)`` returns something other than None; obj is None once the object is gone.

    With a `key`, the wait joins the process's collection under that key (opening it with `open_source` if
    it is the first); without, it gets a collection of its own. ``deadline(obj)`` may return a loop time by
    which the wait ends with ``on_deadline(obj)`` (a startup timeout while a pod is Pending, say); it is
    re-evaluated on every change.
    """
    waiter = _Waiter(name, decide, deadline, on_deadline, on_error)
    if key is None:
        private = Collection(open_source, window)
        try:
            return await private.wait(waiter)
        finally:
            if private.task is not None:  # let it close its stream before the caller closes the client
                await asyncio.gather(private.task, return_exceptions=True)
    collections = shared_collections()
    collection = collections.get(key)
    if collection is None or collection.closed:

        def forget(closed: Collection) -> None:
            if collections.get(key) is closed:
                del collections[key]

        collection = collections[key] = Collection(open_source, window, on_close=forget)
    return await collection.wait(waiter)


def reopening(first: Source, reopen: Callable[[], AbstractAsyncContextManager[Any]] | None,
              source_on: Callable[[Any], Source]) -> Callable[[], AbstractAsyncContextManager[Source]]:
    """A private wait's source: `first` (on the caller's client) when the wait opens; on every reopen (a
    reconnect, above all after a 401 from an expired token) `source_on` a fresh client from `reopen`, which
    reads the credentials again."""
    opened = 0

    @asynccontextmanager
    async def open_source() -> AsyncIterator[Source]:
        nonlocal opened
        opened += 1
        if opened == 1 or reopen is None:
            yield first
            return
        async with reopen() as client:
            yield source_on(client)

    return open_source


async def wait_for_object(
    api: KubeAPI,
    resource: Resource,
    namespace: str,
    name: str,
    decide: Callable[[dict | None], T | None],
    *,
    deadline: Callable[[dict | None], float | None] | None = None,
    on_deadline: Callable[[dict | None], T] | None = None,
    on_error: Callable[[Exception, float], None] | None = None,
    label_selector: str | None = None,
    window: float = WINDOW,
) -> Waited[T]:
    """`wait_for` a Kubernetes object (or, with `name` ANY, the objects matching `label_selector`). Through an API
    with a share key (`SharedKubeAPI`), the wait shares the watch of (cluster, resource, namespace,
    label_selector) — the object must match the selector; otherwise it watches just this object."""
    if api.share_key is None:
        def source_on(client: KubeAPI) -> Source:
            if name == ANY:
                return KubeSource(client, resource, namespace, label_selector=label_selector)
            return KubeSource(client, resource, namespace, field_selector=f"metadata.name={name}")

        return await wait_for(None, reopening(source_on(api), api.reopen, source_on), name, decide,
                              deadline=deadline, on_deadline=on_deadline, on_error=on_error, window=window)
    opener = api.opener  # type: ignore[attr-defined]

    @asynccontextmanager
    async def open_source() -> AsyncIterator[Source]:
        async with opener() as client:
            yield KubeSource(client, resource, namespace, label_selector=label_selector)

    key = (api.share_key, resource.path(namespace), label_selector)
    return await wait_for(key, open_source, name, decide, deadline=deadline, on_deadline=on_deadline,
                          on_error=on_error, window=window)


def newest(objects: list[dict]) -> dict | None:
    """The most recently created object, or None for none."""
    return max(objects, key=lambda o: (o.get("metadata") or {}).get("creationTimestamp") or "", default=None)


def present(name: str | None) -> tuple[str, Callable[[Any], dict | None]]:
    """(name to wait for, decide) that end a wait once the object named `name` exists, or without a name once
    any object of the collection (narrowed by its label selector) does; the verdict is that object (the newest)."""
    if name:
        return name, lambda obj: obj
    return ANY, newest


async def before(deadline: float | None, awaitable: Awaitable[T]) -> tuple[bool, T | None]:
    """Await `awaitable` until `deadline` (wall clock, seconds since the epoch; None: no limit): (True, its result),
    or (False, None) once the deadline has passed (it is cancelled)."""
    if deadline is None:
        return True, await awaitable
    try:
        return True, await asyncio.wait_for(awaitable, max(0.0, deadline - time.time()))
    except asyncio.TimeoutError:
        if time.time() < deadline:
            raise  # not ours: a timeout inside
        return False, None
