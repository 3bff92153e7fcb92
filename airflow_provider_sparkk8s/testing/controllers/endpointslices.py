"""The endpointslice controller: one discovery.k8s.io/v1 EndpointSlice per selector Service (IPv4), owned by it."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Controller, Key
from .service_backends import backing_pods, endpoint_ports, endpoint_ready, services_for_pod, target_ref
from .support import owner_reference

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"


class EndpointSliceController(Controller):
    api_version = "v1"
    kind = "Service"
    watches = (("v1", "Pod"), ("discovery.k8s.io/v1", "EndpointSlice"))

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        if kind == "EndpointSlice":
            name = (obj["metadata"].get("labels") or {}).get(SERVICE_NAME)
            return [Key(obj["metadata"]["namespace"], name)] if name else []
        return services_for_pod(self.api, obj, old)

    async def reconcile(self, key: Key) -> float | None:
        service = self.api.get("v1", "Service", key.namespace, key.name)
        slices = [s for s in self.api.list("discovery.k8s.io/v1", "EndpointSlice", key.namespace,
                                           label_selector=f"{SERVICE_NAME}={key.name},{MANAGED_BY}={CONTROLLER_NAME}")]
        if service is None or not (service.get("spec") or {}).get("selector"):
            for stale in slices:  # the garbage collector would take them with their Service too
                self.api.delete("discovery.k8s.io/v1", "EndpointSlice", key.namespace, stale["metadata"]["name"])
            return None
        pods = backing_pods(self.api, service)
        endpoints = [{"addresses": [p["status"]["podIP"]],
                      "conditions": {"ready": endpoint_ready(service, p), "serving": endpoint_ready(service, p),
                                     "terminating": False},
                      **({"nodeName": p["spec"]["nodeName"]} if p["spec"].get("nodeName") else {}),
                      "targetRef": target_ref(p)} for p in pods]
        labels = {**(service["metadata"].get("labels") or {}), SERVICE_NAME: key.name, MANAGED_BY: CONTROLLER_NAME}
        # A Service with no pods keeps a placeholder slice; empty lists read back as null (stored as protobuf).
        desired = {"addressType": "IPv4", "endpoints": endpoints or None,
                   # An EndpointSlice port's name is a pointer the controller always sets ("" when unnamed);
                   # kubectl describe svc dereferences it.
                   "ports": ([{"name": "", **port} for port in endpoint_ports(service, pods[0])] or None)
                   if pods else None}
        keep, extra = (slices[0], slices[1:]) if slices else (None, [])
        for stale in extra:
            self.api.delete("discovery.k8s.io/v1", "EndpointSlice", key.namespace, stale["metadata"]["name"])
        if keep is not None and all(keep.get(k) == v for k, v in desired.items()) and (
                keep["metadata"].get("labels") or {}) == labels:
            return None
        if keep is None:
            self.api.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                             "metadata": {"generateName": f"{key.name}-", "namespace": key.namespace,
                                          "labels": labels, "ownerReferences": [owner_reference(service)]},
                             **desired})
        else:
            self.api.replace({**keep, "metadata": {**keep["metadata"], "labels": labels}, **desired})
        return None
