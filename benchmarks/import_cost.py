"""DAG parse cost: the import time of each public module of this provider and of the upstream cncf.kubernetes
modules it replaces, and the DagBag parse time of dags_examples/ and of one small DAG written both ways.

Every measurement runs in a fresh interpreter (one subprocess each) that first does `import airflow.sdk`, as a
DAG file does, then times only what comes after it. Two bytecode situations are measured:

- cached: .pyc files exist for everything (what a wheel install or a container image has). The .pyc files go
  to a private cache directory (PYTHONPYCACHEPREFIX), so neither the repository nor the venv is written to.
- source: airflow.sdk comes from that cache, then every module imported after it is compiled from source (a
  venv installed without byte-compiling, or PYTHONDONTWRITEBYTECODE=1 as in this repository's dev shell).

Run:  .venv/bin/python benchmarks/import_cost.py [--runs 3] [--json out.json]
      .venv/bin/python benchmarks/import_cost.py --quick     (1 run, cached bytecode only)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "dags_examples"
TARGET_MS = 50.0
OURS = [
    "airflow_provider_sparkk8s",
    "airflow_provider_sparkk8s.operators.spark",
    "airflow_provider_sparkk8s.operators.argo",
    "airflow_provider_sparkk8s.sensors.spark",
    "airflow_provider_sparkk8s.sensors.argo",
    "airflow_provider_sparkk8s.sensors.calendar",
    "airflow_provider_sparkk8s.timetables",
    "airflow_provider_sparkk8s.hooks.spark",
    "airflow_provider_sparkk8s.hooks.argo",
    "airflow_provider_sparkk8s.triggers.spark",
    "airflow_provider_sparkk8s.triggers.argo",
    "airflow_provider_sparkk8s.triggers.calendar",
    "airflow_provider_sparkk8s.links",
]
UPSTREAM = [
    "airflow.providers.cncf.kubernetes.operators.spark_kubernetes",
    "airflow.providers.cncf.kubernetes.operators.pod",
    "airflow.providers.cncf.kubernetes.hooks.kubernetes",
]
# Named first when pulled in: the heavy clients a DAG file should not need.
NOTABLE = ("kubernetes", "kubernetes_asyncio", "aiohttp", "requests", "yaml", "pydantic", "sqlalchemy", "httpx")
MARK = "@@result "  # prefixes the one line of JSON a measuring interpreter prints

# Runs in the fresh interpreter: argv = module, mode ("cached" or "source"), empty pycache dir for "source".
IMPORT_PROBE = """
import importlib, json, sys, time
import airflow.sdk
if sys.argv[2] == "source":
    sys.pycache_prefix = sys.argv[3]  # read on every import: nothing found there, nothing written
    sys.dont_write_bytecode = True
before = set(sys.modules)
preloaded = sys.argv[1] in sys.modules
started = time.perf_counter()
module = importlib.import_module(sys.argv[1])
for name in getattr(module, "__all__", ()):
    getattr(module, name)  # what `from module import Name` resolves, lazily built names included
elapsed = time.perf_counter() - started
new = set(sys.modules) - before
skip = set(sys.stdlib_module_names) | {"airflow", "airflow_provider_sparkk8s", "_distutils_hack"}
third_party = sorted({m.split(".")[0] for m in new} - skip - {m for m in new if m.startswith("_")})
print("@@result " + json.dumps({"ms": elapsed * 1000, "new_modules": len(new), "third_party": third_party,
                                "preloaded": preloaded}))
"""

# argv = a DAG file or folder. DagBag machinery is the DAG processor's own cost, imported before the clock.
DAGBAG_PROBE = """
import json, sys, time
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - started
print("@@result " + json.dumps({"ms": elapsed * 1000, "errors": bag.import_errors, "dags": len(bag.dag_ids),
                                "tasks": sum(len(d.tasks) for d in bag.dags.values())}))
"""

SPARK_ARGS = dict(application="local:///opt/spark/examples/src/main/python/pi.py", image="apache/spark:4.0.1")
OURS_EQUIVALENT = f'''\
"""A Spark application through the spark-operator, then spark-submit in a pod: this provider."""
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

with DAG("equivalent_ours", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    app = SparkK8sOperator(task_id="spark_app", launcher="spark-operator", namespace="spark-jobs",
                           application="{SPARK_ARGS['application']}", application_args=["100"],
                           image="{SPARK_ARGS['image']}", executor_instances=2)
    pod = SparkK8sOperator(task_id="spark_pod", launcher="pod", namespace="spark-jobs",
                           application="{SPARK_ARGS['application']}", application_args=["100"],
                           image="{SPARK_ARGS['image']}", executor_instances=2)
    app >> pod
'''
UPSTREAM_EQUIVALENT = f'''\
"""A Spark application through the spark-operator, then spark-submit in a pod: the cncf.kubernetes provider."""
from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.operators.spark_kubernetes import SparkKubernetesOperator
from airflow.sdk import DAG

SPARK_APPLICATION = {{
    "spark": {{
        "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
        "metadata": {{"name": "spark-app", "namespace": "spark-jobs"}},
        "spec": {{"type": "Python", "mode": "cluster", "image": "{SPARK_ARGS['image']}",
                  "mainApplicationFile": "{SPARK_ARGS['application']}", "arguments": ["100"],
                  "sparkVersion": "4.0.1",
                  "driver": {{"cores": 1, "memory": "1g"}}, "executor": {{"instances": 2, "memory": "1g"}}}},
    }},
    "kubernetes": {{}},
}}

with DAG("equivalent_upstream", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    app = SparkKubernetesOperator(task_id="spark_app", namespace="spark-jobs", template_spec=SPARK_APPLICATION)
    pod = KubernetesPodOperator(
        task_id="spark_pod", namespace="spark-jobs", image="{SPARK_ARGS['image']}",
        cmds=["/opt/spark/bin/spark-submit"],
        arguments=["--master", "k8s://https://kubernetes.default.svc", "--deploy-mode", "cluster",
                   "--conf", "spark.kubernetes.container.image={SPARK_ARGS['image']}",
                   "--conf", "spark.kubernetes.namespace=spark-jobs", "--conf", "spark.executor.instances=2",
                   "{SPARK_ARGS['application']}", "100"],
    )
    app >> pod
'''


def probe(code: str, args: list[str], env: dict[str, str], timeout: float = 300) -> dict[str, Any]:
    """Run `code` in a fresh interpreter and return the JSON it printed after MARK."""
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                            timeout=timeout, cwd=tempfile.gettempdir())
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"probe {args} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")


def probe_env(home: Path, pycache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False", PYTHONPYCACHEPREFIX=str(pycache),
               AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"))
    return env


def warm_up(env: dict[str, str], dag_paths: list[Path]) -> None:
    """Compile everything once into the bytecode cache, so that the 'cached' runs find it."""
    code = "import importlib, sys\nimport airflow.sdk\nfrom airflow.dag_processing.dagbag import DagBag\n" + \
        "".join(f"importlib.import_module({m!r})\n" for m in OURS + UPSTREAM) + \
        "".join(f"DagBag(dag_folder={str(p)!r})\n" for p in dag_paths) + "print('@@result {}')\n"
    probe(code, [], env, timeout=900)


def packages(names: list[str], shown: int = 6) -> str:
    if not names:
        return "none"
    names = sorted(names, key=lambda n: (NOTABLE.index(n) if n in NOTABLE else len(NOTABLE), n))
    more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def ms(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}"


def measure_modules(args: argparse.Namespace, env: dict[str, str], empty: Path) -> list[dict[str, Any]]:
    modes = ["cached"] if args.quick else ["cached", "source"]
    results = {m: {"module": m, "side": "ours" if m in OURS else "upstream", "cached_ms": [], "source_ms": []}
               for m in OURS + UPSTREAM}
    for run in range(args.runs):  # round-robin, so that a noisy moment does not hit one module's every run
        print(f"modules: run {run + 1}/{args.runs}", file=sys.stderr, flush=True)
        for module in OURS + UPSTREAM:
            for mode in modes:
                out = probe(IMPORT_PROBE, [module, mode, str(empty)], env)
                results[module][f"{mode}_ms"].append(out["ms"])
                results[module]["new_modules"] = out["new_modules"]
                results[module]["third_party"] = out["third_party"]
                results[module]["preloaded"] = out["preloaded"]
    return list(results.values())


def measure_dag_parse(args: argparse.Namespace, env: dict[str, str], equivalents: Path) -> list[dict[str, Any]]:
    # --quick keeps the folder and the comparison, not one interpreter per example file.
    cases = [] if args.quick else [(f"dags_examples/{p.name}", p) for p in sorted(EXAMPLES.glob("*.py"))]
    cases.append(("dags_examples/ (the whole folder, one DagBag)", EXAMPLES))
    cases += [("equivalent DAG, this provider (2 tasks)", equivalents / "ours_equivalent.py"),
              ("equivalent DAG, upstream cncf.kubernetes (2 tasks)", equivalents / "upstream_equivalent.py")]
    results = {label: {"file": label, "ms": []} for label, _ in cases}
    for run in range(args.runs):
        print(f"DAG parse: run {run + 1}/{args.runs}", file=sys.stderr, flush=True)
        for label, path in cases:
            out = probe(DAGBAG_PROBE, [str(path)], env)
            results[label]["ms"].append(out["ms"])
            results[label].update(dags=out["dags"], tasks=out["tasks"], import_errors=out["errors"])
    return list(results.values())


def report(args: argparse.Namespace, modules: list[dict[str, Any]], parses: list[dict[str, Any]],
           command: str, seconds: float) -> dict[str, Any]:
    source = not args.quick
    columns = ["module", "provider", "median ms (.pyc cached)", "max ms (.pyc cached)"]
    columns += ["median ms (compiled from source)"] if source else []
    columns += ["modules newly imported", "third-party packages pulled in", f"≤ {TARGET_MS:.0f} ms"]
    rows = []
    for m in modules:
        worst = max(statistics.median(m["cached_ms"]), statistics.median(m["source_ms"]) if source else 0)
        verdict = ("met" if worst <= TARGET_MS else "missed") if m["side"] == "ours" else "(upstream)"
        row = [m["module"], "this provider" if m["side"] == "ours" else "cncf.kubernetes 10.25",
               ms(m["cached_ms"]), f"{max(m['cached_ms']):.1f}"]
        row += [ms(m["source_ms"])] if source else []
        # Airflow's provider discovery imports our package (its get_provider_info entry point) in airflow.sdk.
        loaded = " (already imported by `import airflow.sdk`: provider discovery)" if m["preloaded"] else ""
        row += [f"{m['new_modules']}{loaded}", packages(m["third_party"]), verdict]
        rows.append(row)
    parse_rows = [[p["file"], str(p["dags"]), str(p["tasks"]), ms(p["ms"]), f"{max(p['ms']):.1f}",
                   str(len(p["import_errors"]))] for p in parses]
    errors = {p["file"]: p["import_errors"] for p in parses if p["import_errors"]}
    ours = [m for m in modules if m["side"] == "ours"]
    slowest = max(ours, key=lambda m: statistics.median(m["source_ms" if source else "cached_ms"]))
    notes = [
        f"Command: {command} (took {seconds / 60:.1f} min).",
        f"Each figure is the median over {args.runs} fresh interpreter(s). Each one runs `import airflow.sdk` (from "
        "bytecode), then times `import <module>` plus resolving every name in its `__all__` (what a DAG file's "
        "`from module import Name` does). 'modules newly imported' counts what that import added to sys.modules.",
        ".pyc cached: bytecode for everything exists, as after a wheel install or in a container image. "
        + ("compiled from source: airflow.sdk from bytecode, then everything the module imports is compiled "
           "from source, as in a venv installed without byte-compiling (uv's default) or with "
           "PYTHONDONTWRITEBYTECODE=1. The ≤ 50 ms verdict uses the slower of the two medians."
           if source else "--quick measures only the cached case, once."),
        f"Slowest public module of this provider: {slowest['module']}.",
        "DAG parse: one fresh interpreter per file, `import airflow.sdk` and the DagBag class first (the DAG "
        "processor has them), then the time of `DagBag(dag_folder=<file>)`; the folder row parses all examples "
        "in one DagBag. The two equivalent DAGs run a SparkApplication through the spark-operator and then "
        "spark-submit in a pod, written with each provider's operators. dags_examples/spark_etl_daily.py is "
        "the output of `sparkk8s migrate oozie` and imports the upstream KubernetesPodOperator for its shell "
        "actions, so it pays upstream's import cost.",
        "Import errors: " + ("none." if not errors else json.dumps(errors)),
    ]
    parse_table = {"title": "DAG file parse time (DagBag, fresh interpreter)",
                   "columns": ["DAG file", "DAGs", "tasks", "median ms", "max ms", "import errors"],
                   "rows": parse_rows, "notes": []}
    return {"title": "Import cost after `import airflow.sdk` (DAG parse cost)", "columns": columns, "rows": rows,
            "notes": notes, "tables": [parse_table],
            "data": {"target_ms": TARGET_MS, "runs": args.runs, "modules": modules, "dag_parse": parses,
                     "import_errors": sum(len(p["import_errors"]) for p in parses)}}


def markdown(table: dict[str, Any]) -> str:
    lines = [f"## {table['title']}", "", "| " + " | ".join(table["columns"]) + " |",
             "| " + " | ".join("---" for _ in table["columns"]) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in table["rows"]]
    lines += [""] + [f"- {note}" for note in table["notes"]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=None, help="fresh interpreters per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="1 run, cached bytecode only")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    parser.add_argument("--pycache", type=Path, default=Path(tempfile.gettempdir()) / "sparkk8s-bench-pycache",
                        help="bytecode cache directory for the cached runs (kept between runs)")
    args = parser.parse_args()
    args.runs = args.runs or (1 if args.quick else 3)
    command = shlex.join(["python", "benchmarks/import_cost.py", *sys.argv[1:]])
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="import-cost-") as tmp:
        root = Path(tmp)
        (root / "home" / "dags").mkdir(parents=True)
        (root / "empty-pycache").mkdir()
        equivalents = root / "equivalents"
        equivalents.mkdir()
        (equivalents / "ours_equivalent.py").write_text(OURS_EQUIVALENT)
        (equivalents / "upstream_equivalent.py").write_text(UPSTREAM_EQUIVALENT)
        env = probe_env(root / "home", args.pycache)
        print("warming the bytecode cache ...", file=sys.stderr, flush=True)
        warm_up(env, [EXAMPLES, equivalents])
        modules = measure_modules(args, env, root / "empty-pycache")
        parses = measure_dag_parse(args, env, equivalents)
    result = report(args, modules, parses, command, time.monotonic() - began)
    print(markdown(result) + "\n\n" + markdown(result["tables"][0]))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if result["data"]["import_errors"]:
        print("DAG import errors: the parse figures are not valid", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
