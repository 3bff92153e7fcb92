"""Server-side `Table` rendering, which `kubectl get` asks for (Accept: ...;as=Table;g=meta.k8s.io)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from .resources import ResourceType
from .workloads import selector_string


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
    """The STATUS column as kubectl's printPod computes it: the phase (or the pod's reason), then the first init
    container that has not succeeded (``Init:Error``, ``Init:CrashLoopBackOff``, ``Init:0/2``), else the
    containers' waiting or terminated reasons; ``Terminating`` for a pod being deleted that has not ended."""
    status = pod.get("status") or {}
    phase = status.get("phase", "Pending")
    reason = status.get("reason") or phase
    inits = status.get("initContainerStatuses") or []
    initializing = False
    sidecars = {c["name"] for c in (pod.get("spec") or {}).get("initContainers") or []
                if c.get("restartPolicy") == "Always"}
    for i, cs in enumerate(inits):
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting") or {}
        if terminated is not None and terminated.get("exitCode") == 0:
            continue
        if cs.get("name") in sidecars and cs.get("started"):
            continue
        if terminated is not None:
            reason = "Init:" + terminated["reason"] if terminated.get("reason") else \
                f"Init:ExitCode:{terminated.get('exitCode')}"
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len((pod.get('spec') or {}).get('initContainers') or inits)}"
        initializing = True
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True"
                      for c in status.get("conditions") or [])
    if not initializing or initialized:
        running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting") or {}
            if waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}"
            elif cs.get("ready") and "running" in state:
                running = True
        if reason == "Completed" and running:
            ready = any(c.get("type") == "Ready" for c in status.get("conditions") or [])
            reason = "Running" if ready else "NotReady"
    if pod["metadata"].get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        return "Terminating"
    return reason


def _pod_row(pod: dict) -> list:
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    statuses = status.get("containerStatuses") or []
    # Sidecars (restartable init containers) count as containers, as kubectl's printPod counts them.
    sidecars = {c["name"] for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + len(sidecars)
    ready = sum(1 for cs in statuses if cs.get("ready")) + sum(
        1 for cs in status.get("initContainerStatuses") or [] if cs.get("name") in sidecars and cs.get("ready"))
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


# Extra columns after NAME, then AGE, for types whose table is just that (a type that lists "Age" itself
# renders it in its place).
COLUMNS: dict[str, tuple[list[str], Callable[[dict], list]]] = {
    "jobs": (["Status", "Completions", "Duration"], _job_row),
    "cronjobs": (["Schedule", "Timezone", "Suspend", "Active", "Last Schedule"], _cronjob_row),
    "nodes": (["Status", "Roles", "Age", "Version"], _node_row),
    "endpoints": (["Endpoints"], _endpoints_row),
    "endpointslices": (["AddressType", "Ports", "Endpoints"], _endpointslice_row),
    "apiservices": (["Service", "Available"], _apiservice_row),
    "namespaces": (["Status"], _status_field("status", "phase")),
    "workflows": (["Status"], _status_field("status", "phase")),
    "sparkapplications": (["Status"], _status_field("status", "applicationState", "state")),
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


INTEGER_COLUMNS = {"Restarts", "Desired", "Current", "Up-to-date", "Available", "Revision"}


def _age_layout(names: list[str], row: Callable[[dict], list]) -> tuple[tuple[Column, ...], Callable[[dict], list]]:
    """Name, then `names` (Age among them: the columns after it are `-o wide` ones); `row` gives every cell
    but Name and Age."""
    at = names.index("Age")
    columns = (Column("Name", format="name"),
               *(Column(n, 1 if i > at else 0, "integer" if n in INTEGER_COLUMNS else "string")
                 for i, n in enumerate(names)))

    def cells(obj: dict) -> list:
        values = row(obj)
        return [obj["metadata"]["name"], *values[:at], _age(obj), *values[at:]]
    return columns, cells


_REPLICA_SET_COLUMNS = ["Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"]
WORKLOAD_COLUMNS: dict[str, tuple[list[str], Callable[[dict], list]]] = {
    "deployments": (["Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"],
                    _deployment_row),
    "replicasets": (_REPLICA_SET_COLUMNS, _replica_set_row),
    "replicationcontrollers": (_REPLICA_SET_COLUMNS, _replica_set_row),
    "statefulsets": (["Ready", "Age", "Containers", "Images"], _stateful_set_row),
    "daemonsets": (["Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "Containers",
                    "Images", "Selector"], _daemon_set_row),
    "controllerrevisions": (["Controller", "Revision", "Age"], _controller_revision_row),
}


def _role_binding_row(binding: dict) -> list:
    ref = binding.get("roleRef") or {}
    subjects = binding.get("subjects") or []

    def names(kind: str) -> str:
        return ", ".join(f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount"
                         else s.get("name", "") for s in subjects if s.get("kind") == kind)
    return [f"{ref.get('kind', '')}/{ref.get('name', '')}", names("User"), names("Group"), names("ServiceAccount")]


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

LAYOUTS.update({plural: _age_layout(names, row) for plural, (names, row) in WORKLOAD_COLUMNS.items()})


def _created_at(obj: dict) -> list:
    return [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp", "")]


# Roles show when they were created rather than an age; bindings their role and, wide, their subjects.
_ROLE_LAYOUT = ((Column("Name", format="name"), Column("Created At", type="date")), _created_at)
_BINDING_LAYOUT = _age_layout(["Role", "Age", "Users", "Groups", "ServiceAccounts"], _role_binding_row)
LAYOUTS.update({"roles": _ROLE_LAYOUT, "clusterroles": _ROLE_LAYOUT, "rolebindings": _BINDING_LAYOUT,
                "clusterrolebindings": _BINDING_LAYOUT})


def _layout(plural: str) -> tuple[tuple[Column, ...], Callable[[dict], list]]:
    if plural in LAYOUTS:
        return LAYOUTS[plural]
    names, extra = COLUMNS.get(plural, ([], lambda o: []))
    age = () if "Age" in names else (Column("Age"),)
    columns = (Column("Name", format="name"), *(Column(n, type="integer" if n == "Active" else "string")
                                                 for n in names), *age)
    return columns, lambda o: [o["metadata"]["name"], *extra(o), *(_age(o) for _ in age)]


def table(rt: ResourceType, items: list[dict], list_meta: dict, include_object: str | None = None,
          api_version: str = "meta.k8s.io/v1", headers: bool = True) -> dict:
    """A meta.k8s.io Table; `include_object` is the request's includeObject (None, Metadata, Object).

    Without `headers` the column definitions are null, as in a watch's events after the first.
    """
    columns, cells = _layout(rt.plural)
    return {
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": list_meta,
        "columnDefinitions": [{"name": c.name, "type": c.type, "format": c.format, "description": c.name,
                               "priority": c.priority} for c in columns] if headers else None,
        "rows": [{"cells": cells(o), **_row_object(o, include_object or "Metadata", api_version)} for o in items],
    }


def _row_object(obj: dict, include: str, api_version: str) -> dict:
    if include == "None":
        return {}
    if include == "Object":
        return {"object": obj}
    return {"object": {"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": obj["metadata"]}}
