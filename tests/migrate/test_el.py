"""Oozie EL → Airflow Jinja / Argo tags: what a migrated DAG or manifest shows, and what it renders to."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import jinja2
import pytest

from airflow_provider_sparkk8s.migrate.oozie.el import (
    ElContext,
    ElSyntaxError,
    java_to_go_layout,
    parse,
    translate,
)
from airflow_provider_sparkk8s.migrate.oozie.ir import Dataset, Frequency, Source
from airflow_provider_sparkk8s.migrate.runtime import MACROS

SRC = Source("workflow.xml", 12)
AIRFLOW = ElContext({"user.name": "params['user.name']", "queue": "params['queue']", "n": "params['n']"},
                    {"shell-node": "shell_node", "spark-node": "spark_node"}, "etl-app", coordinator=True)
ARGO = ElContext({"user.name": "workflow.parameters.user-name", "queue": "workflow.parameters.queue",
                  "n": "workflow.parameters.n"},
                 {"shell-node": "shell-node", "spark-node": "spark-node"}, "etl-app", coordinator=True)


def airflow(text: str, **kwargs: object) -> str:
    result = translate(text, SRC, "airflow", AIRFLOW, **kwargs)  # type: ignore[arg-type]
    assert result.supported, result.issues
    return result.text


def argo(text: str, **kwargs: object) -> str:
    result = translate(text, SRC, "argo", ARGO, **kwargs)  # type: ignore[arg-type]
    assert result.supported, result.issues
    return result.text


# ------------------------------------------------------------------------------------------ rendering (Airflow)


class FakeTI:
    """A task instance as Airflow 3 hands it to templates: xcom_pull and the run's task states."""

    dag_id, run_id, try_number = "etl-app", "scheduled__2026-12-25", 2

    def __init__(self, xcom: dict[str, object], states: dict[str, str]) -> None:
        self.xcom, self.states = xcom, states
        self.task = SimpleNamespace(dag=SimpleNamespace(task_ids=list(states)))

    def xcom_pull(self, task_ids: str) -> object:
        return self.xcom.get(task_ids)

    def get_task_states(self, dag_id: str, run_ids: list[str]) -> dict[str, dict[str, str]]:
        return {run_ids[0]: self.states}


def render(template: str, *, expression: bool = False) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    ti = FakeTI({"shell_node": {"my_output": "Hello Oozie", "count": "7"}},
                {"shell_node": "success", "spark_node": "failed", "end": "upstream_failed"})
    context = {**MACROS, "params": {"user.name": "alice", "queue": "etl", "n": "3"}, "run_id": ti.run_id, "ti": ti,
               "logical_date": datetime(2026, 12, 25, tzinfo=UTC),
               "dag_run": SimpleNamespace(start_date=datetime(2026, 12, 25, 0, 7, tzinfo=UTC), run_after=None),
               "dag": SimpleNamespace(owner="airflow", fileloc="/dags/etl.py")}
    if expression:
        return str(env.compile_expression(template)(**context))
    return env.from_string(template).render(**context)


@pytest.mark.parametrize(("el", "expected"), [
    ("${coord:formatTime(coord:nominalTime(), 'yyyyMMdd')}", "20261225"),
    ("${coord:formatTime(coord:dateOffset(coord:nominalTime(), -1, 'DAY'), 'yyyy/MM/dd')}", "2026/12/24"),
    ("${coord:formatTime(coord:dateOffset(coord:nominalTime(), 2, 'MONTH'), \"yyyy-MM-dd'T'HH EEE\")}",
     "2027-02-25T00 Thu"),
    ("${coord:nominalTime()}", "2026-12-25T00:00Z"),
    ("${coord:actualTime()}", "2026-12-25T00:07Z"),
    ("${coord:dateTzOffset(coord:nominalTime(), 'Asia/Kolkata')}", "2026-12-25T05:30Z"),
    ("${coord:epochTime('2026-12-25T00:00Z', true)}", "1798156800000"),
    ("/user/${user.name}/${wf:id()}/in", "/user/alice/scheduled__2026-12-25/in"),
    ("${wf:name()}:${wf:conf('queue')}", "etl-app:etl"),
    ("${wf:user()} ${coord:user()}", "alice alice"),
    ("${wf:actionData('shell-node')['my_output']}", "Hello Oozie"),
    ("${wf:actionData('shell-node').count + 1}", "8"),
    ("${wf:actionData('shell-node')['missing']}", ""),
    ("${wf:lastErrorNode()}", "spark_node"),
    ("[${wf:errorMessage(wf:lastErrorNode())}]", "[task spark_node failed (see its log)]"),
    ("${wf:errorCode('spark-node')}|${wf:errorCode('shell-node')}", "FAILED|"),
    ("${wf:run()}", "1"),
    ("${concat(trim('  a '), user.name)}", "aalice"),
    ("${replaceAll('2026-12-25', '(\\\\d+)-', '$1/')}", "2026/12/25"),
    ("${appendAll('a,b', '.csv', ',')}", "a.csv,b.csv"),
    ("${firstNotNull(null, 'x')}", "x"),
    ("${urlEncode('a b&c*~')}", "a+b%26c*%7E"),
    ("${n * 2} ${n / 2} ${n % 2} ${-n}", "6 1.5 1 -3"),
    ("${n > 2} ${n lt 2} ${empty queue} ${not (n == 3)}", "true false false false"),
    ("${n == 3 ? 'three' : 'other'}", "three"),
    ("${1 * KB} ${2 * HOURS}", "1024 120"),
    ("${coord:hours(2)}", "120"),
    ("plain {{ not jinja }} {% raw %}", "plain {{ not jinja }} {% raw %}"),
])
def test_airflow_translation_renders_to_oozie_values(el: str, expected: str) -> None:
    assert render(airflow(el)) == expected


@pytest.mark.parametrize(("el", "expected"), [
    ("${wf:actionData('shell-node')['my_output'] eq 'Hello Oozie'}", "True"),
    ("${wf:actionData('shell-node')['my_output'] ne 'Hello Oozie'}", "False"),
    ("${n ge 3 and user.name == 'alice'}", "True"),
    ("${!(n > 1) || empty user.name}", "False"),
    ("${queue}", "False"),
    ("${true}", "True"),
])
def test_airflow_condition_is_a_boolean_jinja_expression(el: str, expected: str) -> None:
    text = airflow(el, condition=True)
    assert "{{" not in text
    assert render(text, expression=True) == expected


def test_airflow_timestamp_is_utc_now_with_milliseconds() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", render(airflow("${timestamp()}")))


def test_airflow_translation_text() -> None:
    assert airflow("${wf:id()}") == "{{ run_id }}"
    assert airflow("${user.name}") == "{{ params['user.name'] }}"
    assert airflow("${wf:actionData('shell-node')['k']}", condition=True) == \
        "oozie.to_bool((ti.xcom_pull(task_ids='shell_node') or {}).get('k'))"


def test_airflow_user_and_app_path_fall_back_with_an_approximation() -> None:
    ctx = ElContext({}, app_name="a")
    result = translate("${wf:user()} ${wf:appPath()}", SRC, "airflow", ctx)
    assert result.text == "{{ dag.owner }} {{ dag.fileloc }}"
    assert [issue.level for issue in result.issues] == ["approximated", "approximated"]


def test_app_path_property_is_used_when_known() -> None:
    ctx = ElContext({"oozie.wf.application.path": "params['oozie.wf.application.path']"})
    assert translate("${wf:appPath()}", SRC, "airflow", ctx).text == "{{ params['oozie.wf.application.path'] }}"


def test_coordinator_group_dataset_instance_renders_the_aligned_instance() -> None:
    dataset = Dataset("logs", Frequency("minutes", 60, text="${coord:hours(1)}"), "2026-01-01T00:30Z", "UTC",
                      "hdfs:///logs/${YEAR}")
    ctx = ElContext(AIRFLOW.parameters, coordinator=True, dataset=dataset)
    text = translate("${coord:current(-1)}", SRC, "airflow", ctx).text
    assert render(text) == "2026-12-24T22:30Z"


# ------------------------------------------------------------------------------------------ Argo


@pytest.mark.parametrize(("el", "expected"), [
    ("${wf:id()}", "{{workflow.name}}"),
    ("/user/${user.name}/x", "/user/{{workflow.parameters.user-name}}/x"),
    ("${wf:conf('queue')}", "{{workflow.parameters.queue}}"),
    ("${wf:name()}", "etl-app"),
    ("${wf:actionData('shell-node')['my_output']}", "{{tasks.shell-node.outputs.parameters.my_output}}"),
    ("${coord:formatTime(coord:nominalTime(), 'yyyyMMdd')}",
     "{{=sprig.dateInZone('20060102', sprig.toDate('2006-01-02T15:04:05Z07:00', workflow.scheduledTime), 'UTC')}}"),
    ("${coord:nominalTime()}",
     "{{=sprig.dateInZone('2006-01-02T15:04Z', sprig.toDate('2006-01-02T15:04:05Z07:00', workflow.scheduledTime), "
     "'UTC')}}"),
    ("${coord:formatTime(coord:dateOffset(coord:nominalTime(), -1, 'DAY'), 'yyyy')}",
     "{{=sprig.dateInZone('2006', sprig.dateModify('-1440m', sprig.toDate('2006-01-02T15:04:05Z07:00', "
     "workflow.scheduledTime)), 'UTC')}}"),
    ("${trim(user.name)}", "{{=sprig.trim(workflow.parameters['user-name'])}}"),
    ("${concat(queue, '-x')}", "{{=(workflow.parameters['queue'] + '-x')}}"),
    ("${n + 1}", "{{=(asFloat(workflow.parameters['n']) + 1)}}"),
    ("${empty queue ? 'a' : 'b'}", "{{=((workflow.parameters['queue'] == '') ? 'a' : 'b')}}"),
    ("${urlEncode(queue)}", "{{=sprig.urlquery(workflow.parameters['queue'])}}"),
    ("${replaceAll(queue, '(a)', '$1b')}", "{{=sprig.regexReplaceAll('(a)', workflow.parameters['queue'], '${1}b')}}"),
    ("lit {{x}}", "lit {{='{{'}}x}}"),
])
def test_argo_translation(el: str, expected: str) -> None:
    assert translate(el, SRC, "argo", ARGO).text == expected


@pytest.mark.parametrize(("el", "expected"), [
    ("${wf:actionData('shell-node')['ready'] eq 'true'}", "'{{tasks.shell-node.outputs.parameters.ready}}' == 'true'"),
    ("${queue != 'etl'}", "'{{workflow.parameters.queue}}' != 'etl'"),
    ("${wf:actionData('shell-node')['ready']}", "'{{tasks.shell-node.outputs.parameters.ready}}' == 'true'"),
    ("${n > 2 and queue == 'etl'}",
     "{{=((asFloat(workflow.parameters['n']) > 2) && (workflow.parameters['queue'] == 'etl'))}}"),
    ("${false}", "false"),
])
def test_argo_condition_is_a_when_expression(el: str, expected: str) -> None:
    assert argo(el, condition=True) == expected


def test_argo_error_functions_read_workflow_failures_and_say_where_they_work() -> None:
    result = translate("${wf:errorMessage(wf:lastErrorNode())}", SRC, "argo", ARGO)
    assert result.text == "{{=last(jsonpath(workflow.failures, '$[*].message'))}}"
    assert any("onExit" in issue.message for issue in result.issues)


def test_java_patterns_convert_to_go_layouts() -> None:
    assert java_to_go_layout("yyyy-MM-dd'T'HH:mm:ss.SSS") == "2006-01-02T15:04:05.000"
    assert java_to_go_layout("EEE, d MMM yy hh:mm a") == "Mon, 2 Jan 06 03:04 PM"
    with pytest.raises(ValueError, match="Go"):
        java_to_go_layout("H")
    with pytest.raises(ValueError, match="Go layout"):
        java_to_go_layout("yyyy'1'")


def test_argo_reports_a_format_go_cannot_express() -> None:
    result = translate("${coord:formatTime(coord:nominalTime(), 'H')}", SRC, "argo", ARGO)
    assert result.text == "<oozie-el-unsupported: ${coord:formatTime(coord:nominalTime(), 'H')}>"
    assert not result.supported


def test_argo_action_data_needs_a_literal_key() -> None:
    assert not translate("${wf:actionData('shell-node')}", SRC, "argo", ARGO).supported


# ------------------------------------------------------------------------------------------ unsupported and errors


@pytest.mark.parametrize("el", ["${fs:exists('/data')}", "${hadoop:counters('mr')['RECORDS']}",
                                "${hcat:exists('x')}", "${coord:dataIn('input')}", "${coord:latest(0)}",
                                "${coord:future(0, 3)}", "${wf:transition('a')}", "${wf:actionExternalId('a')}",
                                "${wf:callback('a')}", "${nope}", "${wf:actionData('ghost')['k']}",
                                "${madeUp(1)}", "${concat('a')}"])
@pytest.mark.parametrize("target", ["airflow", "argo"])
def test_untranslatable_el_stays_visible_and_is_reported(el: str, target: str) -> None:
    ctx = AIRFLOW if target == "airflow" else ARGO
    result = translate(f"cmd {el} end", SRC, target, ctx, element="action shell-node")  # type: ignore[arg-type]
    assert result.text == f"cmd <oozie-el-unsupported: {el}> end"
    [issue] = [issue for issue in result.issues if issue.level == "unsupported"]
    assert el in issue.message
    assert (issue.source, issue.element) == (SRC, "action shell-node")


@pytest.mark.parametrize(("target", "false"), [("airflow", "False"), ("argo", "false")])
def test_untranslatable_condition_is_false_and_says_so(target: str, false: str) -> None:
    ctx = AIRFLOW if target == "airflow" else ARGO
    result = translate("${fs:exists('/x')}", SRC, target, ctx, condition=True)  # type: ignore[arg-type]
    assert result.text == false
    assert f"translated as {false}" in result.issues[0].message


def test_capture_output_is_required_for_action_data_when_known() -> None:
    ctx = ElContext(AIRFLOW.parameters, AIRFLOW.task_ids, capture_nodes=frozenset({"shell-node"}))
    assert translate("${wf:actionData('shell-node')['a']}", SRC, "airflow", ctx).supported
    result = translate("${wf:actionData('spark-node')['a']}", SRC, "airflow", ctx)
    assert "no <capture-output/>" in result.issues[0].message


def test_coord_functions_need_a_coordinator() -> None:
    result = translate("${coord:nominalTime()}", SRC, "airflow", ElContext({}))
    assert "only available in a coordinator" in result.issues[0].message


def test_coord_current_without_a_dataset_is_unsupported() -> None:
    assert not translate("${coord:current(0)}", SRC, "argo", ARGO).supported


def test_syntax_error_names_source_and_column() -> None:
    result = translate("x ${1 + } y", SRC, "airflow", AIRFLOW, element="action a")
    assert result.text == "x <oozie-el-unsupported: ${1 + }> y"
    [issue] = result.issues
    assert issue.level == "error" and issue.source == SRC and "column 9" in issue.message


def test_unterminated_el_is_an_error() -> None:
    result = translate("${wf:id()", SRC, "argo", ARGO)
    assert result.issues[0].level == "error"


# ------------------------------------------------------------------------------------------ parser


def test_parser_precedence_and_functions() -> None:
    node = parse("a || b && !c == 1 + 2 * 3")
    assert type(node).__name__ == "Binary" and node.op == "||"  # type: ignore[union-attr]
    assert parse("wf:conf('a.b')").name == "wf:conf"  # type: ignore[union-attr]
    assert parse("user.name").name == "user.name"  # type: ignore[union-attr]
    # the ':' of a ternary is not a namespace separator
    assert type(parse("x ? a : b")).__name__ == "Cond"


@pytest.mark.parametrize("bad", ["", "1 +", "(1", "'open", "a b", "f(1,)", "1 # 2"])
def test_parser_rejects_malformed_el(bad: str) -> None:
    with pytest.raises(ElSyntaxError):
        parse(bad)


def test_text_without_el_is_unchanged() -> None:
    assert translate("hdfs:///data/$x/{a}", SRC, "airflow", AIRFLOW).text == "hdfs:///data/$x/{a}"
    assert translate("hdfs:///data/$x/{a}", SRC, "argo", ARGO).text == "hdfs:///data/$x/{a}"
