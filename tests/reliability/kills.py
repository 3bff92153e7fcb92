"""Campaign 3, kills: in a real Airflow deployment (tests/stack.py), a user marks a task failed through the
Airflow REST API (what "Mark failed" in the UI does) while its application runs: a Spark task (every launcher)
or an Argo task (both transports), waiting on the worker (running) or in the triggerer (deferred).

Invariants, per kill: within 5 s of Airflow accepting the user's request (the PATCH returned: before that
Airflow has not recorded the kill, and on the test stack's SQLite the request itself may wait seconds for the
database lock) the application is gone (Spark: no driver pod, launcher pod or SparkApplication left; Argo: the
workflow stopped), every time; the task stays failed; nothing of the task runs afterwards. Figures: kill-to-gone
seconds (p50, p99, max) over every kill, from the request and from its acceptance, and the request's own time.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from tests.reliability import support
from tests.reliability.campaign import Result

DEADLINE = 5.0  # seconds from Airflow accepting the user's request until the application is gone
REPEATS = {"short": 0, "full": 10}  # kills per (target, state) in the full campaign
SHORT = [("pod", False), ("spark-operator", True), ("argo/k8s", False), ("argo/argo-server", True)]
PARALLEL = 2  # kills prepared at once (each measured on its own thread, from its own request)


@dataclass
class Trial:
    number: int
    target: str
    deferrable: bool
    settle: float  # seconds between reaching the state and the kill
    dag_id: str = ""
    took: float | None = None  # from the user's request until the application was gone
    request: float | None = None  # how long Airflow took to accept the request
    state_after: str | None = None

    def summary(self) -> str:
        took = f"{self.took:.2f}s" if self.took is not None else "never"
        request = f" (request {self.request:.2f}s)" if self.request is not None else ""
        return f"{self.describe()}: gone after {took}{request}, task {self.state_after}"

    def describe(self) -> str:
        state = "deferred" if self.deferrable else "running"
        return f"kill {self.number} ({self.target}, {state}, +{self.settle:.2f}s, dag {self.dag_id})"


def plan(size: str, seed: int) -> list[Trial]:
    rng = random.Random(seed * 1000 + 900)
    if size == "short":
        combos = SHORT
    else:
        combos = [(t, d) for _ in range(REPEATS[size]) for t in support.TARGETS for d in (False, True)]
    return [Trial(n, target, deferrable, round(rng.uniform(0, 1.0), 2)) for n, (target, deferrable) in
            enumerate(combos)]


def run_trial(trial: Trial, stack: Any, kube: Any, created: support.Created) -> list[str]:
    """Run the DAG, kill the task in its state, measure until the application is gone. Returns violations."""
    what = trial.describe()
    run_id = support.trigger(stack, trial.dag_id)
    stack.wait(lambda: support.running(kube, support.NS, trial.dag_id, trial.target), 120,
               f"the application of {trial.dag_id} running")
    stack.wait_for_ti(trial.dag_id, run_id, support.TASK, ["deferred" if trial.deferrable else "running"], 120)
    if trial.deferrable:  # a deferred state only means a trigger row exists: wait until the triggerer runs it
        stack.wait(lambda: "Waiting for " in stack.trigger_log(trial.dag_id, run_id, support.TASK), 120,
                   f"the triggerer to run the trigger of {trial.dag_id}")
    time.sleep(trial.settle)
    clicked = time.monotonic()
    stack.set_ti_state(trial.dag_id, run_id, support.TASK, "failed")
    trial.request = time.monotonic() - clicked
    while not support.gone(kube, support.NS, trial.dag_id, trial.target):
        if time.monotonic() - clicked > 30:
            break
        time.sleep(0.02)
    else:
        trial.took = time.monotonic() - clicked
    violations = []
    if trial.took is None:
        violations.append(f"{what}: the application was still there 30s after the kill: "
                          f"{support.leftovers(kube, support.NS, trial.dag_id)}")
    elif trial.took - trial.request > DEADLINE:
        violations.append(f"{what}: the application was gone only {trial.took - trial.request:.2f}s after Airflow "
                          f"accepted the kill ({trial.took:.2f}s after the request)")
    time.sleep(1.0)  # a late retry or a resumed trigger would show up here
    trial.state_after = stack.ti_state(trial.dag_id, run_id, support.TASK)
    if trial.state_after != "failed":
        violations.append(f"{what}: the task is {trial.state_after} after the kill, expected failed")
    still = support.leftovers(kube, support.NS, trial.dag_id)
    if still:
        violations.append(f"{what}: still running after the kill: {still}")
    return violations


def run(size: str, seed: int, stack: Any = None, kube: Any = None) -> Result:
    """`stack` and `kube`: a running AirflowStack and the emulator its connections point at (for instance the
    end-to-end session's); by default an emulator and a stack are started for the campaign."""
    result = Result("kills")
    trials = plan(size, seed)

    def source(trial: Trial) -> str:
        return support.dag_source(trial.dag_id, support.task_source(
            trial.target, succeed=True, run_seconds=None, deferrable=trial.deferrable,
            extra=", kill_action='stop'" if trial.target.startswith("argo/") else ""))

    created = support.run_in_stack("kill", trials, source, run_trial, result, stack=stack, kube=kube,
                                   parallel=PARALLEL)
    done = [t for t in trials if t.took is not None and t.request is not None]
    after_accept = [t.took - t.request for t in done]
    per_combo = {f"{t} {'deferred' if d else 'running'}": sum(1 for x in trials if (x.target, x.deferrable) == (t, d))
                 for t in support.TARGETS for d in (False, True)}
    result.figures.update({
        "kills per target and state": ", ".join(f"{k} {n}" for k, n in per_combo.items() if n),
        "kill-to-gone s, from the request": support.seconds_figures([t.took for t in done]),
        "from its acceptance": support.seconds_figures(after_accept),
        "mark-failed request s": support.seconds_figures([t.request for t in done]),
        f"over {DEADLINE:.0f}s after acceptance": str(sum(1 for d in after_accept if d > DEADLINE)),
        "never gone": str(sum(1 for t in trials if t.dag_id and t.took is None)),
        "duplicates found": str(sum(1 for t in trials if created.overlapping(t.dag_id)
                                    or support.duplicates(created.of(t.dag_id), t.target))),
    })
    return result
