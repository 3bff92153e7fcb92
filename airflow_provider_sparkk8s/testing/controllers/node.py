"""The kubelet's node registration: the emulator's one Node, Ready, re-registered if it is deleted."""

from __future__ import annotations

import asyncio
import os
import uuid

from .base import ApiClient, Controller, Key
from .support import now_rfc3339

KUBELET_VERSION = "v1.32.0"
POD_CIDR = "10.244.0.0/24"
CONDITIONS = (  # type, status, reason, message, as a healthy kubelet reports them
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def _resources() -> dict[str, str]:
    memory_kib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 1024
    return {"cpu": str(os.cpu_count() or 1), "ephemeral-storage": "102400000Ki", "hugepages-1Gi": "0",
            "hugepages-2Mi": "0", "memory": f"{memory_kib}Ki", "pods": "110"}


class NodeController(Controller):
    api_version = "v1"
    kind = "Node"

    def __init__(self, api: ApiClient, node_name: str, node_ip: str) -> None:
        super().__init__(api)
        self.node_name, self.node_ip = node_name, node_ip

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        super().start(loop)
        self.enqueue(Key("", self.node_name))

    async def reconcile(self, key: Key) -> float | None:
        if key.name != self.node_name or self.api.get("v1", "Node", None, key.name) is not None:
            return None
        node = self.api.create(self.manifest())
        self.api.replace({**node, "status": self.status()}, subresource="status")
        return None

    def manifest(self) -> dict:
        name = self.node_name
        return {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                           "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                           "node-role.kubernetes.io/control-plane": ""},
                "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
            },
            "spec": {"podCIDR": POD_CIDR, "podCIDRs": [POD_CIDR]},
        }

    def status(self) -> dict:
        now = now_rfc3339()
        resources = _resources()
        return {
            "addresses": [{"type": "InternalIP", "address": self.node_ip},
                          {"type": "Hostname", "address": self.node_name}],
            "allocatable": dict(resources), "capacity": dict(resources),
            "conditions": [{"type": kind, "status": status, "lastHeartbeatTime": now, "lastTransitionTime": now,
                            "reason": reason, "message": message} for kind, status, reason, message in CONDITIONS],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": str(uuid.uuid4()),
                         "containerRuntimeVersion": "containerd://1.7.24", "kernelVersion": os.uname().release,
                         "kubeProxyVersion": KUBELET_VERSION, "kubeletVersion": KUBELET_VERSION,
                         "machineID": uuid.uuid4().hex, "operatingSystem": "linux",
                         "osImage": "Debian GNU/Linux 12 (bookworm)", "systemUUID": str(uuid.uuid4())},
            "images": [],
        }
