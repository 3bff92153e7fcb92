"""A CustomResourceDefinition's structural `openAPIV3Schema` applied to custom resources, in the order the API
server applies it: drop unknown fields (pruning), drop nulls the schema does not allow, fill `default`s, then
validate. Messages follow kube-openapi's wording as the API server turns them into field errors.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

Cause = tuple[str, str, Any, str]  # (field, reason, bad value or None, detail): what errors.invalid takes

_OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
    "managedFields"})
_ROOT_KEPT = ("apiVersion", "kind", "metadata")


# ---------------------------------------------------------------------------------------------- pruning

def prune(schema: dict, obj: dict) -> list[str]:
    """Remove the fields the schema does not declare (in place); return their paths, as field validation reports
    them (`spec.foo`, `spec.items[0].bar`)."""
    unknown: list[str] = []
    for key in list(obj):
        if key in _ROOT_KEPT:
            continue
        _prune_child(schema, obj, key, key, unknown)
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for key in [k for k in meta if k not in _OBJECT_META_FIELDS]:
            unknown.append(f"metadata.{key}")
            del meta[key]
    return unknown


def _prune_child(schema: dict, parent: dict, key: str, path: str, unknown: list[str]) -> None:
    props = schema.get("properties") or {}
    if key in props:
        _prune_value(props[key], parent[key], path, unknown)
        return
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        _prune_value(extra, parent[key], path, unknown)
    elif not (schema.get("x-kubernetes-preserve-unknown-fields") or extra is True):
        unknown.append(path)
        del parent[key]


def _prune_value(schema: dict, value: Any, path: str, unknown: list[str]) -> None:
    if isinstance(value, dict):
        embedded = schema.get("x-kubernetes-embedded-resource")
        for key in list(value):
            if embedded and key in _ROOT_KEPT:
                continue
            _prune_child(schema, value, key, f"{path}.{key}", unknown)
        meta = value.get("metadata") if embedded else None
        if isinstance(meta, dict):
            for key in [k for k in meta if k not in _OBJECT_META_FIELDS]:
                unknown.append(f"{path}.metadata.{key}")
                del meta[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _prune_value(schema["items"], item, f"{path}[{i}]", unknown)


# ---------------------------------------------------------------------------------------------- nulls, defaults

def default(schema: dict, obj: Any) -> None:
    """Drop nulls where the schema is not `nullable`, then fill in `default`s of absent properties (in place)."""
    if isinstance(obj, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key in list(obj):
            sub = props.get(key) or (extra if isinstance(extra, dict) else None)
            if obj[key] is None and sub is not None and not sub.get("nullable"):
                del obj[key]
        for key, sub in props.items():
            if key not in obj and "default" in sub:
                obj[key] = _copy(sub["default"])
        for key, value in obj.items():
            sub = props.get(key) or (extra if isinstance(extra, dict) else None)
            if sub is not None:
                default(sub, value)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for item in obj:
            default(schema["items"], item)


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


# ---------------------------------------------------------------------------------------------- validation

def validate(schema: dict, obj: dict) -> list[Cause]:
    """Every violation of the schema by `obj`, as field errors (the root's apiVersion/kind/metadata belong to the
    API server, not the schema)."""
    errors: list[Cause] = []
    body = {k: v for k, v in obj.items() if k not in _ROOT_KEPT}
    root = dict(schema)
    root["properties"] = {k: v for k, v in (schema.get("properties") or {}).items() if k not in _ROOT_KEPT}
    root["required"] = [r for r in schema.get("required") or [] if r not in _ROOT_KEPT]
    _Validator(errors).object(root, body, "")
    return errors


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _fits(expected: str, value: Any) -> bool:
    actual = _type_of(value)
    if expected == actual:
        return True
    if expected == "number" and actual == "integer":
        return True
    return expected == "integer" and actual == "number" and float(value).is_integer()


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _matches(pattern: str) -> Callable[[str], object]:
    def check(value: str) -> object:
        if not re.fullmatch(pattern, value):
            raise ValueError(value)
        return value
    return check


_FORMATS: dict[str, Callable[[str], object]] = {
    "date-time": lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")),
    "date": date.fromisoformat,
    "uuid": uuid.UUID,
    "byte": lambda v: base64.b64decode(v, validate=True),
    "ipv4": ipaddress.IPv4Address,
    "ipv6": ipaddress.IPv6Address,
    "email": _matches(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    "hostname": _matches(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"),
}


def _format_ok(fmt: str, value: str) -> bool:
    check = _FORMATS.get(fmt)
    if check is None:
        return True  # int32, int64, quantity, ...: not checked by the API server's format registry either
    try:
        check(value)
    except (ValueError, TypeError):
        return False
    return True


def _go_value(value: Any) -> str:
    """A JSON value as Go's %#v prints it in "Invalid value: ..." (composites print their Go types)."""
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(_go_value(v) for v in value) + "}"
    if isinstance(value, dict):
        return "map[string]interface {}{" + ", ".join(f"{_go(k)}:{_go_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "interface {}(nil)"
    return _go(value)


@dataclass
class _Validator:
    errors: list[Cause]

    def add(self, cause: Cause) -> None:
        path, reason, value, detail = cause
        if isinstance(value, (list, dict)):
            self.errors.append((path, reason, None, f"Invalid value: {_go_value(value)}: {detail}"))
        else:
            self.errors.append(cause)

    def value(self, schema: dict, value: Any, path: str) -> None:
        if value is None and schema.get("nullable"):
            return
        if schema.get("x-kubernetes-int-or-string"):
            if not isinstance(value, (int, str)) or isinstance(value, bool):
                # The value shown is the JSON type of what was given (kube-openapi's InvalidType).
                self.add((path, "FieldValueTypeInvalid", _type_of(value),
                          f'{path} in body must be of type integer,string: "{_type_of(value)}"'))
                return
        elif schema.get("type") and not _fits(schema["type"], value):
            if not (value is None or schema.get("x-kubernetes-preserve-unknown-fields")
                    and schema["type"] == "object" and isinstance(value, dict)):
                self.add((path, "FieldValueTypeInvalid", _type_of(value),
                          f'{path} in body must be of type {schema["type"]}: "{_type_of(value)}"'))
                return
            if value is None:
                self.add((path, "FieldValueTypeInvalid", "null",
                          f'{path} in body must be of type {schema["type"]}: "null"'))
                return
        if "enum" in schema and value not in schema["enum"]:
            supported = ", ".join(_go(v) for v in schema["enum"])
            self.add((path, "FieldValueNotSupported", None,
                                f"Unsupported value: {_go(value)}: supported values: {supported}"))
        if isinstance(value, dict):
            self.object(schema, value, path)
        elif isinstance(value, list):
            self.array(schema, value, path)
        elif isinstance(value, str):
            self.string(schema, value, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self.number(schema, value, path)

    def object(self, schema: dict, value: dict, path: str) -> None:
        prefix = f"{path}." if path else ""
        for name in schema.get("required") or []:
            if name not in value:
                self.add((f"{prefix}{name}", "FieldValueRequired", None, "Required value"))
        if schema.get("x-kubernetes-embedded-resource"):
            for name in ("apiVersion", "kind"):
                if not value.get(name):
                    self.add((f"{prefix}{name}", "FieldValueRequired", None,
                                        "Required value: must not be empty"))
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            self.add((path, "FieldValueTooMany", None,
                                f"Too many: {len(value)}: must have at most {schema['maxProperties']} items"))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            self.add((path, "FieldValueInvalid", value,
                                f"{path} in body should have at least {schema['minProperties']} properties"))
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key) or (extra if isinstance(extra, dict) else None)
            if sub is not None:
                self.value(sub, item, f"{prefix}{key}")

    def array(self, schema: dict, value: list, path: str) -> None:
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.add((path, "FieldValueTooMany", None,
                                f"Too many: {len(value)}: must have at most {schema['maxItems']} items"))
        if "minItems" in schema and len(value) < schema["minItems"]:
            self.add((path, "FieldValueInvalid", value,
                                f"{path} in body should have at least {schema['minItems']} items"))
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                self.value(items, item, f"{path}[{i}]")
        if schema.get("x-kubernetes-list-type") == "set":
            seen: list = []
            for i, item in enumerate(value):
                if item in seen:
                    self.add((f"{path}[{i}]", "FieldValueDuplicate", None, f"Duplicate value: {_go(item)}"))
                seen.append(item)

    def string(self, schema: dict, value: str, path: str) -> None:
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            n = schema["maxLength"]
            self.add((path, "FieldValueTooLong", None,
                                f"Too long: may not be more than {n} byte{'' if n == 1 else 's'}"))
        if "minLength" in schema and len(value) < schema["minLength"]:
            self.add((path, "FieldValueInvalid", value,
                                f"{path} in body should be at least {schema['minLength']} chars long"))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            self.add((path, "FieldValueInvalid", value, f"{path} in body should match '{schema['pattern']}'"))
        if "format" in schema and not _format_ok(schema["format"], value):
            self.add((path, "FieldValueTypeInvalid", value,
                                f'{path} in body must be of type {schema["format"]}: "{value}"'))

    def number(self, schema: dict, value: float, path: str) -> None:
        if "minimum" in schema:
            low = schema["minimum"]
            if value < low or (schema.get("exclusiveMinimum") and value == low):
                word = "greater than" if schema.get("exclusiveMinimum") else "greater than or equal to"
                self.add((path, "FieldValueInvalid", value,
                                    f"{path} in body should be {word} {_number(low)}"))
        if "maximum" in schema:
            high = schema["maximum"]
            if value > high or (schema.get("exclusiveMaximum") and value == high):
                word = "less than" if schema.get("exclusiveMaximum") else "less than or equal to"
                self.add((path, "FieldValueInvalid", value,
                                    f"{path} in body should be {word} {_number(high)}"))
        if "multipleOf" in schema and schema["multipleOf"] and (value / schema["multipleOf"]) % 1:
            self.add((path, "FieldValueInvalid", value,
                                f"{path} in body should be a multiple of {_number(schema['multipleOf'])}"))


def _go(value: Any) -> str:
    """A value as Go's %q / %v prints it in `supported values: ...`."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = ["Cause", "default", "prune", "validate"]
