"""Small things several controllers need: owner references, Events, timestamps, pod states."""

from __future__ import annotations

from datetime import datetime, timezone

from ..store import now_rfc3339

__all__ = ["controller_of", "epoch_seconds", "is_pod_ready", "is_terminal", "now_rfc3339", "owner_reference",
           "parse_time", "seconds_since"]


def parse_time(timestamp: str) -> datetime:
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def epoch_seconds(text: str | None) -> float | None:
    """An RFC 3339 time (fractions and offsets allowed) as seconds since the epoch; None when absent or unreadable."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def seconds_since(timestamp: str) -> float:
    return (datetime.now(timezone.utc) - parse_time(timestamp)).total_seconds()


def owner_reference(owner: dict, block_owner_deletion: bool = True) -> dict:
    """The controller reference a controller puts on what it creates."""
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": block_owner_deletion}


def controller_of(obj: dict) -> dict | None:
    return next((r for r in obj["metadata"].get("ownerReferences") or [] if r.get("controller")), None)


def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_pod_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


