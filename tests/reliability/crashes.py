"""Campaign 2, crashes: in a real Airflow deployment (tests/stack.py), the task process of a Spark task (every
launcher) or an Argo task (both transports) is killed with SIGKILL at a random point: before it submits, just
after, while it waits for the application, while it streams the driver's log. No on_kill can run; Airflow
retries the task (retries=2) and the retry must find what the dead try left.

Invariants, per trial: the task ends in the state the application ended in (success or failed); no try
submits more than once; two applications of one task never run at the same time (a retry adopts the running
one instead of submitting a second); nothing of the task still runs once it has ended.
"""

from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from tests.reliability import support
from tests.reliability.campaign import Result

TRIALS = {"short": 3, "full": 50}
PARALLEL = 4  # trials at once in the stack (each is one DAG run)
POINTS = ("before-submit", "submitting", "after-submit", "waiting", "logs")
RUN_SECONDS = (6.0, 9.0, 12.0)
RETRIES = 2
TIMEOUT = 600.0  # one trial, from trigger to the task's end (generous: a loaded machine starts tasks slowly)
POINT_TIMEOUT = 120.0  # until the task process starts, then until its kill point


@dataclass
class Trial:
    number: int
    seed: int
    target: str
    deferrable: bool
    point: str
    succeed: bool
    run_seconds: float
    extra_delay: float  # seconds between reaching the point and the kill
    dag_id: str = ""
    outcome: str | None = None
    tries: int = 0
    submitted_before_kill: int = 0
    submissions: dict[str, dict[str, int]] = field(default_factory=dict)
    overlaps: list[str] = field(default_factory=list)
    killed: bool = False
    seconds: float = 0.0

    @property
    def expected(self) -> str:
        return "success" if self.succeed else "failed"

    def summary(self) -> str:
        return (f"{self.describe()}: {self.outcome} after {self.tries} tries (expected {self.expected}), "
                f"{self.submitted_before_kill} submitted before the kill, submissions {self.submissions}")

    def describe(self) -> str:
        mode = "deferred" if self.deferrable else "sync"
        return (f"trial {self.number} (seed {self.seed}, {self.target}, {mode}, SIGKILL {self.point} "
                f"+{self.extra_delay:.2f}s, application {'succeeds' if self.succeed else 'fails'} after "
                f"{self.run_seconds}s, dag {self.dag_id})")


def points_for(target: str, deferrable: bool) -> tuple[str, ...]:
    """Where a task process can be killed: "submitting" is while spark-submit runs (the other launchers submit
    with one request); a deferred task has no process while it waits; the Argo operator reads logs only once
    the workflow has ended."""
    points = [p for p in POINTS if p != "submitting" or target == "spark-submit"]
    if deferrable:
        points = [p for p in points if p not in ("waiting", "logs")]
    elif target.startswith("argo/"):
        points.remove("logs")
    return tuple(points)


def plan(size: str, seed: int) -> list[Trial]:
    trials = []
    for number in range(TRIALS[size]):
        rng = random.Random(seed * 1000 + 500 + number)
        if size == "short":  # a cheap cross-section: pod launcher while streaming logs, Argo Server deferred, ...
            target, deferrable = [("pod", False), ("argo/argo-server", True), ("spark-operator", False)][number % 3]
            point = ["logs", "after-submit", "waiting"][number % 3]
        else:
            target = support.TARGETS[number % len(support.TARGETS)]
            deferrable = rng.random() < 0.35
            point = rng.choice(points_for(target, deferrable))
        # A deferring task process exits right after it submits: kill it at once there, or the kill comes too late.
        late = 0.05 if deferrable and point == "after-submit" else 0.8
        trials.append(Trial(number, seed * 1000 + 500 + number, target, deferrable, point,
                            succeed=rng.random() < 0.75, run_seconds=rng.choice(RUN_SECONDS),
                            extra_delay=round(rng.uniform(0, late), 2)))
    return trials


def reached(trial: Trial, kube: Any, created: support.Created, since: float, pid: int) -> bool:
    """Whether the trial's kill point has come."""
    kind = support.submission_kind(trial.target)
    if trial.point == "before-submit":
        return True
    if trial.point == "submitting":
        return bool(support.children(pid))
    submitted = bool(created.of(trial.dag_id).get(kind))
    if trial.point == "after-submit":
        return submitted
    if not support.running(kube, support.NS, trial.dag_id, trial.target):
        return False
    open_requests = [r for r in kube.requests.snapshot() if r.status == 0 and r.started >= since]
    if trial.point == "waiting":
        return any(r.verb == "watch" for r in open_requests)
    return any(r.resource == "pods/log" and "follow=true" in r.query for r in open_requests)


def run_trial(trial: Trial, stack: Any, kube: Any, created: support.Created) -> list[str]:
    """Run the DAG, kill its task process at the trial's point, wait for the task's end. Returns violations."""
    result = Result("crashes")
    began = time.monotonic()
    run_id = support.trigger(stack, trial.dag_id)
    pid = support.wait_for_task_process(stack, trial.dag_id, run_id, POINT_TIMEOUT)
    since = time.time()
    deadline = time.monotonic() + POINT_TIMEOUT
    while not reached(trial, kube, created, since, pid):
        if time.monotonic() > deadline:
            result.violate(f"{trial.describe()}: the kill point never came")
            break
        time.sleep(0.02)
    else:
        time.sleep(trial.extra_delay)
        trial.submitted_before_kill = sum(created.of(trial.dag_id).get(support.submission_kind(trial.target),
                                                                       {}).values())
        try:
            os.kill(pid, signal.SIGKILL)
            trial.killed = True
        except ProcessLookupError:
            pass  # it had already finished: the trial still checks the outcome
    ended = stack.wait(lambda: _ended(stack, trial.dag_id, run_id), TIMEOUT, f"{trial.dag_id} to end", interval=0.5)
    trial.outcome, trial.tries = ended["state"], ended.get("try_number") or 0
    trial.seconds = time.monotonic() - began
    check(trial, kube, created, result)
    return result.violations


def _ended(stack: Any, dag_id: str, run_id: str) -> dict | None:
    ti = stack.ti(dag_id, run_id, support.TASK)
    return ti if ti.get("state") in ("success", "failed") else None


def check(trial: Trial, kube: Any, created: support.Created, result: Result) -> None:
    what = trial.describe()
    if not trial.killed:  # it deferred (or ended) first: the outcome is still checked, the kill is counted as missed
        support.progress(f"{what}: the task process was gone before the kill")
    if trial.outcome != trial.expected:
        result.violate(f"{what}: task ended {trial.outcome} after {trial.tries} tries, expected {trial.expected}")
    trial.submissions = created.of(trial.dag_id)
    for duplicate in support.duplicates(trial.submissions, trial.target):
        result.violate(f"{what}: {duplicate}")
    trial.overlaps = created.overlapping(trial.dag_id)
    for overlap in trial.overlaps:
        result.violate(f"{what}: {overlap}")
    still = _wait_leftovers(kube, trial.dag_id)
    if still:
        result.violate(f"{what}: still running after the task ended: {still}")


def _wait_leftovers(kube: Any, dag_id: str, grace: float = 5.0) -> list[str]:
    """What still runs, allowing the cleanup that follows the task's end a few seconds."""
    deadline = time.monotonic() + grace
    while True:
        still = support.leftovers(kube, support.NS, dag_id)
        if not still or time.monotonic() > deadline:
            return still
        time.sleep(0.2)


def run(size: str, seed: int, stack: Any = None, kube: Any = None) -> Result:
    """`stack` and `kube`: a running AirflowStack and the emulator its connections point at (for instance the
    end-to-end session's); by default an emulator and a stack are started for the campaign."""
    result = Result("crashes")
    trials = plan(size, seed)

    def source(trial: Trial) -> str:
        return support.dag_source(trial.dag_id, support.task_source(
            trial.target, succeed=trial.succeed, run_seconds=trial.run_seconds, deferrable=trial.deferrable,
            retries=RETRIES))

    support.run_in_stack("crash", trials, source, run_trial, result, stack=stack, kube=kube, parallel=PARALLEL,
                         run_seconds=RUN_SECONDS)
    summarize(trials, result)
    return result


def summarize(trials: list[Trial], result: Result) -> None:
    per_point = {p: sum(1 for t in trials if t.point == p) for p in POINTS}
    per_target = {t: sum(1 for x in trials if x.target == t) for t in support.TARGETS}
    adopted = sum(1 for t in trials if t.submitted_before_kill and t.tries > 1
                  and sum(t.submissions.get(support.submission_kind(t.target), {}).values()) == 1)
    result.figures.update({
        "trials per kill point": ", ".join(f"{p} {n}" for p, n in per_point.items()),
        "trials per target": ", ".join(f"{t} {n}" for t, n in per_target.items() if n),
        "deferred": str(sum(1 for t in trials if t.deferrable)),
        "kills that came too late (process gone)": str(sum(1 for t in trials if t.dag_id and not t.killed)),
        "retries that adopted the running application": str(adopted),
        "duplicates found": str(sum(1 for t in trials if support.duplicates(t.submissions, t.target)
                                    or t.overlaps)),
        "trial seconds": support.seconds_figures([t.seconds for t in trials if t.seconds]),
    })
