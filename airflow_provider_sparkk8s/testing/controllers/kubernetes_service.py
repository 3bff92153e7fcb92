"""The `kubernetes` Service in `default`, as kube-apiserver keeps it (its bootstrap controller and endpoint
reconciler): ClusterIP 10.96.0.1, the first address of the service range; port 443 named https, to the API
server's own port; and its Endpoints and EndpointSlice listing the API server's address (127.0.0.1 and the
emulator's port here). Each is put back when deleted or changed, as the API server does."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .base import ApiClient, Controller, Key

NAMESPACE, NAME = "default", "kubernetes"
CLUSTER_IP = "10.96.0.1"
ADDRESS = "127.0.0.1"  # where the emulator listens (its advertise address)
KEY = Key(NAMESPACE, NAME)
LABELS = {"component": "apiserver", "provider": "kubernetes"}


class KubernetesServiceController(Controller):
    api_version = "v1"
    kind = "Service"
    watches = (("v1", "Endpoints"), ("discovery.k8s.io/v1", "EndpointSlice"))

    def __init__(self, api: ApiClient, port: Callable[[], int]) -> None:
        super().__init__(api)
        self.port = port  # the API server's port, known once it listens

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        return [KEY] if Key.of(obj) == KEY else []

    async def reconcile(self, key: Key) -> float | None:
        port = self.port()
        if key != KEY or not port or self.api.get("v1", "Namespace", None, NAMESPACE) is None:
            return None
        ports = [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]
        service = self.api.get("v1", "Service", NAMESPACE, NAME)
        if service is None:
            self.api.create({"apiVersion": "v1", "kind": "Service",
                             "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": LABELS},
                             "spec": {"type": "ClusterIP", "clusterIP": CLUSTER_IP, "ports": ports,
                                      "sessionAffinity": "None"}})
        elif service["spec"].get("ports") != ports:
            self.api.replace({**service, "spec": {**service["spec"], "ports": ports}})
        endpoint_port = {"name": "https", "port": port, "protocol": "TCP"}
        self._ensure("v1", "Endpoints", {}, {"subsets": [{"addresses": [{"ip": ADDRESS}], "ports": [endpoint_port]}]})
        self._ensure("discovery.k8s.io/v1", "EndpointSlice", {"kubernetes.io/service-name": NAME},
                     {"addressType": "IPv4", "ports": [endpoint_port],
                      "endpoints": [{"addresses": [ADDRESS], "conditions": {"ready": True}}]})
        return None

    def _ensure(self, api_version: str, kind: str, labels: dict[str, str], desired: dict) -> None:
        current = self.api.get(api_version, kind, NAMESPACE, NAME)
        if current is None:
            self.api.create({"apiVersion": api_version, "kind": kind,
                             "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels}, **desired})
        elif any(current.get(field) != value for field, value in desired.items()):
            self.api.replace({**current, **desired})
