"""Pieces of benchmarks/triggerer_load.py: the emulator process, a throw-away Airflow home, deferred task
instances seeded straight into the metadata DB, the objects the triggers wait for, and process measurements.

Airflow is imported lazily: `airflow_settings()` must be in os.environ before the first Airflow import, so
this process and the `airflow` subprocesses share one configuration.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil

DAG_ID = "triggerer_load"
TASK_ID = "wait"
KINDS = ("ours-spark", "ours-argo", "upstream-pod")
DRIVER_CONTAINER = "spark-kubernetes-driver"  # SparkKubernetesOperator.BASE_CONTAINER_NAME
IMAGE_ID = "docker.io/apache/spark@sha256:" + "0" * 64
WORKFLOWS = "/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows"
PODS = "/api/v1/namespaces/{ns}/pods"
DAG_FILE = f'''\
"""One task; the benchmark seeds its deferred task instances directly into the metadata DB."""
from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("{DAG_ID}", schedule=None, start_date=datetime(2025, 1, 1), catchup=False):
    EmptyOperator(task_id="{TASK_ID}")
'''


def bin_path(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------- the emulator, its own process
@dataclass
class Emulator:
    process: subprocess.Popen[str]
    url: str
    kubeconfig: str

    @classmethod
    def start(cls, workdir: Path) -> Emulator:
        proc = subprocess.Popen([bin_path("sparkk8s"), "emulator", "--workdir", str(workdir), "--no-pods"],
                                stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert proc.stdout is not None
        url = kubeconfig = ""
        for line in proc.stdout:
            if line.startswith("Kubernetes API emulator listening on "):
                url = line.rsplit(" ", 1)[1].strip()
            elif line.startswith("kubeconfig: "):
                kubeconfig = line.split(" ", 1)[1].strip()
            if url and kubeconfig:
                return cls(proc, url, kubeconfig)
        raise RuntimeError("the emulator did not start")

    def connection_env(self, namespace: str = "default") -> dict[str, str]:
        """What KubeEmulator.airflow_env() gives for an in-process emulator: kubernetes_default -> this one."""
        conn = {"conn_type": "kubernetes", "extra": {"kube_config_path": self.kubeconfig, "namespace": namespace}}
        return {"AIRFLOW_CONN_KUBERNETES_DEFAULT": json.dumps(conn), "KUBECONFIG": self.kubeconfig}

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    """SIGTERM the process we started; SIGKILL its process group (it is the leader) if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    else:  # children of an exited leader may remain
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------------- Airflow home
def airflow_settings(home: Path, emulator: Emulator, capacity: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    settings = {
        "CORE__DAGS_FOLDER": str(home / "dags"),
        "CORE__LOAD_EXAMPLES": "False",
        "CORE__FERNET_KEY": Fernet.generate_key().decode(),  # trigger kwargs are stored encrypted, as in production
        "CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:9/execution/",  # unused: the triggerer runs it in-process
        "DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "API_AUTH__JWT_SECRET": os.urandom(16).hex(),
        "LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "TRIGGERER__CAPACITY": str(capacity),
        # Assign every seeded trigger in the first loop (default 50 per second), so warm-up is short.
        "TRIGGERER__MAX_TRIGGER_TO_SELECT_PER_LOOP": str(capacity),
    }
    env = {f"AIRFLOW__{k}": v for k, v in settings.items()}
    env.update(AIRFLOW_HOME=str(home), PYTHONUNBUFFERED="1", **emulator.connection_env())
    return env


def prepare_home(home: Path, env: dict[str, str]) -> None:
    """`airflow db migrate`, then the DAG file serialized into the DB (a DagModel, DagVersion, SerializedDag)."""
    (home / "dags").mkdir(parents=True, exist_ok=True)
    (home / "dags" / f"{DAG_ID}.py").write_text(DAG_FILE)
    for argv in (["db", "migrate"], ["dags", "reserialize"]):
        done = subprocess.run([bin_path("airflow"), *argv], env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(argv)} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def seed_deferred(triggers: list[tuple[str, Any]], prefix: str) -> list[str]:
    """One DagRun per trigger, its task instance DEFERRED on a Trigger row made from the trigger object, as the
    execution API's defer does (Trigger row, then state/trigger_id/next_method on the TI). Returns run ids in
    the order of `triggers` (each paired with the object name it waits for)."""
    from airflow.models.dag_version import DagVersion
    from airflow.models.dagrun import DagRun
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    run_ids = []
    with create_session() as session:
        dag = SerializedDagModel.get_dag(DAG_ID, session=session)
        version = DagVersion.get_latest_version(DAG_ID, session=session)
        assert dag is not None and version is not None, "the DAG was not serialized"
        task = dag.get_task(TASK_ID)
        now = datetime.now(UTC)
        for name, trigger in triggers:
            run_id = f"{prefix}-{name}"
            run = DagRun(dag_id=DAG_ID, run_id=run_id, run_after=now, start_date=now, state=DagRunState.RUNNING,
                         run_type=DagRunType.MANUAL, triggered_by=DagRunTriggeredByType.TEST)
            run.created_dag_version_id = version.id
            row = Trigger.from_object(trigger)
            session.add_all([run, row])
            session.flush()
            ti = TaskInstance(task, dag_version_id=version.id, run_id=run_id, state=TaskInstanceState.DEFERRED)
            ti.try_number = 1
            ti.start_date = now
            ti.trigger_id = row.id
            ti.next_method = "execute_complete"
            session.add(ti)
            run_ids.append(run_id)
        session.commit()
    return run_ids


# ---------------------------------------------------------------------- the objects waited for
async def api(session: aiohttp.ClientSession, method: str, url: str, body: Any = None,
              content_type: str = "application/json") -> dict:
    data = None if body is None else json.dumps(body)
    async with session.request(method, url, data=data, headers={"Content-Type": content_type}) as resp:
        payload = await resp.json(content_type=None)
        if resp.status >= 400:
            raise RuntimeError(f"{method} {url}: HTTP {resp.status}: {payload}")
        return payload


async def bounded(jobs: list[Callable[[], Awaitable[Any]]], concurrency: int = 16) -> list[Any]:
    sem = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with sem:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


def driver_pod(name: str, app_id: str) -> dict:
    """A driver pod as spark-submit in cluster mode creates it."""
    labels = {"spark-role": "driver", "spark-app-selector": app_id, "spark-app-name": name.removesuffix("-driver")}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"restartPolicy": "Never", "serviceAccountName": "spark",
                     "containers": [{"name": DRIVER_CONTAINER, "image": "apache/spark:4.0.1",
                                     "args": ["driver", "--class", "org.example.Job", "local:///opt/job.jar"]}]}}


def pod_status(phase: str) -> dict:
    started = now_rfc3339()
    if phase == "Running":
        state: dict[str, Any] = {"running": {"startedAt": started}}
    else:
        state = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": started}}
    ready = "True" if phase == "Running" else "False"
    return {"status": {
        "phase": phase, "startTime": started, "hostIP": "10.0.0.1", "podIP": "10.0.0.2",
        "conditions": [{"type": t, "status": s, "lastTransitionTime": started}
                       for t, s in (("PodScheduled", "True"), ("Initialized", "True"), ("ContainersReady", ready),
                                    ("Ready", ready))],
        "containerStatuses": [{"name": DRIVER_CONTAINER, "image": "apache/spark:4.0.1", "imageID": IMAGE_ID,
                               "containerID": "containerd://" + "0" * 64, "ready": phase == "Running",
                               "restartCount": 0, "started": phase == "Running", "state": state}]}}


def workflow(name: str) -> dict:
    """A workflow the emulator's Argo controller keeps Running: its only step is an open-ended suspend."""
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": name},
            "spec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]}}


@dataclass
class Objects:
    """The N objects one benchmark run waits for, in their own namespace."""

    url: str
    kind: str
    namespace: str
    names: list[str] = field(default_factory=list)
    uids: dict[str, str] = field(default_factory=dict)

    @property
    def is_workflow(self) -> bool:
        return self.kind == "ours-argo"

    async def create(self, n: int) -> None:
        async with aiohttp.ClientSession() as s:
            await api(s, "POST", f"{self.url}/api/v1/namespaces",
                      {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}})
            self.names = [f"job-{i:04d}" + ("" if self.is_workflow else "-driver") for i in range(n)]
            if self.is_workflow:
                base = self.url + WORKFLOWS.format(ns=self.namespace)
                created = await bounded([lambda n=name: api(s, "POST", base, workflow(n)) for name in self.names])
                self.uids = {o["metadata"]["name"]: o["metadata"]["uid"] for o in created}
                await self._until_running(s, base)
            else:
                base = self.url + PODS.format(ns=self.namespace)
                await bounded([lambda n=name: api(s, "POST", base, driver_pod(n, f"spark-{n[4:8]}"))
                               for name in self.names])
                await bounded([lambda n=name: api(s, "PATCH", f"{base}/{n}/status", pod_status("Running"),
                                                  "application/merge-patch+json") for name in self.names])

    async def _until_running(self, s: aiohttp.ClientSession, base: str) -> None:
        for _ in range(600):
            items = (await api(s, "GET", base))["items"]
            if sum((w.get("status") or {}).get("phase") == "Running" for w in items) == len(self.names):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("the emulator's Argo controller did not start the workflows")

    async def finish(self, rate: float, concurrency: int = 16) -> dict[str, float]:
        """Make every object terminal (success) through the API, `rate` objects per second (0: all at once,
        `concurrency` PATCHes in flight). Returns name -> wall time its PATCH was sent."""
        sent: dict[str, float] = {}
        start = time.monotonic()
        async with aiohttp.ClientSession() as s:
            async def one(index: int, name: str) -> None:
                if rate > 0:
                    await asyncio.sleep(max(0.0, start + index / rate - time.monotonic()))
                if self.is_workflow:
                    url = f"{self.url}{WORKFLOWS.format(ns=self.namespace)}/{name}"
                    body: dict = {"metadata": {"labels": {"workflows.argoproj.io/phase": "Succeeded",
                                                          "workflows.argoproj.io/completed": "true"}},
                                  "status": {"phase": "Succeeded", "finishedAt": now_rfc3339(), "progress": "0/0"}}
                else:
                    url = f"{self.url}{PODS.format(ns=self.namespace)}/{name}/status"
                    body = pod_status("Succeeded")
                sent[name] = time.time()
                await api(s, "PATCH", url, body, "application/merge-patch+json")

            jobs = [lambda i=i, n=name: one(i, n) for i, name in enumerate(self.names)]
            await bounded(jobs, len(jobs) if rate > 0 else concurrency)
        return sent


def uncovered(records: list[dict], objects: Objects) -> set[str]:
    """The objects no served request has read yet: not fetched by name, not selected by a list or watch by name
    and not in a list or watch of their whole namespace."""
    from urllib.parse import parse_qs

    plural = "workflows" if objects.is_workflow else "pods"
    left = set(objects.names)
    for r in records:
        served = r["status"] == 0 or 200 <= r["status"] < 300  # 0: a watch still open
        if not served or r["resource"] != plural or r["namespace"] not in (objects.namespace, ""):
            continue
        if r["name"]:
            left.discard(r["name"])
            continue
        selector = (parse_qs(r["query"]).get("fieldSelector") or [""])[0]
        if selector.startswith("metadata.name="):
            left.discard(selector.removeprefix("metadata.name="))
        else:
            return set()
    return left


def make_trigger(kind: str, namespace: str, name: str, uid: str, conn_extras: dict[str, Any]) -> Any:
    """The trigger the operator would defer to, for one object (`conn_extras`: the kubernetes connection's)."""
    if kind == "ours-spark":
        from airflow_provider_sparkk8s.hooks.spark import SparkRun
        from airflow_provider_sparkk8s.triggers.spark import SparkK8sTrigger

        run = SparkRun("spark-submit", namespace, name, spark_app_id=f"spark-{name[4:8]}", started_at=time.time())
        return SparkK8sTrigger(run.to_dict(), kubernetes_conn_id="kubernetes_default")
    if kind == "ours-argo":
        from airflow_provider_sparkk8s.hooks.argo import WorkflowRef
        from airflow_provider_sparkk8s.triggers.argo import ArgoWorkflowTrigger

        return ArgoWorkflowTrigger(WorkflowRef(namespace, name, uid).to_dict(), argo_conn_id=None,
                                   kubernetes_conn_id="kubernetes_default")
    if kind == "upstream-pod":
        from airflow.providers.cncf.kubernetes.triggers.pod import KubernetesPodTrigger

        # As KubernetesPodOperator.invoke_defer_method builds it (SparkKubernetesOperator goes through the same
        # method with its driver container): the connection's extras resolved in the worker, defaults otherwise.
        return KubernetesPodTrigger(pod_name=name, pod_namespace=namespace, trigger_start_time=datetime.now(UTC),
                                    base_container_name=DRIVER_CONTAINER, kubernetes_conn_id="kubernetes_default",
                                    connection_extras=conn_extras)
    raise ValueError(f"unknown kind {kind!r}")


# ---------------------------------------------------------------------- the metadata DB, read directly
def db_path(env: dict[str, str]) -> str:
    return env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")


def deferred_runs(db: str, prefix: str) -> set[str]:
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute("SELECT run_id FROM task_instance WHERE dag_id = ? AND run_id LIKE ? AND state = ?",
                            (DAG_ID, f"{prefix}-%", "deferred")).fetchall()
    return {r[0] for r in rows}


def recorded_at(db: str, prefix: str) -> dict[str, tuple[float, str]]:
    """run id -> (wall time the triggerer recorded the event, the event's status) for the resumed tasks:
    handle_event_submit sets scheduled_dttm and puts the event into next_kwargs."""
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute("SELECT run_id, scheduled_dttm, next_kwargs FROM task_instance WHERE dag_id = ? AND "
                            "run_id LIKE ? AND state = 'scheduled' AND next_kwargs IS NOT NULL",
                            (DAG_ID, f"{prefix}-%")).fetchall()
    out = {}
    for run_id, stamp, kwargs in rows:
        event = (json.loads(kwargs) or {}).get("event") or {}
        out[run_id] = (parse_utc(stamp), str(event.get("status") if isinstance(event, dict) else event))
    return out


def forget_unfinished(db: str, prefix: str) -> None:
    """Fail what a run left deferred and drop its triggers, so the next triggerer does not adopt them."""
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute("UPDATE task_instance SET state = 'failed', trigger_id = NULL WHERE dag_id = ? AND run_id LIKE ? "
                     "AND state = 'deferred'", (DAG_ID, f"{prefix}-%"))
        conn.execute("DELETE FROM trigger WHERE id NOT IN "
                     "(SELECT trigger_id FROM task_instance WHERE trigger_id IS NOT NULL)")


def parse_utc(text: str) -> float:
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


# ---------------------------------------------------------------------- the triggerer's per-task logs
def trigger_logs(home: Path, run_id: str) -> list[Path]:
    return list((home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}").glob("**/*.trigger.*.log"))


def log_event(home: Path, run_id: str, event: str) -> tuple[float, str] | None:
    """(wall time, text) of the first log line of a run's trigger log containing `event`."""
    for path in trigger_logs(home, run_id):
        for line in path.read_text(errors="replace").splitlines():
            if event in line:
                try:
                    return parse_utc(json.loads(line)["timestamp"]), line
                except (ValueError, KeyError):
                    return None
    return None


def main_log_events(log_path: Path, event: str) -> dict[str, float]:
    """run id -> wall time of `event` lines in the triggerer's own output: a trigger's log line that reaches the
    supervisor after it has handled the trigger's event goes there instead of the task's trigger log."""
    found: dict[str, float] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if event in line and (match := re.search(r" run_id=(\S+)", line)):
            found.setdefault(match.group(1), parse_utc(line.split(" ", 1)[0]))
    return found


# ---------------------------------------------------------------------- process measurements
def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all CPUs, not idle, not waiting for I/O, not stolen)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "steal", 0.0) - getattr(t, "guest", 0.0) \
        - getattr(t, "guest_nice", 0.0)


def rss_bytes(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]
