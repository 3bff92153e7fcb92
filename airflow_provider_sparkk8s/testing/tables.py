"""Server-side `Table` rendering, which `kubectl get` asks for (Accept: ...;as=Table;g=meta.k8s.io)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from .resources import ResourceType
from .workloads import selector_string


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


# ---------------------------------------------------------------------- workloads (kubectl 1.32's printers):
# the columns after Age are the `-o wide` ones (priority 1).
def _containers_images(obj: dict) -> list:
    containers = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


def _selector(obj: dict) -> list:
    return [selector_string((obj.get("spec") or {}).get("selector")) or "<none>"]


def _deployment_row(obj: dict) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}", status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0), *_containers_images(obj), *_selector(obj)]


def _replica_set_row(obj: dict) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [spec.get("replicas", 0), status.get("replicas", 0), status.get("readyReplicas", 0),
            *_containers_images(obj), *_selector(obj)]


def _stateful_set_row(obj: dict) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}", *_containers_images(obj)]


def _daemon_set_row(obj: dict) -> list:
    status = obj.get("status") or {}
    node_selector = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    return [status.get("desiredNumberScheduled", 0), status.get("currentNumberScheduled", 0),
            status.get("numberReady", 0), status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0),
            ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())) or "<none>",
            *_containers_images(obj), *_selector(obj)]


def _controller_revision_row(obj: dict) -> list:
    owner = next((r for r in obj["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
    group = (owner or {}).get("apiVersion", "").rpartition("/")[0]
    controller = f"{owner['kind'].lower()}{'.' + group if group else ''}/{owner['name']}" if owner else "<none>"
    return [controller, obj.get("revision", 0)]


_REPLICA_SET_COLUMNS = ["Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"]
COLUMNS.update({
    "deployments": (["Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"],
                    _deployment_row),
    "replicasets": (_REPLICA_SET_COLUMNS, _replica_set_row),
    "replicationcontrollers": (_REPLICA_SET_COLUMNS, _replica_set_row),
    "statefulsets": (["Ready", "Age", "Containers", "Images"], _stateful_set_row),
    "daemonsets": (["Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "Containers",
                    "Images", "Selector"], _daemon_set_row),
    "controllerrevisions": (["Controller", "Revision"], _controller_revision_row),
})
INTEGER_COLUMNS = {"Restarts", "Desired", "Current", "Up-to-date", "Available", "Revision"}


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def table(rt: ResourceType, items: list[dict], list_meta: dict) -> dict:
    extra_names, extra = COLUMNS.get(rt.plural, ([], lambda o: []))
    names = ["Name", *extra_names] if "Age" in extra_names else ["Name", *extra_names, "Age"]
    age_at = names.index("Age")
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [
            {"name": n, "type": "integer" if n in INTEGER_COLUMNS else "string",
             "format": "name" if n == "Name" else "", "description": n, "priority": 1 if i > age_at else 0}
            for i, n in enumerate(names)
        ],
        "rows": [
            {
                "cells": _with_age([o["metadata"]["name"], *extra(o)], age_at, o),
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": o["metadata"]},
            }
            for o in items
        ],
    }


def _with_age(cells: list, at: int, obj: dict) -> list:
    return [*cells[:at], human_age(obj["metadata"].get("creationTimestamp")), *cells[at:]]
