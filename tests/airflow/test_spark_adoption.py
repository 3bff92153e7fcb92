"""Idempotency: an application already created for this task instance is found by its labels and adopted
(still running) or reported (finished, same try) instead of being submitted again."""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator

NS = "spark-jobs"
SA = ("sparkoperator.k8s.io/v1beta2", "SparkApplication")
LAUNCHERS = ["pod", "spark-operator"]
PI = "local:///opt/spark/examples/src/main/python/pi.py"
IMPORTS = """\
from datetime import timedelta
from airflow.sdk import task
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator
from tests.airflow.test_spark_adoption import create_earlier_attempt
"""


def create_earlier_attempt(context: Any, launcher: str, outcome: str = "succeeded") -> None:
    """What an earlier attempt of try 1 of task `pi` left behind (a worker that died after submitting): the
    application the operator would have created, run to its end."""
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook, SparkRun
    from airflow_provider_sparkk8s.identity import TaskIdentity
    from airflow_provider_sparkk8s.kube_api import SPARK_APPLICATIONS
    from airflow_provider_sparkk8s.spark_app import SparkApp

    ti = context["ti"]
    identity = TaskIdentity(ti.dag_id, "pi", ti.run_id, -1, 1)
    app = SparkApp(application=PI, name="pi", image="apache/spark:4.0.1", executor_instances=1,
                   annotations={"emulator.sparkk8s.io/outcome": outcome},
                   conf={"spark.kubernetes.driver.annotation.emulator.sparkk8s.io/outcome": outcome})
    base = identity.name("pi")
    run = SparkRun(launcher, NS, f"{base}-driver", try_number=1)
    hook = SparkK8sHook(namespace=NS)
    if launcher == "pod":
        run.launcher_pod = f"{base}-launcher"
        hook.run(lambda api: hook.create_launcher(api, app, run, identity))
    else:
        run.application = base
        body = hook.spark_application_manifest(app, run, identity)
        hook.run(lambda api: hook.create(api, SPARK_APPLICATIONS, NS, body))
    deadline = time.monotonic() + 30
    while hook.run(lambda api: hook.is_finished(api, run)) is None:
        assert time.monotonic() < deadline, "the earlier attempt did not finish"
        time.sleep(0.2)


def pi_task(launcher: str, **kwargs: Any) -> str:
    args = {"task_id": "pi", "application": PI, "image": "apache/spark:4.0.1", "namespace": NS,
            "launcher": launcher, "executor_instances": 1, **kwargs}
    return "SparkK8sOperator(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


def drivers(cluster: KubeEmulator) -> list[dict]:
    return cluster.list("v1", "Pod", NS, "spark-role=driver")


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_finished_application_of_the_same_try_is_not_submitted_again(spark_cluster: KubeEmulator, run_dag,
                                                                      launcher: str) -> None:
    result = run_dag(f"""
        @task
        def earlier(**context):
            create_earlier_attempt(context, {launcher!r})

        earlier() >> {pi_task(launcher)}
        """, IMPORTS)
    assert result.states == {"earlier": "success", "pi": "success"}
    assert len(drivers(spark_cluster)) == 1
    value = result.xcom("pi")
    assert value["adopted"] is True and value["driver_pod"] == drivers(spark_cluster)[0]["metadata"]["name"]
    assert "of this try already ended" in result.output
    if launcher == "pod":
        assert spark_cluster.requests.count(verb="create", resource="pods") == 1  # the earlier attempt's
    else:
        assert len(spark_cluster.list(*SA, NS)) == 1
        assert spark_cluster.requests.count(verb="create", resource="sparkapplications") == 1


def test_failed_application_of_the_same_try_fails_the_task_without_a_rerun(spark_cluster: KubeEmulator,
                                                                           run_dag) -> None:
    result = run_dag("""
        @task
        def earlier(**context):
            create_earlier_attempt(context, "pod", outcome="failed")

        earlier() >> """ + pi_task("pod"), IMPORTS)
    assert result.states == {"earlier": "success", "pi": "failed"}
    assert "-driver failed (exit code 1, reason Error)" in result.output
    assert len(drivers(spark_cluster)) == 1
    assert spark_cluster.requests.count(verb="create", resource="pods") == 1


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_running_application_of_an_earlier_try_is_adopted_by_the_next_try(spark_cluster: KubeEmulator, run_dag,
                                                                          launcher: str, deferrable: bool) -> None:
    # Try 1 submits, then loses the API (403 on its first watch) and fails while the application keeps
    # running; try 2 must find it by its labels and wait for it instead of submitting a second one.
    resource = "sparkapplications" if launcher == "spark-operator" else "pods"
    spark_cluster.faults.add(verb="watch", resource=resource, status=403, times=1)
    behaviour = {"emulator.sparkk8s.io/run-seconds": "3"}
    extra: dict[str, Any] = ({"annotations": behaviour} if launcher == "spark-operator" else
                             {"conf": {f"spark.kubernetes.driver.annotation.{k}": v for k, v in behaviour.items()}})
    result = run_dag(pi_task(launcher, deferrable=deferrable, retries=1, **extra)
                     .replace("retries=1", "retries=1, retry_delay=timedelta(0)"), IMPORTS)
    assert result.states == {"pi": "success"}
    ti = result.dag_run.get_task_instance("pi")
    assert ti.try_number == 2
    assert "HTTP 403" in result.output
    # On a slow machine the application may end before try 2 looks: try 2 then takes its success.
    assert ("created by try 1 of this task and still running" in result.output
            or "succeeded, but that try ended before it could report it" in result.output)
    assert result.xcom("pi")["adopted"] is True
    assert len(drivers(spark_cluster)) == 1
    assert drivers(spark_cluster)[0]["metadata"]["labels"]["sparkk8s.io/try-number"] == "1"
    if launcher == "spark-operator":
        assert spark_cluster.requests.count(verb="create", resource="sparkapplications") == 1
    else:
        assert spark_cluster.requests.count(verb="create", resource="pods") == 1
