"""The endpoints controller: keeps each selector Service's core/v1 Endpoints listing its pods' addresses."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Controller, Key
from .service_backends import backing_pods, endpoint_ports, endpoint_ready, services_for_pod, target_ref
from .support import now_rfc3339

TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"


class EndpointsController(Controller):
    api_version = "v1"
    kind = "Service"
    watches = (("v1", "Pod"), ("v1", "Endpoints"))

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        if kind == "Endpoints":
            # Put back a deleted one; Endpoints without a Service (written by hand) are left alone.
            return [Key.of(obj)] if event_type == "DELETED" else []
        return services_for_pod(self.api, obj, old)

    async def reconcile(self, key: Key) -> float | None:
        service = self.api.get("v1", "Service", key.namespace, key.name)
        current = self.api.get("v1", "Endpoints", key.namespace, key.name)
        if service is None or not (service.get("spec") or {}).get("selector"):
            if service is None and current is not None:  # its Service was deleted
                self.api.delete("v1", "Endpoints", key.namespace, key.name)
            return None  # a Service without a selector has Endpoints its owner writes
        subsets: dict[str, dict] = {}
        for pod in backing_pods(self.api, service):
            ports = endpoint_ports(service, pod)
            subset = subsets.setdefault(repr(ports), {"ports": ports} if ports else {})
            address = {"ip": pod["status"]["podIP"], "targetRef": target_ref(pod),
                       **({"nodeName": pod["spec"]["nodeName"]} if pod["spec"].get("nodeName") else {})}
            subset.setdefault("addresses" if endpoint_ready(service, pod) else "notReadyAddresses", []).append(address)
        desired = [s for s in subsets.values() if s.get("addresses") or s.get("notReadyAddresses")]
        labels = dict(service["metadata"].get("labels") or {})
        if current is not None and current.get("subsets", []) == desired and (
                current["metadata"].get("labels") or {}) == labels:
            return None
        metadata: dict = {"name": key.name, "namespace": key.namespace, **({"labels": labels} if labels else {}),
                          "annotations": {TRIGGER_TIME: now_rfc3339()}}
        body = {"apiVersion": "v1", "kind": "Endpoints", "metadata": metadata,
                **({"subsets": desired} if desired else {})}
        if current is None:
            self.api.create(body)
        else:
            metadata["resourceVersion"] = current["metadata"]["resourceVersion"]
            self.api.replace(body)
        return None
