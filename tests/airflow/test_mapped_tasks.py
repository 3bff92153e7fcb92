"""Mapped tasks (``.partial().expand()``) of every operator and sensor, three map indexes each: every index has
its own objects in the cluster, labelled and annotated with its map index (index 0 is ``0``, not unmapped), its
own names, its own XCom and extra links, and a retry of an index adopts that index's application only."""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.airflow_api import extra_links, states, xcom
from tests.airflow.argo_support import ARGO_SERVER, WF, argo, workflows
from tests.contract.test_spark_submit import spark_home

__all__ = ["argo"]

INDEXES = (0, 1, 2)
NS = "spark-jobs"
SA = ("sparkoperator.k8s.io/v1beta2", "SparkApplication")
PI = "local:///opt/spark/examples/src/main/python/pi.py"
HISTORY = "http://history.example:18080"
ARGO_UI = "https://argo.example.com"
MAP_INDEX = "sparkk8s.io/map-index"
IMPORTS = """\
from airflow.sdk import task
from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator
from airflow_provider_sparkk8s.sensors.argo import ArgoWorkflowSensor
from airflow_provider_sparkk8s.sensors.calendar import ArgoCalendarSensor
from airflow_provider_sparkk8s.sensors.spark import SparkK8sSensor
from tests.airflow.test_mapped_tasks import earlier_spark_attempts, earlier_workflows
"""


def call(cls: str, partial: dict[str, Any], expand: dict[str, Any]) -> str:
    """`cls.partial(**partial).expand(**expand)` as DAG file source."""
    def args(kwargs: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{cls}.partial({args(partial)}).expand({args(expand)})"


def mapped_pi(launcher: str) -> str:
    return call("SparkK8sOperator", {"task_id": "pi", "application": PI, "image": "apache/spark:4.0.1",
                                     "namespace": NS, "launcher": launcher, "executor_instances": 1,
                                     "history_server_url": HISTORY},
                {"application_args": [[str(i + 1)] for i in INDEXES]})


def mapped_wf() -> str:
    return call("ArgoWorkflowOperator", {"task_id": "wf", "workflow_template": "pipeline",
                                         "argo_conn_id": ARGO_SERVER, "ui_base_url": ARGO_UI},
                {"parameters": [{"dataset": f"part-{i}"} for i in INDEXES]})


def by_index_label(task_id: str) -> list[str]:
    """One label selector per map index: the objects our operators created for that index of `task_id`."""
    return [f"sparkk8s.io/task-id={task_id},{MAP_INDEX}={i}" for i in INDEXES]


def assert_labelled_with(obj: dict, map_index: int, annotated: bool = True) -> None:
    meta = obj["metadata"]
    assert meta["labels"][MAP_INDEX] == str(map_index), meta["name"]
    if annotated:
        assert meta["annotations"][MAP_INDEX] == str(map_index), meta["name"]


# ---------------------------------------------------------------------------------------------------- Spark
@pytest.mark.parametrize("launcher", ["pod", "spark-operator",
                                      pytest.param("spark-submit", marks=pytest.mark.slow)])
def test_each_map_index_runs_its_own_labelled_spark_application(spark_cluster: KubeEmulator, run_dag,
                                                                launcher: str) -> None:
    if launcher == "spark-submit":
        spark_home()  # skips (or fails under CI) without pyspark and Java
    result = run_dag(mapped_pi(launcher), IMPORTS)
    assert states(result, "pi") == {i: "success" for i in INDEXES}
    drivers = set()
    for i in INDEXES:
        value = xcom(result, "pi", i)
        driver = spark_cluster.get("v1", "Pod", value["driver_pod"], NS)
        assert_labelled_with(driver, i, annotated=launcher == "pod")  # the spark-operator's pod: labels only
        if launcher != "spark-submit":  # what created the driver: a SparkApplication or a launcher pod
            owner = (spark_cluster.get(*SA, value["application"], NS) if launcher == "spark-operator" else
                     spark_cluster.get("v1", "Pod", value["launcher_pod"], NS))
            assert_labelled_with(owner, i)
        assert xcom(result, "pi", i, "driver_pod") == value["driver_pod"]
        history = f"{HISTORY}/history/{value['spark_app_id']}/jobs/"
        assert xcom(result, "pi", i, "spark_history_server_url") == history
        assert extra_links(result, "pi", i)["Spark History Server"] == history
        drivers.add(value["driver_pod"])
    assert len(drivers) == 3
    assert len(spark_cluster.list("v1", "Pod", NS, "spark-role=driver")) == 3


def earlier_spark_attempts(context: Any, launcher: str) -> None:
    """What try 1 of each index of the mapped task `pi` left behind when its worker died after submitting:
    the application that index's operator creates, run to its end."""
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook, SparkRun
    from airflow_provider_sparkk8s.identity import TaskIdentity
    from airflow_provider_sparkk8s.kube_api import SPARK_APPLICATIONS
    from airflow_provider_sparkk8s.spark_app import SparkApp

    ti = context["ti"]
    hook = SparkK8sHook(namespace=NS)
    runs = []
    for i in INDEXES:
        identity = TaskIdentity(ti.dag_id, "pi", ti.run_id, i, 1)
        app = SparkApp(application=PI, name="pi", image="apache/spark:4.0.1", executor_instances=1,
                       application_args=[str(i + 1)])
        base = identity.name("pi")
        run = SparkRun(launcher, NS, f"{base}-driver", try_number=1)
        if launcher == "pod":
            run.launcher_pod = f"{base}-launcher"
            hook.run(lambda api, app=app, run=run, identity=identity: hook.create_launcher(api, app, run, identity))
        else:
            run.application = base
            body = hook.spark_application_manifest(app, run, identity)
            hook.run(lambda api, body=body: hook.create(api, SPARK_APPLICATIONS, NS, body))
        runs.append(run)
    deadline = time.monotonic() + 60
    for run in runs:
        while hook.run(lambda api, run=run: hook.is_finished(api, run)) is None:
            assert time.monotonic() < deadline, "the earlier attempts did not finish"
            time.sleep(0.2)


@pytest.mark.parametrize("launcher", ["pod", "spark-operator"])
def test_each_map_index_adopts_the_spark_application_of_its_own_index(spark_cluster: KubeEmulator, run_dag,
                                                                      launcher: str) -> None:
    result = run_dag(f"""
        @task
        def earlier(**context):
            earlier_spark_attempts(context, {launcher!r})

        earlier() >> {mapped_pi(launcher)}
        """, IMPORTS)
    assert states(result, "pi") == {i: "success" for i in INDEXES}
    drivers = spark_cluster.list("v1", "Pod", NS, "spark-role=driver")
    assert len(drivers) == 3  # the earlier attempts' only: nothing submitted again
    for i in INDEXES:
        value = xcom(result, "pi", i)
        assert value["adopted"] is True
        adopted = spark_cluster.get("v1", "Pod", value["driver_pod"], NS)
        assert_labelled_with(adopted, i, annotated=launcher == "pod")
        assert adopted["metadata"]["labels"]["sparkk8s.io/try-number"] == "1"


def test_mapped_spark_sensors_follow_the_application_of_their_index(spark_cluster: KubeEmulator, run_dag
                                                                    ) -> None:
    sensors = call("SparkK8sSensor", {"task_id": "wait", "namespace": NS, "poke_interval": 0.5, "timeout": 15},
                   {"label_selector": by_index_label("pi")})
    result = run_dag(f"{mapped_pi('pod')} >> {sensors}", IMPORTS)
    assert states(result, "wait") == {i: "success" for i in INDEXES}
    for i in INDEXES:
        assert xcom(result, "wait", i)["driver_pod"] == xcom(result, "pi", i)["driver_pod"]


# ---------------------------------------------------------------------------------------------------- Argo
def test_each_map_index_runs_its_own_labelled_workflow(argo: KubeEmulator, run_dag) -> None:
    result = run_dag(mapped_wf(), IMPORTS)
    assert states(result, "wf") == {i: "success" for i in INDEXES}
    for i in INDEXES:
        value = xcom(result, "wf", i)
        wf = argo.get(*WF, value["name"], "default")
        assert_labelled_with(wf, i)
        assert wf["spec"]["arguments"]["parameters"] == [{"name": "dataset", "value": f"part-{i}"}]
        assert xcom(result, "wf", i, "workflow_name") == value["name"]
        url = f"{ARGO_UI}/workflows/default/{value['name']}"
        assert xcom(result, "wf", i, "argo_workflow_url") == url
        assert extra_links(result, "wf", i) == {"Argo Workflows UI": url}
    assert len({w["metadata"]["name"] for w in workflows(argo)}) == 3


def earlier_workflows(context: Any) -> None:
    """What try 1 of each index of the mapped task `wf` left behind when its worker died after submitting."""
    from airflow_provider_sparkk8s.hooks.argo import ArgoWorkflowsHook
    from airflow_provider_sparkk8s.identity import TaskIdentity
    from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator

    ti = context["ti"]
    hook = ArgoWorkflowsHook(ARGO_SERVER)
    for i in INDEXES:
        identity = TaskIdentity(ti.dag_id, "wf", ti.run_id, i, 1)
        body = ArgoWorkflowOperator(task_id="wf", workflow_template="pipeline",
                                    parameters={"dataset": f"part-{i}"})._manifest(identity, "default", None)
        hook.run(lambda transport, body=body: transport.create("default", body))


def test_each_map_index_adopts_the_workflow_of_its_own_index(argo: KubeEmulator, run_dag) -> None:
    result = run_dag(f"""
        @task
        def earlier(**context):
            earlier_workflows(context)

        earlier() >> {mapped_wf()}
        """, IMPORTS)
    assert states(result, "wf") == {i: "success" for i in INDEXES}
    assert len(workflows(argo)) == 3  # the earlier attempts' only: nothing submitted again
    for i in INDEXES:
        value = xcom(result, "wf", i)
        assert value["adopted"] is True
        adopted = argo.get(*WF, value["name"], "default")
        assert_labelled_with(adopted, i)
        assert adopted["spec"]["arguments"]["parameters"] == [{"name": "dataset", "value": f"part-{i}"}]


def test_mapped_workflow_sensors_follow_the_workflow_of_their_index(argo: KubeEmulator, run_dag) -> None:
    sensors = call("ArgoWorkflowSensor", {"task_id": "wait", "argo_conn_id": ARGO_SERVER, "poke_interval": 0.5,
                                          "timeout": 15},
                   {"label_selector": by_index_label("wf")})
    result = run_dag(f"{mapped_wf()} >> {sensors}", IMPORTS)
    assert states(result, "wait") == {i: "success" for i in INDEXES}
    for i in INDEXES:
        assert xcom(result, "wait", i)["name"] == xcom(result, "wf", i)["name"]


# ---------------------------------------------------------------------------------------------------- calendar
def test_mapped_calendar_sensors_each_deliver_the_event_of_their_calendar(run_dag) -> None:
    hours = {i: 1 + i for i in INDEXES}
    sensors = call("ArgoCalendarSensor", {"task_id": "cal", "after": "2026-01-01T00:00:00+00:00",
                                          "poke_interval": 1, "timeout": 15},
                   {"calendar": [{"schedule": f"0 {hours[i]} * * *", "metadata": {"index": str(i)}}
                                 for i in INDEXES]})
    result = run_dag(sensors, IMPORTS)
    assert states(result, "cal") == {i: "success" for i in INDEXES}
    for i in INDEXES:
        assert xcom(result, "cal", i, "fire_time") == f"2026-01-01T0{hours[i]}:00:00+00:00"
        assert xcom(result, "cal", i)["metadata"] == {"index": str(i)}

