"""Real Airflow for the campaigns, inside or outside pytest: a metadata DB, an emulator wired into the
connections, and `dag.test()` runs whose output is split per task.

Inside the test suite Airflow's home is the session's (tests/conftest.py); run as a command, a private
temporary home is made before Airflow is imported, so a user's own Airflow installation is never touched.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.reliability.support import airflow_home, environment

__all__ = ["airflow_home", "emulator", "environment", "run_dag"]


@contextlib.contextmanager
def emulator(**options: Any) -> Iterator[Any]:
    """A running KubeEmulator that kubernetes_default, argo_workflows_default and KUBECONFIG point at."""
    from airflow_provider_sparkk8s.testing import KubeEmulator

    with tempfile.TemporaryDirectory(prefix="sparkk8s-campaign-kube-") as workdir:
        kube = KubeEmulator(workdir=workdir, **options).start()
        try:
            with environment(kube.airflow_env()):
                yield kube
        finally:
            kube.stop()


@contextlib.contextmanager
def captured_output() -> Iterator[list[str]]:
    """Capture everything written to sys.stdout / sys.stderr and to file descriptors 1 and 2 (Airflow's task
    logs go there under dag.test; pytest's capture replaces sys.stdout, so both are redirected); the text is in
    the yielded list once the block ends."""
    text: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        streams = sys.stdout, sys.stderr
        saved = os.dup(1), os.dup(2)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        writer = open(sink.fileno(), "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
        sys.stdout = sys.stderr = writer
        try:
            yield text
        finally:
            writer.flush()
            sys.stdout, sys.stderr = streams
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            text.append(sink.read().decode("utf-8", "replace"))


@contextlib.contextmanager
def _task_starts_logged() -> Iterator[None]:
    """dag.test() announces each task ("[DAG TEST] starting task_id=...") at INFO, which pytest's logging
    setup may filter out; the per-task split of the output needs those lines."""
    logger = logging.getLogger("airflow.sdk.definitions.dag")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")


@dataclass
class DagRun:
    dag_id: str
    state: str
    states: dict[str, str | None]
    output: str
    dag_run: Any

    def task_output(self, task_id: str) -> str:
        """What dag.test printed while this task ran (its log, its exception)."""
        parts = _TASK_START.split(self.output)
        return "".join(parts[i + 1] for i in range(1, len(parts) - 1, 2) if parts[i] == task_id)

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = session.scalars(XComModel.get_many(run_id=self.dag_run.run_id, key=key, dag_ids=self.dag_id,
                                                     task_ids=task_id)).first()
            return XComModel.deserialize_value(row) if row is not None else None

    def xcoms(self) -> list[tuple[str, str, Any]]:
        """Every XCom of the run: (task id, key, value)."""
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            rows = session.scalars(XComModel.get_many(run_id=self.dag_run.run_id, dag_ids=self.dag_id)).all()
            return [(row.task_id, row.key, XComModel.deserialize_value(row)) for row in rows]

    def rendered_fields(self) -> dict[str, Any]:
        """What the UI's Rendered Template tab shows, per task id."""
        from airflow.models.renderedtifields import RenderedTaskInstanceFields
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            rows = session.scalars(select(RenderedTaskInstanceFields).where(
                RenderedTaskInstanceFields.dag_id == self.dag_id,
                RenderedTaskInstanceFields.run_id == self.dag_run.run_id)).all()
            return {row.task_id: row.rendered_fields for row in rows}


def run_dag(body: str, imports: str = "", conf: dict[str, Any] | None = None, **dag_kwargs: Any) -> DagRun:
    """Write a DAG file (the body of a `with DAG(...) as dag:` block) and run it with `dag.test()`."""
    home = airflow_home()
    dag_id = f"campaign_{uuid.uuid4().hex[:10]}"
    kwargs = "".join(f", {k}={v!r}" for k, v in dag_kwargs.items())
    source = ("from datetime import datetime\nfrom airflow.sdk import DAG\n" + textwrap.dedent(imports) +
              f"\nwith DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1){kwargs}) as dag:\n" +
              textwrap.indent(textwrap.dedent(body), "    ") + "\n")
    path = home / "dags" / f"{dag_id}.py"
    path.write_text(source)
    try:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with captured_output() as text, _task_starts_logged():
            dag_run = module.dag.test(run_conf=conf)
    finally:
        path.unlink()  # dag.test() parses the whole dags folder: keep it to this one DAG
    if os.environ.get("SPARKK8S_CAMPAIGN_DUMP"):  # to see what a campaign's DAG run printed
        Path(os.environ["SPARKK8S_CAMPAIGN_DUMP"]).write_text(text[0])
    states = {ti.task_id: getattr(ti.state, "value", ti.state) for ti in dag_run.get_task_instances()}
    return DagRun(dag_id, getattr(dag_run.state, "value", dag_run.state), states, text[0], dag_run)


def parse_dag_files(files: dict[str, str]) -> dict[str, str]:
    """Parse DAG files as the DAG processor does; returns {file name: import error} for those that failed."""
    from airflow.dag_processing.dagbag import DagBag

    with tempfile.TemporaryDirectory(prefix="sparkk8s-campaign-dags-") as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text)
        with captured_output():
            bag = DagBag(dag_folder=folder)
        return {Path(path).name: error for path, error in bag.import_errors.items()}
