"""The containers the local kubelet runs, by namespace, pod and container name: what the kubelet fills and the
pods/exec, pods/attach and pods/portforward endpoints reach."""

from __future__ import annotations

import threading

from .container import LocalContainer


class RunningContainers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._containers: dict[tuple[str, str], dict[str, LocalContainer]] = {}

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

    def get(self, namespace: str, pod: str, container: str) -> LocalContainer | None:
        with self._lock:
            return self._containers.get((namespace, pod), {}).get(container)

    def of_pod(self, namespace: str, pod: str) -> dict[str, LocalContainer]:
        with self._lock:
            return dict(self._containers.get((namespace, pod), {}))
