"""Secrets: canary credentials never show where a person or another process could read them.

The emulator only accepts a canary bearer token, which lives in the ``kubernetes_default`` connection (an
inline kubeconfig) and, as a second token, in the ``argo_workflows_default`` connection's password. A canary
value in the run's conf reaches tasks through Spark properties and Argo parameters whose names look secret.
Real tasks run with ``dag.test()``: every launcher, both Argo transports, and tasks that fail (a driver that
fails, a template that does not exist, connections whose credentials are refused) so exception texts are
produced. Then the campaign looks for any canary in:

- the task logs and exception texts (everything dag.test printed);
- the rendered template fields (what the UI's Rendered Template tab shows);
- every XCom value of the run;
- ``/proc/*/cmdline`` of every process, sampled while the tasks (and spark-submit) run;
- files left behind: new files in the temporary directory (the spark-submit working directories with their
  kubeconfig and properties file must be gone) and under Airflow's home (except its metadata DB, which
  stores the run's conf by design).

Each (canary, place) pair is one trial; each task's expected end state is one more.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.reliability.campaign import Result

NS = "spark-jobs"
APPLICATION = "local:///opt/spark/examples/src/main/python/pi.py"
DRIVER_ANNOTATION = "spark.kubernetes.driver.annotation.emulator.sparkk8s.io/"
SECRET_PROPERTY = "spark.hadoop.fs.s3a.secret.key"


def canaries(seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    return {name: f"canary-{name}-{rng.getrandbits(64):016x}" for name in
            ("kube-token", "argo-password", "conf-secret", "refused-kube-token", "refused-argo-password")}


@contextlib.contextmanager
def cmdline_sampler(interval: float = 0.05) -> Iterator[set[str]]:
    """Collect the command line of every process, sampled until the block ends."""
    seen: set[str] = set()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for entry in os.scandir("/proc"):
                if entry.name.isdigit():
                    with contextlib.suppress(OSError):
                        seen.add(Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8",
                                                                                                       "replace"))
            stop.wait(interval)

    thread = threading.Thread(target=sample, name="cmdline-sampler", daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def new_files(root: Path, since: float, skip: tuple[Path, ...]) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root, onerror=lambda _: None):
        dirs[:] = [d for d in dirs if Path(folder, d) not in skip]
        for name in files:
            path = Path(folder, name)
            with contextlib.suppress(OSError):
                stat = path.stat()
                if stat.st_mtime >= since and stat.st_size < 20_000_000 and path not in skip:
                    yield path


def _spark_available() -> bool:
    import shutil

    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


def _template() -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "etl"},
            "spec": {"entrypoint": "main", "arguments": {"parameters": [{"name": "db-password"}]},
                     "templates": [{"name": "main", "container": {"image": "busybox:1.36", "command": ["true"]}}]}}


def _tasks(size: str, spark_submit: bool) -> dict[str, tuple[str, str]]:
    """task id -> (source, expected state)."""
    secret_conf = {SECRET_PROPERTY: "{{ dag_run.conf['db_password'] }}", "spark.executor.instances": "1",
                   DRIVER_ANNOTATION + "log": "Pi is roughly 3.14159"}
    failing_conf = {**secret_conf, DRIVER_ANNOTATION + "outcome": "failed"}

    def spark(task_id: str, launcher: str, conf: dict[str, str], **extra: Any) -> str:
        args = {"task_id": task_id, "application": APPLICATION, "application_args": ["--user", "etl"],
                "image": "apache/spark:4.0.1", "namespace": NS, "launcher": launcher, "conf": conf, **extra}
        return "SparkK8sOperator(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"

    def argo(task_id: str, conn: str | None, template: str = "etl", **extra: Any) -> str:
        args = {"task_id": task_id, "workflow_template": template, "namespace": NS, "argo_conn_id": conn,
                "parameters": {"db-password": "{{ dag_run.conf['db_password'] }}"}, **extra}
        return "ArgoWorkflowOperator(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"

    tasks = {
        "spark_pod": (spark("spark_pod", "pod", {"spark.executor.instances": "1"}), "success"),
        "spark_operator": (spark("spark_operator", "spark-operator", secret_conf), "success"),
        "spark_operator_failed": (spark("spark_operator_failed", "spark-operator", failing_conf), "failed"),
        "argo_k8s": (argo("argo_k8s", None), "success"),
        "argo_server": (argo("argo_server", "argo_workflows_default"), "success"),
        "argo_missing_template": (argo("argo_missing_template", "argo_workflows_default", "nope"), "failed"),
        "argo_refused_password": (argo("argo_refused_password", "argo_refused"), "failed"),
        "spark_refused_token": (spark("spark_refused_token", "spark-operator", secret_conf,
                                      kubernetes_conn_id="kubernetes_refused"), "failed"),
    }
    if spark_submit:
        tasks["spark_submit"] = (spark("spark_submit", "spark-submit", secret_conf), "success")
        tasks["spark_submit_refused"] = (spark("spark_submit_refused", "spark-submit", secret_conf,
                                               kubernetes_conn_id="kubernetes_refused"), "failed")
        if size == "full":  # each spark-submit is a JVM: the short campaign runs two
            tasks["spark_submit_failed"] = (spark("spark_submit_failed", "spark-submit", failing_conf), "failed")
    if size == "full":
        for task_id in list(tasks):
            if not task_id.startswith("spark_pod"):
                source, state = tasks[task_id]
                deferred = f"{task_id}_deferred"
                tasks[deferred] = (source.replace(f"task_id={task_id!r}", f"task_id={deferred!r}")[:-1]
                                   + ", deferrable=True)", state)
    return tasks


def _connections(kube: Any, secrets: dict[str, str]) -> dict[str, str]:
    """Connections whose credentials are the canaries: an inline kubeconfig (no file holds the token), the
    Argo Server's bearer token as the password, and the same two with refused credentials."""
    def kubernetes(token: str) -> str:
        config = kube.kubeconfig(NS)
        config["users"][0]["user"] = {"token": token}
        return json.dumps({"conn_type": "kubernetes", "extra": {"kube_config": config, "namespace": NS}})

    def argo(password: str) -> str:
        return json.dumps({"conn_type": "argo_workflows", "host": kube.argo_server_url, "password": password,
                           "extra": {"namespace": NS}})

    return {"AIRFLOW_CONN_KUBERNETES_DEFAULT": kubernetes(secrets["kube-token"]),
            "AIRFLOW_CONN_KUBERNETES_REFUSED": kubernetes(secrets["refused-kube-token"]),
            "AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT": argo(secrets["argo-password"]),
            "AIRFLOW_CONN_ARGO_REFUSED": argo(secrets["refused-argo-password"]),
            # Only the connection holds the token: no kubeconfig file for clients to fall back on.
            "KUBECONFIG": os.devnull}


def _find(result: Result, secrets: dict[str, str], place: str, text: str) -> None:
    for name, value in secrets.items():
        result.trials += 1
        if value in text:
            at = text.index(value)
            result.violate(f"{name} canary found in {place}: ...{text[max(0, at - 160):at + len(value) + 40]!r}; "
                           "expected it masked or absent")


def _check_the_secret_was_used(result: Result, kube: Any, dag: Any, secret: str) -> None:
    """Positive controls: the conf secret reached the cluster, so its absence elsewhere means something."""
    result.trials += 2
    workflow = (dag.xcom("argo_k8s") or {}).get("name")
    wf = kube.get("argoproj.io/v1alpha1", "Workflow", workflow, NS) if workflow else None
    parameters = {p["name"]: p.get("value") for p in ((wf or {}).get("spec", {}).get("arguments") or {})
                  .get("parameters") or []}
    if parameters.get("db-password") != secret:
        result.violate(f"argo_k8s: workflow {workflow} parameter db-password is {parameters.get('db-password')!r}; "
                       "expected the conf secret (the campaign would prove nothing without it)")
    application = (dag.xcom("spark_operator") or {}).get("application")
    app = kube.get("sparkoperator.k8s.io/v1beta2", "SparkApplication", application, NS) if application else None
    if ((app or {}).get("spec", {}).get("sparkConf") or {}).get(SECRET_PROPERTY) != secret:
        result.violate(f"spark_operator: SparkApplication {application} lacks the conf secret in "
                       f"{SECRET_PROPERTY}; expected it there (the campaign would prove nothing without it)")


def run(size: str, seed: int) -> Result:
    from tests.reliability.airflow_runs import airflow_home, emulator, environment, run_dag

    result = Result("secrets")
    secrets = canaries(seed)
    home = airflow_home()
    spark_submit = _spark_available()
    if not spark_submit:
        result.figures["spark-submit"] = "skipped (no pyspark or java)"
    tmp = Path(tempfile.gettempdir())
    began = time.time() - 1
    with emulator(namespaces=[NS], token=secrets["kube-token"], tokens={secrets["argo-password"]: "admin"},
                  pod_run_seconds=0.2, pod_pending_seconds=0.05) as kube:
        kube.apply(_template(), NS)
        tasks = _tasks(size, spark_submit)
        imports = ("from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator\n"
                   "from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator\n")
        with environment(_connections(kube, secrets)), cmdline_sampler() as cmdlines:
            dag = run_dag("\n".join(source for source, _ in tasks.values()), imports,
                          conf={"db_password": secrets["conf-secret"]})
        emulator_files = (Path(kube.workdir),)
        _check_the_secret_was_used(result, kube, dag, secrets["conf-secret"])
    for task_id, (_, expected) in tasks.items():
        result.trials += 1
        if dag.states.get(task_id) != expected:
            result.violate(f"{task_id}: task ended {dag.states.get(task_id)}; expected {expected} "
                           f"({dag.task_output(task_id)[-400:]!r})")
    _find(result, secrets, "the task logs and exception texts", dag.output)
    _find(result, secrets, "the rendered template fields", json.dumps(dag.rendered_fields(), default=str))
    _find(result, secrets, "XCom", json.dumps(dag.xcoms(), default=str))
    _find(result, secrets, "/proc/*/cmdline", "\n".join(cmdlines))
    spark_cmdlines = [c for c in cmdlines if "SparkSubmit" in c]
    result.figures["processes sampled"] = str(len(cmdlines))
    result.figures["spark-submit command lines"] = str(len(spark_cmdlines))
    if spark_submit and not spark_cmdlines:
        result.violate("no spark-submit process was sampled; expected its command line to be checked")
    texts = []
    for root in (tmp, home):
        for path in new_files(root, began, emulator_files):
            if path.parent == home and path.name.startswith("airflow.db"):
                continue  # the metadata DB (and its journal) stores the run's conf by design
            with contextlib.suppress(OSError):
                texts.append(f"{path}: {path.read_bytes().decode('utf-8', 'replace')}")
    _find(result, secrets, "files left behind", "\n".join(texts))
    result.figures["tasks"] = str(len(tasks))
    return result


if __name__ == "__main__":
    import sys

    outcome = run(sys.argv[1] if len(sys.argv) > 1 else "short", 20261126)
    print(outcome.trials, outcome.figures)
    print("\n".join(outcome.violations) or "no violations")
