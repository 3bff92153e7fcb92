"""What every emulated controller is built on, the way Kubernetes builds its own controllers.

A controller sees the cluster only through `ApiClient` (get, list, watch, create, replace, patch, delete): never
the emulator object, never another controller. Watch events become keys in a `WorkQueue`; `reconcile(key)` reads
the object's current state and moves the world one step towards it. A key is queued at most once, is never worked
on by two workers at a time, and comes back after a failure with exponential backoff, as in client-go.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .. import errors
from ..resources import ResourceType
from ..store import Store, call_soon

log = logging.getLogger(__name__)

Handler = Callable[[str, dict, "dict | None"], None]  # (ADDED | MODIFIED | DELETED, object, old object)
TokenRequests = Callable[[str, str, dict], dict]  # (namespace, serviceaccount, TokenRequest) -> answered TokenRequest


@dataclass(frozen=True, order=True)
class Key:
    """What a work-queue item names: one object (namespace "" for cluster-scoped ones)."""

    namespace: str
    name: str

    @classmethod
    def of(cls, obj: dict) -> Key:
        meta = obj["metadata"]
        return cls(meta.get("namespace") or "", meta["name"])


class ApiClient:
    """The API a controller may use: the API server's verbs over the store, named by apiVersion and kind."""

    def __init__(self, store: Store, token_requests: TokenRequests | None = None) -> None:
        self._store = store
        self._token_requests = token_requests
        self._handlers: dict[tuple[str, str], list[tuple[Handler, asyncio.AbstractEventLoop]]] = {}
        self._all_kinds: list[tuple[Handler, asyncio.AbstractEventLoop]] = []

    def resource(self, api_version: str, kind: str) -> ResourceType:
        return self._store.rt(api_version, kind)

    def served(self, api_version: str, kind: str) -> bool:
        try:
            self._store.rt(api_version, kind)
        except errors.ApiError:
            return False
        return True

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict | None:
        """The object, or None when it does not exist (or its type is not served)."""
        if not self.served(api_version, kind):
            return None
        return self._store.try_get(self.resource(api_version, kind), namespace, name)

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        if not self.served(api_version, kind):
            return []
        return self._store.list(self.resource(api_version, kind), namespace, label_selector, field_selector)["items"]

    def create(self, obj: dict, namespace: str | None = None) -> dict:
        rt = self.resource(obj["apiVersion"], obj["kind"])
        return self._store.create(rt, namespace or obj["metadata"].get("namespace"), obj)

    def replace(self, obj: dict, subresource: str | None = None) -> dict:
        """Write `obj` back (optimistic concurrency: 409 when it changed since it was read)."""
        rt = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        return self._store.replace(rt, meta.get("namespace"), meta["name"], obj, subresource=subresource)

    def patch(self, api_version: str, kind: str, namespace: str | None, name: str, body: Any,
              patch_type: str = "merge", subresource: str | None = None, field_manager: str | None = None,
              force: bool = False) -> dict:
        rt = self.resource(api_version, kind)
        return self._store.patch(rt, namespace, name, patch_type, body, subresource=subresource,
                                 field_manager=field_manager, force=force)[0]

    def create_token(self, namespace: str, account: str, spec: dict) -> dict:
        """A TokenRequest for the ServiceAccount (the serviceaccounts/token subresource, as a kubelet asks for a
        projected token); the answered TokenRequest."""
        if self._token_requests is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        return self._token_requests(namespace, account, {"apiVersion": "authentication.k8s.io/v1",
                                                         "kind": "TokenRequest", "spec": spec})

    def bind(self, namespace: str, name: str, node: str) -> dict:
        """Put a pod on a node (the pods/binding subresource, as the scheduler does)."""
        return self._store.bind(namespace, name, {"target": {"kind": "Node", "name": node}})

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str,
               propagation: str | None = None, *, grace_period_seconds: int | None = None,
               uid: str | None = None) -> dict | None:
        """Delete (DeleteOptions: propagationPolicy, gracePeriodSeconds, preconditions.uid); None when it was
        already gone."""
        try:
            return self._store.delete(self.resource(api_version, kind), namespace, name, propagation=propagation,
                                      preconditions={"uid": uid} if uid else None,
                                      grace_period_seconds=grace_period_seconds)
        except errors.ApiError as exc:
            if exc.code == 404:
                return None
            raise

    def watch(self, api_version: str, kind: str, handler: Handler, loop: asyncio.AbstractEventLoop) -> None:
        """Call handler(event_type, obj, old) on `loop` for every change to objects of that kind (any version of
        its group, so a custom resource whose CRD comes later is seen too), starting with ADDED for those that
        exist. Handlers are given the stored objects themselves: they must not modify them."""
        group = api_version.rpartition("/")[0]
        self._listen()
        self._handlers.setdefault((group, kind), []).append((handler, loop))
        for obj in self.list(api_version, kind):
            loop.call_soon_threadsafe(handler, "ADDED", obj, None)

    def watch_all(self, handler: Handler, loop: asyncio.AbstractEventLoop) -> None:
        """As `watch`, for every kind the API serves, now or later (the garbage collector's view of the cluster:
        each object's apiVersion and kind say what it is)."""
        self._listen()
        self._all_kinds.append((handler, loop))
        listed: set[tuple[str, str]] = set()
        for rt in list(self._store.registry.types.values()):
            if (rt.group, rt.plural) not in listed:  # one bucket however many versions are served
                listed.add((rt.group, rt.plural))
                for obj in self._store.list(rt)["items"]:
                    loop.call_soon_threadsafe(handler, "ADDED", obj, None)

    def _listen(self) -> None:
        if not self._handlers and not self._all_kinds:
            # One store listener per client, however many kinds it watches.
            self._store.add_listener(self._on_change)

    def _on_change(self, event_type: str, rt: ResourceType, obj: dict, old: dict | None) -> None:
        # Called with the store's lock held: only hand the event to the loop.
        # `obj` and `old` are the stored objects themselves, which handlers only read (a reconcile gets its own
        # copy from `get`): copying every change for every watching controller would cost each write dearly.
        for handler, loop in [*self._handlers.get((rt.group, rt.kind), ()), *self._all_kinds]:
            call_soon(loop, handler, event_type, obj, old)


class WorkQueue:
    """Keys to reconcile: deduplicated, one worker per key at a time, delayed adds, per-key failure backoff."""

    def __init__(self, base_delay: float = 0.005, max_delay: float = 30.0) -> None:
        self._ready: list[Key] = []
        self._queued: set[Key] = set()
        self._active: set[Key] = set()
        self._dirty: set[Key] = set()  # added again while being worked on
        self._delayed: list[tuple[float, int, Key]] = []
        self._seq = 0
        self._failures: dict[Key, int] = {}
        self._base, self._max = base_delay, max_delay
        self._wakeup = asyncio.Event()

    def add(self, key: Key) -> None:
        if key in self._active:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._ready.append(key)
            self._wakeup.set()

    def add_after(self, key: Key, delay: float) -> None:
        if delay <= 0:
            self.add(key)
            return
        self._seq += 1
        heapq.heappush(self._delayed, (time.monotonic() + delay, self._seq, key))
        self._wakeup.set()

    def retry(self, key: Key) -> None:
        """After a failed reconcile: again after 5 ms, 10 ms, 20 ms, ... up to max_delay."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self.add_after(key, min(self._base * 2 ** failures, self._max))

    def forget(self, key: Key) -> None:
        self._failures.pop(key, None)

    async def get(self) -> Key:
        while True:
            now = time.monotonic()
            while self._delayed and self._delayed[0][0] <= now:
                self.add(heapq.heappop(self._delayed)[2])
            if self._ready:
                key = self._ready.pop(0)
                self._queued.discard(key)
                self._active.add(key)
                return key
            self._wakeup.clear()
            timeout = self._delayed[0][0] - now if self._delayed else None
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    def done(self, key: Key) -> None:
        self._active.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def __len__(self) -> int:
        return len(self._ready) + len(self._delayed)

    @property
    def idle(self) -> bool:
        """Nothing ready to work on and nothing being worked on (delayed keys may still come)."""
        return not self._ready and not self._active


class Controller:
    """A reconcile loop over one kind of object.

    Subclasses set `api_version`/`kind` (the primary kind, whose changes queue the object's own key), may set
    `owns` (kinds whose changes queue their controlling owner of the primary kind) and `watches` (more kinds, mapped
    to keys by `keys_for`), or override `subscribe` to watch otherwise, and implement `reconcile`, which returns
    seconds after which to look again, or None.
    """

    api_version: str = ""
    kind: str = ""
    owns: tuple[tuple[str, str], ...] = ()
    watches: tuple[tuple[str, str], ...] = ()
    workers: int = 1

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.queue: WorkQueue | None = None
        self._tasks: list[asyncio.Task] = []

    @property
    def name(self) -> str:
        return type(self).__name__

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Begin watching and working (called on the emulator's loop thread before it runs)."""
        self.queue = WorkQueue()
        self.subscribe(loop)
        self._tasks = [loop.create_task(self._work(), name=f"{self.name}-{i}") for i in range(self.workers)]

    def subscribe(self, loop: asyncio.AbstractEventLoop) -> None:
        """Open the watches whose events queue keys."""
        self.api.watch(self.api_version, self.kind, self._on_primary, loop)
        for api_version, kind in self.owns:
            self.api.watch(api_version, kind, self._on_owned, loop)
        for api_version, kind in self.watches:
            self.api.watch(api_version, kind, self._on_watched(api_version, kind), loop)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    # ------------------------------------------------------------------ events → keys
    def on_event(self, event_type: str, obj: dict, old: dict | None) -> None:
        """A change to a primary object, before its key is queued (for bookkeeping such as dropping state)."""

    def _on_primary(self, event_type: str, obj: dict, old: dict | None) -> None:
        self.on_event(event_type, obj, old)
        self.enqueue(Key.of(obj))

    def _on_owned(self, event_type: str, obj: dict, old: dict | None) -> None:
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") == self.kind:
                self.enqueue(Key(obj["metadata"].get("namespace") or "", ref["name"]))

    def _on_watched(self, api_version: str, kind: str) -> Handler:
        def handler(event_type: str, obj: dict, old: dict | None) -> None:
            for key in self.keys_for(api_version, kind, event_type, obj, old):
                self.enqueue(key)
        return handler

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        """The primary keys a change to a watched kind concerns."""
        return ()

    @property
    def idle(self) -> bool:
        return self.queue is None or self.queue.idle

    def enqueue(self, key: Key, after: float = 0.0) -> None:
        if self.queue is not None:
            self.queue.add_after(key, after)

    # ------------------------------------------------------------------ the loop
    async def reconcile(self, key: Key) -> float | None:
        raise NotImplementedError

    async def _work(self) -> None:
        assert self.queue is not None
        while True:
            key = await self.queue.get()
            try:
                again = await self.reconcile(key)
            except asyncio.CancelledError:
                raise
            except errors.ApiError as exc:
                if exc.code != 409:  # a conflict only means "read again"
                    log.debug("%s: reconciling %s failed: %s", self.name, key, exc)
                self.queue.retry(key)
            except Exception:  # noqa: BLE001 - one bad object must not stop the controller
                log.exception("%s: reconciling %s failed", self.name, key)
                self.queue.retry(key)
            else:
                self.queue.forget(key)
                if again is not None:
                    self.queue.add_after(key, again)
            finally:
                self.queue.done(key)
