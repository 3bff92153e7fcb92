"""JSON of stored objects, encoded once: a committed object is never changed again, so every GET, list and watch
event that sends it can reuse its bytes (as the API server's watch cache reuses an object's serialization)."""

from __future__ import annotations

import json
from typing import Any

from .identity_cache import IdentityCache

_ENCODED: IdentityCache[dict, bytes] = IdentityCache(8192)


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def stored(obj: dict) -> bytes:
    """The JSON of a stored object (one that is never changed again)."""
    return _ENCODED.get_or_compute(obj, dumps)


def stored_list(listed: dict) -> bytes:
    """A list whose items are stored objects: its own fields, then the items' cached JSON."""
    head = dumps({k: v for k, v in listed.items() if k != "items"})
    return head[:-1] + b',"items":[' + b",".join(stored(item) for item in listed["items"]) + b"]}"


def stored_event(event_type: str, obj: dict) -> bytes:
    """A watch event carrying a stored object."""
    return b'{"type":' + dumps(event_type) + b',"object":' + stored(obj) + b"}"
