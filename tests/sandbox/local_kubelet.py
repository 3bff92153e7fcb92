"""What the local kubelet's tests share: the image mapping they run with, pod manifests, and what they read back
(pods, Events, the process table)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from kubernetes.client import CoreV1Api

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl, kubectl_json, pod_phase, wait_for

HOST_IMAGE = "busybox:1.36"
MAPPING = {"images": [{"image": "busybox:*", "run": "host"},
                      {"image": "python:3.12", "run": "host", "entrypoint": ["python3"],
                       "commands": {"python": "python3"}},
                      {"image": "legacy/*", "simulate": True}]}


def state_dir(manifest: dict, host_dir: Path) -> dict:
    """``host_dir`` at /state in the pod's containers (a hostPath volume: the containers' /tmp is their own)."""
    manifest["spec"].setdefault("volumes", []).append({"name": "state", "hostPath": {"path": str(host_dir)}})
    for container in manifest["spec"]["containers"]:
        container.setdefault("volumeMounts", []).append({"name": "state", "mountPath": "/state"})
    return manifest


def pod(name: str, script: str, image: str = HOST_IMAGE, **spec: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 2,
                     "containers": [{"name": "main", "image": image, "command": ["sh", "-c", script]}], **spec}}


def create(kube: KubeEmulator, manifest: dict) -> None:
    kubectl(kube, "create", "-f", "-", stdin=json.dumps(manifest))


def finished(core: CoreV1Api, name: str, timeout: float = 20) -> Any:
    wait_for(lambda: pod_phase(core, name) in ("Succeeded", "Failed"), timeout=timeout, what=f"{name} to end")
    return core.read_namespaced_pod(name, "default")


def pod_events(kube: KubeEmulator, name: str) -> list[tuple[str, str]]:
    """(reason, message) of the pod's Events, as kubectl lists them."""
    events = kubectl_json(kube, "get", "events", "--field-selector", f"involvedObject.name={name}")["items"]
    return [(e["reason"], e.get("message", "")) for e in events]


def event_reasons(kube: KubeEmulator, name: str) -> list[str]:
    return [reason for reason, _ in pod_events(kube, name)]


def free_port() -> int:
    """A TCP port nothing listens on now (the pods share the host's network)."""
    with socket.socket() as probe:
        probe.bind(("", 0))
        return int(probe.getsockname()[1])


def processes_running(marker: str) -> list[int]:
    """The processes whose command line holds ``marker``, from the process table (zombies have ended)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                state = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
            except OSError:
                continue
            if marker.encode() in cmdline and state != b"Z":
                found.append(int(entry))
    return found
