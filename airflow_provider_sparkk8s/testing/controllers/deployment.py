"""The Deployment controller (apps/v1), after k8s.io/kubernetes pkg/controller/deployment: one ReplicaSet per
pod template (named `<deployment>-<pod-template-hash>`), rolled out by the strategy (RollingUpdate within
maxSurge / maxUnavailable, or Recreate), revision annotations for `kubectl rollout history|undo`, old
ReplicaSets pruned to revisionHistoryLimit, and a status with the Available and Progressing conditions that
`kubectl rollout status` reads."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterable
from datetime import datetime, timezone

from ..store import now_rfc3339
from ..workloads import selector_matches
from .base import Controller, Key
from .claims import claim, controller_of, controller_ref, owner_keys
from .events import record
from .pod_templates import template_hash

COMPONENT = "deployment-controller"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# Annotations a Deployment does not pass on to its ReplicaSets (deploymentutil's annotationsToSkip).
NOT_COPIED = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY, DESIRED, MAX_REPLICAS,
              "deprecated.deployment.rollback.to"}


def _selects(owner: dict, obj: dict) -> bool:
    return selector_matches((owner.get("spec") or {}).get("selector"), obj["metadata"].get("labels"))


def _without_hash(template: dict) -> dict:
    template = copy.deepcopy(template)
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return template


def _revision(rs: dict) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _replicas(rs: dict) -> int:
    return (rs.get("spec") or {}).get("replicas", 0)


def _status(rs: dict, field: str) -> int:
    return (rs.get("status") or {}).get(field, 0)


def _resolve(value: int | str | None, total: int, round_up: bool) -> int:
    """An IntOrString of maxSurge / maxUnavailable against the desired replicas (percentages: surge rounds up,
    unavailable rounds down)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if value.endswith("%"):
        scaled = total * int(value[:-1]) / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(value)


class Limits:
    """maxSurge and maxUnavailable of a Deployment, resolved."""

    def __init__(self, deployment: dict) -> None:
        spec = deployment["spec"]
        self.replicas = spec.get("replicas", 1)
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate":
            self.surge, self.unavailable = 0, 0
            return
        rolling = strategy.get("rollingUpdate") or {}
        self.surge = _resolve(rolling.get("maxSurge"), self.replicas, True)
        self.unavailable = _resolve(rolling.get("maxUnavailable"), self.replicas, False)
        if self.surge == 0 and self.unavailable == 0:
            self.unavailable = 1  # validation forbids both zero; the controller guards anyway
        self.unavailable = min(self.unavailable, self.replicas)


def _condition(status: str, reason: str, message: str) -> dict:
    now = now_rfc3339()
    return {"lastTransitionTime": now, "lastUpdateTime": now, "message": message, "reason": reason,
            "status": status}


def _set_condition(conditions: list[dict], kind: str, new: dict, keep_transition: bool = False) -> list[dict]:
    """SetDeploymentCondition: nothing changes when status and reason are the same (unless the update time is
    to move on, `keep_transition`)."""
    current = next((c for c in conditions if c["type"] == kind), None)
    if current is not None and current["status"] == new["status"] and current["reason"] == new["reason"] \
            and not keep_transition:
        return conditions
    new = {"type": kind, **new}
    if keep_transition and current is not None and current["status"] == new["status"]:
        new["lastTransitionTime"] = current["lastTransitionTime"]
    return [*(c for c in conditions if c["type"] != kind), new]


class DeploymentController(Controller):
    api_version = "apps/v1"
    kind = "Deployment"
    watches = (("apps/v1", "ReplicaSet"), ("v1", "Pod"))

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        if kind == "Pod":
            return self._recreate_key(obj) if event_type == "DELETED" else ()
        return owner_keys(self.api, self.api_version, self.kind, obj, _selects)

    def _recreate_key(self, pod: dict) -> list[Key]:
        """As deletePod: a Recreate Deployment waits for its old pods to go, and the ReplicaSets do not change
        when they do (a terminating pod no longer counts in their status), so the pod's deletion queues it."""
        namespace = pod["metadata"].get("namespace") or ""
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return []
        rs = self.api.get("apps/v1", "ReplicaSet", namespace, ref["name"])
        owner = controller_of(rs) if rs is not None and rs["metadata"]["uid"] == ref.get("uid") else None
        if owner is None or owner.get("kind") != self.kind:
            return []
        d = self.api.get(self.api_version, self.kind, namespace, owner["name"])
        if d is None or ((d.get("spec") or {}).get("strategy") or {}).get("type") != "Recreate":
            return []
        return [Key.of(d)]

    async def reconcile(self, key: Key) -> float | None:
        d = self.api.get(self.api_version, self.kind, key.namespace, key.name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return None
        all_rs = claim(self.api, d, self.api.list("apps/v1", "ReplicaSet", key.namespace), lambda rs: _selects(d, rs))
        template = _without_hash(d["spec"].get("template") or {})
        new_rs = next((rs for rs in all_rs if _without_hash(rs["spec"].get("template") or {}) == template), None)
        old_rs = sorted((rs for rs in all_rs if rs is not new_rs), key=lambda rs: rs["metadata"]["creationTimestamp"])
        limits = Limits(d)
        if d["spec"].get("paused"):
            return self._write_status(d, new_rs, old_rs, limits, None)
        recreate = (d["spec"].get("strategy") or {}).get("type") == "Recreate"
        if recreate and not self._old_pods_gone(d, old_rs, limits):
            # Recreate: the new ReplicaSet only comes once every old pod has gone.
            return self._write_status(d, new_rs, old_rs, limits, None)
        created = new_rs is None
        new_rs = self._new_replica_set(d, new_rs, old_rs, limits)
        if recreate:
            new_rs = self._scale(d, new_rs, limits.replicas, limits)
        else:
            new_rs = self._scale_new(d, new_rs, old_rs, limits)
            old_rs = self._scale_old(d, new_rs, old_rs, limits)
        return self._write_status(d, new_rs, old_rs, limits, new_rs["metadata"]["name"] if created else None)

    # ------------------------------------------------------------------ ReplicaSets
    def _new_replica_set(self, d: dict, new_rs: dict | None, old_rs: list[dict], limits: Limits) -> dict:
        """The ReplicaSet of the current template: created, or given the newest revision (after an undo) and the
        Deployment's annotations."""
        newest_old = max((_revision(rs) for rs in old_rs), default=0)
        revision = newest_old + 1
        copied = {k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k not in NOT_COPIED}
        if new_rs is None:
            template = copy.deepcopy(d["spec"].get("template") or {})
            pod_hash = template_hash(_without_hash(template), (d.get("status") or {}).get("collisionCount", 0))
            template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
            selector = copy.deepcopy(d["spec"]["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
            replicas = self._new_replicas(d, 0, old_rs, limits)
            rs: dict = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
                "name": f"{d['metadata']['name']}-{pod_hash}", "namespace": d["metadata"]["namespace"],
                "labels": template["metadata"]["labels"], "ownerReferences": [controller_ref(d)],
                "annotations": {**copied, REVISION: str(revision), **self._replica_annotations(d, limits)}},
                "spec": {"replicas": replicas, "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                         "selector": selector, "template": template}}
            if not rs["spec"]["minReadySeconds"]:
                del rs["spec"]["minReadySeconds"]
            new_rs = self.api.create(rs)
            record(self.api, d, "ScalingReplicaSet", f"Scaled up replica set {rs['metadata']['name']} from 0 to "
                   f"{replicas}", COMPONENT)
            self._set_revision(d, str(revision))
            return new_rs
        annotations = dict(new_rs["metadata"].get("annotations") or {})
        wanted = {**annotations, **copied}
        current = _revision(new_rs)
        if current <= newest_old:
            # An old template came back (`kubectl rollout undo`): it becomes the newest revision.
            history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h]
            wanted[REVISION_HISTORY] = ",".join([*history, str(current)]) if current else annotations.get(
                REVISION_HISTORY, "")
            if not wanted[REVISION_HISTORY]:
                del wanted[REVISION_HISTORY]
            wanted[REVISION] = str(revision)
        if wanted != annotations:
            new_rs = self.api.patch("apps/v1", "ReplicaSet", new_rs["metadata"]["namespace"],
                                    new_rs["metadata"]["name"], {"metadata": {"annotations": wanted}})
        self._set_revision(d, wanted.get(REVISION, ""))
        return new_rs

    def _set_revision(self, d: dict, revision: str) -> None:
        if revision and (d["metadata"].get("annotations") or {}).get(REVISION) != revision:
            patched = self.api.patch("apps/v1", "Deployment", d["metadata"]["namespace"], d["metadata"]["name"],
                                     {"metadata": {"annotations": {REVISION: revision}}}, subresource="status")
            d["metadata"] = patched["metadata"]

    @staticmethod
    def _replica_annotations(d: dict, limits: Limits) -> dict:
        return {DESIRED: str(limits.replicas), MAX_REPLICAS: str(limits.replicas + limits.surge)}

    def _scale(self, d: dict, rs: dict, replicas: int, limits: Limits) -> dict:
        annotations = {**(rs["metadata"].get("annotations") or {}), **self._replica_annotations(d, limits)}
        if _replicas(rs) == replicas and annotations == rs["metadata"].get("annotations"):
            return rs
        scaled = self.api.patch("apps/v1", "ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"],
                                {"metadata": {"annotations": annotations}, "spec": {"replicas": replicas}})
        if _replicas(rs) != replicas:
            record(self.api, d, "ScalingReplicaSet", f"Scaled {'up' if replicas > _replicas(rs) else 'down'} replica "
                   f"set {rs['metadata']['name']} from {_replicas(rs)} to {replicas}", COMPONENT)
        return scaled

    def _new_replicas(self, d: dict, current: int, old_rs: list[dict], limits: Limits) -> int:
        """NewRSNewReplicas: grow the new ReplicaSet only as far as maxSurge allows."""
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return limits.replicas
        all_pods = current + sum(_replicas(rs) for rs in old_rs)
        max_total = limits.replicas + limits.surge
        if all_pods >= max_total:
            return current
        return current + min(max_total - all_pods, limits.replicas - current)

    def _scale_new(self, d: dict, new_rs: dict, old_rs: list[dict], limits: Limits) -> dict:
        current = _replicas(new_rs)
        if current > limits.replicas:
            return self._scale(d, new_rs, limits.replicas, limits)
        return self._scale(d, new_rs, self._new_replicas(d, current, old_rs, limits), limits)

    def _scale_old(self, d: dict, new_rs: dict, old_rs: list[dict], limits: Limits) -> list[dict]:
        """reconcileOldReplicaSets: scale old ReplicaSets down while keeping replicas - maxUnavailable available."""
        if not sum(_replicas(rs) for rs in old_rs):
            return old_rs
        all_rs = [new_rs, *old_rs]
        min_available = limits.replicas - limits.unavailable
        new_unavailable = _replicas(new_rs) - _status(new_rs, "availableReplicas")
        budget = sum(_replicas(rs) for rs in all_rs) - min_available - new_unavailable
        if budget <= 0:
            return old_rs
        out = []
        for rs in old_rs:  # first the old pods that are not available anyway, oldest ReplicaSet first
            unhealthy = _replicas(rs) - _status(rs, "availableReplicas")
            down = min(budget, max(unhealthy, 0))
            if down:
                rs = self._scale(d, rs, _replicas(rs) - down, limits)
                budget -= down
            out.append(rs)
        available = sum(_status(rs, "availableReplicas") for rs in [new_rs, *out])
        to_remove = available - min_available
        result = []
        for rs in out:
            down = min(_replicas(rs), max(to_remove, 0))
            if down:
                rs = self._scale(d, rs, _replicas(rs) - down, limits)
                to_remove -= down
            result.append(rs)
        return result

    def _old_pods_gone(self, d: dict, old_rs: list[dict], limits: Limits) -> bool:
        """Scale the old ReplicaSets to zero; True once none of their pods is left running."""
        for i, rs in enumerate(old_rs):
            if _replicas(rs):
                old_rs[i] = self._scale(d, rs, 0, limits)
        if sum(_status(rs, "replicas") for rs in old_rs):
            return False
        uids = {rs["metadata"]["uid"] for rs in old_rs}
        # As oldPodsRunning: a pod that is terminating but not finished still runs.
        return not any((pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
                       and (controller_of(pod) or {}).get("uid") in uids
                       for pod in self.api.list("v1", "Pod", d["metadata"]["namespace"]))

    def _prune(self, d: dict, old_rs: list[dict]) -> None:
        """Delete the oldest empty old ReplicaSets beyond revisionHistoryLimit."""
        limit = d["spec"].get("revisionHistoryLimit", 10)
        empty = sorted((rs for rs in old_rs if not _replicas(rs) and not _status(rs, "replicas")
                        and not rs["metadata"].get("deletionTimestamp")), key=_revision)
        for rs in empty[:max(0, len(empty) - limit)]:
            self.api.delete("apps/v1", "ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"])

    # ------------------------------------------------------------------ status
    def _write_status(self, d: dict, new_rs: dict | None, old_rs: list[dict], limits: Limits,
                      created: str | None) -> float | None:
        all_rs = [rs for rs in [new_rs, *old_rs] if rs is not None]
        previous = d.get("status") or {}
        total = sum(_status(rs, "replicas") for rs in all_rs)
        available = sum(_status(rs, "availableReplicas") for rs in all_rs)
        counts = {
            "replicas": total,
            "updatedReplicas": _status(new_rs, "replicas") if new_rs else 0,
            "readyReplicas": sum(_status(rs, "readyReplicas") for rs in all_rs),
            "availableReplicas": available,
            "unavailableReplicas": max(limits.replicas - available, 0),
        }
        status: dict = {"observedGeneration": d["metadata"].get("generation", 1),
                        **{k: v for k, v in counts.items() if v}}
        if previous.get("collisionCount"):
            status["collisionCount"] = previous["collisionCount"]
        conditions = list(previous.get("conditions") or [])
        if available >= limits.replicas - limits.unavailable:
            conditions = _set_condition(conditions, "Available", _condition(
                "True", "MinimumReplicasAvailable", "Deployment has minimum availability."))
        else:
            conditions = _set_condition(conditions, "Available", _condition(
                "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."))
        conditions, again = self._progress(d, new_rs, status, previous, conditions, created)
        status["conditions"] = conditions
        complete = again is None and not d["spec"].get("paused")
        if previous != status:
            self.api.replace({**d, "status": status}, subresource="status")
        if complete and new_rs is not None:
            self._prune(d, old_rs)
        return again

    def _progress(self, d: dict, new_rs: dict | None, status: dict, previous: dict, conditions: list[dict],
                  created: str | None) -> tuple[list[dict], float | None]:
        """The Progressing condition, and when to look again for the progress deadline (None: done)."""
        progressing = next((c for c in conditions if c["type"] == "Progressing"), None)
        if d["spec"].get("paused"):
            if progressing is None or progressing["reason"] != "DeploymentPaused":
                conditions = _set_condition(conditions, "Progressing", _condition(
                    "Unknown", "DeploymentPaused", "Deployment is paused"))
            return conditions, None
        if progressing is not None and progressing["reason"] == "DeploymentPaused":
            conditions = _set_condition(conditions, "Progressing", _condition(
                "Unknown", "DeploymentResumed", "Deployment is resumed"))
        name = (new_rs or {}).get("metadata", {}).get("name", "")
        if created:
            conditions = _set_condition(conditions, "Progressing", _condition(
                "True", "NewReplicaSetCreated", f'Created new replica set "{created}"'))
        elif progressing is None and name:
            conditions = _set_condition(conditions, "Progressing", _condition(
                "True", "FoundNewReplicaSet", f'Found new replica set "{name}"'))
        replicas = d["spec"].get("replicas", 1)
        if all(status.get(f, 0) == replicas for f in ("updatedReplicas", "replicas", "availableReplicas")):
            return _set_condition(conditions, "Progressing", _condition(
                "True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')), None
        moved = (status.get("updatedReplicas", 0) > previous.get("updatedReplicas", 0)
                 or status.get("replicas", 0) < previous.get("replicas", 0)
                 or status.get("readyReplicas", 0) > previous.get("readyReplicas", 0)
                 or status.get("availableReplicas", 0) > previous.get("availableReplicas", 0))
        if moved and not created:
            conditions = _set_condition(conditions, "Progressing", _condition(
                "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.'), keep_transition=True)
        progressing = next((c for c in conditions if c["type"] == "Progressing"), None)
        deadline = d["spec"].get("progressDeadlineSeconds")
        if progressing is None or deadline is None or progressing["reason"] == "ProgressDeadlineExceeded":
            return conditions, None
        updated = datetime.strptime(progressing["lastUpdateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        left = deadline - (time.time() - updated.timestamp())
        if left <= 0:
            return _set_condition(conditions, "Progressing", _condition(
                "False", "ProgressDeadlineExceeded", f'ReplicaSet "{name}" has timed out progressing.')), None
        return conditions, left + 0.5
