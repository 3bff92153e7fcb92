"""Run DAGs of a folder with real Airflow (``dag.test()``, SQLite metadata DB), one forked child per DAG run.

    python -m airflow_provider_sparkk8s.sandbox.dag_runner SPEC.json

The environment sets AIRFLOW_HOME (a fresh one), the dags folder and the connections. Importing Airflow and the
providers and parsing the DAGs costs far more than running an example, so this process does it once, migrates
the DB, then forks a child per DAG: a child that runs past its time limit is killed with its process group
(spark-submit started by a task included) and the next DAG starts from the same warm state.

SPEC: {"dags_folder", "log_dir", "results", "timeout" (seconds per DAG), "order": [dag ids first],
"conf": {dag_id: run conf}, "skip": {dag_id: reason}, "only": [dag ids] or null, "parallel": runs at once
(default 1; the first run always goes alone), "key_patterns": [regexes of result lines]}.
Results (JSON, rewritten after each DAG): a list of {"dag_id", "state", "seconds", "log", "tasks": [{"task_id",
"state", "seconds", "key_output"}], "note"}. Progress lines go to stdout; Airflow's own output to the logs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

DEFAULT_KEY_PATTERNS = (r"Pi is roughly [0-9.]+", r"my-spark-app: .*", r"spark-etl \w+: .*")
_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b: \S")
# A console log line: "<time> [<level>] <message> [<logger>] key=value ...".
_LINE = re.compile(r"^\S+\s+\[\s*(?P<level>\w+)\s*\]\s+(?P<message>.*?)(?:\s+\[[A-Za-z_][\w.]*\](?:\s+\w+=\S*)*)?\s*$")
_children: set[int] = set()  # process groups of DAG runs in progress


def _stop(signum: int, _frame: Any) -> None:
    """Stopped (Ctrl-C, or the demo gave up): take the DAG run in progress down too."""
    for pgid in list(_children):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(128 + signum)


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    progress = os.fdopen(os.dup(1), "w", buffering=1)
    log_dir = Path(spec["log_dir"])
    log_dir.mkdir(parents=True, exist_ok=True)
    _redirect(log_dir / "airflow-setup.log")  # Airflow's own output; progress keeps the original stdout

    started = time.monotonic()
    dags, import_errors = _prepare(Path(spec["dags_folder"]), progress)
    progress.write(f"Airflow ready in {time.monotonic() - started:.0f}s (metadata DB migrated, "
                   f"{len(dags)} DAGs parsed)\n")
    results: list[dict[str, Any]] = [
        {"dag_id": Path(path).name, "state": "import error", "seconds": 0.0, "tasks": [], "log": None,
         "note": error.strip().splitlines()[-1][:240] if error.strip() else "import error"}
        for path, error in import_errors.items()]
    results += [{"dag_id": dag_id, "state": "not found", "seconds": 0.0, "tasks": [], "log": None,
                 "note": "no such DAG in the folder"} for dag_id in spec.get("only") or [] if dag_id not in dags]
    order = [d for d in spec.get("order", []) if d in dags] + sorted(d for d in dags if d not in spec.get("order", []))
    patterns = [re.compile(p) for p in spec.get("key_patterns", DEFAULT_KEY_PATTERNS)]
    to_run = []
    for dag_id in order:
        if spec.get("only") and dag_id not in spec["only"]:
            continue
        if dag_id in spec.get("skip", {}):
            results.append({"dag_id": dag_id, "state": "not run", "seconds": 0.0, "tasks": [], "log": None,
                            "note": spec["skip"][dag_id]})
        else:
            to_run.append(dag_id)
    timeout = float(spec.get("timeout", 240))
    parallel = max(1, int(spec.get("parallel", 1)))
    running: dict[int, _Run] = {}
    finished: dict[str, dict[str, Any]] = {}
    while to_run or running:
        # The first run goes alone: it writes the serialized DAGs that the others then only read.
        while to_run and len(running) < (parallel if finished else 1):
            dag_id = to_run.pop(0)
            progress.write(f"running {dag_id} ...\n")
            run = _start(dags[dag_id], (spec.get("conf") or {}).get(dag_id), log_dir / f"{dag_id}.log", timeout,
                         patterns)
            running[run.pid] = run
        for run in _reap(running):
            result = run.result(patterns)
            progress.write(f"  {run.dag_id}: {result['state']} in {result['seconds']:.1f}s\n")
            finished[run.dag_id] = result
            Path(spec["results"]).write_text(json.dumps(results + list(finished.values()), indent=1))
    results += [finished[d] for d in order if d in finished]
    Path(spec["results"]).write_text(json.dumps(results, indent=1))
    return 0


def _redirect(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _prepare(folder: Path, progress: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Migrate the DB, import and parse everything a DAG run needs, and leave no DB connection to inherit."""
    from airflow import settings
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    db.upgradedb()
    bag = DagBag(dag_folder=str(folder))
    for path, error in bag.import_errors.items():
        progress.write(f"import error in {path}:\n{error}\n")
    # What dag.test() imports on first use: loaded here once instead of in every child.
    import airflow.sdk.execution_time.supervisor as supervisor
    import airflow.sdk.execution_time.task_runner  # noqa: F401
    from airflow.models.xcom import XComModel  # noqa: F401

    _warm_execution_api(supervisor.in_process_api_server().app)
    settings.dispose_orm()
    settings.configure_orm()
    return dict(bag.dags), dict(bag.import_errors)


def _warm_execution_api(app: Any) -> None:
    """Build the in-process Execution API's versioned routes now, once, rather than on the first request of every
    child (cadwyn does it lazily, and it costs more than a small DAG run). No thread is started: each child starts
    its own transport thread. Best effort: if cadwyn changes, the children just pay for it themselves."""
    init = getattr(app, "_cadwyn_initialize", None)
    if callable(init) and not getattr(app, "_cadwyn_initialized", True):
        try:
            init()
        except Exception as exc:  # noqa: BLE001 - an optimisation only
            print(f"(could not prepare the Execution API routes ahead: {exc})", file=sys.stderr)


class _Run:
    """A DAG run in a forked child."""

    def __init__(self, dag_id: str, pid: int, log_path: Path, timeout: float) -> None:
        self.dag_id, self.pid, self.log_path = dag_id, pid, log_path
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.timeout = timeout
        self.status: int | None = None  # exit status; None while running or when killed
        self.killed = False

    @property
    def result_path(self) -> Path:
        return self.log_path.with_suffix(".json")

    def result(self, patterns: list[re.Pattern]) -> dict[str, Any]:
        seconds = time.monotonic() - self.started
        if self.killed:
            return {"dag_id": self.dag_id, "state": "timed out", "seconds": seconds, "log": str(self.log_path),
                    "tasks": _tasks_from_log(self.log_path, patterns, {}),
                    "note": f"killed after {self.timeout:.0f}s"}
        if self.result_path.exists():
            return {**json.loads(self.result_path.read_text()), "seconds": seconds}
        return {"dag_id": self.dag_id, "state": "error", "seconds": seconds, "log": str(self.log_path),
                "tasks": _tasks_from_log(self.log_path, patterns, {}),
                "note": f"the run's process exited with {self.status}"}


def _start(dag: Any, conf: dict | None, log_path: Path, timeout: float, patterns: list[re.Pattern]) -> _Run:
    """Fork a child that runs `dag` once and writes its result beside its log."""
    log_path.with_suffix(".json").unlink(missing_ok=True)
    pid = os.fork()
    if pid == 0:  # the child: its own process group, so a kill takes what its tasks started too
        code = 1
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            os.setpgid(0, 0)
            _redirect(log_path)
            result = _run_here(dag, conf, log_path, patterns)
            log_path.with_suffix(".json").write_text(json.dumps(result))
            code = 0
        except BaseException:  # noqa: BLE001 - reported through the log; the parent reports the state
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _children.add(pid)
    try:
        os.setpgid(pid, pid)  # also here: no window in which a kill of the group misses the child
    except (PermissionError, ProcessLookupError):
        pass
    return _Run(dag.dag_id, pid, log_path, timeout)


def _reap(running: dict[int, _Run]) -> list[_Run]:
    """Wait a little for runs to end; kill those past their deadline. Returns (and forgets) the ended ones."""
    time.sleep(0.2)
    ended = []
    for pid, run in list(running.items()):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            run.status = os.waitstatus_to_exitcode(status)
        elif time.monotonic() > run.deadline:
            _kill(pid)
            run.killed = True
        else:
            continue
        _children.discard(pid)
        ended.append(running.pop(pid))
    return ended


def _kill(pid: int) -> None:
    """Kill a run's process group (TERM, then KILL) and reap it."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        end = time.monotonic() + grace
        while time.monotonic() < end:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
            time.sleep(0.1)


def _run_forked(dag: Any, conf: dict | None, log_path: Path, timeout: float, patterns: list[re.Pattern]
                ) -> dict[str, Any]:
    """Run one DAG in a forked child and wait for it (or kill it at the time limit)."""
    run = _start(dag, conf, log_path, timeout, patterns)
    running = {run.pid: run}
    while running:
        _reap(running)
    return run.result(patterns)


def _run_here(dag: Any, conf: dict | None, log_path: Path, patterns: list[re.Pattern]) -> dict[str, Any]:
    dag_run = dag.test(run_conf=conf)
    sys.stdout.flush()
    sys.stderr.flush()
    xcoms = {}
    tis = dag_run.get_task_instances()
    for ti in tis:
        xcoms[ti.task_id] = _xcom(dag.dag_id, dag_run.run_id, ti.task_id)
    tasks = {t["task_id"]: t for t in _tasks_from_log(log_path, patterns, xcoms)}
    out = []
    for ti in sorted(tis, key=lambda t: (t.start_date is None, t.start_date or 0, t.task_id)):
        state = getattr(ti.state, "value", ti.state) or "none"
        seconds = ti.duration if ti.duration is not None else (
            (ti.end_date - ti.start_date).total_seconds() if ti.start_date and ti.end_date else None)
        entry = tasks.get(ti.task_id, {"key_output": _key_output("", xcoms.get(ti.task_id), patterns)})
        out.append({"task_id": ti.task_id, "state": state, "seconds": seconds, "key_output": entry["key_output"]})
    return {"dag_id": dag.dag_id, "state": getattr(dag_run.state, "value", dag_run.state), "tasks": out,
            "log": str(log_path), "note": None}


def _xcom(dag_id: str, run_id: str, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(XComModel.get_many(run_id=run_id, key="return_value", dag_ids=dag_id,
                                                 task_ids=task_id)).first()
        return XComModel.deserialize_value(row) if row is not None else None


def _tasks_from_log(log_path: Path, patterns: list[re.Pattern], xcoms: dict[str, Any]) -> list[dict[str, Any]]:
    """Each task's lines of a dag.test() log (between its start and end markers) and its key output."""
    try:
        text = _ANSI.sub("", log_path.read_text(errors="replace"))
    except OSError:
        return []
    segments: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        start = _TASK_START.search(line)
        if start:
            current = start.group(1)
            segments.setdefault(current, [])
            continue
        if _TASK_END.search(line):
            current = None
            continue
        if current is not None:
            segments[current].append(line)
    return [{"task_id": task_id, "state": None, "seconds": None,
             "key_output": _key_output("\n".join(lines), xcoms.get(task_id), patterns)}
            for task_id, lines in segments.items()]


def _key_output(text: str, xcom: Any, patterns: list[re.Pattern]) -> str:
    """What a person wants to see of a task: the application's result line, the workflow phase, the error."""
    parts = []
    lines = [(m.group("level"), m.group("message")) if (m := _LINE.match(line)) else ("", line)
             for line in text.splitlines()]
    for pattern in patterns:
        found = [hit.group(0).strip() for _, message in lines if (hit := pattern.search(message))]
        if found:
            parts.append(found[-1])
    if isinstance(xcom, dict):
        if "phase" in xcom and "name" in xcom:
            parts.append(f"workflow {xcom['name']} {xcom['phase']}")
        elif "state" in xcom and xcom.get("driver_pod"):
            parts.append(f"driver {xcom['driver_pod']} {xcom['state']}")
        elif "eventTime" in xcom:
            parts.append(f"calendar event {xcom['eventTime']}")
        elif xcom and all(isinstance(v, (str, int, float)) for v in xcom.values()):  # a step's key=value output
            parts.append("XCom " + ", ".join(f"{k}={v}" for k, v in xcom.items()))
    if not parts:
        # A failure: the exception a traceback ends with, else the last error message.
        raised = [message for level, message in lines if not level and _RAISED.match(message)]
        errors = raised or [message for level, message in lines if level in ("error", "critical")]
        if errors:
            parts.append(errors[-1].strip()[:240])
    return "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
