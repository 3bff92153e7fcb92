"""SparkK8sOperator with the spark-operator launcher: a SparkApplication for the (simulated) Kubeflow
spark-operator. Every SparkApplication created here is checked against the CRD (``spark_cluster``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator

IMPORTS = "from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator\n"
NS = "spark-jobs"
SA = ("sparkoperator.k8s.io/v1beta2", "SparkApplication")
DRIVER = "spark.kubernetes.driver.annotation.emulator.sparkk8s.io/"
PI = "local:///opt/spark/examples/src/main/python/pi.py"


def task(**kwargs: Any) -> str:
    args = {"task_id": "pi", "application": PI, "application_args": ["10"], "image": "apache/spark:4.0.1",
            "namespace": NS, "launcher": "spark-operator", "executor_instances": 1, **kwargs}
    return "SparkK8sOperator(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


def only_application(cluster: KubeEmulator) -> dict:
    apps = cluster.list(*SA, NS)
    assert len(apps) == 1, [a["metadata"]["name"] for a in apps]
    return apps[0]


@pytest.mark.lowest  # also against the lowest supported Airflow (make test-lowest)
@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_success_returns_the_application_and_shows_driver_logs(spark_cluster: KubeEmulator, run_dag,
                                                                deferrable: bool) -> None:
    # Driver annotations reach the driver through the SparkApplication's spec.driver.annotations.
    result = run_dag(task(deferrable=deferrable, annotations={"emulator.sparkk8s.io/log": "Pi is roughly 3.14"},
                          history_server_url="http://history.example:18080"), IMPORTS)
    assert result.states == {"pi": "success"}
    app = only_application(spark_cluster)
    status = app["status"]
    assert status["applicationState"]["state"] == "COMPLETED"
    value = result.xcom("pi")
    assert value == {
        "namespace": NS, "driver_pod": status["driverInfo"]["podName"], "spark_app_id": status["sparkApplicationId"],
        "launcher": "spark-operator", "state": "COMPLETED", "application": app["metadata"]["name"],
        "launcher_pod": None, "adopted": False,
    }
    assert result.xcom("pi", "spark_app_id") == status["sparkApplicationId"]
    assert result.xcom("pi", "driver_pod") == status["driverInfo"]["podName"]
    assert result.xcom("pi", "spark_history_server_url") == (
        f"http://history.example:18080/history/{status['sparkApplicationId']}/jobs/")
    assert result.output.count("[driver] Pi is roughly 3.14") == 1
    assert app["metadata"]["labels"]["sparkk8s.io/role"] == "application"
    assert app["metadata"]["annotations"]["sparkk8s.io/run-id"] == result.dag_run.run_id
    driver = spark_cluster.get("v1", "Pod", value["driver_pod"], NS)
    assert driver["metadata"]["labels"]["sparkk8s.io/role"] == "driver"


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_failed_application_fails_with_the_controller_message_exit_code_and_log_tail(
        spark_cluster: KubeEmulator, run_dag, deferrable: bool) -> None:
    result = run_dag(task(deferrable=deferrable, annotations={
        "emulator.sparkk8s.io/outcome": "failed", "emulator.sparkk8s.io/exit-code": "2",
        "emulator.sparkk8s.io/log": "Traceback: ZeroDivisionError"}), IMPORTS)
    assert result.states == {"pi": "failed"}
    app = only_application(spark_cluster)
    assert app["status"]["applicationState"]["state"] == "FAILED"
    assert (f"SparkApplication {NS}/{app['metadata']['name']} ended in FAILED: driver container failed with "
            "ExitCode: 2, Reason: Error") in result.output
    assert "Last driver log lines:\nTraceback: ZeroDivisionError" in result.output


def test_submission_failure_fails_fast_with_the_controller_message(spark_cluster: KubeEmulator, run_dag) -> None:
    manifest = {"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
                "metadata": {"name": "no-image"},
                "spec": {"type": "Python", "mode": "cluster", "mainApplicationFile": PI, "sparkVersion": "4.0.1",
                         "driver": {"cores": 1, "memory": "512m"}, "executor": {"instances": 1}}}
    result = run_dag(f"SparkK8sOperator(task_id='pi', launcher='spark-operator', namespace={NS!r}, "
                     f"spark_application_manifest={manifest!r}, startup_timeout_seconds=60)", IMPORTS)
    assert result.states == {"pi": "failed"}
    assert "ended in FAILED: failed to run spark-submit" in result.output
    assert "Must specify the driver container image" in result.output
    assert spark_cluster.list("v1", "Pod", NS, "spark-role=driver") == []


def test_on_failure_restart_policy_reruns_the_driver_and_the_rerun_succeeds(spark_cluster: KubeEmulator,
                                                                            run_dag) -> None:
    first: list[str] = []

    def first_driver(pod: dict) -> bool:
        if (pod["metadata"].get("labels") or {}).get("spark-role") != "driver":
            return False
        if not first:
            first.append(pod["metadata"]["uid"])
        return pod["metadata"]["uid"] == first[0]

    spark_cluster.pods.behave(match=first_driver, outcome="failed", exit_code=1)
    policy = {"type": "OnFailure", "onFailureRetries": 1, "onFailureRetryInterval": 1,
              "onSubmissionFailureRetries": 0}
    result = run_dag(task(restart_policy=policy), IMPORTS)
    assert result.states == {"pi": "success"}
    status = only_application(spark_cluster)["status"]
    assert status["applicationState"]["state"] == "COMPLETED"
    assert status["executionAttempts"] == 2
    assert result.xcom("pi")["state"] == "COMPLETED"


def test_rerun_after_startup_timeout_has_passed_gets_its_own_startup_timeout(spark_cluster: KubeEmulator,
                                                                              run_dag) -> None:
    # The first run lasts longer than startup_timeout; the rerun starts later still and must not be judged
    # as a driver that never started.
    first: list[str] = []

    def first_driver(pod: dict) -> bool:
        if (pod["metadata"].get("labels") or {}).get("spark-role") != "driver":
            return False
        if not first:
            first.append(pod["metadata"]["uid"])
        return pod["metadata"]["uid"] == first[0]

    spark_cluster.pods.behave(match=first_driver, outcome="failed", run_seconds=2.5)
    policy = {"type": "OnFailure", "onFailureRetries": 1, "onFailureRetryInterval": 1,
              "onSubmissionFailureRetries": 0}
    result = run_dag(task(restart_policy=policy, startup_timeout_seconds=2), IMPORTS)
    assert result.states == {"pi": "success"}
    assert only_application(spark_cluster)["status"]["executionAttempts"] == 2


def test_templated_manifest_file_is_rendered_and_labelled(spark_cluster: KubeEmulator, run_dag,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "pi.yaml"
    path.write_text(
        "apiVersion: sparkoperator.k8s.io/v1beta2\n"
        "kind: SparkApplication\n"
        "metadata:\n"
        "  name: '{{ params.app_name }}'\n"
        "  labels: {team: data}\n"
        "spec:\n"
        "  type: Python\n"
        "  mode: cluster\n"
        "  image: '{{ params.image }}'\n"
        f"  mainApplicationFile: {PI}\n"
        "  arguments: ['{{ params.partitions }}', '{{ ds }}']\n"
        "  sparkVersion: 4.0.1\n"
        "  driver: {cores: 1, memory: 512m}\n"
        "  executor: {cores: 1, memory: 512m, instances: 1}\n")
    result = run_dag(f"SparkK8sOperator(task_id='pi', launcher='spark-operator', namespace={NS!r}, "
                     "spark_application_manifest='pi.yaml')", IMPORTS, template_searchpath=[str(tmp_path)],
                     params={"app_name": "nightly-pi", "image": "apache/spark:4.0.1", "partitions": "42"})
    assert result.states == {"pi": "success"}
    app = only_application(spark_cluster)
    assert app["metadata"]["name"].startswith("nightly-pi-")
    assert app["spec"]["image"] == "apache/spark:4.0.1"
    assert app["spec"]["arguments"][0] == "42"
    assert app["spec"]["arguments"][1] == result.dag_run.logical_date.strftime("%Y-%m-%d")
    labels = app["metadata"]["labels"]
    assert labels["team"] == "data"
    assert labels["sparkk8s.io/dag-id"] == result.dag_id and labels["sparkk8s.io/role"] == "application"
    assert app["spec"]["driver"]["labels"]["sparkk8s.io/role"] == "driver"
    assert app["metadata"]["annotations"]["sparkk8s.io/run-id"] == result.dag_run.run_id
    assert result.xcom("pi")["application"] == app["metadata"]["name"]


def test_every_created_spark_application_is_valid_for_the_crd(spark_cluster: KubeEmulator, run_dag,
                                                              spark_application_validator) -> None:
    result = run_dag(task(main_class=None, conf={"spark.sql.shuffle.partitions": "4"}, driver_memory="512m",
                          executor_memory="1g", labels={"team": "data"}, env_vars={"STAGE": "test"},
                          restart_policy={"type": "Never"}), IMPORTS)
    assert result.states == {"pi": "success"}
    assert len(spark_cluster.created_spark_applications) == 1
    validator = spark_application_validator()
    for app in spark_cluster.created_spark_applications + spark_cluster.list(*SA, NS):
        assert list(validator.iter_errors(app)) == []


def test_a_long_name_leaves_room_for_the_operators_ui_service(spark_cluster: KubeEmulator, run_dag) -> None:
    # The spark-operator names its UI Service "<application>-ui-svc"; a Service name is at most 63 characters.
    result = run_dag(task(name="ingest-{{ run_id }}-with-a-long-descriptive-suffix"), IMPORTS)
    assert result.states == {"pi": "success"}
    name = only_application(spark_cluster)["metadata"]["name"]
    assert len(name) + len("-ui-svc") <= 63
    assert name.startswith("ingest-manual-")
