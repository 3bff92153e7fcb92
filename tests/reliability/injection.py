"""Injection: values full of shell syntax arrive byte for byte, and no shell ever interprets them.

Every payload travels through each channel a DAG author uses (a Param, the run's conf, a literal) into each
launcher (spark-submit on the worker, the launcher pod, the spark-operator) and both Argo transports
(Kubernetes API, Argo Server). The campaign then reads what the emulator holds: the driver pod's container
arguments and environment, the launcher pod's argv, the SparkApplication, the Workflow's parameters. Each
(target, channel, payload) is one trial: the value must be exactly the payload. The payloads would create
marker files if any shell ran them; none may exist afterwards.

Two changes are Apache Spark's own, made by the real spark-submit and expected here: it drops carriage
returns from arguments, and trims spaces and tabs around Spark property values (see _spark_submit_reading).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from tests.reliability import support
from tests.reliability.campaign import Result

NS = "spark-jobs"
APPLICATION = "local:///opt/spark/examples/src/main/python/pi.py"
SHELLS = ("sh", "bash", "dash", "zsh", "ash")


def payloads(marker: Path) -> list[str]:
    """Shell syntax that, run by a shell, would create a file named marker-<n>; and values a naive quoting or
    templating step would change."""
    touch = [f"$(touch {marker}-1)", f"`touch {marker}-2`", f"; touch {marker}-3", f"| touch {marker}-4",
             f"&& touch {marker}-5", f"\ntouch {marker}-6\n", f"' ; touch {marker}-7 ; '",
             f"\" ; touch {marker}-8 ; \"", f"$(touch${{IFS}}{marker}-9)", f"> {marker}-10"]
    return [*touch, "${HOME} $HOME ~ * ?", "'single' \"double\" \\back\\slash \\n", "a=b --conf spark.x=y",
            "--class evil.Main", "{{ 7 * 7 }} {% raw %}", "ünïcödé 中文 🙂 \u202eevil", "  padded\ttab  ",
            "line1\r\nline2", "#not-a-comment !bang :colon =equals", "%PATH% ^& <nul"]


def random_payloads(seed: int, count: int, marker: Path) -> list[str]:
    rng = random.Random(seed)
    pieces = ["$(", ")", "`", ";", "|", "&&", "\n", "'", '"', "\\", "${HOME}", "$", "*", " ", "\t", "#", "=",
              ":", "!", "é", "🙂", "{", "}", f"touch {marker}-r", "--", "-D"]
    return ["x" + "".join(rng.choice(pieces) for _ in range(rng.randint(3, 20))) for _ in range(count)]


def _channels(values: list[str]) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str, str]]]:
    """(params, run conf, [(channel, template, expected value)]): each payload once per channel."""
    params = {f"p{i}": v for i, v in enumerate(values)}
    conf = {f"c{i}": v for i, v in enumerate(values)}
    slots = [("param", f"{{{{ params.p{i} }}}}", v) for i, v in enumerate(values)]
    slots += [("conf", f"{{{{ dag_run.conf['c{i}'] }}}}", v) for i, v in enumerate(values)]
    # A literal is rendered by Jinja too (which normalizes line ends and drops a final newline): keep it a
    # literal only when it holds no Jinja syntax and no line break.
    slots += [("literal", v, v) for v in values if not any(c in v for c in "{%\r\n")]
    return params, conf, slots


def _spark_task(task_id: str, launcher: str, slots: list[tuple[str, str, str]], deferrable: bool) -> str:
    args = [template for _, template, _ in slots]
    env = {f"INJ_{i}": template for i, (_, template, _) in enumerate(slots)}
    extra = {"launcher": launcher}
    if launcher == "spark-submit":
        extra["spark_home"] = _spark_home()
    return (f"SparkK8sOperator(task_id={task_id!r}, application={APPLICATION!r}, application_args={args!r}, "
            f"image='apache/spark:4.0.1', namespace={NS!r}, env_vars={env!r}, deferrable={deferrable!r}, "
            f"conf={{'spark.executor.instances': '1'}}, get_logs=False, "
            + ", ".join(f"{k}={v!r}" for k, v in extra.items()) + ")")


def _argo_task(task_id: str, conn: str | None, slots: list[tuple[str, str, str]], deferrable: bool) -> str:
    parameters = {f"v{i}": template for i, (_, template, _) in enumerate(slots)}
    return (f"ArgoWorkflowOperator(task_id={task_id!r}, workflow_template='inject', namespace={NS!r}, "
            f"parameters={parameters!r}, argo_conn_id={conn!r}, deferrable={deferrable!r}, get_logs=False)")


def _template(count: int) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "inject"},
            "spec": {"entrypoint": "main",
                     "arguments": {"parameters": [{"name": f"v{i}"} for i in range(count)]},
                     "templates": [{"name": "main", "container": {"image": "busybox:1.36", "command": ["true"]}}]}}


def _spark_home() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent)




def _spark_submit_reading(where: str, value: str) -> str:
    """What Apache Spark's own spark-submit makes of a value (not ours to change): bin/spark-class drops
    carriage returns from every argument, and Spark trims spaces and control characters other than CR and LF
    from the values it reads from --properties-file (where the launcher puts Spark properties, to keep them
    out of the process list; Utils.trimExceptCRLF)."""
    if where == "driver env":
        return value.strip("".join(chr(c) for c in range(33) if chr(c) not in "\r\n"))
    return value.replace("\r", "")


def _compare(result: Result, target: str, slots: list[tuple[str, str, str]], where: str, got: list[Any]) -> None:
    for i, (channel, _, expected) in enumerate(slots):
        result.trials += 1
        if target.startswith("spark_spark_submit"):
            expected = _spark_submit_reading(where, expected)
        observed = got[i] if i < len(got) else "<missing>"
        if observed != expected:
            result.violate(f"{target} {channel} #{i} {where}: got {observed!r}; expected {expected!r}")


def _driver_checks(result: Result, kube: Any, target: str, slots: list[tuple[str, str, str]], driver_name: str,
                   check_env: bool = True) -> None:
    driver = kube.get("v1", "Pod", driver_name, NS)
    if driver is None:
        result.violate(f"{target}: driver pod {NS}/{driver_name} not found")
        return
    container = driver["spec"]["containers"][0]
    args = container.get("args") or []
    tail = args[len(args) - len(slots):] if len(args) >= len(slots) else args
    _compare(result, target, slots, "driver container argument", tail)
    if check_env:
        env = {e["name"]: e.get("value") for e in container.get("env") or []}
        _compare(result, target, slots, "driver env", [env.get(f"INJ_{i}", "<missing>") for i in range(len(slots))])


def _no_shell(result: Result, target: str, pod: dict | None) -> None:
    if pod is None:
        return
    for container in pod["spec"]["containers"]:
        argv = [*(container.get("command") or []), *(container.get("args") or [])]
        if argv and Path(argv[0]).name in SHELLS and "-c" in argv:
            result.violate(f"{target}: pod {pod['metadata']['name']} runs a shell string: {argv[:4]!r}")


def run(size: str, seed: int) -> Result:
    from tests.reliability.airflow_runs import airflow_home, emulator, run_dag

    result = Result("injection")
    airflow_home()
    with tempfile.TemporaryDirectory(prefix="sparkk8s-injection-") as folder, \
            emulator(namespaces=[NS], pod_run_seconds=0.2, pod_pending_seconds=0.05) as kube:
        marker = Path(folder) / "pwned"
        values = payloads(marker) + (random_payloads(seed, 40, marker) if size == "full" else [])
        params, conf, slots = _channels(values)
        kube.apply(_template(len(slots)), NS)
        modes = [False, True] if size == "full" else [False]
        tasks: dict[str, tuple[str, str]] = {}  # task id -> (kind, launcher or transport)
        for deferrable in modes:
            suffix = "_deferred" if deferrable else ""
            launchers = ["pod", "spark-operator"] + (["spark-submit"] if support.spark_submit_available() else [])
            for launcher in launchers:
                tasks[f"spark_{launcher.replace('-', '_')}{suffix}"] = ("spark", launcher)
            for conn in (None, "argo_workflows_default"):
                tasks[f"argo_{'server' if conn else 'k8s'}{suffix}"] = ("argo", conn or "")
        if not support.spark_submit_available():
            result.figures["spark-submit"] = "skipped (no pyspark or java)"
        body = "\n".join(
            _spark_task(task_id, target, slots, task_id.endswith("_deferred")) if kind == "spark" else
            _argo_task(task_id, target or None, slots, task_id.endswith("_deferred"))
            for task_id, (kind, target) in tasks.items())
        imports = ("from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator\n"
                   "from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator\n")
        dag = run_dag(body, imports, conf=conf, params=params)
        for task_id, (kind, target) in tasks.items():
            if dag.states.get(task_id) != "success":
                tail = dag.task_output(task_id)[-600:]
                result.violate(f"{task_id}: task ended {dag.states.get(task_id)}; expected success ({tail!r})")
                continue
            value = dag.xcom(task_id)
            if kind == "argo":
                wf = kube.get("argoproj.io/v1alpha1", "Workflow", value["name"], NS)
                got = {p["name"]: p.get("value") for p in wf["spec"]["arguments"]["parameters"]}
                _compare(result, task_id, slots, "workflow parameter", [got.get(f"v{i}") for i in range(len(slots))])
                continue
            if target == "spark-operator":
                app = kube.get("sparkoperator.k8s.io/v1beta2", "SparkApplication", value["application"], NS)
                _compare(result, task_id, slots, "SparkApplication spec.arguments", app["spec"].get("arguments"))
                env = {e["name"]: e.get("value") for e in app["spec"]["driver"].get("env") or []}
                _compare(result, task_id, slots, "SparkApplication driver env",
                         [env.get(f"INJ_{i}") for i in range(len(slots))])
                _driver_checks(result, kube, task_id, slots, value["driver_pod"], check_env=False)
            else:
                _driver_checks(result, kube, task_id, slots, value["driver_pod"])
            if target == "pod":
                launcher = kube.get("v1", "Pod", value["launcher_pod"], NS)
                _no_shell(result, task_id, launcher)
                argv = (launcher or {}).get("spec", {}).get("containers", [{}])[0].get("args") or []
                _compare(result, task_id, slots, "launcher pod argument", argv[len(argv) - len(slots):])
        for pod in kube.list("v1", "Pod", NS):
            _no_shell(result, "cluster", pod)
        ran = sorted(p.name for p in Path(folder).iterdir())
        if ran:
            result.violate(f"a shell ran a payload: {', '.join(ran)} created")
        result.figures["payloads"] = str(len(values))
        result.figures["targets"] = str(len(tasks))
    return result


if __name__ == "__main__":
    import sys

    outcome = run(sys.argv[1] if len(sys.argv) > 1 else "short", 20261126)
    print(outcome.trials, outcome.figures)
    print("\n".join(outcome.violations[:60]) or "no violations")
