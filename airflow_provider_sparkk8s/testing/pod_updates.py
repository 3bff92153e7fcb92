"""What a pod update may change (ValidatePodUpdate of a 1.32 API server), and the spec diff its error shows.

Only container and init container images, a shorter `activeDeadlineSeconds`, added tolerations and a
`terminationGracePeriodSeconds` of 1 over a negative one may change; the scheduler sets `nodeName` through the
`pods/binding` subresource, never through an update. Anything else is one `spec: Forbidden` error followed by the
difference, which the real server prints with go-cmp (`cmp.Diff(old, new)`) over its internal `core.PodSpec`.
This module writes the same layout: changed fields as `-`/`+` lines in Go's field order, unchanged runs folded
into `... // N identical fields`.
"""

from __future__ import annotations

import copy
from typing import Any

Cause = tuple[str, str, Any, str]  # as errors.invalid takes them

UPDATABLE = ",".join((
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
))

# Go field order of core.PodSpec and core.Container (the JSON names; unknown fields go last).
POD_SPEC_FIELDS = (
    "volumes", "initContainers", "containers", "ephemeralContainers", "restartPolicy",
    "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName",
    "automountServiceAccountToken", "nodeName", "securityContext", "imagePullSecrets", "hostname", "subdomain",
    "setHostnameAsFQDN", "affinity", "schedulerName", "tolerations", "hostAliases", "priorityClassName", "priority",
    "preemptionPolicy", "dnsConfig", "readinessGates", "runtimeClassName", "overhead", "enableServiceLinks",
    "topologySpreadConstraints", "os", "schedulingGates", "resourceClaims",
)
CONTAINER_FIELDS = (
    "name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources", "resizePolicy",
    "restartPolicy", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe",
    "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "securityContext",
    "stdin", "stdinOnce", "tty",
)
_GO_NAMES = {"dnsPolicy": "DNSPolicy", "dnsConfig": "DNSConfig", "os": "OS", "tty": "TTY",
             "setHostnameAsFQDN": "SetHostnameAsFQDN"}
_CHILD_TYPES = {"containers": ("core.Container", CONTAINER_FIELDS),
                "initContainers": ("core.Container", CONTAINER_FIELDS)}


def pod_update_causes(old_spec: dict, new_spec: dict) -> list[Cause]:
    """The validation errors of changing a pod's spec from `old_spec` to `new_spec` (empty when allowed)."""
    old_deadline, new_deadline = old_spec.get("activeDeadlineSeconds"), new_spec.get("activeDeadlineSeconds")
    if new_deadline is not None:
        if not isinstance(new_deadline, int) or not 0 <= new_deadline <= 2**31 - 1:
            return [("spec.activeDeadlineSeconds", "FieldValueInvalid", new_deadline,
                     "must be between 0 and 2147483647, inclusive")]
        if old_deadline is not None and old_deadline < new_deadline:
            return [("spec.activeDeadlineSeconds", "FieldValueInvalid", new_deadline,
                     "must be less than or equal to previous value")]
    elif old_deadline is not None:
        return [("spec.activeDeadlineSeconds", "FieldValueInvalid", "null",
                 "must not update from a positive integer to nil value")]
    causes: list[Cause] = []
    old_tolerations = old_spec.get("tolerations") or []
    new_tolerations = new_spec.get("tolerations") or []
    seconds_free = [{k: v for k, v in t.items() if k != "tolerationSeconds"} for t in new_tolerations
                    if isinstance(t, dict)]
    if any({k: v for k, v in t.items() if k != "tolerationSeconds"} not in seconds_free for t in old_tolerations
           if isinstance(t, dict)):
        causes.append(("spec.tolerations", "FieldValueForbidden", None,
                       "Forbidden: existing toleration can not be modified except its tolerationSeconds"))
    munged = copy.deepcopy(new_spec)
    for kind in ("containers", "initContainers"):
        for new_c, old_c in zip(munged.get(kind) or [], old_spec.get(kind) or [], strict=False):
            if isinstance(new_c, dict) and isinstance(old_c, dict):
                _set_or_drop(new_c, "image", old_c.get("image"))
    _set_or_drop(munged, "activeDeadlineSeconds", old_deadline)
    _set_or_drop(munged, "tolerations", old_spec.get("tolerations"))
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if munged != old_spec:
        diff = go_diff("core.PodSpec", POD_SPEC_FIELDS, old_spec, munged)
        causes.append(("spec", "FieldValueForbidden", None,
                       f"Forbidden: pod updates may not change fields other than {UPDATABLE}\n{diff}"))
    return causes


def _set_or_drop(obj: dict, key: str, value: Any) -> None:
    if value is None:
        obj.pop(key, None)
    else:
        obj[key] = value


def go_diff(type_name: str, order: tuple[str, ...], old: dict, new: dict, depth: int = 0) -> str:
    """A go-cmp style report of the fields that differ between two structs."""
    pad = "\t" * (depth + 1)
    keys = [k for k in order if k in old or k in new] + sorted((set(old) | set(new)) - set(order))
    lines = [f"  {chr(9) * depth}{type_name}{{"]
    same = 0
    for key in keys:
        before, after = old.get(key), new.get(key)
        if before == after:
            same += 1
            continue
        if same:
            lines.append(f"  {pad}... // {same} identical field{'s' if same > 1 else ''}")
            same = 0
        name = _GO_NAMES.get(key) or key[:1].upper() + key[1:]
        child = _CHILD_TYPES.get(key)
        if child and isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
            lines.append(f"  {pad}{name}: []{child[0]}{{")
            for b, a in zip(before, after, strict=True):
                if b != a and isinstance(b, dict) and isinstance(a, dict):
                    lines.append(go_diff("", child[1], b, a, depth + 2) + ",")
                elif b == a:
                    lines.append(f"  {pad}\t{{...}},")
            lines.append(f"  {pad}}},")
            continue
        # A struct field always exists: a missing one is its zero value ("" for strings, nil for the rest).
        lines.append(f"- {pad}{name}: {go_value(before, after)},")
        lines.append(f"+ {pad}{name}: {go_value(after, before)},")
    if same:
        lines.append(f"  {pad}... // {same} identical field{'s' if same > 1 else ''}")
    lines.append(f"  {chr(9) * depth}}}")
    return "\n".join(lines)


def go_value(value: Any, other: Any = None) -> str:
    """A value as go-cmp prints it, near enough: quoted strings, &N for the optional integers, []string{...},
    {...} for structs and maps; `other` (the value on the other side) gives a missing string its zero value."""
    if value is None:
        return '""' if isinstance(other, str) else "false" if isinstance(other, bool) else "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"&{value}"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k[:1].upper() + k[1:]}: {go_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        items = ", ".join(go_value(v) for v in value)
        return f"[]string{{{items}}}" if value and all(isinstance(v, str) for v in value) else f"{{{items}}}"
    return str(value)
