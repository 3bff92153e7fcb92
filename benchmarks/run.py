"""Run every benchmark and write BENCHMARKS.md.

Each benchmark script runs as its own subprocess with `--json` (and `--quick` when given); its JSON is
{"title", "columns", "rows", "notes"} plus optionally "tables" (more tables of the same shape) and "data"
(raw figures). The report has the machine, the versions, the date, this command, a verdict for each target
computed from those figures, then every benchmark's tables and notes. A script that is not there is skipped
with a line saying so; a script that fails or times out makes this command exit non-zero (the report is
still written, saying which one failed).

Run:  .venv/bin/python benchmarks/run.py [--quick] [--only import_cost,emulator_capacity] [--out BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# (name, script, what it measures), in the order they run: the import figures first, on a quiet machine.
BENCHMARKS = [
    ("import_cost", "import_cost.py", "DAG parse cost: module import times and DagBag parse times"),
    ("triggerer_load", "triggerer_load.py", "deferred waits in one triggerer: API load, detection, footprint"),
    ("submission_latency", "submission_latency.py", "execute() start to driver pod, per launcher"),
    ("emulator_capacity", "emulator_capacity.py", "what the Kubernetes API emulator sustains"),
]
VERSIONS = ("apache-airflow", "apache-airflow-providers-cncf-kubernetes", "airflow-provider-sparkk8s", "kubernetes",
            "kubernetes_asyncio")
REQUEST_RATIO = 100  # at least this many times fewer API requests/min than upstream ...
REQUEST_N = 1000  # ... with this many deferred tasks ...
FEW_WATCHES = 5  # ... holding at most this many watch connections
DETECTION_P50, DETECTION_P99 = 0.2, 1.0  # seconds


@dataclass
class Outcome:
    name: str
    script: str
    about: str
    status: str = "not run"  # ok, failed, timed out, missing
    seconds: float = 0.0
    result: dict[str, Any] | None = None
    detail: str = ""


@dataclass
class Target:
    text: str
    status: str  # met, missed, not measured
    figures: str


# ---------------------------------------------------------------------- running the scripts
def run_script(outcome: Outcome, quick: bool, timeout: float, workdir: Path) -> None:
    script = HERE / outcome.script
    if not script.exists():
        outcome.status, outcome.detail = "missing", f"benchmarks/{outcome.script} is not there: skipped"
        print(f"== {outcome.name}: {outcome.detail}", file=sys.stderr, flush=True)
        return
    # A relative --json path, run from a scratch directory: the command each script records stays portable.
    json_name = f"{outcome.name}.json"
    cmd = [sys.executable, str(script), "--json", json_name, *(["--quick"] if quick else [])]
    print(f"== {outcome.name}: {shlex.join(['python', f'benchmarks/{outcome.script}', *cmd[2:]])}",
          file=sys.stderr, flush=True)
    began = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=sys.stderr, stderr=sys.stderr, start_new_session=True)
    try:
        code: int | None = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: emulators, triggerers, JVMs it started
        proc.wait()
        code = None
    outcome.seconds = time.monotonic() - began
    out = workdir / json_name
    if code is None:
        outcome.status, outcome.detail = "timed out", f"killed after {timeout:g} s"
    elif code != 0:
        outcome.status, outcome.detail = "failed", f"exit code {code}"
    elif not out.exists():
        outcome.status, outcome.detail = "failed", f"exit code 0 but no {json_name} was written"
    else:
        outcome.status = "ok"
    if out.exists():  # a failing script may still have written figures worth showing
        try:
            outcome.result = json.loads(out.read_text())
        except ValueError as error:
            outcome.status, outcome.detail = "failed", f"{json_name} is not JSON: {error}"


# ---------------------------------------------------------------------- reading figures
def number(text: str) -> float | None:
    try:
        return float(str(text).replace(",", "").strip())
    except ValueError:
        return None


def percentiles(text: str) -> list[float] | None:
    """'0.012 / 0.030 / 0.051' -> [p50, p95, p99]."""
    values = [number(part) for part in str(text).split("/")]
    return None if len(values) != 3 or any(v is None for v in values) else values  # type: ignore[return-value]


def table_rows(result: dict[str, Any], needed: list[str]) -> list[dict[str, str]] | str:
    """The main table's rows as dicts, or a reason when a needed column is missing."""
    missing = [c for c in needed if c not in result.get("columns", [])]
    if missing:
        return f"the triggerer benchmark's JSON has no column {', '.join(repr(c) for c in missing)}"
    return [dict(zip(result["columns"], row, strict=False)) for row in result.get("rows", [])]


def triggerer_targets(outcome: Outcome | None) -> list[Target]:
    texts = [
        f"≥ {REQUEST_RATIO}× fewer Kubernetes API requests/min than upstream at N={REQUEST_N:,}, with at most "
        f"{FEW_WATCHES} watch connections",
        f"Detection latency p50 ≤ {DETECTION_P50:g} s and p99 ≤ {DETECTION_P99:g} s",
        "Less triggerer memory (RSS) and CPU than upstream",
    ]
    if outcome is None or outcome.result is None:
        why = "not run" if outcome is None else (outcome.detail or outcome.status)
        return [Target(t, "not measured", f"triggerer benchmark: {why}") for t in texts]
    rows = table_rows(outcome.result, ["kind", "N", "API requests/min", "open watches",
                                       "trigger fired p50 / p95 / p99 (s)", "event recorded p50 / p95 / p99 (s)",
                                       "triggerer RSS (MiB)", "triggerer CPU (s/min)"])
    if isinstance(rows, str):
        return [Target(t, "not measured", rows) for t in texts]
    for row in rows:
        row["n"] = number(row["N"])  # type: ignore[assignment]
    ours = [r for r in rows if r["kind"].startswith("ours")]
    upstream = {r["n"]: r for r in rows if r["kind"].startswith("upstream")}
    return [requests_target(texts[0], ours, upstream), detection_target(texts[1], ours),
            footprint_target(texts[2], ours, upstream)]


def requests_target(text: str, ours: list[dict], upstream: dict) -> Target:
    common = sorted({r["n"] for r in ours} & set(upstream))
    if not common:
        return Target(text, "not measured", "no N with both this provider's and upstream's triggers")
    n = REQUEST_N if REQUEST_N in common else common[-1]
    base = number(upstream[n]["API requests/min"]) or 0.0
    parts, met = [], n == REQUEST_N
    for r in (r for r in ours if r["n"] == n):
        rpm, watches = number(r["API requests/min"]) or 0.0, number(r["open watches"]) or 0.0
        ratio = base / rpm if rpm else float("inf")
        met = met and ratio >= REQUEST_RATIO and watches <= FEW_WATCHES
        shown = "∞" if ratio == float("inf") else f"{ratio:,.0f}×"
        parts.append(f"{r['kind']}: {rpm:,.0f}/min, {watches:.0f} watches ({shown} fewer)")
    figures = f"N={n:,.0f}: upstream-pod {base:,.0f}/min; " + "; ".join(parts)
    if n != REQUEST_N:
        return Target(text, "not measured", f"largest N here is {n:,.0f}, not {REQUEST_N:,} ({figures})")
    return Target(text, "met" if met else "missed", figures)


def detection_target(text: str, ours: list[dict]) -> Target:
    fired = [(r, percentiles(r["trigger fired p50 / p95 / p99 (s)"])) for r in ours]
    fired = [(r, p) for r, p in fired if p is not None]
    if not fired:
        return Target(text, "not measured", "no latency figures for this provider's triggers")
    worst50 = max(fired, key=lambda rp: rp[1][0])
    worst99 = max(fired, key=lambda rp: rp[1][2])
    recorded = [percentiles(r["event recorded p50 / p95 / p99 (s)"]) for r, _ in fired]
    recorded = [p for p in recorded if p is not None]
    met = worst50[1][0] <= DETECTION_P50 and worst99[1][2] <= DETECTION_P99
    figures = (f"trigger fired, worst of {len(fired)} rows (kind × N): p50 {worst50[1][0]:.3f} s ({worst50[0]['kind']} "
               f"N={worst50[0]['N']}), p99 {worst99[1][2]:.3f} s ({worst99[0]['kind']} N={worst99[0]['N']})")
    if recorded:
        figures += (f"; event recorded in the DB (adds the triggerer's own event loop): worst p50 "
                    f"{max(p[0] for p in recorded):.3f} s, worst p99 {max(p[2] for p in recorded):.3f} s")
    return Target(text, "met" if met else "missed", figures)


def footprint_target(text: str, ours: list[dict], upstream: dict) -> Target:
    common = sorted({r["n"] for r in ours} & set(upstream))
    if not common:
        return Target(text, "not measured", "no N with both this provider's and upstream's triggers")
    n = common[-1]
    base = upstream[n]
    base_rss, base_cpu = number(base["triggerer RSS (MiB)"]), number(base["triggerer CPU (s/min)"])
    parts, met = [], base_rss is not None and base_cpu is not None
    for r in (r for r in ours if r["n"] == n):
        rss, cpu = number(r["triggerer RSS (MiB)"]), number(r["triggerer CPU (s/min)"])
        met = met and rss is not None and cpu is not None and rss < base_rss and cpu < base_cpu  # type: ignore[operator]
        parts.append(f"{r['kind']} {r['triggerer RSS (MiB)']} MiB, {r['triggerer CPU (s/min)']} CPU s/min")
    figures = (f"N={n:,.0f}: upstream-pod {base['triggerer RSS (MiB)']} MiB, {base['triggerer CPU (s/min)']} CPU "
               f"s/min; " + "; ".join(parts))
    growth = rss_growth(ours, upstream, n)
    if growth:
        figures += f" (RSS growth from N=1: {growth}; the rest is the triggerer itself)"
    return Target(text, "met" if met else "missed", figures)


def rss_growth(ours: list[dict], upstream: dict, n: float) -> str:
    """RSS at N minus RSS at N=1 per kind: what the waits add on top of the triggerer process."""
    if n == 1 or 1 not in upstream:
        return ""
    by_kind = {(r["kind"], r["n"]): number(r["triggerer RSS (MiB)"]) for r in [*ours, *upstream.values()]}
    parts = []
    for kind in sorted({kind for kind, _ in by_kind}):
        high, low = by_kind.get((kind, n)), by_kind.get((kind, 1))
        if high is not None and low is not None:
            parts.append(f"{kind} {high - low:+,.0f} MiB")
    return ", ".join(parts)


def import_target(outcome: Outcome | None) -> Target:
    text = "Each public module ≤ 50 ms to import after `import airflow.sdk`"
    data = (outcome.result or {}).get("data") if outcome else None
    if not data or not data.get("modules"):
        why = "not run" if outcome is None else (outcome.detail or outcome.status)
        return Target(text, "not measured", f"import cost benchmark: {why}")
    limit = data.get("target_ms", 50.0)

    def worst(module: dict) -> float:
        return max(median(module[key]) for key in ("cached_ms", "source_ms") if module.get(key))

    ours = [m for m in data["modules"] if m["side"] == "ours"]
    over = [m for m in ours if worst(m) > limit]
    slowest = max(ours, key=worst)
    modes = " / ".join(label for key, label in (("cached_ms", ".pyc cached"), ("source_ms", "from source"))
                       if slowest.get(key))
    figures = (f"slowest: {slowest['module']} " + " / ".join(f"{median(slowest[k]):.1f}" for k in
                                                            ("cached_ms", "source_ms") if slowest.get(k))
               + f" ms ({modes}, median of {data.get('runs')})")
    upstream = [m for m in data["modules"] if m["side"] == "upstream"]
    if upstream:
        figures += "; upstream cncf.kubernetes modules " + ", ".join(
            f"{m['module'].rsplit('.', 1)[1]} {median(m['cached_ms']):,.0f} ms" for m in upstream) + " (.pyc cached)"
    if over:
        figures += "; over the limit: " + ", ".join(m["module"] for m in over)
    return Target(text, "missed" if over else "met", figures)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# ---------------------------------------------------------------------- the report
def machine(load_at_start: float | None = None) -> list[tuple[str, str]]:
    model = platform.processor() or platform.machine()
    memory = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
        memory = f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    if not memory and hasattr(os, "sysconf"):
        memory = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB"
    rows = [("CPU", f"{os.cpu_count()} × {model}"), ("RAM", memory),
            ("OS", f"{platform.system()} {platform.release()} ({platform.machine()})"),
            ("Python", f"{platform.python_version()} ({platform.python_implementation()})")]
    for dist in VERSIONS:
        try:
            rows.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            rows.append((dist, "not installed"))
    if load_at_start is not None:  # other work on the machine skews every timing: show how busy it was
        rows.append(("load average (1 min) at start / end", f"{load_at_start:.2f} / {os.getloadavg()[0]:.2f}"))
    revision = git_revision()
    if revision:
        rows.append(("source revision", revision))
    return rows


def git_revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{head}{' with uncommitted changes' if dirty else ''}"


def markdown_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    return lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def render(outcomes: list[Outcome], targets: list[Target], command: str, quick: bool, started: datetime,
           seconds: float, load_at_start: float | None = None) -> str:
    lines = ["# Benchmarks", "",
             f"Generated on {started:%Y-%m-%d %H:%M} UTC by `{command}` in {seconds / 60:.1f} min"
             + (" — **quick mode**: smoke-test sizes, not the reference figures." if quick else "."),
             "Regenerate with `make bench` (or the command above); every figure below comes from that run.", "",
             "## Machine and versions", ""]
    lines += markdown_table(["item", "value"], [list(row) for row in machine(load_at_start)])
    lines += ["", "## Targets", ""]
    lines += markdown_table(["target", "verdict", "figures"],
                            [[t.text, f"**{t.status}**", t.figures] for t in targets])
    lines += ["", "## What ran", ""]
    lines += markdown_table(["benchmark", "measures", "status", "minutes"], [
        [f"benchmarks/{o.script}", o.about, o.status + (f" ({o.detail})" if o.detail else ""),
         f"{o.seconds / 60:.1f}" if o.seconds else ""] for o in outcomes])
    for o in outcomes:
        if o.result is None:
            if o.status == "missing":
                lines += ["", f"## {o.name}", "", f"Skipped: {o.detail}."]
            continue
        for table in [o.result, *o.result.get("tables", [])]:
            lines += ["", f"## {table.get('title', o.name)}", ""]
            lines += markdown_table(table.get("columns", []), table.get("rows", []))
            notes = table.get("notes") or []
            if notes:
                lines += [""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def interpreter() -> str:
    """This interpreter as typed from the repository root (.venv/bin/python), without resolving symlinks."""
    path = Path(os.path.abspath(sys.executable))
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else "python"


def main() -> int:
    names = [name for name, _, _ in BENCHMARKS]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark (smoke-test sizes)")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="where to write the report")
    parser.add_argument("--only", type=lambda s: s.split(","), default=names,
                        help=f"comma-separated subset of {','.join(names)}")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds before a benchmark script is killed (default 4 h, 30 min with --quick)")
    args = parser.parse_args()
    if unknown := set(args.only) - set(names):
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    timeout = args.timeout or (1800.0 if args.quick else 4 * 3600.0)
    command = shlex.join([interpreter(), "benchmarks/run.py", *sys.argv[1:]])
    started, began = datetime.now(timezone.utc), time.monotonic()
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    outcomes = [Outcome(name, script, about) for name, script, about in BENCHMARKS if name in args.only]
    with tempfile.TemporaryDirectory(prefix="benchmarks-") as workdir:
        for outcome in outcomes:
            run_script(outcome, args.quick, timeout, Path(workdir))
    by_name = {o.name: o for o in outcomes}
    targets = [*triggerer_targets(by_name.get("triggerer_load")), import_target(by_name.get("import_cost"))]
    args.out.write_text(render(outcomes, targets, command, args.quick, started, time.monotonic() - began,
                               load_at_start))
    print(f"wrote {args.out}", file=sys.stderr)
    for target in targets:
        print(f"  {target.status:>12}: {target.text}", file=sys.stderr)
    failed = [o for o in outcomes if o.status in ("failed", "timed out")]
    for o in failed:
        print(f"benchmark {o.name} {o.status}: {o.detail}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
