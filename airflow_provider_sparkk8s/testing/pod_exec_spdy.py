"""pods/exec and pods/attach over SPDY/3.1, as kubectl falls back to them (a POST with ``Upgrade: SPDY/3.1``) and
older clients always use them, served as the kubelet's remotecommand server does (cri/streaming/remotecommand,
httpstream.go):

- the protocol is the first of the client's ``X-Stream-Protocol-Version`` headers the kubelet serves
  (``v4.channel.k8s.io``, ``v3.channel.k8s.io``, ``v2.channel.k8s.io``, ``channel.k8s.io``), named in the 101
  answer; none asked for is ``channel.k8s.io``; none in common is a 403 that lists both sides;
- the client opens one stream per channel, its header ``streamType`` naming it: ``error`` always, ``stdin``,
  ``stdout``, ``stderr`` as asked for (no stderr with a terminal), ``resize`` with a terminal from v3 on. Each is
  answered with a SYN_REPLY; once all are there the command runs (pod_exec.py, as over a websocket); streams not
  all there within 30 s close the connection, unserved;
- stdin's bytes go to the command and its FIN closes the command's stdin; the resize stream carries JSON
  ``{"Width": w, "Height": h}`` objects one after the other;
- at the end stdout and stderr are closed, the outcome is written on the error stream (v4: a metav1.Status,
  Success or NonZeroExitCode with the cause ExitCode; before v4 the error's text, nothing on success), and the
  connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import spdy_connection
from .pod_exec import ERROR, RESIZE, STDERR, STDIN, STDOUT, ClientStreams, StreamOptions
from .spdy_connection import Receive, Send, SpdyConnection, Stream
from .stream_channels import CLOSE_SIGNAL, Message

V4 = "v4.channel.k8s.io"
PROTOCOLS = (V4, "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")  # the kubelet's, in its order
_WITH_RESIZE = (V4, "v3.channel.k8s.io")
STREAM_CREATION_TIMEOUT = 30.0  # the kubelet's default
_CHANNELS = {"stdin": STDIN, "stdout": STDOUT, "stderr": STDERR, "error": ERROR, "resize": RESIZE}

Serve = Callable[[ClientStreams], Awaitable[None]]


def negotiate(request: web.Request) -> str:
    """The protocol (httpstream.Handshake): the first the client asks for that is served; "" when it asks none."""
    asked = [p.strip() for value in request.headers.getall("X-Stream-Protocol-Version", [])
             for p in value.split(",") if p.strip()]
    if not asked:
        return ""  # served as channel.k8s.io
    chosen = next((p for p in asked if p in PROTOCOLS), None)
    if chosen is None:
        message = (f"unable to upgrade: protocol negotiation failed: client supports [{' '.join(asked)}]; "
                   f"server supports [{' '.join(PROTOCOLS)}]")
        raise web.HTTPForbidden(text=message, headers={"X-Accepted-Stream-Protocol-Versions": ", ".join(PROTOCOLS)})
    return chosen


async def serve_upgrade(request: web.Request, options: StreamOptions, serve: Serve) -> web.StreamResponse:
    """The SPDY connection of one exec or attach; ``serve`` runs it on the client's streams."""
    protocol = negotiate(request)
    return await spdy_connection.serve_upgrade(
        request, protocol, lambda receive, send: RemoteCommandConnection(receive, send, protocol, options, serve))


class RemoteCommandConnection(SpdyConnection):
    """Waits for the client's streams, then serves the command on them; ends when it does."""

    def __init__(self, receive: Receive, send: Send, protocol: str, options: StreamOptions, serve: Serve) -> None:
        super().__init__(receive, send)
        self.protocol = protocol
        self._serve = serve
        self._wanted = {"error"} | {name for name, wanted in (("stdin", options.stdin), ("stdout", options.stdout),
                                                              ("stderr", options.stderr)) if wanted}
        if options.tty and protocol in _WITH_RESIZE:
            self._wanted.add("resize")
        self.typed: dict[str, Stream] = {}
        self._complete = asyncio.Event()
        self.inbox: asyncio.Queue[Message | None] = asyncio.Queue()  # what the client sends; None at its end
        self._readers: list[asyncio.Task] = []
        self._serving: asyncio.Task | None = None

    async def run(self) -> None:
        self._serving = asyncio.ensure_future(self._serve_when_complete())
        await super().run()

    async def opened(self, stream: Stream) -> None:
        kind = stream.headers.get("streamtype", "")
        if kind not in self._wanted or kind in self.typed:
            return  # the kubelet logs an unexpected stream and leaves it unused
        self.typed[kind] = stream
        if kind == "stdin":
            self._readers.append(asyncio.ensure_future(self._read_stdin(stream)))
        elif kind == "resize":
            self._readers.append(asyncio.ensure_future(self._read_sizes(stream)))
        if set(self.typed) == self._wanted:
            self._complete.set()

    async def finish(self) -> None:
        self.inbox.put_nowait(None)  # the client is gone (or the command is over)
        for reader in self._readers:
            reader.cancel()
        if self._serving is not None:
            await asyncio.gather(self._serving, return_exceptions=True)

    async def _serve_when_complete(self) -> None:
        try:
            await asyncio.wait_for(self._complete.wait(), STREAM_CREATION_TIMEOUT)
        except TimeoutError:
            return  # kubelet: "timed out waiting for client to create streams", and the connection is closed
        else:
            await self._serve(_SpdyStreams(self))
        finally:
            self.end()  # whatever happened, the connection ends with the command

    async def _read_stdin(self, stream: Stream) -> None:
        while (chunk := await stream.inbound.get()) is not None:
            self.inbox.put_nowait(Message(STDIN, chunk))
        self.inbox.put_nowait(Message(CLOSE_SIGNAL, bytes([STDIN])))  # the client's FIN: its input has ended

    async def _read_sizes(self, stream: Stream) -> None:
        """One message per JSON object, as the kubelet's json.Decoder reads them off the stream."""
        decoder, text = json.JSONDecoder(), ""
        while (chunk := await stream.inbound.get()) is not None:
            text += chunk.decode(errors="replace")
            while text.strip():
                try:
                    size, end = decoder.raw_decode(text.lstrip())
                except ValueError:
                    break  # the rest of the object is still to come
                text = text.lstrip()[end:]
                self.inbox.put_nowait(Message(RESIZE, json.dumps(size).encode()))


class _SpdyStreams:
    """The client's streams as the channels pod_exec.py reads and writes (a pod_exec.ClientStreams)."""

    def __init__(self, connection: RemoteCommandConnection) -> None:
        self._connection = connection

    @property
    def status_as_json(self) -> bool:
        return self._connection.protocol == V4

    async def send(self, channel: int, data: bytes) -> None:
        stream = self._stream(channel)
        if stream is not None and data:
            with contextlib.suppress(ConnectionError):  # the client is gone: nothing to tell it
                await self._connection.send_data(stream, data)

    async def receive(self) -> Message | None:
        return await self._connection.inbox.get()

    async def close(self) -> None:
        """stdout and stderr end, then the error stream (after the outcome); the connection closes."""
        with contextlib.suppress(ConnectionError):
            for channel in (STDOUT, STDERR, ERROR):
                stream = self._stream(channel)
                if stream is not None:
                    await self._connection.close_stream(stream)
        self._connection.end()

    def _stream(self, channel: int) -> Stream | None:
        name = next(name for name, number in _CHANNELS.items() if number == channel)
        return self._connection.typed.get(name)
