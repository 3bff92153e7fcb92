"""Small things several controllers need: owner references, Events, timestamps, pod states."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from .. import errors
from ..store import now_rfc3339
from .base import ApiClient

__all__ = ["controller_of", "is_pod_ready", "is_terminal", "now_rfc3339", "owner_reference", "parse_time",
           "record_event", "seconds_since"]


def parse_time(timestamp: str) -> datetime:
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


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


def record_event(api: ApiClient, obj: dict, reason: str, message: str, component: str, type_: str = "Normal"
                 ) -> None:
    """An Event about `obj`, as `kubectl describe` lists them (best effort: a namespace going away refuses it)."""
    meta = obj["metadata"]
    now = now_rfc3339()
    namespace = meta.get("namespace") or "default"
    try:
        api.create({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
            "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
                               "uid": meta["uid"], "resourceVersion": meta.get("resourceVersion", ""),
                               **({"namespace": meta["namespace"]} if meta.get("namespace") else {})},
            "reason": reason, "message": message, "type": type_, "source": {"component": component},
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "reportingComponent": component, "reportingInstance": "",
        })
    except errors.ApiError:
        pass
