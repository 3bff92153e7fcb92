"""Spark with executors in the sandbox (``master: cluster``): a driver pod's driver asks the sandbox's API server
for executor pods, and the local kubelet runs them as executor JVMs that register with the driver.

What a real cluster does, which these tests expect (Spark 4, "Running Spark on Kubernetes"):

- the driver pod runs the image's entrypoint with ``driver``: spark-submit in client mode inside the pod, with the
  conf spark-submit wrote into its ConfigMap; it talks to https://kubernetes.default.svc with the pod's
  ServiceAccount token;
- it creates ``spark.executor.instances`` executor pods (labels ``spark-role=executor`` and
  ``spark-app-selector=<app id>``), each owned by the driver pod (a controller ownerReference); their container
  runs the entrypoint with ``executor``; the executors register with the driver through its headless Service
  (``spark.driver.host``) and run its tasks, which their logs show (``Running task 0.0 in stage 0.0``);
- with ``spark.kubernetes.executor.deleteOnTermination=false`` the executor pods stay after the application; the
  garbage collector removes them with their driver pod;
- a driver pod deleted while it runs stops its driver (SIGTERM); its executor pods go with it, and no process of
  the application is left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import kubernetes
import pytest
import requests

from airflow_provider_sparkk8s.links import render_url
from airflow_provider_sparkk8s.sandbox.history import HistoryServerSettings
from tests.airflow.conftest import run_dag  # noqa: F401 - the fixture that runs a DAG with dag.test()
from tests.emulator.cluster_clients import wait_for
from tests.sandbox.conftest import EXAMPLES, TEST_IMAGE, require_spark

pytestmark = pytest.mark.slow

NAMESPACE = "spark-jobs"
IMPORTS = "from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator\n"
# The executors' JVMs start as the drivers' do in the examples' mapping: quick compiler, serial GC.
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
CONF = {"spark.executor.instances": "2", "spark.kubernetes.executor.deleteOnTermination": "false",
        "spark.executor.extraJavaOptions": QUICK_JVM}


@pytest.fixture
def cluster_sandbox(sandbox_factory, monkeypatch):
    require_spark()
    sandbox = sandbox_factory(master="cluster")
    # The examples' RBAC: the `spark` ServiceAccount may create a driver's executor pods (and a launcher pod's
    # driver), as Spark's documentation asks of the driver's account.
    sandbox.apply_folder(EXAMPLES / "manifests")
    for key, value in sandbox.airflow_env(NAMESPACE).items():
        monkeypatch.setenv(key, value)
    return sandbox


def delete_pod(sandbox, name: str) -> None:
    """As a user does: a DELETE through the API (background propagation, the pod's grace period)."""
    core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(sandbox.kubeconfig_path)))
    core.delete_namespaced_pod(name, NAMESPACE)


def pods(sandbox, role: str, selector: str | None = None) -> list[dict]:
    found = sandbox.emulator.list("v1", "Pod", NAMESPACE)
    return [p for p in found if p["metadata"].get("labels", {}).get("spark-role") == role
            and (selector is None or p["metadata"]["labels"].get("spark-app-selector") == selector)]


def spark_task(launcher: str, application: str, *args: str, **extra: object) -> str:
    arguments = ", ".join(f"{k}={v!r}" for k, v in extra.items())
    return (f"SparkK8sOperator(task_id='app', application={application!r}, application_args={list(args)!r}, "
            f"image='apache/spark:4.0.1', namespace={NAMESPACE!r}, launcher={launcher!r}, "
            f"service_account_name='spark', on_finish_action='keep_pod', conf={CONF!r}"
            f"{', ' + arguments if arguments else ''})")


@pytest.mark.parametrize("launcher", ["spark-submit", "pod", "spark-operator"])
def test_two_executor_pods_run_the_tasks_and_go_with_their_driver(cluster_sandbox, run_dag, launcher) -> None:  # noqa: F811
    sandbox = cluster_sandbox
    result = run_dag(spark_task(launcher, "local:///opt/spark/examples/src/main/python/pi.py", "8"), IMPORTS)
    assert result.states == {"app": "success"}, result.output[-4000:]
    assert "Pi is roughly 3.1" in result.output
    driver = sandbox.emulator.get("v1", "Pod", result.xcom("app")["driver_pod"], NAMESPACE)
    selector = driver["metadata"]["labels"]["spark-app-selector"]

    executors = pods(sandbox, "executor", selector)
    assert len(executors) == 2
    tasks = 0
    for executor in executors:
        [owner] = executor["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
            "Pod", driver["metadata"]["name"], driver["metadata"]["uid"], True)
        assert executor["spec"]["containers"][0]["args"] == ["executor"]
        log = sandbox.emulator.pods.logs(NAMESPACE, executor["metadata"]["name"])
        assert f"--app-id {selector}" in log or "Successfully registered with driver" in log, log[-2000:]
        tasks += log.count("Running task ")
    assert tasks == 8  # the 8 partitions' tasks, shared by the two executors

    if launcher == "spark-operator":  # the operator reports the executors in its SparkApplication's status
        application = sandbox.emulator.get("sparkoperator.k8s.io/v1beta2", "SparkApplication",
                                           result.xcom("app")["application"], NAMESPACE)
        assert sorted(application["status"]["executorState"]) == sorted(e["metadata"]["name"] for e in executors)

    delete_pod(sandbox, driver["metadata"]["name"])
    wait_for(lambda: not pods(sandbox, "executor", selector), timeout=30, interval=0.2,
             what="the executor pods to be collected with their driver")


LONG_APP = """\
import sys, time
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("Long").getOrCreate()
print("started", flush=True)
spark.sparkContext.parallelize(range(4), 4).foreach(lambda _: time.sleep(600))
"""


def submit(sandbox, name: str, resource: str, conf: dict[str, str]) -> None:
    """Submit an application of the test image with pyspark's spark-submit, in cluster mode, as the driver pod
    ``<name>-driver`` of the `spark` ServiceAccount; do not wait for it."""
    spark_submit = str(Path(sys.executable).with_name("spark-submit"))
    env = {**os.environ, "SPARK_HOME": str(sandbox.spark.spark_home)}
    settings = {"spark.kubernetes.container.image": TEST_IMAGE, "spark.kubernetes.namespace": NAMESPACE,
                "spark.kubernetes.submission.waitAppCompletion": "false",
                "spark.kubernetes.driver.pod.name": f"{name}-driver",
                "spark.kubernetes.authenticate.driver.serviceAccountName": "spark", **conf}
    subprocess.run([spark_submit, "--master", f"k8s://{sandbox.url}", "--deploy-mode", "cluster", "--name", name,
                    *[a for k, v in settings.items() for a in ("--conf", f"{k}={v}")], resource],
                   env=env, check=True, capture_output=True, timeout=120)


def _processes_naming(*needles: str) -> list[str]:
    """The command lines of this machine's processes that name one of ``needles``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(needle in cmdline for needle in needles):
            found.append(cmdline)
    return found


def test_deleting_a_running_driver_ends_its_executors_and_leaves_no_process(cluster_sandbox, apps_dir) -> None:
    sandbox = cluster_sandbox
    (apps_dir / "long.py").write_text(LONG_APP)
    submit(sandbox, "long", "local:///apps/long.py", CONF)

    def running_executors() -> list[dict]:
        found = [p for p in pods(sandbox, "executor")
                 if "running" in ((p["status"].get("containerStatuses") or [{}])[0].get("state") or {})]
        return found if len(found) == 2 else []

    executors = wait_for(running_executors, timeout=120, interval=0.5, what="two running executors")
    wait_for(lambda: "Running task" in sandbox.emulator.pods.logs(NAMESPACE, executors[0]["metadata"]["name"])
             + sandbox.emulator.pods.logs(NAMESPACE, executors[1]["metadata"]["name"]), timeout=60, interval=0.5,
             what="the executors' first tasks")
    names = ["long-driver", *(e["metadata"]["name"] for e in executors)]
    assert _processes_naming(*names)

    delete_pod(sandbox, "long-driver")
    wait_for(lambda: not pods(sandbox, "executor") and sandbox.emulator.get("v1", "Pod", "long-driver", NAMESPACE)
             is None, timeout=60, interval=0.2, what="the driver and executor pods to go")
    wait_for(lambda: not _processes_naming(*names), timeout=30, interval=0.2, what="no process of the application")


DYNAMIC_APP = """\
import time
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("Dynamic").getOrCreate()
total = spark.sparkContext.parallelize(range(8), 8).map(lambda x: (time.sleep(1), x)[1]).sum()
print("sum", total, flush=True)
time.sleep(10)  # idle: the executors go after spark.dynamicAllocation.executorIdleTimeout
print("done", flush=True)
spark.stop()
"""


def test_dynamic_allocation_adds_executor_pods_for_a_backlog_and_removes_them_when_idle(cluster_sandbox, apps_dir
                                                                                        ) -> None:
    """With dynamic allocation (and shuffle tracking, which Kubernetes needs: there is no external shuffle
    service), the driver asks for executors while tasks wait (up to maxExecutors) and deletes the pods of those
    idle longer than executorIdleTimeout, while the application goes on."""
    sandbox = cluster_sandbox
    (apps_dir / "dynamic.py").write_text(DYNAMIC_APP)
    changes: list[tuple[str, str]] = []  # (event, executor pod)

    def record(event_type: str, rt, obj: dict, old: dict | None) -> None:
        if rt.plural == "pods" and obj["metadata"].get("labels", {}).get("spark-role") == "executor" \
                and event_type in ("ADDED", "DELETED"):
            changes.append((event_type, obj["metadata"]["name"]))

    sandbox.emulator.store.add_listener(record)
    dynamic = {"spark.dynamicAllocation.enabled": "true", "spark.dynamicAllocation.shuffleTracking.enabled": "true",
               "spark.dynamicAllocation.minExecutors": "0", "spark.dynamicAllocation.maxExecutors": "2",
               "spark.dynamicAllocation.schedulerBacklogTimeout": "1s",
               "spark.dynamicAllocation.executorIdleTimeout": "2s",
               "spark.executor.extraJavaOptions": QUICK_JVM}
    submit(sandbox, "dynamic", "local:///apps/dynamic.py", dynamic)
    log = lambda: sandbox.emulator.pods.logs(NAMESPACE, "dynamic-driver")  # noqa: E731
    wait_for(lambda: "sum 28" in log(), timeout=180, interval=0.5, what="the job's result")
    added = [name for event, name in changes if event == "ADDED"]
    assert len(added) == 2, changes  # maxExecutors, for 8 one-second tasks
    wait_for(lambda: len([1 for event, _ in changes if event == "DELETED"]) == 2, timeout=30, interval=0.2,
             what="the idle executors' pods to be deleted")
    assert "done" not in log()  # while the application goes on
    assert sorted(name for event, name in changes if event == "DELETED") == sorted(added)
    wait_for(lambda: "done" in log(), timeout=60, interval=0.5, what="the application's end")


COUNT_APP = """\
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("Count").getOrCreate()
print("counted", spark.sparkContext.parallelize(range(10), 2).count(), flush=True)
spark.stop()
"""


def test_the_history_server_lists_a_cluster_mode_application_under_its_cluster_id(sandbox_factory, apps_dir
                                                                                  ) -> None:
    """In cluster mode the driver writes its event log straight into the History Server's directory, under the id
    spark-submit gave it (``spark.app.id``, the driver pod's ``spark-app-selector``), as on a cluster: the operators'
    link ``<spark_history_server_url>/history/<spark-app-selector>/jobs/`` opens its page."""
    require_spark()
    sandbox = sandbox_factory(master="cluster", history_server=HistoryServerSettings())
    sandbox.apply_folder(EXAMPLES / "manifests")
    (apps_dir / "count.py").write_text(COUNT_APP)
    submit(sandbox, "count", "local:///apps/count.py", {**CONF, "spark.executor.instances": "1"})
    assert sandbox.wait_for_history_server()
    history = sandbox.history
    selector = wait_for(lambda: (sandbox.emulator.get("v1", "Pod", "count-driver", NAMESPACE) or {}).get(
        "metadata", {}).get("labels", {}).get("spark-app-selector"), timeout=30, what="the driver pod")

    def listed() -> list[dict]:
        apps = requests.get(f"{history.url}/api/v1/applications", timeout=10).json()
        return [app for app in apps if app["id"] == selector and app["attempts"][0]["completed"]]

    [app] = wait_for(listed, timeout=150, interval=0.5, what="the application listed as completed")
    assert app["name"] == "Count"
    extra = json.loads(sandbox.airflow_env()["AIRFLOW_CONN_KUBERNETES_DEFAULT"])["extra"]
    link = render_url(extra["spark_history_server_url"], {"spark_app_id": selector}, history_server=True)
    opened = requests.get(link, timeout=30)
    assert opened.status_code == 200 and opened.url == f"{history.url}/history/{selector}/jobs/"
    assert "counted 10" in sandbox.emulator.pods.logs(NAMESPACE, "count-driver")
