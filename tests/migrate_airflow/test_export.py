"""What `sparkk8s migrate airflow` makes of each Airflow construct: the manifests (validated against Argo's JSON
Schema by the `export` fixture) and the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_sparkk8s.migrate.oozie.ir import MigrationError

from .conftest import Exporter, tasks_of, template_named, workflow_template


def test_spark_submit_task_becomes_a_cluster_mode_spark_submit_step_with_the_same_application(
        export: Exporter) -> None:
    manifests, _ = export("""
        with DAG("etl", schedule=None, start_date=datetime(2026, 1, 1)):
            SparkK8sOperator(task_id="load", application="local:///opt/app/load.py", application_args=["--day", "x"],
                             conf={"spark.sql.shuffle.partitions": "8"}, driver_memory="1g", executor_memory="2g",
                             executor_instances=3, image="my/spark:4", namespace="spark-jobs",
                             service_account_name="spark")
    """)
    container = template_named(workflow_template(manifests), "load")["container"]
    assert container["image"] == "my/spark:4"
    assert container["command"] == ["/opt/spark/bin/spark-submit"]
    args = container["args"]
    assert args[:6] == ["--master", "k8s://https://kubernetes.default.svc", "--deploy-mode", "cluster", "--name",
                        "load"]
    confs = {args[i + 1] for i, a in enumerate(args) if a == "--conf"}
    assert {"spark.sql.shuffle.partitions=8", "spark.driver.memory=1g", "spark.executor.memory=2g",
            "spark.executor.instances=3", "spark.kubernetes.namespace=spark-jobs",
            "spark.kubernetes.authenticate.driver.serviceAccountName=spark"} <= confs
    assert args[-3:] == ["local:///opt/app/load.py", "--day", "x"]


def test_spark_operator_launcher_becomes_a_spark_application_resource_step(export: Exporter) -> None:
    import yaml

    manifests, _ = export("""
        with DAG("etl", schedule=None, start_date=datetime(2026, 1, 1)):
            SparkK8sOperator(task_id="pi", launcher="spark-operator", application="local:///pi.jar",
                             main_class="org.example.Pi", application_args=["100"], executor_instances=2,
                             restart_policy={"type": "OnFailure", "onFailureRetries": 2})
    """)
    resource = template_named(workflow_template(manifests), "pi")["resource"]
    assert resource["successCondition"] == "status.applicationState.state == COMPLETED"
    assert resource["failureCondition"] == "status.applicationState.state == FAILED"
    app = yaml.safe_load(resource["manifest"])
    assert app["kind"] == "SparkApplication" and app["metadata"]["generateName"] == "pi-"
    assert app["spec"]["mainClass"] == "org.example.Pi" and app["spec"]["arguments"] == ["100"]
    assert app["spec"]["executor"]["instances"] == 2
    assert app["spec"]["restartPolicy"] == {"type": "OnFailure", "onFailureRetries": 2}


def test_argo_workflow_task_becomes_a_template_ref_step_with_its_parameters(export: Exporter) -> None:
    manifests, _ = export("""
        with DAG("runs", schedule=None, start_date=datetime(2026, 1, 1)):
            ArgoWorkflowOperator(task_id="run", workflow_template="etl-template", entrypoint="start",
                                 parameters={"day": "2026-01-01", "n": 3, "dry": True})
            ArgoWorkflowOperator(task_id="cluster", cluster_workflow_template="shared", entrypoint="go")
    """)
    tasks = tasks_of(workflow_template(manifests))
    assert tasks["run"]["templateRef"] == {"name": "etl-template", "template": "start"}
    assert tasks["run"]["arguments"]["parameters"] == [{"name": "day", "value": "2026-01-01"},
                                                       {"name": "n", "value": "3"},
                                                       {"name": "dry", "value": "true"}]
    assert tasks["cluster"]["templateRef"] == {"name": "shared", "template": "go", "clusterScope": True}


def test_output_parameters_of_an_argo_workflow_task_reach_downstream_tasks(export: Exporter) -> None:
    manifests, _ = export("""
        with DAG("outputs", schedule=None, start_date=datetime(2026, 1, 1)):
            run = ArgoWorkflowOperator(task_id="run", workflow_template="etl", entrypoint="main")
            use = KubernetesPodOperator(task_id="use", image="busybox",
                                        arguments=["{{ ti.xcom_pull(task_ids='run')['outputs']['rows'] }}"])
            run >> use
    """)
    template = workflow_template(manifests)
    assert template_named(template, "use")["container"]["args"] == ["{{inputs.parameters.run-rows}}"]
    assert tasks_of(template)["use"]["arguments"]["parameters"] == [
        {"name": "run-rows", "value": "{{tasks.run.outputs.parameters.rows}}"}]


def test_argo_template_entrypoint_comes_from_the_template_manifests(export: Exporter, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.yaml").write_text("apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata: {name: etl}\n"
                                   "spec: {entrypoint: first, templates: [{name: first, suspend: {}}]}\n")
    body = """
        with DAG("runs", schedule=None, start_date=datetime(2026, 1, 1)):
            ArgoWorkflowOperator(task_id="run", workflow_template="etl")
    """
    manifests, _ = export(body, workflow_templates=folder)
    assert tasks_of(workflow_template(manifests))["run"]["templateRef"] == {"name": "etl", "template": "first"}
    with pytest.raises(MigrationError) as error:
        export(body)
    assert "entrypoint of WorkflowTemplate 'etl' is unknown" in str(error.value)


def test_inline_workflow_runs_its_templates_as_a_step(export: Exporter) -> None:
    manifests, _ = export("""
        with DAG("inline", schedule=None, start_date=datetime(2026, 1, 1)):
            ArgoWorkflowOperator(task_id="hello", parameters={"who": "you"}, workflow={
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "hi-"},
                "spec": {"entrypoint": "steps", "arguments": {"parameters": [{"name": "who", "value": "me"}]},
                         "templates": [
                             {"name": "steps", "inputs": {"parameters": [{"name": "who"}]},
                              "steps": [[{"name": "say", "template": "say",
                                          "arguments": {"parameters": [{"name": "who",
                                                                        "value": "{{inputs.parameters.who}}"}]}}]]},
                             {"name": "say", "inputs": {"parameters": [{"name": "who"}]},
                              "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.who}}"]}}]}})
    """)
    template = workflow_template(manifests)
    task = tasks_of(template)["hello"]
    assert task["template"] == "hello-steps"
    assert task["arguments"]["parameters"] == [{"name": "who", "value": "you"}]
    assert template_named(template, "hello-steps")["steps"][0][0]["template"] == "hello-say"


def test_kubernetes_pod_task_becomes_a_container_step_with_its_pod_settings(export: Exporter) -> None:
    manifests, _ = export("""
        from kubernetes.client import models as k8s

        with DAG("pods", schedule=None, start_date=datetime(2026, 1, 1)):
            KubernetesPodOperator(
                task_id="count", image="busybox:1.36", cmds=["sh", "-c"], arguments=["wc -l /data/in"],
                env_vars={"MODE": "fast"}, labels={"team": "data"},
                container_resources=k8s.V1ResourceRequirements(requests={"cpu": "500m"}, limits={"memory": "1Gi"}),
                volumes=[k8s.V1Volume(name="data", persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(
                    claim_name="data-pvc"))],
                volume_mounts=[k8s.V1VolumeMount(name="data", mount_path="/data", read_only=True)],
                node_selector={"pool": "batch"}, service_account_name="runner", namespace="default")
    """)
    template = template_named(workflow_template(manifests), "count")
    assert template["container"] == {
        "image": "busybox:1.36", "command": ["sh", "-c"], "args": ["wc -l /data/in"],
        "env": [{"name": "MODE", "value": "fast"}],
        "resources": {"limits": {"memory": "1Gi"}, "requests": {"cpu": "500m"}},
        "volumeMounts": [{"mountPath": "/data", "name": "data", "readOnly": True}]}
    assert template["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-pvc"}}]
    assert template["metadata"] == {"labels": {"team": "data"}}
    assert (template["nodeSelector"], template["serviceAccountName"]) == ({"pool": "batch"}, "runner")


RULES = """
    with DAG("rules", schedule=None, start_date=datetime(2026, 1, 1)):
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c", trigger_rule="{rule}")
        [a, b] >> c
"""


@pytest.mark.parametrize(("rule", "expected"), [
    ("all_success", "a.Succeeded && b.Succeeded"),
    ("all_failed", "(a.Failed || a.Errored) && (b.Failed || b.Errored)"),
    ("one_failed", "(a.Failed || a.Errored) || (b.Failed || b.Errored)"),
    ("one_success", "a.Succeeded || b.Succeeded"),
    ("all_done", "(a.Succeeded || a.Failed || a.Errored || a.Skipped || a.Omitted) && "
                 "(b.Succeeded || b.Failed || b.Errored || b.Skipped || b.Omitted)"),
    ("none_failed", "(a.Succeeded || a.Skipped) && (b.Succeeded || b.Skipped)"),
])
def test_trigger_rules_become_depends_expressions(export: Exporter, rule: str, expected: str) -> None:
    tasks = tasks_of(workflow_template(export(RULES.replace("{rule}", rule))[0]))
    if rule == "all_success":  # every task has the default rule: plain dependencies
        assert tasks["c"]["dependencies"] == ["a", "b"]
    else:
        assert tasks["c"]["depends"] == expected


def test_an_upstream_that_is_skipped_when_its_rule_is_unmet_counts_as_skipped(export: Exporter) -> None:
    tasks = tasks_of(workflow_template(export("""
        with DAG("cleanup", schedule=None, start_date=datetime(2026, 1, 1)):
            work = EmptyOperator(task_id="work")
            cleanup = EmptyOperator(task_id="cleanup", trigger_rule="one_failed")
            done = EmptyOperator(task_id="done", trigger_rule="none_failed")
            work >> cleanup >> done
    """)[0]))
    # Airflow skips a one_failed task whose upstream succeeded; Argo omits it
    assert tasks["done"]["depends"] == "cleanup.Succeeded || cleanup.Skipped || cleanup.Omitted"
    assert tasks["cleanup"]["depends"] == "work.Failed || work.Errored"


def test_retries_and_execution_timeout_go_on_the_step(export: Exporter) -> None:
    manifests, _ = export("""
        with DAG("retry", schedule=None, start_date=datetime(2026, 1, 1)):
            KubernetesPodOperator(task_id="flaky", image="busybox", retries=3, retry_delay=timedelta(seconds=30),
                                  retry_exponential_backoff=True, max_retry_delay=timedelta(minutes=10),
                                  execution_timeout=timedelta(minutes=5))
            ArgoWorkflowOperator(task_id="wf", workflow_template="t", entrypoint="main", retries=1,
                                 retry_delay=timedelta(minutes=1), parameters={"p": "v"})
    """)
    template = workflow_template(manifests)
    flaky = template_named(template, "flaky")
    assert flaky["retryStrategy"] == {"limit": "3", "retryPolicy": "Always",
                                      "backoff": {"duration": "30s", "factor": "2", "maxDuration": "600s"}}
    assert flaky["activeDeadlineSeconds"] == 300
    # a templateRef cannot carry a retryStrategy: a one-step wrapper does
    wrapper = template_named(template, "wf")
    assert wrapper["retryStrategy"]["limit"] == "1"
    assert wrapper["steps"] == [[{"name": "run", "templateRef": {"name": "t", "template": "main"},
                                  "arguments": {"parameters": [{"name": "p", "value": "v"}]}}]]


def test_params_become_workflow_arguments_with_their_defaults(export: Exporter) -> None:
    manifests, _ = export("""
        with DAG("params", schedule=None, start_date=datetime(2026, 1, 1), params={
                "n": Param(100, type="integer", description="partitions"),
                "env": Param("dev", type="string", enum=["dev", "prod"]),
                "path": "/data"}):
            KubernetesPodOperator(task_id="p", image="busybox", arguments=["{{ params.n }}", "{{ params['env'] }}"])
    """)
    template = workflow_template(manifests)
    assert template["spec"]["arguments"]["parameters"] == [
        {"name": "env", "value": "dev", "enum": ["dev", "prod"]},
        {"name": "n", "value": "100", "description": "partitions"},
        {"name": "path", "value": "/data"}]
    step = template_named(template, "p")
    assert step["container"]["args"] == ["{{inputs.parameters.n}}", "{{inputs.parameters.env}}"]
    assert tasks_of(template)["p"]["arguments"]["parameters"] == [
        {"name": "n", "value": "{{inputs.parameters.n}}"}, {"name": "env", "value": "{{inputs.parameters.env}}"}]


def test_jinja_with_an_argo_equivalent_is_translated_and_reported(export: Exporter) -> None:
    manifests, report = export("""
        with DAG("jinja", schedule=None, start_date=datetime(2026, 1, 1)):
            KubernetesPodOperator(task_id="j", image="busybox",
                                  arguments=["{{ ds }}", "run={{ run_id }}", "{{ dag.dag_id }}/{{ task.task_id }}"])
    """)
    args = template_named(workflow_template(manifests), "j")["container"]["args"]
    created = "workflow.creationTimestamp"
    assert args == [f"{{{{{created}.Y}}}}-{{{{{created}.m}}}}-{{{{{created}.d}}}}", "run={{workflow.name}}", "jinja/j"]
    notes = [i.message for i in report.issues if i.level == "approximated"]
    assert any("{{ ds }}" in n for n in notes) and any("{{ run_id }}" in n for n in notes)


def test_jinja_without_an_argo_equivalent_fails_naming_the_task_and_expression(export: Exporter) -> None:
    with pytest.raises(MigrationError) as error:
        export("""
            with DAG("jinja", schedule=None, start_date=datetime(2026, 1, 1)):
                KubernetesPodOperator(task_id="j", image="busybox", arguments=["{{ macros.ds_add(ds, 1) }}"])
        """)
    [issue] = error.value.issues
    assert issue.element == "task j" and issue.source.file == "dag.py" and issue.source.line == 11
    assert "call of macros.ds_add()" in issue.message


def test_xcom_of_a_pod_task_becomes_an_output_parameter(export: Exporter) -> None:
    manifests, _ = export("""
        with DAG("xcom", schedule=None, start_date=datetime(2026, 1, 1)):
            count = KubernetesPodOperator(task_id="count", image="busybox", do_xcom_push=True)
            use = KubernetesPodOperator(task_id="use", image="busybox", arguments=[
                "{{ ti.xcom_pull(task_ids='count') }}", "{{ ti.xcom_pull(task_ids='count')['rows'] }}"])
            count >> use
    """)
    template = workflow_template(manifests)
    assert template_named(template, "count")["outputs"] == {
        "parameters": [{"name": "return_value", "valueFrom": {"path": "/airflow/xcom/return.json"}}]}
    use = template_named(template, "use")
    assert use["container"]["args"] == ["{{inputs.parameters.count-return_value}}",
                                        "{{=jsonpath(inputs.parameters['count-return_value'], '$.rows')}}"]
    assert tasks_of(template)["use"]["arguments"]["parameters"] == [
        {"name": "count-return_value", "value": "{{tasks.count.outputs.parameters.return_value}}"}]


def test_xcom_of_a_task_that_is_not_upstream_is_reported(export: Exporter) -> None:
    with pytest.raises(MigrationError, match="'count' is not upstream of the task"):
        export("""
            with DAG("xcom", schedule=None, start_date=datetime(2026, 1, 1)):
                KubernetesPodOperator(task_id="count", image="busybox", do_xcom_push=True)
                KubernetesPodOperator(task_id="use", image="busybox",
                                      arguments=["{{ ti.xcom_pull(task_ids='count') }}"])
        """)


def test_task_groups_flatten_with_their_prefix(export: Exporter) -> None:
    tasks = tasks_of(workflow_template(export("""
        with DAG("groups", schedule=None, start_date=datetime(2026, 1, 1)):
            with TaskGroup("extract"):
                a = EmptyOperator(task_id="orders")
                b = EmptyOperator(task_id="users")
            done = EmptyOperator(task_id="done")
            [a, b] >> done
    """)[0]))
    assert set(tasks) == {"extract-orders", "extract-users", "done"}
    assert tasks["done"]["dependencies"] == ["extract-orders", "extract-users"]


def test_expand_over_a_literal_list_becomes_with_items(export: Exporter) -> None:
    manifests, _ = export("""
        with DAG("mapped", schedule=None, start_date=datetime(2026, 1, 1)):
            KubernetesPodOperator.partial(task_id="echo", image="busybox", cmds=["echo"]).expand(
                arguments=[["a", "1"], ["b", "2"]])
    """)
    template = workflow_template(manifests)
    task = tasks_of(template)["echo"]
    assert task["withItems"] == [{"arguments_0": "a", "arguments_1": "1"}, {"arguments_0": "b", "arguments_1": "2"}]
    assert {p["name"]: p["value"] for p in task["arguments"]["parameters"]} == {
        "item-arguments_0": "{{item.arguments_0}}", "item-arguments_1": "{{item.arguments_1}}"}
    assert template_named(template, "echo")["container"]["args"] == ["{{inputs.parameters.item-arguments_0}}",
                                                                     "{{inputs.parameters.item-arguments_1}}"]


UNMAPPABLE = """
    from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator

    with DAG("mixed", schedule=None, start_date=datetime(2026, 1, 1)):
        first = KubernetesPodOperator(task_id="first", image="busybox")
        pick = BranchPythonOperator(task_id="pick", python_callable=lambda: "last")
        py = PythonOperator(task_id="py", python_callable=print)
        last = KubernetesPodOperator(task_id="last", image="busybox")
        first >> pick >> py >> last
"""


def test_unmappable_tasks_fail_the_export_listing_each_with_its_reason(export: Exporter) -> None:
    with pytest.raises(MigrationError) as error:
        export(UNMAPPABLE)
    found = {i.element: i.message for i in error.value.issues}
    assert set(found) == {"task pick", "task py"}
    assert "branches in Python at run time" in found["task pick"]
    assert "runs a Python callable inside the Airflow worker" in found["task py"]


def test_partial_exports_the_other_tasks_and_marks_the_unmapped_ones(export: Exporter) -> None:
    manifests, report = export(UNMAPPABLE, partial=True)
    template = workflow_template(manifests)
    tasks = tasks_of(template)
    assert tasks["last"]["dependencies"] == ["py"]  # the order through the unmapped tasks is kept
    assert "container" in template_named(template, "last")
    py = template_named(template, "py")
    assert "suspend" in py and "Python callable" in py["metadata"]["annotations"]["sparkk8s.io/not-migrated"]
    assert {i.element for i in report.issues if i.level == "unsupported"} == {"task pick", "task py"}


def test_a_cron_schedule_becomes_a_cron_workflow(export: Exporter) -> None:
    manifests, _ = export("""
        import pendulum

        with DAG("nightly", schedule="30 2 * * *", max_active_runs=1,
                 start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Amsterdam")):
            EmptyOperator(task_id="a")
    """)
    cron = manifests["nightly.cronworkflow.yaml"]
    assert cron["spec"]["schedules"] == ["30 2 * * *"]
    assert cron["spec"]["timezone"] == "Europe/Amsterdam"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["workflowSpec"] == {"workflowTemplateRef": {"name": "nightly"}}


@pytest.mark.parametrize(("schedule", "cron"), [("timedelta(hours=6)", "0 */6 * * *"),
                                                ("timedelta(minutes=15)", "*/15 * * * *"), ("'@hourly'", "0 * * * *")])
def test_interval_schedules_that_divide_the_clock_become_cron(export: Exporter, schedule: str, cron: str) -> None:
    manifests, _ = export(f"""
        with DAG("every", schedule={schedule}, start_date=datetime(2026, 1, 1)):
            EmptyOperator(task_id="a")
    """)
    assert manifests["every.cronworkflow.yaml"]["spec"]["schedules"] == [cron]


def test_several_crons_in_one_timezone_become_one_cron_workflow(export: Exporter) -> None:
    manifests, _ = export("""
        from airflow.timetables.trigger import MultipleCronTriggerTimetable

        with DAG("twice", schedule=MultipleCronTriggerTimetable("0 6 * * *", "30 18 * * 1-5", timezone="UTC"),
                 start_date=datetime(2026, 1, 1)):
            EmptyOperator(task_id="a")
    """)
    assert manifests["twice.cronworkflow.yaml"]["spec"]["schedules"] == ["0 6 * * *", "30 18 * * 1-5"]


def test_an_argo_calendar_timetable_becomes_the_calendar_event_source_and_sensor(export: Exporter) -> None:
    manifests, _ = export("""
        from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable

        with DAG("cal", schedule=ArgoCalendarTimetable({"schedule": "0 23 * * *", "timezone": "Europe/Amsterdam",
                                                        "exclusionDates": ["2026-12-24"]}, event_name="nightly"),
                 start_date=datetime(2026, 1, 1)):
            EmptyOperator(task_id="a")
    """)
    assert sorted(manifests) == ["cal.eventsource.yaml", "cal.sensor.yaml", "cal.workflowtemplate.yaml"]
    source = manifests["cal.eventsource.yaml"]
    assert source["spec"]["calendar"]["nightly"]["schedule"] == "0 23 * * *"
    assert source["spec"]["calendar"]["nightly"]["exclusionDates"] == ["2026-12-24"]
    trigger = manifests["cal.sensor.yaml"]["spec"]["triggers"][0]["template"]["argoWorkflow"]
    assert trigger["source"]["resource"]["spec"]["workflowTemplateRef"]["name"] == "cal"


def test_export_is_byte_identical_on_rerun(tmp_path: Path) -> None:
    from airflow_provider_sparkk8s.migrate.airflow import render_airflow

    examples = Path(__file__).parents[2] / "dags_examples"
    first, _ = render_airflow(examples, partial=True, workflow_templates=examples / "manifests")
    second, _ = render_airflow(examples, partial=True, workflow_templates=examples / "manifests")
    assert first == second


def test_a_dag_file_that_does_not_load_is_an_error_naming_it(export: Exporter) -> None:
    with pytest.raises(MigrationError) as error:
        export("raise RuntimeError('broken on purpose')\n")
    [issue] = error.value.issues
    assert issue.source.file == "dag.py" and "broken on purpose" in issue.message


def test_an_unknown_dag_id_is_an_error_listing_the_dags_found(export: Exporter) -> None:
    body = """
        with DAG("one", schedule=None, start_date=datetime(2026, 1, 1)):
            EmptyOperator(task_id="a")
        with DAG("two", schedule=None, start_date=datetime(2026, 1, 1)):
            EmptyOperator(task_id="a")
    """
    manifests, _ = export(body, dag_ids=["two"])
    assert sorted(manifests) == ["two.workflowtemplate.yaml"]
    with pytest.raises(MigrationError, match=r"--dag-id three: no such DAG in dags \(found: one, two\)"):
        export(body, dag_ids=["three"])


def test_xcom_of_a_spark_application_task_becomes_its_output_and_a_sensor_on_it_passes_through(
        export: Exporter) -> None:
    manifests, report = export("""
        from airflow_provider_sparkk8s.sensors.spark import SparkK8sSensor

        with DAG("spark_xcom", schedule=None, start_date=datetime(2026, 1, 1)):
            pi = SparkK8sOperator(task_id="pi", launcher="spark-operator", application="local:///pi.py",
                                  namespace="default")
            confirm = SparkK8sSensor(task_id="confirm",
                                     application_name="{{ ti.xcom_pull(task_ids='pi')['application'] }}")
            show = KubernetesPodOperator(task_id="show", image="busybox", arguments=[
                "{{ ti.xcom_pull(task_ids='pi')['application'] }}", "{{ ti.xcom_pull(task_ids='pi')['namespace'] }}"])
            pi >> confirm >> show
    """)
    template = workflow_template(manifests)
    assert template_named(template, "pi")["outputs"]["parameters"] == [
        {"name": "application", "valueFrom": {"jsonPath": "{.metadata.name}"}}]
    tasks = tasks_of(template)
    assert tasks["confirm"]["template"] == "noop"
    assert template_named(template, "show")["container"]["args"] == ["{{inputs.parameters.pi-application}}",
                                                                     "default"]
    assert tasks["show"]["arguments"]["parameters"] == [
        {"name": "pi-application", "value": "{{tasks.pi.outputs.parameters.application}}"}]
    assert any(i.element == "task confirm" and "passes through" in i.message for i in report.issues)
