"""The server side of a SPDY/3.1 connection whose client opens the streams, as the kubelet serves port-forward,
exec and attach (apimachinery's httpstream/spdy over spdystream), and the HTTP upgrade that starts it.

The connection reads frames until the client's GOAWAY or the end of its bytes: every SYN_STREAM the subclass
accepts is answered with an empty SYN_REPLY (one it refuses is reset, as spdystream's Reset does), DATA goes to the
stream's inbound queue (None for the client's FIN), PINGs are echoed. What the streams mean is the subclass's:
``accepts``, ``opened``, ``reset`` and ``finish``; ``end`` stops the connection from the server's side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from . import spdy

Receive = Callable[[], Awaitable[bytes | None]]
Send = Callable[[bytes], Awaitable[None]]


@dataclass
class Stream:
    stream_id: int
    headers: dict[str, str]
    inbound: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)  # None: the client's FIN
    fin_sent: bool = False


class SpdyConnection:
    """One SPDY connection: its bytes come from ``receive`` (None at its end) and go out with ``send``."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive, self._send_bytes = receive, send
        self._decoder, self._encoder = spdy.FrameDecoder(), spdy.FrameEncoder()
        self._send_lock = asyncio.Lock()  # the header zlib stream is in the order the frames go out
        self.streams: dict[int, Stream] = {}
        self._last_stream_id = 0
        self._ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # -------------------------------------------------------------------------------- what the subclass says
    def accepts(self, headers: dict[str, str]) -> bool:
        return True

    async def opened(self, stream: Stream) -> None:
        """A stream the client opened, already answered."""

    def reset(self, stream: Stream) -> None:
        """The client reset the stream."""

    async def finish(self) -> None:
        """The connection has ended (the client's GOAWAY or its end, or ``end``): stop what still runs."""

    # ------------------------------------------------------------------------------------------ the connection
    async def run(self) -> None:
        reading = asyncio.ensure_future(self._read())
        try:
            await asyncio.wait({reading, self._ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            reading.cancel()
            await self.finish()

    def end(self) -> None:
        """The server is done with the connection (the client sees it close)."""
        if not self._ended.done():
            self._ended.set_result(None)

    async def _read(self) -> None:
        try:
            while (chunk := await self._receive()) is not None:
                for frame in self._decoder.feed(chunk):
                    if isinstance(frame, spdy.GoAway):
                        return
                    await self._handle(frame)
        except spdy.ProtocolError:
            with contextlib.suppress(ConnectionError):
                await self.send(spdy.GoAway(self._last_stream_id, spdy.GOAWAY_PROTOCOL_ERROR))
        except ConnectionError:
            pass  # the client is gone

    async def _handle(self, frame: spdy.Frame) -> None:
        if isinstance(frame, spdy.SynStream):
            await self._open(frame)
        elif isinstance(frame, spdy.DataFrame):
            stream = self.streams.get(frame.stream_id)
            if stream is not None:
                if frame.data:
                    stream.inbound.put_nowait(frame.data)
                if frame.fin:
                    stream.inbound.put_nowait(None)
        elif isinstance(frame, spdy.Ping):
            await self.send(frame)  # the client's ping, echoed
        elif isinstance(frame, spdy.RstStream):
            stream = self.streams.get(frame.stream_id)
            if stream is not None:
                self.reset(stream)
        # SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do (no flow control, as in spdystream).

    async def _open(self, frame: spdy.SynStream) -> None:
        if frame.stream_id in self.streams:
            await self.send(spdy.RstStream(frame.stream_id, spdy.STREAM_IN_USE))
            return
        self._last_stream_id = max(self._last_stream_id, frame.stream_id)
        if not self.accepts(frame.headers):
            await self.send(spdy.RstStream(frame.stream_id, spdy.CANCEL))  # what spdystream's Reset sends
            return
        stream = Stream(frame.stream_id, frame.headers)
        self.streams[frame.stream_id] = stream
        await self.send(spdy.SynReply(frame.stream_id))
        if frame.fin:
            stream.inbound.put_nowait(None)
        await self.opened(stream)

    # ------------------------------------------------------------------------------------------------ writing
    async def send_data(self, stream: Stream, data: bytes) -> None:
        if not stream.fin_sent:
            await self.send(spdy.DataFrame(stream.stream_id, data))

    async def close_stream(self, stream: Stream) -> None:
        """The server's FIN on the stream, once."""
        if not stream.fin_sent:
            stream.fin_sent = True
            await self.send(spdy.DataFrame(stream.stream_id, b"", fin=True))

    async def send(self, frame: spdy.Frame) -> None:
        async with self._send_lock:
            await self._send_bytes(self._encoder.encode(frame))


def is_spdy_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower().startswith("spdy/3")


class _Incoming:
    """Where aiohttp puts the connection's bytes once it is upgraded (what it feeds a websocket reader)."""

    def __init__(self) -> None:
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.chunks.put_nowait(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        self.chunks.put_nowait(None)


async def serve_upgrade(request: web.Request, protocol: str,
                        connection: Callable[[Receive, Send], SpdyConnection]) -> web.StreamResponse:
    """SPDY on the HTTP connection itself: ``101 Switching Protocols`` to ``SPDY/3.1``, naming the negotiated
    protocol (``X-Stream-Protocol-Version``, left out when there is none), then the connection until it ends."""
    headers = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1"}
    if protocol:
        headers["X-Stream-Protocol-Version"] = protocol
    response = web.StreamResponse(status=101, headers=headers)
    response.force_close()  # the connection is SPDY's now: it ends with the session
    incoming = _Incoming()
    await response.prepare(request)
    assert request.protocol is not None
    request.protocol.set_parser(incoming)  # type: ignore[arg-type]

    async def send(data: bytes) -> None:
        if request.transport is None or request.transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        await response.write(data)

    await connection(incoming.chunks.get, send).run()
    return response
