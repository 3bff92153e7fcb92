"""pods/exec, pods/attach and pods/portforward of a simulated pod: the error a real API server answers.

The real server checks the request against the pod (pkg/registry/core/pod/strategy.go, streamLocation and
PortForwardLocation) and then proxies it to the kubelet of the pod's node. A simulated pod runs nowhere, so the
answer is the one a real server gives when that node's kubelet cannot be reached: a 500 whose message starts with
`error dialing backend:`; its text says why. The checks before it are the real ones, with their 400s:
- exec and attach: `a container name must be specified for pod P, choose one of: [a b]` (no container named and
  more than one), `container C is not valid for pod P` (no such container);
- all three: `pod P does not have a host assigned` (not scheduled yet).
kubectl reads the Status from the failed websocket handshake, falls back to SPDY, and prints it from that answer
(`Error from server ...`, exit code 1).
"""

from __future__ import annotations

from . import errors

STREAM_SUBRESOURCES = ("exec", "attach", "portforward")


def stream_refusal(pod: dict, subresource: str, container: str | None) -> errors.ApiError:
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    if subresource != "portforward":
        containers = [c.get("name", "") for c in spec.get("containers") or []]
        inits = [c.get("name", "") for c in spec.get("initContainers") or []]
        if not container:
            if not containers:
                return errors.bad_request(f"a container name must be specified for pod {name}")
            if len(containers) > 1:
                message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
                if inits:
                    message += f" or one of the init containers: [{' '.join(inits)}]"
                return errors.bad_request(message)
        elif container not in containers + inits + [c.get("name") for c in spec.get("ephemeralContainers") or []]:
            return errors.bad_request(f"container {container} is not valid for pod {name}")
    node = spec.get("nodeName")
    if not node:
        return errors.bad_request(f"pod {name} does not have a host assigned")
    # StatusReasonUnknown is the empty reason: what a proxy error becomes.
    return errors.ApiError(500, "", f'error dialing backend: pod "{name}" is simulated: node "{node}" of the '
                                    "Kubernetes API emulator runs no containers, so there is nothing to exec into, "
                                    "attach to or forward ports to")
