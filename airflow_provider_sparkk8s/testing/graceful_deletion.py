"""Graceful deletion, as the API server's registry does it for pods (``CheckGracefulDelete`` of the pod strategy
and ``BeforeDelete``): a DELETE of a pod that may have running containers only marks it (``deletionTimestamp``,
``deletionGracePeriodSeconds``); the kubelet stops its containers and then deletes it with a grace period of 0.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from . import errors

TERMINAL_PHASES = ("Succeeded", "Failed")


def grace_period_seconds(plural: str, group: str, obj: dict, requested: int | None) -> int:
    """Seconds the object is given before it goes: 0 deletes it at once."""
    if plural != "pods" or group:
        return 0
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    period = requested if requested is not None else spec.get("terminationGracePeriodSeconds")
    period = int(period or 0)
    if not spec.get("nodeName") or status.get("phase") in TERMINAL_PHASES:
        return 0  # never scheduled or already finished: nothing runs that could be stopped
    return max(period, 1) if period < 0 else period


def mark_deleting(obj: dict, period: int) -> bool:
    """Set deletionTimestamp (now + period) and deletionGracePeriodSeconds; a later DELETE may only shorten an
    earlier one. Returns whether the object changed."""
    meta = obj["metadata"]
    current = meta.get("deletionGracePeriodSeconds")
    if meta.get("deletionTimestamp") and current is not None and current <= period:
        return False
    meta["deletionTimestamp"] = (datetime.now(timezone.utc) + timedelta(seconds=period)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    meta["deletionGracePeriodSeconds"] = period
    return True


def parse_grace_period(value: object) -> int | None:
    """gracePeriodSeconds from a query parameter or DeleteOptions (None: not given)."""
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError as exc:
        raise errors.bad_request(f"invalid gracePeriodSeconds: {value!r}") from exc
