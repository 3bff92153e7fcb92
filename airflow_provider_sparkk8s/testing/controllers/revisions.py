"""ControllerRevisions: the pod-template history of StatefulSets and DaemonSets (`kubectl rollout history`)."""

from __future__ import annotations

import copy

from .base import ApiClient
from .claims import controlled_by, controller_ref
from .pod_templates import template_hash


def current_revision(api: ApiClient, owner: dict, labels: dict[str, str]) -> tuple[str, str]:
    """(revision name `<owner>-<hash>`, hash) of the owner's pod template; its ControllerRevision exists after
    this, numbered after the newest one (an old template that comes back is renumbered, as the controllers do)."""
    template = copy.deepcopy(owner["spec"].get("template") or {})
    pod_hash = template_hash(template)
    name = f"{owner['metadata']['name']}-{pod_hash}"
    namespace = owner["metadata"]["namespace"]
    revisions = [r for r in api.list("apps/v1", "ControllerRevision", namespace) if controlled_by(r, owner)]
    newest = max((r.get("revision", 0) for r in revisions), default=0)
    existing = next((r for r in revisions if r["metadata"]["name"] == name), None)
    if existing is None:
        template["$patch"] = "replace"
        api.create({"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {
            "name": name, "namespace": namespace, "labels": {**labels, "controller.kubernetes.io/hash": pod_hash},
            "ownerReferences": [controller_ref(owner)]},
            "data": {"spec": {"template": template}}, "revision": newest + 1})
    elif existing.get("revision", 0) < newest:
        api.replace({**existing, "revision": newest + 1})
    return name, pod_hash
