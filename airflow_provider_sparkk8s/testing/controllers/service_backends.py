"""Which pods back a Service, on which ports: what the endpoints and endpointslice controllers share."""

from __future__ import annotations

from collections.abc import Iterable

from .base import ApiClient, Key
from .support import is_pod_ready, is_terminal


def selects(service: dict, pod: dict | None) -> bool:
    selector = (service.get("spec") or {}).get("selector")
    if not selector or pod is None or pod["metadata"].get("namespace") != service["metadata"].get("namespace"):
        return False
    labels = pod["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def backing_pods(api: ApiClient, service: dict) -> list[dict]:
    """Pods that belong in the Service's endpoints: selected, given an IP, not finished, not being deleted."""
    pods = api.list("v1", "Pod", service["metadata"]["namespace"])
    return sorted((p for p in pods if selects(service, p) and (p.get("status") or {}).get("podIP")
                   and not is_terminal(p) and not p["metadata"].get("deletionTimestamp")),
                  key=lambda p: (p["status"]["podIP"], p["metadata"]["name"]))


def endpoint_ready(service: dict, pod: dict) -> bool:
    return is_pod_ready(pod) or bool((service.get("spec") or {}).get("publishNotReadyAddresses"))


def endpoint_ports(service: dict, pod: dict) -> list[dict]:
    """The Service's ports resolved against the pod (a named targetPort is looked up in its containers)."""
    out = []
    for port in (service.get("spec") or {}).get("ports") or []:
        target = port.get("targetPort", port.get("port"))
        if isinstance(target, str) and not target.isdigit():
            found = next((cp.get("containerPort") for c in pod["spec"].get("containers") or []
                          for cp in c.get("ports") or [] if cp.get("name") == target), None)
            if found is None:
                continue
            target = found
        out.append({**({"name": port["name"]} if port.get("name") else {}), "port": int(target),
                    "protocol": port.get("protocol", "TCP")})
    return out


def target_ref(pod: dict) -> dict:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]}


def services_for_pod(api: ApiClient, obj: dict, old: dict | None) -> Iterable[Key]:
    """The Services whose endpoints a change to this pod may change."""
    for service in api.list("v1", "Service", obj["metadata"].get("namespace")):
        if selects(service, obj) or selects(service, old):
            yield Key.of(service)
