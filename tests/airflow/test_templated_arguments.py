"""Arguments as DAG authors write them, in real Airflow (`dag.test()`) against the emulator: XComArgs and
whole-field Jinja in templated fields, types checked after rendering, manifest files found through the DAG's
template search path, the cncf.kubernetes argument names (the old ones still work, with a warning), and
parse-time errors that name the task."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.argo_support import NS as ARGO_NS
from tests.airflow.argo_support import argo, workflows

__all__ = ["argo"]

IMPORTS = """\
from airflow.sdk import task
from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator
"""
NS = "spark-jobs"
SPARK_APPLICATION = ("sparkoperator.k8s.io/v1beta2", "SparkApplication")
PI = "local:///opt/spark/examples/src/main/python/pi.py"
SPARK = f"application={PI!r}, image='apache/spark:4.0.1', namespace={NS!r}"
# Upstream tasks whose return values the operators take, as XComArgs or through ti.xcom_pull.
UPSTREAM = """\
@task
def compute_args():
    return ["10", "--day", "2026-01-01"]

@task
def compute_conf():
    return {"spark.sql.shuffle.partitions": "7"}

@task
def compute_parameters():
    return {"dataset": "from-xcom", "mode": "full"}

args, conf, parameters = compute_args(), compute_conf(), compute_parameters()
"""


def application_of(cluster: KubeEmulator, task_id: str) -> dict:
    [app] = [a for a in cluster.list(*SPARK_APPLICATION, NS)
             if a["metadata"]["labels"]["sparkk8s.io/task-id"] == task_id]
    return app


def launcher_args(cluster: KubeEmulator, task_id: str) -> list[str]:
    [pod] = cluster.list("v1", "Pod", NS, f"sparkk8s.io/task-id={task_id},sparkk8s.io/role=launcher")
    return pod["spec"]["containers"][0]["args"]


def test_xcomargs_and_native_jinja_reach_the_spark_application_and_the_launcher_pod(spark_cluster: KubeEmulator,
                                                                                     run_dag) -> None:
    result = run_dag(UPSTREAM + f"""
SparkK8sOperator(task_id="operator_xcom", launcher="spark-operator", {SPARK}, application_args=args, conf=conf)
args >> SparkK8sOperator(task_id="operator_jinja", launcher="spark-operator", {SPARK},
                         application_args="{{{{ ti.xcom_pull(task_ids='compute_args') }}}}",
                         conf="{{{{ params.conf }}}}", executor_instances="{{{{ params.executors }}}}")
SparkK8sOperator(task_id="pod_xcom", launcher="pod", {SPARK}, application_args=args, conf=conf)
""", IMPORTS, render_template_as_native_obj=True,
                     params={"conf": {"spark.sql.shuffle.partitions": "9"}, "executors": 2})
    assert set(result.states.values()) == {"success"}, result.states
    app = application_of(spark_cluster, "operator_xcom")["spec"]
    assert app["arguments"] == ["10", "--day", "2026-01-01"]
    assert app["sparkConf"] == {"spark.sql.shuffle.partitions": "7"}
    app = application_of(spark_cluster, "operator_jinja")["spec"]
    assert app["arguments"] == ["10", "--day", "2026-01-01"]
    assert app["sparkConf"] == {"spark.sql.shuffle.partitions": "9"}
    assert app["executor"]["instances"] == 2
    args = launcher_args(spark_cluster, "pod_xcom")
    assert args[-3:] == ["10", "--day", "2026-01-01"]
    assert "spark.sql.shuffle.partitions=7" in args


def test_a_number_rendered_as_a_string_becomes_the_number(spark_cluster: KubeEmulator, run_dag) -> None:
    # Without native rendering a Jinja template renders to a string: "3" is still 3 executors.
    result = run_dag(f"SparkK8sOperator(task_id='pi', launcher='spark-operator', {SPARK}, "
                     "executor_instances='{{ params.executors }}', driver_cores='{{ params.cores }}')",
                     IMPORTS, params={"executors": 3, "cores": 1})
    assert result.states == {"pi": "success"}
    spec = application_of(spark_cluster, "pi")["spec"]
    assert spec["executor"]["instances"] == 3 and spec["driver"]["cores"] == 1


def test_argo_parameters_from_an_xcomarg_and_a_native_jinja_string_reach_the_workflow(argo: KubeEmulator,
                                                                                      run_dag) -> None:
    result = run_dag(UPSTREAM + """
ArgoWorkflowOperator(task_id="wf_xcom", workflow_template="pipeline", parameters=parameters)
ArgoWorkflowOperator(task_id="wf_jinja", workflow_template="pipeline", parameters="{{ params.parameters }}")
""", IMPORTS, render_template_as_native_obj=True, params={"parameters": {"dataset": "from-params"}})
    assert set(result.states.values()) == {"success"}, result.states
    by_task = {wf["metadata"]["labels"]["sparkk8s.io/task-id"]: wf["spec"]["arguments"]["parameters"]
               for wf in workflows(argo)}
    assert by_task == {"wf_xcom": [{"name": "dataset", "value": "from-xcom"}, {"name": "mode", "value": "full"}],
                       "wf_jinja": [{"name": "dataset", "value": "from-params"}]}


def test_a_wrongly_typed_rendered_value_fails_the_task_naming_it_and_creates_nothing(argo: KubeEmulator,
                                                                                       run_dag) -> None:
    # Without render_template_as_native_obj, a Jinja template renders to a string: not a list, not a dict.
    result = run_dag(UPSTREAM + f"""
spark_job = SparkK8sOperator(task_id="spark_job", launcher="pod", application={PI!r}, image="apache/spark:4.0.1",
                             application_args="{{{{ ti.xcom_pull(task_ids='compute_args') }}}}")
args >> spark_job
ArgoWorkflowOperator(task_id="wf", workflow_template="pipeline", parameters="{{{{ params.parameters }}}}")
""", IMPORTS, params={"parameters": {"dataset": "x"}})
    assert result.states["spark_job"] == "failed" and result.states["wf"] == "failed"
    assert ("Task spark_job: application_args: expected a list of strings after rendering, got str "
            "\"['10', '--day', '2026-01-01']\" (a Jinja template renders to a string unless the DAG sets "
            "render_template_as_native_obj=True)") in result.output
    assert "Task wf: parameters: expected a dict after rendering, got str \"{'dataset': 'x'}\"" in result.output
    assert argo.list("v1", "Pod", ARGO_NS, "sparkk8s.io/task-id=spark_job") == []
    assert workflows(argo) == []


def test_manifest_files_are_found_through_template_searchpath(argo: KubeEmulator, run_dag, tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "say.yaml").write_text(textwrap.dedent("""\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: say-}
        spec:
          entrypoint: say
          arguments: {parameters: [{name: word, value: "{{ params.word }}"}]}
          templates:
            - name: say
              inputs: {parameters: [{name: word}]}
              container:
                image: busybox:1.36
                command: [echo]
                args: ["{{inputs.parameters.word}} from {{ dag.dag_id }}"]
        """))
    (tmp_path / "driver.yaml").write_text("kind: Pod\nmetadata:\n  labels: {run: '{{ params.word }}'}\n")
    result = run_dag(f"""
ArgoWorkflowOperator(task_id="wf", workflow="flows/say.yaml")
SparkK8sOperator(task_id="pi", launcher="spark-operator", application={PI!r}, image="apache/spark:4.0.1",
                 namespace={ARGO_NS!r}, driver_pod_template="driver.yaml",
                 executor_pod_template={str(tmp_path / "driver.yaml")!r})
""", IMPORTS, template_searchpath=[str(tmp_path)], params={"word": "hello"})
    assert result.states == {"wf": "success", "pi": "success"}
    [wf] = workflows(argo)
    assert wf["spec"]["arguments"]["parameters"] == [{"name": "word", "value": "hello"}]
    # Argo's own placeholder survives; Airflow's Jinja is rendered.
    assert wf["spec"]["templates"][0]["container"]["args"] == [f"{{{{inputs.parameters.word}}}} from {result.dag_id}"]
    [app] = argo.list(*SPARK_APPLICATION, ARGO_NS)
    assert app["spec"]["driver"]["template"]["metadata"]["labels"] == {"run": "hello"}
    # An absolute path is read as it is, and rendered the same way.
    assert app["spec"]["executor"]["template"]["metadata"]["labels"] == {"run": "hello"}


def test_rendered_fields_show_no_masked_value(spark_cluster: KubeEmulator, run_dag) -> None:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session

    result = run_dag(f"SparkK8sOperator(task_id='pi', launcher='spark-operator', {SPARK}, "
                     "service_account_name='spark', launcher_service_account_name='spark-launcher')", IMPORTS)
    assert result.states == {"pi": "success"}
    with create_session() as session:
        [ti] = result.dag_run.get_task_instances(session=session)
        rendered = RenderedTaskInstanceFields.get_templated_fields(ti, session=session)
    assert rendered["namespace"] == NS and rendered["application"] == PI
    assert "***" not in json.dumps(rendered)  # Airflow masks any field whose name contains service_account
    assert application_of(spark_cluster, "pi")["spec"]["driver"]["serviceAccount"] == "spark"


def test_deprecated_names_warn_and_still_work(spark_cluster: KubeEmulator, run_dag) -> None:
    from airflow.exceptions import AirflowProviderDeprecationWarning

    with pytest.warns(AirflowProviderDeprecationWarning) as warned:
        result = run_dag(f"SparkK8sOperator(task_id='pi', launcher='spark-operator', {SPARK}, "
                         "service_account='spark', startup_timeout=120, delete_on_success=True)", IMPORTS)
    messages = {str(w.message) for w in warned if w.category is AirflowProviderDeprecationWarning}
    assert messages >= {"service_account is deprecated; use service_account_name (task pi)",
                        "startup_timeout is deprecated; use startup_timeout_seconds (task pi)",
                        "delete_on_success/delete_on_failure is deprecated; use on_finish_action (task pi)"}
    assert result.states == {"pi": "success"}
    value = result.xcom("pi")
    assert spark_cluster.get(*SPARK_APPLICATION, value["application"], NS) is None  # deleted on success
    assert "Deleted " in result.output


PARSE_ERRORS = {
    "bad_args": ("SparkK8sOperator(task_id='bad_args', application='a.py', application_args='--day 2026-01-01')",
                 "TypeError: Task bad_args: application_args: expected a list of strings, got str '--day 2026-01-01'"),
    "bad_conf": ("SparkK8sOperator(task_id='bad_conf', application='a.py', conf=['spark.a=1'])",
                 "TypeError: Task bad_conf: conf: expected a dict, got list ['spark.a=1']"),
    "bad_launcher": ("SparkK8sOperator(task_id='bad_launcher', application='a.py', launcher='yarn')",
                     "ValueError: Task bad_launcher: launcher: expected one of spark-submit, pod, spark-operator, "
                     "not 'yarn'"),
    "bad_property": ("SparkK8sOperator(task_id='bad_property', application='a.py', conf={'spark a': '1'})",
                     "ValueError: Task bad_property: conf: invalid Spark property name 'spark a'"),
    "bad_finish": ("SparkK8sOperator(task_id='bad_finish', application='a.py', on_finish_action='delete')",
                   "ValueError: Task bad_finish: on_finish_action: expected one of delete_pod, "
                   "delete_succeeded_pod, keep_pod"),
    "bad_params": ("ArgoWorkflowOperator(task_id='bad_params', workflow_template='t', parameters=['a=1'])",
                   "TypeError: Task bad_params: parameters: expected a dict, got list ['a=1']"),
    "bad_wait": ("ArgoWorkflowOperator(task_id='bad_wait', workflow_template='t', wait_timeout=-1)",
                 "ValueError: Task bad_wait: wait_timeout: expected a positive number of seconds, not -1"),
}


@pytest.mark.parametrize(("arguments", "error"), PARSE_ERRORS.values(), ids=PARSE_ERRORS.keys())
def test_a_bad_literal_fails_at_parse_time_naming_the_task_and_the_argument(arguments: str, error: str) -> None:
    from datetime import datetime

    from airflow.sdk import DAG

    from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator
    from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

    scope = {"SparkK8sOperator": SparkK8sOperator, "ArgoWorkflowOperator": ArgoWorkflowOperator}
    exc_type, message = error.split(": ", 1)
    with DAG("parse_errors", schedule=None, start_date=datetime(2026, 1, 1)), \
            pytest.raises((TypeError, ValueError)) as raised:
        eval(arguments, scope)  # noqa: S307 - the DAG line under test
    assert type(raised.value).__name__ == exc_type
    assert str(raised.value).startswith(message)


PUBLIC = [("operators.spark", "SparkK8sOperator"), ("operators.argo", "ArgoWorkflowOperator"),
          ("sensors.spark", "SparkK8sSensor"), ("sensors.argo", "ArgoWorkflowSensor"),
          ("sensors.calendar", "ArgoCalendarSensor")]


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=[name for _, name in PUBLIC])
def test_every_templated_field_is_type_checked_and_every_parameter_documented(module: str, name: str) -> None:
    import importlib
    import inspect

    found = importlib.import_module(f"airflow_provider_sparkk8s.{module}")
    cls = getattr(found, name)
    assert set(cls.template_fields) <= set(found.ARGUMENTS)
    parameters = [p for p in inspect.signature(cls.__init__).parameters.values()
                  if p.kind is inspect.Parameter.KEYWORD_ONLY]
    undocumented = [p.name for p in parameters if f":param {p.name}:" not in (cls.__doc__ or "")]
    assert undocumented == []
