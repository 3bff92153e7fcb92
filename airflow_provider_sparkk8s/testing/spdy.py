"""SPDY/3.1 framing, the server side's share: what kubectl port-forward speaks to the kubelet.

kubectl (client-go's spdystream, the Go SPDY/3 framer) sends SPDY/3 frames; "SPDY/3.1" is only the name of the
upgrade. Every frame has an 8-byte head:

- control frames: ``1 | version (15 bits) | type (16 bits)`` then ``flags (8) | length (24)``;
- data frames: ``0 | stream id (31 bits)`` then ``flags (8) | length (24)``.

The header blocks of SYN_STREAM, SYN_REPLY and HEADERS are ``count, (name length, name, value length, value)*``
with 32-bit big-endian lengths, compressed with zlib and the SPDY/3 dictionary: one zlib stream per direction for
the whole connection, each block ending with a sync flush. Flow control is not done: spdystream neither sends
WINDOW_UPDATE nor honours it, so neither does this module (it reads them and leaves them be).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
MAX_LENGTH = (1 << 24) - 1
_STREAM_ID = 0x7FFFFFFF

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9

# RST_STREAM status codes.
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, UNSUPPORTED_VERSION, CANCEL, INTERNAL_ERROR = 1, 2, 3, 4, 5, 6
STREAM_IN_USE, STREAM_ALREADY_CLOSED = 8, 9
# GOAWAY status codes.
GOAWAY_OK, GOAWAY_PROTOCOL_ERROR, GOAWAY_INTERNAL_ERROR = 0, 1, 2

# The SPDY/3 header compression dictionary (the spec's section 2.6.10.1): these names and values, each with its
# 32-bit length before it, then the plain text after them.
_DICTIONARY_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age "
    "allow authorization cache-control connection content-base content-encoding content-language content-length "
    "content-location content-md5 content-range content-type date etag expect expires from host if-match "
    "if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status"
).split() + ["200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
_DICTIONARY_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(struct.pack(">I", len(word)) + word.encode() for word in _DICTIONARY_WORDS) + \
    _DICTIONARY_TAIL.encode()


class ProtocolError(Exception):
    """The peer sent bytes that are no SPDY/3 frame: the connection cannot go on."""


@dataclass(frozen=True)
class DataFrame:
    stream_id: int
    data: bytes = b""
    fin: bool = False


@dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: dict[str, str] = field(default_factory=dict)
    associated_to: int = 0
    priority: int = 0
    fin: bool = False
    unidirectional: bool = False


@dataclass(frozen=True)
class SynReply:
    stream_id: int
    headers: dict[str, str] = field(default_factory=dict)
    fin: bool = False


@dataclass(frozen=True)
class RstStream:
    stream_id: int
    status: int


@dataclass(frozen=True)
class Settings:
    entries: tuple[tuple[int, int, int], ...] = ()  # (flags, id, value)
    clear: bool = False


@dataclass(frozen=True)
class Ping:
    ping_id: int


@dataclass(frozen=True)
class GoAway:
    last_good_stream_id: int
    status: int = GOAWAY_OK


@dataclass(frozen=True)
class Headers:
    stream_id: int
    headers: dict[str, str] = field(default_factory=dict)
    fin: bool = False


@dataclass(frozen=True)
class WindowUpdate:
    stream_id: int
    delta: int


Frame = DataFrame | SynStream | SynReply | RstStream | Settings | Ping | GoAway | Headers | WindowUpdate


class FrameDecoder:
    """Bytes in, frames out: one per connection and direction (it keeps the header zlib stream)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        """The frames that ``data`` completes; a frame cut short waits for the next bytes."""
        self._buffer += data
        frames = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head, flags = bytes(self._buffer[:4]), self._buffer[4]
            payload = bytes(self._buffer[8:8 + length])
            del self._buffer[:8 + length]
            frame = self._frame(head, flags, payload)
            if frame is not None:
                frames.append(frame)
        return frames

    def _frame(self, head: bytes, flags: int, payload: bytes) -> Frame | None:
        first = int.from_bytes(head, "big")
        if not first & 0x80000000:
            return DataFrame(first & _STREAM_ID, payload, bool(flags & FLAG_FIN))
        version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"SPDY version {version} is not served (only {VERSION})")
        try:
            return self._control(kind, flags, payload)
        except (struct.error, IndexError, zlib.error, UnicodeDecodeError) as exc:
            raise ProtocolError(f"malformed control frame of type {kind}: {exc}") from exc

    def _control(self, kind: int, flags: int, payload: bytes) -> Frame | None:
        fin = bool(flags & FLAG_FIN)
        if kind == SYN_STREAM:
            stream_id, associated, priority = struct.unpack(">IIB", payload[:9])
            return SynStream(stream_id & _STREAM_ID, self._headers(payload[10:]), associated & _STREAM_ID,
                             priority >> 5, fin, bool(flags & FLAG_UNIDIRECTIONAL))
        if kind == SYN_REPLY:
            return SynReply(_word(payload, 0) & _STREAM_ID, self._headers(payload[4:]), fin)
        if kind == HEADERS:
            return Headers(_word(payload, 0) & _STREAM_ID, self._headers(payload[4:]), fin)
        if kind == RST_STREAM:
            return RstStream(_word(payload, 0) & _STREAM_ID, _word(payload, 4))
        if kind == SETTINGS:
            count = _word(payload, 0)
            entries = tuple((payload[4 + 8 * i], _word(payload, 4 + 8 * i) & 0xFFFFFF, _word(payload, 8 + 8 * i))
                            for i in range(count))
            return Settings(entries, bool(flags & 0x01))
        if kind == PING:
            return Ping(_word(payload, 0))
        if kind == GOAWAY:
            return GoAway(_word(payload, 0) & _STREAM_ID, _word(payload, 4) if len(payload) >= 8 else GOAWAY_OK)
        if kind == WINDOW_UPDATE:
            return WindowUpdate(_word(payload, 0) & _STREAM_ID, _word(payload, 4) & _STREAM_ID)
        return None  # the spec: a control frame of an unknown type is ignored

    def _headers(self, block: bytes) -> dict[str, str]:
        """The name/value block; names are lower case on the wire, several values of a name are NUL-separated."""
        raw = self._inflate.decompress(block)
        count, offset, headers = _word(raw, 0), 4, {}
        for _ in range(count):
            name_length = _word(raw, offset)
            name = raw[offset + 4:offset + 4 + name_length].decode()
            offset += 4 + name_length
            value_length = _word(raw, offset)
            headers[name.lower()] = raw[offset + 4:offset + 4 + value_length].decode()
            offset += 4 + value_length
        return headers


class FrameEncoder:
    """Frames in, bytes out: one per connection and direction (it keeps the header zlib stream)."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zdict=DICTIONARY)

    def encode(self, frame: Frame) -> bytes:
        if isinstance(frame, DataFrame):
            return _head(frame.stream_id, FLAG_FIN if frame.fin else 0, frame.data)
        if isinstance(frame, SynStream):
            flags = (FLAG_FIN if frame.fin else 0) | (FLAG_UNIDIRECTIONAL if frame.unidirectional else 0)
            fixed = struct.pack(">IIBB", frame.stream_id, frame.associated_to, frame.priority << 5, 0)
            return _control(SYN_STREAM, flags, fixed + self._headers(frame.headers))
        if isinstance(frame, SynReply):
            block = struct.pack(">I", frame.stream_id) + self._headers(frame.headers)
            return _control(SYN_REPLY, FLAG_FIN if frame.fin else 0, block)
        if isinstance(frame, Headers):
            block = struct.pack(">I", frame.stream_id) + self._headers(frame.headers)
            return _control(HEADERS, FLAG_FIN if frame.fin else 0, block)
        if isinstance(frame, RstStream):
            return _control(RST_STREAM, 0, struct.pack(">II", frame.stream_id, frame.status))
        if isinstance(frame, Settings):
            entries = b"".join(struct.pack(">I", (flags << 24) | key) + struct.pack(">I", value)
                               for flags, key, value in frame.entries)
            return _control(SETTINGS, 1 if frame.clear else 0, struct.pack(">I", len(frame.entries)) + entries)
        if isinstance(frame, Ping):
            return _control(PING, 0, struct.pack(">I", frame.ping_id))
        if isinstance(frame, GoAway):
            return _control(GOAWAY, 0, struct.pack(">II", frame.last_good_stream_id, frame.status))
        return _control(WINDOW_UPDATE, 0, struct.pack(">II", frame.stream_id, frame.delta))

    def _headers(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            for text in (name.lower(), value):
                raw += struct.pack(">I", len(text.encode())) + text.encode()
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)


def _word(data: bytes, offset: int) -> int:
    value: int = struct.unpack_from(">I", data, offset)[0]
    return value


def _head(first: int, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_LENGTH:
        raise ValueError(f"a SPDY frame carries at most {MAX_LENGTH} bytes, not {len(payload)}")
    return struct.pack(">II", first, (flags << 24) | len(payload)) + payload


def _control(kind: int, flags: int, payload: bytes) -> bytes:
    return _head(0x80000000 | (VERSION << 16) | kind, flags, payload)
