"""The reliability and security campaigns: what each one reports, and the command that runs them all.

A campaign is a module in this package with a ``run(size: str, seed: int) -> Result`` function. ``size`` is
``"short"`` (the seeded version inside the test suite) or ``"full"`` (the documented campaign; its trial counts
are the ones RELIABILITY.md reports). A campaign checks its invariants on every trial and records each
violation with what would let someone reproduce it (the seed, the trial, the observed and expected outcome).

    .venv/bin/python -m tests.reliability.campaign [--full] [--seed N] [--only faults,hostile_input] [--markdown F]

prints one table row per campaign and exits 1 when any invariant was violated (2 on a campaign that crashed).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import shlex
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FINDINGS = Path(__file__).with_name("findings.md")  # what the campaigns found and fixed, and the known limits
CAMPAIGNS = ("faults", "crashes", "kills", "hostile_input", "secrets", "injection", "tls_auth", "least_privilege")


@dataclass
class Result:
    name: str
    trials: int = 0
    violations: list[str] = field(default_factory=list)  # one line each: trial, seed, what was wrong
    figures: dict[str, str] = field(default_factory=dict)  # measured figures for the table (e.g. "p99 kill s")
    seconds: float = 0.0
    error: str = ""  # the campaign itself crashed (not an invariant violation)

    def violate(self, message: str) -> None:
        self.violations.append(message)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.error


def run_campaign(name: str, size: str, seed: int, **running: Any) -> Result:
    """`running`: for the campaigns that run DAGs in Airflow, a running ``stack`` and the emulator ``kube`` it
    points at, instead of starting their own."""
    began = time.monotonic()
    try:
        result = importlib.import_module(f"tests.reliability.{name}").run(size, seed, **running)
    except Exception:  # noqa: BLE001 - one broken campaign must not hide the others' results
        result = Result(name, error=traceback.format_exc(limit=8))
    result.seconds = time.monotonic() - began
    return result


def table(results: list[Result]) -> str:
    rows = ["| campaign | trials | violations | figures | seconds |", "|---|---:|---:|---|---:|"]
    for r in results:
        figures = "; ".join(f"{k}: {v}" for k, v in r.figures.items()) or "-"
        violations = "CRASHED" if r.error else str(len(r.violations))
        rows.append(f"| {r.name} | {r.trials} | {violations} | {figures} | {r.seconds:.0f} |")
    return "\n".join(rows)


def markdown(results: list[Result], report: str, details: list[str], command: str, size: str, seed: int,
             seconds: float) -> str:
    """RELIABILITY.md: how it was measured, the table, what each campaign checks, and every violation."""
    lines = [
        "# Reliability and security campaigns",
        "",
        f"Command: `{command}` ({size} size, seed {seed}), {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{seconds / 60:.0f} min on {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}.",
        "The short seeded version of every campaign runs in `make test` (tests/reliability/test_campaigns.py).",
        "",
        report,
        "",
        "## Violations",
        "",
        "\n".join(details) or "None: every invariant held in every trial.",
        "",
        "## What each campaign checks",
        "",
    ]
    for r in results:
        doc = (importlib.import_module(f"tests.reliability.{r.name}").__doc__ or "").strip()
        lines += [f"### {r.name}", "", doc or "(no description)", ""]
    return "\n".join(lines) + "\n" + FINDINGS.read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.campaign", description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the full campaign (default: the short seeded one)")
    parser.add_argument("--seed", type=int, default=20261126, help="seed of every random schedule")
    parser.add_argument("--only", default=",".join(CAMPAIGNS), help="comma-separated campaigns (default: all)")
    parser.add_argument("--markdown", help="also write the table and every violation to this file")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(CAMPAIGNS))
    if unknown:
        parser.error(f"--only: unknown campaign(s) {', '.join(unknown)}; expected some of {', '.join(CAMPAIGNS)}")
    size = "full" if args.full else "short"
    began = time.monotonic()
    results = []
    for name in names:
        print(f"campaign {name} ({size}, seed {args.seed}) ...", file=sys.stderr, flush=True)
        results.append(run_campaign(name, size, args.seed))
    report = table(results)
    details = [f"- {r.name}: {v}" for r in results for v in r.violations]
    details += [f"- {r.name} CRASHED:\n```\n{r.error}\n```" for r in results if r.error]
    print(report)
    print("\n".join(details) or "Every invariant held.")
    if args.markdown:
        given = argv if argv is not None else sys.argv[1:]
        command = shlex.join(["python", "-m", "tests.reliability.campaign", *given])
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write(markdown(results, report, details, command, size, args.seed, time.monotonic() - began))
    if any(r.error for r in results):
        return 2
    return 1 if any(r.violations for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
