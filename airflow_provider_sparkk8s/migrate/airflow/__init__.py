"""Export Airflow DAGs to Argo Workflows: ``sparkk8s migrate airflow DAGS_PATH --out MANIFESTS_DIR``.

The DAG files are loaded by Airflow's own DagBag (the objects Airflow would schedule, not their source text);
each DAG becomes a WorkflowTemplate and, when it has a schedule, a CronWorkflow or a calendar EventSource +
Sensor (:mod:`.to_argo`). Every output file is rendered in memory and written only when nothing failed.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from airflow_provider_sparkk8s.migrate.oozie.ir import Issue, MigrationError, Source
from airflow_provider_sparkk8s.migrate.report import Report

__all__ = ["migrate_airflow", "render_airflow"]


def render_airflow(dags_path: str | os.PathLike[str], *, dag_ids: Iterable[str] | None = None,
                   namespace: str = "argo", spark_image: str = "apache/spark:4.0.1",
                   service_account: str | None = None, workflow_templates: str | os.PathLike[str] | None = None,
                   partial: bool = False) -> tuple[dict[str, str], Report]:
    """Load and render without writing: ({relative file name: YAML text}, report). Raises
    :class:`~airflow_provider_sparkk8s.migrate.oozie.ir.MigrationError` listing every error (a DAG file that does
    not load, an unknown ``dag_ids`` entry, a task without an Argo equivalent unless ``partial``)."""
    from airflow_provider_sparkk8s.migrate.argo_manifests import Names, dump_files

    from .tasks import Options
    from .to_argo import render_dag

    path = Path(dags_path)
    if not path.exists():
        raise FileNotFoundError(f"DAGS_PATH: {path} does not exist")
    entrypoints, manifests = _workflow_templates(Path(workflow_templates)) if workflow_templates else ({}, {})
    options = Options(namespace=namespace, spark_image=spark_image, service_account=service_account,
                      entrypoints=entrypoints, template_manifests=manifests, partial=partial)
    dags, issues = load_dags(path)
    wanted = list(dict.fromkeys(dag_ids or []))
    for dag_id in wanted:
        if dag_id not in dags:
            issues.append(Issue("error", f"--dag-id {dag_id}: no such DAG in {path.name} (found: "
                                f"{', '.join(sorted(dags)) or 'none'})", Source(path.name), "dag"))
    names, cron_names = Names(limit=63), Names(limit=52)
    rendered: list[tuple[str, dict]] = []
    for dag_id in sorted(wanted or dags):
        if dag_id not in dags:
            continue
        dag = dags[dag_id]
        source = Source(_relative(Path(dag.fileloc), path))
        files, dag_issues = render_dag(dag, source, _lines(Path(dag.fileloc), dag), names, cron_names, options)
        rendered += files
        issues += dag_issues
    report = Report(source=path.name, target="argo", issues=issues, origin="Airflow")
    if not report.ok:
        raise MigrationError([issue for issue in report.sorted_issues() if issue.level == "error"])
    return dump_files(rendered), report


def migrate_airflow(dags_path: str | os.PathLike[str], *, out: str | os.PathLike[str],
                    report_file: str | os.PathLike[str] | None = None, **options: Any) -> Report:
    """Convert and write the manifests into ``out`` (all or nothing); optionally write the JSON report."""
    from airflow_provider_sparkk8s.migrate import write_report
    from airflow_provider_sparkk8s.migrate.output import write_all

    files, report = render_airflow(dags_path, **options)
    report.files = write_all(Path(out), files)
    if report_file is not None:
        write_report(Path(report_file), report)
    return report


# ------------------------------------------------------------------------------------------ loading


IMPORT_TIMEOUT = 300  # seconds a DAG file may take to import; the scheduler's 30 s is for its parsing loop


def load_dags(path: Path) -> tuple[dict[str, Any], list[Issue]]:
    """The DAGs of a file or folder, loaded by Airflow's DagBag; files that fail to import are errors."""
    from airflow.configuration import conf
    from airflow.models import DagBag

    # A one-off export on a busy machine: allow the first imports of providers more time than the scheduler does.
    previous = conf.get("core", "dagbag_import_timeout")
    conf.set("core", "dagbag_import_timeout", str(max(float(previous), IMPORT_TIMEOUT)))
    try:
        bag = DagBag(dag_folder=str(path))
    finally:
        conf.set("core", "dagbag_import_timeout", previous)
    issues = []
    for file, trace in sorted(bag.import_errors.items()):
        issues.append(Issue("error", f"the DAG file does not load: {_exception_line(str(trace))}",
                            Source(_relative(Path(file), path)), "dag file"))
    return dict(bag.dags), issues


def _exception_line(trace: str) -> str:
    """The ``SomeError: message`` line of a traceback (the last one), else its last line."""
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if not line[0].isspace() and " " not in head and head.endswith(("Error", "Exception", "Timeout", "Exit")):
            return line
    return lines[-1] if lines else trace


def _relative(file: Path, root: Path) -> str:
    base = root if root.is_dir() else root.parent
    try:
        return str(file.resolve().relative_to(base.resolve()))
    except ValueError:
        return file.name


def _lines(file: Path, dag: Any) -> dict[str, int]:
    """Where each task (and, under "", the DAG) is defined, for the report: the line of the call that passes
    its task_id / dag_id. Best effort: a task built in a loop or helper has no line."""
    try:
        tree = ast.parse(file.read_text(), str(file))
    except (OSError, SyntaxError, ValueError):
        return {}
    by_id: dict[str, int] = {}
    dag_line = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                if keyword.arg == "task_id":
                    by_id.setdefault(keyword.value.value, node.lineno)
                elif keyword.arg == "dag_id" and keyword.value.value == dag.dag_id:
                    dag_line = dag_line or node.lineno
        if dag_line is None and node.args and isinstance(node.args[0], ast.Constant) \
                and node.args[0].value == dag.dag_id:
            dag_line = node.lineno
    out = {task_id: by_id[task_id.rsplit(".", 1)[-1]] for task_id in dag.task_dict
           if task_id.rsplit(".", 1)[-1] in by_id}
    if dag_line is not None:
        out[""] = dag_line
    return out


def _workflow_templates(folder: Path) -> tuple[Mapping[str, str], Mapping[str, dict[str, Any]]]:
    """WorkflowTemplates (and ClusterWorkflowTemplates) found in the YAML files of ``folder``: name → entrypoint
    and name → manifest, so that ArgoWorkflowOperator tasks become templateRef steps to their entrypoint."""
    import yaml

    if not folder.is_dir():
        raise FileNotFoundError(f"--workflow-templates: {folder} is not a directory")
    entrypoints: dict[str, str] = {}
    manifests: dict[str, dict[str, Any]] = {}
    for file in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            documents = list(yaml.safe_load_all(file.read_text()))
        except yaml.YAMLError as error:
            raise ValueError(f"--workflow-templates: {file.name} is not valid YAML: {error}") from None
        for doc in documents:
            if isinstance(doc, dict) and doc.get("kind") in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
                name = (doc.get("metadata") or {}).get("name")
                entry = (doc.get("spec") or {}).get("entrypoint")
                if name and entry:
                    entrypoints[name] = entry
                    manifests[name] = doc
    return entrypoints, manifests
