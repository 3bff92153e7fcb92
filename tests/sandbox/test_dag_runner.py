"""The demo's DAG runner: a DAG run past its time limit is killed with everything it started, and the summary
reads each task's key output from its log."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from airflow_provider_sparkk8s.sandbox.dag_runner import DEFAULT_KEY_PATTERNS, _key_output, _run_forked, _tasks_from_log

PATTERNS = [re.compile(p) for p in DEFAULT_KEY_PATTERNS]


class _HangingDag:
    """Stands in for a DAG whose run hangs after starting a process of its own."""

    dag_id = "hanging"

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def test(self, run_conf: dict | None = None) -> None:
        proc = subprocess.Popen(["sleep", "300"])
        self.marker.write_text(str(proc.pid))
        time.sleep(300)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_a_run_past_its_time_limit_is_killed_with_what_it_started(tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    started = time.monotonic()
    result = _run_forked(_HangingDag(marker), None, tmp_path / "hanging.log", 3.0, PATTERNS)
    assert result["state"] == "timed out" and result["note"] == "killed after 3s"
    assert time.monotonic() - started < 20
    grandchild = int(marker.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild):
        assert time.monotonic() < deadline, "the process the DAG run started survived the kill"
        time.sleep(0.1)


LOG = """\
2026-11-26T05:12:01Z [info     ] [DAG TEST] starting task_id=spark_app map_index=-1 [airflow.dag] loc=d:1
2026-11-26T05:12:20Z [info     ] [wf-abc] my-spark-app: 16 words, 9 distinct; top: runs=3 [airflow.task.argo] loc=a:2
2026-11-26T05:12:21Z [info     ] [DAG TEST] end task task_id=spark_app map_index=-1 [airflow.dag] loc=d:2
2026-11-26T05:12:22Z [info     ] [DAG TEST] starting task_id=pi map_index=-1 [airflow.dag] loc=d:1
2026-11-26T05:12:23Z [info     ] [driver] Pi is roughly 3.141592 [airflow.task.spark] loc=s:4
2026-11-26T05:12:24Z [error    ] Task failed with exception [task] loc=task_runner.py:1
Traceback (most recent call last):
  File "x.py", line 1, in <module>
airflow.sdk.exceptions.AirflowException: driver pod spark-jobs/pi-driver failed (exit code 1, reason Error)
2026-11-26T05:12:25Z [info     ] [DAG TEST] end task task_id=pi map_index=-1 [airflow.dag] loc=d:2
2026-11-26T05:12:26Z [info     ] [DAG TEST] starting task_id=broken map_index=-1 [airflow.dag] loc=d:1
2026-11-26T05:12:27Z [error    ] Task failed with exception [task] loc=task_runner.py:1
airflow.sdk.exceptions.AirflowException: driver pod spark-jobs/other failed (exit code 4, reason Error)
"""


def test_key_outputs_come_from_each_tasks_log_and_xcom(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(LOG)
    xcoms = {"spark_app": {"name": "wf-abc", "phase": "Succeeded"}}
    tasks = {t["task_id"]: t["key_output"] for t in _tasks_from_log(log, PATTERNS, xcoms)}
    assert tasks == {
        "spark_app": "my-spark-app: 16 words, 9 distinct; top: runs=3; workflow wf-abc Succeeded",
        "pi": "Pi is roughly 3.141592",
        "broken": "airflow.sdk.exceptions.AirflowException: driver pod spark-jobs/other failed (exit code 4, reason "
                  "Error)",
    }
    assert _key_output("", {"state": "COMPLETED", "driver_pod": "pi-driver"}, PATTERNS) == "driver pi-driver COMPLETED"
    assert _key_output("", {"eventTime": "2026-11-23 23:00:00 +0100 CET"}, PATTERNS) == (
        "calendar event 2026-11-23 23:00:00 +0100 CET")
