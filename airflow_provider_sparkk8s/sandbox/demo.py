"""The one-command demo (``make demo``): the example DAGs in real Airflow against a sandbox, with a summary.

    python -m airflow_provider_sparkk8s.sandbox.demo [--examples dags_examples] [--only DAG ...] [--keep] [--serve]

1. starts a sandbox (``sandbox.py``) with the examples' mapping (``dags_examples/sandbox.yaml``) and applies
   ``dags_examples/manifests/*.yaml`` (namespaces, RBAC, the WorkflowTemplate, the calendar EventSource);
2. runs each example DAG once with Airflow's ``dag.test()`` in a fresh AIRFLOW_HOME (SQLite), through
   ``dag_runner.py``: one process, a forked child per DAG (two at a time, ``--parallel``), killed past
   ``--timeout`` seconds;
3. prints a table (DAG, task, state, duration, key output: "Pi is roughly 3.14...", the workflow phase, ...)
   and what ran for real or was simulated, with each local application's Spark History Server page (the
   sandbox runs pyspark's History Server unless --no-history-server; --serve keeps it up until Ctrl-C);
   exits 1 if a task failed or a DAG did not finish;
4. stops the sandbox (and every local Spark process) and removes its temporary directory (kept with --keep
   or when something failed, for the logs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .config import ConfigError, SandboxConfig, shown
from .sandbox import Sandbox
from .spark_apps import ClusterRun

# Run first, in this order; other DAGs of the folder follow in name order. The longest run starts early, beside
# the others, so that it does not end the demo alone.
ORDER = [
    "spark_pi_launcher_pod",
    "spark-etl-daily",  # spark_etl_daily.py: shell steps on the host and three Spark applications
    "spark_pi_spark_submit",
    "spark_pi_spark_operator",
    "argo_spark_app_workflow",
    "spark_argo_params",
    "spark_gated_by_argo_calendar",
    "spark_nightly_argo_calendar",
]
NOT_RUN: dict[str, str] = {}  # dag_id -> why the demo leaves it out
NEEDS_JAVA_ON_WORKER = {"spark_pi_spark_submit"}
# Its check-count step counts what its Spark ingest staged, in a container run here: without Spark or bubblewrap
# it would fail for want of them, not for anything the example shows.
NEEDS_LOCAL_RUNS = {"spark-etl-daily"}


def run_conf(now: datetime) -> dict[str, dict[str, Any]]:
    """Run confs that keep the examples from waiting on the clock."""
    # The first calendar event after three days ago is already due, exclusion dates included.
    after = (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"spark_gated_by_argo_calendar": {"after": after}}


def default_examples() -> Path:
    here = Path.cwd() / "dags_examples"
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "dags_examples"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_sparkk8s.sandbox.demo",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=Path, default=None, help="the DAGs folder (default: dags_examples)")
    parser.add_argument("--config", type=Path, default=None,
                        help="the image-to-local mapping (default: sandbox.yaml in the examples folder)")
    parser.add_argument("--only", action="append", metavar="DAG_ID", help="run only this DAG (repeatable)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds a DAG run may take (default 240)")
    parser.add_argument("--parallel", type=int, default=2,
                        help="DAG runs at once (default 2, one per core of a small machine; the first run always "
                             "goes alone; 1 runs them one after the other)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, AIRFLOW_HOME)")
    parser.add_argument("--serve", action="store_true",
                        help="once the DAGs ran, keep the sandbox and its Spark History Server up until Ctrl-C, to "
                             "browse the applications' pages")
    parser.add_argument("--no-history-server", action="store_true",
                        help="do not run pyspark's Spark History Server over the applications' event logs")
    args = parser.parse_args(argv)
    examples = (args.examples or default_examples()).resolve()
    try:
        config = SandboxConfig.load(args.config or examples / "sandbox.yaml")
    except ConfigError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    if args.no_history_server:
        config.history_server = replace(config.history_server, enabled=False)
    return Demo(examples, config, args.only, args.timeout, args.keep, args.parallel, args.serve).run()


class Demo:
    def __init__(self, examples: Path, config: SandboxConfig, only: list[str] | None, timeout: float,
                 keep: bool, parallel: int = 2, serve: bool = False) -> None:
        self.examples = examples
        self.config = config
        self.only = only
        self.timeout = timeout
        self.keep = keep
        self.parallel = parallel
        self.serve = serve
        self.root = Path(tempfile.mkdtemp(prefix="sparkk8s-demo-"))

    def run(self) -> int:
        started = time.monotonic()
        sandbox = Sandbox(self.config, workdir=self.root / "sandbox", console=self._event)
        results: list[dict[str, Any]] = []
        runner_error = None
        try:
            sandbox.start()  # the History Server gets ready while Airflow starts: the event logs wait for it
            print(sandbox.banner(), flush=True)
            applied = sandbox.apply_folder(self.examples / "manifests")
            print(f"Applied {len(applied)} objects from {shown(self.examples / 'manifests')}", flush=True)
            skip = dict(NOT_RUN)
            if sandbox.spark.unavailable:
                skip.update({d: f"spark-submit runs on the worker: {sandbox.spark.unavailable}"
                             for d in NEEDS_JAVA_ON_WORKER})
            cannot_run_here = sandbox.spark.unavailable or (
                None if shutil.which("bwrap") else "bwrap was not found (Debian package bubblewrap)")
            if cannot_run_here:
                skip.update({d: f"its steps run on this machine: {cannot_run_here}" for d in NEEDS_LOCAL_RUNS})
            results, runner_error = self._run_dags(sandbox, skip)
            if self.serve and sandbox.history is not None:
                self._serve(sandbox)
        except KeyboardInterrupt:
            runner_error = "interrupted"
        finally:
            local_runs, simulated = list(sandbox.spark.runs), list(sandbox.spark.simulated)
            cluster_runs = list(sandbox.apps.runs) if sandbox.in_cluster_mode else None
            simulated += sandbox.apps.simulated
            sandbox.stop()
        ok = runner_error is None and bool(results) and all(_succeeded(r) for r in results)
        print(self._report(results, local_runs, simulated, cluster_runs), flush=True)
        if runner_error:
            print(f"demo: {runner_error}", flush=True)
        print(f"Demo {'succeeded' if ok else 'FAILED'} in {time.monotonic() - started:.0f}s; the sandbox and its "
              f"local Spark processes are stopped.", flush=True)
        if self.keep or not ok:
            print(f"Logs, AIRFLOW_HOME and the sandbox's files: {self.root}", flush=True)
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        return 0 if ok else 1

    def _serve(self, sandbox: Sandbox) -> None:
        assert sandbox.history is not None
        sandbox.wait_for_history_server()
        print(f"The Spark History Server is up at {sandbox.history.url}; the applications' pages:", flush=True)
        runs: list[Any] = [*sandbox.spark.runs, *sandbox.apps.runs]
        for run in runs:
            if run.history_url:
                print(f"  {run.namespace}/{run.pod}: {run.history_url}", flush=True)
        print("Ctrl-C stops the sandbox.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass

    def _event(self, line: str) -> None:
        print(f"  sandbox: {line}", flush=True)

    def _run_dags(self, sandbox: Sandbox, skip: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
        home = self.root / "airflow"
        (home / "logs").mkdir(parents=True)
        results_path = self.root / "results.json"
        spec = {
            "dags_folder": str(self.examples), "log_dir": str(self.root / "logs"), "results": str(results_path),
            "timeout": self.timeout, "order": ORDER, "conf": run_conf(datetime.now(timezone.utc)), "skip": skip,
            "only": self.only, "parallel": self.parallel,
        }
        spec_path = self.root / "spec.json"
        spec_path.write_text(json.dumps(spec))
        # A fresh Airflow: nothing of the caller's Airflow configuration (its DB above all) may leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update({
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.examples),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            **sandbox.airflow_env(),
        })
        print("Starting Airflow (fresh AIRFLOW_HOME, SQLite) and running the example DAGs with dag.test() ...",
              flush=True)
        budget = self.timeout * (len(ORDER) + 2) + 300
        proc = subprocess.Popen([sys.executable, "-m", "airflow_provider_sparkk8s.sandbox.dag_runner",
                                 str(spec_path)], env=env, cwd=self.root)
        error = None
        try:
            code = proc.wait(timeout=budget)
            if code in (128 + signal.SIGINT, -signal.SIGINT):
                error = "interrupted"
            elif code != 0:
                error = f"the DAG runner exited with code {code} (see {self.root / 'logs'})"
        except subprocess.TimeoutExpired:
            error = f"the DAG runner did not finish within {budget:.0f}s"
        except KeyboardInterrupt:
            error = "interrupted"
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # it kills the DAG run in progress, then exits
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        results = json.loads(results_path.read_text()) if results_path.exists() else []
        return results, error

    def _report(self, results: list[dict[str, Any]], local_runs: list[Any], simulated: list[tuple[str, str]],
                cluster_runs: list[ClusterRun] | None = None) -> str:
        rows = [("DAG", "task", "state", "duration", "key output")]
        notes = []
        for result in results:
            if result["state"] == "not run":
                notes.append(f"Not run: {result['dag_id']}: {result['note']}")
                continue
            if result["state"] in ("import error", "not found"):
                notes.append(f"{result['state'].capitalize()}: {result['dag_id']}: {result['note']}")
                continue
            if not result["tasks"]:
                rows.append((result["dag_id"], "-", result["state"], f"{result['seconds']:.1f}s", result.get("note")
                             or ""))
            for i, task in enumerate(result["tasks"]):
                seconds = task.get("seconds")
                rows.append((result["dag_id"] if i == 0 else "", task["task_id"], task["state"] or "-",
                             f"{seconds:.1f}s" if seconds is not None else "-", task.get("key_output") or ""))
            if result.get("note") and result["tasks"]:
                notes.append(f"{result['dag_id']}: {result['state']}: {result['note']}")
        widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
        lines = ["", "Summary"]
        for n, row in enumerate(rows):
            lines.append("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
            if n == 0:
                lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 10)
        lines.append("")
        ran: list[Any] = [r for r in local_runs if r.exit_code is not None]
        if cluster_runs is not None:
            ran = [r for r in cluster_runs if r.exit_code is not None]
            lines.append(f"Real Spark: {len(ran)} application(s) ran in pods on this machine (pyspark), each driver "
                         f"with its executor pods; the control plane around them was emulated.")
            for run in ran:
                lines.append(f"  {run.namespace}/{run.pod}: {run.resource} exit {run.exit_code} ({run.seconds:.1f}s, "
                             f"{len(run.executors)} executor(s))" + (f"  {run.history_url}" if run.history_url else ""))
        else:
            lines.append(f"Real Spark: {len(ran)} application(s) ran on this machine (pyspark, spark-submit --master "
                         f"{self.config.master}); the control plane around them was emulated.")
            for run in ran:
                lines.append(f"  {run.namespace}/{run.pod}: {shown(run.file)} exit {run.exit_code} "
                             f"({run.seconds:.1f}s)" + (f"  {run.history_url}" if run.history_url else ""))
        if any(run.history_url for run in ran):
            lines.append("  (Spark History Server pages: up while the sandbox runs; `--serve` keeps it up after the "
                         "DAGs)")
        if simulated:
            lines.append(f"Simulated Spark pods (not run locally): {len(simulated)}")
            for pod, why in simulated:
                lines.append(f"  {pod}: {why}")
        lines += notes
        return "\n".join(lines)


def _succeeded(result: dict[str, Any]) -> bool:
    if result["state"] == "not run":
        return True
    return result["state"] == "success" and all(
        t["state"] in ("success", "skipped") for t in result["tasks"])


if __name__ == "__main__":
    sys.exit(main())
