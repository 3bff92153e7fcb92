"""What the faults, crashes and kills campaigns share: the Spark and Argo tasks they run (one per launcher or
transport), the emulator they run against, what the emulator saw (applications created per try, retries and
their delays), and a real Airflow to run the tasks in (``dag.test()`` in this process, or an AirflowStack).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_sparkk8s.identity import TRY_NUMBER
from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.testing.faults import RequestRecord

NS = "spark-jobs"
TASK = "job"
DAG_ID_LABEL = "sparkk8s.io/dag-id"
SPARK_LAUNCHERS = ("spark-submit", "pod", "spark-operator")
ARGO_TRANSPORTS = ("k8s", "argo-server")
TARGETS = SPARK_LAUNCHERS + tuple(f"argo/{t}" for t in ARGO_TRANSPORTS)
SPARK_APPLICATION = ("sparkoperator.k8s.io/v1beta2", "SparkApplication")
WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")
TERMINAL_POD_PHASES = ("Succeeded", "Failed")
TERMINAL_WORKFLOW_PHASES = ("Succeeded", "Failed", "Error")


# ---------------------------------------------------------------------------------------------- the tasks
def argo_transport(target: str) -> str | None:
    """The operator's argo_conn_id for an ``argo/<transport>`` target (None: the Kubernetes API)."""
    return "argo_workflows_default" if target == "argo/argo-server" else None


def task_source(target: str, *, succeed: bool, run_seconds: float | None, deferrable: bool, namespace: str = NS,
                retries: int = 0, extra: str = "") -> str:
    """One task for `target` (a Spark launcher, or argo/k8s, argo/argo-server) whose application or workflow
    runs `run_seconds` (forever when None) and then succeeds or fails."""
    common = f"task_id={TASK!r}, namespace={namespace!r}, deferrable={deferrable!r}, retries={retries}, " \
             f"retry_delay=timedelta(seconds=1){extra}"
    if target.startswith("argo/"):
        return (f"ArgoWorkflowOperator({common}, workflow_template={argo_template(succeed, run_seconds)!r}, "
                f"argo_conn_id={argo_transport(target)!r})")
    behaviour = {"outcome": "running"} if run_seconds is None else {"run-seconds": str(run_seconds)}
    if run_seconds is not None and not succeed:
        behaviour.update({"outcome": "failed", "exit-code": "3"})
    annotations = {f"emulator.sparkk8s.io/{k}": v for k, v in behaviour.items()}
    conf = {"spark.executor.instances": "1"}
    if target == "spark-submit":  # spark-submit builds the driver pod: annotations travel as Spark conf
        conf.update({f"spark.kubernetes.driver.annotation.{k}": v for k, v in annotations.items()})
        annotations = {}
    return (f"SparkK8sOperator({common}, application='local:///opt/spark/examples/src/main/python/pi.py', "
            f"image='apache/spark:4.0.1', launcher={target!r}, annotations={annotations!r}, conf={conf!r})")


DAG_HEADER = """from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

"""


def dag_source(dag_id: str, task: str) -> str:
    return (DAG_HEADER + f"with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) "
            f"as dag:\n    {task}\n")


def new_dag_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def argo_template(succeed: bool, run_seconds: float | None) -> str:
    if run_seconds is None:
        return "rel-forever"
    return f"rel-{'ok' if succeed else 'fail'}-{int(run_seconds * 10)}"


def argo_templates(run_seconds: list[float]) -> list[dict]:
    """WorkflowTemplates for argo_template(): one container step that runs, then succeeds or fails; and one
    that runs until the workflow is stopped."""
    def template(name: str, annotations: dict[str, str]) -> dict:
        step = {"name": "work", "metadata": {"annotations": annotations},
                "container": {"image": "busybox:1.36", "command": ["sh", "-c"], "args": ["echo work"]}}
        return {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": name},
                "spec": {"entrypoint": "work", "templates": [step]}}

    out = [template("rel-forever", {"emulator.sparkk8s.io/outcome": "running"})]
    for seconds in sorted(set(run_seconds)):
        for succeed in (True, False):
            annotations = {"emulator.sparkk8s.io/run-seconds": str(seconds)}
            if not succeed:
                annotations.update({"emulator.sparkk8s.io/outcome": "failed", "emulator.sparkk8s.io/exit-code": "3"})
            out.append(template(argo_template(succeed, seconds), annotations))
    return out


# ---------------------------------------------------------------------------------------------- the emulator
@dataclass
class Created:
    """Every application object the emulator stored (from its store's events, so nothing escapes): per DAG id,
    how many of each kind per try number, and each time a driver pod or workflow appeared while another one of
    the same DAG still ran (two applications of one task at once)."""

    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (dag id, kind, try) -> creations
    overlaps: list[str] = field(default_factory=list)  # "dag id: <new> while <running>"
    alive: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (dag id, kind) -> names running
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: bool = False

    def stop(self) -> None:
        """Stop counting (the store has no way to remove a listener: it stays, idle)."""
        self.stopped = True

    def listen(self, event_type: str, rt: Any, obj: dict, old: dict | None) -> None:
        labels = obj["metadata"].get("labels") or {}
        dag_id = labels.get(DAG_ID_LABEL)
        if not dag_id or self.stopped:
            return
        kind = {"sparkapplications": "SparkApplication", "workflows": "Workflow"}.get(rt.plural)
        if rt.plural == "pods":
            role = labels.get("spark-role") or labels.get("sparkk8s.io/role")
            kind = {"driver": "driver pod", "launcher": "launcher pod"}.get(role or "")
        if not kind:
            return
        name = obj["metadata"]["name"]
        phase = (obj.get("status") or {}).get("phase")
        with self.lock:
            running = self.alive.setdefault((dag_id, kind), set())
            if event_type == "ADDED":
                self.counts[(dag_id, kind, labels.get(TRY_NUMBER, "?"))] += 1
                if kind in ("driver pod", "Workflow") and running - {name}:
                    self.overlaps.append(f"{dag_id}: {kind} {name} created while {sorted(running)} still ran")
            if event_type == "DELETED" or phase in TERMINAL_POD_PHASES + TERMINAL_WORKFLOW_PHASES:
                running.discard(name)
            else:
                running.add(name)

    def of(self, dag_id: str) -> dict[str, dict[str, int]]:
        """kind -> {try number: creations} for one DAG."""
        out: dict[str, dict[str, int]] = {}
        with self.lock:
            for (dag, kind, try_number), n in self.counts.items():
                if dag == dag_id:
                    out.setdefault(kind, {})[try_number] = n
        return out

    def overlapping(self, dag_id: str) -> list[str]:
        with self.lock:
            return [o for o in self.overlaps if o.startswith(f"{dag_id}: ")]


def submission_kind(target: str) -> str:
    """The object whose creation is the submission of one try."""
    return {"spark-submit": "driver pod", "pod": "launcher pod", "spark-operator": "SparkApplication"}.get(
        target, "Workflow")


def duplicates(created: dict[str, dict[str, int]], target: str) -> list[str]:
    """More than one submission (or driver pod) for a try."""
    kinds = [submission_kind(target)] + (["driver pod"] if not target.startswith("argo/") else [])
    return [f"{n} {kind}s for try {t}" for kind in dict.fromkeys(kinds) for t, n in created.get(kind, {}).items()
            if n > 1]


def start_emulator(workdir: Path, *, token: str | None = None, namespace: str = NS,
                   run_seconds: list[float] | tuple[float, ...] = ()) -> tuple[KubeEmulator, Created]:
    kube = KubeEmulator(workdir=workdir, token=token, namespaces=[namespace], pod_run_seconds=0.3,
                        pod_pending_seconds=0.1).start()
    return kube, watch_created(kube, run_seconds, namespace)


def watch_created(kube: KubeEmulator, run_seconds: list[float] | tuple[float, ...] = (), namespace: str = NS
                  ) -> Created:
    """Prepare an emulator (maybe started by someone else) for a campaign and count what gets created in it."""
    install(kube, namespace, run_seconds)
    created = Created()
    kube.store.add_listener(created.listen)
    return created


def install(kube: KubeEmulator, namespace: str, run_seconds: list[float] | tuple[float, ...]) -> None:
    """The namespace and the campaign's WorkflowTemplates in an emulator (also one started by someone else)."""
    kube.create_namespace(namespace)
    kube.apply(argo_templates(list(run_seconds)), namespace)


def leftovers(kube: KubeEmulator, namespace: str, dag_id: str) -> list[str]:
    """What of a DAG's tasks still runs: non-terminal driver, launcher and executor pods, and workflows."""
    selector = f"{DAG_ID_LABEL}={dag_id}"
    out = [f"pod {p['metadata']['name']} {p.get('status', {}).get('phase')}"
           for p in kube.list("v1", "Pod", namespace, selector)
           if (p.get("status") or {}).get("phase") not in TERMINAL_POD_PHASES]
    out += [f"workflow {w['metadata']['name']} {(w.get('status') or {}).get('phase')}"
            for w in kube.list(*WORKFLOW, namespace, selector)
            if (w.get("status") or {}).get("phase") not in TERMINAL_WORKFLOW_PHASES]
    return out


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables (Airflow connections, KUBECONFIG) for the duration of the block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ---------------------------------------------------------------------------------------------- the request log
FAILED = (0, 429, 500, 502, 503, 504)


@dataclass
class Retry:
    """A request that failed (or whose connection was cut) and the next request for the same thing."""

    failed: RequestRecord
    retry: RequestRecord | None
    retry_after: float | None  # what the server asked for

    @property
    def delay(self) -> float | None:
        if self.retry is None:
            return None
        return self.retry.started - (self.failed.started + self.failed.duration)

    @property
    def key(self) -> str:
        return f"{self.failed.verb or self.failed.method} {self.failed.resource or self.failed.path}"


def retries(records: list[RequestRecord], retry_after: dict[int, float]) -> list[Retry]:
    """Each failed request with the next request for the same thing: the same call again, or for a failed
    watch the next list or watch of the same collection. `retry_after`: the Retry-After that 429 answers (by
    id() of their record) carried. Log reads are left out (a log follower polls at its own pace)."""
    out = []
    ordered = sorted(records, key=lambda r: r.started)
    for i, record in enumerate(ordered):
        if record.status not in FAILED or record.resource.endswith("/log"):
            continue
        if record.status == 0 and (record.verb == "watch" or record.duration == 0):
            continue  # a watch cut on purpose (drop, stall), or a request still open

        def same(r: RequestRecord, record: RequestRecord = record) -> bool:
            if record.verb == "watch":
                return r.verb in ("list", "watch") and (r.resource, r.namespace) == (record.resource,
                                                                                    record.namespace)
            return (r.method, r.path, r.verb) == (record.method, record.path, record.verb)

        later = [r for r in ordered[i + 1:] if same(r)]
        wait = retry_after.get(id(record))
        if wait is not None:
            # Another caller may read the same object meanwhile (a wait's final read while a confirming read
            # backs off): the retry is the first same request after the Retry-After, when there is one.
            honoured = [r for r in later if r.started >= record.started + record.duration + wait - 0.05]
            later = honoured or later
        out.append(Retry(record, later[0] if later else None, wait))
    return out


def streaks(records: list[RequestRecord]) -> int:
    """The longest run of consecutive failures of one request (same method, path and verb)."""
    longest, current = 0, Counter[tuple[str, str, str]]()
    for r in sorted(records, key=lambda r: r.started):
        if r.verb == "watch":
            continue
        key = (r.method, r.path, r.verb)
        current[key] = current[key] + 1 if r.status in FAILED else 0
        longest = max(longest, current[key])
    return longest


# ---------------------------------------------------------------------------------------------- Airflow in process
_MIGRATED: list[Path] = []


def airflow_home() -> Path:
    """AIRFLOW_HOME with a migrated metadata DB for dag.test() in this process. Inside the test session the
    session's home is used (tests/conftest.py sets it before Airflow is imported); from the command line a
    temporary one is made the same way."""
    if _MIGRATED:
        return _MIGRATED[0]
    if "airflow" not in sys.modules and not os.environ.get("AIRFLOW_HOME"):
        home = Path(tempfile.mkdtemp(prefix="sparkk8s-reliability-airflow-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        (home / "dags").mkdir()
        os.environ.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
                           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
    (home / "dags").mkdir(parents=True, exist_ok=True)
    if not _migrated(home / "airflow.db"):
        airflow = Path(sys.executable).with_name("airflow")
        done = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{done.stderr[-3000:]}")
    _MIGRATED.append(home)
    return home


def _migrated(db: Path) -> bool:
    if not db.exists():
        return False
    with contextlib.closing(sqlite3.connect(db)) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {"alembic_version", "dag_run", "task_instance", "xcom"} <= tables


@dataclass
class DagTestResult:
    state: str | None
    try_number: int
    seconds: float
    output: str


@contextlib.contextmanager
def _captured(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors, so Airflow's task output too) to a file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("wb") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def dag_test(dag_id: str, source: str) -> DagTestResult:
    """Write a DAG file, run its `dag` with dag.test() (as `airflow dags test` does), return the task's state."""
    home = airflow_home()
    path = home / "dags" / f"{dag_id}.py"
    path.write_text(source)
    log = home / f"{dag_id}.out"
    began = time.monotonic()
    try:
        spec = importlib.util.spec_from_file_location(dag_id, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with _captured(log):
            dag_run = module.dag.test()
        [ti] = dag_run.get_task_instances()
        return DagTestResult(getattr(ti.state, "value", ti.state), ti.try_number, time.monotonic() - began,
                             log.read_text(errors="replace"))
    finally:
        path.unlink(missing_ok=True)
        log.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- figures
def progress(line: str) -> None:
    """One line per trial on stderr: what ran, what came out (a campaign's record of its trials)."""
    print(line, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def seconds_figures(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"p50 {percentile(values, 0.5):.2f} / p99 {percentile(values, 0.99):.2f} / "
            f"max {max(values):.2f}")


# ---------------------------------------------------------------------------------------------- an Airflow stack
@contextlib.contextmanager
def airflow_stack(kube: KubeEmulator, stack: Any = None) -> Iterator[Any]:
    """The given running AirflowStack (its connections must point at `kube`), or a new one for the block."""
    if stack is not None:
        yield stack
        return
    from tests.stack import AirflowStack

    with tempfile.TemporaryDirectory(prefix="sparkk8s-reliability-stack-") as tmp:
        own = AirflowStack(Path(tmp), extra_env=kube.airflow_env(), parallelism=8)
        try:
            own.start(timeout=600)  # a loaded machine starts Airflow slowly
            yield own
        finally:
            own.stop()


def run_in_stack(name: str, trials: list[Any], source: Callable[[Any], str], run_trial: Callable[..., list[str]],
                 result: Any, *, stack: Any, kube: KubeEmulator | None, parallel: int,
                 run_seconds: tuple[float, ...] = ()) -> Created:
    """Run `trials` in an Airflow stack (the given one, or one started for the campaign with its own emulator),
    `parallel` at a time: each gets a DAG (`source(trial)`, its dag_id set first) and ``run_trial(trial, stack,
    kube, created)`` returns its violations. Returns what the emulator saw created."""
    with tempfile.TemporaryDirectory(prefix=f"{name}-campaign-") as tmp:
        own_kube = kube is None
        if kube is None:
            kube, created = start_emulator(Path(tmp) / "kube", run_seconds=run_seconds)
        else:
            created = watch_created(kube, run_seconds)
        try:
            with airflow_stack(kube, stack) as airflow:
                if stack is not None:
                    ensure_tasks_run(airflow)
                sources = {}
                for trial in trials:
                    trial.dag_id = new_dag_id(f"{name}_{trial.number}")
                    sources[trial.dag_id] = source(trial)
                add_dags(airflow, sources)
                lock = threading.Lock()

                def one(trial: Any) -> None:
                    try:
                        violations = run_trial(trial, airflow, kube, created)
                    except Exception as exc:  # noqa: BLE001 - a stuck trial is a violation, not a crash
                        violations = [f"{trial.describe()}: {type(exc).__name__}: {str(exc)[:3000]}"]
                    with lock:
                        result.violations.extend(violations)
                        result.trials += 1
                    progress(f"{trial.summary()}, violations {violations}")

                with ThreadPoolExecutor(parallel) as pool:
                    list(pool.map(one, trials))
                for dag_id in sources:
                    (airflow.dags / f"{dag_id}.py").unlink(missing_ok=True)
        finally:
            created.stop()
            if own_kube:
                kube.stop()
    return created


def add_dags(stack: Any, sources: dict[str, str], timeout: float = 120) -> None:
    """Write every DAG file, then wait until each is parsed (one dag-processor pass for all of them)."""
    for dag_id, source in sources.items():
        (stack.dags / f"{dag_id}.py").write_text(source)
    for dag_id, source in sources.items():
        stack.add_dag(dag_id, source, timeout=timeout)


def trigger(stack: Any, dag_id: str) -> str:
    """Trigger a DAG run. SQLite serialises the stack's writers and the api-server answers a lock it waited out
    with 500 "Database error" (nothing written): a person would click again, so does this (as
    AirflowStack.set_ti_state does)."""
    for attempt in range(3):
        try:
            return stack.trigger(dag_id)
        except AssertionError as exc:  # StackError
            if "-> 500" not in str(exc) or "Database error" not in str(exc) or attempt == 2:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def wait_for_task_process(stack: Any, dag_id: str, run_id: str, timeout: float) -> int:
    """The pid of the task's task process, polled often so that it is seen as soon as it starts. The task
    instance is read again every second: a try that failed before its process started (the Execution API
    refusing to start it, say) is followed by a retry with a new task instance id."""
    deadline = time.monotonic() + timeout
    ti: dict[str, Any] = {}
    read_at = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() - read_at > 1.0:
            ti, read_at = stack.ti(dag_id, run_id, TASK), time.monotonic()
        pid = stack.task_process(ti["id"]) if ti.get("id") else None
        if pid is not None:
            return pid
        time.sleep(0.02)
    raise TimeoutError(f"no task process for {dag_id} within {timeout:.0f}s; the task instance: state "
                       f"{ti.get('state')}, try {ti.get('try_number')}, id {ti.get('id')}\n{stack.tails()}")


CANARY_SOURCE = """from datetime import datetime

from airflow.sdk import DAG, task

with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    @task
    def ping() -> str:
        return "pong"

    ping()
"""


def ensure_tasks_run(stack: Any, timeout: float = 90) -> None:
    """Run a one-task DAG in a stack that earlier tests have used (and restarted components of) before trials
    whose deadlines assume that tasks start. If its scheduler runs no task, it is restarted once, loudly, with
    its log tail: a campaign then measures the provider, not a stuck scheduler."""
    dag_id = new_dag_id("canary")
    stack.add_dag(dag_id, CANARY_SOURCE.format(dag_id=dag_id))
    try:
        for attempt in (1, 2):
            run_id = trigger(stack, dag_id)
            try:
                stack.wait_for_ti(dag_id, run_id, "ping", ["success"], timeout)
                return
            except AssertionError as exc:  # StackError
                if attempt == 2:
                    raise
                progress(f"the stack ran no task within {timeout:.0f}s; restarting its scheduler:\n{exc}")
                stack.restart("scheduler")
    finally:
        (stack.dags / f"{dag_id}.py").unlink(missing_ok=True)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (spark-submit started by a task process, say)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out


def gone(kube: KubeEmulator, namespace: str, dag_id: str, target: str) -> bool:
    """The task's application is gone: no driver or launcher pod left and no SparkApplication (Spark),
    or every workflow ended (Argo: stopped or terminated)."""
    selector = f"{DAG_ID_LABEL}={dag_id}"
    if target.startswith("argo/"):
        return all((w.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES
                   for w in kube.list(*WORKFLOW, namespace, selector))
    pods = [p for p in kube.list("v1", "Pod", namespace, selector) if not p["metadata"].get("deletionTimestamp")
            and ((p["metadata"].get("labels") or {}).get("spark-role") == "driver"
                 or (p["metadata"].get("labels") or {}).get("sparkk8s.io/role") == "launcher")]
    return not pods and not kube.list(*SPARK_APPLICATION, namespace, selector)


def running(kube: KubeEmulator, namespace: str, dag_id: str, target: str) -> bool:
    """The task's driver pod (Spark) or workflow (Argo) is Running."""
    selector = f"{DAG_ID_LABEL}={dag_id}"
    if target.startswith("argo/"):
        objects = kube.list(*WORKFLOW, namespace, selector)
    else:
        objects = kube.list("v1", "Pod", namespace, f"{selector},spark-role=driver")
    return any((o.get("status") or {}).get("phase") == "Running" for o in objects)


def spark_submit_available() -> bool:
    """Whether spark-submit can run here (pyspark ships it; it needs Java). Under CI=true a missing one is an
    error, as for every other prerequisite of the suite."""
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook, SparkSubmitError

    try:
        SparkK8sHook().spark_submit_binary()
    except SparkSubmitError:
        found = False
    else:
        found = shutil.which("java") is not None
    if not found and os.environ.get("CI", "").lower() == "true":
        raise RuntimeError("spark-submit or Java is missing under CI=true")
    return found
