"""Shared by the Airflow → Argo export tests: Argo's JSON Schema validator (the one the Oozie tests use) and a
helper that writes a DAG file into tmp_path and exports it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_provider_sparkk8s.migrate.airflow import render_airflow
from airflow_provider_sparkk8s.migrate.report import Report
from tests.migrate.conftest import validate  # noqa: F401 - the fixture, shared

HEADER = """\
from datetime import datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param, TaskGroup

from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator
"""

Exporter = Callable[..., tuple[dict[str, dict], Report]]


@pytest.fixture
def export(tmp_path: Path, validate: Callable[[dict], None]) -> Exporter:  # noqa: F811
    """export(body, **options): write HEADER + body as dags/dag.py, export it, validate every manifest against
    Argo's schema; returns ({file name: manifest}, report)."""

    def run(body: str, **options: Any) -> tuple[dict[str, dict], Report]:
        dags = tmp_path / "dags"
        dags.mkdir(exist_ok=True)
        (dags / "dag.py").write_text(HEADER + textwrap.dedent(body))
        options.setdefault("namespace", "default")
        files, report = render_airflow(dags, **options)
        manifests = {name: yaml.safe_load(text) for name, text in files.items()}
        for manifest in manifests.values():
            validate(manifest)
        return manifests, report

    return run


def workflow_template(manifests: dict[str, dict]) -> dict:
    return next(m for m in manifests.values() if m["kind"] == "WorkflowTemplate")


def tasks_of(template: dict) -> dict[str, dict]:
    return {t["name"]: t for t in template_named(template, "main")["dag"]["tasks"]}


def template_named(template: dict, name: str) -> dict:
    return next(t for t in template["spec"]["templates"] if t["name"] == name)
