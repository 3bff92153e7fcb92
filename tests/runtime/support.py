"""What the runtime tests share: an object reader over plain dicts (the API's objects are inputs here), pods, and
the process table."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from airflow_provider_sparkk8s.testing.runtime import (
    ContainerView,
    LocalContainer,
    ObjectReader,
    Volume,
    container_argv,
    container_env,
    volume_mounts,
)
from tests.conftest import require


def bwrap() -> str:
    path = shutil.which("bwrap")
    require(path is not None, "bwrap is not installed (Debian package bubblewrap)")
    return path or "bwrap"


def reader(*objects: dict) -> ObjectReader:
    """Reads the given objects as ApiClient.get reads the store: by kind, namespace and name, None if absent."""
    by_key = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in objects}

    def read(api_version: str, kind: str, namespace: str | None, name: str) -> dict | None:
        return by_key.get((kind, namespace, name))
    return read


def config_map(name: str, data: dict[str, str], namespace: str = "default") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": data}


def secret(name: str, data: dict[str, str], namespace: str = "default") -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
            "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}}


def pod(containers: list[dict], volumes: Iterable[dict] = (), name: str = "p", namespace: str = "default",
        **metadata: object) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": "uid-1", **metadata},
            "spec": {"containers": containers, "volumes": list(volumes), "nodeName": "emulator-node",
                     "serviceAccountName": "default"},
            "status": {"podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}], "hostIP": "127.0.0.1"}}


class Logs:
    """A container's output lines, as the kubelet's callback receives them."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, datetime, str]] = []

    def __call__(self, stream: str, when: datetime, line: str) -> None:
        self.lines.append((stream, when, line))

    def text(self, stream: str = "stdout") -> list[str]:
        return [line for s, _, line in self.lines if s == stream]


def local_container(the_pod: dict, container: dict, volumes: dict[str, Volume], tmp: Path,
                    read: ObjectReader | None = None, logs: Logs | None = None) -> LocalContainer:
    """A container of ``the_pod`` as the kubelet will assemble it: env, argv, mounts, view (host image)."""
    env = container_env(the_pod, container, read or reader()).variables
    view = ContainerView(tmp=tmp, mounts=volume_mounts(container, volumes, env),
                         working_dir=container.get("workingDir", "/"))
    return LocalContainer(view, container_argv(container, env), env, logs, bwrap=bwrap())


def descendants(pid: int) -> set[int]:
    """``pid`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo += children.get(current, [])
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"
