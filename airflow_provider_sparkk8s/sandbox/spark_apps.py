"""What the sandbox reports of the Spark applications its cluster ran (``master: cluster``), read from the cluster
itself: each driver pod (``spark-role=driver``) from its creation to its end, and the executor pods that
claimed it (``spark-app-selector``), which Spark may delete before the driver ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .local_spark import driver_args

TERMINAL = ("Succeeded", "Failed")


@dataclass
class ClusterRun:
    """One driver pod and what ran for it."""

    namespace: str
    pod: str
    spark_app_id: str
    resource: str
    started: float
    executors: set[str] = field(default_factory=set)  # executor pod names
    exit_code: int | None = None
    seconds: float | None = None
    history_url: str | None = None


class SparkApps:
    """A listener of the emulator's store (``store.add_listener``) that keeps a ``ClusterRun`` per driver pod."""

    def __init__(self, history_page: Callable[[str], str] | None = None,
                 simulated: Callable[[dict], str | None] = lambda pod: None) -> None:
        self.history_page = history_page
        self.why_simulated = simulated  # why a driver pod is simulated rather than run here, or None
        self.runs: list[ClusterRun] = []
        self.simulated: list[tuple[str, str]] = []  # (namespace/pod, why) of the driver pods simulated
        self._by_app: dict[str, ClusterRun] = {}
        self._lock = threading.Lock()

    def __call__(self, event_type: str, rt: Any, obj: dict, old: dict | None) -> None:
        if rt.plural != "pods" or rt.group:
            return
        labels = obj["metadata"].get("labels") or {}
        role, app_id = labels.get("spark-role"), labels.get("spark-app-selector")
        if not app_id or role not in ("driver", "executor"):
            return
        with self._lock:
            run = self._by_app.get(app_id)
            if role == "driver" and run is None and event_type == "ADDED":
                why = self.why_simulated(obj)
                if why is not None:
                    self.simulated.append((f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}", why))
                    return
                resource = (driver_args(obj) or (None, None, []))[1] or ""
                run = self._by_app[app_id] = ClusterRun(obj["metadata"].get("namespace", ""), obj["metadata"]["name"],
                                                        app_id, resource, time.monotonic())
                if self.history_page is not None:
                    run.history_url = self.history_page(app_id)
                self.runs.append(run)
            if run is None:
                return
            if role == "executor":
                run.executors.add(obj["metadata"]["name"])
            elif run.exit_code is None and (obj.get("status") or {}).get("phase") in TERMINAL:
                run.seconds = time.monotonic() - run.started
                run.exit_code = _exit_code(obj)


def _exit_code(pod: dict) -> int:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated is not None:
            return int(terminated.get("exitCode", 0))
    return 0 if pod["status"]["phase"] == "Succeeded" else 1
