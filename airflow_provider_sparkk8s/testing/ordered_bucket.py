"""One resource's objects by (namespace, name), with the keys also kept in order, as etcd keeps them: a list, a page
of one, or a namespace's objects are read from where they start instead of sorting every key on every request."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

Key = tuple[str, str]  # (namespace or "", name)


class Bucket(dict[Key, dict]):
    """A dict whose only writes are ``bucket[key] = obj`` and ``bucket.pop(key)`` (the store's commit)."""

    def __init__(self) -> None:
        super().__init__()
        self._order: list[Key] = []

    def __setitem__(self, key: Key, obj: dict) -> None:
        if key not in self:
            bisect.insort(self._order, key)
        super().__setitem__(key, obj)

    def pop(self, key: Key, default: dict | None = None) -> dict | None:  # type: ignore[override]
        if key in self:
            del self._order[bisect.bisect_left(self._order, key)]
        return super().pop(key, default)

    def in_order(self, namespace: str | None = None, after: Key | None = None) -> Iterator[tuple[int, Key]]:
        """(remaining keys after this one in the range, key) in key order: the namespace's keys (every key when it
        is None or ""), starting after `after`."""
        order = self._order
        start, end = 0, len(order)
        if namespace:
            # (namespace, name) sorts after (namespace, "") and before any key of a namespace that sorts after it.
            start, end = bisect.bisect_left(order, (namespace, "")), bisect.bisect_left(order, (namespace + "\0", ""))
        if after is not None:
            start = max(start, bisect.bisect_right(order, after))
        for index in range(start, end):
            yield end - index - 1, order[index]
