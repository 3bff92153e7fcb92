"""The one way our operators' `on_kill` reaches the cluster."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

KILL_CALL_TIMEOUT = 30.0  # seconds on_kill waits for its cluster calls


def run_on_kill(what: str, call: Callable[[], Iterable[str]], log: Any) -> None:
    """Run a kill handler's cluster calls on a thread of its own, wait for them up to KILL_CALL_TIMEOUT, and log
    what they did (the lines `call` returns), or why they failed (on_kill must not raise).

    SIGTERM runs on_kill on the task's main thread, interrupting the wait's event loop there: the calls need a
    loop (a thread) of their own. `call` must not look the connection up again (``lookup=False`` on our hooks):
    SIGTERM may have interrupted the main thread in the middle of a request to Airflow's supervisor, which a
    lookup would wait for until the task is SIGKILLed.
    """

    def run() -> None:
        try:
            for line in call():
                log.info("%s", line)
        except Exception as exc:  # noqa: BLE001 - on_kill must not raise
            log.error("Could not %s: %s", what, exc)

    worker = threading.Thread(target=run, name="sparkk8s-on-kill", daemon=True)
    worker.start()
    worker.join(timeout=KILL_CALL_TIMEOUT)
