"""Golden files: the whole corpus converted to both targets, compared byte for byte with tests/migrate/golden/.

A change to an emitter shows up here as a readable diff of the generated DAGs and manifests. After checking
that the new output is right, regenerate with ``UPDATE_GOLDEN=1 make test PYTEST_ARGS=tests/migrate/test_golden.py``.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.migrate import render_oozie

CORPUS = Path(__file__).parent / "corpus"
GOLDEN = Path(__file__).parent / "golden"
# spark-etl is the migrated example in dags_examples/: tests/airflow/test_examples.py compares it instead.
APPS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name not in ("bad", "spark-etl"))


@pytest.mark.parametrize("target", ["airflow", "argo"])
@pytest.mark.parametrize("app", APPS)
def test_output_matches_the_golden_files(app: str, target: str) -> None:
    files, report = render_oozie(CORPUS / app, to=target)
    files = {**files, "report.txt": report.to_text()}
    folder = GOLDEN / target / app
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(folder, ignore_errors=True)
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
    expected = {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(expected), f"files differ for {app} -> {target}"
    for name, text in files.items():
        if text != expected[name]:
            diff = "".join(difflib.unified_diff(expected[name].splitlines(True), text.splitlines(True),
                                                f"golden/{target}/{app}/{name}", "generated"))
            pytest.fail(f"{name} differs from its golden file:\n{diff[:6000]}")


def test_argo_yaml_does_not_depend_on_what_else_was_imported() -> None:
    # Hera changes PyYAML's global string representer when imported; the manifests must not change with it.
    import subprocess
    import sys

    script = ("import sys{}\nfrom airflow_provider_sparkk8s.migrate import render_oozie\n"
              "files, _ = render_oozie(sys.argv[1], to='argo', spark_mode='spark-application')\n"
              "sys.stdout.write(''.join(files[name] for name in sorted(files)))\n")
    outputs = [subprocess.run([sys.executable, "-c", script.format(prefix), str(CORPUS / "spark-etl")],
                              capture_output=True, text=True, timeout=120, check=True).stdout
               for prefix in ("", "; import hera.workflows")]
    assert outputs[0] == outputs[1] and "|\n" in outputs[0]
