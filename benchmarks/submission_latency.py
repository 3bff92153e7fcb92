"""Submission latency of SparkK8sOperator: from the moment the operator's execute() starts until the Spark
driver pod exists in the cluster, for each launcher (spark-submit, pod, spark-operator).

Each measurement is one `dag.test()` of a one-task DAG in a fresh Python process (as a worker runs a task in a
fresh process), against the Kubernetes API emulator running as its own process (`sparkk8s emulator`). The task
is a SparkK8sOperator subclass whose execute() writes time.time() to a file before calling the real one; a watch
on driver pods (label spark-role=driver), opened before the run, records time.time() when the ADDED event
arrives. Same machine, same clock.

spark-submit is the real one from pyspark (needs Java). The launcher pod and the spark-operator are simulated
by the emulator, which starts a launcher pod after 0.1 s and submits at once: on a real cluster add pod
scheduling, image pulls and the JVM start of spark-submit inside the launcher pod or the spark-operator.

Run:  .venv/bin/python benchmarks/submission_latency.py [--runs 5] [--json out.json]
      .venv/bin/python benchmarks/submission_latency.py --quick      (1 run per launcher)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

NS = "spark-jobs"
LAUNCHERS = ("spark-submit", "pod", "spark-operator")
MARK_ENV = "SUBMISSION_LATENCY_MARK"
DAG_FILE = '''\
"""One SparkK8sOperator task whose execute() start is recorded for benchmarks/submission_latency.py."""
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator


class TimedSparkK8sOperator(SparkK8sOperator):
    def execute(self, context):
        Path(os.environ["{mark_env}"]).write_text(repr(time.time()))  # the clock starts here
        return super().execute(context)


with DAG("{dag_id}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    TimedSparkK8sOperator(
        task_id="pi", launcher="{launcher}", application="local:///opt/spark/examples/src/main/python/pi.py",
        application_args=["10"], image="apache/spark:4.0.1", namespace="{namespace}", executor_instances=1,
        deferrable=False, retries=0, startup_timeout_seconds=60, submit_timeout=120,
        execution_timeout=timedelta(seconds={task_timeout}),
    )
'''


# ---------------------------------------------------------------------- child: one measured task run
class DriverWatch(threading.Thread):
    """Records when the first new driver pod's ADDED event arrives on a pod watch."""

    def __init__(self, url: str) -> None:
        super().__init__(name="driver-watch", daemon=True)
        self.url = url
        self.opened = threading.Event()
        self.seen_at: float | None = None
        self.pod: str | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        import httpx

        pods = f"{self.url}/api/v1/namespaces/{NS}/pods"
        try:
            listed = httpx.get(pods, params={"labelSelector": "spark-role=driver"}, timeout=30).json()
            params = {"watch": "true", "labelSelector": "spark-role=driver",
                      "resourceVersion": listed["metadata"]["resourceVersion"]}
            with httpx.stream("GET", pods, params=params, timeout=httpx.Timeout(30, read=None)) as resp:
                resp.raise_for_status()
                self.opened.set()
                for line in resp.iter_lines():
                    event = json.loads(line)
                    if event["type"] == "ADDED":
                        self.seen_at = time.time()
                        self.pod = event["object"]["metadata"]["name"]
                        return
        except BaseException as error:  # noqa: BLE001 - reported by the child's result
            self.error = error
            self.opened.set()


def run_child(launcher: str, url: str, result: Path, task_timeout: float) -> int:
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dag_id = f"submission_latency_{launcher.replace('-', '_')}"
    path = dags / f"{dag_id}.py"
    mark = result.with_suffix(".start")
    os.environ[MARK_ENV] = str(mark)
    path.write_text(DAG_FILE.format(mark_env=MARK_ENV, dag_id=dag_id, launcher=launcher, namespace=NS,
                                    task_timeout=int(task_timeout)))
    watch = DriverWatch(url)
    watch.start()
    watch.opened.wait(30)
    try:
        spec = importlib.util.spec_from_file_location(dag_id, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        dag_run = module.dag.test()
        states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dag_run.get_task_instances()}
    finally:
        path.unlink()  # dag.test() parses the whole dags folder: keep it to one DAG at a time
    watch.join(5)
    started = float(mark.read_text()) if mark.exists() else None
    result.write_text(json.dumps({"launcher": launcher, "started": started, "driver_seen": watch.seen_at,
                                  "driver_pod": watch.pod, "task_state": states.get("pi"),
                                  "watch_error": repr(watch.error) if watch.error else None}))
    return 0


# ---------------------------------------------------------------------- parent
def run_killable(cmd: list[str], env: dict[str, str], timeout: float, log: Path) -> int | None:
    """Run cmd in its own process group; on timeout SIGKILL the whole group (spark-submit's JVM included).
    Returns the exit code, or None after a timeout."""
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None


def start_emulator(workdir: Path) -> tuple[subprocess.Popen[str], str, str]:
    cli = Path(sys.executable).with_name("sparkk8s")
    proc = subprocess.Popen([str(cli), "emulator", "--workdir", str(workdir), "--namespace", NS],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    url = kubeconfig = ""
    for line in proc.stdout:
        if line.startswith("Kubernetes API emulator listening on "):
            url = line.rsplit(" ", 1)[1].strip()
        elif line.startswith("kubeconfig: "):
            kubeconfig = line.split(" ", 1)[1].strip()
        if url and kubeconfig:
            return proc, url, kubeconfig
    raise RuntimeError("the emulator did not start")


def airflow_env(home: Path, kubeconfig: str, pycache: Path) -> dict[str, str]:
    # Bytecode as a deployed worker has it, in a private cache (neither the repository nor the venv is written).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=str(pycache), AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
               AIRFLOW__CORE__LOAD_EXAMPLES="False", KUBECONFIG=kubeconfig,
               AIRFLOW_CONN_KUBERNETES_DEFAULT=json.dumps({"conn_type": "kubernetes", "extra": {
                   "kube_config_path": kubeconfig, "namespace": NS}}))
    return env


def spark_submit_missing() -> str | None:
    if shutil.which("java") is None:
        return "java is not installed"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed"
    return None


def run_once(launcher: str, label: str, url: str, env: dict[str, str], timeout: float, base: Path
             ) -> dict[str, Any]:
    """One measured task run in a fresh child process."""
    result, log = base.with_suffix(".json"), base.with_suffix(".log")
    cmd = [sys.executable, __file__, "--child", launcher, "--url", url, "--result", str(result),
           "--task-timeout", str(max(timeout - 30, 30))]
    code = run_killable(cmd, env, timeout, log)
    if code != 0 or not result.exists():
        why = f"killed after {timeout:g} s" if code is None else f"exit code {code}"
        raise RuntimeError(f"{label}: {why}; log tail:\n{log.read_text()[-4000:]}")
    sample = json.loads(result.read_text())
    if sample["task_state"] != "success" or sample["started"] is None or sample["driver_seen"] is None:
        raise RuntimeError(f"{label}: no latency ({sample}); log tail:\n{log.read_text()[-4000:]}")
    sample["seconds"] = sample["driver_seen"] - sample["started"]
    return sample


def measure(args: argparse.Namespace, root: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    proc, url, kubeconfig = start_emulator(root / "emulator")
    samples: dict[str, list[dict[str, Any]]] = {launcher: [] for launcher in args.launchers}
    skipped: dict[str, str] = {}
    try:
        home = root / "home"
        (home / "dags").mkdir(parents=True)
        env = airflow_env(home, kubeconfig, args.pycache)
        print("migrating the metadata DB ...", file=sys.stderr, flush=True)
        code = run_killable([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], env, 600,
                            root / "db-migrate.log")
        if code != 0:
            raise RuntimeError(f"airflow db migrate failed ({code}):\n{(root / 'db-migrate.log').read_text()[-3000:]}")
        if "spark-submit" in args.launchers and (reason := spark_submit_missing()):
            skipped["spark-submit"] = reason
        # A first, discarded run (pod launcher) fills the bytecode cache and warms the emulator.
        runs = [("pod", None)] + [(launcher, run) for run in range(args.runs) for launcher in args.launchers
                                  if launcher not in skipped]
        for launcher, run in runs:
            label = "warm-up" if run is None else f"{launcher} run {run + 1}/{args.runs}"
            print(label, file=sys.stderr, flush=True)
            sample = run_once(launcher, label, url, env, args.timeout, root / label.replace("/", "-").replace(" ", "-"))
            if run is not None:
                samples[launcher].append(sample)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    return samples, skipped


def report(args: argparse.Namespace, samples: dict[str, list[dict[str, Any]]], skipped: dict[str, str],
           command: str, seconds: float) -> dict[str, Any]:
    rows = []
    for launcher in args.launchers:
        if launcher in skipped:
            rows.append([launcher, "0", "skipped", "", "", skipped[launcher]])
            continue
        values = [s["seconds"] for s in samples[launcher]]
        rows.append([launcher, str(len(values)), f"{statistics.median(values):.2f}", f"{min(values):.2f}",
                     f"{max(values):.2f}", "emulated" if launcher != "spark-submit" else "real spark-submit (JVM)"])
    notes = [
        f"Command: {command} (took {seconds / 60:.1f} min).",
        "Clock: from the first line of the operator's execute() (a subclass records time.time()) to the arrival "
        "of the driver pod's ADDED event on a pod watch opened before the run. One `dag.test()` of a one-task "
        "DAG per fresh Python process (the task's own imports included), deferrable=False, retries=0; the "
        "Kubernetes API emulator runs as a separate process.",
        "spark-submit: the real spark-submit from pyspark runs on the worker, so the figure includes its JVM "
        "start. pod and spark-operator: the emulator simulates the launcher pod (Pending 0.1 s, then its "
        "spark-submit creates the driver at once) and the spark-operator controller (it creates the driver "
        "right after the SparkApplication), so these figures are the provider's own share of the latency; on a "
        "real cluster add pod scheduling, image pulls and a JVM start of spark-submit (in the launcher pod or "
        "in the spark-operator).",
        "Every run is guarded by a process-group SIGKILL after "
        f"{args.timeout:g} s (a task that retries or defers forever under dag.test() would never return).",
    ]
    return {"title": "Submission latency: execute() start → driver pod exists", "notes": notes, "rows": rows,
            "columns": ["launcher", "runs", "median (s)", "min (s)", "max (s)", "what creates the driver"],
            "data": {"samples": samples, "skipped": skipped}}


def markdown(table: dict[str, Any]) -> str:
    lines = [f"## {table['title']}", "", "| " + " | ".join(table["columns"]) + " |",
             "| " + " | ".join("---" for _ in table["columns"]) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in table["rows"]]
    return "\n".join(lines + [""] + [f"- {note}" for note in table["notes"]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=None, help="runs per launcher (default 5)")
    parser.add_argument("--launchers", type=lambda s: s.split(","), default=list(LAUNCHERS),
                        help=f"comma-separated subset of {','.join(LAUNCHERS)}")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before one run is killed")
    parser.add_argument("--quick", action="store_true", help="1 run per launcher")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, DB)")
    parser.add_argument("--pycache", type=Path, default=Path(tempfile.gettempdir()) / "sparkk8s-bench-pycache",
                        help="bytecode cache directory (kept between runs)")
    parser.add_argument("--child", choices=LAUNCHERS, help=argparse.SUPPRESS)  # one measured run
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--task-timeout", type=float, default=270.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_child(args.child, args.url, args.result, args.task_timeout)
    if unknown := set(args.launchers) - set(LAUNCHERS):
        parser.error(f"unknown launchers: {', '.join(sorted(unknown))}")
    args.runs = args.runs or (1 if args.quick else 5)
    command = shlex.join(["python", "benchmarks/submission_latency.py", *sys.argv[1:]])
    began = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="submission-latency-"))
    try:
        samples, skipped = measure(args, root)
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    result = report(args, samples, skipped, command, time.monotonic() - began)
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
