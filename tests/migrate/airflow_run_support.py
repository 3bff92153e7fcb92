"""Shared by the Airflow emitter's tests: the real-Airflow fixtures and small IR builders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_sparkk8s.migrate.oozie import ir
from tests.airflow.conftest import DagResult, run_dag_file  # noqa: F401  (re-exported)

WF = ir.Source("workflow.xml", 1)


def at(line: int, file: str = "workflow.xml") -> ir.Source:
    return ir.Source(file, line)


def action(name: str, body: Any, ok: str, error: str, line: int, **kwargs: Any) -> ir.Action:
    return ir.Action(name, at(line), body=body, ok=ok, error=error, **kwargs)


def workflow(name: str, *nodes: ir.AnyNode, start: str, parameters: dict[str, str | None] | None = None,
             app_path: str = "") -> ir.Workflow:
    every = [ir.Start("start", at(2), to=start), *nodes]
    return ir.Workflow(name, "1.0", WF, app_path=app_path, parameters=parameters or {},
                       nodes={n.name: n for n in every}, start=start)


def write_dags(files: dict[str, str], folder: Path) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text)
        paths.append(path)
    return paths


def fake_xcom_sidecar(monkeypatch: pytest.MonkeyPatch, kube: Any) -> None:
    """The emulator has no pods/exec endpoint and runs every container once, so KubernetesPodOperator cannot
    read /airflow/xcom/return.json from its sidecar. Stand in for that transport only: the XCom is what the
    generated capture-output wrapper would have written, i.e. the container's stdout (the emulator's log)
    parsed as Java properties."""
    from airflow.providers.cncf.kubernetes.utils.pod_manager import PodManager

    from airflow_provider_sparkk8s.migrate.runtime import parse_capture_output

    def extract_xcom(self: Any, pod: Any, **_: Any) -> str:
        log = kube.pods.logs(pod.metadata.namespace, pod.metadata.name, "base")
        return json.dumps(parse_capture_output(log))

    monkeypatch.setattr(PodManager, "await_xcom_sidecar_container_start", lambda self, pod, **_: None)
    monkeypatch.setattr(PodManager, "extract_xcom", extract_xcom)
