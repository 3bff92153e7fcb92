"""Server-side `Table` rendering, which `kubectl get` asks for (Accept: ...;as=Table;g=meta.k8s.io)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from .resources import ResourceType


def human_age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    seconds = max(0, int((datetime.now(timezone.utc) - then).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h" if hours < 48 else f"{hours // 24}d"


def pod_status(pod: dict) -> str:
    """The STATUS column as kubectl shows it: a container's waiting/terminated reason wins over the phase."""
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    reason = status.get("phase", "Pending")
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
    return reason


def _pod_row(pod: dict) -> list:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or [])
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(cs.get("restartCount", 0) for cs in statuses)
    return [f"{ready}/{total}", pod_status(pod), restarts]


def _status_field(*path: str) -> Callable[[dict], list]:
    def cell(obj: dict) -> list:
        cur: object = obj
        for part in path:
            cur = cur.get(part) if isinstance(cur, dict) else None
        return [cur if cur is not None else ""]

    return cell


COLUMNS: dict[str, tuple[list[str], Callable[[dict], list]]] = {
    "pods": (["Ready", "Status", "Restarts"], _pod_row),
    "namespaces": (["Status"], _status_field("status", "phase")),
    "workflows": (["Status"], _status_field("status", "phase")),
    "sparkapplications": (["Status"], _status_field("status", "applicationState", "state")),
    "services": (["Type", "Cluster-IP"], lambda o: [o["spec"].get("type", ""), o["spec"].get("clusterIP", "")]),
    "events": (["Type", "Reason", "Object", "Message"],
               lambda o: [o.get("type", ""), o.get("reason", ""),
                          f"{(o.get('involvedObject') or {}).get('kind', '').lower()}/"
                          f"{(o.get('involvedObject') or {}).get('name', '')}", o.get("message", "")]),
}


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def table(rt: ResourceType, items: list[dict], list_meta: dict) -> dict:
    extra_names, extra = COLUMNS.get(rt.plural, ([], lambda o: []))
    names = ["Name", *extra_names, "Age"]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [
            {"name": n, "type": "integer" if n == "Restarts" else "string", "format": "name" if n == "Name" else "",
             "description": n, "priority": 0}
            for n in names
        ],
        "rows": [
            {
                "cells": [o["metadata"]["name"], *extra(o), human_age(o["metadata"].get("creationTimestamp"))],
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": o["metadata"]},
            }
            for o in items
        ],
    }
