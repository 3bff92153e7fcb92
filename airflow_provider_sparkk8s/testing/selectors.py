"""Label and field selectors with the API server's syntax."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import bad_request

Predicate = Callable[[dict], bool]

_SET_EXPR = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ_EXPR = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")


def _split_top_level(selector: str) -> list[str]:
    """Split on commas that are not inside `in (...)` value lists."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def _requirement(key: str, op: str, values: set[str]) -> Predicate:
    """One label requirement: op is `in`, `notin`, `exists` or `!exists`."""
    if op == "in":
        return lambda labels: labels.get(key) in values
    if op == "notin":
        return lambda labels: labels.get(key) not in values
    if op == "exists":
        return lambda labels: key in labels
    return lambda labels: key not in labels


def parse_label_selector(selector: str | None) -> Predicate:
    if not selector:
        return lambda labels: True
    checks: list[Predicate] = []
    for term in _split_top_level(selector):
        m = _EQ_EXPR.match(term)
        if m:
            key, op, value = m.groups()
            checks.append(_requirement(key, "notin" if op == "!=" else "in", {value}))
            continue
        m = _SET_EXPR.match(term)
        if not m:
            raise bad_request(f"unable to parse requirement: invalid label selector: {term!r}")
        negate, key, op, values = m.groups()
        if op:
            if negate:
                raise bad_request(f"unable to parse requirement: {term!r}")
            checks.append(_requirement(key, op, {v.strip() for v in values.split(",") if v.strip()}))
        else:
            checks.append(_requirement(key, "!exists" if negate else "exists", set()))
    return lambda labels: all(check(labels) for check in checks)


def _field_value(obj: dict, path: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def parse_field_selector(selector: str | None, supported: set[str]) -> Predicate:
    """Field selectors: `=`, `==` and `!=` on the fields the resource supports."""
    if not selector:
        return lambda obj: True
    checks: list[Predicate] = []
    for term in _split_top_level(selector):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not m:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{term}'")
        path, op, value = m.groups()
        if path not in supported:
            raise bad_request(f'field label not supported: {path}')

        def check(obj: dict, p: str = path, o: str = op, v: str = value) -> bool:
            actual = _field_value(obj, p)
            actual = "" if actual is None else str(actual)
            return (actual != v) if o == "!=" else (actual == v)

        checks.append(check)
    return lambda obj: all(check(obj) for check in checks)


BASE_FIELDS = {"metadata.name", "metadata.namespace"}
EXTRA_FIELDS = {
    "pods": {"status.phase", "spec.nodeName", "spec.serviceAccountName", "spec.restartPolicy", "status.podIP"},
    "events": {"involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
               "reason", "reportingComponent", "type", "source"},
    "secrets": {"type"},
    "namespaces": {"status.phase"},
}


def supported_fields(plural: str) -> set[str]:
    return BASE_FIELDS | EXTRA_FIELDS.get(plural, set())
