"""What the API server does with CustomResourceDefinitions and the custom resources they declare: defaulting and
validating the CRD itself, serving its resource only when its names are free, and pruning, defaulting and
validating each custom resource against its version's `openAPIV3Schema`.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import errors, structural_schema

if TYPE_CHECKING:
    from .resources import Registry, ResourceType

CRD_GROUP = "apiextensions.k8s.io"


def is_crd(rt: ResourceType) -> bool:
    return rt.group == CRD_GROUP and rt.plural == "customresourcedefinitions"


# ---------------------------------------------------------------------------------------------- the CRD itself

def default_crd(crd: dict) -> None:
    """The defaults the API server fills into a CRD's spec, and the status it starts with."""
    spec = crd.setdefault("spec", {})
    names = spec.setdefault("names", {})
    kind = names.get("kind") or ""
    names.setdefault("singular", kind.lower())
    names.setdefault("listKind", f"{kind}List")
    spec.setdefault("conversion", {"strategy": "None"})
    # The CRD strategy starts a new CRD's status empty (its acceptedNames and storedVersions have no omitempty, so
    # a create answers with them) and records the storage version as stored, on create and on every update.
    # (Copied: an update's status is the committed object's, which is never changed.)
    status = dict(crd.get("status") or {})
    status.setdefault("acceptedNames", {"plural": "", "kind": ""})
    stored = list(status.get("storedVersions") or [])
    storage = next((v.get("name") for v in spec.get("versions") or [] if v.get("storage")), None)
    if storage and storage not in stored:
        stored.append(storage)
    crd["status"] = {**status, "storedVersions": stored}


def validate_crd(crd: dict) -> None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    name = (crd.get("metadata") or {}).get("name", "")
    causes: list[structural_schema.Cause] = []
    expected = f"{names.get('plural', '')}.{spec.get('group', '')}"
    if name != expected:
        causes.append(("metadata.name", "FieldValueInvalid", name, 'must be spec.names.plural+"."+spec.group'))
    for required in ("plural", "kind"):
        if not names.get(required):
            causes.append((f"spec.names.{required}", "FieldValueRequired", None, "Required value"))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(("spec.versions", "FieldValueInvalid", versions, "must have exactly one version marked as "
                                                                         "storage version"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(("spec.versions", "FieldValueInvalid", versions, "must have exactly one version marked as "
                                                                         "storage version"))
    for i, version in enumerate(versions):
        if not (version.get("schema") or {}).get("openAPIV3Schema"):
            causes.append((f"spec.versions[{i}].schema.openAPIV3Schema", "FieldValueRequired", None,
                           "Required value: schemas are required"))
    if causes:
        raise errors.invalid("CustomResourceDefinition", name, causes, CRD_GROUP)


# ---------------------------------------------------------------------------------------------- names

def _names_claimed(crds: list[dict], group: str, except_name: str) -> tuple[set[str], set[str]]:
    """The resource names and kinds the other CRDs of a group have been given (`status.acceptedNames`)."""
    resources: set[str] = set()
    kinds: set[str] = set()
    for other in crds:
        if other["metadata"]["name"] == except_name or (other.get("spec") or {}).get("group") != group:
            continue
        accepted = (other.get("status") or {}).get("acceptedNames") or {}
        resources.update(n for n in (accepted.get("plural"), accepted.get("singular")) if n)
        resources.update(accepted.get("shortNames") or [])
        kinds.update(n for n in (accepted.get("kind"), accepted.get("listKind")) if n)
    return resources, kinds


def accepted_names(crd: dict, crds: list[dict]) -> tuple[dict, dict]:
    """The names a CRD gets and its NamesAccepted condition, as the API server's naming controller decides them:
    a name another CRD of the group already has stays with that CRD."""
    spec = crd.get("spec") or {}
    requested = spec.get("names") or {}
    accepted = dict((crd.get("status") or {}).get("acceptedNames") or {})
    resources, kinds = _names_claimed(crds, spec.get("group", ""), crd["metadata"]["name"])
    condition = {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"}

    def claim(field: str, used: set[str], reason: str) -> None:
        wanted = requested.get(field) or ""
        if wanted != accepted.get(field, "") and wanted in used:
            condition.update(status="False", reason=reason, message=f'"{wanted}" is already in use')
        elif wanted:
            accepted[field] = wanted

    claim("plural", resources, "PluralConflict")
    claim("singular", resources, "SingularConflict")
    short = requested.get("shortNames") or []
    taken = [s for s in short if s not in (accepted.get("shortNames") or []) and s in resources]
    if taken:
        condition.update(status="False", reason="ShortNamesConflict",
                         message=", ".join(f'"{s}" is already in use' for s in taken))
        if len(taken) > 1:
            condition["message"] = "[" + condition["message"] + "]"
    elif short:
        accepted["shortNames"] = list(short)
    claim("kind", kinds, "KindConflict")
    claim("listKind", kinds, "ListKindConflict")
    if requested.get("categories"):
        accepted["categories"] = list(requested["categories"])
    return accepted, condition


def serves(crd: dict, crds: list[dict]) -> bool:
    """Whether the API server serves a CRD's resource: only once its names are accepted."""
    return accepted_names(crd, crds)[1]["status"] == "True"


# ---------------------------------------------------------------------------------------------- custom resources

def version_schema(registry: Registry, rt: ResourceType) -> dict | None:
    crd = registry.crds.get((rt.group, rt.plural)) if hasattr(registry, "crds") else None
    if crd is None:
        return None
    for version in (crd.get("spec") or {}).get("versions") or []:
        if version.get("name") == rt.version:
            return (version.get("schema") or {}).get("openAPIV3Schema")
    return None


def unknown_fields(registry: Registry, rt: ResourceType, body: Any) -> list[str]:
    """The fields of a request body its schema does not declare (what `fieldValidation` reports)."""
    schema = version_schema(registry, rt)
    if schema is None or not isinstance(body, dict):
        return []
    return structural_schema.prune(schema, copy.deepcopy(body))


def admit(registry: Registry, rt: ResourceType, obj: dict) -> None:
    """Prune, default and validate a custom resource in place; 422 naming every violating field."""
    schema = version_schema(registry, rt)
    if schema is None:
        return
    structural_schema.prune(schema, obj)
    structural_schema.default(schema, obj)
    causes = structural_schema.validate(schema, obj)
    if causes:
        raise errors.invalid(rt.kind, (obj.get("metadata") or {}).get("name", ""), causes, rt.group)


def field_validation(registry: Registry, rt: ResourceType, body: Any, directive: str | None) -> list[str]:
    """Apply the `fieldValidation` query parameter: 400 for unknown fields under Strict, warnings under Warn."""
    mode = (directive or "Warn").lower()
    if mode == "ignore":
        return []
    unknown = unknown_fields(registry, rt, body)
    if not unknown:
        return []
    if mode == "strict":
        listed = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise errors.bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                 f"strict decoding error: {listed}")
    return [f'unknown field "{path}"' for path in unknown]


__all__ = ["accepted_names", "admit", "default_crd", "field_validation", "is_crd", "serves", "unknown_fields",
           "validate_crd", "version_schema"]
