"""Minimal OpenAPI documents: enough for kubectl to find each kind and see that the server validates fields
itself (`fieldValidation`), without shipping the full Kubernetes schema."""

from __future__ import annotations

import hashlib
import json

from .resources import Registry, ResourceType

_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(rt: ResourceType) -> str:
    prefix = "io.k8s.api.core.v1" if not rt.group else ".".join(reversed(rt.group.split("."))) + "." + rt.version
    return f"{prefix}.{rt.kind}"


def _schema(rt: ResourceType) -> dict:
    return {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "x-kubernetes-group-version-kind": [{"group": rt.group, "version": rt.version, "kind": rt.kind}],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }


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


def openapi_v3_group_version(registry: Registry, gv_path: str) -> dict | None:
    gv_path = gv_path.split("?")[0].strip("/")
    types = [rt for rt in registry.types.values() if _gv_path(rt.group, rt.version) == gv_path]
    if not types:
        return None
    schemas, paths = {}, {}
    for rt in types:
        name = _schema_name(rt)
        schemas[name] = _schema(rt)
        paths.update(_paths(rt, f"#/components/schemas/{name}"))
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
            "components": {"schemas": schemas}}


def openapi_v3_index(registry: Registry) -> dict:
    paths = {}
    for group, versions in registry.groups().items():
        for version in versions:
            gv = _gv_path(group, version)
            digest = hashlib.sha256(json.dumps(openapi_v3_group_version(registry, gv), sort_keys=True).encode())
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest.hexdigest()[:32].upper()}"}
    return {"paths": paths}

