"""The API server's side of DeleteOptions.propagationPolicy (``deletionFinalizersForGarbageCollection`` of the
generic registry): a DELETE only puts the garbage collector's finalizer on the object; the garbage collector
(controllers/garbage_collector.py) does the rest.
"""

from __future__ import annotations

FOREGROUND = "foregroundDeletion"  # the owner goes after its blocking dependents
ORPHAN = "orphan"  # the owner goes after its dependents no longer reference it


def gc_finalizers(finalizers: list[str], propagation: str | None, default: str = "Background") -> list[str]:
    """The finalizers an object has after a DELETE with this policy. An explicit policy replaces the collector's
    finalizers; without one, those already there stay, or else the kind's default applies."""
    if propagation is None:
        if FOREGROUND in finalizers or ORPHAN in finalizers:
            return list(finalizers)
        propagation = default
    kept = [f for f in finalizers if f not in (FOREGROUND, ORPHAN)]
    wanted = {"Foreground": [FOREGROUND], "Orphan": [ORPHAN]}.get(propagation, [])
    return kept + wanted


def set_finalizers(obj: dict, finalizers: list[str]) -> None:
    """metadata.finalizers as given; an empty list is left out, as the API server omits it."""
    if finalizers:
        obj["metadata"]["finalizers"] = finalizers
    else:
        obj["metadata"].pop("finalizers", None)
