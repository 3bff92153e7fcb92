"""pods/exec, pods/attach and pods/portforward into containers that run locally, driven by kubectl and the
kubernetes client; and the answers for containers that do not run."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes
import kubernetes_asyncio
import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward, stream
from kubernetes_asyncio.stream import WsApiClient

from airflow_provider_sparkk8s.testing import KubeEmulator, spdy
from airflow_provider_sparkk8s.testing.runtime import LocalContainer
from tests.conftest import require_tool
from tests.emulator.cluster_clients import kubectl, try_kubectl
from tests.runtime.support import local_container

RUNNING = {"emulator.sparkk8s.io/outcome": "running"}  # the simulated kubelet keeps the pod Running

RunLocally = Callable[..., LocalContainer]


def core(kube: KubeEmulator) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


def the_pod(name: str, containers: dict[str, list[str]], stdin: bool = False) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "annotations": RUNNING},
            "spec": {"containers": [{"name": c, "image": "busybox:1.36", "command": command, "stdin": stdin}
                                    for c, command in containers.items()]}}


@pytest.fixture
def run_locally(kube_emulator: KubeEmulator, tmp_path: Path) -> Iterator[RunLocally]:
    yield from running_locally(kube_emulator, tmp_path)


def running_locally(kube_emulator: KubeEmulator, tmp_path: Path) -> Iterator[RunLocally]:
    """Stands in for the local kubelet, which will start a pod's containers and register them itself: the pod is
    created and kept Running by the simulated kubelet, and its container (the first, unless ``only`` names
    another) is started with the local runtime in the emulator's event loop, where the kubelet will start it,
    then registered in ``KubeEmulator.containers``, where the stream endpoints look for it."""
    loop = kube_emulator._loop  # the emulator's event loop, which the kubelet's containers live in
    assert loop is not None
    started: list[LocalContainer] = []

    def run(name: str, containers: dict[str, list[str]], only: str | None = None, stdin: bool = False,
            ready: str | None = None) -> LocalContainer:
        """``ready``: a file the container writes in its /tmp once it is ready, waited for."""
        manifest = the_pod(name, containers, stdin)
        kube_emulator.apply(manifest)
        deadline = time.monotonic() + 10
        while ((kube_emulator.get("v1", "Pod", name) or {}).get("status") or {}).get("phase") != "Running":
            assert time.monotonic() < deadline, "the pod never ran"
            time.sleep(0.02)
        spec = next(c for c in manifest["spec"]["containers"] if c["name"] == (only or c["name"]))
        container = local_container(manifest, spec, {}, tmp_path / name / spec["name"])
        container.stdin = stdin
        asyncio.run_coroutine_threadsafe(container.start(), loop).result(10)
        started.append(container)
        kube_emulator.containers.add("default", name, spec["name"], container)
        while ready and not (container.view.tmp / ready).exists():
            assert time.monotonic() < deadline + 10, f"the container never wrote /tmp/{ready}"
            time.sleep(0.02)
        return container

    yield run
    for container in started:
        asyncio.run_coroutine_threadsafe(container.stop(0), loop).result(30)


SLEEPER = ["sh", "-c", "echo ready > /tmp/state; exec sleep 300"]


def test_kubectl_exec_runs_the_command_in_the_container_and_exits_with_its_code(kube_emulator, run_locally) -> None:
    run_locally("box", {"main": SLEEPER}, ready="state")
    result = kubectl(kube_emulator, "exec", "box", "--", "sh", "-c", "cat /tmp/state; echo oops >&2")
    assert (result.stdout, result.stderr) == ("ready\n", "oops\n")  # the container's own /tmp
    failed = try_kubectl(kube_emulator, "exec", "box", "--", "sh", "-c", "exit 3")
    assert failed.returncode == 3
    assert failed.stderr.strip() == "command terminated with exit code 3"


def test_kubectl_exec_with_stdin_piped(kube_emulator, run_locally) -> None:
    run_locally("box", {"main": SLEEPER}, ready="state")
    # kubectl closes stdin with the v5 close signal when its input ends, so `cat` ends.
    result = kubectl(kube_emulator, "exec", "-i", "box", "--", "sh", "-c", "cat; echo end", stdin="one\ntwo\n")
    assert result.stdout == "one\ntwo\nend\n"


def test_kubectl_exec_with_a_terminal(kube_emulator, run_locally) -> None:
    run_locally("box", {"main": SLEEPER}, ready="state")
    # kubectl -t wants a terminal for its own stdin: `script` runs it on a pseudo-terminal.
    command = shlex.join([require_tool("kubectl"), "--kubeconfig", str(kube_emulator.kubeconfig_path), "exec", "-it",
                          "box", "--", "sh", "-c", "tty; exit 4"])
    result = subprocess.run([require_tool("script"), "-qec", command, "/dev/null"], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 4
    assert "/dev/pts/" in result.stdout and "command terminated with exit code 4" in result.stdout


def test_kubectl_attach_with_stdin_to_the_running_program(kube_emulator, run_locally) -> None:
    run_locally("echo", {"main": ["sh", "-c", "read line; echo got $line"]}, stdin=True)
    # The program ends after one line; so does the attach, with the Success Status.
    result = kubectl(kube_emulator, "attach", "-i", "echo", stdin="hello\n", timeout=30)
    assert result.stdout == "got hello\n"


def test_kubectl_cp_both_ways(kube_emulator, run_locally, tmp_path: Path) -> None:
    run_locally("box", {"main": SLEEPER}, ready="state")
    local = tmp_path / "local.txt"
    local.write_text("from the host\n")
    kubectl(kube_emulator, "cp", str(local), "box:/tmp/copied.txt")
    assert (tmp_path / "box" / "main" / "copied.txt").read_text() == "from the host\n"  # the container's /tmp
    back = tmp_path / "back.txt"
    kubectl(kube_emulator, "cp", "box:/tmp/state", str(back))
    assert back.read_text() == "ready\n"


def test_python_client_exec_stream_and_exit_code(kube_emulator, run_locally) -> None:
    run_locally("box", {"main": SLEEPER}, ready="state")
    api = core(kube_emulator)
    output = stream(api.connect_get_namespaced_pod_exec, "box", "default", command=["cat", "/tmp/state"],
                    stderr=True, stdin=False, stdout=True, tty=False)
    assert output == "ready\n"
    session = stream(api.connect_get_namespaced_pod_exec, "box", "default", command=["sh", "-c", "exit 5"],
                     stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    session.run_forever(timeout=30)
    assert session.returncode == 5  # read from the NonZeroExitCode Status on the error channel


def test_asyncio_client_exec(kube_emulator, run_locally) -> None:
    run_locally("box", {"main": SLEEPER}, ready="state")

    async def run() -> str:
        conf = kubernetes_asyncio.client.Configuration()
        await kubernetes_asyncio.config.load_kube_config(str(kube_emulator.kubeconfig_path),
                                                         client_configuration=conf)
        async with WsApiClient(configuration=conf) as ws:
            api = kubernetes_asyncio.client.CoreV1Api(api_client=ws)
            return await api.connect_get_namespaced_pod_exec(
                "box", "default", command=["sh", "-c", "cat /tmp/state; echo oops >&2"], stdout=True, stderr=True)

    # The client joins what stdout and stderr carried, in the order their messages came.
    assert sorted(asyncio.run(run()).splitlines()) == ["oops", "ready"]


def test_python_client_exec_on_a_terminal_with_its_size(kube_emulator, run_locally) -> None:
    run_locally("box", {"main": SLEEPER}, ready="state")
    session = stream(core(kube_emulator).connect_get_namespaced_pod_exec, "box", "default",
                     command=["sh", "-c", "test -t 0 && echo on-a-terminal; read go; stty size"],
                     stdin=True, stdout=True, stderr=False, tty=True, _preload_content=False)
    session.write_channel(4, '{"Width": 100, "Height": 30}')  # the resize channel, as kubectl writes it
    session.write_stdin("go\n")
    session.run_forever(timeout=30)
    assert session.returncode == 0  # before read_all(), which forgets the error channel too
    output = session.read_all()
    assert "on-a-terminal" in output and "30 100" in output


def test_python_client_attach_to_the_running_program(kube_emulator, run_locally) -> None:
    run_locally("echo", {"main": ["sh", "-c", "while read line; do echo got $line; done"]}, stdin=True)
    session = stream(core(kube_emulator).connect_get_namespaced_pod_attach, "echo", "default", stdin=True,
                     stdout=True, stderr=True, tty=False, _preload_content=False)
    session.write_stdin("hello\n")
    assert session.readline_stdout(timeout=20) == "got hello"
    session.close()


def test_python_client_port_forward_to_an_http_server_in_the_pod(kube_emulator, run_locally) -> None:
    with socket.socket() as probe:  # a free port: pods share the host's network
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run_locally("web", {"main": ["sh", "-c", f"cd /tmp && echo served > index.txt && exec python3 -m http.server "
                                             f"{port} --bind 127.0.0.1"]})
    deadline = time.monotonic() + 20
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert time.monotonic() < deadline, "the http server never listened"
        time.sleep(0.05)
    forward = portforward(core(kube_emulator).connect_get_namespaced_pod_portforward, "web", "default",
                          ports=str(port))
    connection = forward.socket(port)
    connection.settimeout(20)
    connection.sendall(b"GET /index.txt HTTP/1.0\r\nHost: web\r\n\r\n")
    received = b""
    while chunk := connection.recv(1024):
        received += chunk
    connection.close()
    assert received.startswith(b"HTTP/1.0 200") and received.endswith(b"\r\n\r\nserved\n")
    assert forward.error(port) is None  # kubectl port-forward (SPDY): tests/sandbox/test_kubectl_port_forward.py


def test_exec_into_a_container_that_does_not_run_is_container_not_found(kube_emulator, run_locally) -> None:
    run_locally("pair", {"main": SLEEPER, "side": SLEEPER}, only="main", ready="state")
    result = try_kubectl(kube_emulator, "exec", "pair", "-c", "side", "--", "true")
    # The kubelet's plain-text answer, which kubectl prints after its SPDY fallback.
    assert result.returncode == 1
    assert result.stderr.strip() == 'error: unable to upgrade connection: container not found ("side")'
    # kubectl picks the first container itself; a client that names none is refused before any upgrade (the
    # python client's websocket path hides the handshake's body, so this asks without upgrading).
    with pytest.raises(ApiException) as unnamed:
        core(kube_emulator).api_client.call_api("/api/v1/namespaces/default/pods/pair/exec", "GET",
                                                query_params=[("command", "true"), ("stdout", "true")],
                                                _preload_content=False)
    assert unnamed.value.status == 400
    assert json.loads(unnamed.value.body)["message"] == (
        "a container name must be specified for pod pair, choose one of: [main side]")


# ------------------------------------------------------------------------------------------------- over SPDY/3.1
# kubectl's exec, attach and cp over SPDY only (a POST upgraded to SPDY/3.1, protocol v4.channel.k8s.io, one
# stream per channel): its way before 1.30, and its fallback when the websocket upgrade is refused.
SPDY = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}


def exec_transports(kube: KubeEmulator) -> list[tuple[str, int]]:
    """(method, status) of the exec requests the emulator served: GET 101 a websocket, POST 101 a SPDY upgrade.

    A request's status is recorded when its handler returns (0 until then), and kubectl may exit as soon as it has
    read the exit code, before the emulator has seen the connection close: wait for the requests to end."""
    deadline = time.monotonic() + 10
    while True:
        records = [r for r in kube.requests.snapshot() if r.resource == "pods/exec"]
        if all(r.status for r in records) or time.monotonic() > deadline:
            return [(r.method, r.status) for r in records]
        time.sleep(0.05)


def test_kubectl_exec_over_spdy_with_stdin_and_a_non_zero_exit(kube_emulator, run_locally) -> None:
    """The kubelet answers each stream kubectl opens (error, stdin, stdout, stderr), copies stdin to the command
    until the stream's FIN, and writes the NonZeroExitCode Status on the error stream: kubectl exits with it."""
    run_locally("box", {"main": SLEEPER}, ready="state")
    result = try_kubectl(kube_emulator, "exec", "-i", "box", "--", "sh", "-c",
                         "cat; cat /tmp/state; echo oops >&2; exit 5", stdin="one\ntwo\n", env=SPDY)
    assert (result.returncode, result.stdout) == (5, "one\ntwo\nready\n"), result.stderr
    assert result.stderr == "oops\ncommand terminated with exit code 5\n"
    assert exec_transports(kube_emulator) == [("POST", 101)]


# kubectl writes the size once the streams are there, while the command starts: the command waits for it.
AWAIT_SIZE = 'i=0; while [ "$(stty size)" = "0 0" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; '


def test_kubectl_exec_over_spdy_on_a_terminal_with_its_size(kube_emulator, run_locally) -> None:
    """With -t kubectl opens a resize stream (no stderr) and writes its terminal's size there as JSON."""
    run_locally("box", {"main": SLEEPER}, ready="state")
    command = shlex.join([require_tool("kubectl"), "--kubeconfig", str(kube_emulator.kubeconfig_path), "exec", "-it",
                          "box", "--", "sh", "-c", "tty; " + AWAIT_SIZE + "stty size; exit 4"])
    result = subprocess.run([require_tool("script"), "-qec", f"stty rows 30 cols 100; {command}", "/dev/null"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                            env={**os.environ, **SPDY})
    assert result.returncode == 4, result.stdout
    assert "/dev/pts/" in result.stdout and "30 100" in result.stdout
    assert "command terminated with exit code 4" in result.stdout


def test_kubectl_cp_over_spdy_both_ways(kube_emulator, run_locally, tmp_path: Path) -> None:
    run_locally("box", {"main": SLEEPER}, ready="state")
    local = tmp_path / "local.txt"
    local.write_text("from the host\n")
    kubectl(kube_emulator, "cp", str(local), "box:/tmp/copied.txt", env=SPDY)
    assert (tmp_path / "box" / "main" / "copied.txt").read_text() == "from the host\n"
    back = tmp_path / "back.txt"
    kubectl(kube_emulator, "cp", "box:/tmp/state", str(back), env=SPDY)
    assert back.read_text() == "ready\n"


def test_kubectl_attach_over_spdy(kube_emulator, run_locally) -> None:
    run_locally("echo", {"main": ["sh", "-c", "read line; echo got $line"]}, stdin=True)
    result = kubectl(kube_emulator, "attach", "-i", "echo", stdin="hello\n", timeout=30, env=SPDY)
    assert result.stdout == "got hello\n"


async def spdy_exec(kube: KubeEmulator, query: str, protocols: list[str], frames: list[spdy.Frame],
                    until: Callable[[list[spdy.Frame]], bool]) -> tuple[str, list[spdy.Frame]]:
    """A SPDY upgrade of exec into the pod box as an older client makes it: the answer's head, then the frames
    received (after sending ``frames``) until ``until`` holds or the connection ends."""
    address = urlsplit(kube.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    offers = "".join(f"X-Stream-Protocol-Version: {protocol}\r\n" for protocol in protocols)
    writer.write(f"POST /api/v1/namespaces/default/pods/box/exec?{query} HTTP/1.1\r\nHost: {address.netloc}\r\n"
                 f"Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n{offers}\r\n".encode())
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)).decode()
    received: list[spdy.Frame] = []
    if head.startswith("HTTP/1.1 101"):
        encoder, decoder = spdy.FrameEncoder(), spdy.FrameDecoder()
        for frame in frames:
            writer.write(encoder.encode(frame))
        while not until(received) and (chunk := await asyncio.wait_for(reader.read(65536), 30)):
            received += decoder.feed(chunk)
    else:
        head += (await asyncio.wait_for(reader.read(65536), 30)).decode()
    writer.close()
    return head, received


def test_older_spdy_protocols_and_the_kubelets_negotiation(kube_emulator, run_locally) -> None:
    """httpstream.Handshake picks the first protocol the client offers that the kubelet serves and names it in the
    101; v2 writes the error's text on the error stream (no Status), and no resize stream. Nothing in common is a
    403 that lists both sides."""
    run_locally("box", {"main": SLEEPER}, ready="state")
    query = "command=sh&command=-c&command=cat+/tmp/state;+exit+2&stdout=1"
    head, frames = asyncio.run(spdy_exec(
        kube_emulator, query, ["v9.channel.k8s.io", "v2.channel.k8s.io", "v4.channel.k8s.io"],
        [spdy.SynStream(1, {"streamtype": "error"}), spdy.SynStream(3, {"streamtype": "stdout"})],
        until=lambda got: spdy.DataFrame(1, b"", fin=True) in got))
    assert "\r\nX-Stream-Protocol-Version: v2.channel.k8s.io\r\n" in head
    assert [f.stream_id for f in frames if isinstance(f, spdy.SynReply)] == [1, 3]
    output = {stream: b"".join(f.data for f in frames if isinstance(f, spdy.DataFrame) and f.stream_id == stream)
              for stream in (1, 3)}
    assert output == {3: b"ready\n", 1: b"command terminated with non-zero exit code: error executing command "
                                         b"[sh -c cat /tmp/state; exit 2], exit code 2"}

    refused, _ = asyncio.run(spdy_exec(kube_emulator, query, ["v9.channel.k8s.io"], [], until=bool))
    assert refused.startswith("HTTP/1.1 403")
    assert refused.endswith("unable to upgrade: protocol negotiation failed: client supports [v9.channel.k8s.io]; "
                            "server supports [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io "
                            "channel.k8s.io]")


# ---------------------------------------------------------------------------------------------------------- RBAC
@pytest.fixture
def secured(kube_emulator_factory, tmp_path: Path) -> Iterator[tuple[KubeEmulator, RunLocally]]:
    """An emulator that enforces RBAC on tokens, and its local pods."""
    kube = kube_emulator_factory(tls=True, token="admin-token")
    for run in running_locally(kube, tmp_path):
        yield kube, run


def account(kube: KubeEmulator, tmp_path: Path, name: str, exec_verbs: list[str] | None = None,
            cluster_role: str = "", subresource: str = "exec") -> Path:
    """A ServiceAccount that may get pods and do ``exec_verbs`` on pods/``subresource`` (or has ``cluster_role``
    in the namespace); its kubeconfig."""
    rbac = "rbac.authorization.k8s.io"
    role = {"kind": "ClusterRole", "name": cluster_role} if cluster_role else {"kind": "Role", "name": name}
    kube.apply([
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "default"}},
        *([] if cluster_role else [{
            "apiVersion": f"{rbac}/v1", "kind": "Role", "metadata": {"name": name, "namespace": "default"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                      {"apiGroups": [""], "resources": [f"pods/{subresource}"], "verbs": exec_verbs}]}]),
        {"apiVersion": f"{rbac}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": "default"},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "default"}],
         "roleRef": {"apiGroup": rbac, **role}},
    ])
    token = kube.service_account_token("default", name)
    return kube.write_kubeconfig(tmp_path / name, "default", token=token)


def test_exec_needs_create_and_a_websocket_upgrade_needs_get_too(secured, tmp_path: Path) -> None:
    """As on a 1.31+ API server (AuthorizePodWebsocketUpgradeCreatePermission, on by default): kubectl's websocket
    upgrade is a GET, authorized for get and then create; refused, kubectl falls back to the SPDY upgrade, a POST,
    authorized for create. So create alone execs (over SPDY), get alone is refused with the create verb named."""
    kube, run = secured
    run("box", {"main": SLEEPER}, ready="state")
    creator = account(kube, tmp_path, "creator", ["create"])
    result = try_kubectl(kube, "exec", "box", "--", "sh", "-c", "cat /tmp/state; exit 3", kubeconfig=creator)
    assert (result.returncode, result.stdout) == (3, "ready\n"), result.stderr
    assert exec_transports(kube) == [("GET", 403), ("POST", 101)]

    getter = account(kube, tmp_path, "getter", ["get"])
    denied = try_kubectl(kube, "exec", "box", "--", "true", kubeconfig=getter)
    assert denied.returncode == 1
    assert denied.stderr.strip() == (
        'Error from server (Forbidden): pods "box" is forbidden: User "system:serviceaccount:default:getter" '
        'cannot create resource "pods/exec" in API group "" in the namespace "default"')


def test_the_edit_role_execs_over_a_websocket(secured, tmp_path: Path) -> None:
    """The bootstrap edit (and admin) role grants get and create on pods/exec, attach and portforward
    (bootstrappolicy's aggregate-to-edit: read and write on them), so kubectl's websocket is allowed."""
    kube, run = secured
    run("box", {"main": SLEEPER}, ready="state")
    editor = account(kube, tmp_path, "editor", cluster_role="edit")
    result = try_kubectl(kube, "exec", "box", "--", "cat", "/tmp/state", kubeconfig=editor)
    assert (result.returncode, result.stdout) == (0, "ready\n"), result.stderr
    assert exec_transports(kube) == [("GET", 101)]


def test_port_forward_with_get_alone_is_forbidden_naming_create(secured, tmp_path: Path) -> None:
    """The same rule for pods/portforward: kubectl's websocket tunnel (a GET) needs create too, and its SPDY
    fallback (a POST) is refused create, which kubectl prints before it exits 1."""
    kube, run = secured
    run("box", {"main": SLEEPER}, ready="state")
    getter = account(kube, tmp_path, "forwarder", ["get"], subresource="portforward")
    denied = try_kubectl(kube, "port-forward", "pod/box", ":8080", kubeconfig=getter, timeout=30)
    assert denied.returncode == 1
    assert denied.stderr == ('error: error upgrading connection: pods "box" is forbidden: User '
                             '"system:serviceaccount:default:forwarder" cannot create resource "pods/portforward" in '
                             'API group "" in the namespace "default"\n')
