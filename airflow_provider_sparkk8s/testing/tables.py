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


def _true_condition(obj: dict, *kinds: str) -> str | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") in kinds and c.get("status") == "True":
            return c["type"]
    return None


def _duration(start: str, end: str | None) -> str:
    then = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    stop = datetime.strptime(end, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) if end else \
        datetime.now(timezone.utc)
    return human_age((datetime.now(timezone.utc) - (stop - then)).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _job_row(job: dict) -> list:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    state = ("Terminating" if job["metadata"].get("deletionTimestamp") else
             _true_condition(job, "Complete", "Failed") or _true_condition(job, "FailureTarget", "SuccessCriteriaMet")
             or _true_condition(job, "Suspended") or "Running")
    succeeded = status.get("succeeded", 0)
    completions = (f"{succeeded}/{spec['completions']}" if spec.get("completions") is not None else
                   f"{succeeded}/1 of {spec.get('parallelism', 1)}")
    duration = _duration(status["startTime"], status.get("completionTime")) if status.get("startTime") else ""
    return [state, completions, duration]


def _cronjob_row(cronjob: dict) -> list:
    spec, status = cronjob.get("spec") or {}, cronjob.get("status") or {}
    last = status.get("lastScheduleTime")
    return [spec.get("schedule", ""), spec.get("timeZone") or "<none>", str(bool(spec.get("suspend"))),
            len(status.get("active") or []), human_age(last) if last else "<none>"]


def _node_row(node: dict) -> list:
    ready = next((c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    roles = sorted(k.split("/", 1)[1] for k in node["metadata"].get("labels") or {}
                   if k.startswith("node-role.kubernetes.io/"))
    version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    return [state, ",".join(roles) or "<none>", human_age(node["metadata"].get("creationTimestamp")), version]


def _some(items: list[str]) -> str:
    """At most three, as kubectl's printers list addresses."""
    return ",".join(items[:3]) + (f" + {len(items) - 3} more..." if len(items) > 3 else "")


def _endpoints_row(endpoints: dict) -> list:
    items = [f"{a['ip']}:{p['port']}" for s in endpoints.get("subsets") or []
             for p in s.get("ports") or [{"port": ""}] for a in s.get("addresses") or []]
    return [_some(items) or "<none>"]


def _endpointslice_row(eps: dict) -> list:
    ports = [str(p.get("port")) for p in eps.get("ports") or [] if p.get("port") is not None]
    addresses = [a for e in eps.get("endpoints") or [] for a in e.get("addresses") or []]
    return [eps.get("addressType", ""), _some(ports) or "<unset>", _some(addresses) or "<unset>"]


def _apiservice_row(apiservice: dict) -> list:
    service = (apiservice.get("spec") or {}).get("service")
    available = next((c for c in (apiservice.get("status") or {}).get("conditions") or []
                      if c.get("type") == "Available"), None)
    where = f"{service.get('namespace')}/{service.get('name')}" if service else "Local"
    state = "Unknown" if available is None else available["status"] if available["status"] == "True" else \
        f"{available['status']} ({available.get('reason', '')})"
    return [where, state]


COLUMNS: dict[str, tuple[list[str], Callable[[dict], list]]] = {
    "jobs": (["Status", "Completions", "Duration"], _job_row),
    "cronjobs": (["Schedule", "Timezone", "Suspend", "Active", "Last Schedule"], _cronjob_row),
    "nodes": (["Status", "Roles", "Age", "Version"], _node_row),
    "endpoints": (["Endpoints"], _endpoints_row),
    "endpointslices": (["AddressType", "Ports", "Endpoints"], _endpointslice_row),
    "apiservices": (["Service", "Available"], _apiservice_row),
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
    age_inside = "Age" in extra_names  # a type whose Age column is not the last one renders it itself
    names = ["Name", *extra_names] + ([] if age_inside else ["Age"])
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [
            {"name": n, "type": "integer" if n in ("Restarts", "Active") else "string",
             "format": "name" if n == "Name" else "",
             "description": n, "priority": 0}
            for n in names
        ],
        "rows": [
            {
                "cells": [o["metadata"]["name"], *extra(o),
                          *([] if age_inside else [human_age(o["metadata"].get("creationTimestamp"))])],
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": o["metadata"]},
            }
            for o in items
        ],
    }
