"""JSON merge patch, strategic merge patch and JSON patch (server-side apply is in managed_fields.py)."""

from __future__ import annotations

from typing import Any

from .errors import ApiError, bad_request
from .json_copy import clone, clone_object

# Strategic-merge lists that merge element-wise by a key instead of being replaced (the subset of
# the Kubernetes schema our clients touch: pod specs, owner references, conditions, RBAC).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "env": "name",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
}
# Lists of scalars that strategic merge treats as sets.
SET_LISTS = {"finalizers"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386; `target` is left as it is."""
    return _merge(clone_object(target) if isinstance(target, dict) else None, patch)


def _merge(own: Any, patch: Any) -> Any:
    """Merge `patch` into `own`, a copy that is this merge's to change."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = own if isinstance(own, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, field: str = "") -> Any:
    """Kubernetes' strategic merge patch; `target` is left as it is."""
    return _strategic(clone_object(target) if isinstance(target, (dict, list)) else None, patch, field)


def _strategic(own: Any, patch: Any, field: str = "") -> Any:
    """Merge `patch` into `own`, a copy that is this merge's to change."""
    if not isinstance(patch, dict):
        if isinstance(patch, list):
            return _strategic_list(own, patch, field)
        return clone(patch)
    if patch.get("$patch") == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = own if isinstance(own, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name) or [] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
            continue
        merged = _strategic(result.get(key), value, key)
        if merged is None and isinstance(value, dict) and value.get("$patch") == "delete":
            result.pop(key, None)
        else:
            result[key] = merged
    if retain is not None:
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_key(field: str, items: list) -> str | None:
    """The merge key of a list. `ports` is keyed by containerPort in containers but by port in services."""
    if field == "ports" and not any(isinstance(i, dict) and "containerPort" in i for i in items):
        return "port"
    return MERGE_KEYS.get(field)


def _strategic_list(own: Any, patch: list, field: str) -> list:
    current = own if isinstance(own, list) else []
    if field in SET_LISTS:
        current.extend(clone(v) for v in patch if v not in current)
        return current
    key = _merge_key(field, [*current, *patch])
    if not key or not all(isinstance(item, dict) for item in patch):
        if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
            return [clone(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
        return clone(patch)
    result = current
    for item in patch:
        directive = item.get("$patch")
        if directive == "replace":
            return [clone(i) for i in patch if i.get("$patch") is None]
        idx = next((i for i, cur in enumerate(result) if isinstance(cur, dict) and cur.get(key) == item.get(key)),
                   None)
        if directive == "delete":
            if idx is not None:
                result.pop(idx)
            continue
        if idx is None:
            result.append(_strategic({}, item))
        else:
            result[idx] = _strategic(result[idx], item)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"the server rejected our request due to an error in our request: "
                          f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list):
            doc = doc[int(part)]
        elif isinstance(doc, dict):
            doc = doc[part]
        else:
            raise KeyError(part)
    return doc


def json_patch(target: Any, ops: Any) -> Any:
    """RFC 6902."""
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = clone(target)
    for op in ops:
        try:
            kind = op["op"]
            parts = _pointer(op["path"])
            if kind == "test":
                if _walk(doc, parts) != op.get("value"):
                    raise ApiError(422, "Invalid", f"testing value {op['path']} failed")
                continue
            if kind in ("move", "copy"):
                src = _pointer(op["from"])
                value = clone(_walk(doc, src))
                if kind == "move":
                    doc = _remove(doc, src)
                doc = _add(doc, parts, value)
            elif kind == "add":
                doc = _add(doc, parts, clone(op["value"]))
            elif kind == "remove":
                doc = _remove(doc, parts)
            elif kind == "replace":
                _walk(doc, parts)  # must exist
                doc = _remove(doc, parts)
                doc = _add(doc, parts, clone(op["value"]))
            else:
                raise bad_request(f"Unexpected kind: {kind}")
        except ApiError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                                          f"json patch {op.get('op') if isinstance(op, dict) else op} "
                                          f"operation failed: {exc}") from exc
    return doc


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            idx = int(last)
            if idx > len(parent):
                raise IndexError(f"index {idx} out of range")
            parent.insert(idx, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise KeyError(last)
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return None
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        parent.pop(int(last))
    else:
        del parent[last]
    return doc
