"""A real Airflow 3 deployment for end-to-end tests: api-server, scheduler (LocalExecutor), dag-processor
and triggerer as separate processes, each in its own process group, with a fresh AIRFLOW_HOME.

Metadata DB: SQLite. Airflow 3.3 accepts SQLite with the LocalExecutor (the default configuration and
`airflow standalone` use exactly that pair; the SQLite-forbids-LocalExecutor check of Airflow 2 is gone).
Task processes never open the DB: they talk to the api-server's execution API, so the writers are the
four long-running components, which SQLite serialises well enough for a handful of tasks.

Auth: the SimpleAuthManager with ``simple_auth_manager_all_admins``: the api-server adds an admin token to
every request, so tests call the public REST API (``/api/v2``) without credentials. Everything listens on
127.0.0.1 only. With ``users={"alice": "admin", "bob": "viewer"}`` the stack has real users instead: the
api-server generates their passwords into ``passwords_file`` on its first start (``passwords()`` reads them),
people log in through the UI's login form, and the stack's own REST client logs in as ``api_user`` (the first
admin by default) with ``POST /auth/token``.

    stack = AirflowStack(tmp_path, extra_env=kube.airflow_env())
    stack.start()                       # db migrate + the four components; waits until all are healthy
    stack.add_dag(dag_id, source)       # waits until the dag-processor has parsed it
    run_id = stack.trigger(dag_id)
    stack.wait_for_ti(dag_id, run_id, "task", {"running"})
    stack.set_ti_state(dag_id, run_id, "task", "failed")   # what "Mark failed" in the UI does
    stack.restart("triggerer")
    stack.stop()

Each component's stdout/stderr goes to ``<root>/logs/<component>.<n>.log``; ``tails()`` returns their
last lines for assertion messages.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
TERMINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StackError(AssertionError):
    """A stack operation failed; the message carries the components' log tails."""


@dataclass
class Component:
    """One Airflow process (and, through its process group, everything it forks)."""

    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0  # wall clock, to compare with heartbeats

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class AirflowStack:
    """Airflow's components as separate processes. See the module docstring."""

    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    parallelism: int = 4
    config: dict[str, str] = field(default_factory=dict)  # more AIRFLOW__SECTION__KEY overrides
    users: dict[str, str] | None = None  # username -> role (viewer, user, op, admin); None: everyone is admin
    api_user: str | None = None  # who the REST client logs in as (default: the first admin of `users`)
    components: dict[str, Component] = field(default_factory=dict, init=False)
    startup_seconds: float | None = field(default=None, init=False)
    _launches: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.home = self.root / "airflow-home"
        self.dags = self.home / "dags"
        self.logs = self.root / "logs"
        self.passwords_file = self.root / "simple_auth_manager_passwords.json"
        for path in (self.home, self.dags, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        self.api_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.env = self._environment()
        self.client = httpx.Client(base_url=self.url, timeout=30)

    # ------------------------------------------------------------------ configuration
    def _environment(self) -> dict[str, str]:
        # Nothing of the caller's Airflow configuration leaks in (the test session has its own home).
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        settings = {
            "CORE__EXECUTOR": "LocalExecutor",
            "CORE__PARALLELISM": str(self.parallelism),
            "CORE__DAGS_FOLDER": str(self.dags),
            "CORE__LOAD_EXAMPLES": "False",
            "CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "CORE__FERNET_KEY": "",
            "DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "API__HOST": "127.0.0.1",
            "API__PORT": str(self.api_port),
            "API__BASE_URL": self.url,
            "API__WORKERS": "1",
            # Every process signs and checks execution-API tokens with the same secret.
            "API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "API__SECRET_KEY": secrets.token_urlsafe(32),
            # New DAG files are noticed within a couple of seconds.
            "DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
            "DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
            "DAG_PROCESSOR__PARSING_PROCESSES": "1",
            # The supervisor heartbeats every second, so a user's "mark failed" reaches a running task fast.
            "WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            "SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
            "LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            **self._auth_settings(),
            **self.config,
        }
        env.update({f"AIRFLOW__{k}": v for k, v in settings.items()})
        env["AIRFLOW_HOME"] = str(self.home)
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def _auth_settings(self) -> dict[str, str]:
        if self.users is None:
            return {}
        if not self.users or any(":" in u or "," in u for u in self.users):
            raise ValueError(f"users: expected non-empty user names without ':' or ',', got {sorted(self.users)}")
        return {
            "CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{user}:{role}" for user, role in self.users.items()),
            "CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
        }

    @property
    def airflow(self) -> str:
        return str(Path(sys.executable).with_name("airflow"))

    def _argv(self, name: str) -> list[str]:
        if name in ("scheduler", "triggerer"):
            return [self.airflow, name, "--skip-serve-logs"]  # logs are read from disk, no log server needed
        return [self.airflow, name]

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 180) -> AirflowStack:
        began = time.monotonic()
        migrate = subprocess.run([self.airflow, "db", "migrate"], env=self.env, capture_output=True, text=True,
                                 timeout=300)
        (self.logs / "db-migrate.log").write_text(migrate.stdout + migrate.stderr)
        if migrate.returncode != 0:
            raise StackError(f"airflow db migrate failed:\n{(migrate.stdout + migrate.stderr)[-4000:]}")
        for name in COMPONENTS:
            self.start_component(name)
        self.wait_healthy(timeout=timeout - (time.monotonic() - began))
        if self.users is not None:
            self.client.headers["Authorization"] = f"Bearer {self.login(self._api_user())}"
        self.startup_seconds = time.monotonic() - began
        return self

    def start_component(self, name: str) -> Component:
        if name in self.components and self.components[name].alive():
            raise StackError(f"{name} is already running (pid {self.components[name].pid})")
        self._launches += 1
        log_path = self.logs / f"{name}.{self._launches}.log"
        component = Component(name, self._argv(name), log_path, started_at=time.time())
        with log_path.open("wb") as out:
            # A process group per component: stopping one takes what it forked (workers, tasks) with it.
            component.process = subprocess.Popen(component.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                                 stdin=subprocess.DEVNULL, cwd=self.root, start_new_session=True)
        self.components[name] = component
        return component

    def signal(self, name: str, sig: signal.Signals, group: bool = False) -> None:
        """Send a signal to a component's main process (or to its whole process group)."""
        component = self.components[name]
        if not component.alive():
            return
        assert component.pid is not None
        if group:
            os.killpg(component.pid, sig)
        else:
            os.kill(component.pid, sig)

    def stop_component(self, name: str, timeout: float = 30) -> int | None:
        """SIGTERM the component (its main process, as a process manager would); SIGKILL the group if it
        does not exit within `timeout`. Returns the exit code."""
        component = self.components.get(name)
        if component is None or component.process is None:
            return None
        if component.alive():
            self.signal(name, signal.SIGTERM)
            try:
                component.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._kill_group(component)
        return component.process.returncode

    def restart(self, name: str, timeout: float = 60) -> Component:
        self.stop_component(name)
        component = self.start_component(name)
        self.wait_healthy(timeout=timeout, components=(name,))
        return component

    def _kill_group(self, component: Component) -> None:
        assert component.process is not None
        try:
            os.killpg(component.process.pid, signal.SIGKILL)  # leftovers: workers, task processes
        except (ProcessLookupError, PermissionError):
            pass
        try:
            component.process.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def stop(self, timeout: float = 15) -> None:
        # The scheduler first, so no new task starts while the rest goes down; then the others at once (each
        # takes seconds to shut down, and none waits for another).
        if "scheduler" in self.components:
            self.stop_component("scheduler", timeout=timeout)
        rest = [self.components[n] for n in ("triggerer", "dag-processor", "api-server") if n in self.components]
        for component in rest:
            if component.alive():
                self.signal(component.name, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for component in rest:
            if component.process is not None:
                try:
                    component.process.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
                self._kill_group(component)
        self.client.close()

    def __enter__(self) -> AirflowStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ health
    def health(self) -> dict[str, Any]:
        """`/api/v2/monitor/health`: the metadatabase and the heartbeats of scheduler, triggerer, dag-processor."""
        return self.client.get("/api/v2/monitor/health", timeout=5).json()

    def wait_healthy(self, timeout: float = 120, components: Iterable[str] = COMPONENTS) -> None:
        wanted = set(components)
        # Health is judged by the latest heartbeat in the DB, which may be the one of a component that has
        # just been replaced: require the process to be alive and a heartbeat from after it started.
        keys = {"scheduler": "scheduler", "triggerer": "triggerer", "dag-processor": "dag_processor"}
        since = {name: self.components[name].started_at for name in wanted}

        def fresh(name: str, report: dict[str, Any]) -> bool:
            entry = report.get(keys[name]) or {}
            beat = next((v for k, v in entry.items() if k.startswith("latest_") and v), None)
            if entry.get("status") != "healthy" or beat is None:
                return False
            return datetime.fromisoformat(beat.replace("Z", "+00:00")).timestamp() >= since[name]

        def healthy() -> bool:
            for name in wanted:
                if not self.components[name].alive():
                    raise StackError(f"{name} exited with {self.components[name].process.returncode}"  # type: ignore
                                     f"\n{self.tails()}")
            try:
                report = self.health()
            except (httpx.HTTPError, ValueError):
                return False
            if (report.get("metadatabase") or {}).get("status") != "healthy":
                return False
            return all(fresh(n, report) for n in wanted if n in keys)

        self.wait(healthy, timeout, f"components {sorted(wanted)} healthy")

    # ------------------------------------------------------------------ users (with `users`)
    def passwords(self) -> dict[str, str]:
        """The passwords the api-server generated for `users` (username -> password)."""
        if self.users is None:
            raise StackError("the stack runs with simple_auth_manager_all_admins: there are no passwords")

        def generated() -> dict[str, str] | None:
            try:
                passwords = json.loads(self.passwords_file.read_text() or "{}")
            except (OSError, ValueError):
                return None  # not written yet, or being written
            return passwords if set(self.users or {}) <= set(passwords) else None

        return self.wait(generated, 30, f"the generated passwords in {self.passwords_file}")

    def login(self, user: str) -> str:
        """A JWT for `user`, from the SimpleAuthManager's login endpoint (what the UI's login form posts)."""
        response = self.client.post("/auth/token", json={"username": user, "password": self.passwords()[user]})
        if response.status_code >= 400:
            raise StackError(f"login of {user} -> {response.status_code}: {response.text[:500]}")
        return response.json()["access_token"]

    def _api_user(self) -> str:
        assert self.users is not None
        user = self.api_user or next((u for u, role in self.users.items() if role.lower() == "admin"), None)
        if user is None or user not in self.users:
            raise StackError(f"api_user: the REST client needs one of the users, preferably an admin ({self.users})")
        return user

    # ------------------------------------------------------------------ waiting and diagnostics
    def wait(self, predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise StackError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.tails()}")
            time.sleep(interval)

    def tails(self, lines: int = 40) -> str:
        return "\n".join(f"----- {c.name} ({c.log_path.name}, pid {c.pid}, "
                         f"{'alive' if c.alive() else 'exited'}) -----\n{c.tail(lines)}"
                         for c in self.components.values())

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task's log file as the worker wrote it (JSON lines)."""
        base = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        path = base / f"attempt={try_number}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def trigger_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """What the task's triggers logged in the triggerer (one file per trigger, JSON lines)."""
        base = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return "".join(p.read_text(errors="replace") for p in sorted(base.glob(f"attempt={try_number}.log.trigger.*")))

    # ------------------------------------------------------------------ REST API
    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, f"/api/v2{path}", **kwargs)
        if response.status_code >= 400:
            raise StackError(f"{method} /api/v2{path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    def add_dag(self, dag_id: str, source: str, timeout: float = 60) -> None:
        """Write a DAG file and wait until the DAG is parsed and serialized (so it can be triggered)."""
        (self.dags / f"{dag_id}.py").write_text(source)

        def parsed() -> bool:
            response = self.client.get(f"/api/v2/dags/{dag_id}/details")
            if response.status_code == 200:
                return True
            errors = self.client.get("/api/v2/importErrors").json().get("import_errors") or []
            for error in errors:
                if error.get("filename", "").endswith(f"{dag_id}.py"):
                    raise StackError(f"{dag_id} does not import:\n{error.get('stack_trace')}")
            return False

        self.wait(parsed, timeout, f"DAG {dag_id} parsed", interval=0.5)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def ti(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")

    def ti_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        return self.ti(dag_id, run_id, task_id).get("state")

    def wait_for_ti(self, dag_id: str, run_id: str, task_id: str, states: Iterable[str], timeout: float = 60
                    ) -> dict[str, Any]:
        wanted = set(states)

        def reached() -> dict[str, Any] | None:
            ti = self.ti(dag_id, run_id, task_id)
            if ti.get("state") in wanted:
                return ti
            if ti.get("state") in TERMINAL_TI_STATES:
                raise StackError(f"{dag_id}.{task_id} ended {ti.get('state')}, expected {sorted(wanted)}\n"
                                 f"{self.task_log(dag_id, run_id, task_id, ti.get('try_number') or 1)[-4000:]}")
            return None

        return self.wait(reached, timeout, f"{dag_id}.{task_id} in {sorted(wanted)}")

    def set_ti_state(self, dag_id: str, run_id: str, task_id: str, state: str) -> Any:
        """What "Mark failed"/"Mark success" in the UI does. SQLite serialises the four components' writes, and
        the api-server answers a lock it waited out with 500 "Database error": a person would click again."""
        for attempt in range(3):
            try:
                return self.api("PATCH", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}",
                                json={"new_state": state})
            except StackError as exc:
                if "-> 500" not in str(exc) or "Database error" not in str(exc) or attempt == 2:
                    raise
                time.sleep(1)
        raise AssertionError("unreachable")

    def dag_run_state(self, dag_id: str, run_id: str) -> str | None:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").get("state")

    # ------------------------------------------------------------------ processes
    def task_process(self, ti_id: str) -> int | None:
        """The pid of the process running a task instance's code: the task runner sets its title to
        `airflow worker -- <ti id>` (its supervisor, the LocalExecutor worker, has another title)."""
        title = f"airflow worker -- {ti_id}"
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            if cmdline == title:
                return int(entry.name)
        return None
