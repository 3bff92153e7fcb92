"""Controller references, as the workload controllers use them: who controls an object, and claiming the
objects a selector matches (adopt orphans that match, release owned ones that no longer do), as client-go's
ControllerRefManager does."""

from __future__ import annotations

from collections.abc import Callable

from .base import ApiClient, Key


def controller_ref(owner: dict) -> dict:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def controller_of(obj: dict) -> dict | None:
    return next((r for r in obj["metadata"].get("ownerReferences") or [] if r.get("controller")), None)


def controlled_by(obj: dict, owner: dict) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == owner["metadata"]["uid"]


def claim(api: ApiClient, owner: dict, candidates: list[dict], matches: Callable[[dict], bool]) -> list[dict]:
    """The candidates `owner` controls after adopting matching orphans and releasing non-matching ones.
    An owner being deleted adopts nothing, and objects being deleted are not adopted."""
    owned = []
    owner_deleting = bool(owner["metadata"].get("deletionTimestamp"))
    for obj in candidates:
        meta = obj["metadata"]
        ref = controller_of(obj)
        if ref is not None and ref.get("uid") == owner["metadata"]["uid"]:
            if matches(obj) or owner_deleting:
                owned.append(obj)
            else:
                _set_refs(api, obj, [r for r in meta.get("ownerReferences") or []
                                     if r.get("uid") != owner["metadata"]["uid"]])
        elif ref is None and matches(obj) and not owner_deleting and not meta.get("deletionTimestamp"):
            adopted = _set_refs(api, obj, [*(meta.get("ownerReferences") or []), controller_ref(owner)])
            if adopted is not None:
                owned.append(adopted)
    return owned


def _set_refs(api: ApiClient, obj: dict, refs: list[dict]) -> dict | None:
    meta = obj["metadata"]
    # resourceVersion makes it a compare-and-swap: a concurrent change means look again (409, retried).
    return api.patch(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"],
                     {"metadata": {"ownerReferences": refs or None, "resourceVersion": meta["resourceVersion"]}})


def owner_keys(api: ApiClient, api_version: str, kind: str, obj: dict,
               matches: Callable[[dict, dict], bool]) -> list[Key]:
    """The keys of the `kind` objects a change to `obj` concerns: its controller if it is one of them, else (an
    orphan) every one in its namespace whose selector matches it (`matches(owner, obj)`), which may adopt it."""
    namespace = obj["metadata"].get("namespace") or ""
    ref = controller_of(obj)
    if ref is not None:
        return [Key(namespace, ref["name"])] if ref.get("kind") == kind else []
    return [Key.of(owner) for owner in api.list(api_version, kind, namespace) if matches(owner, obj)]
