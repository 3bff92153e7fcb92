"""The DaemonSet controller (apps/v1): one pod per Node whose labels match the template's nodeSelector, pinned
to it by node affinity; RollingUpdate replaces pods of an older template within maxUnavailable.

Nodes are read through the API. While the Node type is not served, the cluster is the one node the pod
simulator schedules every pod to (`default_node`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..workloads import selector_matches
from .base import ApiClient, Controller, Key
from .claims import claim, owner_keys
from .events import record
from .pod_templates import available_in, is_active, is_ready, pod_from_template
from .revisions import current_revision

REVISION_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
COMPONENT = "daemonset-controller"
# The tolerations the DaemonSet controller adds to every pod it creates (util.AddOrUpdateDaemonPodTolerations).
TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)


def _selects(owner: dict, pod: dict) -> bool:
    return selector_matches((owner.get("spec") or {}).get("selector"), pod["metadata"].get("labels"))


def _node_of(pod: dict) -> str:
    """The node a daemon pod is for: the one its node affinity names (the pod simulator schedules every pod to
    its own node), else where it runs."""
    spec = pod.get("spec") or {}
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return field["values"][0]
    return spec.get("nodeName") or ""


def _pin(pod: dict, node: str) -> None:
    spec = pod["spec"]
    spec.setdefault("affinity", {})["nodeAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}
    tolerations = spec.setdefault("tolerations", [])
    for key, effect in TOLERATIONS:
        if not any(t.get("key") == key and t.get("effect") == effect for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": effect})


class DaemonSetController(Controller):
    api_version = "apps/v1"
    kind = "DaemonSet"
    watches = (("v1", "Pod"), ("v1", "Node"))

    def __init__(self, api: ApiClient, default_node: str) -> None:
        super().__init__(api)
        self.default_node = default_node

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        if kind == "Node":
            return [Key.of(ds) for ds in self.api.list(self.api_version, self.kind)]
        return owner_keys(self.api, self.api_version, self.kind, obj, _selects)

    def _nodes(self) -> list[dict]:
        if self.api.served("v1", "Node"):
            return self.api.list("v1", "Node")
        name = self.default_node
        return [{"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                       "kubernetes.io/arch": "amd64"}}}]

    async def reconcile(self, key: Key) -> float | None:
        ds = self.api.get(self.api_version, self.kind, key.namespace, key.name)
        if ds is None:
            return None
        pods = claim(self.api, ds, self.api.list("v1", "Pod", key.namespace), lambda p: _selects(ds, p))
        template = ds["spec"].get("template") or {}
        node_selector = (template.get("spec") or {}).get("nodeSelector") or {}
        wanted = {n["metadata"]["name"] for n in self._nodes()
                  if node_selector.items() <= (n["metadata"].get("labels") or {}).items()}
        if ds["metadata"].get("deletionTimestamp"):
            return self._write_status(ds, pods, wanted, "")
        labels = (template.get("metadata") or {}).get("labels") or {}
        _, pod_hash = current_revision(self.api, ds, labels)
        by_node: dict[str, list[dict]] = {}
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                continue
            if not is_active(pod):  # a failed daemon pod is replaced
                self._delete(ds, pod)
                continue
            by_node.setdefault(_node_of(pod), []).append(pod)
        for node in wanted - set(by_node):
            pod = pod_from_template(ds, template, extra_labels={
                REVISION_LABEL: pod_hash, GENERATION_LABEL: str(ds["metadata"].get("generation", 1))})
            _pin(pod, node)
            created = self.api.create(pod, key.namespace)
            record(self.api, ds, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}", COMPONENT)
        for node, node_pods in by_node.items():
            extra = node_pods if node not in wanted else sorted(
                node_pods, key=lambda p: p["metadata"].get("creationTimestamp", ""))[1:]
            for pod in extra:
                self._delete(ds, pod)
        self._roll(ds, by_node, wanted, pod_hash)
        pods = [p for p in self.api.list("v1", "Pod", key.namespace)
                if any(r.get("uid") == ds["metadata"]["uid"] for r in p["metadata"].get("ownerReferences") or [])]
        return self._write_status(ds, pods, wanted, pod_hash)

    def _delete(self, ds: dict, pod: dict) -> None:
        self.api.delete("v1", "Pod", ds["metadata"]["namespace"], pod["metadata"]["name"])
        record(self.api, ds, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", COMPONENT)

    def _roll(self, ds: dict, by_node: dict[str, list[dict]], wanted: set[str], pod_hash: str) -> None:
        strategy = ds["spec"].get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        max_unavailable = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1)
        if isinstance(max_unavailable, str):
            percent = int(max_unavailable.rstrip("%") or 0)
            max_unavailable = max(1, len(wanted) * percent // 100) if max_unavailable.endswith("%") else percent
        unavailable = sum(1 for n in wanted if not any(is_ready(p) for p in by_node.get(n, [])))
        for node in sorted(wanted):
            if unavailable >= max_unavailable:
                return
            old = [p for p in by_node.get(node, []) if p["metadata"].get("labels", {}).get(REVISION_LABEL) != pod_hash]
            for pod in old:
                self._delete(ds, pod)
            if old:
                unavailable += 1

    def _write_status(self, ds: dict, pods: list[dict], wanted: set[str], pod_hash: str) -> float | None:
        active = [p for p in pods if is_active(p)]
        scheduled = {_node_of(p) for p in active}
        min_ready = ds["spec"].get("minReadySeconds", 0)
        on_wanted = [p for p in active if _node_of(p) in wanted]
        waits = [available_in(p, min_ready) for p in on_wanted]
        available = sum(1 for w in waits if w == 0)
        status: dict = {
            "currentNumberScheduled": len(scheduled & wanted),
            "desiredNumberScheduled": len(wanted),
            "numberMisscheduled": len(scheduled - wanted),
            "numberReady": sum(1 for p in on_wanted if is_ready(p)),
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": len({_node_of(p) for p in on_wanted
                                           if p["metadata"].get("labels", {}).get(REVISION_LABEL) == pod_hash}),
            "numberAvailable": available,
            "numberUnavailable": len(wanted) - available,
        }
        for optional in ("updatedNumberScheduled", "numberAvailable", "numberUnavailable"):
            if not status[optional]:
                del status[optional]
        if (ds.get("status") or {}) != status:
            self.api.replace({**ds, "status": status}, subresource="status")
        pending = [w for w in waits if w]
        return min(pending) if pending else None
