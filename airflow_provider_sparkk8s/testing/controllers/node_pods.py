"""What a kubelet does to the pods of its node through the API, shared by the simulated kubelet and the local pod
workers: read a pod (the same pod: same uid), write its status, write Events about it, and the pod conditions.

An Event the kubelet has already written (same pod, type, reason and message) is written again as client-go's
event recorder does: its ``count`` goes up and its ``lastTimestamp`` moves (kubectl: ``x3 over 2m``), instead of a
new Event; a failing probe reports each try that way."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable

from .. import errors
from ..store import now_rfc3339
from .base import ApiClient

NODE_NAME = "emulator-node"
NODE_IP = "127.0.0.1"  # the node's InternalIP, which is every pod's hostIP
REPEATS_KEPT = 4096  # client-go's event recorder remembers that many Events to count their repeats


def condition(kind: str, status: str = "True", reason: str | None = None) -> dict:
    cond = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": now_rfc3339()}
    if reason:
        cond["reason"] = reason
    return cond


class NodePods:
    """The API calls of one node's kubelet about its pods."""

    def __init__(self, api: ApiClient, node_name: str = NODE_NAME) -> None:
        self.api = api
        self.node_name = node_name
        self._written: OrderedDict[tuple[str, ...], str] = OrderedDict()  # an Event's identity: its name

    def current(self, pod: dict) -> dict | None:
        """The pod as it is now, None when it is gone or was replaced by a pod of the same name."""
        meta = pod["metadata"]
        current = self.api.get("v1", "Pod", meta.get("namespace"), meta["name"])
        if current is None or current["metadata"]["uid"] != meta["uid"]:
            return None
        return current

    def write_status(self, pod: dict, mutate: Callable[[dict], None]) -> dict | None:
        current = self.current(pod)
        if current is None:
            return None
        status = current.get("status") or {}
        mutate(status)
        current["status"] = status
        try:
            return self.api.replace(current, subresource="status")
        except errors.ApiError:  # changed or deleted meanwhile: the next event tells
            return None

    def event(self, pod: dict, reason: str, message: str, type_: str = "Normal", component: str = "kubelet") -> None:
        meta = pod["metadata"]
        now = now_rfc3339()
        node = self.node_name
        identity = (component, meta["uid"], type_, reason, message)
        if self._count_again(identity, meta.get("namespace"), now):
            return
        name = f"{meta['name']}.{uuid.uuid4().hex[:16]}"
        try:
            self.api.create({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": meta.get("namespace")},
                "involvedObject": {"kind": "Pod", "apiVersion": "v1", "namespace": meta.get("namespace"),
                                   "name": meta["name"], "uid": meta["uid"]},
                "reason": reason, "message": message, "type": type_,
                "source": {"component": component, **({"host": node} if component == "kubelet" else {})},
                "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                "reportingComponent": component, "reportingInstance": node,
            })
        except errors.ApiError:  # the namespace is going away
            return
        self._written[identity] = name
        while len(self._written) > REPEATS_KEPT:
            self._written.popitem(last=False)

    def _count_again(self, identity: tuple[str, ...], namespace: str | None, now: str) -> bool:
        """Count a repeat on the Event first written for ``identity``; False when there is none (any more)."""
        name = self._written.get(identity)
        if name is None:
            return False
        event = self.api.get("v1", "Event", namespace, name)
        if event is None:  # deleted meanwhile (its TTL): a new one is written
            del self._written[identity]
            return False
        try:
            self.api.patch("v1", "Event", namespace, name, {"count": (event.get("count") or 1) + 1,
                                                            "lastTimestamp": now})
        except errors.ApiError:
            return False
        self._written.move_to_end(identity)
        return True

    def image_pull_failed(self, pod: dict, image: str) -> str:
        """The Events of a failed pull (a kubelet's ErrImagePull); the container's waiting message, the runtime's
        error itself."""
        self.event(pod, "Pulling", f'Pulling image "{image}"')
        self.event(pod, "Failed", f'Failed to pull image "{image}": {_pull_error(image)}', "Warning")
        self.event(pod, "Failed", "Error: ErrImagePull", "Warning")
        return _pull_error(image)

    def image_pull_backing_off(self, pod: dict, image: str) -> str:
        """The Events of the back-off between pulls (ImagePullBackOff); the container's waiting message, which since
        1.32 carries the previous pull's error (as KubernetesPodOperator expects when it decides to fail fast)."""
        # The kubelet's image manager records the back-off itself as Normal; the container's error is the Warning.
        self.event(pod, "BackOff", f'Back-off pulling image "{image}"', "Normal")
        self.event(pod, "Failed", "Error: ImagePullBackOff", "Warning")
        return f'Back-off pulling image "{image}": ErrImagePull: {_pull_error(image)}'


def _pull_error(image: str) -> str:
    """What containerd answers a pull of an image no registry has."""
    return f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": not found'
