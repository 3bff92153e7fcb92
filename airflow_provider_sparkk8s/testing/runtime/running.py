"""The containers the local kubelet runs, by namespace, pod and container name: what the kubelet fills and the
pods/exec, pods/attach and pods/portforward endpoints reach.

It also keeps the view of each container that has ended until its pod is removed, as a node keeps an ended
container's filesystem and the pod's volumes: what Argo's executor reads a step's output files from after the
step's program ended.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .container import LocalContainer
from .sandboxing import ContainerView, host_path

MAX_FILE_BYTES = 1 << 20  # read no more of a container's file than this


class RunningContainers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._containers: dict[tuple[str, str], dict[str, LocalContainer]] = {}
        self._ended: dict[tuple[str, str], tuple[str, dict[str, ContainerView]]] = {}  # (pod uid, views)

    def add(self, namespace: str, pod: str, container: str, running: LocalContainer) -> None:
        with self._lock:
            self._containers.setdefault((namespace, pod), {})[container] = running

    def remove_pod(self, namespace: str, pod: str) -> None:
        with self._lock:
            self._containers.pop((namespace, pod), None)

    def discard(self, namespace: str, pod: str, container: str, running: LocalContainer) -> None:
        """Forget ``running`` (it ended), unless the name now stands for another container (a pod recreated
        under the same name, or the container restarted)."""
        with self._lock:
            containers = self._containers.get((namespace, pod), {})
            if containers.get(container) is running:
                del containers[container]
                if not containers:
                    del self._containers[(namespace, pod)]

    def ended(self, namespace: str, pod: str, uid: str, container: str, view: ContainerView) -> None:
        """Keep the view of a container of pod ``uid`` that has ended, until ``forget_pod``."""
        with self._lock:
            current = self._ended.get((namespace, pod))
            if current is None or current[0] != uid:
                current = self._ended[(namespace, pod)] = (uid, {})
            current[1][container] = view

    def forget_pod(self, namespace: str, pod: str, uid: str) -> None:
        """The pod ``uid`` is removed: its ended containers go (not those of a pod recreated under its name)."""
        with self._lock:
            if (self._ended.get((namespace, pod)) or ("",))[0] == uid:
                del self._ended[(namespace, pod)]

    def get(self, namespace: str, pod: str, container: str) -> LocalContainer | None:
        with self._lock:
            return self._containers.get((namespace, pod), {}).get(container)

    def of_pod(self, namespace: str, pod: str) -> dict[str, LocalContainer]:
        with self._lock:
            return dict(self._containers.get((namespace, pod), {}))

    def read_file(self, namespace: str, pod: str, container: str, path: str) -> bytes | None:
        """The file at ``path`` in the container (running, or ended and its pod not removed); None when there is
        no such container or file."""
        with self._lock:
            running = self._containers.get((namespace, pod), {}).get(container)
            view = running.view if running is not None else \
                (self._ended.get((namespace, pod)) or ("", {}))[1].get(container)
        if view is None:
            return None
        try:
            with Path(host_path(view, path)).open("rb") as file:
                return file.read(MAX_FILE_BYTES)
        except OSError:  # missing, a directory, unreadable
            return None
