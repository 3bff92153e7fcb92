"""The Spark image's entrypoint in the sandbox (``master: cluster``): the commands it runs for a driver pod and an
executor pod, as apache/spark's ``/opt/entrypoint.sh`` builds them, with the application made local.

The real script runs, for ``driver``::

    $SPARK_HOME/bin/spark-submit --conf spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS
        --conf spark.executorEnv.SPARK_DRIVER_POD_IP=$SPARK_DRIVER_BIND_ADDRESS --deploy-mode client "$@"

and for ``executor``::

    java $SPARK_JAVA_OPT_* -Xms$SPARK_EXECUTOR_MEMORY -Xmx$SPARK_EXECUTOR_MEMORY -cp $SPARK_CLASSPATH
        org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend --driver-url $SPARK_DRIVER_URL ...
"""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_sparkk8s.sandbox.spark_entrypoint import EntrypointError, driver_command, executor_command

ENV = {"SPARK_HOME": "/spark", "SPARK_DRIVER_BIND_ADDRESS": "127.0.0.7"}


@pytest.fixture
def mapping(tmp_path: Path) -> dict:
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "pi.py").write_text("print('pi')\n")
    (tmp_path / "stand-ins").mkdir()
    (tmp_path / "stand-ins" / "score.py").write_text("print('score')\n")
    return {"image": "apache/spark:4.0.1", "paths": {"/opt/spark/examples/": str(apps)},
            "main_classes": {"com.example.Score": str(tmp_path / "stand-ins" / "score.py")},
            "conf": {"spark.log.level": "WARN"}, "max_executors": 2, "events_dir": "/opt/sparkk8s/spark-events"}


def properties(tmp_path: Path, text: str) -> str:
    path = tmp_path / "spark.properties"
    path.write_text(text)
    return str(path)


def test_a_python_driver_runs_spark_submit_in_client_mode_with_its_properties_and_the_local_file(
        mapping, tmp_path) -> None:
    props = properties(tmp_path, "spark.master=k8s\\://https\\://kubernetes.default.svc\nspark.executor.instances=2\n")
    command = driver_command(["--properties-file", props, "--class", "org.apache.spark.deploy.PythonRunner",
                              "local:///opt/spark/examples/pi.py", "10"], ENV, mapping)
    assert command[:7] == ["/spark/bin/spark-submit", "--conf", "spark.driver.bindAddress=127.0.0.7",
                           "--conf", "spark.executorEnv.SPARK_DRIVER_POD_IP=127.0.0.7", "--deploy-mode", "client"]
    assert command[7:9] == ["--properties-file", props]
    assert "--class" not in command  # spark-submit picks PythonRunner from the .py itself
    assert command[-2:] == [mapping["paths"]["/opt/spark/examples/"] + "/pi.py", "10"]
    conf = [command[i + 1] for i, arg in enumerate(command) if arg == "--conf"]
    assert "spark.log.level=WARN" in conf and "spark.eventLog.dir=file:///opt/sparkk8s/spark-events" in conf
    assert not any(c.startswith("spark.executor.instances") for c in conf)  # 2 is within max_executors


def test_a_jvm_main_class_runs_its_stand_in_without_the_jar_and_executors_are_capped(mapping, tmp_path, capsys
                                                                                       ) -> None:
    props = properties(tmp_path, "spark.jars=local\\:///opt/jobs/score.jar,local\\:///opt/libs/udf.jar\n"
                                 "spark.executor.instances=5\n")
    command = driver_command(["--properties-file", props, "--class", "com.example.Score",
                              "local:///opt/jobs/score.jar", "2026-01-01"], ENV, mapping)
    assert command[-2:] == [mapping["main_classes"]["com.example.Score"], "2026-01-01"]
    assert "--class" not in command
    conf = [command[i + 1] for i, arg in enumerate(command) if arg == "--conf"]
    assert "spark.jars=local:///opt/libs/udf.jar" in conf  # the application jar is not there: its stand-in runs
    assert "spark.executor.instances=2" in conf
    printed = capsys.readouterr().out
    assert "spark.executor.instances=5 runs as 2 (max_executors of the sandbox mapping)" in printed
    assert "main class com.example.Score of local:///opt/jobs/score.jar runs as the local stand-in" in printed


def test_an_unmapped_application_is_refused_with_the_reason(mapping) -> None:
    with pytest.raises(EntrypointError, match="local:///opt/other/app.py is not mapped for image apache/spark"):
        driver_command(["--properties-file", "/nowhere", "local:///opt/other/app.py"], ENV, mapping)
    with pytest.raises(EntrypointError, match=r"missing\.py is not in the sandbox's files \(no .*/missing\.py here"):
        driver_command(["local:///opt/spark/examples/missing.py"], ENV, mapping)


def test_an_executor_runs_the_kubernetes_executor_backend_from_its_environment() -> None:
    env = {"SPARK_HOME": "/spark", "JAVA_HOME": "/jdk", "SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@d:7078",
           "SPARK_EXECUTOR_ID": "1", "SPARK_APPLICATION_ID": "spark-abc", "SPARK_EXECUTOR_CORES": "1",
           "SPARK_EXECUTOR_MEMORY": "512m", "SPARK_EXECUTOR_POD_IP": "127.0.0.9", "SPARK_RESOURCE_PROFILE_ID": "0",
           "SPARK_EXECUTOR_POD_NAME": "app-exec-1", "SPARK_CONF_DIR": "/opt/spark/conf",
           "SPARK_JAVA_OPT_1": "-Dspark.driver.port=7078", "SPARK_JAVA_OPT_0": "-XX:+UseSerialGC"}
    assert executor_command(env, "/opt/spark/work-dir") == [
        "/jdk/bin/java", "-XX:+UseSerialGC", "-Dspark.driver.port=7078", "-Xms512m", "-Xmx512m",
        "-cp", "/opt/spark/conf:/spark/jars/*::/opt/spark/work-dir",
        "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend",
        "--driver-url", "spark://CoarseGrainedScheduler@d:7078", "--executor-id", "1", "--cores", "1",
        "--app-id", "spark-abc", "--hostname", "127.0.0.9", "--resourceProfileId", "0", "--podName", "app-exec-1"]
    with pytest.raises(EntrypointError, match="an executor needs SPARK_DRIVER_URL"):
        executor_command({"SPARK_HOME": "/spark", "SPARK_EXECUTOR_ID": "1", "SPARK_APPLICATION_ID": "a"}, "/")


def test_remote_dependencies_come_from_the_sandboxs_copies_or_are_left_out(mapping, tmp_path, capsys) -> None:
    """spark-submit passes --files/--py-files/--jars/--archives to the driver, which would download the remote ones;
    here a mapped one that is there runs from its local copy, any other is left out with a line saying so."""
    mapping["paths"]["hdfs://namenode:8020/apps/"] = mapping["paths"]["/opt/spark/examples/"]
    props = properties(tmp_path, "spark.files=hdfs\\://namenode\\:8020/apps/pi.py#pi.py,local\\:///opt/a.conf\n"
                                 "spark.submit.pyFiles=hdfs\\://namenode\\:8020/apps/lib.zip\n"
                                 "spark.jars.packages=org.example\\:lib\\:1.0\n")
    command = driver_command(["--properties-file", props, "local:///opt/spark/examples/pi.py"], ENV, mapping)
    conf = dict(command[i + 1].split("=", 1) for i, arg in enumerate(command) if arg == "--conf")
    local = mapping["paths"]["/opt/spark/examples/"]
    assert conf["spark.files"] == f"file://{local}/pi.py#pi.py,local:///opt/a.conf"
    assert conf["spark.submit.pyFiles"] == "" and conf["spark.jars.packages"] == ""
    printed = capsys.readouterr().out
    assert "spark.submit.pyFiles: hdfs://namenode:8020/apps/lib.zip is left out: the sandbox has no copy" in printed
    assert "spark.jars.packages: org.example:lib:1.0 is left out" in printed
