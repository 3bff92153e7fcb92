"""The Airflow emitter: generated DAG files load in a real DagBag, run against the emulator with Oozie's
semantics, carry coordinator schedules, are byte-identical on re-render and keep unsupported items visible."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_sparkk8s.migrate.oozie import ir
from airflow_provider_sparkk8s.migrate.oozie.to_airflow import render_airflow
from tests.migrate.airflow_run_support import (
    action,
    at,
    fake_xcom_sidecar,
    run_dag_file,
    workflow,
    write_dags,
)

NS = "oozie-jobs"
DRIVER = "spark.kubernetes.driver.annotation.emulator.sparkk8s.io/"
KILL_MESSAGE = "spark failed: [${wf:errorMessage(wf:lastErrorNode())}]"


def spark(conf: dict[str, str] | None = None, **kwargs: Any) -> ir.SparkAction:
    opts = ir.SparkOpts(conf=dict(conf or {}), executor_memory="1g", num_executors="1")
    return ir.SparkAction(master="yarn", mode="cluster", app_name="pi", application=
                          "local:///opt/spark/examples/src/main/python/pi.py", spark_opts=opts, args=["10"], **kwargs)


def demo_app(name: str, spark_b_conf: dict[str, str] | None = None) -> ir.Application:
    """shell (capture-output) -> decision on its output -> fork(spark-a, spark-b) -> join -> end; errors -> kill."""
    wf = workflow(
        name,
        action("prep-shell", ir.ShellAction(exec="echo", arguments=["my_output=go"], env=[("MODE", "${mode}")],
                                            capture_output=True), "check", "fail", 3),
        ir.Decision("check", at(10), cases=[("${wf:actionData('prep-shell')['my_output'] eq 'go'}", "split")],
                    default="end"),
        ir.Fork("split", at(15), paths=["spark-a", "spark-b"]),
        action("spark-a", spark(), "joined", "fail", 20, retry_max=2, retry_interval_minutes=3),
        action("spark-b", spark(spark_b_conf), "joined", "fail", 30),
        ir.Join("joined", at(40), to="end"),
        ir.Kill("fail", at(42), message=KILL_MESSAGE),
        ir.End("end", at(45)),
        start="prep-shell",
    )
    return ir.Application(root="demo", properties={"mode": "fast", "nameNode": "hdfs://nn:8020"},
                          workflows={"": wf})


def render(app: ir.Application, **kwargs: Any) -> tuple[dict[str, str], list[ir.Issue]]:
    return render_airflow(app, namespace=NS, spark_launcher="pod", **kwargs)


@pytest.fixture
def cluster(kube_emulator_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    kube = kube_emulator_factory(namespaces=[NS])
    fake_xcom_sidecar(monkeypatch, kube)
    kube.created_pods = []  # KubernetesPodOperator deletes its pods when they end: keep what was created

    def record(event_type: str, rt: Any, obj: dict, old: dict | None) -> None:
        if event_type == "ADDED" and rt.plural == "pods":
            kube.created_pods.append(obj)

    kube.store.add_listener(record)
    return kube


def run(files: dict[str, str], airflow_db: Path, capfd: pytest.CaptureFixture[str]) -> Any:
    (name, text), = files.items()
    path = airflow_db / "dags" / name
    path.write_text(text)
    try:
        return run_dag_file(path, capfd)
    finally:
        path.unlink()


# ------------------------------------------------------------------------------------------ running in Airflow


def test_success_path_runs_the_shell_decision_fork_and_both_spark_apps(cluster: Any, airflow_db: Path,
                                                                       capfd: pytest.CaptureFixture[str]) -> None:
    cluster.pods.behave(name="prep-shell*", log="# captured\nmy_output=go\n")
    files, _ = render(demo_app(f"demo_{uuid.uuid4().hex[:8]}"))
    result = run(files, airflow_db, capfd)
    assert result.state == "success"
    assert result.states == {"prep-shell": "success", "check": "success", "split": "success", "spark-a": "success",
                             "spark-b": "success", "joined": "success", "end": "success", "fail": "skipped"}
    assert result.xcom("prep-shell") == {"my_output": "go"}
    drivers = [p for p in cluster.created_pods if p["metadata"].get("labels", {}).get("spark-role") == "driver"]
    assert len(drivers) == 2
    shell_pod = next(p for p in cluster.created_pods if p["metadata"]["name"].startswith("prep-shell"))
    container = shell_pod["spec"]["containers"][0]
    assert container["command"] == ["sh"] and container["args"][0] == "-c"
    assert container["args"][-2:] == ["echo", "my_output=go"]  # argv, never a shell string with user values
    assert {"name": "MODE", "value": "fast"} in container["env"]


def test_decision_default_goes_to_end_and_skips_the_fork(cluster: Any, airflow_db: Path,
                                                         capfd: pytest.CaptureFixture[str]) -> None:
    cluster.pods.behave(name="prep-shell*", log="my_output=stop\n")
    files, _ = render(demo_app(f"demo_{uuid.uuid4().hex[:8]}"))
    result = run(files, airflow_db, capfd)
    assert result.state == "success"
    assert result.states["end"] == "success"
    assert {result.states[t] for t in ("split", "spark-a", "spark-b", "joined", "fail")} == {"skipped"}
    assert cluster.list("v1", "Pod", NS, "spark-role=driver") == []


def test_failed_spark_app_follows_the_error_transition_to_kill_and_fails_the_run(
        cluster: Any, airflow_db: Path, capfd: pytest.CaptureFixture[str]) -> None:
    cluster.pods.behave(name="prep-shell*", log="my_output=go\n")
    app = demo_app(f"demo_{uuid.uuid4().hex[:8]}", {DRIVER + "outcome": "failed", DRIVER + "exit-code": "3"})
    files, _ = render(app)
    result = run(files, airflow_db, capfd)
    assert result.state == "failed"
    assert result.states["spark-b"] == "failed"
    assert result.states["fail"] == "failed"
    assert result.states["joined"] == "upstream_failed"
    assert "spark failed: [" in result.output
    assert "AirflowFailException" in result.output


def test_a_handled_error_lets_the_run_succeed_as_in_oozie(cluster: Any, airflow_db: Path,
                                                          capfd: pytest.CaptureFixture[str]) -> None:
    wf = workflow(
        f"recover_{uuid.uuid4().hex[:8]}",
        action("risky", ir.ShellAction(exec="false"), "end", "cleanup", 3),
        action("cleanup", ir.ShellAction(exec="echo", arguments=["cleaned"]), "end", "fail", 8),
        ir.Kill("fail", at(12), message="cleanup failed"),
        ir.End("end", at(14)),
        start="risky",
    )
    cluster.pods.behave(name="risky*", outcome="failed")
    files, _ = render(ir.Application(root="recover", workflows={"": wf}))
    result = run(files, airflow_db, capfd)
    assert result.states["risky"] == "failed"
    assert result.states["cleanup"] == "success"
    assert result.states["fail"] == "skipped"
    assert result.state == "success"


# ------------------------------------------------------------------------------------------ loading and output


def every_kind_app() -> ir.Application:
    child = workflow("child-wf", action("child-step", ir.ShellAction(exec="true"), "end", "end", 3),
                     ir.End("end", at(5)), start="child-step", app_path="child")
    common = ir.ActionCommon(prepare=ir.Prepare([("delete", "${nameNode}/out"), ("mkdir", "${nameNode}/out")]),
                             configuration={"mapred.job.queue.name": "q", "a.b": "c"})
    bodies: list[tuple[str, Any]] = [
        ("spark-node", spark(common=common, main_class=None)),
        ("java-node", ir.JavaAction(main_class="org.Main", java_opts=["-Xmx1g"], args=["a"], capture_output=True)),
        ("mr-node", ir.MapReduceAction(streaming={"mapper": "cat", "reducer": "wc"}, common=ir.ActionCommon(
            configuration={"mapred.input.dir": "/in", "mapred.output.dir": "/out"}))),
        ("plain-mr", ir.MapReduceAction()),
        ("pig-node", ir.PigAction(script="x.pig", params=["A=1"])),
        ("hive-node", ir.HiveAction(script="q.sql", params=["D=${wf:id()}"])),
        ("hive2-node", ir.HiveAction(kind="hive2", query="select 1", jdbc_url="jdbc:hive2://h", password="pw")),
        ("sqoop-node", ir.SqoopAction(command="import --table t --target-dir /x")),
        ("distcp-node", ir.DistcpAction(java_opts="-Xmx1g", args=["/a", "/b"])),
        ("fs-node", ir.FsAction(operations=[ir.FsOperation("mkdir", {"path": "/x"}),
                                            ir.FsOperation("chmod", {"path": "/x", "permissions": "755"}, True)])),
        ("email-node", ir.EmailAction(to=["a@example.com"], subject="s ${wf:id()}", body="b")),
        ("ssh-node", ir.SshAction(host="u@h", command="ls", args=["-l"], capture_output=True)),
        ("git-node", ir.GitAction(git_uri="https://example.com/r.git", branch="main", destination_uri="/d")),
        ("sub-node", ir.SubWorkflowAction(app_path="child", propagate_configuration=True, workflow=child)),
        ("custom-node", ir.UnknownAction(tag="http", namespace="uri:custom:http:0.1")),
        ("counters", ir.ShellAction(exec="echo", arguments=["${hadoop:counters('mr-node')}"])),
    ]
    names = [n for n, _ in bodies] + ["end"]
    nodes = [action(name, body, names[i + 1], "fail", 10 + i) for i, (name, body) in enumerate(bodies)]
    wf = workflow("every-kind", *nodes, ir.Kill("fail", at(90), message="failed"), ir.End("end", at(91)),
                  start=names[0])
    return ir.Application(root="every", properties={"nameNode": "hdfs://nn"}, workflows={"": wf, "child": child})


def coordinator_app() -> ir.Application:
    wf = workflow("daily-wf", action("step", ir.ShellAction(exec="run.sh", arguments=["${day}"]), "end", "fail", 3),
                  ir.Kill("fail", at(6), message="x"), ir.End("end", at(8)), start="step")
    coord = ir.Coordinator(
        "daily-coord", "0.4", at(2, "coordinator.xml"), ir.Frequency("minutes", 1440, text="${coord:days(1)}"),
        start="2026-01-01T06:00Z", end="2026-06-30T06:00Z", timezone="Europe/Berlin", workflow=wf,
        controls=ir.Controls(concurrency=3, execution="LAST_ONLY"),
        datasets={"logs": ir.Dataset("logs", ir.Frequency("minutes", 1440), "2026-01-01T00:00Z", "UTC",
                                     "s3a://b/logs/${YEAR}${MONTH}${DAY}")},
        input_events=[ir.DataEvent("input", "logs", instances=["${coord:current(0)}"],
                                   source=at(20, "coordinator.xml"))],
        configuration={"day": "${coord:formatTime(coord:nominalTime(), 'yyyyMMdd')}"},
    )
    return ir.Application(root="coord", workflows={"": wf}, coordinators=[coord])


def core_timetable(dag: Any) -> Any:
    """The timetable as the scheduler sees it (the SDK keeps only the definition)."""
    from airflow.serialization.encoders import coerce_to_core_timetable

    return coerce_to_core_timetable(dag.timetable)


def load(files: dict[str, str], tmp_path: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    write_dags(files, tmp_path)
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.import_errors == {}
    return bag


def test_every_action_kind_renders_a_dag_that_loads_and_keeps_unsupported_items_visible(tmp_path: Path) -> None:
    files, issues = render(every_kind_app())
    assert sorted(files) == ["child_wf.py", "every_kind.py"]
    bag = load(files, tmp_path)
    dag = bag.dags["every-kind"]
    ops = {t.task_id: type(t).__name__ for t in dag.tasks}
    assert ops["spark-node"] == "SparkK8sOperator"
    assert ops["spark-node__prepare_delete"] == ops["spark-node__prepare_mkdir"] == "KubernetesPodOperator"
    assert ops["email-node"] == "EmailOperator"
    assert ops["sub-node"] == "TriggerDagRunOperator"
    assert dag.get_task("sub-node").trigger_dag_id == "child-wf"
    assert dag.get_task("sub-node").wait_for_completion is True
    assert ops["fs-node__1_mkdir"] == ops["fs-node__2_chmod"] == "KubernetesPodOperator"
    assert dag.get_task("fs-node__2_chmod").arguments == ["dfs", "-chmod", "-R", "755", "/x"]
    assert dag.get_task("sqoop-node").arguments == ["import", "--table", "t", "--target-dir", "/x"]
    prepare = dag.get_task("spark-node__prepare_delete")
    assert prepare.cmds == ["hdfs"] and prepare.arguments == ["dfs", "-rm", "-r", "-f", "{{ params['nameNode'] }}/out"]
    spark_task = dag.get_task("spark-node")
    assert spark_task.conf["spark.hadoop.a.b"] == "c" and "spark.hadoop.mapred.job.queue.name" not in spark_task.conf
    assert spark_task.executor_memory == "1g" and spark_task.executor_instances == 1
    assert dag.get_task("ssh-node").do_xcom_push is True
    assert "child-wf" in bag.dags
    text = files["every_kind.py"]
    unsupported = [i for i in issues if i.level == "unsupported"]
    assert {i.element for i in unsupported} >= {"action plain-mr", "action custom-node", "action counters"}
    comments = " ".join(line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip().startswith("#"))
    for item in unsupported:  # each marker is a comment (wrapped to the line length) next to its task
        assert f"OOZIE-UNSUPPORTED: {item.source}: {item.message}" in comments
    assert "<oozie-el-unsupported: ${hadoop:counters('mr-node')}>" in text
    assert any(i.level == "approximated" and "master 'yarn'" in i.message for i in issues)


def test_the_custom_action_placeholder_fails_instead_of_pretending_success(tmp_path: Path) -> None:
    files, _ = render(every_kind_app())
    dag = load(files, tmp_path).dags["every-kind"]
    with pytest.raises(Exception, match="was not migrated"):
        dag.get_task("custom-node").python_callable(**dag.get_task("custom-node").op_kwargs)


def test_coordinator_schedule_dates_and_controls(tmp_path: Path) -> None:
    import pendulum

    files, issues = render(coordinator_app())
    assert list(files) == ["daily_coord.py"]
    dag = load(files, tmp_path).dags["daily-coord"]
    assert dag.max_active_runs == 3
    assert dag.catchup is False
    berlin = pendulum.timezone("Europe/Berlin")
    assert dag.start_date == pendulum.datetime(2026, 1, 1, 7, 0, tz=berlin)
    assert dag.end_date == pendulum.datetime(2026, 6, 30, 8, 0, tz=berlin)
    from airflow.timetables.base import TimeRestriction

    timetable = core_timetable(dag)
    info = timetable.next_dagrun_info(last_automated_data_interval=None,
                                          restriction=TimeRestriction(dag.start_date, dag.end_date, True))
    assert info.run_after == pendulum.datetime(2026, 1, 1, 7, 0, tz=berlin)
    summer = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(pendulum.datetime(2026, 6, 1, 0, 0, tz=berlin), dag.end_date, True))
    assert summer.run_after.in_timezone(berlin).hour == 7  # DST-aware: 05:00 UTC in summer
    wait = dag.get_task("wait_for_input")
    assert dag.get_task("step").upstream_task_ids == {"wait_for_input"}
    assert "done-flag _SUCCESS" in wait.doc_md
    assert any(i.level == "unsupported" and i.element == "input-event input" for i in issues)
    assert "# OOZIE-UNSUPPORTED: coordinator.xml:20: data-in 'input'" in files["daily_coord.py"]
    assert "oozie.format_time(oozie.nominal_time(" in dag.get_task("step").arguments[0]


def test_a_bundle_gives_each_coordinator_its_own_dag(tmp_path: Path) -> None:
    app = coordinator_app()
    first = app.coordinators[0]
    second = ir.Coordinator("hourly", "0.4", at(3, "other/coordinator.xml"),
                            ir.Frequency("cron", cron="0 15 * * 2-6", text="0 15 * * 2-6"), start="2026-01-01T00:00Z",
                            end="2027-01-01T00:00Z", timezone="UTC", workflow=first.workflow)
    app.coordinators = []
    app.bundle = ir.Bundle("b", "0.2", at(1, "bundle.xml"), coordinators=[
        ir.BundleCoordinator("c1", "", coordinator=first),
        ir.BundleCoordinator("c2", "other", coordinator=second, enabled=False)])
    files, _ = render(app)
    assert sorted(files) == ["daily_coord.py", "hourly.py"]
    bag = load(files, tmp_path)
    assert core_timetable(bag.dags["hourly"]).summary == "0 15 * * 1-5"  # Quartz MON-FRI
    # A coordinator the bundle does not enable starts paused.
    assert bag.dags["hourly"].is_paused_upon_creation is True
    assert bag.dags["daily-coord"].is_paused_upon_creation in (None, False)


def test_rendering_is_byte_identical_and_free_of_absolute_paths() -> None:
    for make in (every_kind_app, coordinator_app, lambda: demo_app("demo")):
        first, first_issues = render(make())
        again, again_issues = render(make())
        assert first == again
        assert first_issues == again_issues
        for text in first.values():
            assert "/work/" not in text and "/tmp/" not in text


def test_generated_file_is_tidy_python_with_only_public_imports() -> None:
    files, _ = render(demo_app("demo"))
    text = files["demo.py"]
    compile(text, "demo.py", "exec")
    assert max(len(line) for line in text.splitlines()) <= 120
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert all(("._" not in line) for line in imports)
    assert "from airflow_provider_sparkk8s.migrate.runtime import MACROS" in imports
    assert "    fail = PythonOperator(" in text and "trigger_rule='one_failed'" in text
    assert "    end = EmptyOperator(" in text and "trigger_rule='none_failed_min_one_success'" in text
