"""benchmarks/run.py: the report it writes, the verdicts it derives from the benchmarks' JSON, and how it treats
a benchmark script that is missing, fails or hangs."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO

BENCHMARKS = REPO / "benchmarks"
OUR_MODULES = ["airflow_provider_sparkk8s", "operators.spark", "operators.argo", "sensors.spark", "sensors.argo",
               "sensors.calendar", "timetables", "hooks.spark", "hooks.argo", "triggers.spark", "triggers.argo",
               "triggers.calendar", "links"]
HEAVY = {"kubernetes", "kubernetes_asyncio", "aiohttp", "requests", "yaml", "httpx", "jinja2", "lxml"}


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run() -> ModuleType:
    return load("run")


def table(report: str, title: str) -> list[list[str]]:
    """The rows of the markdown table under the heading `## <title...>`."""
    section = report.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_run_writes_the_report_with_every_table(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    result = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--only",
                             "import_cost,emulator_capacity", "--out", str(out)],
                            capture_output=True, text=True, timeout=560, cwd=REPO)
    assert result.returncode == 0, result.stderr[-5000:]
    report = out.read_text()
    versions = dict(table(report, "Machine and versions"))
    assert versions["apache-airflow"] == metadata.version("apache-airflow")
    assert versions["apache-airflow-providers-cncf-kubernetes"] == metadata.version(
        "apache-airflow-providers-cncf-kubernetes")
    assert re.fullmatch(r"\d+ × .+", versions["CPU"]) and versions["RAM"].endswith("GiB")
    assert "benchmarks/run.py --quick --only import_cost,emulator_capacity" in report

    imports = {row[0]: row for row in table(report, "Import cost after")}
    for short in OUR_MODULES:
        module = short if short.startswith("airflow_") else f"airflow_provider_sparkk8s.{short}"
        assert imports[module][-1] in ("met", "missed") and float(imports[module][2]) >= 0, imports[module]
        # Module tops import airflow.sdk and the standard library only: no client library at DAG parse time.
        pulled = set(imports[module][-2].split(", "))
        assert not pulled & HEAVY, f"{module} imports {pulled & HEAVY} at module top"
    upstream = float(imports["airflow.providers.cncf.kubernetes.operators.spark_kubernetes"][2].replace(",", ""))
    ours = float(imports["airflow_provider_sparkk8s.operators.spark"][2])
    assert upstream > 10 * ours  # the measurement sees the kubernetes client that upstream imports

    parses = {row[0]: row for row in table(report, "DAG file parse time")}
    folder = parses["dags_examples/ (the whole folder, one DagBag)"]
    assert int(folder[1]) >= len(list((REPO / "dags_examples").glob("*.py"))) and folder[-1] == "0"
    assert "equivalent DAG, upstream cncf.kubernetes (2 tasks)" in parses

    targets = {row[0]: row[1] for row in table(report, "Targets")}
    # The verdict itself depends on how busy the machine is; that it is computed from the figures does not.
    assert targets["Each public module ≤ 50 ms to import after `import airflow.sdk`"] in ("**met**", "**missed**")
    assert [row[0] for row in table(report, "Kubernetes API emulator capacity")] == [
        "get (one configmap)", "list (10 configmaps)", "create (configmap)", "merge patch (configmap)"]
    assert [row[0] for row in table(report, "Emulator: concurrent watches")] == ["100", "250"]


# ---------------------------------------------------------------------- verdicts from the triggerer's rows
def triggerer_result(rows: list[dict[str, str]]) -> dict:
    """A triggerer_load.py result with the columns that script really writes."""
    columns = load("triggerer_load").COLUMNS
    defaults = {c: "0" for c in columns}
    return {"title": "t", "columns": columns, "rows": [[{**defaults, **r}[c] for c in columns] for r in rows],
            "notes": []}


def row(kind: str, n: str, rpm: str, watches: str = "1", fired: str = "0.050 / 0.080 / 0.300",
        rss: str = "150", cpu: str = "0.50") -> dict[str, str]:
    return {"kind": kind, "N": n, "API requests/min": rpm, "open watches": watches,
            "trigger fired p50 / p95 / p99 (s)": fired, "event recorded p50 / p95 / p99 (s)": "0.9 / 1.0 / 1.2",
            "triggerer RSS (MiB)": rss, "triggerer CPU (s/min)": cpu}


def verdicts(run: ModuleType, rows: list[dict[str, str]]) -> list[str]:
    outcome = run.Outcome("triggerer_load", "triggerer_load.py", "", status="ok", result=triggerer_result(rows))
    return [t.status for t in run.triggerer_targets(outcome)]


def test_targets_met_when_the_figures_reach_them(run: ModuleType) -> None:
    rows = [row("upstream-pod", "1,000", "45,000", watches="0", rss="400", cpu="9.00"),
            row("ours-spark", "1,000", "40"), row("ours-argo", "1,000", "0")]
    assert verdicts(run, rows) == ["met", "met", "met"]


@pytest.mark.parametrize(("change", "expected"), [
    ({"API requests/min": "600"}, ["missed", "met", "met"]),  # 75x fewer only
    ({"open watches": "40"}, ["missed", "met", "met"]),  # not "a few" watch connections
    ({"trigger fired p50 / p95 / p99 (s)": "0.300 / 0.400 / 0.500"}, ["met", "missed", "met"]),
    ({"trigger fired p50 / p95 / p99 (s)": "0.100 / 0.900 / 1.500"}, ["met", "missed", "met"]),
    ({"triggerer RSS (MiB)": "450"}, ["met", "met", "missed"]),
    ({"triggerer CPU (s/min)": "9.50"}, ["met", "met", "missed"]),
])
def test_a_figure_past_its_target_is_missed(run: ModuleType, change: dict[str, str], expected: list[str]) -> None:
    rows = [row("upstream-pod", "1,000", "45,000", watches="0", rss="400", cpu="9.00"),
            {**row("ours-spark", "1,000", "40"), **change}]
    assert verdicts(run, rows) == expected


def test_request_target_is_not_measured_without_n_1000(run: ModuleType) -> None:
    rows = [row("upstream-pod", "20", "900", rss="400", cpu="9.00"), row("ours-spark", "20", "2")]
    outcome = run.Outcome("triggerer_load", "triggerer_load.py", "", status="ok", result=triggerer_result(rows))
    request = run.triggerer_targets(outcome)[0]
    assert request.status == "not measured" and "largest N here is 20" in request.figures


def test_import_target_uses_the_slower_bytecode_case(run: ModuleType) -> None:
    data = {"target_ms": 50.0, "runs": 3, "modules": [
        {"module": "airflow_provider_sparkk8s.timetables", "side": "ours", "cached_ms": [12, 14, 13],
         "source_ms": [49, 61, 55]},
        {"module": "airflow.providers.cncf.kubernetes.operators.pod", "side": "upstream", "cached_ms": [900] * 3,
         "source_ms": [5000] * 3}]}
    outcome = run.Outcome("import_cost", "import_cost.py", "", status="ok", result={"data": data})
    target = run.import_target(outcome)
    assert target.status == "missed" and "over the limit: airflow_provider_sparkk8s.timetables" in target.figures


# ---------------------------------------------------------------------- scripts that are missing, fail or hang
def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bench.py"
    path.write_text("import json, sys, time\n" + body)
    return path


def test_a_missing_script_is_skipped_and_said_so(run: ModuleType, tmp_path: Path) -> None:
    outcome = run.Outcome("x", str(tmp_path / "absent.py"), "")
    run.run_script(outcome, quick=True, timeout=30, workdir=tmp_path)
    assert outcome.status == "missing" and "is not there: skipped" in outcome.detail
    report = run.render([outcome], [], "cmd", True, run.datetime.now(run.timezone.utc), 1.0)
    assert "Skipped: benchmarks/" in report and "is not there: skipped" in report


def test_a_script_gets_json_and_quick_and_its_tables_reach_the_report(run: ModuleType, tmp_path: Path) -> None:
    path = script(tmp_path, "args = sys.argv[1:]\nopen(args[args.index('--json') + 1], 'w').write(json.dumps("
                            "{'title': 'Fake', 'columns': ['a'], 'rows': [[str(args)]], 'notes': ['n1'], "
                            "'tables': [{'title': 'Second', 'columns': ['b'], 'rows': [['2']], 'notes': []}]}))\n")
    outcome = run.Outcome("fake", str(path), "")
    run.run_script(outcome, quick=True, timeout=60, workdir=tmp_path)
    assert outcome.status == "ok"
    report = run.render([outcome], [], "cmd", True, run.datetime.now(run.timezone.utc), 1.0)
    assert table(report, "Fake") == [["['--json', 'fake.json', '--quick']"]]
    assert "- n1" in report and table(report, "Second") == [["2"]]


def test_a_failing_or_hanging_script_is_reported(run: ModuleType, tmp_path: Path) -> None:
    failing = run.Outcome("failing", str(script(tmp_path, "sys.exit(3)\n")), "")
    run.run_script(failing, quick=False, timeout=60, workdir=tmp_path)
    assert (failing.status, failing.detail) == ("failed", "exit code 3")
    hanging = run.Outcome("hanging", str(script(tmp_path, "time.sleep(600)\n")), "")
    run.run_script(hanging, quick=False, timeout=2, workdir=tmp_path)
    assert (hanging.status, hanging.detail) == ("timed out", "killed after 2 s") and hanging.seconds < 30
