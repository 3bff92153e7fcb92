"""Deferred waits held by a real `airflow triggerer`: this provider's triggers against the cncf.kubernetes
provider's KubernetesPodTrigger, side by side in one run, against the Kubernetes API emulator.

Kinds:
  ours-spark    SparkK8sTrigger on a Running Spark driver pod (spark-submit launcher)
  ours-argo     ArgoWorkflowTrigger (Kubernetes transport) on a Running Argo Workflow
  upstream-pod  KubernetesPodTrigger with its defaults (poll_interval 2 s) on the same kind of driver pod: what
                both KubernetesPodOperator(deferrable=True) and SparkKubernetesOperator(deferrable=True) defer to

For each N and kind: N deferred task instances are seeded into the metadata DB (one DagRun each, its task
instance DEFERRED on a Trigger row made from the trigger object) and a fresh `airflow triggerer` runs them.
Once every trigger is waiting (see warm_up), a --window second window measures the API requests the emulator
received, its open watches, and the triggerer's process tree (supervisor and trigger-runner child): RSS and
CPU seconds. Then the objects are made terminal through the API (--finish-rate per second) and the detection
latency is measured per task.

The emulator (`sparkk8s emulator --no-pods`) runs as its own process, so it has its own core.

Run:  .venv/bin/python benchmarks/triggerer_load.py [--n 1,100,1000] [--window 60] [--json out.json]
      .venv/bin/python benchmarks/triggerer_load.py --quick      (N=1,20, 15 s window: a smoke test)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _triggerer_support as support  # noqa: E402 - a sibling module, found through the path set above

# A log line each trigger writes right before it starts waiting (the triggerer's per-task trigger log).
READY_MARKERS = {"ours-spark": "Waiting for driver pod", "ours-argo": "Waiting for workflow",
                 "upstream-pod": "Checking pod"}
FIRED = "Trigger fired event"
DB_POLL = 0.05  # seconds between "any task still deferred?" queries during the latency phase
COLUMNS = ["kind", "N", "API requests/min", "requests/min per task", "open watches",
           "event recorded p50 / p95 / p99 (s)", "trigger fired p50 / p95 / p99 (s)",
           "events OK", "triggerer RSS (MiB)", "triggerer CPU (s/min)", "emulator CPU (s/min)",
           "all waiting after (s)"]


@dataclass
class Result:
    kind: str
    n: int
    ready_seconds: float = 0.0
    window: float = 0.0
    requests: int = 0
    errors: int = 0
    by_verb: dict[str, int] = field(default_factory=dict)
    watches: int = 0
    rss: int = 0
    cpu: float = 0.0
    emulator_cpu: float = 0.0
    recorded: list[float] = field(default_factory=list)
    fired: list[float] = field(default_factory=list)
    missed: int = 0  # no event recorded within --finish-timeout
    early: int = 0  # the task left DEFERRED before its object ended: a trigger error
    failed: int = 0  # an event other than success
    not_waiting: int = 0  # triggers not yet waiting when --startup-timeout ran out
    processes: int = 0  # in the triggerer's process tree
    other_cpu: float = 0.0  # CPU seconds other processes on the machine used during the window
    error: str = ""

    def per_minute(self, value: float) -> float:
        return value * 60 / self.window

    def row(self) -> list[str]:
        if self.error:
            return [self.kind, f"{self.n:,}", "failed (see notes)", *["-"] * (len(COLUMNS) - 3)]
        rpm = self.per_minute(self.requests)
        ready = f"{self.ready_seconds:.1f}" if not self.not_waiting else \
            f"not all: {self.n - self.not_waiting:,}/{self.n:,} after {self.ready_seconds:.0f}"
        return [self.kind, f"{self.n:,}", f"{rpm:,.0f}", f"{rpm / self.n:,.2f}", f"{self.watches:,}",
                spread(self.recorded), spread(self.fired), f"{len(self.recorded):,}/{self.n:,}",
                f"{self.rss / 2**20:,.0f}",
                f"{self.per_minute(self.cpu):.2f}", f"{self.per_minute(self.emulator_cpu):.2f}",
                ready]


def spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return " / ".join(f"{support.percentile(values, q):.3f}" for q in (50, 95, 99))


# ---------------------------------------------------------------------- the emulator's admin endpoint
def admin(url: str, path: str, method: str = "GET") -> dict:
    resp = httpx.request(method, f"{url}/_emulator{path}", timeout=60)
    resp.raise_for_status()
    return resp.json()


def window_requests(url: str, dump: Path | None) -> tuple[int, int, dict[str, int]]:
    """Requests received since the log was cleared: total, errors (HTTP >= 400), counts by verb and resource."""
    records = admin(url, "/requests")
    if dump is not None:
        dump.write_text(json.dumps(records, indent=1))
    by_verb: dict[str, int] = {}
    for r in records:
        key = f"{r['verb']} {r['resource']}" if r["verb"] else f"{r['method']} {r['path']}"
        by_verb[key] = by_verb.get(key, 0) + 1
    return len(records), sum(r["status"] >= 400 for r in records), by_verb


def settle_watches(url: str, timeout: float = 15) -> int:
    """Wait for the previous triggerer's watches to close; returns what is still open."""
    deadline = time.monotonic() + timeout
    while (open_now := admin(url, "/counters")["watches"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    return open_now


def warm_up(kind: str, triggerer: subprocess.Popen[bytes], objects: support.Objects, run_ids: list[str],
            home: Path, args: argparse.Namespace, log_path: Path) -> tuple[float, int]:
    """Wait until every trigger is waiting; returns seconds from launch until the last one began to, and how
    many were not waiting yet when --startup-timeout ran out (then the run goes on with what there is).

    Waiting means: each trigger logged its "waiting" line, the emulator served a read covering each object (a
    GET of it, a list or watch selecting it by name, or one of its whole namespace), and for --settle seconds
    no trigger logged that line and no list or watch was opened (so lists, first watches and upstream's
    start-up events watch are over; whether the triggers share watches or not does not matter). The time
    returned is the later of the last "waiting" line and the last list/watch opened (1 s resolution).
    """
    launched = time.time()
    pending = set(run_ids)
    began: list[float] = []  # wall times of the "waiting" log lines
    last_change, last_streams, covered = launched, -1, False
    while True:
        if triggerer.poll() is not None:
            raise RuntimeError(f"the triggerer exited ({triggerer.returncode}); see {log_path}")
        now = time.time()
        if now - launched > args.startup_timeout:
            return now - launched, max(len(pending), len(support.uncovered(admin(objects.url, "/requests"),
                                                                             objects)))
        for run_id in list(pending):
            if (line := support.log_event(home, run_id, READY_MARKERS[kind])) is not None:
                began.append(line[0])
                pending.discard(run_id)
        counters = admin(objects.url, "/counters")["counters"]
        streams = sum(v for k, v in counters.items() if k.startswith(("list ", "watch ")))
        if streams != last_streams:
            last_streams, last_change, covered = streams, now, False
        if not pending and now - max(last_change, *began) >= args.settle:
            covered = covered or not support.uncovered(admin(objects.url, "/requests"), objects)
            if covered:
                return max(last_change, *began) - launched, 0
        time.sleep(1.0)


# ---------------------------------------------------------------------- one kind at one N
def run_one(kind: str, n: int, args: argparse.Namespace, emulator: support.Emulator, home: Path,
            env: dict[str, str]) -> Result:
    result = Result(kind, n)
    prefix = f"{kind}-n{n}"
    objects = support.Objects(emulator.url, kind, f"bench-{kind}-{n}")
    asyncio.run(objects.create(n))
    extras = json.loads(env["AIRFLOW_CONN_KUBERNETES_DEFAULT"])["extra"]
    triggers = [(name, support.make_trigger(kind, objects.namespace, name, objects.uids.get(name, ""), extras))
                for name in objects.names]
    run_ids = dict(zip(objects.names, support.seed_deferred(triggers, prefix), strict=True))
    baseline_watches = settle_watches(emulator.url)

    admin(emulator.url, "/requests", "DELETE")  # from here on, only the triggerer talks to the emulator
    log_path = home.parent / f"triggerer-{prefix}.log"
    dump = home.parent / f"requests-{prefix}.json" if args.keep else None
    with log_path.open("wb") as out:
        triggerer = subprocess.Popen([support.bin_path("airflow"), "triggerer", "--skip-serve-logs"], env=env,
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
    try:
        result.ready_seconds, result.not_waiting = warm_up(kind, triggerer, objects, list(run_ids.values()), home,
                                                           args, log_path)

        # The window: only the triggerer talks to the emulator now.
        procs = support.tree(triggerer.pid)
        emulator_proc = psutil.Process(emulator.process.pid)
        admin(emulator.url, "/requests", "DELETE")
        ours = [*procs, emulator_proc, psutil.Process()]
        cpu0, emu0, t0 = support.cpu_seconds(procs), support.cpu_seconds([emulator_proc]), time.monotonic()
        busy0 = support.machine_busy_seconds() - support.cpu_seconds(ours)
        time.sleep(args.window)
        result.other_cpu = support.machine_busy_seconds() - support.cpu_seconds(ours) - busy0
        result.requests, result.errors, result.by_verb = window_requests(emulator.url, dump)
        result.window = time.monotonic() - t0
        result.cpu = support.cpu_seconds(procs) - cpu0
        result.emulator_cpu = support.cpu_seconds([emulator_proc]) - emu0
        final = support.tree(triggerer.pid)
        result.rss, result.processes = support.rss_bytes(final), len(final)
        result.watches = admin(emulator.url, "/counters")["watches"] - baseline_watches

        # Detection latency: every object terminal now; the triggerer records each event in the DB.
        db = support.db_path(env)
        early = set(run_ids.values()) - support.deferred_runs(db, prefix)
        sent = asyncio.run(objects.finish(args.finish_rate))
        deadline = time.monotonic() + args.finish_timeout
        while support.deferred_runs(db, prefix) and time.monotonic() < deadline:
            time.sleep(DB_POLL)
        recorded = support.recorded_at(db, prefix)
        # The supervisor writes the trigger log lines when it gets to them: allow them a little longer.
        fired: dict[str, float] = {}
        deadline = time.monotonic() + 30
        while len(fired) < len(recorded) and time.monotonic() < deadline:
            for run_id in set(recorded) - set(fired):
                if (line := support.log_event(home, run_id, FIRED)) is not None:
                    fired[run_id] = line[0]
            for run_id, at in support.main_log_events(log_path, FIRED).items():
                fired.setdefault(run_id, at)
            time.sleep(0.2)
        for name, run_id in run_ids.items():
            if run_id in early:
                result.early += 1
            elif run_id not in recorded:
                result.missed += 1
            elif recorded[run_id][1] != "success":
                result.failed += 1
            else:
                result.recorded.append(recorded[run_id][0] - sent[name])
                if run_id in fired:
                    result.fired.append(fired[run_id] - sent[name])
    finally:
        support.stop_process(triggerer)
        support.forget_unfinished(support.db_path(env), prefix)
    return result


# ---------------------------------------------------------------------- report
def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model}), {psutil.virtual_memory().total / 2**30:.1f} GiB RAM, "
            f"{platform.system()} {platform.release()}")


def versions() -> str:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return (f"Python {platform.python_version()}, apache-airflow {version('apache-airflow')}, "
            f"apache-airflow-providers-cncf-kubernetes {version('apache-airflow-providers-cncf-kubernetes')}, "
            f"airflow-provider-sparkk8s {version('airflow-provider-sparkk8s')}, "
            f"kubernetes_asyncio {version('kubernetes_asyncio')}")


def notes(results: list[Result], args: argparse.Namespace, command: str, seconds: float) -> list[str]:
    out = [
        f"Machine: {machine()}.",
        f"Versions: {versions()}.",
        f"Command: {command} (took {seconds / 60:.1f} min).",
        "One fresh `airflow triggerer` per kind and N (SQLite metadata DB, N deferred task instances seeded, one "
        "DagRun each); the emulator runs as a separate process. Objects: Spark driver pods (Running, driver "
        "container running) for ours-spark and upstream-pod, Argo Workflows (phase Running) for ours-argo.",
        f"Load window: {args.window:g} s, after a warm-up: every trigger logged that it is waiting, the emulator "
        "served a read of each object (by name, or a list/watch of its namespace), and then for "
        f"{args.settle:g} s no trigger started waiting and no list or watch was opened. The last column: "
        "seconds from launching the triggerer until the last trigger started waiting or the last list/watch "
        "was opened, whichever came later (about 1 s resolution). Requests are everything the "
        "emulator received in the window; open watches are counted at its end. RSS is the triggerer's whole "
        "process tree (supervisor + trigger-runner child) at the end of the window; CPU is user+system seconds "
        "of that tree during the window, per minute.",
        "Latency: every object is made terminal through the Kubernetes API (driver pod phase Succeeded with its "
        "container terminated, exit code 0; Workflow phase Succeeded), "
        + (f"{args.finish_rate:g} objects per second (a steady stream, so the figures show how fast a wait "
           "notices its object's end while N waits are held, not how fast the triggerer writes a burst of N "
           "events into the DB)" if args.finish_rate > 0 else "all at once (16 PATCHes in flight)")
        + ", each PATCH's send time recorded. 'event recorded' = the task instance's scheduled_dttm, which the "
        "triggerer's handle_event_submit sets when it writes the event into the DB (state DEFERRED -> SCHEDULED, "
        "next_kwargs with the event) minus that send time; microsecond timestamps, so the resolution does not "
        f"depend on the DB polling ({DB_POLL * 1000:.0f} ms, used only to know when all are done). 'trigger "
        "fired' = the timestamp of the triggerer's 'Trigger fired event' log line for the task minus the send "
        "time; the triggerer formats that line (in a thread pool) right before it queues the event, so this is "
        "the trigger's detection plus that hand-off. The gap between the two columns is the triggerer's own "
        "loop: its trigger runner reports events to its supervisor about once a second, and the supervisor "
        "commits them one by one. Nearest-rank percentiles over the N tasks.",
        "Settings: [triggerer] capacity = max N and max_trigger_to_select_per_loop = max N (the default 50 "
        "only slows the warm-up), a Fernet key set (trigger kwargs stored encrypted), everything else default.",
    ]
    others = [r.per_minute(r.other_cpu) for r in results if not r.error and r.window]
    if others and max(others) > 30:
        out.append(f"Other processes on the machine used up to {max(others):.0f} CPU-seconds per minute during the "
                   f"windows (of {60 * (os.cpu_count() or 1)} available; per row below): CPU-bound figures (latency "
                   "at large N, upstream's achieved request rate, warm-up times) are pessimistic where that is high.")
    for r in results:
        if r.error:
            out.append(f"{r.kind} N={r.n}: the run failed: {r.error}.")
            continue
        verbs = ", ".join(f"{k} {r.per_minute(v):,.0f}" for k, v in sorted(r.by_verb.items(), key=lambda kv: -kv[1]))
        extra = f"; {r.errors} error responses" if r.errors else ""
        extra += f"; {r.missed} of {r.n} events not recorded within {args.finish_timeout:g} s" if r.missed else ""
        extra += f"; {r.early} of {r.n} tasks resumed before their object ended (trigger errors)" if r.early else ""
        extra += f"; {r.failed} of {r.n} events were not a success" if r.failed else ""
        if len(r.fired) < len(r.recorded):
            extra += f"; 'Trigger fired event' log line found for {len(r.fired)} of {len(r.recorded)} tasks"
        extra += (f"; {r.not_waiting} of {r.n} triggers were not waiting yet after {args.startup_timeout:g} s, "
                  "measured anyway") if r.not_waiting else ""
        extra += (f"; triggerer processes {r.processes}; other processes on the machine used "
                  f"{r.per_minute(r.other_cpu):.1f} CPU-s/min")
        out.append(f"{r.kind} N={r.n}: requests/min by verb: {verbs or 'none'}{extra}.")
    return out


def markdown(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |",
             "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(columns))) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="numbers of deferred tasks (default 1,100,1000)")
    parser.add_argument("--kinds", type=lambda s: s.split(","), default=list(support.KINDS),
                        help=f"comma-separated subset of {','.join(support.KINDS)}")
    parser.add_argument("--window", type=float, default=None, help="measurement window in seconds (default 60)")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="quiet seconds (no trigger starting, no list/watch opened) before the window (default 5)")
    parser.add_argument("--startup-timeout", type=float, default=120.0,
                        help="measure anyway when the triggers are not all waiting after this many seconds")
    parser.add_argument("--finish-rate", type=float, default=25.0,
                        help="objects made terminal per second in the latency phase (default 25; 0: all at once)")
    parser.add_argument("--finish-timeout", type=float, default=60.0,
                        help="how long to wait for the events once the objects are terminal")
    parser.add_argument("--quick", action="store_true", help="smoke test: N=1,20 and a 15 s window")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, DB)")
    args = parser.parse_args()
    unknown = set(args.kinds) - set(support.KINDS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    args.n = args.n or ([1, 20] if args.quick else [1, 100, 1000])
    args.window = args.window or (15.0 if args.quick else 60.0)
    return args


def main() -> int:
    args = parse_args()
    command = shlex.join(["python", "benchmarks/triggerer_load.py", *sys.argv[1:]])
    began = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="triggerer-load-"))
    emulator = support.Emulator.start(root / "emulator")
    results: list[Result] = []
    try:
        home = root / "airflow-home"
        # This process reads the DB and builds trigger objects with the same configuration as the triggerer.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(support.airflow_settings(home, emulator, max(args.n)))
        os.environ.clear()
        os.environ.update(env)
        support.prepare_home(home, env)
        for n in args.n:
            for kind in args.kinds:
                print(f"running {kind} N={n} ...", file=sys.stderr, flush=True)
                try:
                    results.append(run_one(kind, n, args, emulator, home, env))
                except Exception as exc:  # noqa: BLE001 - one broken run must not lose the others
                    results.append(Result(kind, n, error=f"{type(exc).__name__}: {exc}"))
                r = results[-1]
                print(f"  {dict(zip(COLUMNS, r.row(), strict=True))}", file=sys.stderr, flush=True)
    finally:
        emulator.stop()
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    seconds = time.monotonic() - began
    title = "Deferred waits in one Airflow triggerer: API load, detection latency, footprint"
    rows = [r.row() for r in results]
    report_notes = notes(results, args, command, seconds)
    print(f"# {title}\n")
    print(f"machine: {machine()}\nversions: {versions()}\ncommand: {command}\nduration: {seconds / 60:.1f} min\n")
    print(markdown(COLUMNS, rows))
    print()
    for note in report_notes[3:]:
        print(f"- {note}")
    if args.json:
        Path(args.json).write_text(json.dumps({"title": title, "columns": COLUMNS, "rows": rows,
                                               "notes": report_notes}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
