"""kube-proxy for the local kubelet's pods: a Service's ClusterIP (10.96.x.y) routes nowhere on this machine, so
each Service is reached at a loopback address of its own instead, 127.96.x.y for 10.96.x.y (``ServiceAddresses``:
the next free 127.B block when another emulator of this machine has it), where this proxy listens on each of its
TCP ports and forwards every connection to one of its ready endpoints, taken in turn (as kube-proxy's userspace
mode did). The local pods' hosts files name that address for the Service
(``runtime/hosts.py``), and their service link variables carry it.

As with kube-proxy, a port is served only while the Service has a ready endpoint for it: without one a connection
is refused (kube-proxy's REJECT rule), and once the Service is deleted its address answers nothing. A Service
port's targetPort is the endpoints' port of the same name (the endpoints controller resolved a named targetPort
against each pod). A connection that a backend refuses is tried on the next one. UDP and SCTP ports are not
served.

``changed`` is called after every Service or Endpoints change this proxy has applied: the local kubelet then
rewrites its pods' hosts files.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

from .base import ApiClient, Controller, Key

log = logging.getLogger(__name__)

_CHUNK = 65536
RETRY_SECONDS = 1.0  # a port still taken by another listener is tried again after this


class ServiceAddresses:
    """An emulator's loopback addresses: a Service of ClusterIP 10.96.x.y is reached at 127.B.x.y, and its local
    pods get 127.P.x.y (P = B - 95). B is 96 unless another emulator on this machine holds that block: each holds
    its block (a lock file, and its ``kubernetes`` Service listening on 127.B.0.1:443) while it runs, so that its
    pods reach their own cluster's Services and never take another cluster's pod IPs."""

    FIRST, LAST = 96, 111

    def __init__(self, block: int = FIRST, lock: int | None = None) -> None:
        self.block = block
        self._lock = lock  # the lock file's descriptor, held while the emulator runs

    @property
    def pod_block(self) -> int:
        """The second byte of the local pods' IPs (127.P.x.y)."""
        return self.block - self.FIRST + 1

    @classmethod
    def free(cls) -> ServiceAddresses:
        """The first block no other emulator holds and whose ``kubernetes`` Service address is not taken (96
        when none can be told free)."""
        locks = Path(tempfile.gettempdir()) / "sparkk8s-address-blocks"
        locks.mkdir(exist_ok=True)
        for block in range(cls.FIRST, cls.LAST + 1):
            fd = os.open(locks / f"{block}.lock", os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            with socket.socket() as probe:
                try:
                    probe.bind((f"127.{block}.0.1", 443))
                except OSError as exc:
                    if exc.errno == errno.EADDRINUSE:  # held by one that takes no lock
                        os.close(fd)
                        continue
            return cls(block, fd)
        return cls()

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __call__(self, cluster_ip: str) -> str | None:
        parts = cluster_ip.split(".")
        if len(parts) != 4 or parts[:2] != ["10", "96"]:
            return None
        return ".".join(["127", str(self.block), *parts[2:]])


proxy_address = ServiceAddresses()  # the first block's


Backend = tuple[str, int]


class ServiceProxy(Controller):
    api_version = "v1"
    kind = "Service"
    watches = (("v1", "Endpoints"),)

    def __init__(self, api: ApiClient, changed: Callable[[], None] = lambda: None,
                 addresses: ServiceAddresses = proxy_address) -> None:
        super().__init__(api)
        self.changed = changed
        self.addresses = addresses
        self._served: dict[Key, dict[int, PortListener]] = {}

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> list[Key]:
        return [Key.of(obj)]  # Endpoints are named after their Service

    async def reconcile(self, key: Key) -> float | None:
        service = self.api.get("v1", "Service", key.namespace, key.name)
        endpoints = self.api.get("v1", "Endpoints", key.namespace, key.name)
        address, wanted = _wanted(service, endpoints, self.addresses)
        served = self._served.setdefault(key, {})
        for port in [p for p, listener in served.items() if p not in wanted or listener.address != address]:
            served.pop(port).close()
        retry = None
        for port, backends in wanted.items():
            listener = served.get(port)
            if listener is None:
                listener = PortListener(address or "", port)
                try:
                    await listener.open()
                except OSError as exc:  # taken by a program listening on every address: tried again
                    log.warning("service %s/%s: cannot listen on %s:%d: %s", key.namespace, key.name, address,
                                port, exc)
                    retry = RETRY_SECONDS
                    continue
                served[port] = listener
            listener.backends = backends
        if not served:
            del self._served[key]
        self.changed()
        return retry

    async def stop(self) -> None:
        await super().stop()
        for served in self._served.values():
            for listener in served.values():
                listener.close(connections=True)
        self._served.clear()


def _wanted(service: dict | None, endpoints: dict | None,
            addresses: ServiceAddresses) -> tuple[str | None, dict[int, list[Backend]]]:
    """The Service's proxy address and, by Service port, the ready endpoints to forward to (ports without one
    are not served)."""
    spec = (service or {}).get("spec") or {}
    address = addresses(spec.get("clusterIP") or "")
    if address is None:
        return None, {}
    wanted: dict[int, list[Backend]] = {}
    for port in spec.get("ports") or []:
        if port.get("protocol", "TCP") != "TCP":
            continue
        backends = [(a["ip"], p["port"]) for subset in (endpoints or {}).get("subsets") or []
                    for p in subset.get("ports") or [] if p.get("name", "") == port.get("name", "")
                    and p.get("protocol", "TCP") == "TCP" for a in subset.get("addresses") or []]
        if backends:
            wanted[int(port["port"])] = backends
    return address, wanted


class PortListener:
    """One Service port: accepts on the Service's address and forwards to its backends in turn."""

    def __init__(self, address: str, port: int) -> None:
        self.address, self.port = address, port
        self.backends: list[Backend] = []
        self._next = 0
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.address, self.port, reuse_address=True)

    def close(self, connections: bool = False) -> None:
        """Stop accepting; with ``connections``, also cut those being forwarded (the emulator stops)."""
        if self._server is not None:
            self._server.close()
        if connections:
            for writer in list(self._connections):
                writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:  # every backend refused
            writer.close()
            return
        up_reader, up_writer = upstream
        self._connections |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._connections -= {writer, up_writer}
            for end in (writer, up_writer):
                end.close()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            host, port = self.backends[self._next % len(self.backends)]
            self._next += 1
            try:
                return await asyncio.open_connection(host, port)
            except OSError:
                continue
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until the end of the stream, then pass the end on (a half-close, as TCP does through a proxy)."""
    try:
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()
    except asyncio.CancelledError:
        writer.close()
        raise
    with contextlib.suppress(Exception):
        await writer.drain()
