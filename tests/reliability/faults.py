"""Campaign 1, faults: Spark tasks (every launcher: spark-submit, pod, spark-operator) and Argo tasks (both
transports: the Kubernetes API and the Argo Server) run in real Airflow (dag.test) against the emulator under
a random, seeded schedule of API faults: 500 and 503, 429 with Retry-After, dropped, stalled and expired (410)
watches, latency, connection resets before a request is served and after (the response is lost), and token
expiry (the token is rotated mid-run; the kubeconfig and the Argo connection get the new one).

Invariants, per trial, measured on the server side (the emulator's store events and request log):
- the task ends in the state the application or workflow ended in (success or failed);
- exactly one submission (driver pod, launcher pod, SparkApplication or Workflow) and one driver pod per try;
- nothing of the task still runs once the task has ended;
- every retry of a failed request waits at least the Retry-After the server gave, at most the backoff's cap,
  and no request fails more than the retry budget in a row (retries are bounded);
- and over the campaign: the retry delays after 5xx and resets are spread (jitter), not one fixed value.
"""

from __future__ import annotations

import random
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_sparkk8s.testing.faults import Fault, rotate_token
from tests.reliability import support
from tests.reliability.campaign import Result

KINDS = ("500", "503", "429", "drop", "stall", "gone", "latency", "reset", "lost-response", "token")
TRIALS = {"short": 10, "full": 200}
RUN_SECONDS = (1.5, 3.0)  # how long applications and workflows run (the faults land while they do)
ATTEMPTS = 6  # kube_api.call_with_retries: one request is tried at most this many times
BACKOFF_CAP = 30.0  # kube_api.Backoff's cap
MAX_REQUESTS = 600  # more than this in one trial is a retry loop, not a retry
TOKEN = "campaign-token-0"

# What the provider itself asks the API for, per target (spark-submit's own requests are its client's business).
REQUESTS: dict[str, list[tuple[str, str]]] = {
    "spark-submit": [("get", "pods"), ("list", "pods"), ("watch", "pods"), ("get", "pods/log")],
    "pod": [("create", "pods"), ("get", "pods"), ("list", "pods"), ("watch", "pods"), ("get", "pods/log")],
    "spark-operator": [("create", "sparkapplications"), ("get", "sparkapplications"),
                       ("list", "sparkapplications"), ("watch", "sparkapplications"), ("get", "pods/log")],
    "argo/k8s": [("create", "workflows"), ("get", "workflows"), ("list", "workflows"), ("watch", "workflows")],
    "argo/argo-server": [("create", "argo/workflows/submit"), ("get", "argo/workflows"),
                         ("list", "argo/workflows"), ("watch", "argo/workflows")],
}


@dataclass
class Trial:
    number: int
    seed: int
    target: str
    deferrable: bool
    succeed: bool
    run_seconds: float
    faults: list[dict[str, Any]]  # Fault fields; "rotate_token_at" (seconds after the submission): token expiry
    outcome: str | None = None
    submissions: dict[str, dict[str, int]] = field(default_factory=dict)
    requests: int = 0
    fired: int = 0
    retry_delays: list[tuple[str, float, float | None]] = field(default_factory=list)  # (request, delay, asked)
    seconds: float = 0.0

    @property
    def expected(self) -> str:
        return "success" if self.succeed else "failed"

    def describe(self) -> str:
        mode = "deferred" if self.deferrable else "sync"
        return (f"trial {self.number} (seed {self.seed}, {self.target}, {mode}, application "
                f"{'succeeds' if self.succeed else 'fails'} after {self.run_seconds}s, faults {self.faults})")


def schedule(rng: random.Random, target: str, first_kind: str) -> list[dict[str, Any]]:
    """One to three fault rules, the first of kind `first_kind`. Bounded so that the provider's retries can
    absorb them: at most four failures in a row for any one request."""
    kinds = [first_kind] + rng.sample(KINDS, rng.randint(0, 2))
    rules: list[dict[str, Any]] = []
    failing: dict[tuple[str, str], int] = {}
    for kind in dict.fromkeys(kinds):
        verb, resource = rng.choice(REQUESTS[target])
        watch = next(r for v, r in REQUESTS[target] if v == "watch")
        rule: dict[str, Any]
        if kind in ("500", "503", "429", "reset"):
            times = rng.randint(1, 2 if kind == "429" else 3)
            if failing.get((verb, resource), 0) + times > 4:
                continue
            failing[(verb, resource)] = failing.get((verb, resource), 0) + times
            rule = {"verb": verb, "resource": resource, "times": times}
            if kind == "reset":
                rule["reset"] = True
            else:
                rule["status"] = int(kind)
            if kind == "429":
                rule["retry_after"] = rng.choice([1, 2])
        elif kind == "lost-response":  # the server does the work, the client never hears: above all a create
            creates = [r for v, r in REQUESTS[target] if v == "create"]
            rule = {"verb": "create", "resource": creates[0], "reset_after": True, "times": 1} if creates else \
                {"verb": "get", "resource": "pods", "reset_after": True, "times": rng.randint(1, 2)}
        elif kind == "drop":
            rule = {"verb": "watch", "resource": watch, "times": rng.randint(1, 4)}
            if rng.random() < 0.5:
                rule["drop_watch_after_events"] = rng.randint(1, 2)
            else:
                rule["drop_watch_after_seconds"] = round(rng.uniform(0.2, 1.0), 2)
        elif kind == "stall":
            rule = {"verb": "watch", "resource": watch, "times": rng.randint(1, 2),
                    "stall_watch_seconds": round(rng.uniform(1.0, 3.0), 1)}
        elif kind == "gone":
            rule = {"verb": "watch", "resource": watch, "gone": True, "times": rng.randint(1, 3)}
        elif kind == "latency":
            rule = {"verb": verb, "resource": resource, "latency": round(rng.uniform(0.1, 1.0), 2),
                    "times": rng.randint(1, 5)}
        else:  # token
            rule = {"rotate_token_at": round(rng.uniform(0.0, 1.5), 2)}
        rules.append(rule)
    return rules


def plan(size: str, seed: int) -> list[Trial]:
    """The trials: targets in turn, fault kinds in turn (so every pair comes up in the full campaign), the rest
    seeded. The short campaign runs spark-submit (a JVM start, the slowest by far) once."""
    count = TRIALS[size]
    if size == "short":
        others = [t for t in support.TARGETS if t != "spark-submit"]
        targets = ["spark-submit"] + [others[i % len(others)] for i in range(count - 1)]
    else:
        targets = [support.TARGETS[i % len(support.TARGETS)] for i in range(count)]
    trials = []
    for number, target in enumerate(targets):
        rng = random.Random(seed * 1000 + number)
        kind = KINDS[(number + number // len(KINDS)) % len(KINDS)]
        trials.append(Trial(number, seed * 1000 + number, target, deferrable=rng.random() < 0.5,
                            succeed=rng.random() < 0.7, run_seconds=rng.choice(RUN_SECONDS),
                            faults=schedule(rng, target, kind)))
    return trials


def run_trial(trial: Trial, workdir: Path, result: Result) -> None:
    kube, created = support.start_emulator(workdir, token=TOKEN, run_seconds=RUN_SECONDS)
    done = threading.Event()
    try:
        dag_id = support.new_dag_id(f"faults_{trial.number}")
        rotations = [threading.Thread(target=rotate_after_submission, daemon=True,
                                      args=(kube, created, dag_id, trial, spec["rotate_token_at"], done))
                     for spec in trial.faults if "rotate_token_at" in spec]
        rules = [kube.faults.add(Fault(**spec)) for spec in trial.faults if "rotate_token_at" not in spec]
        source = support.dag_source(dag_id, support.task_source(
            trial.target, succeed=trial.succeed, run_seconds=trial.run_seconds, deferrable=trial.deferrable))
        with support.environment(kube.airflow_env()):
            for thread in rotations:
                thread.start()
            ran = support.dag_test(dag_id, source)
        done.set()
        trial.outcome, trial.seconds = ran.state, ran.seconds
        records = kube.requests.snapshot()
        retry_after = {id(r): float(f.retry_after) for r in records if r.status == 429 for f in rules
                       if f.retry_after is not None and (f.verb, f.resource) == (r.verb, r.resource)}
        check(trial, kube, created, dag_id, records, retry_after, rules, ran.output, result)
    finally:
        done.set()
        kube.stop()
    support.progress(f"{trial.describe()}: {trial.outcome} (expected {trial.expected}), submissions "
                     f"{trial.submissions}, {trial.requests} requests, {trial.fired} faults fired, retries "
                     f"(request, delay s, Retry-After) {[(k, round(d, 2), a) for k, d, a in trial.retry_delays]}")


def rotate_after_submission(kube: Any, created: support.Created, dag_id: str, trial: Trial, delay: float,
                            done: threading.Event) -> None:
    """Expire the token `delay` seconds after the application was submitted (while the task waits for it)."""
    kind = support.submission_kind(trial.target)
    while not created.of(dag_id).get(kind):
        if done.wait(0.02):
            return
    if not done.wait(delay):
        rotate(kube)


def rotate(kube: Any) -> None:
    """Token expiry: a new token in the kubeconfig and in the Argo connection (a secrets backend's rotation)."""
    import json
    import os

    rotate_token(kube)
    os.environ["AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT"] = json.dumps(kube.argo_connection())


def check(trial: Trial, kube: Any, created: support.Created, dag_id: str, records: list, retry_after: dict,
          rules: list[Fault], output: str, result: Result) -> None:
    what = trial.describe()
    tail = "\n".join(output.splitlines()[-15:])
    if trial.outcome != trial.expected:
        result.violate(f"{what}: task ended {trial.outcome}, expected {trial.expected}; output tail:\n{tail}")
    trial.submissions = created.of(dag_id)
    kind = support.submission_kind(trial.target)
    if trial.submissions.get(kind, {}).get("1") != 1:
        result.violate(f"{what}: {trial.submissions.get(kind, {})} {kind} creations per try, expected one")
    for duplicate in support.duplicates(trial.submissions, trial.target) + created.overlapping(dag_id):
        result.violate(f"{what}: {duplicate}")
    still = support.leftovers(kube, support.NS, dag_id)
    if still:
        result.violate(f"{what}: still running after the task ended: {still}")
    trial.requests = len(records)
    trial.fired = sum(f.fired for f in rules)
    if trial.requests > MAX_REQUESTS:
        result.violate(f"{what}: {trial.requests} requests, more than {MAX_REQUESTS}")
    longest = support.streaks(records)
    if longest > ATTEMPTS:
        result.violate(f"{what}: one request failed {longest} times in a row (budget {ATTEMPTS})")
    for retry in support.retries(records, retry_after):
        if retry.delay is None:
            continue
        trial.retry_delays.append((retry.key, retry.delay, retry.retry_after))
        if retry.retry_after is not None and retry.delay < retry.retry_after - 0.05:
            result.violate(f"{what}: {retry.key} retried after {retry.delay:.2f}s, the server asked for "
                           f"Retry-After {retry.retry_after:.0f}s")
        if retry.delay > BACKOFF_CAP + 5:
            result.violate(f"{what}: {retry.key} retried after {retry.delay:.1f}s, beyond the backoff cap")


def run(size: str, seed: int) -> Result:
    result = Result("faults")
    trials = plan(size, seed)
    support.airflow_home()
    with tempfile.TemporaryDirectory(prefix="faults-campaign-") as tmp:
        for trial in trials:
            run_trial(trial, Path(tmp) / f"kube-{trial.number}", result)
            result.trials += 1
    summarize(trials, result)
    return result


def summarize(trials: list[Trial], result: Result) -> None:
    per_target = {t: sum(1 for x in trials if x.target == t) for t in support.TARGETS}
    per_kind = {k: sum(1 for x in trials if any(_kind(f) == k for f in x.faults)) for k in KINDS}
    backoff = [d for t in trials for _, d, asked in t.retry_delays if asked is None]
    honoured = [(d, asked) for t in trials for _, d, asked in t.retry_delays if asked is not None]
    if len(backoff) >= 8 and max(backoff) - min(backoff) < 0.01:
        result.violate(f"retry delays after 5xx and resets are all {backoff[0]:.3f}s: no jitter")
    result.figures.update({
        "trials per target": ", ".join(f"{t} {n}" for t, n in per_target.items()),
        "trials per fault kind": ", ".join(f"{k} {n}" for k, n in per_kind.items()),
        "faults fired": str(sum(t.fired for t in trials)),
        "max requests per trial": str(max((t.requests for t in trials), default=0)),
        "backoff delays s": support.seconds_figures(backoff),
        "Retry-After honoured": f"{sum(1 for d, a in honoured if d >= a - 0.05)}/{len(honoured)}"
                                + (f" (min excess {min(d - a for d, a in honoured):.2f}s)" if honoured else ""),
        "duplicates found": str(sum(1 for t in trials if support.duplicates(t.submissions, t.target))),
        "trial seconds": support.seconds_figures([t.seconds for t in trials]),
    })


def _kind(rule: dict[str, Any]) -> str:
    if "rotate_token_at" in rule:
        return "token"
    if rule.get("reset_after"):
        return "lost-response"
    if rule.get("reset"):
        return "reset"
    if rule.get("status"):
        return str(rule["status"])
    if rule.get("gone"):
        return "gone"
    if rule.get("stall_watch_seconds"):
        return "stall"
    if rule.get("latency"):
        return "latency"
    return "drop"
