"""Spark pod templates reach Spark for every launcher."""

from __future__ import annotations

import pytest
import yaml

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.test_spark_submit_launcher import IMPORTS, pi_task

TEMPLATE = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"labels": {"from-template": "driver"}},
            "spec": {"priorityClassName": "batch-high"}}
POD = "image='apache/spark:4.0.1', namespace='spark-jobs'"


@pytest.fixture
def cluster(kube_emulator_factory) -> KubeEmulator:
    return kube_emulator_factory(namespaces=["spark-jobs"])


@pytest.mark.slow
def test_real_spark_submit_builds_the_driver_pod_from_the_template(cluster: KubeEmulator, run_dag) -> None:
    result = run_dag(pi_task(False).replace("launcher='spark-submit'", f"driver_pod_template={TEMPLATE!r}, "
                                                                       "launcher='spark-submit'"), IMPORTS)
    assert result.states == {"pi": "success"}
    driver = cluster.get("v1", "Pod", result.xcom("pi")["driver_pod"], "spark-jobs")
    assert driver["metadata"]["labels"]["from-template"] == "driver"
    assert driver["spec"]["priorityClassName"] == "batch-high"


def test_launcher_pod_mounts_the_templates_from_a_config_map_it_owns(cluster: KubeEmulator, run_dag,
                                                                       tmp_path) -> None:
    path = tmp_path / "executor.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: '{{ run_id | replace(\":\", \"-\") "
                    "| replace(\"+\", \"-\") }}'\n")
    body = (f"SparkK8sOperator(task_id='pi', launcher='pod', application='local:///app.py', {POD}, "
            f"driver_pod_template={TEMPLATE!r}, executor_pod_template='executor.yaml')")
    result = run_dag(body, IMPORTS, template_searchpath=[str(tmp_path)])
    assert result.states == {"pi": "success"}
    launcher_name = result.xcom("pi")["launcher_pod"]
    launcher = cluster.get("v1", "Pod", launcher_name, "spark-jobs")
    args = launcher["spec"]["containers"][0]["args"]
    assert "spark.kubernetes.driver.podTemplateFile=/opt/spark/pod-templates/driver.yaml" in args
    # Besides the kube-api-access-... volume the ServiceAccount admission plugin adds to every pod.
    assert launcher["spec"]["volumes"][0] == {"name": "pod-templates", "configMap": {"name": launcher_name}}
    assert [v["name"][:16] for v in launcher["spec"]["volumes"][1:]] == ["kube-api-access-"]
    templates = cluster.get("v1", "ConfigMap", launcher_name, "spark-jobs")
    assert yaml.safe_load(templates["data"]["driver.yaml"]) == TEMPLATE
    executor = yaml.safe_load(templates["data"]["executor.yaml"])
    assert executor["metadata"]["labels"]["run"].startswith("manual__")  # rendered with Jinja
    assert templates["metadata"]["ownerReferences"][0]["uid"] == launcher["metadata"]["uid"]


def test_spark_operator_gets_the_templates_in_the_spec(cluster: KubeEmulator, run_dag) -> None:
    body = (f"SparkK8sOperator(task_id='pi', launcher='spark-operator', application='local:///app.py', "
            f"image='apache/spark:4.0.1', namespace='spark-jobs', driver_pod_template={TEMPLATE!r})")
    result = run_dag(body, IMPORTS)
    assert result.states == {"pi": "success"}
    app = cluster.get("sparkoperator.k8s.io/v1beta2", "SparkApplication", result.xcom("pi")["application"],
                      "spark-jobs")
    assert app["spec"]["driver"]["template"] == TEMPLATE


def test_a_template_that_is_not_a_pod_fails_before_anything_is_created(cluster: KubeEmulator, run_dag,
                                                                       tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("kind: Deployment\n")
    body = (f"SparkK8sOperator(task_id='pi', launcher='pod', application='local:///app.py', {POD}, "
            "driver_pod_template='bad.yaml')")
    result = run_dag(body, IMPORTS, template_searchpath=[str(tmp_path)])
    assert result.states == {"pi": "failed"}
    assert "Task pi: driver_pod_template: expected a Pod manifest" in result.output
    assert cluster.list("v1", "Pod", "spark-jobs") == []
