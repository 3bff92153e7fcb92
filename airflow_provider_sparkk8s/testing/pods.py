"""Simulated pods, from Python: ``KubeEmulator.pods`` steers the kubelet (``controllers/kubelet.py``) and reads
pod logs. What a pod does is chosen by annotations or ``behave`` rules (``controllers/pod_behaviour.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .controllers.kubelet import Kubelet
from .controllers.pod_behaviour import (
    ANNOTATION_PREFIX,
    OUTCOMES,
    ContainerProgram,
    ContainerPrograms,
    PodBehaviour,
    PodBehaviours,
)
from .pod_logs import PodLogs

__all__ = ["ANNOTATION_PREFIX", "OUTCOMES", "ContainerProgram", "PodBehaviour", "Pods"]


class Pods:
    """Behaviour rules, container programs and logs of the simulated pods."""

    def __init__(self, behaviours: PodBehaviours, programs: ContainerPrograms, logs: PodLogs,
                 kubelet: Kubelet) -> None:
        self._behaviours = behaviours
        self._programs = programs
        self._logs = logs
        self._kubelet = kubelet

    @property
    def enabled(self) -> bool:
        """Whether the kubelet runs pods (pods created while it does not stay Pending)."""
        return self._kubelet.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._kubelet.enabled = value

    def behave(self, name: str | None = None, namespace: str | None = None, labels: dict[str, str] | None = None,
               match: Callable[[dict], bool] | None = None, **behaviour: Any) -> None:
        """Make pods created from now on that match (name glob, namespace, labels, predicate) behave so."""
        self._behaviours.behave(name, namespace, labels, match, **behaviour)

    def clear_behaviours(self) -> None:
        self._behaviours.clear()

    def add_program(self, program: ContainerProgram) -> None:
        """Let `program` run the containers of the pods it claims (see ContainerProgram)."""
        self._programs.add(program)

    def logs(self, namespace: str, name: str, container: str | None = None) -> str:
        """The log text the emulator holds for a pod's container (the first container by default)."""
        return self._logs.text(namespace, name, container)

    def write_log(self, namespace: str, name: str, text: str, container: str | None = None) -> None:
        """Append log lines to a pod's container from any thread."""
        self._logs.write(namespace, name, text, container)
