"""The values the downward API exposes, for env ``valueFrom`` and downwardAPI volumes: ``fieldRef`` (pod fields)
and ``resourceFieldRef`` (a container's limits and requests, limits defaulting to the node's allocatable)."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from .errors import ContainerConfigFailure

_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.*)'\]$")
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$")
_SUFFIXES = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(10) ** 3,
             "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15,
             "E": Decimal(10) ** 18, "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
             "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60}


def format_map(values: Mapping[str, str]) -> str:
    """Labels or annotations as a downwardAPI file shows them: ``key="value"`` lines, sorted by key."""
    return "\n".join(f"{key}={json.dumps(values[key])}" for key in sorted(values))


def pod_field(pod: dict, field_path: str, pod_ips: Sequence[str] = (), host_ips: Sequence[str] = ()) -> str:
    """A ``fieldRef``'s value. The kubelet knows the pod's and host's IPs before its status says so, hence the
    arguments (defaulting to the status)."""
    metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    pod_ips = list(pod_ips) or [entry["ip"] for entry in status.get("podIPs") or []] or (
        [status["podIP"]] if status.get("podIP") else [])
    host_ips = list(host_ips) or [entry["ip"] for entry in status.get("hostIPs") or []] or (
        [status["hostIP"]] if status.get("hostIP") else [])
    simple = {
        "metadata.name": metadata.get("name", ""),
        "metadata.namespace": metadata.get("namespace", ""),
        "metadata.uid": metadata.get("uid", ""),
        "metadata.labels": format_map(metadata.get("labels") or {}),
        "metadata.annotations": format_map(metadata.get("annotations") or {}),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": host_ips[0] if host_ips else "",
        "status.hostIPs": ",".join(host_ips),
        "status.podIP": pod_ips[0] if pod_ips else "",
        "status.podIPs": ",".join(pod_ips),
    }
    if field_path in simple:
        return simple[field_path]
    subscript = _SUBSCRIPT.match(field_path)
    if subscript:
        return (metadata.get(subscript.group(1)) or {}).get(subscript.group(2), "")
    raise ContainerConfigFailure(f"unsupported fieldPath: {field_path}")


def parse_quantity(text: str | int | float) -> Decimal:
    """A resource.Quantity (``500m``, ``1Gi``, ``1e3``, ``2``) as a number."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        raise ContainerConfigFailure(f"quantities must match the regular expression: {text!r}")
    number, exponent, suffix = match.groups()
    value = Decimal(number)
    if exponent:
        return value * Decimal(10) ** int(exponent[1:])
    return value * _SUFFIXES[suffix] if suffix else value


def node_allocatable() -> dict[str, str]:
    """This machine's capacity, which stands in for a container's unset limits (as the node's allocatable)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpu": str(os.cpu_count() or 1), "memory": str(memory), "ephemeral-storage": "102400000Ki"}


def resource_field(container: dict, resource: str, divisor: str | int | None = None,
                   allocatable: Mapping[str, str] | None = None) -> str:
    """A ``resourceFieldRef``'s value: ``limits.cpu``, ``requests.memory``, ... divided by the divisor and rounded
    up, as the kubelet computes it (CPU in cores by default, so a 250m limit reads ``1``)."""
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or not name:
        raise ContainerConfigFailure(f"unsupported container resource : {resource}")
    resources = container.get("resources") or {}
    amount = (resources.get(kind) or {}).get(name)
    if amount is None and kind == "limits":
        amount = (allocatable or node_allocatable()).get(name)
    value = parse_quantity(amount if amount is not None else 0)
    per = parse_quantity(divisor) if divisor not in (None, "", 0, "0") else Decimal(1)
    return str(math.ceil(value / per))
