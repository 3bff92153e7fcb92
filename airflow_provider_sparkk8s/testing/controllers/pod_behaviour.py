"""What a simulated pod does, chosen per pod by annotations or by rules set from Python (which win):

  emulator.sparkk8s.io/outcome          succeeded (default) | failed | oomkilled | unschedulable |
                                        imagepullbackoff | running (never finishes)
  emulator.sparkk8s.io/exit-code        exit code of a failed container (default 1)
  emulator.sparkk8s.io/run-seconds      how long the containers run (default: what the container's command
                                        says, see ``container_commands``, else the kubelet's pod_run_seconds)
  emulator.sparkk8s.io/pending-seconds  how long the pod waits before it is scheduled
  emulator.sparkk8s.io/log              log text the containers write while they run
  emulator.sparkk8s.io/executors        executor pods a `spark-role=driver` pod starts (default:
                                        spark.executor.instances from its Spark conf map, else 2)
  emulator.sparkk8s.io/stop-seconds     how long the containers take to stop on SIGTERM (default 0: at
                                        once); past the pod's grace period they are killed

A `ContainerProgram` registered in `ContainerPrograms` can take over what a running pod's container does, e.g.
spark-submit in a launcher pod: it writes the log and its exit code ends the pod. An outcome set explicitly
(annotation or rule) still wins: such a pod runs its timer and the program never starts.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol

ANNOTATION_PREFIX = "emulator.sparkk8s.io/"
OUTCOMES = ("succeeded", "failed", "oomkilled", "unschedulable", "imagepullbackoff", "running")
_INTS = ("exit_code", "executors")
_FLOATS = ("run_seconds", "pending_seconds", "stop_seconds")


@dataclass
class PodBehaviour:
    outcome: str = "succeeded"
    exit_code: int | None = None
    run_seconds: float | None = None
    pending_seconds: float | None = None
    log: str | None = None
    executors: int | None = None
    stop_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {self.outcome!r}")

    @classmethod
    def from_annotations(cls, annotations: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(cls):
            raw = annotations.get(ANNOTATION_PREFIX + f.name.replace("_", "-"))
            if raw is None:
                continue
            try:
                if f.name in _INTS:
                    out[f.name] = int(raw)
                elif f.name in _FLOATS:
                    out[f.name] = float(raw)
                else:
                    out[f.name] = raw.strip().lower() if f.name == "outcome" else raw
            except ValueError:
                continue  # a malformed annotation falls back to the default, as unknown annotations do
        return out


@dataclass
class _Rule:
    name: str | None
    namespace: str | None
    labels: dict[str, str]
    match: Callable[[dict], bool] | None
    behaviour: dict[str, Any]

    def applies(self, pod: dict) -> bool:
        meta = pod["metadata"]
        if self.name and not fnmatch.fnmatchcase(meta["name"], self.name):
            return False
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        labels = meta.get("labels") or {}
        if any(labels.get(k) != v for k, v in self.labels.items()):
            return False
        return self.match is None or bool(self.match(pod))


class PodBehaviours:
    """The rules set from Python, and the behaviour they and a pod's annotations give it."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []

    def behave(self, name: str | None = None, namespace: str | None = None, labels: dict[str, str] | None = None,
               match: Callable[[dict], bool] | None = None, **behaviour: Any) -> None:
        """Make pods created from now on that match (name glob, namespace, labels, predicate) behave so."""
        PodBehaviour(**behaviour)  # validate now, at the caller
        self._rules.insert(0, _Rule(name, namespace, labels or {}, match, behaviour))

    def clear(self) -> None:
        self._rules.clear()

    def explicit(self, pod: dict) -> dict[str, Any]:
        """The settings the pod's annotations and the first matching rule give, nothing defaulted."""
        settings = PodBehaviour.from_annotations(pod["metadata"].get("annotations") or {})
        rule = next((r for r in self._rules if r.applies(pod)), None)
        if rule is not None:
            settings.update(rule.behaviour)
        return settings

    def resolve(self, pod: dict) -> tuple[PodBehaviour, set[str]]:
        """The pod's behaviour (unset fields None) and the names of the fields set explicitly."""
        settings = self.explicit(pod)
        try:
            behaviour = PodBehaviour(**settings)
        except ValueError:
            settings.pop("outcome", None)
            behaviour = PodBehaviour(**settings)
        return behaviour, set(settings)


class ContainerProgram(Protocol):
    """What a pod's container runs when it is more than a timer.

    `claims` sees a pod when it starts running; the first program that claims it gets `run`, which writes the
    container's log through `log` and returns its exit code (None: the program never exits, e.g. its pod was
    deleted). A program stops on SIGTERM by returning once its pod has a deletionTimestamp; one still running
    at the end of the grace period is cancelled. `behaviour` is the pod's simulated behaviour (run_seconds, ...).
    """

    def claims(self, pod: dict) -> bool: ...

    async def run(self, pod: dict, log: Callable[[str], None], behaviour: PodBehaviour) -> int | None: ...


class ContainerPrograms:
    """The registered container programs, asked in the order they were added."""

    def __init__(self) -> None:
        self._programs: list[ContainerProgram] = []

    def add(self, program: ContainerProgram) -> None:
        self._programs.append(program)

    def for_pod(self, pod: dict) -> ContainerProgram | None:
        return next((p for p in self._programs if p.claims(pod)), None)
