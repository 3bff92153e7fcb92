"""Pods from a workload's pod template, and what the workload controllers read from a pod's status."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timezone

from .claims import controller_ref

# rand.SafeEncodeString's alphabet: no vowels, no look-alike characters.
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: dict, collision_count: int = 0) -> str:
    """A stable short hash of a pod template (the role of pod-template-hash / controller-revision-hash)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")) + str(collision_count or "")
    value = int.from_bytes(hashlib.sha256(data.encode()).digest()[:4], "big")
    return "".join(_SAFE[b % len(_SAFE)] for b in str(value).encode())


def pod_from_template(owner: dict, template: dict, *, name: str | None = None,
                      extra_labels: dict[str, str] | None = None) -> dict:
    """The pod the controller of `owner` creates (named, or `<owner>-xxxxx`)."""
    meta = template.get("metadata") or {}
    labels = {**(meta.get("labels") or {}), **(extra_labels or {})}
    pod_meta: dict = {"labels": labels, "ownerReferences": [controller_ref(owner)]}
    if name:
        pod_meta["name"] = name
    else:
        pod_meta["generateName"] = f"{owner['metadata']['name']}-"
    if meta.get("annotations"):
        pod_meta["annotations"] = dict(meta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
            "spec": copy.deepcopy(template.get("spec") or {})}


def is_active(pod: dict) -> bool:
    """Counted as a replica: not being deleted, not finished."""
    phase = (pod.get("status") or {}).get("phase")
    return not pod["metadata"].get("deletionTimestamp") and phase not in ("Succeeded", "Failed")


def _ready_condition(pod: dict) -> dict | None:
    return next((c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)


def is_ready(pod: dict) -> bool:
    cond = _ready_condition(pod)
    return is_active(pod) and cond is not None and cond.get("status") == "True"


def available_in(pod: dict, min_ready_seconds: int) -> float | None:
    """Seconds until a ready pod counts as available (0: it is), None when it is not ready."""
    if not is_ready(pod):
        return None
    if not min_ready_seconds:
        return 0.0
    since = (_ready_condition(pod) or {}).get("lastTransitionTime")
    if not since:
        return 0.0
    ready_at = datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    left = min_ready_seconds - (datetime.now(timezone.utc) - ready_at).total_seconds()
    return max(0.0, left)


def deletion_order(pod: dict) -> tuple:
    """Which pods a scale-down removes first (as ActivePods' order): unscheduled, pending, not ready, newest."""
    status = pod.get("status") or {}
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(status.get("phase", "Pending"), 0)
    created = pod["metadata"].get("creationTimestamp") or ""
    return (bool(pod.get("spec", {}).get("nodeName")), phase_rank, is_ready(pod), _negated(created))


def _negated(timestamp: str) -> tuple:
    return tuple(-ord(ch) for ch in timestamp)
