"""Field ownership as the API server tracks it (`metadata.managedFields`, structured-merge-diff): every write
records which field manager set which fields; server-side apply merges by the schema's list and map types,
removes what a manager stopped applying when nobody else owns it, and refuses to take another manager's field
(409 Conflict) unless forced.

A field path is a tuple of fieldsV1 keys: `f:<field>`, `k:<key fields as JSON>` (an item of a keyed list),
`v:<value as JSON>` (an item of a set).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from . import errors
from .identity_cache import IdentityCache
from .resources import Registry, ResourceType

Path = tuple[str, ...]

# What the API server never tracks (kept by the server itself).
_STRIPPED: set[Path] = {("f:apiVersion",), ("f:kind",), ("f:metadata",)} | {
    ("f:metadata", f"f:{name}") for name in ("name", "namespace", "creationTimestamp", "selfLink", "uid",
                                             "clusterName", "generation", "managedFields", "resourceVersion",
                                             "deletionTimestamp", "deletionGracePeriodSeconds")}

# Built-in lists merged item by item (`x-kubernetes-list-type: map`) and their keys, as in the Kubernetes schema.
BUILTIN_LIST_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",), "volumes": ("name",),
    "volumeMounts": ("mountPath",), "env": ("name",), "imagePullSecrets": ("name",), "ownerReferences": ("uid",),
    "conditions": ("type",), "hostAliases": ("ip",), "containerStatuses": ("name",),
    "initContainerStatuses": ("name",), "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "volumeDevices": ("devicePath",), "resourceClaims": ("name",),
}
BUILTIN_SETS = frozenset({"finalizers"})
# Built-in fields that are maps from a key to a value (their entries are owned one by one, and a map that did not
# exist before an update is owned as a whole too); other built-in objects are structs that always exist.
BUILTIN_MAPS = frozenset({"labels", "annotations", "data", "binaryData", "stringData", "nodeSelector",
                          "limits", "requests", "rollingUpdate", "parameters"})
# Built-in fields replaced as a whole (`+mapType=atomic`, and LabelSelector's `+structType=atomic`).
BUILTIN_ATOMIC = frozenset({"selector", "podSelector", "namespaceSelector", "labelSelector"})
# Built-in keyed lists that always exist in the Go type (no omitempty), so never count as new in an update.
BUILTIN_PRESENT_LISTS = frozenset({"containers"})


# ---------------------------------------------------------------------------------------------- shapes

@dataclasses.dataclass(frozen=True)
class Shape:
    """What server-side apply needs to know of a type: how its lists and maps merge."""

    schema: dict | None = None  # a structural schema (custom resources); None for built-in types
    field: str = ""  # built-in types: the field's name, which decides its list type
    in_service: bool = False

    def child(self, key: str) -> Shape:
        if self.schema is None:
            return _builtin(key, self.in_service)
        props = self.schema.get("properties") or {}
        extra = self.schema.get("additionalProperties")
        sub = props.get(key) or (extra if isinstance(extra, dict) else None)
        return Shape(sub if sub is not None else {"x-kubernetes-preserve-unknown-fields": True})

    def item(self) -> Shape:
        if self.schema is None:
            return _builtin("", self.in_service)
        items = self.schema.get("items")
        return Shape(items if isinstance(items, dict) else {})

    def declared(self, key: str) -> bool:
        """A struct field (as opposed to an entry of a map with arbitrary keys)."""
        if self.schema is None:
            return self.field not in BUILTIN_MAPS
        return key in (self.schema.get("properties") or {})

    def list_keys(self, items: list) -> tuple[str, ...] | None:
        if self.schema is not None:
            if self.schema.get("x-kubernetes-list-type") == "map":
                return tuple(self.schema.get("x-kubernetes-list-map-keys") or ())
            return None
        if self.field == "ports":
            return ("port", "protocol") if self.in_service else ("containerPort", "protocol")
        return BUILTIN_LIST_KEYS.get(self.field)

    def is_set(self) -> bool:
        if self.schema is not None:
            return self.schema.get("x-kubernetes-list-type") == "set"
        return self.field in BUILTIN_SETS

    def atomic_map(self) -> bool:
        if self.schema is None:
            return self.field in BUILTIN_ATOMIC
        return self.schema.get("x-kubernetes-map-type") == "atomic"

    def new_lists_owned(self) -> bool:
        """Whether a keyed list or set that appears in an update is owned as a node too."""
        return self.schema is not None or self.field not in BUILTIN_PRESENT_LISTS

    def new_maps_owned(self) -> bool:
        """Whether a map that appears in an update is owned as a node: always for custom resources (they start
        from nothing), for built-in types only maps with arbitrary keys (their structs always exist)."""
        return self.schema is not None or self.field in BUILTIN_MAPS


@functools.lru_cache(maxsize=4096)
def _builtin(field: str, in_service: bool) -> Shape:
    return Shape(None, field, in_service)


def shape_for(registry: Registry, rt: ResourceType) -> Shape:
    crd = registry.crds.get((rt.group, rt.plural))
    for version in ((crd or {}).get("spec") or {}).get("versions") or []:
        if version.get("name") == rt.version:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if schema:
                return Shape(schema)
    if crd is not None or rt.group not in ("", "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io",
                                           "apiextensions.k8s.io", "policy", "autoscaling"):
        return Shape({"x-kubernetes-preserve-unknown-fields": True})
    return Shape(None, in_service=rt.plural == "services")


# ---------------------------------------------------------------------------------------------- field sets

def _json(value: Any) -> str:
    if isinstance(value, str) and value.isascii() and value.isprintable() and '"' not in value \
            and "\\" not in value:
        return f'"{value}"'  # the common case, without json.dumps
    return json.dumps(value, separators=(",", ":"))


def _key_of(item: Any, keys: tuple[str, ...]) -> str | None:
    if not isinstance(item, dict):
        return None
    parts = []
    for k in sorted(keys):
        if k in item:
            parts.append(f'"{k}":{_json(item[k])}')
        elif k == "protocol":
            parts.append('"protocol":"TCP"')  # the schema's default for the key
    return "k:{" + ",".join(parts) + "}"


def _v(value: Any) -> str:
    return "v:" + json.dumps(value, separators=(",", ":"))


@dataclasses.dataclass
class Fields:
    """An object seen as fields: leaf values by path, and the paths of maps and list items ("nodes")."""

    leaves: dict[Path, Any]
    owned_nodes: set[Path]  # nodes that a field set names itself (list items, map entries, ...)
    new_nodes: set[Path]  # nodes that count as added when they appear in an update


_STRIPPED_METADATA = {path[1][2:] for path in _STRIPPED if len(path) == 2}
_METADATA: Path = ("f:metadata",)


def fields_of(obj: Any, shape: Shape) -> Fields:
    out = Fields({}, set(), set())
    if isinstance(obj, dict):
        # The fields nobody owns are left out before the walk: managedFields alone is larger than most objects.
        view = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        if isinstance(view.get("metadata"), dict):
            view["metadata"] = {k: v for k, v in view["metadata"].items() if k not in _STRIPPED_METADATA}
        _walk_map(view, shape, (), out)
        # Of what the server keeps, only metadata itself is left (a node, or a leaf when it is not a map).
        out.leaves.pop(_METADATA, None)
        out.owned_nodes.discard(_METADATA)
        out.new_nodes.discard(_METADATA)
    return out


def _walk_map(obj: dict, shape: Shape, prefix: Path, out: Fields) -> None:
    for key, value in obj.items():
        path = (*prefix, f"f:{key}")
        sub = shape.child(key)
        _walk_value(value, sub, path, out, declared=shape.declared(key))


def _walk_value(value: Any, shape: Shape, path: Path, out: Fields, declared: bool = True) -> None:
    if isinstance(value, dict) and value and not shape.atomic_map():
        if not declared:
            out.owned_nodes.add(path)
        if shape.new_maps_owned() or not declared:
            out.new_nodes.add(path)
        _walk_map(value, shape, path, out)
    elif isinstance(value, list) and value and shape.is_set():
        if shape.new_lists_owned():
            out.new_nodes.add(path)
        for item in value:
            out.leaves[path + (_v(item),)] = item
    elif isinstance(value, list) and value and (keys := shape.list_keys(value)):
        item_shape = shape.item()
        if any(_key_of(item, keys) is None for item in value):
            out.leaves[path] = value
            return
        if shape.new_lists_owned():
            out.new_nodes.add(path)
        for item in value:
            item_path = path + (_key_of(item, keys) or "",)
            out.owned_nodes.add(item_path)
            out.new_nodes.add(item_path)
            _walk_map(item, item_shape, item_path, out)
    else:
        out.leaves[path] = value


def field_set(fields: Fields) -> set[Path]:
    return set(fields.leaves) | fields.owned_nodes


# ---------------------------------------------------------------------------------------------- fieldsV1

# Field sets of recent writes, encoded (read-only, shared); the oldest goes first.
_ENCODED: OrderedDict[frozenset[Path], dict] = OrderedDict()


def to_fields_v1(paths: Iterable[Path]) -> dict:
    members = frozenset(paths)
    tree = _ENCODED.get(members)
    if tree is None:
        tree = _encode(members)
        if len(_ENCODED) >= 4096:
            _ENCODED.popitem(last=False)
        _ENCODED[members] = tree
    return tree


def _encode(members: frozenset[Path]) -> dict:
    tree: dict = {}
    for path in sorted(members):
        node = tree
        for part in path:
            node = node.setdefault(part, {})
    _mark(tree, (), members)
    return tree


def _mark(node: dict, prefix: Path, members: frozenset[Path]) -> None:
    for key, child in list(node.items()):
        path = (*prefix, key)
        if child:
            _mark(child, path, members)
            if path in members:
                child["."] = {}
    # Go's encoder writes keys sorted, "." first.
    for key in sorted(node):
        node[key] = node.pop(key)


def from_fields_v1(tree: dict, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for key, child in (tree or {}).items():
        if key == ".":
            out.add(prefix)
            continue
        path = (*prefix, key)
        if not child:
            out.add(path)
        else:
            out |= from_fields_v1(child, path)
    return out


def path_string(path: Path) -> str:
    """`.spec.containers[name="app"].image`, as the API server prints a field path."""
    out = []
    for part in path:
        kind, _, rest = part.partition(":")
        if kind == "f":
            out.append(f".{rest}")
        elif kind == "k":
            fields = json.loads(rest)
            out.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in fields.items()) + "]")
        elif kind == "v":
            out.append(f"[={rest}]")
        else:
            out.append(f"[{rest}]")
    return "".join(out)


# ---------------------------------------------------------------------------------------------- entries

@dataclasses.dataclass
class Entry:
    manager: str
    operation: str  # Apply | Update
    api_version: str
    time: str
    fields: set[Path]
    subresource: str = ""

    def identity(self) -> tuple[str, str, str, str]:
        return (self.manager, self.operation, self.subresource,
                "" if self.operation == "Apply" else self.api_version)

    def encode(self) -> dict:
        out: dict[str, Any] = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version,
                               "time": self.time, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(self.fields)}
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def describe(self) -> str:
        """How a conflict message names this manager."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


def decode(managed: Any) -> list[Entry]:
    out = []
    for raw in managed or []:
        if not isinstance(raw, dict) or not raw.get("manager") and not raw.get("fieldsV1"):
            continue
        when = str(raw.get("time") or "").replace("+00:00", "Z")  # clients may send Python's isoformat
        out.append(Entry(raw.get("manager", ""), raw.get("operation", "Update"), raw.get("apiVersion", ""),
                         when, from_fields_v1(raw.get("fieldsV1") or {}), raw.get("subresource", "")))
    return out


def encode(entries: list[Entry]) -> list[dict]:
    kept = [e for e in entries if e.fields]
    kept.sort(key=lambda e: (e.operation, e.time, e.manager, e.api_version, e.subresource))
    return [e.encode() for e in kept]


# Decoded managedFields of the objects last written, by the identity of their list (as for _SEEN).
_DECODED: IdentityCache[list, list[Entry]] = IdentityCache()


def _copies(entries: list[Entry]) -> list[Entry]:
    # The constructor itself: dataclasses.replace costs several times as much, on every write.
    return [Entry(e.manager, e.operation, e.api_version, e.time, set(e.fields), e.subresource) for e in entries]


def _decode_live(managed: list) -> list[Entry]:
    seen = _DECODED.get(managed)
    return _copies(seen) if seen is not None else decode(managed)


def _base_entries(live: dict | None, new: dict) -> list[Entry]:
    """The request's own managedFields when it carries some (a client may rewrite them), else the live ones."""
    current = ((live or {}).get("metadata") or {}).get("managedFields")
    sent = (new.get("metadata") or {}).get("managedFields")
    if sent and sent != current:
        entries = decode(sent)
        if entries:
            return entries
    return _decode_live(current) if current else []


def _entry(entries: list[Entry], manager: str, operation: str, api_version: str, subresource: str,
           now: str) -> Entry:
    probe = Entry(manager, operation, api_version, now, set(), subresource)
    for entry in entries:
        if entry.identity() == probe.identity():
            return entry
    entries.append(probe)
    return probe


# ---------------------------------------------------------------------------------------------- operations

@dataclasses.dataclass
class Comparison:
    changed: set[Path]  # added or modified
    removed: set[Path]


# The fields of the objects last written, by identity: the next write to an object compares against the very dict
# the store kept, so its fields need not be walked again. Stored objects are never changed in place.
_SEEN: IdentityCache[dict, Fields] = IdentityCache()


_NO_FIELDS = Fields({}, set(), set())  # a create's old state (never changed: compare only reads it)


def _fields_cached(obj: dict, shape: Shape) -> Fields:
    return _SEEN.get_or_compute(obj, lambda o: fields_of(o, shape))


def compare(old: Any, new: Any, shape: Shape, only_status: bool = False) -> Comparison:
    if only_status:  # a status write changes nothing else: walk the status alone
        old, new = ({k: v for k, v in (o or {}).items() if k == "status"} for o in (old, new))
        before, after = fields_of(old, shape), fields_of(new, shape)
    else:
        before = _fields_cached(old, shape) if old else _NO_FIELDS
        after = _fields_cached(new, shape)
    added = (set(after.leaves) - set(before.leaves)) | (after.new_nodes - before.new_nodes)
    modified = {p for p in set(after.leaves) & set(before.leaves) if after.leaves[p] != before.leaves[p]}
    removed = (set(before.leaves) - set(after.leaves)) | ((before.new_nodes | before.owned_nodes)
                                                        - (after.new_nodes | after.owned_nodes))
    return Comparison(added | modified, removed)


def record_update(live: dict | None, new: dict, shape: Shape, manager: str | None, subresource: str | None,
                  now: str) -> None:
    """An ordinary write (create, update, patch): the manager owns what it changed; removed fields are nobody's."""
    entries = _base_entries(live, new)
    if manager is None and not entries:
        new.get("metadata", {}).pop("managedFields", None)
        return
    diff = compare(live, new, shape, only_status=subresource == "status")
    taken = diff.changed if manager is not None else set()  # a write with no manager takes nothing over
    for entry in entries:
        entry.fields -= diff.removed | taken
    if manager is not None and diff.changed:
        entry = _entry(entries, manager, "Update", new.get("apiVersion", ""), subresource or "", now)
        entry.fields |= diff.changed
        entry.time = now
    _store(new, entries)


def _store(obj: dict, entries: list[Entry]) -> None:
    encoded = encode(entries)
    meta = obj.setdefault("metadata", {})
    if encoded:
        meta["managedFields"] = encoded
        _DECODED.put(encoded, _copies([e for e in entries if e.fields]))
    else:
        meta.pop("managedFields", None)


def apply(live: dict | None, applied: dict, shape: Shape, manager: str, subresource: str | None, force: bool,
          now: str) -> dict:
    """Server-side apply of `applied` by `manager`: the merged object, its managedFields set; 409 on conflicts."""
    applied = copy.deepcopy(applied)
    applied.get("metadata", {}).pop("managedFields", None)
    entries = decode(((live or {}).get("metadata") or {}).get("managedFields"))
    mine = _entry(entries, manager, "Apply", applied.get("apiVersion", ""), subresource or "", now)
    others = [e for e in entries if e is not mine]
    wanted = field_set(fields_of(applied, shape))
    merged = merge(copy.deepcopy(live) if live else {}, applied, shape)
    owned_by_others = set().union(*(e.fields for e in others)) if others else set()
    for path in sorted(mine.fields - wanted - owned_by_others, key=len, reverse=True):
        _remove(merged, path)
    diff = compare(live, merged, shape)
    conflicts = [(e, p) for e in others for p in sorted(e.fields & diff.changed)]
    if conflicts and not force:
        raise conflict_error(conflicts)
    for entry in others:
        entry.fields -= diff.changed | diff.removed
    mine.fields = wanted
    mine.api_version = applied.get("apiVersion", mine.api_version)
    if merged != live:
        mine.time = now
    _store(merged, entries)
    return merged


def conflict_error(conflicts: list[tuple[Entry, Path]]) -> errors.ApiError:
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {e.describe()}",
               "field": path_string(p)} for e, p in conflicts]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {entry.describe()}: {path_string(path)}"
    else:
        by_manager: dict[str, list[str]] = {}
        for entry, path in conflicts:
            by_manager.setdefault(entry.describe(), []).append(path_string(path))
        lines = []
        for who in sorted(by_manager):
            lines.append(f"conflicts with {who}:")
            lines.extend(f"- {p}" for p in by_manager[who])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return errors.ApiError(409, "Conflict", message, {"causes": causes})


# ---------------------------------------------------------------------------------------------- merging

def merge(live: Any, applied: Any, shape: Shape) -> Any:
    """Merge an applied configuration into the live object by the schema: maps field by field, keyed lists item
    by item, sets as unions; anything else (scalars, atomic lists and maps) is replaced."""
    if isinstance(applied, dict) and isinstance(live, dict) and not shape.atomic_map():
        out = dict(live)
        for key, value in applied.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merge(live.get(key), value, shape.child(key))
        return out
    if isinstance(applied, list) and isinstance(live, list):
        if shape.is_set():
            return [*live, *(v for v in applied if v not in live)]
        keys = shape.list_keys(applied)
        if keys and all(isinstance(i, dict) for i in [*live, *applied]):
            out_list = list(live)
            index = {_key_of(item, keys): i for i, item in enumerate(out_list)}
            for item in applied:
                at = index.get(_key_of(item, keys))
                if at is None:
                    out_list.append(item)
                else:
                    out_list[at] = merge(out_list[at], item, shape.item())
            return out_list
    return copy.deepcopy(applied)


def _remove(obj: Any, path: Path) -> None:
    """Delete one field path (a field, a keyed list item or a set item) from an object, if it is there."""
    node = obj
    for i, part in enumerate(path):
        last = i == len(path) - 1
        kind, _, rest = part.partition(":")
        if kind == "f" and isinstance(node, dict):
            if rest not in node:
                return
            if last:
                del node[rest]
                return
            node = node[rest]
        elif kind in ("k", "v") and isinstance(node, list):
            wanted = json.loads(rest)
            match = None
            for j, item in enumerate(node):
                if kind == "v" and item == wanted:
                    match = j
                elif kind == "k" and isinstance(item, dict) and all(
                        item.get(k, "TCP" if k == "protocol" else None) == v for k, v in wanted.items()):
                    match = j
            if match is None:
                return
            if last:
                node.pop(match)
                return
            node = node[match]
        else:
            return


__all__ = ["Shape", "apply", "conflict_error", "from_fields_v1", "path_string", "record_update", "shape_for",
           "to_fields_v1"]
