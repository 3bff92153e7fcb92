"""The sandbox's container program for Spark: applications the mapping covers run on this machine.

Two kinds of pods are claimed when their image and application are in the mapping (``config.py``):

- driver pods (``spark-role=driver``, container args ``driver --properties-file ... [--class C] <resource>
  <args>``), whoever created them: spark-submit in cluster mode, a launcher pod, the spark operator;
- pods whose container runs spark-submit in client mode (an Argo step ``spark-submit <file>``): the
  application runs inside that container.

The application runs as ``spark-submit --master local[1] <local file> <args>`` (pyspark's spark-submit,
argv list, no shell) in its own process group and working directory. Its output becomes the pod's log as it
is written, its exit code the container's (0: Succeeded, else Failed). Executors are not started: local mode
has none. Cluster-mode launcher pods are left to the emulator's spark-submit program, which creates the driver
pod this program then runs.

Pods that are not claimed follow the emulator's simulated rules; when a Spark pod is left to them, the pod's
log and the sandbox console say why.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..testing.pods import ANNOTATION_PREFIX
from ..testing.spark_submit_pods import (
    SparkSubmitError,
    is_spark_submit,
    launcher_argv,
    parse_spark_submit,
)
from .config import LocalApp, SandboxConfig, shown
from .history import free_port

if TYPE_CHECKING:
    from ..testing.emulator import KubeEmulator
    from ..testing.pods import PodBehaviour
    from .history import HistoryServer

PREFIX = "[sandbox] "
OUTCOME_ANNOTATION = ANNOTATION_PREFIX + "outcome"
KILLED_EXIT_CODE = 137  # what a container killed by SIGKILL reports
_CHUNK = 64 * 1024
# Environment of the pod that must not reach a local process: it describes the container, not this machine.
_CONTAINER_ONLY_ENV = ("SPARK_", "PYSPARK_", "JAVA_HOME", "PATH", "HOME", "PYTHONPATH", "LD_", "HADOOP_")


@dataclass
class Plan:
    """How a claimed pod runs here."""

    kind: str  # "driver" or "spark-submit (client mode)"
    app: LocalApp
    name: str
    app_args: list[str]
    env: dict[str, str]


@dataclass
class LocalRun:
    """A record of one locally-run application, for summaries and tests."""

    namespace: str
    pod: str
    file: Path
    started: float
    pid: int | None = None
    exit_code: int | None = None
    seconds: float | None = None
    spark_app_id: str | None = None  # Spark's id of the local application (its History Server page)
    history_url: str | None = None  # that page, when the sandbox runs a History Server


def find_spark_submit(explicit: str | None = None) -> str | None:
    """spark-submit to run: the configured one, else pyspark's beside this Python, else pyspark's own bin/."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    beside = Path(sys.executable).with_name("spark-submit")
    if os.access(beside, os.X_OK):
        return str(beside)
    package = _pyspark_dir()
    if package is not None and os.access(package / "bin" / "spark-submit", os.X_OK):
        return str(package / "bin" / "spark-submit")
    return shutil.which("spark-submit")


def _pyspark_dir() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("pyspark")
    except (ImportError, ValueError):
        spec = None
    return Path(spec.origin).parent if spec and spec.origin else None


def java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home and os.access(Path(home) / "bin" / "java", os.X_OK)) or shutil.which("java") is not None


def driver_args(pod: dict) -> tuple[str | None, str | None, list[str]] | None:
    """(main class, resource, app args) of a Spark driver pod's container, None for other pods."""
    if (pod["metadata"].get("labels") or {}).get("spark-role") != "driver":
        return None
    args = [str(a) for a in ((pod["spec"].get("containers") or [{}])[0].get("args") or [])]
    if not args or args[0] != "driver":
        return None
    main_class, i = None, 1
    while i < len(args) and args[i] in ("--properties-file", "--class"):
        if args[i] == "--class" and i + 1 < len(args):
            main_class = args[i + 1]
        i += 2
    if i >= len(args):
        return main_class, None, []
    return main_class, args[i], args[i + 1:]


class LocalSpark:
    """A ``ContainerProgram`` of the pod simulator (see the module docstring)."""

    def __init__(self, config: SandboxConfig, console: Callable[[str], None] = lambda _: None) -> None:
        self.emu: KubeEmulator | None = None  # set by `install`
        self.config = config
        self.console = console
        self.spark_submit = find_spark_submit(config.spark_submit)
        self.java = java_available()
        self.runs: list[LocalRun] = []
        self.simulated: list[tuple[str, str]] = []  # (namespace/pod, why)
        self._plans: dict[str, Plan] = {}  # by pod uid, from the first look until the run starts
        self._slots: asyncio.Semaphore | None = None
        self._workdir: Path | None = None
        self.history: HistoryServer | None = None  # set by the sandbox when it runs one

    @property
    def spark_home(self) -> Path | None:
        """pyspark's tree (bin/, jars/), also when spark-submit is the venv's bin/ entry."""
        if self.spark_submit is None:
            return None
        home = Path(self.spark_submit).resolve().parent.parent
        if (home / "jars").is_dir():
            return home
        package = _pyspark_dir()  # the venv's bin/spark-submit runs the installed pyspark's
        return package if package is not None and (package / "jars").is_dir() else None

    @property
    def driver_ui(self) -> bool:
        """The mapping's conf leaves the driver's UI on (Spark's default; the sandbox's is off)."""
        return self.config.conf.get("spark.ui.enabled", "true").strip().lower() != "false"

    @property
    def unavailable(self) -> str | None:
        """Why nothing can run locally on this machine, or None."""
        if self.spark_submit is None:
            return "spark-submit was not found (install pyspark)"
        if not self.java:
            return "java was not found (Spark needs Java 17 or 21)"
        return None

    def install(self, emulator: KubeEmulator, workdir: Path) -> None:
        """Register with the emulator's pod simulator; call before the emulator starts, so this program is
        asked before the emulator's own spark-submit program."""
        self.emu, self._workdir = emulator, workdir
        self.emu.pods.add_program(self)
        # A locally-run driver has no executors: none are simulated for it either. (A pod with an explicit
        # outcome annotation is simulated whatever it runs, executors included.)
        self.emu.pods.behave(match=lambda pod: OUTCOME_ANNOTATION not in (pod["metadata"].get("annotations") or {})
                             and isinstance(self.plan(pod), Plan), executors=0)

    # ------------------------------------------------------------------ deciding
    def plan(self, pod: dict) -> Plan | str | None:
        """How `pod` runs here (a Plan), why it cannot (a reason), or None when it is not a Spark pod."""
        uid = pod["metadata"].get("uid", "")
        if uid in self._plans:
            return self._plans[uid]
        plan = self._make_plan(pod)
        if isinstance(plan, Plan):
            self._plans[uid] = plan
        return plan

    def _make_plan(self, pod: dict) -> Plan | str | None:
        container = (pod["spec"].get("containers") or [{}])[0]
        image = str(container.get("image") or "")
        parsed_driver = driver_args(pod)
        if parsed_driver is not None:
            main_class, resource, app_args = parsed_driver
            kind = "driver"
            name = (pod["metadata"].get("labels") or {}).get("spark-app-name") or pod["metadata"]["name"]
        elif is_spark_submit(pod):
            try:
                submit = parse_spark_submit(launcher_argv(pod))
            except SparkSubmitError:
                return None  # the emulator's spark-submit program reports the error as spark-submit would
            if submit.deploy_mode != "client":
                return None  # cluster mode: the driver pod it creates is what runs here
            main_class, resource, app_args = submit.main_class, submit.resource, submit.app_args
            kind, name = "spark-submit (client mode)", submit.name or pod["metadata"]["name"]
        else:
            return None
        if self.unavailable:
            return self.unavailable
        app = self.config.resolve(image, resource, main_class)
        if isinstance(app, str):
            return app
        entry = self.config.image(image)
        pod_env = {str(e["name"]): str(e["value"]) for e in container.get("env") or []
                   if "value" in e and e.get("name")}
        env = {name: value for name, value in {**(entry.env if entry else {}), **pod_env}.items()
               if not name.startswith(_CONTAINER_ONLY_ENV)}  # the image's ENV, then the pod's, as in a container
        return Plan(kind, app, name, list(app_args), env)

    def claims(self, pod: dict) -> bool:
        plan = self.plan(pod)
        if isinstance(plan, str):
            self._note_simulated(pod, plan)
        return isinstance(plan, Plan)

    def _note_simulated(self, pod: dict, why: str) -> None:
        ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
        self.simulated.append((f"{ns}/{name}", why))
        self.console(f"{ns}/{name}: simulated, not run locally: {why}")
        assert self.emu is not None
        self.emu.pods.write_log(ns, name, f"{PREFIX}emulated control plane: this Spark pod is simulated, not run "
                                          f"({why})")

    # ------------------------------------------------------------------ running
    async def run(self, pod: dict, log: Callable[[str], None], behaviour: PodBehaviour) -> int | None:
        plan = self._plans.pop(pod["metadata"].get("uid", ""), None)
        assert isinstance(plan, Plan)
        ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.max_parallel)
        if self._slots.locked():
            log(f"{PREFIX}waiting for one of the {self.config.max_parallel} local Spark slots")
        async with self._slots:
            if not self._alive(pod):
                return None
            try:
                return await self._run(pod, plan, ns, name, log)
            except Exception as exc:  # noqa: BLE001 - the pod must end (Failed), not hang in Running
                log(f"{PREFIX}could not run the application locally: {exc!r}")
                self.console(f"{ns}/{name}: could not run {shown(plan.app.file)} locally: {exc!r}")
                return 127 if isinstance(exc, OSError) else 1

    def argv(self, plan: Plan, events_dir: Path | None = None, ui_port: int | None = None) -> list[str]:
        """spark-submit's argv. With `events_dir`, the application writes its event log there (rolling: a
        directory named after its id), for the sandbox's History Server. The application's own Spark conf (the
        pod's properties file, a DAG's ``spark.eventLog.dir=s3a://...``) is for the cluster and never reaches a
        local run; these settings come after the mapping's `conf`, so they win over it. `ui_port`: the driver
        UI's port (the sandbox's front leads the Driver UI link there)."""
        assert self.spark_submit is not None
        settings = dict(self.config.conf)
        if events_dir is not None:
            settings.update({"spark.eventLog.enabled": "true", "spark.eventLog.dir": events_dir.as_uri(),
                             "spark.eventLog.rolling.enabled": "true"})
        if ui_port is not None:
            settings["spark.ui.port"] = str(ui_port)
        conf = [a for k, v in settings.items() for a in ("--conf", f"{k}={v}")]
        return [self.spark_submit, "--master", self.config.master, "--name", plan.name, *conf, str(plan.app.file),
                *plan.app_args]

    async def _run(self, pod: dict, plan: Plan, ns: str, name: str, log: Callable[[str], None]) -> int | None:
        assert self._workdir is not None
        cwd = self._workdir / "apps" / f"{ns}-{name}"
        cwd.mkdir(parents=True, exist_ok=True)  # spark-warehouse, metastore_db, ... stay out of the caller's cwd
        events_dir = ui_port = None
        selector = (pod["metadata"].get("labels") or {}).get("spark-app-selector")
        if self.history is not None:
            events_dir = cwd / "spark-events"  # its own: the one event log there is this application's
            events_dir.mkdir(exist_ok=True)
            if self.driver_ui and selector:
                ui_port = free_port()
        argv = self.argv(plan, events_dir, ui_port)
        app = plan.app
        source = f" ({shown(self.config.source)})" if self.config.source else ""
        log(f"{PREFIX}emulated control plane: this {plan.kind} runs on this machine, not in a cluster")
        if app.stand_in_for:
            log(f"{PREFIX}image {app.image}: main class {app.stand_in_for} of {app.resource} runs as the local "
                f"stand-in {shown(app.file)}{source}")
        else:
            log(f"{PREFIX}image {app.image}: {app.resource} -> {shown(app.file)}{source}")
        log(f"{PREFIX}$ {shlex.join([shown(Path(a)) if a == str(app.file) else a for a in argv])}")
        log(f"{PREFIX}executors are not started: Spark runs in local mode ({self.config.master}) inside this driver")
        record = LocalRun(ns, name, app.file, time.monotonic())
        self.runs.append(record)
        self.console(f"{ns}/{name}: running {shown(app.file)} locally ({plan.kind})")
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, env=self._env(plan), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        record.pid = proc.pid
        if ui_port is not None and selector and self.history is not None:
            self.history.driver_running(selector, ui_port)
        watch = asyncio.ensure_future(self._watch_events(pod, events_dir, record, log)) if events_dir else None
        try:
            code = await self._follow(pod, proc, log)
        finally:
            if ui_port is not None and selector and self.history is not None:
                self.history.driver_running(selector, None)
            if watch is not None:
                watch.cancel()
                if events_dir is not None and record.spark_app_id is None:  # a run shorter than a look
                    self._adopt_events(pod, events_dir, record, log)
            if proc.returncode is None:  # the pod went away, the time ran out, or the sandbox is stopping
                _kill_group(proc.pid)
            try:  # reap it and drain its pipe, so nothing of it outlives the run
                await asyncio.wait_for(proc.communicate(), timeout=5)
            except (asyncio.TimeoutError, asyncio.CancelledError, OSError, ValueError):
                pass
        record.exit_code, record.seconds = code, time.monotonic() - record.started
        self.console(f"{ns}/{name}: {shown(app.file)} " + (
            f"exited with code {code} after {record.seconds:.1f}s" if code is not None else "stopped: pod deleted"))
        return code

    async def _watch_events(self, pod: dict, events_dir: Path, record: LocalRun, log: Callable[[str], None]
                            ) -> None:
        """Give the History Server the application's event log as soon as Spark starts it (so its page is
        there while the application runs)."""
        while not self._adopt_events(pod, events_dir, record, log):
            await asyncio.sleep(0.5)

    def _adopt_events(self, pod: dict, events_dir: Path, record: LocalRun, log: Callable[[str], None]) -> bool:
        assert self.history is not None
        selector = (pod["metadata"].get("labels") or {}).get("spark-app-selector")
        app_id = self.history.adopt(events_dir, selector)
        if app_id is None:
            return False
        record.spark_app_id, record.history_url = app_id, self.history.page(app_id)
        log(f"{PREFIX}Spark History Server: {record.history_url} (Spark's local id {app_id}"
            + (f"; the links of {selector} lead there" if selector else "") + ")")
        return True

    async def _follow(self, pod: dict, proc: asyncio.subprocess.Process, log: Callable[[str], None]
                      ) -> int | None:
        assert proc.stdout is not None
        deadline = time.monotonic() + self.config.timeout_seconds
        pending = b""  # the start of a line not yet ended

        def emit(raw: bytes) -> None:
            log(raw.decode(errors="replace").rstrip("\r"))

        read = asyncio.ensure_future(proc.stdout.read(_CHUNK))
        try:
            while True:
                done, _ = await asyncio.wait({read}, timeout=0.5)
                if read in done:
                    chunk = read.result()
                    if not chunk:
                        if pending:
                            emit(pending)
                        break
                    *lines, pending = (pending + chunk).split(b"\n")
                    if len(pending) >= _CHUNK:  # a line without end: show it in pieces
                        lines.append(pending)
                        pending = b""
                    for line in lines:
                        emit(line)
                    read = asyncio.ensure_future(proc.stdout.read(_CHUNK))
                    continue
                if not self._alive(pod):
                    return None
                if time.monotonic() > deadline:
                    _kill_group(proc.pid)
                    await proc.wait()
                    log(f"{PREFIX}killed after {self.config.timeout_seconds:.0f}s (timeout_seconds of the sandbox "
                        f"mapping)")
                    return KILLED_EXIT_CODE
        finally:
            read.cancel()
        code = await proc.wait()
        code = 128 - code if code < 0 else code  # killed by a signal: as a container runtime reports it
        log(f"{PREFIX}spark-submit exited with code {code}")
        return code

    def _env(self, plan: Plan) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_SUBMIT_ARGS", "SPARK_CONF_DIR")}
        env.update(plan.env)
        if self.spark_home is not None:
            env["SPARK_HOME"] = str(self.spark_home)  # pyspark's own tree, also when started through the venv's bin/
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        env["PYSPARK_PYTHON"] = env["PYSPARK_DRIVER_PYTHON"] = sys.executable
        return env

    def _alive(self, pod: dict) -> bool:
        assert self.emu is not None
        current = self.emu.get("v1", "Pod", pod["metadata"]["name"], pod["metadata"].get("namespace"))
        # Being deleted (deletionTimestamp) is the container's SIGTERM: the application stops.
        return (current is not None and current["metadata"]["uid"] == pod["metadata"]["uid"]
                and not current["metadata"].get("deletionTimestamp"))


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # spark-submit's JVM and its Python workers share the group
    except (ProcessLookupError, PermissionError):
        pass
