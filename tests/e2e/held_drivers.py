"""Spark driver pods that run until the test lets them finish, for the end-to-end tests: a test that needs a
driver still running across a restart or a retry, and then ending, waits for exactly that instead of a fixed
run time (which a loaded machine may outlast, and which every run of the test has to sit out)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from airflow_provider_sparkk8s.identity import PREFIX, ROLE, label_value
from airflow_provider_sparkk8s.testing.pods import PodBehaviour

POLL_SECONDS = 0.05
DAG_ID = PREFIX + "dag-id"  # the label the provider gives every pod of a DAG's tasks


class HeldDrivers:
    """A container program (KubeEmulator.pods.add_program) for the driver pods of the DAGs given to `hold`
    (before their runs start): they run, with a driver's log, until `release`, then succeed. A held driver must
    have no explicit outcome (annotation or behaviour rule): an explicit outcome runs the pod's timer instead."""

    def __init__(self) -> None:
        self._released: dict[str, threading.Event] = {}

    def hold(self, dag_id: str) -> None:
        self._released[label_value(dag_id)] = threading.Event()

    def release(self, dag_id: str) -> None:
        self._released[label_value(dag_id)].set()

    def release_all(self) -> None:
        for released in self._released.values():
            released.set()

    def claims(self, pod: dict) -> bool:
        labels = pod["metadata"].get("labels") or {}
        return labels.get(ROLE) == "driver" and labels.get(DAG_ID) in self._released

    async def run(self, pod: dict, log: Callable[[str], None], behaviour: PodBehaviour) -> int | None:
        released = self._released[pod["metadata"]["labels"][DAG_ID]]
        log("INFO SparkContext: Running Spark version 4.0.1")
        while not released.is_set():
            await asyncio.sleep(POLL_SECONDS)
        log("INFO SparkContext: Successfully stopped SparkContext")
        return 0
