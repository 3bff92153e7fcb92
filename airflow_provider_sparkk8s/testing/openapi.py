"""The OpenAPI v3 documents (`/openapi/v3`, `/openapi/v3/<group-version>`): the schema of every served kind, so
`kubectl explain` works and kubectl sees that the server validates fields itself (`fieldValidation`).

Built-in kinds get their schemas from the `kubernetes` client's models (`builtin_schemas.py`), custom resources
from their CRD's `openAPIV3Schema`; a kind with neither is an object that keeps unknown fields.
"""

from __future__ import annotations

import copy
import hashlib
import json

from . import builtin_schemas
from .resources import Registry, ResourceType

_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")
_OBJECT_META = "V1ObjectMeta"


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(rt: ResourceType) -> str:
    prefix = "io.k8s.api.core.v1" if not rt.group else ".".join(reversed(rt.group.split("."))) + "." + rt.version
    return f"{prefix}.{rt.kind}"


def _ref(model_name: str) -> dict:
    return {"allOf": [{"$ref": f"#/components/schemas/{builtin_schemas.schema_name(model_name)}"}]}


def _gvk(rt: ResourceType) -> list[dict]:
    return [{"group": rt.group, "version": rt.version, "kind": rt.kind}]


def _crd_schema(registry: Registry, rt: ResourceType) -> dict | None:
    crd = registry.crds.get((rt.group, rt.plural))
    for version in ((crd or {}).get("spec") or {}).get("versions") or []:
        if version.get("name") == rt.version:
            schema = copy.deepcopy((version.get("schema") or {}).get("openAPIV3Schema") or {
                "type": "object", "x-kubernetes-preserve-unknown-fields": True})
            props = schema.setdefault("properties", {})
            props.setdefault("apiVersion", {"type": "string", "description": _field_doc("apiVersion")})
            props.setdefault("kind", {"type": "string", "description": _field_doc("kind")})
            props["metadata"] = {**_ref(_OBJECT_META), "description": _field_doc("metadata")}
            return schema
    return None


def _field_doc(name: str) -> str:
    found = builtin_schemas.model("V1Pod")
    return found[2].get("api_version" if name == "apiVersion" else name, "") if found else ""


def _kind_schemas(registry: Registry, rt: ResourceType) -> tuple[dict, dict]:
    """The kind's own schema, and the component schemas it refers to."""
    schema = _crd_schema(registry, rt)
    if schema is not None:
        return schema, builtin_schemas.schemas_for((_OBJECT_META,))
    model = builtin_schemas.kind_model(rt.group, rt.version, rt.kind)
    if model is not None:
        components = builtin_schemas.schemas_for((model,))
        return copy.deepcopy(components[builtin_schemas.schema_name(model)]), components
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": _ref(_OBJECT_META)}}, \
        builtin_schemas.schemas_for((_OBJECT_META,))


def _paths(rt: ResourceType, ref: str) -> dict:
    base = "/" + _gv_path(rt.group, rt.version)
    collection = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
    params = [{"name": p, "in": "query", "schema": {"type": "string"}, "uniqueItems": True} for p in _QUERY_PARAMS]
    response = {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": ref}}}}}
    gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}

    def op(action: str) -> dict:
        return {"parameters": params, "responses": response, "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk}

    return {
        collection: {"get": op("list"), "post": op("post")},
        f"{collection}/{{name}}": {"get": op("get"), "put": op("put"), "patch": op("patch"),
                                   "delete": op("delete")},
    }


def _fingerprint(registry: Registry, types: list[ResourceType]) -> tuple:
    """What a group-version document depends on: its kinds and the revisions of their CRDs."""
    out = []
    for rt in types:
        meta = (registry.crds.get((rt.group, rt.plural)) or {}).get("metadata") or {}
        out.append((rt, meta.get("uid"), meta.get("resourceVersion")))
    return tuple(out)


_CACHE: dict[tuple, tuple[dict, str]] = {}  # (group-version path, fingerprint) -> (document, its hash)


def _document(registry: Registry, gv_path: str) -> tuple[dict, str] | None:
    gv_path = gv_path.split("?")[0].strip("/")
    types = [rt for rt in registry.types.values() if _gv_path(rt.group, rt.version) == gv_path]
    if not types:
        return None
    key = (gv_path, _fingerprint(registry, types))
    if key not in _CACHE:
        if len(_CACHE) > 256:
            _CACHE.clear()
        doc = _build(registry, types)
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
        _CACHE[key] = (doc, digest)
    return _CACHE[key]


def openapi_v3_group_version(registry: Registry, gv_path: str) -> dict | None:
    found = _document(registry, gv_path)
    return found[0] if found else None


def _build(registry: Registry, types: list[ResourceType]) -> dict:
    schemas: dict[str, dict] = {}
    paths: dict[str, dict] = {}
    for rt in types:
        name = _schema_name(rt)
        schema, components = _kind_schemas(registry, rt)
        schemas.update(components)
        schemas[name] = {**schema, "x-kubernetes-group-version-kind": _gvk(rt)}
        paths.update(_paths(rt, f"#/components/schemas/{name}"))
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
            "components": {"schemas": schemas}}


def openapi_v3_index(registry: Registry) -> dict:
    paths = {}
    for group, versions in registry.groups().items():
        for version in versions:
            gv = _gv_path(group, version)
            found = _document(registry, gv)
            if found is not None:
                paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={found[1]}"}
    return {"paths": paths}
