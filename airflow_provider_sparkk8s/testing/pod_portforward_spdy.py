"""pods/portforward over SPDY (``portforward.k8s.io``), as kubectl port-forward asks for it, into a local pod.

kubectl 1.32 tunnels SPDY inside a websocket (subprotocol ``SPDY/3.1+portforward.k8s.io``, the SPDY bytes in
binary messages) and, when that upgrade fails, upgrades the HTTP connection to ``SPDY/3.1`` itself. Either way
this serves what the kubelet does (kubelet's cri/streaming/portforward/httpstream.go):

- for each connection to its local port, the client opens two streams with the headers ``streamType`` (``error``
  then ``data``), ``port`` and ``requestID`` (the pair's key); every stream is answered with an empty SYN_REPLY,
  a stream with a missing or bad header is reset instead;
- once both streams of a pair are there, the pod's port is dialled; a failure is written on the error stream in
  the kubelet's words, which kubectl prints; a pair not complete within 30 s gets ``timed out waiting for
  streams`` there;
- the bytes are copied both ways; a FIN from the client shuts the pod socket's writing side, the pod's end of
  output is a FIN on the data stream and ends the error stream too (nothing can fail any more). The direction
  still open is given one second (as containerd does) and then both streams and the socket are closed;
- PINGs are echoed; GOAWAY or the end of the connection closes every connection to the pod.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from . import spdy_connection
from .pod_portforward import dial_error, local_address
from .spdy_connection import Receive, Send, SpdyConnection, Stream

PROTOCOL = "portforward.k8s.io"
TUNNEL_PROTOCOL = "SPDY/3.1+" + PROTOCOL  # client-go's WebsocketsSPDYTunnelingPrefix + the protocol
STREAM_CREATION_TIMEOUT = 30.0  # the kubelet's default
CLOSE_GRACE = 1.0  # containerd: after one direction ends, the other has one second
_CHUNK = 65536


@dataclass
class _Pair:
    request_id: str
    error: Stream | None = None
    data: Stream | None = None
    task: asyncio.Task | None = None
    timer: asyncio.TimerHandle | None = None


class PortForwardSession(SpdyConnection):
    """One SPDY connection of port-forward: its streams come in pairs, one pair per connection to the pod."""

    def __init__(self, pod: dict, receive: Receive, send: Send) -> None:
        super().__init__(receive, send)
        self._pod = pod
        self._host = local_address((pod.get("status") or {}).get("podIP"))
        self._pairs: dict[str, _Pair] = {}

    def accepts(self, headers: dict[str, str]) -> bool:
        """The kubelet's checks (httpStreamReceived): a port in 1..65535 and a stream type error or data."""
        port = headers.get("port", "")
        return port.isdigit() and 0 < int(port) < 65536 and headers.get("streamtype") in ("error", "data")

    def reset(self, stream: Stream) -> None:
        pair = self._pairs.get(_request_id(stream))
        if pair is not None:
            self._drop(pair)

    async def finish(self) -> None:
        forwarding = [pair.task for pair in self._pairs.values() if pair.task is not None]
        for pair in list(self._pairs.values()):
            self._drop(pair)
        await asyncio.gather(*forwarding, return_exceptions=True)  # every socket to the pod is closed

    async def opened(self, stream: Stream) -> None:
        request_id = _request_id(stream)
        pair = self._pairs.setdefault(request_id, _Pair(request_id))
        kind = stream.headers["streamtype"]
        if getattr(pair, kind) is not None:  # the kubelet's words; the stream stays unused
            if pair.error is not None:
                message = f"error processing stream for request {request_id}: {kind} stream already assigned"
                await self.send_data(pair.error, message.encode())
            return
        setattr(pair, kind, stream)
        if pair.error is not None and pair.data is not None:
            if pair.timer is not None:
                pair.timer.cancel()
            pair.task = asyncio.ensure_future(self._forward(pair, pair.error, pair.data))
        elif pair.timer is None:
            pair.timer = asyncio.get_running_loop().call_later(
                STREAM_CREATION_TIMEOUT, lambda: asyncio.ensure_future(self._time_out(pair)))

    async def _time_out(self, pair: _Pair) -> None:
        with contextlib.suppress(ConnectionError):
            if pair.error is not None:
                message = f"(conn={id(self):#x}, request={pair.request_id}) timed out waiting for streams"
                await self.send_data(pair.error, message.encode())
            await self._close_streams(pair)
        self._drop(pair)

    async def _forward(self, pair: _Pair, error: Stream, data: Stream) -> None:
        port = int(data.headers["port"])
        try:
            with contextlib.suppress(ConnectionError):  # the client is gone
                try:
                    reader, writer = await asyncio.open_connection(self._host, port)
                except OSError as exc:
                    await self.send_data(error, dial_error(self._pod, self._host, port, exc).encode())
                else:
                    await self._copy(pair, data, reader, writer)
                await self._close_streams(pair)
        finally:
            self._forget(pair)

    async def _copy(self, pair: _Pair, data: Stream, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter) -> None:
        """Both ways until one ends, then the other for at most the grace; the socket is closed after."""
        to_client = asyncio.ensure_future(self._pod_to_client(reader, pair))
        to_pod = asyncio.ensure_future(_client_to_pod(data, writer))
        try:
            _, still_open = await asyncio.wait({to_client, to_pod}, return_when=asyncio.FIRST_COMPLETED)
            if still_open:
                await asyncio.wait(still_open, timeout=CLOSE_GRACE)
        finally:
            for task in (to_client, to_pod):
                task.cancel()
            writer.close()

    async def _pod_to_client(self, reader: asyncio.StreamReader, pair: _Pair) -> None:
        assert pair.data is not None
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(_CHUNK):
                await self.send_data(pair.data, chunk)
            await self._close_streams(pair)  # the pod's end of output; nothing can fail any more

    async def _close_streams(self, pair: _Pair) -> None:
        """A FIN on each stream of the pair not ended yet (kubelet: both are closed when the forwarding ends)."""
        for stream in (pair.data, pair.error):
            if stream is not None:
                await self.close_stream(stream)

    def _forget(self, pair: _Pair) -> None:
        self._pairs.pop(pair.request_id, None)
        for stream in (pair.error, pair.data):
            if stream is not None:
                self.streams.pop(stream.stream_id, None)

    def _drop(self, pair: _Pair) -> None:
        """Stop the pair's forwarding (the client reset a stream, or the connection ended): nothing more is sent."""
        if pair.timer is not None:
            pair.timer.cancel()
        if pair.task is not None:
            pair.task.cancel()
        for stream in (pair.error, pair.data):
            if stream is not None:
                stream.fin_sent = True
        self._forget(pair)


async def _client_to_pod(data: Stream, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while (chunk := await data.inbound.get()) is not None:
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # the pod reads its end of input, and may still answer within the grace


def _request_id(stream: Stream) -> str:
    """The ``requestID`` header; clients before it had none, and the kubelet pairs their streams by id."""
    request_id = stream.headers.get("requestid")
    if request_id:
        return request_id
    offset = 0 if stream.headers.get("streamtype") == "error" else 2
    return str(stream.stream_id - offset)


# ---------------------------------------------------------------------------------------------- the two transports
def is_tunnel(request: web.Request) -> bool:
    """A websocket upgrade that offers the SPDY tunnel (kubectl offers nothing else)."""
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    return request.headers.get("Upgrade", "").lower() == "websocket" and TUNNEL_PROTOCOL in offered


async def serve_tunnel(request: web.Request, pod: dict) -> web.WebSocketResponse:
    """SPDY inside a websocket: each binary message carries the next bytes of the SPDY connection."""
    ws = web.WebSocketResponse(protocols=(TUNNEL_PROTOCOL,), max_msg_size=0, autoping=True)
    await ws.prepare(request)

    async def receive() -> bytes | None:
        while True:
            message = await ws.receive()
            if message.type == WSMsgType.BINARY:
                return bytes(message.data)
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return None

    async def send(data: bytes) -> None:
        if ws.closed:
            raise ConnectionResetError("the websocket is closed")
        await ws.send_bytes(data)

    await PortForwardSession(pod, receive, send).run()
    await ws.close()
    return ws


async def serve_upgrade(request: web.Request, pod: dict) -> web.StreamResponse:
    """SPDY on the HTTP connection itself: ``101 Switching Protocols`` to ``SPDY/3.1``, with the protocol named."""
    return await spdy_connection.serve_upgrade(request, PROTOCOL,
                                               lambda receive, send: PortForwardSession(pod, receive, send))
