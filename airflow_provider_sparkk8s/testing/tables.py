"""Server-side `Table` rendering, which `kubectl get` asks for (Accept: ...;as=Table;g=meta.k8s.io)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from .resources import ResourceType


def human_age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    then = datetime.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
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
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    statuses = status.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(cs.get("restartCount", 0) for cs in statuses)
    gates = spec.get("readinessGates") or []
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        passed = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gates_cell = f"{passed}/{len(gates)}"
    else:
        gates_cell = "<none>"
    return [f"{ready}/{total}", pod_status(pod), str(restarts), _age(pod), status.get("podIP") or "<none>",
            spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_cell]


def _service_row(svc: dict) -> list:
    spec = svc.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    external = list(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") for i in
                   ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
        external = [i for i in ingress if i] + external
        external_cell = ",".join(external) or "<pending>"
    elif kind == "ExternalName":
        external_cell = spec.get("externalName") or "<none>"
    else:
        external_cell = ",".join(external) or "<none>"
    ports = [(f"{p.get('port')}:{p['nodePort']}" if p.get("nodePort") else f"{p.get('port')}")
             + f"/{p.get('protocol') or 'TCP'}" for p in spec.get("ports") or []]
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    return [kind, spec.get("clusterIP") or "<none>", external_cell, ",".join(ports) or "<none>", _age(svc),
            selector or "<none>"]


def _event_row(event: dict) -> list:
    involved = event.get("involvedObject") or {}
    first = human_age(event.get("firstTimestamp") or event.get("eventTime"))
    last = human_age(event["lastTimestamp"]) if event.get("lastTimestamp") else first
    count = event.get("count") or 1
    if event.get("series"):
        last = human_age(event["series"].get("lastObservedTime"))
        count = event["series"].get("count") or count
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return [last, event.get("type", ""), event.get("reason", ""), target, involved.get("fieldPath", ""),
            f"{component}, {instance}" if instance else component, str(event.get("message", "")).strip(), first,
            count, event["metadata"]["name"]]


def _age(obj: dict) -> str:
    return human_age(obj["metadata"].get("creationTimestamp"))


def _status_field(*path: str) -> Callable[[dict], list]:
    def cell(obj: dict) -> list:
        cur: object = obj
        for part in path:
            cur = cur.get(part) if isinstance(cur, dict) else None
        return [cur if cur is not None else ""]

    return cell


# Extra columns between NAME and AGE, for types whose table is just that.
COLUMNS: dict[str, tuple[list[str], Callable[[dict], list]]] = {
    "namespaces": (["Status"], _status_field("status", "phase")),
    "workflows": (["Status"], _status_field("status", "phase")),
    "sparkapplications": (["Status"], _status_field("status", "applicationState", "state")),
}


@dataclass(frozen=True)
class Column:
    name: str
    priority: int = 0  # 1: shown by `kubectl get -o wide` only
    type: str = "string"
    format: str = ""


# Whole tables as a 1.32 server prints them (pkg/printers/internalversion/printers.go): the columns, and one
# function giving every cell of a row. The server always sends the wide columns; kubectl hides priority 1.
LAYOUTS: dict[str, tuple[tuple[Column, ...], Callable[[dict], list]]] = {
    "pods": ((Column("Name", format="name"), Column("Ready"), Column("Status"), Column("Restarts"), Column("Age"),
              Column("IP", 1), Column("Node", 1), Column("Nominated Node", 1), Column("Readiness Gates", 1)),
             lambda o: [o["metadata"]["name"], *_pod_row(o)]),
    "services": ((Column("Name", format="name"), Column("Type"), Column("Cluster-IP"), Column("External-IP"),
                  Column("Port(s)"), Column("Age"), Column("Selector", 1)),
                 lambda o: [o["metadata"]["name"], *_service_row(o)]),
    "events": ((Column("Last Seen"), Column("Type"), Column("Reason"), Column("Object"), Column("Subobject", 1),
                Column("Source", 1), Column("Message"), Column("First Seen", 1), Column("Count", 1),
                Column("Name", 1, format="name")), _event_row),
}


def _layout(plural: str) -> tuple[tuple[Column, ...], Callable[[dict], list]]:
    if plural in LAYOUTS:
        return LAYOUTS[plural]
    names, extra = COLUMNS.get(plural, ([], lambda o: []))
    columns = (Column("Name", format="name"), *(Column(n) for n in names), Column("Age"))
    return columns, lambda o: [o["metadata"]["name"], *extra(o), _age(o)]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def table(rt: ResourceType, items: list[dict], list_meta: dict, include_object: str | None = None) -> dict:
    """A meta.k8s.io/v1 Table; `include_object` is the request's includeObject (None, Metadata, Object)."""
    columns, cells = _layout(rt.plural)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [{"name": c.name, "type": c.type, "format": c.format, "description": c.name,
                               "priority": c.priority} for c in columns],
        "rows": [{"cells": cells(o), **_row_object(o, include_object or "Metadata")} for o in items],
    }


def _row_object(obj: dict, include: str) -> dict:
    if include == "None":
        return {}
    if include == "Object":
        return {"object": obj}
    return {"object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}}
