"""A bounded cache keyed by an object's identity, for values derived from stored objects: a committed object is
never changed again, so what was computed from it once holds as long as the object lives."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    def __init__(self, limit: int = 4096) -> None:
        # The key object is kept, so its id stays its own. An OrderedDict drops its oldest entry in constant time;
        # a dict's first key, once many were popped, is found by scanning past their empty slots.
        self._entries: OrderedDict[int, tuple[K, V]] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        hit = self._entries.get(id(key))
        return hit[1] if hit is not None and hit[0] is key else None

    def put(self, key: K, value: V) -> V:
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.popitem(last=False)
            self._entries[id(key)] = (key, value)
        return value

    def get_or_compute(self, key: K, compute: Callable[[K], V]) -> V:
        hit = self._entries.get(id(key))
        if hit is not None and hit[0] is key:
            return hit[1]
        return self.put(key, compute(key))
