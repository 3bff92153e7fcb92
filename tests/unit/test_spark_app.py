"""The application description and what it renders for each launcher."""

from __future__ import annotations

import json

import pytest
import yaml

from airflow_provider_sparkk8s.identity import TaskIdentity
from airflow_provider_sparkk8s.spark_app import SparkApp, properties_text
from tests.conftest import SHARED, require

pytestmark = pytest.mark.lowest  # also against the lowest supported Airflow (make test-lowest)

CRD = SHARED / "schemas" / "spark-operator" / "sparkoperator.k8s.io_sparkapplications.yaml"
IDENTITY = TaskIdentity("etl", "pi", "manual__2026-11-25T10:00:00+00:00", -1, 2)


def crd_schema() -> dict:
    require(CRD.exists(), f"{CRD} is not available")
    crd = yaml.safe_load(CRD.read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def full_app(**overrides) -> SparkApp:
    args = dict(
        application="s3a://bucket/jobs/etl.py", name="Nightly ETL", application_args=["--date", "2026-11-25"],
        image="apache/spark:4.0.1", image_pull_policy="IfNotPresent", image_pull_secrets=["registry"],
        service_account_name="spark", conf={"spark.sql.shuffle.partitions": 8, "spark.eventLog.enabled": True},
        jars=["s3a://bucket/lib/a.jar"], py_files=["s3a://bucket/lib/util.zip"], files=["s3a://bucket/f.txt"],
        archives=["s3a://bucket/env.tar.gz#env"], packages=["org.apache.hadoop:hadoop-aws:3.4.1"],
        driver_cores=1, driver_memory="2g", executor_cores=2, executor_memory="4g", executor_instances=3,
        dynamic_allocation={"enabled": True, "minExecutors": 1, "maxExecutors": 6},
        env_vars={"STAGE": "prod"}, labels={"team": "data"}, annotations={"owner": "etl"},
        node_selector={"pool": "spark"}, tolerations=[{"key": "spark", "operator": "Exists", "effect": "NoSchedule"}],
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "warehouse"}}],
        volume_mounts=[{"name": "data", "mountPath": "/data"}],
    )
    args.update(overrides)
    return SparkApp(**args)


def test_spark_application_from_every_argument_validates_against_the_crd() -> None:
    import jsonschema

    manifest = full_app().spark_application("nightly-etl-1", "spark-jobs", IDENTITY.labels("application"),
                                            IDENTITY.annotations(), IDENTITY.labels("driver"))
    jsonschema.validate(manifest, crd_schema())
    spec = manifest["spec"]
    assert spec["type"] == "Python" and spec["mode"] == "cluster"
    assert spec["mainApplicationFile"] == "s3a://bucket/jobs/etl.py"
    assert spec["deps"]["pyFiles"] == ["s3a://bucket/lib/util.zip"]
    assert spec["executor"]["instances"] == 3
    assert spec["driver"]["labels"]["sparkk8s.io/try-number"] == "2"
    assert spec["sparkConf"] == {"spark.sql.shuffle.partitions": "8", "spark.eventLog.enabled": "true"}


def test_a_jar_with_a_main_class_is_a_scala_application() -> None:
    import jsonschema

    app = SparkApp(application="local:///opt/spark/examples/jars/spark-examples.jar",
                   main_class="org.apache.spark.examples.SparkPi", image="apache/spark:4.0.1")
    manifest = app.spark_application("pi", "default", {}, {}, {})
    jsonschema.validate(manifest, crd_schema())
    assert (manifest["spec"]["type"], manifest["spec"]["mainClass"]) == ("Scala", "org.apache.spark.examples.SparkPi")


def test_submit_args_are_a_list_in_spark_submit_order() -> None:
    app = full_app()
    args = app.submit_args("k8s://https://api:6443", properties_file="/tmp/x/spark.properties")
    assert args[:6] == ["--master", "k8s://https://api:6443", "--deploy-mode", "cluster", "--name", "Nightly ETL"]
    assert args[args.index("--properties-file") + 1] == "/tmp/x/spark.properties"
    assert args[args.index("--py-files") + 1] == "s3a://bucket/lib/util.zip"
    assert args[-3:] == ["s3a://bucket/jobs/etl.py", "--date", "2026-11-25"]
    assert not any(a.startswith("spark.") for a in args), "properties belong in the file"


def test_spark_conf_maps_every_setting_and_explicit_conf_wins() -> None:
    conf = full_app(conf={"spark.executor.instances": "9"}).spark_conf("spark-jobs")
    assert conf["spark.kubernetes.namespace"] == "spark-jobs"
    assert conf["spark.executor.instances"] == "9"
    assert conf["spark.kubernetes.driver.label.team"] == "data"
    assert conf["spark.kubernetes.executor.annotation.owner"] == "etl"
    assert conf["spark.kubernetes.driverEnv.STAGE"] == "prod" and conf["spark.executorEnv.STAGE"] == "prod"
    assert conf["spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.path"] == "/data"
    assert conf["spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName"] == "warehouse"
    assert conf["spark.dynamicAllocation.maxExecutors"] == "6"
    assert conf["spark.kubernetes.authenticate.driver.serviceAccountName"] == "spark"


def test_properties_file_escapes_what_java_properties_would_misread() -> None:
    text = properties_text({"a.b": "x=y:z #not a comment", "c": " leading space\nsecond line", "d": "back\\slash",
                            "unicode": "naïve ✓"})
    assert text.splitlines() == [
        "a.b=x\\=y\\:z \\#not a comment",
        "c=\\ leading space\\nsecond line",
        "d=back\\\\slash",
        "unicode=naïve ✓",
    ]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"application": ""}, "application: a path or URL"),
    ({"application_args": "10"}, "application_args: expected a list"),
    ({"conf": {"bad key": "1"}}, "conf: invalid Spark property name 'bad key'"),
    ({"conf": {"spark.x": {"nested": 1}}}, "Spark properties are strings"),
    ({"image_pull_policy": "Sometimes"}, "image_pull_policy: expected Always, IfNotPresent or Never"),
    ({"executor_instances": -1}, "executor_instances: expected a non-negative integer"),
    ({"volume_mounts": [{"name": "other", "mountPath": "/x"}]}, "volume_mounts: 'other' is not one of volumes"),
    ({"volumes": [{"name": "cfg", "configMap": {"name": "x"}}], "volume_mounts": []}, "volumes: 'cfg' must be one of"),
])
def test_bad_arguments_are_rejected_naming_the_argument(kwargs: dict, message: str) -> None:
    base = {"application": "local:///app.py"}
    base.update(kwargs)
    with pytest.raises((TypeError, ValueError)) as exc:
        SparkApp(**base)
    assert message in str(exc.value)


def test_names_are_deterministic_per_try_and_valid_dns_labels() -> None:
    name = IDENTITY.name("Nightly ETL!", "driver")
    assert name == IDENTITY.name("Nightly ETL!", "driver")
    assert name != TaskIdentity("etl", "pi", IDENTITY.run_id, -1, 3).name("Nightly ETL!", "driver")
    assert name.startswith("nightly-etl-") and name.endswith("-driver") and len(name) <= 63
    long = TaskIdentity("d" * 300, "t" * 300, "r" * 300).name("x" * 300, "launcher")
    assert len(long) == 63 and long.endswith("-launcher")


def test_labels_are_valid_even_for_run_ids_and_unicode_ids() -> None:
    ident = TaskIdentity("dåg with spaces", "task/ü", "scheduled__2026-11-25T00:00:00+00:00", 4, 1)
    labels = ident.labels("driver")
    for value in labels.values():
        assert len(value) <= 63 and all(c.isalnum() or c in "-_." for c in value), value
    assert ident.annotations()["sparkk8s.io/run-id"] == "scheduled__2026-11-25T00:00:00+00:00"
    assert json.loads(json.dumps(labels)) == labels

