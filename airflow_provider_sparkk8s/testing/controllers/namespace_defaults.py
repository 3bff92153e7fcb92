"""What every active namespace holds, put back when deleted: the `default` ServiceAccount (the serviceaccounts
controller) and the `kube-root-ca.crt` ConfigMap with the cluster's CA (the root-ca-cert-publisher)."""

from __future__ import annotations

from collections.abc import Iterable

from .base import ApiClient, Controller, Key

ROOT_CA = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the "
    "internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes "
    "clusters.")


class _PerNamespace(Controller):
    """Reconciles a namespace whenever it, or one of the objects this controller puts in it, changes."""

    api_version = "v1"
    kind = "Namespace"
    object_name = ""

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        if obj["metadata"]["name"] == self.object_name:
            yield Key("", obj["metadata"]["namespace"])

    def active(self, key: Key) -> bool:
        namespace = self.api.get("v1", "Namespace", None, key.name)
        return namespace is not None and not namespace["metadata"].get("deletionTimestamp")


class ServiceAccountsController(_PerNamespace):
    watches = (("v1", "ServiceAccount"),)
    object_name = "default"

    async def reconcile(self, key: Key) -> float | None:
        if self.active(key) and self.api.get("v1", "ServiceAccount", key.name, "default") is None:
            self.api.create({"apiVersion": "v1", "kind": "ServiceAccount",
                             "metadata": {"name": "default", "namespace": key.name}})
        return None


class RootCAPublisher(_PerNamespace):
    watches = (("v1", "ConfigMap"),)
    object_name = ROOT_CA

    def __init__(self, api: ApiClient, ca_pem: str) -> None:
        super().__init__(api)
        self.ca_pem = ca_pem

    async def reconcile(self, key: Key) -> float | None:
        if not self.active(key):
            return None
        current = self.api.get("v1", "ConfigMap", key.name, ROOT_CA)
        data = {"ca.crt": self.ca_pem}
        if current is None:
            self.api.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": ROOT_CA, "namespace": key.name,
                                          "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
                             "data": data})
        elif current.get("data") != data:
            self.api.replace({**current, "data": data})
        return None
