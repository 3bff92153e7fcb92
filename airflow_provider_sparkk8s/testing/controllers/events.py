"""Events the workload controllers record about their objects, as `kubectl describe` and `kubectl get events`
show them (ScalingReplicaSet, SuccessfulCreate, SuccessfulDelete, ...)."""

from __future__ import annotations

import uuid

from .. import errors
from ..store import now_rfc3339
from .base import ApiClient


def record(api: ApiClient, obj: dict, reason: str, message: str, component: str, type_: str = "Normal") -> None:
    meta = obj["metadata"]
    now = now_rfc3339()
    try:
        api.create({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": meta.get("namespace")},
            "involvedObject": {"kind": obj["kind"], "apiVersion": obj["apiVersion"],
                               "namespace": meta.get("namespace"), "name": meta["name"], "uid": meta["uid"],
                               "resourceVersion": meta.get("resourceVersion")},
            "reason": reason, "message": message, "type": type_, "source": {"component": component},
            "firstTimestamp": now, "lastTimestamp": now, "count": 1, "reportingComponent": component,
            "reportingInstance": "",
        })
    except errors.ApiError:
        pass  # the namespace is going away
