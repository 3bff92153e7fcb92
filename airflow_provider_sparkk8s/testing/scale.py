"""The `/scale` subresource: an autoscaling/v1 Scale read from and written to the paths a CRD's
`subresources.scale` names, or the built-in workloads' spec.replicas, status.replicas and spec.selector."""

from __future__ import annotations

from typing import Any

from .resources import Registry, ResourceType
from .workloads import selector_string

BUILTIN_PATHS = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                 "labelSelectorPath": ".spec.selector"}


def scale_paths(registry: Registry, rt: ResourceType) -> dict | None:
    if rt.group in ("", "apps") and "scale" in rt.subresources:
        return BUILTIN_PATHS
    crd = registry.crds.get((rt.group, rt.plural))
    for version in ((crd or {}).get("spec") or {}).get("versions") or []:
        if version.get("name") == rt.version:
            return (version.get("subresources") or {}).get("scale")
    return None


def _parts(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


def _read(obj: dict, path: str | None) -> Any:
    value: Any = obj
    for part in _parts(path or ""):
        value = value.get(part) if isinstance(value, dict) else None
    return value if path else None


def to_scale(obj: dict, paths: dict) -> dict:
    meta = obj["metadata"]
    status: dict[str, Any] = {"replicas": _read(obj, paths.get("statusReplicasPath")) or 0}
    selector = _read(obj, paths.get("labelSelectorPath"))
    if isinstance(selector, dict):  # a workload's LabelSelector, shown as a string
        selector = selector_string(selector)
    if selector:
        status["selector"] = selector
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": _read(obj, paths.get("specReplicasPath")) or 0},
        "status": status,
    }


def replicas_patch(paths: dict, replicas: int) -> dict:
    """A merge patch that sets the object's desired replicas."""
    patch: Any = replicas
    for part in reversed(_parts(paths["specReplicasPath"])):
        patch = {part: patch}
    return patch


__all__ = ["replicas_patch", "scale_paths", "to_scale"]
