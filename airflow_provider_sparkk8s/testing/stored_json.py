"""JSON of stored objects, encoded once: a committed object is never changed again, so every GET, list and watch
event that sends it can reuse its bytes (as the API server's watch cache reuses an object's serialization)."""

from __future__ import annotations

import json
import threading
from typing import Any

_ENCODED: dict[int, tuple[dict, bytes]] = {}  # id(object) -> (the object, kept so the id stays its own; its JSON)
_LIMIT = 8192
_lock = threading.Lock()


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def stored(obj: dict) -> bytes:
    """The JSON of a stored object (one that is never changed again)."""
    hit = _ENCODED.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    encoded = dumps(obj)
    with _lock:
        if len(_ENCODED) >= _LIMIT:
            _ENCODED.pop(next(iter(_ENCODED)))
        _ENCODED[id(obj)] = (obj, encoded)
    return encoded


def stored_list(listed: dict) -> bytes:
    """A list whose items are stored objects: its own fields, then the items' cached JSON."""
    head = dumps({k: v for k, v in listed.items() if k != "items"})
    return head[:-1] + b',"items":[' + b",".join(stored(item) for item in listed["items"]) + b"]}"


def stored_event(event_type: str, obj: dict) -> bytes:
    """A watch event carrying a stored object."""
    return b'{"type":' + dumps(event_type) + b',"object":' + stored(obj) + b"}"
