"""Which representation of an object a request asks for in its Accept header, and that representation.

The API server reads the media ranges of the Accept header by quality, then in the order given, and serves the first
one it can, for a get, a list, a watch's events and the object a write answers with: the object itself
(``application/json``, ``application/yaml``, protobuf, or a wildcard; the emulator writes JSON whatever the choice),
or a transformation into a ``meta.k8s.io`` kind named by the range's ``as``, ``g`` and ``v`` parameters:

- ``as=Table;g=meta.k8s.io;v=v1`` (or ``v1beta1``), as JSON or YAML only: ``kubectl get``'s columns (tables.py);
- ``as=PartialObjectMetadata`` / ``as=PartialObjectMetadataList``: the object's (the items') apiVersion, kind and
  metadata alone, which the metadata-only clients (client-go's metadata informers, the python clients'
  ``header_params``) ask for.

A range for any other kind or group is passed over; when none is left the answer is 406 NotAcceptable. A list asked
for as PartialObjectMetadata, or one object as PartialObjectMetadataList, is 406 too: the server decides which kinds
are acceptable before it knows whether the answer is a list.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from . import errors
from .resources import ResourceType
from .tables import table

META_GROUP = "meta.k8s.io"
META_VERSIONS = ("v1", "v1beta1")
# The serializers of a resource endpoint, in the order a wildcard range picks them.
SERIALIZERS = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
WILDCARDS = ("*/*", "application/*")
TABLE_SERIALIZERS = ("application/json", "application/yaml")
TRANSFORM_PARAMS = ("as", "g", "v")


@dataclass(frozen=True)
class MediaRange:
    media_type: str  # lower case, without parameters
    params: dict[str, str]


def media_ranges(accept: str) -> list[MediaRange]:
    """The Accept header's media ranges, most wanted first: by quality, then in the order given; q=0 ones dropped."""
    ranges = []
    for position, clause in enumerate(accept.split(",")):
        media_type, *raw_params = (part.strip() for part in clause.split(";"))
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            quality = 1.0
        if media_type and quality > 0:
            ranges.append((-quality, position, MediaRange(media_type.lower(), params)))
    return [r for _, _, r in sorted(ranges, key=lambda r: r[:2])]


@dataclass(frozen=True)
class Representation:
    """What a read answers with: the object itself (kind None) or a meta.k8s.io kind of that version."""

    kind: str | None = None
    version: str = "v1"

    @property
    def api_version(self) -> str:
        return f"{META_GROUP}/{self.version}"


AS_STORED = Representation()


@functools.lru_cache(maxsize=64)  # clients send the same few Accept headers on every request
def negotiate(accept: str) -> Representation:
    """The representation the first servable media range of the Accept header asks for; 406 when none is."""
    if not accept.strip():
        return AS_STORED
    for media_range in media_ranges(accept):
        serializer = _serializer(media_range.media_type)
        if serializer is None:
            continue
        chosen = _transformation(serializer, media_range.params)
        if chosen is not None:
            return chosen
    raise errors.ApiError(406, "NotAcceptable",
                          "only the following media types are accepted: " + ", ".join(SERIALIZERS))


def _serializer(media_type: str) -> str | None:
    if media_type in WILDCARDS:
        return SERIALIZERS[0]
    return media_type if media_type in SERIALIZERS else None


def _transformation(serializer: str, params: dict[str, str]) -> Representation | None:
    """The representation a range's as/g/v parameters name, None when the server cannot serve it."""
    if not any(key in params for key in TRANSFORM_PARAMS):
        return AS_STORED
    kind, group, version = (params.get(key, "") for key in TRANSFORM_PARAMS)
    if group != META_GROUP or version not in META_VERSIONS:
        return None
    if kind == "Table" and serializer in TABLE_SERIALIZERS:
        return Representation(kind, version)
    if kind in ("PartialObjectMetadata", "PartialObjectMetadataList"):
        return Representation(kind, version)
    return None


def render_object(rt: ResourceType, obj: dict, wanted: Representation, include_object: str | None = None,
                  headers: bool = True) -> dict:
    """One object (a GET or a watch event's) as `wanted`; `headers` False leaves a Table's columns out."""
    if wanted.kind is None:
        return obj
    if wanted.kind == "PartialObjectMetadata":
        return partial_object_metadata(obj, wanted.api_version)
    if wanted.kind == "Table":
        return table(rt, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion", "")}, include_object,
                     wanted.api_version, headers)
    raise _not_acceptable(wanted.kind, rt.kind, "is not a list")


def render_list(rt: ResourceType, listed: dict, wanted: Representation, include_object: str | None = None) -> dict:
    """A list (its `metadata` the ListMeta) as `wanted`."""
    if wanted.kind is None:
        return listed
    if wanted.kind == "PartialObjectMetadataList":
        return {"kind": wanted.kind, "apiVersion": wanted.api_version, "metadata": listed["metadata"],
                "items": [partial_object_metadata(o, wanted.api_version) for o in listed["items"]]}
    if wanted.kind == "Table":
        return table(rt, listed["items"], listed["metadata"], include_object, wanted.api_version)
    raise _not_acceptable(wanted.kind, f"{rt.kind}List", "is a list")


def partial_object_metadata(obj: dict, api_version: str = f"{META_GROUP}/v1") -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": obj["metadata"]}


def _not_acceptable(kind: str, served_kind: str, what: str) -> errors.ApiError:
    # The API server names the Go type it holds (e.g. *core.NodeList); the served kind says the same here.
    return errors.ApiError(406, "NotAcceptable",
                           f"you requested {kind}, but the requested object {what} ({served_kind})")
