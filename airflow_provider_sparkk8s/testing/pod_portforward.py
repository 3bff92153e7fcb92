"""pods/portforward into a locally running pod, over the kubelet's websocket port-forward protocol.

Each port of ``ports=`` gets two channels, data (2*i) and error (2*i+1); the first message on each is the port
number, 2 bytes little-endian (kubelet's cri/streaming/portforward/websocket.go). Each port is one TCP connection
to the pod, made when the websocket opens. The pod's containers share the host's network, so the connection goes
to its ``status.podIP`` when that is on loopback, as the local kubelet gives, else to 127.0.0.1. The websocket
closes once every connection has ended. A connection refused is written on the port's error channel, in the
kubelet's words.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import struct

from aiohttp import web

from . import errors
from .stream_channels import PORTFORWARD_PROTOCOLS, Channels

_CHUNK = 65536


def requested_ports(values: list[str]) -> list[int]:
    """The ``ports`` parameters (each may list several, comma-separated); 400 for one out of range."""
    ports = []
    for value in values:
        for text in filter(None, value.split(",")):
            if not text.strip().isdigit() or not 0 < int(text) < 65536:
                raise errors.bad_request(f'invalid port "{text}"')
            ports.append(int(text))
    if not ports:
        raise errors.bad_request('query parameter "port" is required')
    return ports


async def serve_portforward(request: web.Request, pod: dict, ports: list[int]) -> web.WebSocketResponse:
    channels = await Channels.accept(request, PORTFORWARD_PROTOCOLS)
    host = local_address((pod.get("status") or {}).get("podIP"))
    writers: dict[int, asyncio.StreamWriter] = {}
    pumps = []
    for index, port in enumerate(ports):
        announce = struct.pack("<H", port)
        await channels.send(2 * index, announce)
        await channels.send(2 * index + 1, announce)
        try:
            reader, writers[2 * index] = await asyncio.open_connection(host, port)
        except OSError as exc:
            await channels.send(2 * index + 1, dial_error(pod, host, port, exc).encode())
            continue
        pumps.append(asyncio.ensure_future(_pump(reader, channels, 2 * index)))
    client = asyncio.ensure_future(_read_client(channels, writers))
    try:
        if pumps:
            connections: asyncio.Future = asyncio.gather(*pumps)
            await asyncio.wait({client, connections}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        client.cancel()
        for task in pumps:
            task.cancel()
        for writer in writers.values():
            writer.close()
    await channels.close()
    return channels.ws


def local_address(pod_ip: str | None) -> str:
    """Where the pod's ports are: its loopback pod IP, else 127.0.0.1 (its containers share the host's network)."""
    with contextlib.suppress(ValueError):
        if pod_ip and ipaddress.ip_address(pod_ip).is_loopback:
            return pod_ip
    return "127.0.0.1"


def dial_error(pod: dict, host: str, port: int, exc: OSError) -> str:
    """The kubelet's words for a port that cannot be reached, which it writes on the port's error stream."""
    meta = pod["metadata"]
    # Go's words for the errno (`connection refused`); asyncio's own text names the call, not the cause.
    reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
    return (f"error forwarding port {port} to pod {meta['name']}, uid {meta.get('uid', '')}: "
            f"dial tcp {host}:{port}: connect: {reason}")


async def _pump(reader: asyncio.StreamReader, channels: Channels, channel: int) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(_CHUNK):
            await channels.send(channel, chunk)


async def _read_client(channels: Channels, writers: dict[int, asyncio.StreamWriter]) -> None:
    while (message := await channels.receive()) is not None:
        writer = writers.get(message.channel)
        if writer is not None and not writer.is_closing():
            writer.write(message.data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
