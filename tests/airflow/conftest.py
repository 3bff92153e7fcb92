"""Run DAGs in real Airflow 3 (metadata DB in SQLite, `dag.test()`) against the Kubernetes API emulator."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED, require


@dataclass
class DagResult:
    dag_id: str
    state: str
    states: dict[str, str | None]
    output: str
    dag_run: Any

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            rows = XComModel.get_many(run_id=self.dag_run.run_id, key=key, dag_ids=self.dag_id, task_ids=task_id)
            # A select() statement; on Airflow 3.0 a query bound to its own session.
            row = rows.first() if hasattr(rows, "first") else session.scalars(rows).first()
            return XComModel.deserialize_value(row) if row is not None else None


@pytest.fixture
def run_dag(airflow_db: Path, capfd: pytest.CaptureFixture[str]) -> Callable[..., DagResult]:
    """Write a DAG file (the body of a `with DAG(...) as dag:` block) into the dags folder and run it with
    `dag.test()`, as `airflow dags test` does. Returns states, the captured task output, and XCom access."""

    def run(body: str, imports: str = "", conf: dict | None = None, **dag_kwargs: Any) -> DagResult:
        dag_id = f"test_{uuid.uuid4().hex[:10]}"
        kwargs = ", ".join(f"{k}={v!r}" for k, v in dag_kwargs.items())
        source = (
            "from datetime import datetime\nfrom airflow.sdk import DAG\n" + textwrap.dedent(imports) +
            f"\nwith DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1){', ' + kwargs if kwargs else ''})"
            " as dag:\n" + textwrap.indent(textwrap.dedent(body), "    ") + "\n"
        )
        path = airflow_db / "dags" / f"{dag_id}.py"
        path.write_text(source)
        try:
            return run_dag_file(path, capfd, conf)
        finally:
            path.unlink()  # dag.test() parses the whole dags folder: keep it to this one DAG

    return run


def run_dag_file(path: Path, capfd: pytest.CaptureFixture[str], conf: dict | None = None) -> DagResult:
    """Import a DAG file from the dags folder and run its `dag` with `dag.test()`."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    capfd.readouterr()
    dag_run = testable(module.dag).test(run_conf=conf)
    out, err = capfd.readouterr()
    states = {ti.task_id: getattr(ti.state, "value", ti.state) for ti in dag_run.get_task_instances()}
    sys.stdout.write(out[-20000:])  # keep it visible in pytest's report on failure
    return DagResult(module.dag.dag_id, getattr(dag_run.state, "value", dag_run.state), states, out + err, dag_run)


def testable(dag: Any) -> Any:
    """The DAG with its `test()`. Airflow 3.0's Task SDK DAG has none: convert it as `airflow dags test` does.
    That test() also gives the task logger a stdout handler of its own unless it has a stream handler, so that
    every task log line would be printed twice: a stream handler that prints nothing keeps one copy."""
    if hasattr(dag, "test"):
        return dag
    import io
    import logging

    from airflow.models.dag import DAG

    task_log = logging.getLogger("airflow.task")
    if not any(isinstance(handler, logging.StreamHandler) for handler in task_log.handlers):
        silent = logging.StreamHandler(io.StringIO())
        silent.setLevel(logging.CRITICAL + 1)
        task_log.addHandler(silent)
    return DAG.from_sdk_dag(dag)


SPARK_JOBS = "spark-jobs"
SPARK_APPLICATION_CRD = SHARED / "schemas" / "spark-operator" / "sparkoperator.k8s.io_sparkapplications.yaml"


@pytest.fixture(scope="session")
def spark_application_validator() -> Callable[[], Any]:
    """The SparkApplication CRD's openAPIV3Schema as a validator, built on first use (it is large)."""
    built: list[Any] = []

    def get() -> Any:
        if not built:
            import jsonschema
            import yaml

            require(SPARK_APPLICATION_CRD.exists(), f"{SPARK_APPLICATION_CRD} is missing")
            crd = yaml.safe_load(SPARK_APPLICATION_CRD.read_text())
            version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta2")
            built.append(jsonschema.Draft7Validator(version["schema"]["openAPIV3Schema"]))
        return built[0]

    return get


@pytest.fixture
def spark_cluster(kube_emulator_factory: Callable[..., Any],
                  spark_application_validator: Callable[[], Any]) -> Iterator[Any]:
    """An emulator with the ``spark-jobs`` namespace. Every SparkApplication created in it (by the provider
    or the test) is recorded as created and checked against the CRD schema when the test ends."""
    import copy

    kube = kube_emulator_factory(namespaces=[SPARK_JOBS])
    created: list[dict] = []

    def record(event_type: str, rt: Any, obj: dict, old: dict | None) -> None:
        if event_type == "ADDED" and rt.plural == "sparkapplications":
            created.append(copy.deepcopy(obj))

    kube.store.add_listener(record)
    kube.created_spark_applications = created
    yield kube
    if created:
        validator = spark_application_validator()
        for app in created:
            errors = sorted(validator.iter_errors(app), key=lambda e: list(e.absolute_path))
            assert not errors, f"SparkApplication {app['metadata']['name']} is not valid for the CRD: " + "; ".join(
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
