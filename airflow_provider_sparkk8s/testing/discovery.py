"""API discovery at /api, /apis and /apis/<group>[/<version>]: the legacy documents and the aggregated ones.

A client that lists ``application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`` in its Accept
header (kubectl and client-go since 1.30) gets every group, version and resource from /api and /apis in two
requests (apidiscovery.k8s.io/v2, or v2beta1 when that is what it asks for); any other client gets the legacy
APIVersions / APIGroupList and then fetches each group/version's APIResourceList.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from . import errors
from .representations import media_ranges
from .resources import Registry, ResourceType

AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_VERSIONS = ("v2", "v2beta1")  # v2 is GA since 1.30; 1.32 still serves the deprecated v2beta1
# What the legacy documents can be asked for as (they are written as JSON whatever the choice).
LEGACY_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/*",
                "*/*")


@dataclass(frozen=True)
class Discovery:
    """A discovery answer: the document, its media type and, for the aggregated ones, its ETag."""

    body: bytes
    content_type: str
    etag: str | None = None


def negotiate(accept: str) -> str | None:
    """The aggregated version the Accept header asks for first ("v2", "v2beta1"), or None for the legacy document.

    Media ranges are taken by quality, then in order, as the API server's negotiation does; a range for another
    version or format of the aggregated document is skipped. Nothing acceptable is 406 Not Acceptable.
    """
    ranges = media_ranges(accept)
    if not ranges:
        return None
    for media_range in ranges:
        media_type, params = media_range.media_type, media_range.params
        if not params:
            if media_type in LEGACY_TYPES:
                return None
        elif (media_type == "application/json" and params.get("g") == AGGREGATED_GROUP
              and params.get("as") == AGGREGATED_KIND and params.get("v") in AGGREGATED_VERSIONS):
            return params["v"]
    raise errors.ApiError(406, "NotAcceptable", "only the following media types are accepted: "
                          + ", ".join([*LEGACY_TYPES[:3], *(aggregated_media_type(v) for v in AGGREGATED_VERSIONS)]))


def aggregated_media_type(version: str) -> str:
    return f"application/json;g={AGGREGATED_GROUP};v={version};as={AGGREGATED_KIND}"


def api_versions(server_address: str) -> dict:
    """The legacy /api document: the core group's versions."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def group_list(registry: Registry) -> dict:
    """The legacy /apis document."""
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [api_group(g, vs) for g, vs in _named_groups(registry)]}


def api_group(group: str, versions: list[str]) -> dict:
    """A legacy APIGroup (without kind/apiVersion, as /apis lists it); the first version is the preferred one."""
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def resource_list(registry: Registry, group: str, version: str) -> dict:
    """The legacy APIResourceList of one group/version."""
    resources = []
    for rt in _resource_types(registry, group, version):
        resources.extend(rt.discovery_entries())
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}


def aggregated(registry: Registry, version: str, core: bool) -> dict:
    """The APIGroupDiscoveryList of /api (core: the "" group) or of /apis (every other group, as /apis lists them)."""
    groups = [("", registry.groups().get("", []))] if core else _named_groups(registry)
    return {"kind": AGGREGATED_KIND, "apiVersion": f"{AGGREGATED_GROUP}/{version}", "metadata": {},
            "items": [_group_discovery(registry, group, versions) for group, versions in groups]}


def answer(document: dict, aggregated_version: str | None) -> Discovery:
    """The document as JSON; an aggregated one gets its media type and an ETag (a hash of its bytes)."""
    body = json.dumps(document, separators=(",", ":")).encode()
    if aggregated_version is None:
        return Discovery(body, "application/json")
    return Discovery(body, aggregated_media_type(aggregated_version),
                     '"' + hashlib.sha512(body).hexdigest().upper() + '"')


def _named_groups(registry: Registry) -> list[tuple[str, list[str]]]:
    return [(g, vs) for g, vs in sorted(registry.groups().items()) if g]


def _resource_types(registry: Registry, group: str, version: str) -> list[ResourceType]:
    return sorted(registry.in_group_version(group, version), key=lambda r: r.plural)


def _group_discovery(registry: Registry, group: str, versions: list[str]) -> dict:
    # ObjectMeta's creationTimestamp is written as null; the core group's empty name is left out.
    return {"metadata": {**({"name": group} if group else {}), "creationTimestamp": None},
            "versions": [{"version": v, "resources": _resources(_resource_types(registry, group, v)),
                          "freshness": "Current"} for v in versions]}


def _resources(types: list[ResourceType]) -> list[dict]:
    """APIResourceDiscovery entries made from the legacy APIResources, as the API server converts them.

    A built-in resource's responseKind has an empty group and version (its APIResource leaves them out); a custom
    resource's names its group and version, as the apiextensions server writes them.
    """
    resources = []
    for rt in types:
        parent: dict = {}
        for entry in rt.discovery_entries():
            default_gv = (rt.group, rt.version) if rt.custom else ("", "")
            kind = {"group": entry.get("group", default_gv[0]), "version": entry.get("version", default_gv[1]),
                    "kind": entry["kind"]}
            _, _, subresource = entry["name"].partition("/")
            if subresource:
                parent.setdefault("subresources", []).append(
                    {"subresource": subresource, "responseKind": kind, "verbs": entry["verbs"]})
                continue
            parent = {"resource": entry["name"], "responseKind": kind,
                      "scope": "Namespaced" if entry["namespaced"] else "Cluster",
                      "singularResource": entry["singularName"], "verbs": entry["verbs"],
                      **{key: entry[key] for key in ("shortNames", "categories") if key in entry}}
            resources.append(parent)
    return resources
