"""The garbage collector of kube-controller-manager: deletes objects whose owners are all gone, and finishes the
foreground and orphan deletions the API server starts.

As in Kubernetes, a DELETE only does the API server's part: Background removes the owner at once, Foreground and
Orphan leave it with a deletionTimestamp and the `foregroundDeletion` or `orphan` finalizer. The collector watches
every kind and keeps a graph from owner uid to dependents from the watch events, so the work a deletion causes is
proportional to the owner's dependents, not to the number of objects in the cluster:

- an owner's DELETED event queues its dependents; a dependent whose owners are all absent (an ownerReference to a
  uid that does not exist is absent, whether that object went or never was) is deleted, with the policy its own GC
  finalizer names (Background otherwise); one with a live owner stays, and loses its references to absent owners;
- an owner starting foreground deletion queues its dependents, which are deleted (in the foreground when they have
  dependents of their own); its finalizer goes when no dependent with blockOwnerDeletion is left;
- an owner starting orphan deletion has its reference removed from each dependent, then its finalizer removed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..propagation import FOREGROUND, ORPHAN
from .base import ApiClient, Controller, Key


@dataclass(frozen=True, order=True)
class ObjectKey(Key):
    """One object of any kind: what the collector queues (the uid tells a re-created namesake apart)."""

    api_version: str
    kind: str
    uid: str

    @classmethod
    def of(cls, obj: dict) -> ObjectKey:
        meta = obj["metadata"]
        return cls(meta.get("namespace") or "", meta["name"], obj["apiVersion"], obj["kind"], meta["uid"])


@dataclass
class Node:
    """What the graph keeps of an object it has seen."""

    key: ObjectKey
    owners: list[dict]
    deleting_dependents: bool  # deletionTimestamp and the foregroundDeletion finalizer
    orphaning: bool  # deletionTimestamp and the orphan finalizer

    @classmethod
    def of(cls, obj: dict) -> Node:
        meta = obj["metadata"]
        deleting, finalizers = bool(meta.get("deletionTimestamp")), meta.get("finalizers") or []
        return cls(ObjectKey.of(obj), list(meta.get("ownerReferences") or []), deleting and FOREGROUND in finalizers,
                   deleting and ORPHAN in finalizers)

    def blocks(self, owner_uid: str) -> bool:
        return any(r.get("uid") == owner_uid and r.get("blockOwnerDeletion") for r in self.owners)


class GarbageCollector(Controller):
    def __init__(self, api: ApiClient) -> None:
        super().__init__(api)
        self.nodes: dict[str, Node] = {}  # uid -> node, for every object seen
        self.dependents: dict[str, set[str]] = {}  # owner uid -> uids of the objects that reference it

    def subscribe(self, loop: asyncio.AbstractEventLoop) -> None:
        self.api.watch_all(self._on_change, loop)

    # ------------------------------------------------------------------ the graph, from watch events
    def _on_change(self, event_type: str, obj: dict, old: dict | None) -> None:
        uid = obj["metadata"]["uid"]
        before = self.nodes.get(uid)
        if (event_type == "MODIFIED" and before is not None and not (before.deleting_dependents or before.orphaning)
                and not obj["metadata"].get("deletionTimestamp")
                and (obj["metadata"].get("ownerReferences") or []) == before.owners):
            return  # nothing the graph keeps has changed (most writes)
        old_owners: dict[str, dict] = {r["uid"]: r for r in before.owners} if before else {}
        if event_type == "DELETED":
            self.nodes.pop(uid, None)
            self._unlink(uid, old_owners)
            for dependent in self.dependents.pop(uid, set()):
                self._enqueue_uid(dependent)
            for owner_uid in old_owners:
                self._enqueue_if_deleting_dependents(owner_uid)
            return
        node = self.nodes[uid] = Node.of(obj)
        new_owners: dict[str, dict] = {r["uid"]: r for r in node.owners}
        self._unlink(uid, {u: r for u, r in old_owners.items() if u not in new_owners})
        for owner_uid in new_owners.keys() - old_owners.keys():
            self.dependents.setdefault(owner_uid, set()).add(uid)
        if any(u not in self.nodes for u in new_owners.keys() - old_owners.keys()):
            self.enqueue(node.key)  # an owner the graph has not seen: is it absent?
        for owner_uid, ref in old_owners.items():
            if ref.get("blockOwnerDeletion") and not (new_owners.get(owner_uid) or {}).get("blockOwnerDeletion"):
                self._enqueue_if_deleting_dependents(owner_uid)  # it may have been waiting for this one
        if node.orphaning and not (before and before.orphaning):
            self.enqueue(node.key)
        if node.deleting_dependents and not (before and before.deleting_dependents):
            for dependent in self.dependents.get(uid, ()):
                self._enqueue_uid(dependent)
            self.enqueue(node.key)

    def _unlink(self, uid: str, owners: dict) -> None:
        for owner_uid in owners:
            dependents = self.dependents.get(owner_uid)
            if dependents is not None:
                dependents.discard(uid)
                if not dependents:
                    del self.dependents[owner_uid]

    def _enqueue_uid(self, uid: str) -> None:
        node = self.nodes.get(uid)
        if node is not None:
            self.enqueue(node.key)

    def _enqueue_if_deleting_dependents(self, uid: str) -> None:
        node = self.nodes.get(uid)
        if node is not None and node.deleting_dependents:
            self.enqueue(node.key)

    # ------------------------------------------------------------------ work
    async def reconcile(self, key: Key) -> float | None:
        assert isinstance(key, ObjectKey)
        obj = self.api.get(key.api_version, key.kind, key.namespace or None, key.name)
        if obj is None or obj["metadata"]["uid"] != key.uid:
            return None  # gone: its DELETED event queued its dependents
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp"):
            if ORPHAN in finalizers:
                self._orphan_dependents(key)
                self._remove_finalizer(obj, ORPHAN)
            elif FOREGROUND in finalizers:
                self._delete_dependents(key, obj)
            return None  # otherwise being deleted by someone else
        refs = meta.get("ownerReferences") or []
        if refs:
            self._collect(key, obj, refs)
        return None

    def _collect(self, key: ObjectKey, obj: dict, refs: list[dict]) -> None:
        """attemptToDeleteItem: delete the object unless one of its owners still exists."""
        states = {ref["uid"]: self._owner_state(ref, key.namespace) for ref in refs}
        if None in states.values():
            return  # a namespaced owner of a cluster-scoped object: never looked up
        absent = {uid for uid, state in states.items() if state == "absent"}
        waiting = {uid for uid, state in states.items() if state == "waiting"}
        if "solid" in states.values():
            if absent or waiting:
                self._set_owner_references(obj, [r for r in refs if r["uid"] not in absent | waiting])
            return
        if waiting and self.dependents.get(key.uid):
            if any(self.nodes[d].deleting_dependents for d in self.dependents[key.uid] if d in self.nodes):
                # A dependent is itself waiting: stop blocking owners so the two cannot wait for each other.
                self._set_owner_references(obj, [{**r, "blockOwnerDeletion": False} for r in refs])
            self.api.delete(key.api_version, key.kind, key.namespace or None, key.name, "Foreground", uid=key.uid)
            return
        finalizers = obj["metadata"].get("finalizers") or []
        policy = "Orphan" if ORPHAN in finalizers else "Foreground" if FOREGROUND in finalizers else "Background"
        self.api.delete(key.api_version, key.kind, key.namespace or None, key.name, policy, uid=key.uid)

    def _owner_state(self, ref: dict, namespace: str) -> str | None:
        """solid, waiting (being deleted in the foreground) or absent; None when it cannot be looked up. An owner
        of a kind the API does not serve raises 404, and the key is retried with backoff, as Kubernetes does."""
        rt = self.api.resource(ref["apiVersion"], ref["kind"])
        if rt.namespaced and not namespace:
            return None
        owner = self.api.get(ref["apiVersion"], ref["kind"], namespace if rt.namespaced else None, ref["name"])
        if owner is None or owner["metadata"]["uid"] != ref["uid"]:
            return "absent"
        meta = owner["metadata"]
        return "waiting" if meta.get("deletionTimestamp") and FOREGROUND in (meta.get("finalizers") or []) \
            else "solid"

    def _delete_dependents(self, key: ObjectKey, owner: dict) -> None:
        """processDeletingDependentsItem: the owner's finalizer goes once no blocking dependent is left."""
        blocking = [self.nodes[d] for d in self.dependents.get(key.uid, ()) if d in self.nodes
                    and self.nodes[d].blocks(key.uid)]
        if not blocking:
            self._remove_finalizer(owner, FOREGROUND)
        for node in blocking:
            if not node.deleting_dependents:
                self.enqueue(node.key)

    def _orphan_dependents(self, key: ObjectKey) -> None:
        for uid in list(self.dependents.get(key.uid, ())):
            node = self.nodes.get(uid)
            dependent = node and self.api.get(node.key.api_version, node.key.kind, node.key.namespace or None,
                                              node.key.name)
            if dependent and dependent["metadata"]["uid"] == uid:
                refs = dependent["metadata"].get("ownerReferences") or []
                self._set_owner_references(dependent, [r for r in refs if r.get("uid") != key.uid])

    def _set_owner_references(self, obj: dict, refs: list[dict]) -> None:
        # Against the resourceVersion read: a concurrent change is a conflict, and the key is looked at again. An
        # emptied list is left out, as the API server omits it.
        self._patch_metadata(obj, {"ownerReferences": refs or None})

    def _remove_finalizer(self, obj: dict, finalizer: str) -> None:
        kept = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
        self._patch_metadata(obj, {"finalizers": kept or None})

    def _patch_metadata(self, obj: dict, changes: dict) -> None:
        meta = obj["metadata"]
        self.api.patch(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"],
                       {"metadata": {**changes, "resourceVersion": meta["resourceVersion"]}})
