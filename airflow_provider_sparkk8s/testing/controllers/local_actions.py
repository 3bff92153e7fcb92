"""The network actions of the kubelet's probes and lifecycle hooks against a local pod, with the kubelet's outcomes
and messages (pkg/probe/http, pkg/probe/tcp, pkg/probe/grpc; the messages are what its Events show).

- HTTP GET (``get``): the URL is ``scheme://host:port/path`` (host: the pod IP unless given), with the kubelet's
  ``User-Agent: kube-probe/1.32`` (``kube-lifecycle/1.32`` for hooks) and ``Accept: */*`` unless ``httpHeaders``
  set them (an empty ``Accept`` sends none), one new connection per request, no proxy, no certificate
  verification for HTTPS. Redirects are followed while they stay on the same host name, 10 requests at most;
  one to another host ends the request with the redirect itself. Only the first 10 KiB of a body are read.
- TCP (``tcp_connect``): a connection that opens is a success; it is closed at once.
- gRPC (``grpc_check``): ``grpc.health.v1.Health/Check`` with the service name, over plaintext HTTP/2 (grpcio,
  which Airflow installs; without it the probe errors). ``SERVING`` is a success.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from ..protobuf_wire import WireError, fields

KUBELET_VERSION = "1.32"  # the version the emulator's API server reports; the kubelet's User-Agent carries it
BODY_LIMIT = 10 * 1024  # the prober reads this much of a body
MAX_REQUESTS = 10  # Go's http.Client gives up after 10 redirects
REDIRECTS = (301, 302, 303, 307, 308)  # those Go's client follows (with a Location)
# How OpenSSL words a plaintext reply to its ClientHello (before and since 3.2).
PLAINTEXT_REPLY = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE")
SUCCESS, WARNING, FAILURE = "success", "warning", "failure"


@dataclass(frozen=True)
class Outcome:
    """A probe's result (a warning counts as a success) and its output, which the kubelet's Event shows."""

    result: str
    output: str = ""


class ActionError(Exception):
    """The action could not be tried at all (the kubelet's "probe errored"): a port the container does not name."""


class HttpError(Exception):
    """No response: the request failed (Go's url.Error text, ``Get "url": cause``)."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


def resolve_port(port: Any, container: dict) -> int:
    """A probe's or hook's ``port``: a number, or the name of one of the container's ports (ResolveContainerPort)."""
    number: int | None = port if isinstance(port, int) else None
    if isinstance(port, str):
        named = [p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == port]
        if named:
            number = int(named[0])
        elif port.isdigit():  # a number written as a string
            number = int(port)
        else:
            raise ActionError(f'strconv.Atoi: parsing "{port}": invalid syntax')
    if number is None or not 0 < number < 65536:
        raise ActionError(f"invalid port number: {port}")
    return number


def host_port(host: str, port: int) -> str:
    """Go's net.JoinHostPort: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def action_url(action: dict, container: dict, pod_ip: str) -> URL:
    """The URL of an ``httpGet`` action (NewRequestForHTTPGetAction)."""
    scheme = (action.get("scheme") or "HTTP").lower()
    port = resolve_port(action.get("port"), container)
    path = action.get("path") or ""
    if path and not path.startswith("/"):
        path = "/" + path
    return URL(f"{scheme}://{host_port(action.get('host') or pod_ip, port)}{path}")


def action_headers(action: dict, purpose: str) -> CIMultiDict[str]:
    """The request's headers: ``httpHeaders`` (in Go's canonical case), then the kubelet's own defaults."""
    headers: CIMultiDict[str] = CIMultiDict()
    for header in action.get("httpHeaders") or []:
        headers.add(_canonical(header["name"]), header.get("value", ""))
    headers.setdefault("User-Agent", f"kube-{purpose}/{KUBELET_VERSION}")
    headers.setdefault("Accept", "*/*")
    if not headers["Accept"]:
        del headers["Accept"]  # overridden but empty: none is sent
    return headers


async def get(url: URL, headers: CIMultiDict[str], timeout: float | None) -> Response:
    """GET ``url`` as the kubelet's HTTP client does (see the module docstring); raises HttpError."""
    try:
        return await asyncio.wait_for(_follow(url, headers), timeout)
    except asyncio.TimeoutError:
        raise HttpError(f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting '
                        f'headers)') from None


async def _follow(url: URL, headers: CIMultiDict[str]) -> Response:
    host = url.host
    skip = () if "Accept" in headers else ("Accept",)
    connector = aiohttp.TCPConnector(force_close=True, ssl=False)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        for sent in range(1, MAX_REQUESTS + 1):
            try:
                async with session.get(url, headers=headers, allow_redirects=False,
                                       skip_auto_headers=skip) as response:
                    body = await _read_at_most(response.content, BODY_LIMIT)
                    location = response.headers.get("Location")
                    if response.status not in REDIRECTS or not location:
                        return Response(response.status, body)
            except aiohttp.ClientError as exc:
                raise HttpError(f'Get "{url}": {_cause(exc, url)}') from None
            target = url.join(URL(location))
            if target.host != host:  # the kubelet follows no redirect to another host: this is the answer
                return Response(response.status, body)
            if sent == MAX_REQUESTS:
                raise HttpError(f'Get "{target}": stopped after 10 redirects')
            if URL(location).is_absolute() and "Host" in headers:  # Go keeps a Host override on relative ones
                headers = headers.copy()
                del headers["Host"]
            url = target
    raise AssertionError("unreachable")


async def _read_at_most(content: aiohttp.StreamReader, limit: int) -> bytes:
    body = bytearray()
    while len(body) < limit and (chunk := await content.read(limit - len(body))):
        body += chunk
    return bytes(body)


def _cause(exc: aiohttp.ClientError, url: URL) -> str:
    """What Go's client says went wrong, for the usual failures."""
    address = host_port(url.host or "", url.port or 0)
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, ssl.SSLError) and any(sign in str(cause) for sign in PLAINTEXT_REPLY):
            return "http: server gave HTTP response to HTTPS client"
        if isinstance(cause, socket.gaierror):
            return f"dial tcp: lookup {url.host}: no such host"
        return f"dial tcp {address}: connect: {_errno_text(cause)}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "EOF"
    return str(exc) or type(exc).__name__


def _errno_text(exc: OSError) -> str:
    """An errno as Go's syscall package words it (lower case)."""
    text = os.strerror(exc.errno) if exc.errno else str(exc)
    return text[:1].lower() + text[1:]


def _canonical(name: str) -> str:
    """Go's CanonicalMIMEHeaderKey: each dash-separated word capitalised."""
    return "-".join(word[:1].upper() + word[1:].lower() for word in name.split("-"))


async def tcp_connect(host: str, port: int, timeout: float) -> Outcome:
    """A tcpSocket probe: whether a connection to ``host:port`` opens within ``timeout`` seconds."""
    address = host_port(host, port)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except asyncio.TimeoutError:
        return Outcome(FAILURE, f"dial tcp {address}: i/o timeout")
    except socket.gaierror:
        return Outcome(FAILURE, f"dial tcp: lookup {host}: no such host")
    except OSError as exc:
        return Outcome(FAILURE, f"dial tcp {address}: connect: {_errno_text(exc)}")
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return Outcome(SUCCESS)


# grpc.health.v1.HealthCheckResponse.ServingStatus
SERVING_STATUSES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


async def grpc_check(host: str, port: int, service: str, timeout: float) -> Outcome:
    """A grpc probe: ``grpc.health.v1.Health/Check`` of ``service`` at ``host:port`` within ``timeout`` seconds."""
    try:
        import grpc
    except ImportError:
        raise ActionError("grpc probes need the grpcio package") from None
    return await asyncio.to_thread(_grpc_check, grpc, host, port, service, timeout)


def _grpc_check(grpc: Any, host: str, port: int, service: str, timeout: float) -> Outcome:
    address, within = host_port(host, port), f"{timeout:g}s"
    deadline = time.monotonic() + timeout
    options = [("grpc.enable_http_proxy", 0), ("grpc.primary_user_agent", f"kube-probe/{KUBELET_VERSION}")]
    with grpc.insecure_channel(address, options=options) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            return Outcome(FAILURE, f'timeout: failed to connect service "{address}" within {within}: '
                                    f"context deadline exceeded")
        check = channel.unary_unary("/grpc.health.v1.Health/Check")  # bytes in, bytes out
        try:
            reply = check(_health_request(service), timeout=max(deadline - time.monotonic(), 0.001))
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details()
            if code == grpc.StatusCode.UNIMPLEMENTED:
                return Outcome(FAILURE, "error: this server does not implement the grpc health protocol "
                                        f"(grpc.health.v1.Health): {details}")
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return Outcome(FAILURE, f"timeout: health rpc did not complete within {within}")
            return Outcome(FAILURE, f"error: health rpc probe failed: rpc error: code = {_go_code(code.name)} "
                                    f"desc = {details}")
    status = _serving_status(reply)
    if status != "SERVING":
        return Outcome(FAILURE, f'service unhealthy (responded with "{status}")')
    return Outcome(SUCCESS, "service is serving")


def _health_request(service: str) -> bytes:
    """A HealthCheckRequest: field 1, the service name (none when empty)."""
    data = service.encode()
    if not data:
        return b""
    size, length = len(data), bytearray()
    while size > 0x7F:
        length.append(size & 0x7F | 0x80)
        size >>= 7
    length.append(size)
    return b"\x0a" + bytes(length) + data


def _serving_status(reply: bytes) -> str:
    try:
        status = next((value for number, _, value in fields(reply) if number == 1 and isinstance(value, int)), 0)
    except WireError:
        status = 0
    return SERVING_STATUSES.get(status, str(status))


def _go_code(name: str) -> str:
    """A gRPC status code as grpc-go names it (NOT_FOUND: NotFound; CANCELLED: Canceled)."""
    return "Canceled" if name == "CANCELLED" else "".join(word.capitalize() for word in name.split("_"))
