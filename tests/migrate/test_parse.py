"""The Oozie parser: every corpus application read into the IR, and every malformed or hostile input refused
with an error naming file, line and problem."""

from __future__ import annotations

import glob
import re
import shutil
import time
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.migrate.oozie import ir
from airflow_provider_sparkk8s.migrate.oozie.ir import MigrationError, Source
from airflow_provider_sparkk8s.migrate.oozie.parse import (
    ACTION_VERSIONS,
    COORDINATOR_VERSIONS,
    WORKFLOW_VERSIONS,
    parse_application,
    parse_spark_opts,
    split_options,
)
from tests.conftest import SHARED, require

CORPUS = Path(__file__).parent / "corpus"
GOOD_APPS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name not in ("bad", "frequencies"))


def parse(name: str, **kwargs: object) -> ir.Application:
    return parse_application(CORPUS / name, **kwargs)  # type: ignore[arg-type]


def root_workflow(name: str) -> ir.Workflow:
    return parse(name).workflows[""]


def action(workflow: ir.Workflow, name: str) -> ir.Action:
    node = workflow.nodes[name]
    assert isinstance(node, ir.Action)
    return node


# ------------------------------------------------------------------------------------------ the demo application


def test_spark_etl_node_graph() -> None:
    workflow = root_workflow("spark-etl")
    assert workflow.schema_version == "1.0"
    assert workflow.start == "ingest"
    kinds = {name: type(node).__name__ for name, node in workflow.nodes.items()}
    assert kinds == {"ingest": "Action", "check-count": "Action", "has-rows": "Decision", "transform": "Fork",
                     "aggregate": "Action", "score": "Action", "joined": "Join", "fail": "Kill", "end": "End"}
    assert [(a.name, a.ok, a.error) for a in workflow.actions] == [
        ("ingest", "check-count", "fail"), ("check-count", "has-rows", "fail"), ("aggregate", "joined", "fail"),
        ("score", "joined", "fail")]
    decision = workflow.nodes["has-rows"]
    assert isinstance(decision, ir.Decision)
    assert decision.cases == [("${wf:actionData('check-count')['rows'] gt 0}", "transform")]
    assert decision.default == "end"
    fork, join, kill = workflow.nodes["transform"], workflow.nodes["joined"], workflow.nodes["fail"]
    assert isinstance(fork, ir.Fork) and fork.paths == ["aggregate", "score"]
    assert isinstance(join, ir.Join) and join.to == "end"
    assert isinstance(kill, ir.Kill)
    assert kill.message == "spark-etl failed at [${wf:lastErrorNode()}]: ${wf:errorMessage(wf:lastErrorNode())}"


def test_spark_etl_pyspark_action_fields() -> None:
    ingest = action(root_workflow("spark-etl"), "ingest")
    assert (ingest.retry_max, ingest.retry_interval_minutes) == (3, 5)
    body = ingest.body
    assert isinstance(body, ir.SparkAction)
    assert body.is_python
    assert body.application == "hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/ingest.py"
    assert (body.master, body.mode, body.main_class) == ("yarn", "cluster", None)
    assert body.app_name == "ingest-${wf:id()}"
    assert body.args == ["--date", "${coord:formatTime(coord:nominalTime(), 'yyyy-MM-dd')}", "--input", "${inputDir}"]
    opts = body.spark_opts
    assert opts.conf == {"spark.sql.shuffle.partitions": "64",
                         "spark.driver.extraJavaOptions": "-Dlog4j.configuration=log4j.properties -Denv=prod"}
    assert (opts.driver_memory, opts.executor_memory, opts.executor_cores, opts.num_executors) == ("2g", "4G", "2", "5")
    assert opts.py_files == ["hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/lib.zip",
                             "hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/util.py"]
    assert opts.files == ["hdfs://namenode:8020/user/etl/apps/spark-etl/conf/app.conf"]
    assert opts.unparsed == []
    assert body.spark_opts_text.startswith("--conf spark.sql.shuffle.partitions=64 --conf \"spark.driver")
    common = body.common
    assert common.job_tracker == "resourcemanager:8032"  # <resource-manager> from <global>
    assert common.name_node == "hdfs://namenode:8020"
    assert common.prepare.operations == [
        ("delete", "hdfs://namenode:8020/user/etl/apps/spark-etl/staging/${wf:id()}"),
        ("mkdir", "hdfs://namenode:8020/user/etl/apps/spark-etl/staging")]
    assert common.configuration == {"mapreduce.job.queuename": "etl"}  # inline wins over <global>


def test_spark_etl_jar_with_class_and_extra_jars() -> None:
    workflow = root_workflow("spark-etl")
    score = action(workflow, "score").body
    assert isinstance(score, ir.SparkAction)
    assert not score.is_python
    assert score.main_class == "com.example.etl.Score"
    assert score.application == "hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/score.jar"
    assert score.extra_jars == ["hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/deps.jar"]
    assert score.spark_opts.jars == ["hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/extra.jar"]
    assert score.spark_opts.packages == ["org.apache.spark:spark-avro_2.12:3.5.1"]
    assert score.spark_opts.queue == "etl"  # --queue=etl form
    assert score.spark_opts.unparsed == ["--verbose"]
    assert score.common.files == ["hdfs://namenode:8020/user/etl/apps/spark-etl/conf/score.conf#score.conf"]
    assert score.common.archives == ["hdfs://namenode:8020/user/etl/apps/spark-etl/models.tgz#models"]
    aggregate = action(workflow, "aggregate").body
    assert isinstance(aggregate, ir.SparkAction)
    assert aggregate.common.configuration == {"mapreduce.job.queuename": "default"}  # only <global>


def test_spark_etl_shell_captures_output() -> None:
    shell = action(root_workflow("spark-etl"), "check-count").body
    assert isinstance(shell, ir.ShellAction)
    assert shell.capture_output
    assert shell.exec == "count_rows.sh"
    assert shell.env == [("RUN_ID", "${wf:id()}")]
    assert shell.common.files == ["hdfs://namenode:8020/user/etl/apps/spark-etl/bin/count_rows.sh#count_rows.sh"]


def test_spark_etl_properties_precedence() -> None:
    app = parse("spark-etl")
    assert app.properties["queueName"] == "default"  # job.properties over config-default.xml
    assert app.properties["env"] == "prod"  # config-default.xml over the <parameters> default "dev"
    assert app.properties["appRoot"] == "hdfs://namenode:8020/user/etl/apps/spark-etl"
    assert app.workflows[""].name == "spark-etl-prod"
    assert app.workflows[""].parameters == {"env": "dev", "outputDir": None}
    assert app.unresolved == {}  # ${inputDir} is supplied by the coordinator's configuration


def test_spark_etl_coordinator() -> None:
    app = parse("spark-etl")
    [coordinator] = app.coordinators
    assert coordinator.name == "spark-etl-daily"
    assert coordinator.schema_version == "0.4"
    assert coordinator.frequency == ir.Frequency("minutes", amount=1440, text="${coord:days(1)}")
    assert (coordinator.start, coordinator.end) == ("2026-01-01T02:00Z", "2027-01-01T02:00Z")
    assert coordinator.timezone == "Europe/Amsterdam"
    assert coordinator.controls == ir.Controls(timeout_minutes=180, concurrency=2, execution="FIFO", throttle=4)
    assert coordinator.app_path == "hdfs://namenode:8020/user/etl/apps/spark-etl"
    assert coordinator.workflow is app.workflows[""]
    events = coordinator.datasets["events"]
    assert events.uri_template == "hdfs://namenode:8020/data/events/${YEAR}/${MONTH}/${DAY}"
    assert events.done_flag == "_SUCCESS"
    assert [(e.name, e.dataset, e.instances) for e in coordinator.input_events] == [
        ("input", "events", ["${coord:current(-1)}"])]
    assert coordinator.configuration["inputDir"] == "${coord:dataIn('input')}"
    assert coordinator.configuration["runDate"] == (
        "${coord:formatTime(coord:dateOffset(coord:nominalTime(), -1, 'DAY'), 'yyyyMMdd')}")
    assert app.issues == []


def test_sources_carry_file_and_line() -> None:
    app = parse("spark-etl")
    workflow = app.workflows[""]
    assert workflow.source == Source("workflow.xml", 4)
    assert workflow.nodes["ingest"].source == Source("workflow.xml", 25)
    assert workflow.nodes["end"].source == Source("workflow.xml", 102)
    assert app.coordinators[0].source == Source("coordinator.xml", 2)
    assert app.coordinators[0].input_events[0].source == Source("coordinator.xml", 18)
    assert app.coordinators[0].datasets["events"].source == Source("coordinator.xml", 11)


# ------------------------------------------------------------------------------------------ versions and actions


@pytest.mark.parametrize("version", WORKFLOW_VERSIONS)
def test_every_workflow_schema_version_has_a_corpus_app(version: str) -> None:
    assert root_workflow(f"wf-{version}" if version != "1.0" else "all-actions-1.0").schema_version == version


@pytest.mark.parametrize("name", GOOD_APPS)
def test_every_corpus_app_parses_without_errors(name: str) -> None:
    app = parse(name)
    assert app.workflows
    assert all(i.level != "error" for i in app.issues)


def test_every_action_schema_version_appears_in_the_corpus() -> None:
    used = set()
    for name in glob.glob(str(CORPUS / "**" / "*.xml"), recursive=True):  # follows the spark-etl symlink
        path = Path(name)
        if "bad" not in path.relative_to(CORPUS).parts:
            used.update(re.findall(r"uri:oozie:([a-z0-9]+)-action:([0-9.]+)", path.read_text()))
    expected = {(kind, version) for kind, versions in ACTION_VERSIONS.items() for version in versions}
    assert expected - used == set()


def test_parser_knows_every_schema_shipped_with_oozie() -> None:
    schemas = SHARED / "schemas" / "oozie"
    require(schemas.is_dir(), f"{schemas} is not available")
    for xsd in schemas.glob("*.xsd"):
        match = re.fullmatch(r"(?:oozie-)?([a-z0-9]+?)(?:-action)?-(\d[\d.]*)\.xsd", xsd.name)
        if match is None or match.group(1) in ("sla", "common", "bundle"):
            continue
        kind, version = match.groups()
        if kind == "workflow":
            assert version in WORKFLOW_VERSIONS, xsd.name
        elif kind == "coordinator":
            assert version in COORDINATOR_VERSIONS, xsd.name
        elif kind != "gms":
            assert version in ACTION_VERSIONS[kind], xsd.name


def test_every_action_type_is_read() -> None:
    kinds = {a.body.kind for name in GOOD_APPS for w in parse(name).workflows.values() for a in w.actions}
    assert kinds == {"spark", "shell", "java", "map-reduce", "pig", "hive", "hive2", "sqoop", "distcp", "fs",
                     "email", "ssh", "git", "sub-workflow", "unknown"}


def test_workflow_0_1_inline_actions() -> None:
    app = parse("wf-0.1")
    workflow = app.workflows[""]
    fs = action(workflow, "cleanup").body
    assert isinstance(fs, ir.FsAction)
    assert [(op.op, op.attributes) for op in fs.operations] == [
        ("delete", {"path": "hdfs://namenode:8020/tmp/legacy"}),
        ("mkdir", {"path": "hdfs://namenode:8020/tmp/legacy"}),
        ("move", {"source": "hdfs://namenode:8020/tmp/in", "target": "hdfs://namenode:8020/tmp/legacy/in"}),
        ("chmod", {"path": "hdfs://namenode:8020/tmp/legacy", "permissions": "755", "dir-files": "false"})]
    mr = action(workflow, "wordcount").body
    assert isinstance(mr, ir.MapReduceAction)
    assert mr.streaming == {"mapper": "/bin/cat", "reducer": "/usr/bin/wc", "record-reader": "StreamXmlRecord",
                            "record-reader-mapping": ["begin=<doc>"], "env": ["LC_ALL=C"]}
    assert mr.common.configuration == {"mapred.input.dir": "/tmp/legacy/in"}
    assert mr.common.files == ["scripts/mapper.sh"]
    ssh = action(workflow, "remote").body
    assert isinstance(ssh, ir.SshAction)
    assert (ssh.host, ssh.command, ssh.args, ssh.capture_output) == (
        "oozie@edge.example.com", "/opt/scripts/report.sh", ["${wf:id()}", "${wf:user()}"], True)
    email = action(workflow, "notify").body
    assert isinstance(email, ir.EmailAction)
    assert email.to == ["ops@example.com", "data@example.com"]
    assert email.subject == "legacy ${wf:name()} done"
    http = action(workflow, "ping").body
    assert isinstance(http, ir.UnknownAction) and http.tag == "http"
    assert "<http-url>http://hooks.example.com/done</http-url>" in http.xml
    [issue] = app.issues
    assert (issue.level, issue.source, issue.element) == ("unsupported", Source("workflow.xml", 58), "action ping")


def test_workflow_0_2_pig_java_pipes_email_ssh() -> None:
    workflow = root_workflow("wf-0.2")
    pig = action(workflow, "pig-node").body
    assert isinstance(pig, ir.PigAction)
    assert pig.script == "id.pig"
    assert pig.params == ["INPUT=hdfs://namenode:8020/in", "OUTPUT=hdfs://namenode:8020/out/pig"]
    assert (pig.common.files, pig.common.archives) == (["udf.py#udf.py"], ["lib.zip#lib"])
    assert pig.common.prepare.operations == [("delete", "hdfs://namenode:8020/out/pig")]
    java = action(workflow, "java-node").body
    assert isinstance(java, ir.JavaAction)
    assert (java.main_class, java.java_opts) == ("org.example.Main", ["-Xmx1g -Dmode=batch"])
    assert java.args == ["hdfs://namenode:8020/out/pig", "${wf:conf('mapred.job.queue.name')}"]
    pipes = action(workflow, "pipes-node").body
    assert isinstance(pipes, ir.MapReduceAction)
    assert pipes.pipes == {"map": "org.example.Map", "reduce": "org.example.Reduce",
                           "program": "bin/wordcount#wordcount"}
    email = action(workflow, "mail").body
    assert isinstance(email, ir.EmailAction) and email.cc == ["lead@example.com"]
    ssh = action(workflow, "remote").body
    assert isinstance(ssh, ir.SshAction) and ssh.args == ["-l"] and not ssh.capture_output


def test_workflow_0_2_5_credentials_and_hive() -> None:
    workflow = root_workflow("wf-0.2.5")
    assert [(c.name, c.type) for c in workflow.credentials] == [("hcat", "hcat"), ("hs2", "hive2")]
    assert workflow.credentials[0].properties["hcat.metastore.uri"] == "thrift://metastore:9083"
    assert workflow.credentials[1].properties == {"hive2.jdbc.url": "jdbc:hive2://hs2:10000/default"}
    assert action(workflow, "hive-node").cred == ["hcat"]
    beeline = action(workflow, "beeline")
    assert beeline.cred == ["hcat", "hs2"]
    body = beeline.body
    assert isinstance(body, ir.HiveAction)
    assert (body.kind, body.jdbc_url, body.password, body.script) == (
        "hive2", "jdbc:hive2://hs2:10000/default", "secret", "report.q")
    assert (body.params, body.args) == (["DAY=2026-01-01"], ["--verbose"])
    hive = action(workflow, "hive-node").body
    assert isinstance(hive, ir.HiveAction) and hive.kind == "hive" and hive.query is None


def test_workflow_0_3_retry_sqoop_distcp() -> None:
    workflow = root_workflow("wf-0.3")
    imported = action(workflow, "import")
    assert (imported.retry_max, imported.retry_interval_minutes, imported.retry_policy) == (2, 10, None)
    sqoop = imported.body
    assert isinstance(sqoop, ir.SqoopAction)
    assert sqoop.command == "import --connect jdbc:mysql://db/sales --table orders --target-dir /data/orders"
    distcp = action(workflow, "copy").body
    assert isinstance(distcp, ir.DistcpAction)
    assert distcp.args == ["hdfs://namenode:8020/data/orders", "s3a://archive/orders"]


def test_workflow_0_4_parameters_and_configuration_merge_order() -> None:
    app = parse("wf-0.4")
    workflow = app.workflows[""]
    assert workflow.parameters == {"inputDir": None, "mode": "full", "queueName": "from-parameters"}
    assert app.properties["queueName"] == "from-config-default"
    assert app.properties["inputDir"] == "hdfs://namenode:8020/data/in"
    assert workflow.global_common.job_xml == ["conf/global.xml"]
    assert workflow.global_common.configuration == {
        "level": "global-inline", "from.global.job.xml": "yes", "global.only": "g"}
    shell = action(workflow, "shell-node").body
    assert isinstance(shell, ir.ShellAction)
    # <global> < <job-xml> files (global's, then the action's) < inline <configuration>
    assert shell.common.configuration == {"level": "action-inline", "from.global.job.xml": "yes",
                                          "global.only": "overridden-by-action-job-xml"}
    assert shell.common.job_xml == ["conf/global.xml", "conf/action.xml"]
    assert shell.common.job_tracker == "jobtracker:8021"  # inherited from <global>
    assert shell.arguments == ["hdfs://namenode:8020/data/in", "${wf:user()}"]
    assert shell.env == [("QUEUE", "from-config-default"), ("EMPTY", "")]
    fs = action(workflow, "touch").body
    assert isinstance(fs, ir.FsAction) and fs.operations[0].op == "touchz"


def test_string_el_functions_stay_as_written() -> None:
    decision = root_workflow("wf-0.4").nodes["route"]
    assert isinstance(decision, ir.Decision)
    assert decision.cases == [
        ("${firstNotNull(wf:conf('mode'), 'full') eq 'full' and trim(concat(mode, ' ')) eq 'full'}", "touch"),
        ("${replaceAll(urlEncode(inputDir), '%2F', '/') ne '' or timestamp() gt '2026'}", "hive-node")]
    assert decision.default == "end"


def test_workflow_0_4_5_error_paths_to_non_kill_nodes() -> None:
    workflow = root_workflow("wf-0.4.5")
    assert {a.name: a.error for a in workflow.actions} == {
        "dates": "alert", "group": "alert", "remote": "alert", "alert": "fail"}
    java = action(workflow, "dates").body
    assert isinstance(java, ir.JavaAction)
    assert java.java_opts == ["-Xmx512m", "-Dtz=UTC"] and java.capture_output
    chgrp = action(workflow, "group").body
    assert isinstance(chgrp, ir.FsAction)
    assert chgrp.operations[0].recursive and chgrp.operations[0].attributes["group"] == "analysts"
    email = action(workflow, "alert").body
    assert isinstance(email, ir.EmailAction)
    assert (email.bcc, email.content_type) == (["audit@example.com"], "text/html")
    assert email.attachments == ["hdfs://namenode:8020/logs/a.log", "hdfs://namenode:8020/logs/b.log"]
    ssh = action(workflow, "remote").body
    assert isinstance(ssh, ir.SshAction) and ssh.args == ["${wf:actionData('dates')['first']}"] and ssh.capture_output


def test_workflow_0_5_versions_retry_policy_and_custom_action() -> None:
    app = parse("wf-0.5")
    workflow = app.workflows[""]
    spark = action(workflow, "spark-01")
    assert (spark.retry_max, spark.retry_interval_minutes, spark.retry_policy) == (4, 1, "exponential")
    assert isinstance(spark.body, ir.SparkAction)
    opts = spark.body.spark_opts
    assert opts.executor_memory == "1G" and opts.driver_cores == "1"
    assert (opts.repositories, opts.exclude_packages, opts.archives) == (
        ["https://repo.example.com"], ["a:b"], ["env.tgz#env"])
    assert (opts.properties_file, opts.driver_java_options) == ("spark.conf", "-Da=1 -Db=2")
    assert (opts.driver_class_path, opts.driver_library_path) == ("/opt/cp", "/opt/lib")
    assert (opts.principal, opts.keytab) == ("etl@EXAMPLE.COM", "etl.keytab")
    assert opts.unparsed == ["--deploy-mode", "cluster", "--conf"]
    hive = action(workflow, "hive-06").body
    assert isinstance(hive, ir.HiveAction) and hive.query == "SELECT COUNT(*) FROM events WHERE day = '2026-01-01'"
    sqoop = action(workflow, "sqoop-04").body
    assert isinstance(sqoop, ir.SqoopAction) and sqoop.command is None
    assert sqoop.args[-1] == "SELECT * FROM orders WHERE $CONDITIONS"
    distcp = action(workflow, "distcp-02").body
    assert isinstance(distcp, ir.DistcpAction) and distcp.java_opts == "-Xmx2g"
    fs = action(workflow, "fs-05").body
    assert isinstance(fs, ir.FsAction)
    assert [(o.op, o.attributes, o.recursive) for o in fs.operations] == [
        ("delete", {"path": "hdfs://namenode:8020/tmp/x", "skip-trash": "true"}, False),
        ("setrep", {"path": "hdfs://namenode:8020/data/x", "replication-factor": "2"}, False),
        ("chmod", {"path": "hdfs://namenode:8020/data/x", "permissions": "-rwxr-x---", "dir-files": "true"}, True)]
    custom = action(workflow, "custom").body
    assert isinstance(custom, ir.UnknownAction)
    assert (custom.tag, custom.namespace) == ("my-action", "uri:example:custom-action:1.0")
    assert [i.element for i in app.issues] == ["action custom"]


def test_workflow_1_0_nested_forks_launcher_git_and_sub_workflow() -> None:
    app = parse("all-actions-1.0")
    workflow = app.workflows[""]
    outer, inner = workflow.nodes["outer"], workflow.nodes["inner"]
    assert isinstance(outer, ir.Fork) and outer.paths == ["inner", "mr"]
    assert isinstance(inner, ir.Fork) and inner.paths == ["spark-02", "hive-10", "hive2-10"]
    git = action(workflow, "checkout").body
    assert isinstance(git, ir.GitAction)
    assert (git.git_uri, git.branch, git.key_path, git.destination_uri) == (
        "https://git.example.com/etl.git", "main", "hdfs://namenode:8020/keys/id_rsa",
        "hdfs://namenode:8020/apps/etl-src")
    hive = action(workflow, "hive-10").body
    assert isinstance(hive, ir.HiveAction)
    assert hive.common.launcher == {"memory.mb": "1024", "queue": "launchers", "vcores": "2"}
    assert hive.common.job_tracker == "resourcemanager:8032"
    mr = action(workflow, "mr").body
    assert isinstance(mr, ir.MapReduceAction) and mr.config_class == "org.example.Configurer"
    sub = action(workflow, "cleanup-wf").body
    assert isinstance(sub, ir.SubWorkflowAction)
    assert sub.propagate_configuration
    assert sub.configuration == {"target": "hdfs://namenode:8020/tmp/all"}
    assert sub.workflow is app.workflows["cleanup"]
    assert sub.workflow.app_path == "cleanup" and sub.workflow.name == "cleanup"
    assert list(app.workflows) == ["", "cleanup"]
    assert app.unresolved == {"user.name": Source("workflow.xml", 118)}


def test_sub_workflow_children_found_and_missing() -> None:
    app = parse("subworkflow")
    workflow = app.workflows[""]
    child = app.workflows["child"]
    first, second, missing = (action(workflow, n).body for n in ("run-child", "run-again", "run-elsewhere"))
    assert isinstance(first, ir.SubWorkflowAction) and first.workflow is child  # ${appRoot}/child
    assert isinstance(second, ir.SubWorkflowAction) and second.workflow is child  # child/workflow.xml (relative)
    assert isinstance(missing, ir.SubWorkflowAction) and missing.workflow is None
    assert missing.app_path == "hdfs://namenode:8020/user/shared/apps/not-in-this-input"
    [issue] = app.issues
    assert issue.level == "unsupported" and issue.source == Source("workflow.xml", 27)
    assert "not-in-this-input" in issue.message
    assert app.unresolved == {}  # the child's ${childInput} comes from the parent's <configuration>


# ------------------------------------------------------------------------------------------ coordinators and bundles


@pytest.mark.parametrize(("name", "frequency", "controls"), [
    ("coord-0.1", ir.Frequency("minutes", 60, text="60"), ir.Controls(-1, 1, "LAST_ONLY", None)),
    ("coord-0.2", ir.Frequency("cron", cron="0 15 * * 2-6", text="0 15 * * 2-6"), ir.Controls(30, 3, "LIFO", 6)),
    ("coord-0.3", ir.Frequency("minutes", 360, text="${coord:hours(6)}"), ir.Controls(0, 2, "NONE", 2)),
    ("coord-0.4", ir.Frequency("end_of_days", 1, text="${coord:endOfDays(1)}"), ir.Controls(None, 1, None, None)),
    ("coord-0.5", ir.Frequency("end_of_months", 1, text="${coord:endOfMonths(1)}"), ir.Controls(1440, 1, "FIFO", 1)),
])
def test_coordinator_versions(name: str, frequency: ir.Frequency, controls: ir.Controls) -> None:
    app = parse(name)
    [coordinator] = app.coordinators
    assert coordinator.schema_version == name.removeprefix("coord-")
    assert coordinator.frequency == frequency
    assert coordinator.controls == controls
    assert coordinator.workflow is app.workflows[""]
    assert app.unresolved == {}


def test_coordinator_0_1_dataset_with_empty_done_flag() -> None:
    [coordinator] = parse("coord-0.1").coordinators
    logs = coordinator.datasets["logs"]
    assert logs.frequency == ir.Frequency("minutes", 30, text="${coord:minutes(30)}")
    assert logs.done_flag == ""  # an empty <done-flag/>: the directory itself signals readiness
    assert coordinator.input_events[0].instances == ["${coord:current(-1)}", "${coord:current(0)}"]


def test_coordinator_0_2_properties_substituted_in_attributes() -> None:
    [coordinator] = parse("coord-0.2").coordinators
    assert (coordinator.start, coordinator.end) == ("2026-02-01T15:00Z", "2026-03-01T15:00Z")
    assert coordinator.app_path == "hdfs://namenode:8020/user/etl/apps/coord-0.2/workflow.xml"


def test_coordinator_0_3_instance_range_and_output_event() -> None:
    [coordinator] = parse("coord-0.3").coordinators
    assert coordinator.datasets["monthly"].frequency == ir.Frequency("months", 1, text="${coord:months(1)}")
    [event] = coordinator.input_events
    assert (event.start_instance, event.end_instance, event.instances) == (
        "${coord:current(-3)}", "${coord:current(-1)}", [])
    [out] = coordinator.output_events
    assert (out.name, out.dataset, out.instances) == ("report", "reports", ["${coord:current(0)}"])


def test_coordinator_0_4_parameters_and_included_datasets() -> None:
    [coordinator] = parse("coord-0.4").coordinators
    assert coordinator.name == "daily-0.4"  # <parameters> default
    assert coordinator.timezone == "UTC"  # job.properties beats the <parameters> default
    assert coordinator.parameters == {"coordName": "daily-0.4", "tz": "Asia/Tokyo", "start": None}
    assert sorted(coordinator.datasets) == ["local", "weekly"]
    weekly = coordinator.datasets["weekly"]
    assert weekly.frequency == ir.Frequency("end_of_weeks", 1, text="${coord:endOfWeeks(1)}")
    assert weekly.done_flag == "_DONE"
    assert weekly.source == Source("datasets.xml", 3)


def test_coordinator_0_5_input_logic_is_reported_as_approximated() -> None:
    app = parse("coord-0.5")
    [issue] = app.issues
    assert (issue.level, issue.source, issue.element) == (
        "approximated", Source("coordinator.xml", 27), "coordinator input-logic")
    assert "backup-in, primary-in" in issue.message
    assert [e.name for e in app.coordinators[0].input_events] == ["primary-in", "backup-in"]


@pytest.mark.parametrize(("file", "unit", "amount", "cron"), [
    ("minutes-number.xml", "minutes", 15, ""),
    ("coord-minutes.xml", "minutes", 45, ""),
    ("coord-hours.xml", "minutes", 120, ""),
    ("coord-days.xml", "minutes", 7 * 1440, ""),
    ("coord-months.xml", "months", 3, ""),
    ("coord-end-of-days.xml", "end_of_days", 2, ""),
    ("coord-end-of-weeks.xml", "end_of_weeks", 1, ""),
    ("coord-end-of-months.xml", "end_of_months", 1, ""),
    ("cron-dow-numbers.xml", "cron", 0, "0 9 * * 7"),
    ("cron-dow-names.xml", "cron", 0, "0 10,13 * * MON-FRI"),
    ("cron-last-day.xml", "cron", 0, "1 2 L-3 * *"),
    ("cron-weekday.xml", "cron", 0, "1 2 6W 3 ?"),
    ("cron-nth-dow.xml", "cron", 0, "1 2 * 3 3#2"),
    ("cron-step.xml", "cron", 0, "0/10 * * * *"),
])
def test_frequency_forms(file: str, unit: str, amount: int, cron: str) -> None:
    app = parse_application(CORPUS / "frequencies" / file)
    [coordinator] = app.coordinators
    frequency = coordinator.frequency
    assert (frequency.unit, frequency.amount, frequency.cron) == (unit, amount, cron)
    assert coordinator.workflow is app.workflows[""]


def test_bundle_with_two_coordinators() -> None:
    app = parse("bundle")
    bundle = app.bundle
    assert bundle is not None
    assert (bundle.name, bundle.schema_version, bundle.kick_off_time) == ("sales-bundle", "0.2", "2026-01-01T00:00Z")
    assert bundle.parameters == {"region": "eu"}
    hourly, nightly = bundle.coordinators
    assert (hourly.name, hourly.critical, hourly.enabled) == ("sales-hourly", True, True)
    assert (nightly.name, nightly.critical, nightly.enabled) == ("sales-nightly", False, False)
    assert hourly.configuration == {"region": "eu"}
    assert hourly.app_path == "hdfs://namenode:8020/user/etl/apps/bundle/coord-a"
    assert hourly.coordinator is not None and nightly.coordinator is not None
    assert hourly.coordinator.frequency.amount == 60
    assert nightly.coordinator.frequency.cron == "30 1 * * *"
    assert app.coordinators == [hourly.coordinator, nightly.coordinator]
    assert list(app.workflows) == ["workflow"]
    assert hourly.coordinator.workflow is nightly.coordinator.workflow is app.workflows["workflow"]
    assert hourly.coordinator.source == Source("coord-a/coordinator.xml", 2)
    spark = action(app.workflows["workflow"], "load").body
    assert isinstance(spark, ir.SparkAction) and spark.app_name == "sales-eu"  # bundle <parameters> default


# ------------------------------------------------------------------------------------------ inputs and options


def test_single_workflow_file(tmp_path: Path) -> None:
    app = parse_application(CORPUS / "wf-0.3" / "workflow.xml")
    assert list(app.workflows) == [""]
    assert app.properties["nameNode"] == "hdfs://namenode:8020"  # job.properties next to the file


def test_single_coordinator_file_reads_its_workflow() -> None:
    app = parse_application(CORPUS / "coord-0.3" / "coordinator.xml")
    assert [c.name for c in app.coordinators] == ["six-hourly-0.3"]
    assert app.coordinators[0].workflow is app.workflows[""]


def test_explicit_properties_file_replaces_job_properties(tmp_path: Path) -> None:
    override = tmp_path / "prod.properties"
    override.write_text("nameNode=hdfs://prod:8020\njobTracker=prod-rm:8032\n")
    app = parse("wf-0.3", properties_file=override)
    assert app.properties == {"nameNode": "hdfs://prod:8020", "jobTracker": "prod-rm:8032"}
    distcp = action(app.workflows[""], "copy").body
    assert isinstance(distcp, ir.DistcpAction) and distcp.args[0] == "hdfs://prod:8020/data/orders"


def test_unresolved_references_are_reported_where_used(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "wf-0.3" / "workflow.xml", tmp_path / "workflow.xml")
    app = parse_application(tmp_path)
    assert app.unresolved == {"jobTracker": Source("workflow.xml", 7), "nameNode": Source("workflow.xml", 8)}
    sqoop = action(app.workflows[""], "import").body
    assert isinstance(sqoop, ir.SqoopAction) and sqoop.common.name_node == "${nameNode}"


def test_application_root_is_the_input_as_given() -> None:
    assert parse("wf-0.3").root == str(CORPUS / "wf-0.3")


def test_coordinator_falls_back_to_the_workflow_next_to_it(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "coord-0.2" / "coordinator.xml", tmp_path / "coordinator.xml")
    shutil.copy(CORPUS / "coord-0.2" / "workflow.xml", tmp_path / "workflow.xml")
    (tmp_path / "job.properties").write_text("start=2026-01-01T00:00Z\nend=2027-01-01T00:00Z\nappPath=/elsewhere\n")
    app = parse_application(tmp_path)
    assert app.coordinators[0].workflow is app.workflows[""]
    [issue] = app.issues
    assert issue.level == "approximated" and "/elsewhere" in issue.message


# ------------------------------------------------------------------------------------------ spark-opts


def test_split_options_honours_double_quotes_only() -> None:
    assert split_options('--conf "a=b c" --x=\'y z\'  --path C:\\tmp') == [
        "--conf", "a=b c", "--x='y", "z'", "--path", "C:\\tmp"]
    assert split_options('--conf k="quoted value"') == ["--conf", "k=quoted value"]
    assert split_options("") == []


def test_spark_opts_forms() -> None:
    opts = parse_spark_opts("--conf a=1 --conf=b=2 --conf a=3 --jars x.jar,y.jar --jars z.jar --num-executors=4 "
                            "--supervise --name nope --driver-memory")
    assert opts.conf == {"a": "3", "b": "2"}  # last wins, as in spark-submit
    assert opts.jars == ["x.jar", "y.jar", "z.jar"]
    assert opts.num_executors == "4"
    assert opts.unparsed == ["--supervise", "--name", "nope", "--driver-memory"]


def test_spark_opts_conf_without_equals_is_kept_unparsed() -> None:
    assert parse_spark_opts("--conf novalue").unparsed == ["--conf", "novalue"]


# ------------------------------------------------------------------------------------------ bad and hostile inputs


@pytest.mark.parametrize(("name", "expected"), [
    ("dangling", ["workflow.xml:6 (action first)", "transition <ok> to 'second', which is not a node"]),
    ("cycle", ["workflow.xml:4 (action a)", "cycle: a -> b -> a"]),
    ("unreachable", ["workflow.xml:9 (action orphan)", "node 'orphan' is not reachable from <start>"]),
    ("fork-join-mismatch", ["workflow.xml:4 (fork split)", "reach different joins (join-a, join-b)"]),
    ("unknown-version", ["workflow.xml:2 (workflow-app)", "unsupported schema 'uri:oozie:workflow:0.9'"]),
    ("malformed", ["workflow.xml:6 (XML)", "malformed XML: mismatched tag (line 6, column 6)"]),
    ("duplicate-names", ["workflow.xml:9 (action step)", "duplicate node name 'step' (first defined at line 4)"]),
    ("unknown-root", ["workflow.xml:2 (project)", "unknown root element <project>"]),
    ("property-cycle", ["job.properties:2 (property a)", "property reference cycle: a -> b -> c -> a"]),
    ("action-version", ["workflow.xml:5 (action spark)", "unsupported schema 'uri:oozie:spark-action:0.9'"]),
    ("coordinator-version", ["coordinator.xml:3 (coordinator-app)", "unsupported schema 'uri:oozie:coordinator:0.7'"]),
    ("xxe", ["workflow.xml:3 (XML)", "refused unsafe XML: entity declaration"]),
    ("billion-laughs", ["workflow.xml:3 (XML)", "refused unsafe XML: entity declaration"]),
])
def test_bad_inputs_name_file_line_and_problem(name: str, expected: list[str]) -> None:
    with pytest.raises(MigrationError) as caught:
        parse(f"bad/{name}")
    message = str(caught.value)
    for text in expected:
        assert text in message
    assert all(issue.level == "error" for issue in caught.value.issues)


def test_every_structural_error_is_reported_at_once() -> None:
    with pytest.raises(MigrationError) as caught:
        parse("bad/structure")
    assert [str(i) for i in caught.value.issues] == [
        "workflow.xml:5 (decision choose): error: decision without a <default> transition",
        "workflow.xml:10 (action no-error): error: action without an <error> transition",
        "workflow.xml:14 (action bad name): error: invalid node name 'bad name' (Oozie names start with a letter "
        "or '_' and contain only letters, digits, '-' and '_')",
        "workflow.xml:19 (kill silent): error: kill node without a <message>",
    ]


def test_coordinator_errors_are_all_reported() -> None:
    with pytest.raises(MigrationError) as caught:
        parse("bad/bad-frequency")
    assert [(i.source.line, i.element) for i in caught.value.issues] == [
        (2, "coordinator frequency"), (4, "coordinator controls execution"), (8, "event in")]
    assert "unrecognized frequency '${coord:fortnights(1)}'" in str(caught.value)


def test_hostile_xml_is_refused_without_expanding_or_reading_anything() -> None:
    started = time.monotonic()
    for name in ("xxe", "billion-laughs"):
        with pytest.raises(MigrationError) as caught:
            parse(f"bad/{name}")
        assert "root:" not in str(caught.value)  # nothing of /etc/passwd
        assert "lollol" not in str(caught.value)
    assert time.monotonic() - started < 2


def test_external_dtd_is_not_fetched(tmp_path: Path) -> None:
    (tmp_path / "workflow.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE w SYSTEM "http://attacker.invalid/evil.dtd">\n'
        '<workflow-app xmlns="uri:oozie:workflow:0.5" name="w"><start to="end"/><end name="end"/>'
        "<kill name='k'><message>&ext;</message></kill></workflow-app>")
    with pytest.raises(MigrationError, match=r"workflow.xml:\d+ \(XML\)"):
        parse_application(tmp_path)


def test_errors_from_several_files_are_collected(tmp_path: Path) -> None:
    (tmp_path / "workflow.xml").write_text("<workflow-app")
    (tmp_path / "coordinator.xml").write_text("<coordinator-app>")
    (tmp_path / "job.properties").write_text("a=${a}\n")
    with pytest.raises(MigrationError) as caught:
        parse_application(tmp_path)
    files = sorted(i.source.file for i in caught.value.issues)
    assert files == ["coordinator.xml", "job.properties", "workflow.xml"]


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="no workflow.xml, coordinator.xml or bundle.xml"):
        parse_application(tmp_path)


def test_missing_input_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="no such file or directory"):
        parse_application(tmp_path / "nope")


def test_coordinator_0_5_and_or_groups_flatten_with_an_issue() -> None:
    app = parse_application(CORPUS / "coord-0.5" / "and-or.xml")
    [coordinator] = app.coordinators
    assert [(e.name, e.dataset) for e in coordinator.input_events] == [("from-a", "a"), ("from-b", "b")]
    assert [(i.level, i.source.line, i.element) for i in app.issues] == [
        ("approximated", 14, "coordinator input-events"), ("unsupported", 37, "sla:info")]


FS = '<fs><mkdir path="/tmp/x"/></fs>'


def write_workflow(tmp_path: Path, body: str) -> Path:
    (tmp_path / "workflow.xml").write_text(
        '<workflow-app xmlns="uri:oozie:workflow:0.5" name="w">\n' + body
        + '\n<kill name="fail"><message>failed</message></kill>\n<end name="end"/>\n</workflow-app>\n')
    return tmp_path


def act(name: str, ok: str, error: str = "fail") -> str:
    return f'<action name="{name}">{FS}<ok to="{ok}"/><error to="{error}"/></action>'


def test_fork_paths_with_decisions_and_recovery_paths_are_valid(tmp_path: Path) -> None:
    write_workflow(tmp_path, "\n".join([
        '<start to="split"/>',
        '<fork name="split"><path start="a"/><path start="choose"/></fork>',
        act("a", "meet", error="recover"),
        act("recover", "end"),  # an error path that leaves the fork and ends the workflow
        '<decision name="choose"><switch><case to="b">${x}</case><default to="meet"/></switch></decision>',
        act("b", "meet"),
        '<join name="meet" to="end"/>',
    ]))
    workflow = parse_application(tmp_path).workflows[""]
    assert list(workflow.nodes) == ["split", "a", "recover", "choose", "b", "meet", "fail", "end"]


def test_inner_fork_path_escaping_to_the_outer_join_is_an_error(tmp_path: Path) -> None:
    write_workflow(tmp_path, "\n".join([
        '<start to="outer"/>',
        '<fork name="outer"><path start="inner"/><path start="c"/></fork>',
        '<fork name="inner"><path start="a"/><path start="b"/></fork>',
        act("a", "inner-join"),
        act("b", "outer-join"),
        '<join name="inner-join" to="outer-join"/>',
        act("c", "outer-join"),
        '<join name="outer-join" to="end"/>',
    ]))
    with pytest.raises(MigrationError) as caught:
        parse_application(tmp_path)
    assert "workflow.xml:4 (fork inner): error: the paths of this fork reach different joins (inner-join, outer-join)" \
        in str(caught.value)


def test_fork_with_a_single_path_is_an_error(tmp_path: Path) -> None:
    write_workflow(tmp_path, '<start to="f"/>\n<fork name="f"><path start="a"/></fork>\n' + act("a", "j")
                   + '\n<join name="j" to="end"/>')
    with pytest.raises(MigrationError, match=r"workflow.xml:3 \(fork f\): error: fork needs at least two <path>"):
        parse_application(tmp_path)


def test_join_reached_without_its_fork_is_an_error(tmp_path: Path) -> None:
    write_workflow(tmp_path, "\n".join([
        '<start to="d"/>',
        '<decision name="d"><switch><case to="f">${x}</case><default to="c"/></switch></decision>',
        '<fork name="f"><path start="a"/><path start="b"/></fork>',
        act("a", "j"), act("b", "j"), act("c", "j"),
        '<join name="j" to="end"/>',
    ]))
    with pytest.raises(MigrationError, match=r"workflow.xml:8 \(join j\): error: join 'j' is reached on a path "
                       "that does not pass through its fork"):
        parse_application(tmp_path)
