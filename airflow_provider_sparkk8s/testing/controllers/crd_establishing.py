"""The apiextensions naming and establishing controllers: a CRD gets `status.acceptedNames`, `storedVersions` and
the `NamesAccepted` and `Established` conditions, so `kubectl wait --for condition=Established` returns."""

from __future__ import annotations

from ..custom_resources import accepted_names
from ..store import now_rfc3339
from .base import ApiClient, Controller, Key

API_VERSION = "apiextensions.k8s.io/v1"
KIND = "CustomResourceDefinition"


def _with_condition(conditions: list[dict], new: dict) -> list[dict]:
    """Set the condition of new's type in place; its lastTransitionTime moves only when its status changes."""
    old = next((c for c in conditions if c.get("type") == new["type"]), None)
    since = old.get("lastTransitionTime") if old and old.get("status") == new["status"] else None
    cond = {"lastTransitionTime": since or now_rfc3339(), "message": new["message"], "reason": new["reason"],
            "status": new["status"], "type": new["type"]}
    if old is None:
        return [*conditions, cond]
    return [cond if c is old else c for c in conditions]


class CrdEstablishing(Controller):
    api_version = API_VERSION
    kind = KIND

    def __init__(self, api: ApiClient) -> None:
        super().__init__(api)

    def on_event(self, event_type: str, obj: dict, old: dict | None) -> None:
        # A CRD's names free or claim names of the others in its group: look at them all again.
        group = (obj.get("spec") or {}).get("group")
        for other in self.api.list(API_VERSION, KIND):
            if (other.get("spec") or {}).get("group") == group and other["metadata"]["name"] != obj["metadata"]["name"]:
                self.enqueue(Key.of(other))

    async def reconcile(self, key: Key) -> float | None:
        crd = self.api.get(API_VERSION, KIND, None, key.name)
        if crd is None or crd["metadata"].get("deletionTimestamp"):
            return None
        status = dict(crd.get("status") or {})
        names, names_accepted = accepted_names(crd, self.api.list(API_VERSION, KIND))
        conditions = _with_condition(status.get("conditions") or [], dict(names_accepted))
        established = next((c for c in conditions if c["type"] == "Established"), None)
        if names_accepted["status"] == "True":
            conditions = _with_condition(conditions, {"type": "Established", "status": "True",
                                                      "reason": "InitialNamesAccepted",
                                                      "message": "the initial names have been accepted"})
        elif established is None or established["status"] != "True":
            conditions = _with_condition(conditions, {"type": "Established", "status": "False",
                                                      "reason": "NotAccepted",
                                                      "message": "not all names are accepted"})
        storage = [v["name"] for v in (crd.get("spec") or {}).get("versions") or [] if v.get("storage")]
        stored = list(status.get("storedVersions") or [])
        stored.extend(v for v in storage if v not in stored)
        wanted = {**status, "acceptedNames": names, "conditions": conditions, "storedVersions": stored}
        if wanted != crd.get("status"):
            self.api.patch(API_VERSION, KIND, None, key.name, {"status": wanted}, subresource="status")
        return None


__all__ = ["CrdEstablishing"]
