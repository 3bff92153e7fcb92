"""Events the controllers record about their objects, as `kubectl describe` and `kubectl get events` show them
(ScalingReplicaSet, SuccessfulCreate, SuccessfulDelete, Completed, ...)."""

from __future__ import annotations

import uuid

from .. import errors
from ..store import now_rfc3339
from .base import ApiClient


def record(api: ApiClient, obj: dict, reason: str, message: str, component: str, type_: str = "Normal") -> None:
    """An Event about `obj`, as `kubectl describe` lists them (best effort: a namespace going away refuses it)."""
    meta = obj["metadata"]
    now = now_rfc3339()
    try:
        api.create({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}",
                         "namespace": meta.get("namespace") or "default"},  # cluster-scoped objects: default
            "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
                               "uid": meta["uid"], "resourceVersion": meta.get("resourceVersion", ""),
                               **({"namespace": meta["namespace"]} if meta.get("namespace") else {})},
            "reason": reason, "message": message, "type": type_, "source": {"component": component},
            "firstTimestamp": now, "lastTimestamp": now, "count": 1, "reportingComponent": component,
            "reportingInstance": "",
        })
    except errors.ApiError:
        pass  # the namespace is going away
