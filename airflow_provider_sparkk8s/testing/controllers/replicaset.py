"""The ReplicaSet controller (apps/v1) and the ReplicationController manager (core/v1): keep `spec.replicas`
pods that match the selector running, owning them with a controller reference; adopt orphans that match,
release pods that stop matching; report replicas, fullyLabeled, ready and available counts in the status."""

from __future__ import annotations

from collections.abc import Iterable

from ..workloads import selector_matches
from .base import Controller, Key
from .claims import claim, owner_keys
from .events import record
from .pod_templates import available_in, deletion_order, is_active, is_ready, pod_from_template


def _selects(owner: dict, obj: dict) -> bool:
    return selector_matches((owner.get("spec") or {}).get("selector"), obj["metadata"].get("labels"))


class ReplicaSetController(Controller):
    api_version = "apps/v1"
    kind = "ReplicaSet"
    component = "replicaset-controller"
    watches = (("v1", "Pod"),)

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        return owner_keys(self.api, self.api_version, self.kind, obj, _selects)

    async def reconcile(self, key: Key) -> float | None:
        owner = self.api.get(self.api_version, self.kind, key.namespace, key.name)
        if owner is None:
            return None
        spec = owner.get("spec") or {}
        pods = claim(self.api, owner, self.api.list("v1", "Pod", key.namespace), lambda p: _selects(owner, p))
        active = [p for p in pods if is_active(p)]
        if not owner["metadata"].get("deletionTimestamp"):
            diff = spec.get("replicas", 1) - len(active)
            template = spec.get("template") or {}
            for _ in range(diff):
                pod = self.api.create(pod_from_template(owner, template), key.namespace)
                record(self.api, owner, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", self.component)
                active.append(pod)
            if diff < 0:
                for pod in sorted(active, key=deletion_order)[:-diff]:
                    self.api.delete("v1", "Pod", key.namespace, pod["metadata"]["name"])
                    record(self.api, owner, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                           self.component)
                    active.remove(pod)
        return self._write_status(owner, active)

    def _write_status(self, owner: dict, active: list[dict]) -> float | None:
        spec = owner.get("spec") or {}
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = spec.get("minReadySeconds", 0)
        waits = [available_in(p, min_ready) for p in active]
        counts = {
            "fullyLabeledReplicas": sum(1 for p in active if template_labels.items() <= (
                p["metadata"].get("labels") or {}).items()),
            "readyReplicas": sum(1 for p in active if is_ready(p)),
            "availableReplicas": sum(1 for w in waits if w == 0),
        }
        status = {"replicas": len(active), **{k: v for k, v in counts.items() if v},
                  "observedGeneration": owner["metadata"].get("generation", 1)}
        if (owner.get("status") or {}) != status:
            self.api.replace({**owner, "status": status}, subresource="status")
        pending = [w for w in waits if w]
        return min(pending) if pending else None


class ReplicationControllerController(ReplicaSetController):
    """The same for core/v1 ReplicationControllers, whose selector is a plain label map."""

    api_version = "v1"
    kind = "ReplicationController"
    component = "replication-controller"
