"""The namespace controller: empties a Terminating namespace, reports progress in its status conditions as
1.32 does, and finally removes the `kubernetes` finalizer so the namespace goes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from .base import ApiClient, Controller, Key
from .support import now_rfc3339

FINALIZER = "kubernetes"
POLL_SECONDS = 0.2  # content held by finalizers is looked at again this often


class NamespaceController(Controller):
    api_version = "v1"
    kind = "Namespace"

    def __init__(self, api: ApiClient, namespaced_kinds: Callable[[], list[tuple[str, str, str]]]) -> None:
        """namespaced_kinds: (apiVersion, kind, resource as `plural[.group]`) of every served namespaced type."""
        super().__init__(api)
        self.namespaced_kinds = namespaced_kinds

    async def reconcile(self, key: Key) -> float | None:
        namespace = self.api.get("v1", "Namespace", None, key.name)
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            return None
        remaining: Counter[str] = Counter()
        finalizers: Counter[str] = Counter()
        seen: set[str] = set()
        for api_version, kind, resource in self.namespaced_kinds():
            for obj in self.api.list(api_version, kind, key.name):
                if obj["metadata"]["uid"] in seen:
                    continue  # another version of the same resource
                seen.add(obj["metadata"]["uid"])
                if not obj["metadata"].get("deletionTimestamp"):
                    self.api.delete(api_version, kind, key.name, obj["metadata"]["name"], "Background")
                left = self.api.get(api_version, kind, key.name, obj["metadata"]["name"])
                if left is not None:
                    remaining[resource] += 1
                    for finalizer in left["metadata"].get("finalizers") or []:
                        finalizers[finalizer] += 1
        self._report(namespace, remaining, finalizers)
        if remaining:
            return POLL_SECONDS
        fresh = self.api.get("v1", "Namespace", None, key.name)
        if fresh is not None and FINALIZER in (fresh.get("spec") or {}).get("finalizers", []):
            fresh["spec"]["finalizers"] = [f for f in fresh["spec"]["finalizers"] if f != FINALIZER]
            self.api.replace(fresh, subresource="finalize")
        return None

    def _report(self, namespace: dict, remaining: Counter[str], finalizers: Counter[str]) -> None:
        def cond(kind: str, true: bool, reason: str, message: str) -> dict:
            return {"type": kind, "status": "True" if true else "False", "reason": reason, "message": message}

        wanted = [
            cond("NamespaceDeletionDiscoveryFailure", False, "ResourcesDiscovered",
                 "All resources successfully discovered"),
            cond("NamespaceDeletionGroupVersionParsingFailure", False, "ParsedGroupVersions",
                 "All legacy kube types successfully parsed"),
            cond("NamespaceDeletionContentFailure", False, "ContentDeleted",
                 "All content successfully deleted, may be waiting on finalization"),
            cond("NamespaceContentRemaining", True, "SomeResourcesRemain", "Some resources are remaining: " + ", ".join(
                f"{r} has {n} resource instances" for r, n in sorted(remaining.items())))
            if remaining else cond("NamespaceContentRemaining", False, "ContentRemoved",
                                   "All content successfully removed"),
            cond("NamespaceFinalizersRemaining", True, "SomeFinalizersRemain",
                 "Some content in the namespace has finalizers remaining: " + ", ".join(
                     f"{f} in {n} resource instances" for f, n in sorted(finalizers.items())))
            if finalizers else cond("NamespaceFinalizersRemaining", False, "ContentHasNoFinalizers",
                                    "All content-preserving finalizers finished"),
        ]
        status = dict(namespace.get("status") or {})
        old = {c["type"]: c for c in status.get("conditions") or []}
        now = now_rfc3339()
        conditions = []
        for c in wanted:
            before = old.get(c["type"])
            same = before is not None and all(before.get(k) == c[k] for k in ("status", "reason", "message"))
            conditions.append({**c, "lastTransitionTime": before["lastTransitionTime"] if same and before else now})
        if conditions != status.get("conditions"):
            self.api.replace({**namespace, "status": {**status, "conditions": conditions}}, subresource="status")
