"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- OOZIE-UNSUPPORTED workflow.xml:6 (action dates): ${wf:conf('start')}: property 'start' is not defined
  (job.properties, config-default.xml or <parameters>)
- approximated workflow.xml:6 (action dates): java: the main class runs with the jars in /opt/oozie/lib/ of the
  image on the classpath; put the workflow's lib/ jars there
- approximated workflow.xml:6 (action dates): capture-output: the program must write its output as JSON to
  /airflow/xcom/return.json (Oozie: oozie.action.output.properties)
- approximated workflow.xml:34 (action remote): ssh runs from a pod: mount the private key (a Secret) and
  known_hosts; the remote side joins the command and its arguments into one shell line
- approximated workflow.xml:34 (action remote): capture-output: the command runs under a fixed sh/awk wrapper that
  turns its stdout (key=value lines) into the task's XCom; the image needs sh and awk
- approximated workflow.xml:44 (action alert): wf:lastErrorNode() gives the task id of the last failed task
- approximated workflow.xml:44 (action alert): wf:errorMessage(): Airflow does not keep the error text; the message
  names the failed task (its log has the cause)
- approximated workflow.xml:44 (action alert): wf:lastErrorNode() gives the task id of the last failed task
- approximated workflow.xml:44 (action alert): email attachments are read from the worker's file system, not HDFS

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6, kroniak/ssh-client:3.19
"""

from __future__ import annotations

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.smtp.operators.smtp import EmailOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS

# capture-output: runs the action (its argv follows the script), echoes its stdout, and turns the
# key=value lines into the XCom JSON. Constant: user values only arrive as "$@".
CAPTURE_OUTPUT = (
    'set -e; out=$("$@"); printf \'%s\\n\' "$out"; mkdir -p /airflow/xcom; printf \'%s\\n\' "$out" | '
    'awk \'function q(s,  o, i, c) { o = ""; for (i = 1; i <= length(s); i++) { c = substr(s, i,'
    ' 1); if (c == "\\\\" || c == "\\"") o = o "\\\\"; o = o c } return o } BEGIN { printf "{" } /^['
    ' \\t]*[#!]/ { next } index($0, "=") > 0 { i = index($0, "="); printf "%s\\"%s\\": \\"%s\\"", '
    '(n++ ? ", " : ""), q(substr($0, 1, i - 1)), q(substr($0, i + 1)) } END { print "}" }\' > '
    '/airflow/xcom/return.json'
)


def oozie_decision(cases: list[list[str]], default: str) -> str:
    """Oozie switch/case: the first case whose predicate rendered true wins, else the default."""
    for predicate, target in cases:
        if str(predicate).strip().lower() == "true":
            return target
    return default


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


def oozie_route(ti, watched: list[str], ok: str, error: str) -> list[str]:
    """After an action whose <error> leads to a node: follow <error> if one of its tasks failed, <ok> if all
    succeeded, nothing when the action was not on the run's path (skipped)."""
    states = ti.get_task_states(dag_id=ti.dag_id, task_ids=watched, run_ids=[ti.run_id]).get(ti.run_id, {})
    values = [str(getattr(state, "value", state)) for state in states.values()]
    if "failed" in values:
        return [error]
    return [ok] if values and all(value == "success" for value in values) else []


with DAG(
    dag_id='recover-0.4.5',
    description="Oozie workflow 'recover-0.4.5'",
    doc_md=__doc__,
    schedule=None,
    params={
        'jobTracker': Param('jobtracker:8021', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    # OOZIE-UNSUPPORTED: workflow.xml:6: ${wf:conf('start')}: property 'start' is not defined (job.properties,
    #   config-default.xml or <parameters>)
    dates = KubernetesPodOperator(
        task_id='dates',
        name='dates',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['java'],
        arguments=[
            '-Xmx512m',
            '-Dtz=UTC',
            '-cp',
            '/opt/oozie/lib/*',
            'org.example.DateList',
            "<oozie-el-unsupported: ${wf:conf('start')}>",
        ],
        do_xcom_push=True,
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    any_dates = BranchPythonOperator(
        task_id='any-dates',
        python_callable=oozie_decision,
        op_kwargs={
            'cases': [["{{ (oozie.num((ti.xcom_pull(task_ids='dates') or {}).get('count')) > 0) }}", 'group']],
            'default': 'end',
        },
        doc_md="Oozie decision 'any-dates': the first true case wins.",
    )
    group = KubernetesPodOperator(
        task_id='group',
        name='group',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-chgrp', '-R', 'analysts', 'hdfs://namenode:8020/data/out'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    remote = KubernetesPodOperator(
        task_id='remote',
        name='remote',
        namespace='default',
        image='kroniak/ssh-client:3.19',
        cmds=['sh'],
        arguments=[
            '-c',
            CAPTURE_OUTPUT,
            'oozie-capture-output',
            'ssh',
            '-o',
            'BatchMode=yes',
            'etl@edge',
            'publish.sh',
            "{{ oozie.to_str((ti.xcom_pull(task_ids='dates') or {}).get('first')) }}",
        ],
        do_xcom_push=True,
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    alert = EmailOperator(
        task_id='alert',
        to=['ops@example.com'],
        subject='recover-0.4.5 failed at {{ oozie.last_error_node(dag_run, ti) }}',
        html_content='{{ oozie.error_message(dag_run, oozie.last_error_node(dag_run, ti), ti) }}',
        cc=['lead@example.com'],
        bcc=['audit@example.com'],
        files=['hdfs://namenode:8020/logs/a.log', 'hdfs://namenode:8020/logs/b.log'],
        trigger_rule='none_failed_min_one_success',
    )
    fail__on_error = PythonOperator(
        task_id='fail__on_error',
        python_callable=oozie_kill,
        op_kwargs={'message': 'recover failed'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'recover failed'},
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )
    end = EmptyOperator(
        task_id='end',
        doc_md="Oozie end node 'end'.",
        trigger_rule='none_failed_min_one_success',
    )
    dates__route = BranchPythonOperator(
        task_id='dates__route',
        python_callable=oozie_route,
        op_kwargs={'watched': ['dates'], 'ok': 'any-dates', 'error': 'alert'},
        trigger_rule='all_done',
        doc_md="Oozie transitions of 'dates': ok to 'any-dates', error to 'alert'.",
    )
    group__route = BranchPythonOperator(
        task_id='group__route',
        python_callable=oozie_route,
        op_kwargs={'watched': ['group'], 'ok': 'remote', 'error': 'alert'},
        trigger_rule='all_done',
        doc_md="Oozie transitions of 'group': ok to 'remote', error to 'alert'.",
    )
    remote__route = BranchPythonOperator(
        task_id='remote__route',
        python_callable=oozie_route,
        op_kwargs={'watched': ['remote'], 'ok': 'end', 'error': 'alert'},
        trigger_rule='all_done',
        doc_md="Oozie transitions of 'remote': ok to 'end', error to 'alert'.",
    )

    dates >> dates__route
    any_dates >> [group, end]
    group >> group__route
    remote >> remote__route
    alert >> [fail__on_error, fail]
    dates__route >> [any_dates, alert]
    group__route >> [remote, alert]
    remote__route >> [alert, end]
