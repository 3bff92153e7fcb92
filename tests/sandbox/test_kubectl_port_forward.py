"""kubectl port-forward into a pod the local kubelet runs.

What real Kubernetes does, and these tests expect: kubectl 1.32 first opens a websocket with the subprotocol
``SPDY/3.1+portforward.k8s.io`` and speaks SPDY/3 inside it; with ``KUBECTL_PORT_FORWARD_WEBSOCKETS=false`` (or
when that upgrade fails) it upgrades the HTTP connection to ``SPDY/3.1`` itself. It prints
``Forwarding from 127.0.0.1:LOCAL -> REMOTE`` once it listens; every connection to LOCAL becomes a pair of SPDY
streams (error, data) to the kubelet, which dials the pod's port. A failed dial is written on the error stream:
kubectl prints ``an error occurred forwarding LOCAL -> REMOTE: <the kubelet's text>``, closes the SPDY
connection and exits 1 with ``error: lost connection to pod``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import aiohttp
import pytest
from kubernetes.client import CoreV1Api

from airflow_provider_sparkk8s.testing import KubeEmulator, spdy
from airflow_provider_sparkk8s.testing.pod_portforward_spdy import TUNNEL_PROTOCOL
from tests.conftest import require_tool
from tests.emulator.cluster_clients import kubectl, pod_phase, wait_for
from tests.sandbox.local_kubelet import create

# The pod: an HTTP server and a server that answers each connection's bytes in upper case and logs when a
# connection opens and closes; both on the pod's own loopback IP, on ports the system picks (printed).
SERVERS = """
import http.server, os, socketserver, threading
os.chdir("/tmp")
with open("index.txt", "w") as index:
    index.write("served from the pod\\n")
with open("big.txt", "w") as big:
    big.write("0123456789" * 300_000)

class Upper(socketserver.BaseRequestHandler):
    def handle(self):
        print("open", flush=True)
        while data := self.request.recv(65536):
            self.request.sendall(data.upper())
        print("closed", flush=True)

ip = os.environ["POD_IP"]
web = http.server.ThreadingHTTPServer((ip, 0), http.server.SimpleHTTPRequestHandler)
upper = socketserver.ThreadingTCPServer((ip, 0), Upper)
print("ports", web.server_address[1], upper.server_address[1], flush=True)
threading.Thread(target=upper.serve_forever, daemon=True).start()
web.serve_forever()
"""
# kubectl's two ways to the kubelet: SPDY tunnelled in a websocket (its default), and a plain SPDY upgrade.
TRANSPORTS = {"websocket-tunnel": {}, "spdy-upgrade": {"KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"}}


@dataclass
class Servers:
    pod_ip: str
    web: int
    upper: int
    uid: str


class PortForward:
    """A running `kubectl port-forward`; its output is read as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()  # "" once stdout ends
        self._stderr: list[str] = []
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=lambda: self._stderr.extend(process.stderr or []), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        for line in self.process.stdout or []:
            self.lines.put(line)
        self.lines.put("")

    def next_line(self) -> str:
        return self.lines.get(timeout=60)

    def wait(self) -> int:
        """kubectl's exit code, once it has ended and all its output is read."""
        code = self.process.wait(timeout=60)
        for reader in self._readers:
            reader.join(timeout=60)
        return code

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)


@pytest.fixture
def servers(kube: KubeEmulator, core: CoreV1Api) -> Servers:
    create(kube, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "servers"},
                  "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 2, "containers": [{
                      "name": "main", "image": "python:3.12", "args": ["-u", "-c", SERVERS],
                      "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]}]}})
    wait_for(lambda: pod_phase(core, "servers") == "Running", timeout=20, what="the servers pod to run")
    ports = wait_for(lambda: re.search(r"^ports (\d+) (\d+)$", logs(kube), re.M), timeout=20, what="the ports")
    pod = core.read_namespaced_pod("servers", "default")
    return Servers(pod.status.pod_ip, int(ports[1]), int(ports[2]), pod.metadata.uid)


def logs(kube: KubeEmulator) -> str:
    return kubectl(kube, "logs", "servers").stdout


@contextlib.contextmanager
def port_forward(kube: KubeEmulator, remote: int, transport: str = "websocket-tunnel") -> Iterator[PortForward]:
    """`kubectl port-forward pod/servers :REMOTE`, stopped (SIGKILL) at the end if it still runs."""
    process = subprocess.Popen([require_tool("kubectl"), "--kubeconfig", str(kube.kubeconfig_path), "-v=4",
                                "port-forward", "pod/servers", f":{remote}"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **TRANSPORTS[transport]})
    forward = PortForward(process)
    try:
        yield forward
    finally:
        if process.poll() is None:
            process.kill()
        forward.wait()


def local_port(forward: PortForward, remote: int) -> int:
    """The local port from kubectl's first line, `Forwarding from 127.0.0.1:LOCAL -> REMOTE`."""
    line = forward.next_line()
    match = re.fullmatch(rf"Forwarding from 127\.0\.0\.1:(\d+) -> {remote}\n", line)
    if not match:
        forward.wait()
        raise AssertionError(f"kubectl printed {line!r}; its stderr: {forward.stderr}")
    return int(match[1])


def fetch(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
        body: str = response.read().decode()
        return body


def receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := connection.recv(size - len(data))):
        data += chunk
    return data


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_kubectl_port_forward_fetches_from_the_pods_http_server(kube: KubeEmulator, servers: Servers,
                                                                 transport: str) -> None:
    with port_forward(kube, servers.web, transport) as forward:
        port = local_port(forward, servers.web)
        assert fetch(port, "/index.txt") == "served from the pod\n"
        assert fetch(port, "/index.txt") == "served from the pod\n"  # each connection is a new pair of streams
        assert fetch(port, "/big.txt") == "0123456789" * 300_000  # 3 MB: many frames, no flow control stalls
        assert forward.process.poll() is None
    # kubectl -v=4 logs the protocol it negotiated inside the websocket, and a fallback to SPDY if it had one.
    if transport == "websocket-tunnel":
        assert "negotiated protocol: portforward.k8s.io" in forward.stderr
        assert "fallback to secondary dialer" not in forward.stderr
    else:
        assert "WebSocket" not in forward.stderr


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_two_connections_at_once_each_get_their_own_bytes_and_half_close(kube: KubeEmulator, servers: Servers,
                                                                         transport: str) -> None:
    with port_forward(kube, servers.upper, transport) as forward:
        port = local_port(forward, servers.upper)
        with connect(port) as first, connect(port) as second:
            first.sendall(b"first")
            second.sendall(b"second")
            assert receive(second, 6) == b"SECOND"
            assert receive(first, 5) == b"FIRST"
            wait_for(lambda: logs(kube).count("open") == 2, timeout=20, what="both connections in the pod")
            # The end of the first one's input reaches the pod, which ends that connection, and its end comes back.
            first.shutdown(socket.SHUT_WR)
            assert first.recv(10) == b""
            wait_for(lambda: logs(kube).count("closed") == 1, timeout=20, what="the pod to close the first one")
            second.sendall(b"still open")
            assert receive(second, 10) == b"STILL OPEN"
        wait_for(lambda: logs(kube).count("closed") == 2, timeout=20, what="the pod to close the second one")
        assert forward.process.poll() is None


def test_a_port_nothing_listens_on_is_kubectls_error_and_the_emulator_goes_on(kube: KubeEmulator,
                                                                              servers: Servers) -> None:
    with socket.socket() as probe:  # a port on the pod's IP that nothing listens on
        probe.bind((servers.pod_ip, 0))
        closed = probe.getsockname()[1]
    with port_forward(kube, closed) as forward:
        port = local_port(forward, closed)
        with connect(port) as connection:
            assert connection.recv(10) == b""  # kubectl closes the connection it could not forward
        assert forward.wait() == 1
    stderr = forward.stderr
    assert (f"an error occurred forwarding {port} -> {closed}: error forwarding port {closed} to pod servers, "
            f"uid {servers.uid}: dial tcp {servers.pod_ip}:{closed}: connect: connection refused") in stderr
    assert stderr.rstrip().endswith("error: lost connection to pod")
    with port_forward(kube, servers.web) as again:  # the emulator still serves port-forward
        assert fetch(local_port(again, servers.web), "/index.txt") == "served from the pod\n"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_killing_kubectl_closes_the_connection_to_the_pod(kube: KubeEmulator, servers: Servers,
                                                          transport: str) -> None:
    with port_forward(kube, servers.upper, transport) as forward:
        port = local_port(forward, servers.upper)
        with connect(port) as connection:
            connection.sendall(b"hello")
            assert receive(connection, 5) == b"HELLO"
            forward.process.send_signal(signal.SIGKILL)
            forward.wait()
            # kubectl is gone: its connection to the emulator ends, and with it the one to the pod.
            wait_for(lambda: "closed" in logs(kube), timeout=20, what="the pod to see its connection end")
            with contextlib.suppress(ConnectionResetError):
                assert connection.recv(10) == b""
        with pytest.raises(ConnectionRefusedError):
            connect(port)


def test_the_kubelets_answers_to_streams_kubectl_does_not_open(kube: KubeEmulator, servers: Servers) -> None:
    """A small SPDY client (the framing module's encoder) opens what kubectl never does; the kubelet
    (httpstream.go) resets a stream without a port, echoes a ping, and answers a second data stream of one
    request with `error processing stream for request R: data stream already assigned` on its error stream,
    while the first pair still forwards."""
    error, data, again = (spdy.SynStream(i, {"streamtype": kind, "port": str(servers.web), "requestid": "7"})
                          for i, kind in ((3, "error"), (5, "data"), (7, "data")))
    frames = asyncio.run(tunnel(kube, [
        spdy.SynStream(1, {"streamtype": "error"}), spdy.Ping(1), error, data, again,
        spdy.DataFrame(5, b"GET /index.txt HTTP/1.0\r\n\r\n", fin=True)],
        until=lambda got: spdy.DataFrame(3, b"", fin=True) in got))
    assert frames[:2] == [spdy.RstStream(1, spdy.CANCEL), spdy.Ping(1)]
    assert [f.stream_id for f in frames if isinstance(f, spdy.SynReply)] == [3, 5, 7]
    errors = b"".join(f.data for f in frames if isinstance(f, spdy.DataFrame) and f.stream_id == 3)
    assert errors == b"error processing stream for request 7: data stream already assigned"
    answer = b"".join(f.data for f in frames if isinstance(f, spdy.DataFrame) and f.stream_id == 5)
    assert answer.startswith(b"HTTP/1.0 200 OK") and answer.endswith(b"\r\n\r\nserved from the pod\n")
    assert spdy.DataFrame(5, b"", fin=True) in frames


async def tunnel(kube: KubeEmulator, frames: list[spdy.Frame], until: Callable[[list[spdy.Frame]], bool]
                 ) -> list[spdy.Frame]:
    """Send ``frames`` through the websocket tunnel kubectl uses; the frames received until ``until`` holds."""
    url = f"{kube.url}/api/v1/namespaces/default/pods/servers/portforward"
    encoder, decoder, received = spdy.FrameEncoder(), spdy.FrameDecoder(), []
    async with aiohttp.ClientSession() as session, session.ws_connect(url, protocols=(TUNNEL_PROTOCOL,)) as ws:
        assert ws.protocol == TUNNEL_PROTOCOL
        for frame in frames:
            await ws.send_bytes(encoder.encode(frame))
        while not until(received):
            message = await asyncio.wait_for(ws.receive(), timeout=30)
            assert message.type == aiohttp.WSMsgType.BINARY, message
            received += decoder.feed(message.data)
    return received
