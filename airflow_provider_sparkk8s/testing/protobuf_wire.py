"""The protobuf wire format, read without generated code: enough to walk Kubernetes objects and descriptors."""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint too long")


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field: an int for varints and fixed numbers (their raw bits),
    bytes for length-delimited fields."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == VARINT:
            value, pos = read_varint(data, pos)
        elif wire == LENGTH:
            size, pos = read_varint(data, pos)
            if pos + size > end:
                raise WireError("truncated length-delimited field")
            value, pos = data[pos:pos + size], pos + size
        elif wire == FIXED64:
            if pos + 8 > end:
                raise WireError("truncated fixed64")
            value, pos = struct.unpack_from("<Q", data, pos)[0], pos + 8
        elif wire == FIXED32:
            if pos + 4 > end:
                raise WireError("truncated fixed32")
            value, pos = struct.unpack_from("<I", data, pos)[0], pos + 4
        else:
            raise WireError(f"unsupported wire type {wire}")
        if number == 0:
            raise WireError("field number 0")
        yield number, wire, value


def as_bytes(value: int | bytes) -> bytes:
    if isinstance(value, int):
        raise WireError("a number where a length-delimited field was expected")
    return value


def as_str(value: int | bytes) -> str:
    return as_bytes(value).decode()


def as_int(value: int | bytes) -> int:
    if not isinstance(value, int):
        raise WireError("a length-delimited field where a number was expected")
    return value


def signed(value: int, bits: int) -> int:
    """Two's complement: int32 and int64 varints of negative numbers arrive as 64-bit unsigned values."""
    value &= (1 << 64) - 1
    if bits == 32:
        value &= 0xFFFFFFFF
        return value - (1 << 32) if value >= 1 << 31 else value
    return value - (1 << 64) if value >= 1 << 63 else value
