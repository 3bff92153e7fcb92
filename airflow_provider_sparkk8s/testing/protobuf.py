"""Request bodies in Kubernetes' protobuf encoding (``application/vnd.kubernetes.protobuf``), read into the JSON
object the API would have received.

kubectl's typed clients (``create namespace|configmap|secret|token``, ``auth can-i``, ...) send built-in types this
way: the magic ``k8s\\x00``, then a ``runtime.Unknown`` whose ``typeMeta`` names the apiVersion and kind and whose
``raw`` is the typed message. The field numbers come from ``k8s_protobuf_fields.json``, extracted from kubectl's
own descriptors (``kubectl_descriptors.py``). The JSON follows the Go types' encoding: zero values of non-pointer
fields are left out (``omitempty``), pointer fields keep theirs, bytes are base64, Time is RFC 3339, Quantity and
IntOrString their string or number, RawExtension its embedded JSON.
"""

from __future__ import annotations

import base64
import json
import struct
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import errors
from .protobuf_wire import LENGTH, WireError, as_bytes, as_int, as_str, fields, read_varint, signed

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
FIELDS_FILE = Path(__file__).with_name("k8s_protobuf_fields.json")
META = "k8s.io.apimachinery.pkg.apis.meta.v1"
TIME, MICRO_TIME, DURATION = f"{META}.Time", f"{META}.MicroTime", f"{META}.Duration"
QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"
FIELDS_V1 = f"{META}.FieldsV1"
ZERO = ("", 0, 0.0, False, None)


class Schema:
    """Messages by full name: [(number, json name, type, flags)]; flags "r" repeated, "p" a Go pointer."""

    def __init__(self, table: dict) -> None:
        self.messages: dict[str, dict[int, tuple[str, str, str]]] = {
            name: {number: (json_name, type_, flags) for number, json_name, type_, flags in field_list}
            for name, field_list in table["messages"].items()}
        self.map_entries = frozenset(table["mapEntries"])

    def message_for(self, api_version: str, kind: str) -> str | None:
        """The message of apiVersion/kind: k8s.io.api.<group's first label>.<version>.<kind>, or meta/v1's
        (DeleteOptions and the like travel in every group)."""
        group, _, version = api_version.rpartition("/")
        short = group.split(".")[0] if group else "core"
        for name in (f"k8s.io.api.{short}.{version}.{kind}", f"{META}.{kind}"):
            if name in self.messages:
                return name
        return None


@lru_cache(maxsize=1)
def schema() -> Schema:
    return Schema(json.loads(FIELDS_FILE.read_text()))


def unsupported(reason: str) -> errors.ApiError:
    return errors.ApiError(415, "UnsupportedMediaType",
                           f"the body of the request could not be decoded as {MEDIA_TYPE}: {reason}")


def decode(raw: bytes) -> dict:
    """The JSON object of a protobuf request body (415 when it cannot be read)."""
    if not raw.startswith(MAGIC):
        raise unsupported("it does not start with the Kubernetes protobuf prefix")
    api_version = kind = encoding = ""
    body = b""
    try:
        for number, wire, value in fields(raw[len(MAGIC):]):
            if number == 1 and wire == LENGTH:  # typeMeta
                for n, _, v in fields(as_bytes(value)):
                    if n == 1:
                        api_version = as_str(v)
                    elif n == 2:
                        kind = as_str(v)
            elif number == 2 and wire == LENGTH:
                body = as_bytes(value)
            elif number == 3 and wire == LENGTH:
                encoding = as_str(value)
        if encoding:
            raise unsupported(f"content encoding {encoding!r} is not supported")
        message = schema().message_for(api_version, kind)
        if message is None:
            raise unsupported(f"no protobuf message is known for {api_version or '?'}, Kind={kind or '?'}")
        obj = _message(body, message)
    except (WireError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, errors.ApiError):
            raise
        raise unsupported(str(exc) or type(exc).__name__) from exc
    return {"kind": kind, "apiVersion": api_version, **obj}


def _message(data: bytes, name: str) -> dict:
    spec = schema().messages[name]
    out: dict[str, Any] = {}
    for number, wire, raw in fields(data):
        field = spec.get(number)
        if field is None:
            continue  # unknown fields are dropped, as the API server's decoder does
        json_name, type_, flags = field
        if "r" in flags:
            if type_ in schema().map_entries:
                key, value = _map_entry(as_bytes(raw), type_)
                out.setdefault(json_name, {})[key] = value
            elif wire == LENGTH and type_ not in ("string", "bytes") and type_ not in schema().messages:
                out.setdefault(json_name, []).extend(_packed(as_bytes(raw), type_))
            else:
                out.setdefault(json_name, []).append(_value(raw, type_))
        else:
            out[json_name] = _value(raw, type_)
    for json_name, type_, flags in spec.values():
        value = out.get(json_name)
        if value is None or ("p" not in flags and "r" not in flags and type_ not in schema().messages
                             and value in ZERO):
            out.pop(json_name, None)
    return out


def _map_entry(data: bytes, entry: str) -> tuple[str, Any]:
    spec = schema().messages[entry]
    key: Any = ""
    value: Any = None
    for number, _, raw in fields(data):
        if number == 1:
            key = _value(raw, spec[1][1])
        elif number == 2:
            value = _value(raw, spec[2][1])
    if value is None:
        value = "" if spec[2][1] in ("string", "bytes") else value
    return str(key), value


def _packed(data: bytes, type_: str) -> list:
    if type_ in ("double", "fixed64", "sfixed64"):
        return [_value(v, type_) for v in struct.unpack(f"<{len(data) // 8}Q", data)]
    if type_ in ("float", "fixed32", "sfixed32"):
        return [_value(v, type_) for v in struct.unpack(f"<{len(data) // 4}I", data)]
    values, pos = [], 0
    while pos < len(data):
        v, pos = read_varint(data, pos)
        values.append(_value(v, type_))
    return values


def _value(raw: int | bytes, type_: str) -> Any:
    if isinstance(raw, int):
        if type_ == "bool":
            return raw != 0
        if type_ in ("int32", "sfixed32"):
            return signed(raw, 32)
        if type_ in ("int64", "sfixed64"):
            return signed(raw, 64)
        if type_ == "sint32" or type_ == "sint64":
            return (raw >> 1) ^ -(raw & 1)
        if type_ == "double":
            return struct.unpack("<d", struct.pack("<Q", raw))[0]
        if type_ == "float":
            return struct.unpack("<f", struct.pack("<I", raw))[0]
        return raw
    data = bytes(raw)
    if type_ == "string":
        return data.decode()
    if type_ == "bytes":
        return base64.b64encode(data).decode()
    if type_ in (TIME, MICRO_TIME):
        return _time(data, micro=type_ == MICRO_TIME)
    if type_ == DURATION:
        return _duration(signed(next((as_int(v) for n, _, v in fields(data) if n == 1), 0), 64))
    if type_ == QUANTITY:
        return _message(data, type_).get("string", "0")
    if type_ == INT_OR_STRING:
        parts = _message(data, type_)
        return parts.get("strVal", "") if parts.get("type") == 1 else parts.get("intVal", 0)
    if type_ in (RAW_EXTENSION, FIELDS_V1):
        embedded = next((as_bytes(v) for n, _, v in fields(data) if n == 1), b"")
        if embedded.startswith(MAGIC):
            return decode(embedded)
        return json.loads(embedded) if embedded.strip() else None
    if type_ in schema().messages:
        return _message(data, type_)
    raise WireError(f"no decoder for {type_}")


def _time(data: bytes, micro: bool) -> str | None:
    if not data:
        return None  # a zero Time is encoded as nothing, and is null in JSON
    parts = {n: as_int(v) for n, _, v in fields(data)}
    seconds, nanos = signed(parts.get(1, 0), 64), signed(parts.get(2, 0), 32)
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(nanos: int) -> str:
    """Go's time.Duration.String() for whole units as kubectl sends them (``1h0m0s``, ``1m30s``, ``500ms``)."""
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return f"{sign}{nanos / size:g}{unit}"
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = f"{rest / 1e9:.9f}".rstrip("0").rstrip(".")
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}s"
    return f"{sign}{seconds}s"
