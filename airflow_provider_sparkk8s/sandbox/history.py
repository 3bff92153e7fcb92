"""The sandbox's Spark History Server: pyspark's own, over the event logs of the applications the sandbox runs.

pyspark ships Spark's jars, the History Server's included (``org.apache.spark.deploy.history.HistoryServer``):
the sandbox starts it with ``java -cp <pyspark>/jars/*`` (what ``spark-class`` would run, without its shell
launcher), on 127.0.0.1 and a free port, reading ``<workdir>/spark-events``.

Application ids: in a cluster, spark-submit gives the driver ``spark.app.id`` (the driver pod's
``spark-app-selector`` label, the spark-operator's ``status.sparkApplicationId``), and the History Server knows
the application by it; the operators' "Spark History Server" link is ``<url>/history/<that id>/jobs/``. In local
mode Spark ignores ``spark.app.id`` and names the application ``local-<milliseconds>``. So each local
application writes its event log into a directory of its own, where the sandbox finds which id Spark chose and
links the log into the History Server's directory; and the links' base URL is the sandbox's *front*, a small
HTTP server that redirects ``/history/<spark-app-selector>/...`` to the History Server's page of the local
application (any other path to the same path of the History Server).

When the mapping's ``conf`` turns the driver's UI on (``spark.ui.enabled: "true"``; the examples' mapping turns it
off, which saves each application about a second of CPU), each local driver gets a free ``spark.ui.port`` and the
front also serves ``/driver/<spark-app-selector>/...``: the driver's UI while it runs, then, as a cluster's links
would, the History Server's page of the application.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Short start-up of a JVM that lives long but does little: the quick compiler, a serial GC, a small heap.
JAVA_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms32m", "-Xmx512m")
MAIN_CLASS = "org.apache.spark.deploy.history.HistoryServer"
EVENT_LOG_PREFIX = "eventlog_v2_"  # a rolling event log: a directory named after the application id
_BOUND = re.compile(r"Successfully started service 'HistoryServerUI' on port (\d+)")
_HOST = "127.0.0.1"


@dataclass(frozen=True)
class HistoryServerSettings:
    """The ``history_server`` key of the sandbox mapping."""

    enabled: bool = True
    port: int = 0  # 0: a free one


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


class HistoryServer:
    """pyspark's Spark History Server and the sandbox's front for the links (see the module docstring).

    Args:
        spark_home: pyspark's directory (it has ``jars/``).
        workdir: the sandbox's working directory: the event logs go to ``spark-events``, the server's log to
            ``history-server.log``.
        port: the History Server's port; 0 picks a free one.
    """

    def __init__(self, spark_home: Path, workdir: Path, port: int = 0, java: str = "java") -> None:
        self.spark_home = spark_home
        self.log_dir = workdir / "spark-events"
        self.log_file = workdir / "history-server.log"
        self.port = port or free_port()
        self.java = java
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None
        self.ready_seconds: float | None = None  # from the start to the first answer of its REST API
        self._app_ids: dict[str, str] = {}  # spark-app-selector -> the local application's id
        self._driver_ui_ports: dict[str, int] = {}  # spark-app-selector -> the UI port of a driver running now
        self._front: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The History Server itself."""
        return f"http://{_HOST}:{self.port}"

    @property
    def front_url(self) -> str:
        """The base URL of the links (the front, which knows the cluster ids of the local applications)."""
        assert self._front is not None, "start() first"
        return f"http://{_HOST}:{self._front.server_address[1]}"

    def page(self, app_id: str) -> str:
        """The History Server's page of a (local) application id."""
        return f"{self.url}/history/{app_id}/jobs/"

    # ------------------------------------------------------------------ life cycle
    def start(self) -> None:
        """Start the server (it becomes ready in the background: `wait_ready`) and the front."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        properties = self.log_file.with_name("history-server.properties")
        properties.write_text(
            f"spark.history.fs.logDirectory={self.log_dir.as_uri()}\n"
            f"spark.history.ui.port={self.port}\n"
            "spark.history.fs.update.interval=2s\n"  # local applications show within seconds
            "spark.history.fs.cleaner.enabled=false\n")
        env = {**os.environ, "SPARK_HOME": str(self.spark_home), "SPARK_LOCAL_IP": _HOST}  # binds 127.0.0.1 only
        argv = [self.java, *JAVA_OPTIONS, "-cp", str(self.spark_home / "jars" / "*"), MAIN_CLASS,
                "--properties-file", str(properties)]
        self.started_at = time.monotonic()
        with self.log_file.open("wb") as log:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self._front = ThreadingHTTPServer((_HOST, 0), _front_handler(self))
        self._front.daemon_threads = True
        threading.Thread(target=self._front.serve_forever, name="history-front", daemon=True).start()

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Wait until the REST API answers (True), the server exited or the time ran out (False). The port is
        the one the server reports it bound (Spark moves to the next port when the chosen one was taken)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            bound = _BOUND.search(self.log_file.read_text(errors="replace"))
            if bound:
                self.port = int(bound.group(1))
                try:
                    with urllib.request.urlopen(f"{self.url}/api/v1/applications", timeout=5) as answer:  # noqa: S310
                        if answer.status == 200:
                            if self.ready_seconds is None and self.started_at is not None:
                                self.ready_seconds = time.monotonic() - self.started_at
                            return True
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self._front is not None:
            self._front.shutdown()
            self._front.server_close()
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # its shutdown hook stops Jetty
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass

    # ------------------------------------------------------------------ applications
    def adopt(self, events_dir: Path, selector: str | None) -> str | None:
        """Link the event log an application wrote into `events_dir` (its own) into the server's directory;
        remember that the cluster id `selector` is that application. Returns the local id, None before the
        application started its event log."""
        for entry in sorted(events_dir.glob(EVENT_LOG_PREFIX + "*")):
            app_id = entry.name.removeprefix(EVENT_LOG_PREFIX)
            link = self.log_dir / entry.name
            if not link.is_symlink():
                link.symlink_to(entry.resolve(), target_is_directory=True)
            if selector:
                self._app_ids[selector] = app_id
            return app_id
        return None

    def driver_running(self, selector: str, ui_port: int | None) -> None:
        """The driver of `selector` serves its UI on `ui_port` now; None: it ended."""
        if ui_port is None:
            self._driver_ui_ports.pop(selector, None)
        else:
            self._driver_ui_ports[selector] = ui_port

    def driver_ui_port(self, selector: str) -> int | None:
        return self._driver_ui_ports.get(selector)

    def local_id(self, app_id: str) -> str:
        """The History Server's id of an application known by its cluster id (or by its own)."""
        return self._app_ids.get(app_id, app_id)


def _front_handler(history: HistoryServer) -> type[BaseHTTPRequestHandler]:
    class Front(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = self.path.split("/", 3)  # "", "history" or "driver", "<id>", "jobs/..."
            if len(parts) >= 3 and parts[1] == "driver":
                port = history.driver_ui_port(parts[2])
                rest = parts[3] if len(parts) > 3 else ""
                if port is not None:
                    location = f"http://{_HOST}:{port}/{rest}"
                else:  # ended (or not started): its page in the History Server
                    location = f"{history.url}/history/{history.local_id(parts[2])}/{rest or 'jobs/'}"
            else:
                if len(parts) >= 3 and parts[1] == "history":
                    parts[2] = history.local_id(parts[2])
                location = history.url + "/".join(parts)
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass  # no line per request on the sandbox's console

    return Front
