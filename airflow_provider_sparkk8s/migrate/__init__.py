"""Migrate Oozie applications into Airflow DAGs or Argo WorkflowTemplates.

``migrate_oozie(source, to="airflow", out="dags/")`` parses the application (workflow, coordinator, bundle,
properties) into a target-independent model, renders every output file in memory, and writes them only
when nothing failed. The ``sparkk8s migrate oozie`` command is a thin wrapper around it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from .report import Report

__all__ = ["Report", "migrate_oozie", "render_oozie", "write_report"]

Target = Literal["airflow", "argo"]


def render_oozie(source: str | os.PathLike[str], *, to: Target, properties_file: str | os.PathLike[str] | None = None,
                 **options: Any) -> tuple[dict[str, str], Report]:
    """Parse and render without writing: ({relative file name: text}, report). Raises
    :class:`~airflow_provider_sparkk8s.migrate.oozie.ir.MigrationError` when the input cannot be converted."""
    from .oozie.ir import MigrationError
    from .oozie.parse import parse_application

    if to not in ("airflow", "argo"):
        raise ValueError(f"to: expected 'airflow' or 'argo', not {to!r}")
    app = parse_application(Path(source), properties_file=properties_file)
    if to == "airflow":
        from .oozie.to_airflow import render_airflow

        files, issues = render_airflow(app, **options)
    else:
        from .oozie.to_argo import render_argo

        files, issues = render_argo(app, **options)
    report = Report(source=Path(source).name, target=to, issues=[*app.issues, *issues])
    if not report.ok:
        raise MigrationError([issue for issue in report.sorted_issues() if issue.level == "error"])
    return files, report


def migrate_oozie(source: str | os.PathLike[str], *, to: Target, out: str | os.PathLike[str],
                  properties_file: str | os.PathLike[str] | None = None,
                  report_file: str | os.PathLike[str] | None = None, **options: Any) -> Report:
    """Convert and write the files into ``out`` (all or nothing); optionally write the JSON report."""
    from .output import write_all

    files, report = render_oozie(source, to=to, properties_file=properties_file, **options)
    report.files = write_all(Path(out), files)
    if report_file is not None:
        write_report(Path(report_file), report)
    return report


def write_report(path: Path, report: Report) -> None:
    """Write the report as JSON to ``path`` (what ``--report`` does)."""
    from .output import write_all

    write_all(path.parent, {path.name: report.to_json()})
