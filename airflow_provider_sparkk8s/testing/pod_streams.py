"""pods/exec, pods/attach and pods/portforward: checked as the API server checks them, then served into the
containers that run locally (pod_exec.py, pod_exec_spdy.py, pod_portforward.py, pod_portforward_spdy.py), or
refused for a simulated pod.

The real server checks the request against the pod (pkg/registry/core/pod/strategy.go, streamLocation and
PortForwardLocation) and then proxies it to the kubelet of the pod's node. The checks are the real ones, with
their 400s:
- exec and attach: `a container name must be specified for pod P, choose one of: [a b]` (no container named and
  more than one), `container C is not valid for pod P` (no such container);
- all three: `pod P does not have a host assigned` (not scheduled yet).

Then, as the kubelet answers: a container that is not running (the pod is not Running, or the local kubelet runs
the pod's other containers only) is a 500 whose plain-text body is `container not found ("C")`, which kubectl
prints as `error: unable to upgrade connection: container not found ("C")`. A container of the local runtime
(``KubeEmulator.containers``) is served, over the transports below. A simulated pod runs nowhere, so its answer
is the one a real server gives when the node's kubelet cannot be reached: a 500 whose message starts with
`error dialing backend:`; its text says why. kubectl reads the Status from the failed websocket handshake, falls
back to SPDY, and prints it from that answer (`Error from server ...`, exit code 1).

Exec and attach are served over websockets (``v5.channel.k8s.io`` for kubectl 1.32's exec, attach and cp, v4
and v5 for the python clients) and over an HTTP upgrade to ``SPDY/3.1`` (pod_exec_spdy.py: protocols
``v4.channel.k8s.io`` down to ``channel.k8s.io``), which kubectl falls back to when the websocket upgrade is
refused (RBAC: a websocket GET needs create as well as get, see rbac.py) and uses at once with
``KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false``; a request that upgrades to neither gets a 400 that says what is
served. Port-forward is served over every transport a client uses: the websocket protocol
``v4.channel.k8s.io`` (the python clients), SPDY tunnelled in a websocket (``SPDY/3.1+portforward.k8s.io``,
kubectl 1.32's first choice), and an HTTP upgrade to ``SPDY/3.1`` with ``X-Stream-Protocol-Version:
portforward.k8s.io`` (kubectl's fallback, and its way with ``KUBECTL_PORT_FORWARD_WEBSOCKETS=false``).
"""

from __future__ import annotations

from aiohttp import web

from . import errors, pod_exec_spdy
from .pod_exec import StreamOptions, run_attach, run_exec, serve_attach, serve_exec
from .pod_portforward import requested_ports, serve_portforward
from .pod_portforward_spdy import TUNNEL_PROTOCOL, is_tunnel, serve_tunnel, serve_upgrade
from .runtime import RunningContainers
from .spdy_connection import is_spdy_upgrade
from .stream_channels import EXEC_PROTOCOLS, PORTFORWARD_PROTOCOLS

STREAM_SUBRESOURCES = ("exec", "attach", "portforward")


async def serve_stream(request: web.Request, containers: RunningContainers, pod: dict,
                       subresource: str) -> web.StreamResponse:
    namespace, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
    query = request.query
    if subresource == "portforward":
        _require_host(pod)
        if not containers.of_pod(namespace, name):
            raise _simulated(pod)
        if is_tunnel(request):
            return await serve_tunnel(request, pod)
        if is_spdy_upgrade(request):
            return await serve_upgrade(request, pod)
        _require_websocket(request, PORTFORWARD_PROTOCOLS, also=f"{TUNNEL_PROTOCOL} and SPDY/3.1 upgrades")
        return await serve_portforward(request, pod, requested_ports(query.getall("ports", [])))
    container = _container_name(pod, query.get("container"))
    _require_host(pod)
    running = containers.get(namespace, name, container)
    if running is None:
        if containers.of_pod(namespace, name) or (pod.get("status") or {}).get("phase") != "Running":
            # The kubelet's own answer (streaming.WriteError), plain text, which the API server passes on.
            return web.Response(status=500, text=f'container not found ("{container}")')
        raise _simulated(pod)
    options = StreamOptions.from_query(query)
    if not (options.stdin or options.stdout or options.stderr):
        raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    command = query.getall("command", [])
    if subresource == "exec" and not command:
        raise errors.bad_request("you must specify at least one command for the container")
    if is_spdy_upgrade(request):
        if subresource == "attach":
            return await pod_exec_spdy.serve_upgrade(request, options,
                                                     lambda streams: run_attach(streams, running, options))
        return await pod_exec_spdy.serve_upgrade(request, options,
                                                 lambda streams: run_exec(streams, running, command, options))
    _require_websocket(request, EXEC_PROTOCOLS, also=f"SPDY/3.1 upgrades ({', '.join(pod_exec_spdy.PROTOCOLS)})")
    if subresource == "attach":
        return await serve_attach(request, running, options)
    return await serve_exec(request, running, command, options)


def _container_name(pod: dict, container: str | None) -> str:
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    containers = [c.get("name", "") for c in spec.get("containers") or []]
    inits = [c.get("name", "") for c in spec.get("initContainers") or []]
    if not container:
        if not containers:
            raise errors.bad_request(f"a container name must be specified for pod {name}")
        if len(containers) > 1:
            message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
            if inits:
                message += f" or one of the init containers: [{' '.join(inits)}]"
            raise errors.bad_request(message)
        return containers[0]
    if container not in containers + inits + [c.get("name") for c in spec.get("ephemeralContainers") or []]:
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    return container


def _require_host(pod: dict) -> None:
    if not (pod.get("spec") or {}).get("nodeName"):
        raise errors.bad_request(f"pod {pod['metadata']['name']} does not have a host assigned")


def _require_websocket(request: web.Request, protocols: tuple[str, ...], also: str) -> None:
    """A websocket upgrade for one of ``protocols`` (or none named); else the 400 that says what is served."""
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
    if request.headers.get("Upgrade", "").lower() != "websocket" or (offered and not set(offered) & set(protocols)):
        raise errors.bad_request("the Kubernetes API emulator serves this subresource over websockets "
                                 f"(subprotocols {', '.join(protocols)}) and {also}")


def _simulated(pod: dict) -> errors.ApiError:
    name, node = pod["metadata"]["name"], pod["spec"]["nodeName"]
    # StatusReasonUnknown is the empty reason: what a proxy error becomes.
    return errors.ApiError(500, "", f'error dialing backend: pod "{name}" is simulated: node "{node}" of the '
                                    "Kubernetes API emulator runs no containers, so there is nothing to exec into, "
                                    "attach to or forward ports to")
