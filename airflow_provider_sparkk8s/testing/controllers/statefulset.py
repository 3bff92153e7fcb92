"""The StatefulSet controller (apps/v1): pods named `<set>-0`, `<set>-1`, ... with stable hostnames and their
PersistentVolumeClaims from volumeClaimTemplates; OrderedReady creates each pod only once those before it are
Running and Ready and removes them from the highest ordinal down, Parallel does all at once; RollingUpdate
replaces pods of an older revision from the highest ordinal down to the partition, one at a time."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable

from ..workloads import selector_matches
from .base import Controller, Key
from .claims import claim, owner_keys
from .events import record
from .pod_templates import available_in, is_active, is_ready, pod_from_template
from .revisions import current_revision

REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
COMPONENT = "statefulset-controller"


def _ordinal(owner: dict, pod: dict) -> int | None:
    m = re.fullmatch(re.escape(owner["metadata"]["name"]) + r"-(0|[1-9][0-9]*)", pod["metadata"]["name"])
    return int(m.group(1)) if m else None


def _selects(owner: dict, pod: dict) -> bool:
    return (selector_matches((owner.get("spec") or {}).get("selector"), pod["metadata"].get("labels"))
            and _ordinal(owner, pod) is not None)


class StatefulSetController(Controller):
    api_version = "apps/v1"
    kind = "StatefulSet"
    watches = (("v1", "Pod"),)

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        return owner_keys(self.api, self.api_version, self.kind, obj, _selects)

    async def reconcile(self, key: Key) -> float | None:
        sts = self.api.get(self.api_version, self.kind, key.namespace, key.name)
        if sts is None:
            return None
        spec = sts["spec"]
        pods = claim(self.api, sts, self.api.list("v1", "Pod", key.namespace), lambda p: _selects(sts, p))
        if sts["metadata"].get("deletionTimestamp"):
            return self._write_status(sts, pods, "")
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        update_revision, _ = current_revision(self.api, sts, labels)
        by_ordinal = {_ordinal(sts, p): p for p in pods}
        self._step(sts, by_ordinal, update_revision)
        pods = [p for p in self.api.list("v1", "Pod", key.namespace) if _ordinal(sts, p) is not None
                and any(r.get("uid") == sts["metadata"]["uid"] for r in p["metadata"].get("ownerReferences") or [])]
        return self._write_status(sts, pods, update_revision)

    def _step(self, sts: dict, by_ordinal: dict, update_revision: str) -> None:
        """One pass of the rules: create missing pods, replace failed ones, remove condemned ones, update."""
        spec = sts["spec"]
        replicas = spec.get("replicas", 1)
        ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        for ordinal in range(replicas):
            pod = by_ordinal.get(ordinal)
            if pod is not None and not is_active(pod) and not pod["metadata"].get("deletionTimestamp"):
                self._delete(sts, pod)  # a failed pod is recreated
                pod = None
            if pod is None:
                self._create(sts, ordinal, update_revision)
                if ordered:
                    return
            elif ordered and not is_ready(pod):
                return
        condemned = sorted((o for o in by_ordinal if o is not None and o >= replicas), reverse=True)
        for ordinal in condemned:
            self._delete(sts, by_ordinal[ordinal])
            if ordered:
                return
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        partition = (strategy.get("rollingUpdate") or {}).get("partition", 0)
        if not all(is_ready(by_ordinal[o]) for o in range(replicas) if o in by_ordinal):
            return
        for ordinal in range(replicas - 1, partition - 1, -1):
            pod = by_ordinal.get(ordinal)
            if pod is not None and pod["metadata"].get("labels", {}).get(REVISION_LABEL) != update_revision:
                self._delete(sts, pod)
                return

    def _create(self, sts: dict, ordinal: int, revision: str) -> None:
        spec = sts["spec"]
        name = f"{sts['metadata']['name']}-{ordinal}"
        namespace = sts["metadata"]["namespace"]
        pod = pod_from_template(sts, spec.get("template") or {}, name=name, extra_labels={
            REVISION_LABEL: revision, POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal)})
        pod["spec"]["hostname"] = name
        if spec.get("serviceName"):
            pod["spec"]["subdomain"] = spec["serviceName"]
        volumes = pod["spec"].setdefault("volumes", [])
        for claim_template in spec.get("volumeClaimTemplates") or []:
            claim_name = claim_template["metadata"]["name"]
            pvc_name = f"{claim_name}-{name}"
            if self.api.get("v1", "PersistentVolumeClaim", namespace, pvc_name) is None:
                pvc = copy.deepcopy(claim_template)
                pvc["metadata"] = {"name": pvc_name, "namespace": namespace,
                                   "labels": dict((spec.get("selector") or {}).get("matchLabels") or {})}
                self.api.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim", **pvc})
                record(self.api, sts, "SuccessfulCreate", f"create Claim {pvc_name} Pod {name} in StatefulSet "
                       f"{sts['metadata']['name']} success", COMPONENT)
            volumes[:] = [v for v in volumes if v.get("name") != claim_name]
            volumes.append({"name": claim_name, "persistentVolumeClaim": {"claimName": pvc_name}})
        if not volumes:
            del pod["spec"]["volumes"]
        self.api.create(pod, namespace)
        record(self.api, sts, "SuccessfulCreate", f"create Pod {name} in StatefulSet {sts['metadata']['name']} "
               "successful", COMPONENT)

    def _delete(self, sts: dict, pod: dict) -> None:
        name = pod["metadata"]["name"]
        self.api.delete("v1", "Pod", sts["metadata"]["namespace"], name)
        record(self.api, sts, "SuccessfulDelete", f"delete Pod {name} in StatefulSet {sts['metadata']['name']} "
               "successful", COMPONENT)

    def _write_status(self, sts: dict, pods: list[dict], update_revision: str) -> float | None:
        previous = sts.get("status") or {}
        active = [p for p in pods if is_active(p)]
        min_ready = sts["spec"].get("minReadySeconds", 0)
        waits = [available_in(p, min_ready) for p in active]
        revision_of = [p["metadata"].get("labels", {}).get(REVISION_LABEL) for p in active]
        current = previous.get("currentRevision") or update_revision
        status: dict = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(active),
            "readyReplicas": sum(1 for p in active if is_ready(p)),
            "currentReplicas": revision_of.count(current),
            "updatedReplicas": revision_of.count(update_revision),
            "currentRevision": current,
            "updateRevision": update_revision or previous.get("updateRevision", ""),
            "collisionCount": previous.get("collisionCount", 0),
            "availableReplicas": sum(1 for w in waits if w == 0),
        }
        if status["updatedReplicas"] == status["replicas"] == status["readyReplicas"] \
                == sts["spec"].get("replicas", 1):
            status["currentRevision"] = status["updateRevision"]
            status["currentReplicas"] = status["updatedReplicas"]
        status = {k: v for k, v in status.items() if v or k in ("replicas", "availableReplicas", "collisionCount")}
        if previous != status:
            self.api.replace({**sts, "status": status}, subresource="status")
        pending = [w for w in waits if w]
        return min(pending) if pending else None
