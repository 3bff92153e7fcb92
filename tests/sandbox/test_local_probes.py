"""Probes and lifecycle hooks of the pods the local kubelet runs, as kubectl and the kubernetes client see them.

What a kubelet does (pkg/kubelet/prober, pkg/kubelet/lifecycle, kuberuntime's startContainer and killContainer),
which these tests hold the local kubelet to:

- an httpGet probe GETs ``scheme://<pod IP>:<port><path>`` (a port by number or by the container port's name);
  a status from 200 to 399 is a success; HTTPS is not verified; a tcpSocket probe succeeds when a connection opens;
  a grpc probe calls grpc.health.v1.Health/Check and succeeds on SERVING;
- every failed try writes a Warning Event ``Unhealthy``: ``<Kind> probe failed: <output>``, the output being the
  prober's (``HTTP probe failed with statuscode: 404``, ``dial tcp <ip>:<port>: connect: connection refused``...);
- readiness sets the container's ``ready``, the pod's ``Ready`` condition and so the Endpoints; liveness and
  startup failures kill the container (``Killing``: ``Container <c> failed liveness probe, will be restarted``),
  which restarts as the restartPolicy says; liveness and readiness do not run before the startup probe succeeded;
- postStart runs right after the container starts, and the container is reported running only once it is done;
  a failing one kills the container (``FailedPostStartHook``); preStop runs on deletion before SIGTERM, within the
  grace period (``FailedPreStopHook`` when it fails).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import CoreV1Api

from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.testing.tls import make_certificates
from tests.emulator.cluster_clients import kubectl, kubectl_json, pod_phase, wait_for
from tests.sandbox.local_kubelet import (
    HOST_IMAGE,
    create,
    finished,
    free_port,
    pod,
    pod_events,
    processes_running,
    state_dir,
)


def container(core: CoreV1Api, pod_name: str, name: str = "main") -> Any:
    """The container's status, None before the kubelet has written it."""
    statuses = core.read_namespaced_pod(pod_name, "default").status.container_statuses or []
    return next((s for s in statuses if s.name == name), None)


def conditions(core: CoreV1Api, name: str) -> dict[str, str]:
    return {c.type: c.status for c in core.read_namespaced_pod(name, "default").status.conditions or []}


def messages(kube: KubeEmulator, name: str, reason: str) -> list[str]:
    return [message for why, message in pod_events(kube, name) if why == reason]


def times(kube: KubeEmulator, name: str, reason: str, message: str | None = None) -> int:
    """How many times the kubelet reported ``reason`` (with ``message``) about the pod: the sum of the Events'
    counts (a kubelet writes an Event again as a count on the first)."""
    events = kubectl_json(kube, "get", "events", "--field-selector", f"involvedObject.name={name}")["items"]
    return sum(e.get("count") or 1 for e in events
               if e["reason"] == reason and (message is None or e.get("message") == message))


def restarted(core: CoreV1Api, name: str, times: int) -> bool:
    status = container(core, name)
    return bool(status and status.restart_count >= times)


def service(kube: KubeEmulator, name: str, target_port: int | str) -> None:
    create(kube, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                  "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": target_port}]}})


def endpoint_addresses(kube: KubeEmulator, name: str, which: str) -> list[str]:
    """The IPs of the Endpoints' ``addresses`` or ``notReadyAddresses``."""
    subsets = kubectl_json(kube, "get", "endpoints", name).get("subsets") or []
    return [address["ip"] for subset in subsets for address in subset.get(which) or []]


def http_server(port: int) -> list[str]:
    """python3's http.server on ``port``, serving /tmp/www with a ``healthz`` file; it logs each request."""
    return ["sh", "-c", f"mkdir -p /tmp/www && echo ok > /tmp/www/healthz && "
                        f"exec python3 -m http.server {port} --directory /tmp/www"]


# ---------------------------------------------------------------------------------------------- probe handlers
def test_http_get_readiness_probes_make_the_pod_ready(kube: KubeEmulator, core: CoreV1Api, tmp_path: Path) -> None:
    """An HTTP probe by the container port's name, and an HTTPS one by number against a server whose certificate
    is not for the pod's IP nor from a known CA (the kubelet does not verify it). Both servers log the probes'
    GETs; once both containers are ready the pod is Ready and the Service's Endpoints list its address."""
    http_port, https_port = free_port(), free_port()
    (tmp_path / "certs").mkdir()
    make_certificates(tmp_path / "certs", "localhost")
    https_server = ("import http.server, ssl\n"
                    f"server = http.server.HTTPServer(('', {https_port}), http.server.SimpleHTTPRequestHandler)\n"
                    "context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
                    "context.load_cert_chain('/certs/server.crt', '/certs/server.key')\n"
                    "server.socket = context.wrap_socket(server.socket, server_side=True)\n"
                    "server.serve_forever()\n")
    manifest = pod("web", "")
    manifest["metadata"]["labels"] = {"app": "web"}
    manifest["spec"]["containers"] = [
        {"name": "web", "image": HOST_IMAGE, "command": http_server(http_port),
         "ports": [{"name": "http", "containerPort": http_port}],
         "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 1}},
        {"name": "secure", "image": HOST_IMAGE, "command": ["python3", "-c", https_server],
         "volumeMounts": [{"name": "certs", "mountPath": "/certs"}],
         "readinessProbe": {"httpGet": {"scheme": "HTTPS", "path": "/", "port": https_port}, "periodSeconds": 1}}]
    manifest["spec"]["volumes"] = [{"name": "certs", "hostPath": {"path": str(tmp_path / "certs")}}]
    service(kube, "web", "http")
    create(kube, manifest)
    wait_for(lambda: conditions(core, "web").get("Ready") == "True", timeout=30, what="web to be Ready")
    assert [container(core, "web", c).ready for c in ("web", "secure")] == [True, True]
    assert '"GET /healthz HTTP/1.1" 200' in kubectl(kube, "logs", "web", "-c", "web").stdout
    assert '"GET / HTTP/1.1" 200' in kubectl(kube, "logs", "web", "-c", "secure").stdout
    ip = core.read_namespaced_pod("web", "default").status.pod_ip
    wait_for(lambda: endpoint_addresses(kube, "web", "addresses") == [ip], timeout=10, what="a ready endpoint")


def test_a_readiness_probe_on_a_missing_path_keeps_the_pod_unready(kube: KubeEmulator, core: CoreV1Api) -> None:
    """A 404 fails each try: a Warning Event with the prober's message (never the response body), which the
    kubelet's event recorder writes once and then counts; the container running but not ready, the pod not Ready
    (kubectl: 0/1 Running), its address not ready in the Endpoints."""
    port = free_port()
    manifest = pod("lost", "")
    manifest["metadata"]["labels"] = {"app": "lost"}
    manifest["spec"]["containers"][0].update(command=http_server(port), readinessProbe={
        "httpGet": {"path": "/missing", "port": port}, "periodSeconds": 1})
    service(kube, "lost", port)
    create(kube, manifest)
    expected = "Readiness probe failed: HTTP probe failed with statuscode: 404"
    wait_for(lambda: times(kube, "lost", "Unhealthy", expected) >= 2, timeout=30, what="two 404 Events")
    status = container(core, "lost")
    assert status.state.running is not None and status.ready is False and status.started is True
    assert conditions(core, "lost")["Ready"] == "False"
    assert kubectl(kube, "get", "pod", "lost", "--no-headers").stdout.split()[1:3] == ["0/1", "Running"]
    events = kubectl_json(kube, "get", "events", "--field-selector", "involvedObject.name=lost")["items"]
    assert {e["type"] for e in events if e["reason"] == "Unhealthy"} == {"Warning"}
    [failures] = [e for e in events if e["message"] == expected]  # one Event, counting the tries
    assert failures["count"] >= 2 and failures["lastTimestamp"] >= failures["firstTimestamp"]
    ip = core.read_namespaced_pod("lost", "default").status.pod_ip
    wait_for(lambda: endpoint_addresses(kube, "lost", "notReadyAddresses") == [ip], timeout=10)
    assert endpoint_addresses(kube, "lost", "addresses") == []


def test_a_tcp_socket_liveness_probe_on_a_closed_port_restarts_the_container(kube: KubeEmulator,
                                                                             core: CoreV1Api) -> None:
    """Nothing listens on the port the liveness probe names: each try is refused, and every second failure in a
    row (failureThreshold 2) kills the container, which restarts (restartPolicy Always). The program ignores
    SIGTERM: the probe's own terminationGracePeriodSeconds (1 s), not the pod's (5 minutes), is what it gets before
    SIGKILL. A tcpSocket readiness probe on a port something listens on makes its container ready."""
    closed, listening = free_port(), free_port()
    manifest = pod("unreachable", "trap '' TERM; while true; do sleep 0.1; done", restartPolicy="Always",
                   terminationGracePeriodSeconds=300)
    manifest["spec"]["containers"][0].update(
        ports=[{"name": "health", "containerPort": closed}],
        livenessProbe={"tcpSocket": {"port": "health"}, "periodSeconds": 1, "failureThreshold": 2,
                       "terminationGracePeriodSeconds": 1})
    manifest["spec"]["containers"].append(
        {"name": "listener", "image": HOST_IMAGE, "command": http_server(listening),
         "readinessProbe": {"tcpSocket": {"port": listening}, "periodSeconds": 1}})
    create(kube, manifest)
    wait_for(lambda: restarted(core, "unreachable", 2), timeout=40, what="two restarts")
    ip = core.read_namespaced_pod("unreachable", "default").status.pod_ip
    assert f"Liveness probe failed: dial tcp {ip}:{closed}: connect: connection refused" in \
        messages(kube, "unreachable", "Unhealthy")
    assert "Container main failed liveness probe, will be restarted" in messages(kube, "unreachable", "Killing")
    assert container(core, "unreachable").last_state.terminated.exit_code == 137  # SIGKILL: it ignored SIGTERM
    wait_for(lambda: container(core, "unreachable", "listener").ready, timeout=20, what="the listener ready")
    assert container(core, "unreachable", "listener").restart_count == 0


GRPC_HEALTH_SERVER = """
import sys
from concurrent import futures

import grpc

def check(request, context):  # a HealthCheckRequest: its service name is field 1
    service = request[2:].decode()
    return b"\\x08\\x01" if service == "" else b"\\x08\\x02"  # SERVING, or NOT_SERVING for any named service

health = grpc.method_handlers_generic_handler(
    "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)})
server = grpc.server(futures.ThreadPoolExecutor(2))
server.add_generic_rpc_handlers((health,))
server.add_insecure_port(f"0.0.0.0:{sys.argv[1]}")
server.start()
server.wait_for_termination()
"""


def test_grpc_probes_call_the_health_service(kube: KubeEmulator, core: CoreV1Api) -> None:
    """A gRPC health server answers SERVING for the server as a whole (no service name) and NOT_SERVING for
    "down": the container probing the first is ready, the one probing "down" is not, with the prober's message."""
    pytest.importorskip("grpc")
    port = free_port()
    manifest = pod("health", "")
    manifest["spec"]["containers"] = [
        {"name": "server", "image": HOST_IMAGE, "command": [sys.executable, "-c", GRPC_HEALTH_SERVER, str(port)],
         "readinessProbe": {"grpc": {"port": port}, "periodSeconds": 1}},
        {"name": "checker", "image": HOST_IMAGE, "command": ["sleep", "600"],
         "readinessProbe": {"grpc": {"port": port, "service": "down"}, "periodSeconds": 1}}]
    create(kube, manifest)
    wait_for(lambda: container(core, "health", "server") and container(core, "health", "server").ready,
             timeout=30, what="the gRPC server ready")
    expected = 'Readiness probe failed: service unhealthy (responded with "NOT_SERVING")'
    wait_for(lambda: expected in messages(kube, "health", "Unhealthy"), timeout=20, what="NOT_SERVING")
    assert container(core, "health", "checker").ready is False
    assert conditions(core, "health")["Ready"] == "False"


# ---------------------------------------------------------------------------------------------- startup probes
def test_liveness_and_readiness_wait_for_the_startup_probe(kube: KubeEmulator, core: CoreV1Api,
                                                           tmp_path: Path) -> None:
    """Until the startup probe succeeds the container runs but is neither started nor ready, and its liveness
    and readiness probes (which here leave a trace in /state) are not run; then they are."""
    manifest = state_dir(pod("slow", "until [ -e /state/go ]; do sleep 0.1; done; touch /tmp/started; sleep 600",
                             restartPolicy="Always"), tmp_path)
    manifest["spec"]["containers"][0].update(
        startupProbe={"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 1, "failureThreshold": 600},
        readinessProbe={"exec": {"command": ["sh", "-c", "echo x >> /state/readiness"]}, "periodSeconds": 1},
        livenessProbe={"exec": {"command": ["sh", "-c", "echo x >> /state/liveness"]}, "periodSeconds": 1})
    create(kube, manifest)
    wait_for(lambda: times(kube, "slow", "Unhealthy") >= 2, timeout=30, what="two startup failures")
    assert all(m.startswith("Startup probe failed: cat: ") and "/tmp/started" in m
               for m in messages(kube, "slow", "Unhealthy"))
    status = container(core, "slow")
    assert (status.state.running is not None, status.started, status.ready) == (True, False, False)
    assert pod_phase(core, "slow") == "Running"
    assert not (tmp_path / "readiness").exists() and not (tmp_path / "liveness").exists()
    (tmp_path / "go").touch()
    wait_for(lambda: container(core, "slow").ready, timeout=20, what="slow to be ready")
    assert container(core, "slow").started is True
    wait_for(lambda: (tmp_path / "liveness").exists(), timeout=10, what="the liveness probe to run")
    assert (tmp_path / "readiness").exists() and container(core, "slow").restart_count == 0


def test_a_failing_startup_probe_restarts_the_container(kube: KubeEmulator, core: CoreV1Api) -> None:
    """failureThreshold failures of the startup probe kill the container with the kubelet's message; the
    liveness probe, which would fail at once, never runs (no liveness Event)."""
    manifest = pod("never-starts", "sleep 600", restartPolicy="Always", terminationGracePeriodSeconds=1)
    manifest["spec"]["containers"][0].update(
        startupProbe={"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 2},
        livenessProbe={"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 1})
    create(kube, manifest)
    wait_for(lambda: restarted(core, "never-starts", 1), timeout=30, what="a restart")
    assert set(messages(kube, "never-starts", "Killing")) == {
        "Container main failed startup probe, will be restarted"}
    assert set(messages(kube, "never-starts", "Unhealthy")) == {"Startup probe failed: "}  # false prints nothing
    assert container(core, "never-starts").started is False


# ---------------------------------------------------------------------------------------------- lifecycle hooks
def test_post_start_runs_in_the_container_before_it_is_reported_running(kube: KubeEmulator, core: CoreV1Api,
                                                                        tmp_path: Path) -> None:
    """The hook runs in the container (it writes the container's own /tmp, which the program reads); while it
    runs the container still waits (ContainerCreating) and the pod is Pending."""
    hook = "echo running > /state/hook; until [ -e /state/go ]; do sleep 0.1; done; echo from postStart > /tmp/x"
    manifest = state_dir(pod("hooked", "until [ -e /tmp/x ]; do sleep 0.1; done; cat /tmp/x"), tmp_path)
    manifest["spec"]["containers"][0]["lifecycle"] = {"postStart": {"exec": {"command": ["sh", "-c", hook]}}}
    create(kube, manifest)
    wait_for(lambda: (tmp_path / "hook").exists(), timeout=20, what="the postStart hook to run")
    status = container(core, "hooked")
    assert status.state.waiting.reason == "ContainerCreating" and status.ready is False
    assert pod_phase(core, "hooked") == "Pending"
    (tmp_path / "go").touch()
    assert finished(core, "hooked").status.phase == "Succeeded"
    assert kubectl(kube, "logs", "hooked").stdout == "from postStart\n"
    assert messages(kube, "hooked", "FailedPostStartHook") == []


def test_a_failing_post_start_hook_kills_the_container(kube: KubeEmulator, core: CoreV1Api) -> None:
    """A hook that exits non-zero: Warning FailedPostStartHook, the container killed (its program, a ``sleep`` as
    PID 1, ignores the SIGTERM and gets the SIGKILL when the 2 s grace period ends: 137). With
    restartPolicy Never the pod fails; with Always the container waits with reason PostStartHookError and the
    kubelet's message before it starts again."""
    hook = {"postStart": {"exec": {"command": ["sh", "-c", "echo failing >&2; exit 3"]}}}
    never = pod("hook-fails", "sleep 4848")
    never["spec"]["containers"][0]["lifecycle"] = hook
    create(kube, never)
    done = finished(core, "hook-fails")
    assert done.status.phase == "Failed"
    terminated = done.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (137, "Error")
    assert messages(kube, "hook-fails", "FailedPostStartHook") == ["PostStartHook failed"]
    assert messages(kube, "hook-fails", "Killing") == ["FailedPostStartHook"]
    assert not processes_running("sleep 4848")

    always = pod("hook-restarts", "sleep 600", restartPolicy="Always")
    always["spec"]["containers"][0]["lifecycle"] = hook
    create(kube, always)

    def waiting() -> Any:
        status = container(core, "hook-restarts")
        return status and status.state.waiting and status.state.waiting.reason == "PostStartHookError" and status
    status = wait_for(waiting, timeout=30, what="PostStartHookError")
    uid = core.read_namespaced_pod("hook-restarts", "default").metadata.uid
    assert status.state.waiting.message == (
        f'Exec lifecycle hook ([sh -c echo failing >&2; exit 3]) for Container "main" in Pod '
        f'"hook-restarts_default({uid})" failed - error: command \'sh -c echo failing >&2; exit 3\' exited with 3: '
        f'failing\n, message: "failing\\n"')
    wait_for(lambda: restarted(core, "hook-restarts", 1), timeout=30, what="a restart")


def test_pre_stop_runs_before_sigterm(kube: KubeEmulator, core: CoreV1Api, tmp_path: Path) -> None:
    """On deletion the preStop hook runs first (the pod stays, terminating, while it runs), and only once it is
    done does the program get SIGTERM."""
    script = "trap 'echo TERM >> /state/order; exit 0' TERM; while true; do sleep 0.1; done"
    hook = "echo preStop >> /state/order; until [ -e /state/go ]; do sleep 0.1; done"
    manifest = state_dir(pod("stopping", script, terminationGracePeriodSeconds=30), tmp_path)
    manifest["spec"]["containers"][0]["lifecycle"] = {"preStop": {"exec": {"command": ["sh", "-c", hook]}}}
    create(kube, manifest)
    wait_for(lambda: pod_phase(core, "stopping") == "Running", timeout=20)
    kubectl(kube, "delete", "pod", "stopping", "--wait=false")
    order = tmp_path / "order"
    wait_for(lambda: order.exists() and order.read_text() == "preStop\n", timeout=10, what="the preStop hook")
    assert core.read_namespaced_pod("stopping", "default").metadata.deletion_timestamp is not None
    assert order.read_text() == "preStop\n"  # no SIGTERM while the hook runs
    (tmp_path / "go").touch()
    wait_for(lambda: pod_phase(core, "stopping") is None, timeout=20, what="the pod to go")
    assert order.read_text() == "preStop\nTERM\n"


PRE_STOP_SERVER = """
import http.server, signal, sys

def note(line):
    with open("/state/order", "a") as order:
        order.write(line + "\\n")

def terminate(*_):
    note("TERM")
    sys.exit(0)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        note(self.path + " " + self.headers["User-Agent"])
        self.send_response(404)  # the kubelet does not look at a hook's status
        self.end_headers()

signal.signal(signal.SIGTERM, terminate)
http.server.HTTPServer(("", int(sys.argv[1])), Handler).serve_forever()
"""


def test_http_get_and_failing_pre_stop_hooks(kube: KubeEmulator, core: CoreV1Api, tmp_path: Path) -> None:
    """An httpGet preStop GETs the pod's own server (User-Agent kube-lifecycle/1.32) before its SIGTERM; an exec
    preStop that exits 1 writes Warning FailedPreStopHook, and its container is stopped all the same."""
    port = free_port()
    manifest = pod("served", "", terminationGracePeriodSeconds=10)
    manifest["spec"]["containers"] = [
        {"name": "server", "image": HOST_IMAGE, "command": ["python3", "-c", PRE_STOP_SERVER, str(port)],
         "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 1},
         "lifecycle": {"preStop": {"httpGet": {"path": "/prestop", "port": port}}}},
        {"name": "failing", "image": HOST_IMAGE, "command": ["sleep", "4949"],
         "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "exit 1"]}}}}]
    create(kube, state_dir(manifest, tmp_path))
    wait_for(lambda: container(core, "served", "server") and container(core, "served", "server").ready,
             timeout=20, what="the server to listen")
    kubectl(kube, "delete", "pod", "served", "--wait=false")
    wait_for(lambda: pod_phase(core, "served") is None, timeout=30, what="the pod to go")
    assert (tmp_path / "order").read_text() == "/prestop kube-lifecycle/1.32\nTERM\n"
    assert messages(kube, "served", "FailedPreStopHook") == ["PreStopHook failed"]
    assert not processes_running("sleep 4949")


def test_the_grace_period_counts_the_pre_stop_hook(kube: KubeEmulator, core: CoreV1Api, tmp_path: Path) -> None:
    """Hooks that would run for 10 minutes (an exec and a sleep one) with a grace period of 1 s: the kubelet stops
    waiting for them when it ends, gives the programs their SIGTERM (and 2 s), and the pod goes."""
    script = "trap 'echo TERM >> /state/order; exit 0' TERM; while true; do sleep 0.1; done"
    manifest = state_dir(pod("hurried", script, terminationGracePeriodSeconds=1), tmp_path)
    manifest["spec"]["containers"][0]["lifecycle"] = {
        "preStop": {"exec": {"command": ["sh", "-c", "echo preStop >> /state/order; sleep 5050"]}}}
    manifest["spec"]["containers"].append(
        {"name": "napper", "image": HOST_IMAGE, "command": ["sleep", "5151"],
         "lifecycle": {"preStop": {"sleep": {"seconds": 600}}}})
    create(kube, manifest)
    wait_for(lambda: pod_phase(core, "hurried") == "Running", timeout=20)
    kubectl(kube, "delete", "pod", "hurried", "--wait=false")
    wait_for(lambda: pod_phase(core, "hurried") is None, timeout=30, what="the pod to go")
    assert (tmp_path / "order").read_text() == "preStop\nTERM\n"
    assert not processes_running("sleep 5050") and not processes_running("sleep 5151")
    assert messages(kube, "hurried", "FailedPreStopHook") == []  # cut short is not failed
