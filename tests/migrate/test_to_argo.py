"""The Argo emitter: Oozie IR → WorkflowTemplate / CronWorkflow / EventSource + Sensor manifests that Argo's
JSON Schema accepts, that the Kubernetes API emulator accepts, and that run in its Argo controller with Oozie's
semantics (ok / error transitions, decisions, fork / join, kill ends the run Failed)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from airflow_provider_sparkk8s.migrate.oozie import ir
from airflow_provider_sparkk8s.migrate.oozie.to_argo import KILL_SCRIPT, dns_name, render_argo
from airflow_provider_sparkk8s.testing import KubeEmulator

NS = "default"
WF = "argoproj.io/v1alpha1"
SRC = ir.Source("workflow.xml", 1)


# ------------------------------------------------------------------------------------------ helpers


def action(name: str, body: Any, ok: str, error: str, **extra: Any) -> ir.Action:
    return ir.Action(name, ir.Source("workflow.xml", 10), body=body, ok=ok, error=error, **extra)


def workflow(name: str, nodes: list[ir.AnyNode], start: str, **extra: Any) -> ir.Workflow:
    all_nodes = [ir.Start("start", SRC, to=start), *nodes, ir.End("end", SRC)]
    return ir.Workflow(name, "1.0", SRC, nodes={n.name: n for n in all_nodes}, start="start", **extra)


def pipeline() -> ir.Application:
    """spark + shell in a fork, a join, a decision on a property, a spark report and a kill."""
    load = ir.SparkAction(master="yarn", mode="cluster", app_name="load", application="local:///opt/app/load.py",
                          spark_opts=ir.SparkOpts(conf={"spark.sql.shuffle.partitions": "8"}, executor_memory="2g",
                                                  num_executors="2"),
                          args=["--day", "${day}"])
    ingest = ir.ShellAction(exec="ingest.sh", arguments=["${day}"])
    report = ir.SparkAction(master="yarn", app_name="report", main_class="com.example.Report",
                            application="local:///opt/app/report.jar")
    nodes: list[ir.AnyNode] = [
        ir.Fork("split", SRC, paths=["load_data", "ingest"]),
        action("load_data", load, "merge", "fail"),
        action("ingest", ingest, "merge", "fail", retry_max=2, retry_interval_minutes=5),
        ir.Join("merge", SRC, to="route"),
        ir.Decision("route", SRC, cases=[("${run_report}", "report")], default="end"),
        action("report", report, "end", "fail"),
        ir.Kill("fail", SRC, message="pipeline failed in ${wf:id()}"),
    ]
    wf = workflow("Daily_Pipeline", nodes, "split", parameters={"day": "2026-01-01", "run_report": "true"})
    return ir.Application("app", properties={"day": "2026-01-01", "run_report": "true"}, workflows={"": wf})


def predicate(name: str) -> str:
    """What the EL translator makes of the decision predicate ``${name}`` (a property) for Argo."""
    from airflow_provider_sparkk8s.migrate.oozie import el

    ctx = el.ElContext(parameters={name: f"inputs.parameters.{name}"})
    return el.translate("${" + name + "}", SRC, "argo", ctx, condition=True).text


def manifests(files: dict[str, str]) -> dict[str, dict]:
    return {name: yaml.safe_load(text) for name, text in files.items()}


def template_of(files: dict[str, str]) -> dict:
    return next(m for m in manifests(files).values() if m["kind"] == "WorkflowTemplate")


def tasks_of(template: dict) -> dict[str, dict]:
    main = next(t for t in template["spec"]["templates"] if t["name"] == "main")
    return {t["name"]: t for t in main["dag"]["tasks"]}


def leaf(template: dict, name: str) -> dict:
    return next(t for t in template["spec"]["templates"] if t["name"] == name)


# ------------------------------------------------------------------------------------------ shape


def test_every_manifest_validates_against_argo_schema(validate: Callable[[dict], None]) -> None:
    for mode in ("spark-submit", "spark-application"):
        files, _ = render_argo(pipeline(), namespace=NS, spark_mode=mode)  # type: ignore[arg-type]
        for manifest in manifests(files).values():
            validate(manifest)


def test_rendering_is_byte_identical_on_rerun() -> None:
    first, first_issues = render_argo(pipeline())
    second, second_issues = render_argo(pipeline())
    assert first == second
    assert [str(i) for i in first_issues] == [str(i) for i in second_issues]
    assert list(first) == ["daily-pipeline.workflowtemplate.yaml"]


def test_control_flow_becomes_depends_and_when() -> None:
    tasks = tasks_of(template_of(render_argo(pipeline())[0]))
    assert set(tasks) == {"load-data", "ingest", "report", "fail"}
    assert "depends" not in tasks["load-data"] and "depends" not in tasks["ingest"]  # fork: both start at once
    assert tasks["report"]["depends"] == "load-data.Succeeded && ingest.Succeeded"  # join: AND of the paths
    assert tasks["report"]["when"] == predicate("run_report")
    # every error transition converges on the kill node: OR of the failures
    assert tasks["fail"]["depends"] == ("(load-data.Failed || load-data.Errored) || (ingest.Failed || "
                                        "ingest.Errored) || (report.Failed || report.Errored)")


def test_error_paths_turn_fail_fast_off() -> None:
    template = template_of(render_argo(pipeline())[0])
    assert leaf(template, "main")["dag"]["failFast"] is False


def test_kill_step_exits_1_with_the_message_as_an_argument() -> None:
    kill = leaf(template_of(render_argo(pipeline())[0]), "fail")["container"]
    assert kill["command"] == ["sh", "-c", KILL_SCRIPT]
    assert kill["args"] == ["pipeline failed in {{workflow.name}}"]


def test_spark_submit_step_runs_cluster_mode_with_argv() -> None:
    template = template_of(render_argo(pipeline(), namespace="jobs", service_account="spark")[0])
    container = leaf(template, "load-data")["container"]
    argv = container["command"] + container["args"]
    assert container["image"] == "apache/spark:4.0.1"
    assert argv[:5] == ["/opt/spark/bin/spark-submit", "--master", "k8s://https://kubernetes.default.svc",
                        "--deploy-mode", "cluster"]
    for conf in ("spark.kubernetes.namespace=jobs", "spark.kubernetes.container.image=apache/spark:4.0.1",
                 "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
                 "spark.sql.shuffle.partitions=8", "spark.executor.memory=2g", "spark.executor.instances=2"):
        assert ["--conf", conf] == argv[argv.index(conf) - 1: argv.index(conf) + 1]
    assert argv[-3:] == ["local:///opt/app/load.py", "--day", "{{inputs.parameters.day}}"]
    assert leaf(template, "load-data")["inputs"] == {"parameters": [{"name": "day"}]}
    assert tasks_of(template)["load-data"]["arguments"] == {
        "parameters": [{"name": "day", "value": "{{inputs.parameters.day}}"}]}
    assert template["spec"]["serviceAccountName"] == "spark"


def test_spark_application_mode_creates_a_spark_application_and_waits_for_it() -> None:
    template = template_of(render_argo(pipeline(), spark_mode="spark-application")[0])
    resource = leaf(template, "load-data")["resource"]
    assert resource["action"] == "create"
    assert resource["successCondition"] == "status.applicationState.state == COMPLETED"
    assert resource["failureCondition"] == "status.applicationState.state == FAILED"
    app = yaml.safe_load(resource["manifest"])
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2" and app["kind"] == "SparkApplication"
    assert app["spec"]["type"] == "Python" and app["spec"]["mainApplicationFile"] == "local:///opt/app/load.py"
    assert app["spec"]["arguments"] == ["--day", "{{inputs.parameters.day}}"]
    report = yaml.safe_load(leaf(template, "report")["resource"]["manifest"])
    assert report["spec"]["type"] == "Scala" and report["spec"]["mainClass"] == "com.example.Report"


def test_parameters_come_from_job_properties_with_argo_names() -> None:
    app = pipeline()
    app.properties.update({"user.name": "etl", "user_name": "other", "queue": "default"})
    template = template_of(render_argo(app)[0])
    arguments = template["spec"]["arguments"]["parameters"]
    assert [p["name"] for p in arguments] == ["day", "queue", "run_report", "user-name", "user_name"]
    assert {p["name"]: p["value"] for p in arguments}["user-name"] == "etl"
    assert [p["name"] for p in leaf(template, "main")["inputs"]["parameters"]] == [p["name"] for p in arguments]


def test_retry_maps_to_retry_strategy() -> None:
    ingest = leaf(template_of(render_argo(pipeline())[0]), "ingest")
    assert ingest["retryStrategy"] == {"limit": "2", "retryPolicy": "Always", "backoff": {"duration": "5m"}}


@pytest.mark.parametrize(("name", "expected"), [
    ("Daily_Pipeline", "daily-pipeline"),
    ("--weird..Name__", "weird-name"),
    ("", "oozie"),
    ("x" * 80, "x" * 54 + "-" + __import__("hashlib").sha256(b"x" * 80).hexdigest()[:8]),
])
def test_dns_names(name: str, expected: str) -> None:
    assert dns_name(name) == expected
    assert len(dns_name(name)) <= 63


def test_template_name_collisions_resolve_deterministically() -> None:
    nodes: list[ir.AnyNode] = [action("a", ir.ShellAction(exec="true"), "end", "end")]
    app = ir.Application("app", workflows={"": workflow("My_Flow", nodes, "a"), "sub": workflow("my-flow", nodes, "a")})
    files, _ = render_argo(app, workflow_template_prefix="team-")
    assert sorted(files) == ["team-my-flow-2.workflowtemplate.yaml", "team-my-flow.workflowtemplate.yaml"]
    assert template_of({"x": files["team-my-flow.workflowtemplate.yaml"]})["metadata"]["annotations"][
        "sparkk8s.io/oozie-workflow"] == "My_Flow"


def test_task_name_collisions_resolve_deterministically() -> None:
    nodes: list[ir.AnyNode] = [action("step_a", ir.ShellAction(exec="true"), "step-a", "end"),
                               action("step-a", ir.ShellAction(exec="true"), "main", "end"),
                               action("main", ir.ShellAction(exec="true"), "end", "end")]
    tasks = tasks_of(template_of(render_argo(ir.Application("app", workflows={"": workflow("w", nodes, "step_a")}))[0]))
    assert list(tasks) == ["step-a", "step-a-2", "main-2"]
    assert tasks["step-a-2"]["depends"] == "step-a.Succeeded"


def test_error_transition_to_end_lets_the_workflow_succeed() -> None:
    nodes: list[ir.AnyNode] = [action("try", ir.ShellAction(exec="flaky"), "end", "end")]
    tasks = tasks_of(template_of(render_argo(ir.Application("app", workflows={"": workflow("w", nodes, "try")}))[0]))
    assert tasks["try"]["continueOn"] == {"failed": True, "error": True}


def test_unknown_action_fails_with_a_message_and_is_reported() -> None:
    body = ir.UnknownAction(tag="custom", namespace="uri:custom:0.1", xml="<custom/>")
    nodes: list[ir.AnyNode] = [action("odd", body, "end", "end")]
    files, issues = render_argo(ir.Application("app", workflows={"": workflow("w", nodes, "odd")}))
    container = leaf(template_of(files), "odd")["container"]
    assert container["command"] == ["sh", "-c", KILL_SCRIPT] and "custom" in container["args"][0]
    assert any(i.level == "unsupported" and i.element == "action odd" for i in issues)


def test_untranslatable_el_stays_visible_and_is_reported() -> None:
    nodes: list[ir.AnyNode] = [action("a", ir.ShellAction(exec="run", arguments=["${nowhere_defined}"]), "end", "end")]
    files, issues = render_argo(ir.Application("app", workflows={"": workflow("w", nodes, "a")}))
    assert "<oozie-el-unsupported: ${nowhere_defined}>" in leaf(template_of(files), "a")["container"]["args"]
    assert any(i.level == "unsupported" and "nowhere_defined" in i.message for i in issues)


def test_decision_cases_are_exclusive_in_order_and_default_negates_all() -> None:
    decision = ir.Decision("pick", SRC, cases=[("${a}", "one"), ("${b}", "two")], default="three")
    nodes: list[ir.AnyNode] = [decision] + [action(n, ir.ShellAction(exec=n), "end", "end") for n in ("one", "two",
                                                                                                     "three")]
    app = ir.Application("app", properties={"a": "x", "b": "y"}, workflows={"": workflow("w", nodes, "pick")})
    tasks = tasks_of(template_of(render_argo(app)[0]))
    a, b = predicate("a"), predicate("b")
    assert tasks["one"]["when"] == a
    assert tasks["two"]["when"] == f"({b}) && (!({a}))"
    assert tasks["three"]["when"] == f"(!({a})) && (!({b}))"


def test_decision_branch_meeting_another_path_goes_through_a_gate() -> None:
    # a → pick: case → b → c ; default → c  (c converges from a decision branch and from b)
    nodes: list[ir.AnyNode] = [action("a", ir.ShellAction(exec="a"), "pick", "end"),
                               ir.Decision("pick", SRC, cases=[("${go}", "b")], default="c"),
                               action("b", ir.ShellAction(exec="b"), "c", "end"),
                               action("c", ir.ShellAction(exec="c"), "end", "end")]
    app = ir.Application("app", properties={"go": "true"}, workflows={"": workflow("w", nodes, "a")})
    template = template_of(render_argo(app)[0])
    tasks = tasks_of(template)
    assert tasks["b"] == {**tasks["b"], "depends": "a.Succeeded", "when": predicate("go")}
    gate = tasks["pick-to-c"]
    assert gate["template"] == "noop" and gate["when"] == f"!({predicate('go')})"
    assert tasks["c"]["depends"] == "pick-to-c.Succeeded || b.Succeeded"
    assert leaf(template, "noop") == {"name": "noop", "suspend": {"duration": "0"}}


def test_fs_action_runs_one_container_per_operation_in_order() -> None:
    body = ir.FsAction(operations=[ir.FsOperation("delete", {"path": "hdfs:///out"}),
                                   ir.FsOperation("mkdir", {"path": "hdfs:///out"}),
                                   ir.FsOperation("chmod", {"path": "hdfs:///out", "permissions": "755"}, True)])
    template = template_of(render_argo(ir.Application("a", workflows={"": workflow("w", [action(
        "fs", body, "end", "end")], "fs")}))[0])
    assert leaf(template, "fs")["steps"] == [[{"name": "op-1", "template": "fs-op-1"}],
                                             [{"name": "op-2", "template": "fs-op-2"}],
                                             [{"name": "op-3", "template": "fs-op-3"}]]
    argvs = [leaf(template, f"fs-op-{i}")["container"] for i in (1, 2, 3)]
    assert [c["command"] + c["args"] for c in argvs] == [
        ["hdfs", "dfs", "-rm", "-r", "-f", "hdfs:///out"], ["hdfs", "dfs", "-mkdir", "-p", "hdfs:///out"],
        ["hdfs", "dfs", "-chmod", "-R", "755", "hdfs:///out"]]


def test_capture_output_declares_the_keys_read_by_action_data() -> None:
    nodes: list[ir.AnyNode] = [
        action("probe", ir.ShellAction(exec="probe.sh", capture_output=True), "use", "end"),
        action("use", ir.ShellAction(exec="use.sh", arguments=["${wf:actionData('probe')['rows']}"]), "end", "end"),
    ]
    template = template_of(render_argo(ir.Application("a", workflows={"": workflow("w", nodes, "probe")}))[0])
    probe = leaf(template, "probe")
    assert probe["outputs"] == {"parameters": [
        {"name": "rows", "valueFrom": {"path": "/tmp/oozie-output/rows", "default": ""}}]}
    assert probe["container"]["command"] == ["sh"] and probe["container"]["args"][2:] == ["probe.sh"]
    # a later step cannot see tasks.* itself: the value arrives as an input of its template
    use = leaf(template, "use")
    assert use["inputs"] == {"parameters": [{"name": "probe-rows"}]}
    assert use["container"]["args"] == ["{{inputs.parameters.probe-rows}}"]
    assert tasks_of(template)["use"]["arguments"] == {
        "parameters": [{"name": "probe-rows", "value": "{{tasks.probe.outputs.parameters.rows}}"}]}


def test_sub_workflow_is_a_template_ref_with_arguments() -> None:
    child = workflow("child", [action("c", ir.ShellAction(exec="c", arguments=["${who}"]), "end", "end")], "c",
                     parameters={"who": "nobody"})
    sub = ir.SubWorkflowAction(app_path="${nameNode}/apps/child", configuration={"who": "${day}"},
                               propagate_configuration=True, workflow=child)
    parent = workflow("parent", [action("call", sub, "end", "end")], "call")
    app = ir.Application("a", properties={"day": "d1"}, workflows={"": parent, "apps/child": child})
    files, _ = render_argo(app)
    task = tasks_of(template_of({"x": files["parent.workflowtemplate.yaml"]}))["call"]
    assert task["templateRef"] == {"name": "child", "template": "main"}
    assert task["arguments"]["parameters"] == [{"name": "day", "value": "{{inputs.parameters.day}}"},
                                               {"name": "who", "value": "{{inputs.parameters.day}}"}]


def test_other_actions_get_their_image_and_argv(validate: Callable[[dict], None]) -> None:
    bodies: dict[str, Any] = {
        "java": ir.JavaAction(main_class="com.example.Main", java_opts=["-Xmx1g -Da=b"], args=["x"]),
        "pig": ir.PigAction(script="s.pig", params=["A=1"]),
        "hive": ir.HiveAction(script="q.hql", params=["D=1"]),
        "beeline": ir.HiveAction(kind="hive2", jdbc_url="jdbc:hive2://h:10000", query="select 1", password="pw"),
        "sqoop": ir.SqoopAction(command="import --table t"),
        "distcp": ir.DistcpAction(args=["a", "b"]),
        "email": ir.EmailAction(to=["a@example.com"], subject="s", body="b"),
        "ssh": ir.SshAction(host="u@h", command="ls"),
        "git": ir.GitAction(git_uri="https://example.com/r.git", destination_uri="/tmp/r"),
        "mr": ir.MapReduceAction(streaming={"mapper": "cat", "reducer": "wc"}),
    }
    names = list(bodies)
    nodes: list[ir.AnyNode] = [action(n, b, names[i + 1] if i + 1 < len(names) else "end", "end")
                               for i, (n, b) in enumerate(bodies.items())]
    files, issues = render_argo(ir.Application("a", workflows={"": workflow("w", nodes, "java")}),
                                image_for={"java": "my/java:1"})
    template = template_of(files)
    validate(template)
    argv = {n: leaf(template, n)["container"]["command"] + leaf(template, n)["container"]["args"] for n in names}
    assert leaf(template, "java")["container"]["image"] == "my/java:1"
    assert argv["java"] == ["java", "-Xmx1g", "-Da=b", "-cp", "/opt/oozie/lib/*", "com.example.Main", "x"]
    assert argv["sqoop"] == ["sqoop", "import", "--table", "t"]
    assert argv["beeline"] == ["beeline", "-u", "jdbc:hive2://h:10000", "-e", "select 1"]
    assert "pw" not in json.dumps(template)  # the hive2 password is not copied into the manifest
    assert any("password" in i.message for i in issues)
    assert argv["mr"] == ["mapred", "streaming", "-mapper", "cat", "-reducer", "wc"]


def test_prepare_runs_before_the_action() -> None:
    common = ir.ActionCommon(prepare=ir.Prepare([("delete", "hdfs:///tmp/x"), ("mkdir", "hdfs:///tmp/y")]))
    nodes: list[ir.AnyNode] = [action("a", ir.ShellAction(exec="run", arguments=["${day}"], common=common), "end",
                                      "end")]
    template = template_of(render_argo(ir.Application("a", properties={"day": "1"},
                                                      workflows={"": workflow("w", nodes, "a")}))[0])
    wrapper = leaf(template, "a")
    assert [s[0]["template"] for s in wrapper["steps"]] == ["a-prepare-1", "a-prepare-2", "a-run"]
    assert wrapper["inputs"] == {"parameters": [{"name": "day"}]}
    assert wrapper["steps"][2][0]["arguments"] == {"parameters": [{"name": "day",
                                                                   "value": "{{inputs.parameters.day}}"}]}


# ------------------------------------------------------------------------------------------ in the emulator


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    emulator = kube_emulator_factory(pod_run_seconds=0.1, pod_pending_seconds=0.02, argo_server=False)
    # What the kill step's `sh -c 'printf ...; exit 1'` does in a real container.
    emulator.pods.behave(match=lambda pod: pod["spec"]["containers"][0].get("command") == ["sh", "-c", KILL_SCRIPT],
                         outcome="failed")
    return emulator


def run(kube: KubeEmulator, name: str, template: str, arguments: dict[str, str] | None = None) -> dict:
    spec: dict[str, Any] = {"workflowTemplateRef": {"name": template}}
    if arguments:
        spec["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in arguments.items()]}
    kube.apply({"apiVersion": WF, "kind": "Workflow", "metadata": {"name": name}, "spec": spec}, NS)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        wf = kube.get(WF, "Workflow", name, NS) or {}
        if (wf.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Error"):
            return wf
        time.sleep(0.05)
    raise AssertionError(f"workflow {name} did not finish: {wf.get('status')}")


def phases(wf: dict) -> dict[str, str]:
    return {n["displayName"]: n["phase"] for n in wf["status"]["nodes"].values()
            if n.get("type") in ("Pod", "Skipped", "Retry", "Suspend")}


def apply_all(kube: KubeEmulator, files: dict[str, str], validate: Callable[[dict], None]) -> None:
    for text in files.values():
        validate(yaml.safe_load(text))
        kube.apply(text, NS)


def test_pipeline_runs_the_success_path(kube: KubeEmulator, validate: Callable[[dict], None]) -> None:
    files, _ = render_argo(pipeline(), namespace=NS)
    apply_all(kube, files, validate)
    wf = run(kube, "ok-run", "daily-pipeline")
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    got = phases(wf)
    assert {k: got[k] for k in ("load-data", "ingest", "report", "fail")} == {
        "load-data": "Succeeded", "ingest": "Succeeded", "report": "Succeeded", "fail": "Omitted"}


def test_pipeline_decision_default_skips_the_report(kube: KubeEmulator, validate: Callable[[dict], None]) -> None:
    files, _ = render_argo(pipeline(), namespace=NS)
    apply_all(kube, files, validate)
    wf = run(kube, "no-report", "daily-pipeline", {"run_report": "false"})
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    assert phases(wf)["report"] == "Skipped"


def test_failed_action_runs_the_kill_step_and_fails_the_workflow(kube: KubeEmulator,
                                                                 validate: Callable[[dict], None]) -> None:
    files, _ = render_argo(pipeline(), namespace=NS)
    template = yaml.safe_load(files["daily-pipeline.workflowtemplate.yaml"])
    failing = copy.deepcopy(template)
    leaf(failing, "load-data")["metadata"] = {"annotations": {"emulator.sparkk8s.io/outcome": "failed"}}
    apply_all(kube, {"t": yaml.safe_dump(failing)}, validate)
    wf = run(kube, "bad-run", "daily-pipeline")
    assert wf["status"]["phase"] == "Failed"
    got = phases(wf)
    assert (got["load-data"], got["fail"], got["report"]) == ("Failed", "Failed", "Omitted")
    kill_pod = next(p for p in kube.list("v1", "Pod", NS)
                    if p["metadata"]["annotations"].get("workflows.argoproj.io/node-name", "").endswith(".fail"))
    assert kill_pod["spec"]["containers"][0]["args"] == ["pipeline failed in bad-run"]


@pytest.mark.parametrize(("go", "expected"), [("true", {"b": "Succeeded", "pick-to-c": "Skipped", "c": "Succeeded"}),
                                               ("false", {"b": "Skipped", "pick-to-c": "Succeeded", "c": "Succeeded"})])
def test_decision_gate_runs_the_converging_task_either_way(kube: KubeEmulator, validate: Callable[[dict], None],
                                                           go: str, expected: dict[str, str]) -> None:
    nodes: list[ir.AnyNode] = [action("a", ir.ShellAction(exec="a"), "pick", "end"),
                               ir.Decision("pick", SRC, cases=[("${go}", "b")], default="c"),
                               action("b", ir.ShellAction(exec="b"), "c", "end"),
                               action("c", ir.ShellAction(exec="c"), "end", "end")]
    app = ir.Application("app", properties={"go": "true"}, workflows={"": workflow("gated", nodes, "a")})
    apply_all(kube, render_argo(app, namespace=NS)[0], validate)
    wf = run(kube, f"gate-{go}", "gated", {"go": go})
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    got = phases(wf)
    assert {k: got[k] for k in expected} == expected


def test_sub_workflow_runs_through_template_ref(kube: KubeEmulator, validate: Callable[[dict], None]) -> None:
    child = workflow("child", [action("c", ir.ShellAction(exec="echo", arguments=["${who}"]), "end", "end")], "c",
                     parameters={"who": "nobody"})
    sub = ir.SubWorkflowAction(app_path="apps/child", configuration={"who": "parent"}, workflow=child)
    parent = workflow("parent", [action("call", sub, "end", "fail"), ir.Kill("fail", SRC, message="x")], "call")
    files, _ = render_argo(ir.Application("a", workflows={"": parent, "apps/child": child}), namespace=NS)
    apply_all(kube, files, validate)
    wf = run(kube, "sub-run", "parent")
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    pod = next(p for p in kube.list("v1", "Pod", NS) if p["spec"]["containers"][0]["command"] == ["echo"])
    assert pod["spec"]["containers"][0]["args"] == ["parent"]


# ------------------------------------------------------------------------------------------ coordinators


def coordinator_app(frequency: ir.Frequency, **controls: Any) -> ir.Application:
    app = pipeline()
    coordinator = ir.Coordinator("Nightly Coord", "0.5", ir.Source("coordinator.xml", 1), frequency,
                                 "2026-01-01T00:00Z", "2027-01-01T00:00Z", "Europe/Berlin", app_path="",
                                 workflow=app.workflows[""], controls=ir.Controls(**controls),
                                 configuration={"day": "2026-02-02"})
    app.coordinators.append(coordinator)
    return app


def test_coordinator_becomes_a_cron_workflow(validate: Callable[[dict], None], kube: KubeEmulator) -> None:
    # ${coord:days(1)} from 2026-01-01T00:00Z keeps 01:00 in Berlin across DST: a cron in the coordinator's zone.
    app = coordinator_app(ir.Frequency("minutes", amount=1440, text="${coord:days(1)}"), concurrency=1,
                          timeout_minutes=10)
    files, issues = render_argo(app, namespace=NS)
    cron = manifests(files)["nightly-coord.cronworkflow.yaml"]
    validate(cron)
    kube.apply(files["nightly-coord.cronworkflow.yaml"], NS)
    spec = cron["spec"]
    assert spec["schedules"] == ["0 1 * * *"]
    assert spec["timezone"] == "Europe/Berlin"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 600
    assert spec["workflowSpec"] == {"workflowTemplateRef": {"name": "daily-pipeline"},
                                    "arguments": {"parameters": [{"name": "day", "value": "2026-02-02"}]}}
    assert any(i.element == "coordinator start/end" for i in issues)


def test_cron_without_argo_equivalent_is_suspended(validate: Callable[[dict], None]) -> None:
    app = coordinator_app(ir.Frequency("cron", cron="0 10 L * ?", text="0 10 L * ?"))
    files, issues = render_argo(app)
    cron = manifests(files)["nightly-coord.cronworkflow.yaml"]
    validate(cron)
    assert cron["spec"]["suspend"] is True
    assert "sparkk8s.io/migration-note" in cron["metadata"]["annotations"]
    assert any(i.level == "unsupported" and i.element == "coordinator frequency" for i in issues)


def test_argo_events_renders_a_calendar_event_source_and_sensor(validate: Callable[[dict], None],
                                                                kube: KubeEmulator) -> None:
    app = coordinator_app(ir.Frequency("minutes", amount=60, text="${coord:hours(1)}"), execution="LAST_ONLY")
    files, _ = render_argo(app, namespace=NS, argo_events=True)
    docs = manifests(files)
    source, sensor = docs["nightly-coord.eventsource.yaml"], docs["nightly-coord.sensor.yaml"]
    for doc in (source, sensor, docs["nightly-coord.cronworkflow.yaml"]):
        validate(doc)
    assert docs["nightly-coord.cronworkflow.yaml"]["spec"]["concurrencyPolicy"] == "Replace"
    assert list(source["spec"]["calendar"].values())[0]
    submitted = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]["source"]["resource"]
    assert submitted["spec"]["workflowTemplateRef"]["name"] == "daily-pipeline"
    for text in files.values():
        kube.apply(text, NS)


def test_quartz_cron_becomes_cron_workflow_and_calendar(validate: Callable[[dict], None], kube: KubeEmulator) -> None:
    # Oozie's Quartz day-of-week 2-6 is Monday to Friday: 1-5 for Argo.
    files, issues = render_argo(coordinator_app(ir.Frequency("cron", cron="0 15 * * 2-6", text="0 15 * * 2-6"),
                                                concurrency=3, timeout_minutes=10), namespace=NS, argo_events=True)
    docs = manifests(files)
    assert sorted(docs) == ["daily-pipeline.workflowtemplate.yaml", "nightly-coord.cronworkflow.yaml",
                            "nightly-coord.eventsource.yaml", "nightly-coord.sensor.yaml"]
    for name, doc in docs.items():
        validate(doc)
        kube.apply(files[name], NS)
    spec = docs["nightly-coord.cronworkflow.yaml"]["spec"]
    assert (spec["schedules"], spec["timezone"], spec["concurrencyPolicy"], spec["startingDeadlineSeconds"]) == (
        ["0 15 * * 1-5"], "UTC", "Allow", 600)  # Oozie evaluates cron frequencies in its server's zone (UTC)
    assert "suspend" not in spec
    assert spec["workflowSpec"]["arguments"] == {"parameters": [{"name": "day", "value": "2026-02-02"}]}
    calendar = docs["nightly-coord.eventsource.yaml"]["spec"]["calendar"]
    assert calendar == {"schedule": {"schedule": "0 15 * * 1-5", "timezone": "UTC"}}
    assert any(i.element == "coordinator start/end" and i.level == "approximated" for i in issues)


def test_schedule_without_cron_suspends_the_cron_workflow(validate: Callable[[dict], None]) -> None:
    # Quartz "last day of the month" (L) has no robfig/cron equivalent.
    files, issues = render_argo(coordinator_app(ir.Frequency("cron", cron="0 10 L * ?", text="0 10 L * ?")),
                                argo_events=True)
    cron = manifests(files)["nightly-coord.cronworkflow.yaml"]
    validate(cron)
    assert cron["spec"]["suspend"] is True and cron["spec"]["schedules"] == ["0 0 1 1 *"]
    assert "0 10 L * ?" in cron["metadata"]["annotations"]["sparkk8s.io/migration-note"]
    unsupported = [i.message for i in issues if i.level == "unsupported" and i.element == "coordinator frequency"]
    assert any("'L'" in message for message in unsupported) and len(unsupported) >= 2
    assert "nightly-coord.eventsource.yaml" not in files


def test_bundle_coordinators_each_get_a_cron_workflow() -> None:
    app = coordinator_app(ir.Frequency("minutes", amount=60, text="60"))
    first = app.coordinators.pop()
    second = copy.copy(first)
    second.name = "nightly_coord"
    app.bundle = ir.Bundle("b", "0.2", SRC, coordinators=[
        ir.BundleCoordinator("one", "c1", coordinator=first),
        ir.BundleCoordinator("two", "c2", coordinator=second, enabled=False)])
    docs = manifests(render_argo(app)[0])
    assert "suspend" not in docs["nightly-coord.cronworkflow.yaml"]["spec"]
    assert docs["nightly-coord-2.cronworkflow.yaml"]["spec"]["suspend"] is True  # enabled=false in the bundle
