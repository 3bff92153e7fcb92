"""pods/exec and pods/attach into a locally running container, over the websocket channel protocols.

Channels as the kubelet's remotecommand server numbers them: 0 stdin, 1 stdout, 2 stderr, 3 error (where the
outcome is written once the command ends), 4 resize (the terminal's size, JSON ``{"Width": w, "Height": h}``).
With v5 the client closes its stdin with the close signal (channel 255, payload the stream: 0). As the API server
does (apiserver/pkg/util/proxy/websocket.go), an empty message on the first writable of stdout, stderr and error
tells the client that the streams are ready.

The outcome on the error channel is a metav1.Status from v4 on (plain text before): Success, or the Failure with
reason NonZeroExitCode whose cause ExitCode gives the code, as containerd's streaming server writes it; kubectl
exits with that code.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import struct
import termios
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from .runtime import ExecProcess, LocalContainer, kill_group
from .stream_channels import CLOSE_SIGNAL, EXEC_PROTOCOLS, Channels, Message

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)
_CHUNK = 65536
_EOT = b"\x04"  # on a terminal, the end of the input


@dataclass(frozen=True)
class StreamOptions:
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> StreamOptions:
        def flag(name: str) -> bool:
            return query.get(name, "").lower() in ("1", "true")
        return cls(flag("stdin"), flag("stdout"), flag("stderr") and not flag("tty"), flag("tty"))


class ClientStreams(Protocol):
    """The client's side of an exec or attach, read and written as channels: a websocket (``Channels``), or the
    streams of a SPDY connection (pod_exec_spdy.py). Closing stdin is the message ``CLOSE_SIGNAL``, ``STDIN``."""

    @property
    def status_as_json(self) -> bool: ...

    async def send(self, channel: int, data: bytes) -> None: ...

    async def receive(self) -> Message | None: ...

    async def close(self) -> None: ...


async def serve_exec(request: web.Request, container: LocalContainer, command: Sequence[str],
                     options: StreamOptions) -> web.WebSocketResponse:
    channels = await _accept(request, options)
    await run_exec(channels, container, command, options)
    return channels.ws


async def serve_attach(request: web.Request, container: LocalContainer,
                       options: StreamOptions) -> web.WebSocketResponse:
    channels = await _accept(request, options)
    await run_attach(channels, container, options)
    return channels.ws


async def run_exec(channels: ClientStreams, container: LocalContainer, command: Sequence[str],
                   options: StreamOptions) -> None:
    """The command, its streams copied from and to the client's until it ends; then its outcome, and the end."""
    try:
        started = await _start(container, command, options)
    except OSError as exc:  # bubblewrap could not be started: what a runtime's failure looks like to the client
        await channels.send(ERROR, _internal_error(channels, f"error executing command in container: {exc}"))
        await channels.close()
        return
    terminal = _Terminal(started.terminal) if started.terminal is not None else None
    try:
        outputs = _exec_outputs(channels, started, terminal)
        stdin = terminal.write if terminal else _pipe_writer(started)
        client = asyncio.ensure_future(_read_client(channels, stdin, _stdin_closer(started, terminal),
                                                    terminal.resize if terminal else None))
        ended = asyncio.ensure_future(started.process.wait())
        await asyncio.wait({client, ended}, return_when=asyncio.FIRST_COMPLETED)
        if not ended.done():  # the client went away: so does its command
            kill_group(started.process.pid)
        code = await ended
        await asyncio.gather(*outputs)
        if not client.done():
            await channels.send(ERROR, _outcome(channels, command, 128 - code if code < 0 else code))
        client.cancel()
    finally:
        if terminal:
            terminal.close()
    await channels.close()


async def run_attach(channels: ClientStreams, container: LocalContainer, options: StreamOptions) -> None:
    """The running program's output from now on, and its stdin when the container has one; ends with it."""
    output: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue()
    stop_listening = container.listen(lambda stream, chunk: output.put_nowait((stream, chunk)))
    # With a terminal there is one output stream, as on a container's own terminal.
    wanted = {"stdout": STDOUT if options.stdout else None,
              "stderr": STDERR if options.stderr else STDOUT if options.tty and options.stdout else None}

    async def forward() -> None:
        while (item := await output.get()) is not None:
            channel = wanted[item[0]]
            if channel is not None:
                await channels.send(channel, item[1])

    async def to_stdin(data: bytes) -> None:
        if options.stdin:
            await container.write_stdin(data)

    forwarding = asyncio.ensure_future(forward())
    client = asyncio.ensure_future(_read_client(channels, to_stdin, _nothing, None))
    assert container.process is not None  # registered once started
    ended = asyncio.ensure_future(container.process.wait())  # cancelled safely, unlike container.wait()
    try:
        await asyncio.wait({client, ended}, return_when=asyncio.FIRST_COMPLETED)
        if ended.done() and not client.done():
            await asyncio.shield(container.wait())  # its output read to the end
            output.put_nowait(None)  # after what the program wrote last
            await forwarding
            await channels.send(ERROR, _outcome(channels, [], 0))
    finally:
        stop_listening()
        for task in (forwarding, client, ended):
            task.cancel()
    await channels.close()


async def _start(container: LocalContainer, command: Sequence[str], options: StreamOptions) -> ExecProcess:
    if options.tty:
        return await container.exec(command, tty=True)
    pipe, devnull = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
    return await container.exec(command, stdin=pipe if options.stdin else devnull,
                                stdout=pipe if options.stdout else devnull,
                                stderr=pipe if options.stderr else devnull)


def _internal_error(channels: ClientStreams, message: str) -> bytes:
    if not channels.status_as_json:
        return message.encode()
    return json.dumps({"metadata": {}, "status": "Failure", "message": f"Internal error occurred: {message}",
                       "reason": "InternalError", "details": {"causes": [{"message": message}]},
                       "code": 500}).encode()


async def _accept(request: web.Request, options: StreamOptions) -> Channels:
    channels = await Channels.accept(request, EXEC_PROTOCOLS)
    first = STDOUT if options.stdout else STDERR if options.stderr else ERROR
    await channels.send(first, b"")
    return channels


def _outcome(channels: ClientStreams, command: Sequence[str], code: int) -> bytes:
    """The Status the kubelet writes (before v4 its message alone, and nothing on success)."""
    message = f"command terminated with non-zero exit code: error executing command [{' '.join(command)}], " \
              f"exit code {code}"
    if not channels.status_as_json:
        return b"" if code == 0 else message.encode()
    if code == 0:
        return json.dumps({"metadata": {}, "status": "Success"}).encode()
    return json.dumps({"metadata": {}, "status": "Failure", "message": message,
                       "reason": "NonZeroExitCode",
                       "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}).encode()


async def _read_client(channels: ClientStreams, stdin: Callable[[bytes], Awaitable[None]],
                       close_stdin: Callable[[], Awaitable[None]],
                       resize: Callable[[bytes], None] | None) -> None:
    """What the client sends, until it goes away."""
    while (message := await channels.receive()) is not None:
        if message.channel == STDIN:
            await stdin(message.data)
        elif message.channel == RESIZE and resize is not None:
            resize(message.data)
        elif message.channel == CLOSE_SIGNAL and message.data[:1] == bytes([STDIN]):
            await close_stdin()


def _exec_outputs(channels: ClientStreams, started: ExecProcess, terminal: _Terminal | None) -> list[asyncio.Future]:
    async def pump(reader: asyncio.StreamReader, channel: int) -> None:
        while chunk := await reader.read(_CHUNK):
            await channels.send(channel, chunk)

    async def pump_terminal(terminal: _Terminal) -> None:
        while chunk := await asyncio.to_thread(terminal.read):
            await channels.send(STDOUT, chunk)

    if terminal is not None:
        return [asyncio.ensure_future(pump_terminal(terminal))]
    process = started.process
    return [asyncio.ensure_future(pump(reader, channel))
            for reader, channel in ((process.stdout, STDOUT), (process.stderr, STDERR)) if reader is not None]


def _pipe_writer(started: ExecProcess) -> Callable[[bytes], Awaitable[None]]:
    async def write(data: bytes) -> None:
        stdin = started.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.write(data)
            with contextlib.suppress(ConnectionError):
                await stdin.drain()
    return write


def _stdin_closer(started: ExecProcess, terminal: _Terminal | None) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        if terminal is not None:
            await terminal.write(_EOT)
        elif started.process.stdin is not None:
            started.process.stdin.close()
    return close


async def _nothing() -> None:
    return None


class _Terminal:
    """The controller side of an exec's pseudo-terminal."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._closed = False

    def read(self) -> bytes:
        try:
            return os.read(self.fd, _CHUNK)
        except OSError:  # EIO: every process holding the terminal has ended
            return b""

    async def write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self.fd, data)

    def resize(self, data: bytes) -> None:
        try:
            size = json.loads(data)
            packed = struct.pack("HHHH", int(size.get("Height", 0)), int(size.get("Width", 0)), 0, 0)
        except (ValueError, TypeError, AttributeError):
            return  # the kubelet ignores a size it cannot read
        with contextlib.suppress(OSError):
            fcntl.ioctl(self.fd, termios.TIOCSWINSZ, packed)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)
