"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- OOZIE-UNSUPPORTED workflow.xml:57 (action ping): action <http> (uri:oozie:workflow:0.1) has no Airflow equivalent;
  the task fails until it is replaced
- approximated workflow.xml:10 (action cleanup): fs chmod dir-files='false' is applied to the path only when not
  recursive
- approximated workflow.xml:15 (action wordcount): map-reduce streaming runs `mapred streaming` in a pod; consider
  rewriting it as a Spark job
- approximated workflow.xml:15 (action wordcount): file/archive scripts/mapper.sh: Oozie ships them to the task's
  working directory; bake them into the image or mount them
- approximated workflow.xml:37 (action remote): wf:user(): property user.name is not defined; translated as the DAG
  owner
- approximated workflow.xml:37 (action remote): ssh runs from a pod: mount the private key (a Secret) and
  known_hosts; the remote side joins the command and its arguments into one shell line
- approximated workflow.xml:37 (action remote): capture-output: the command runs under a fixed sh/awk wrapper that
  turns its stdout (key=value lines) into the task's XCom; the image needs sh and awk
- approximated workflow.xml:48 (action notify): wf:user(): property user.name is not defined; translated as the DAG
  owner
- approximated workflow.xml:66 (kill fail): wf:errorMessage(): Airflow does not keep the error text; the message
  names the failed task (its log has the cause)
- approximated workflow.xml:66 (kill fail): wf:lastErrorNode() gives the task id of the last failed task

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6, kroniak/ssh-client:3.19
"""

from __future__ import annotations

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.smtp.operators.smtp import EmailOperator
from airflow.providers.standard.operators.python import PythonOperator
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


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='legacy-0.1',
    description="Oozie workflow 'legacy-0.1'",
    doc_md=__doc__,
    schedule=None,
    params={
        'jobTracker': Param('jobtracker:8021', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    cleanup__1_delete = KubernetesPodOperator(
        task_id='cleanup__1_delete',
        name='cleanup-1-delete',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-rm', '-r', '-f', 'hdfs://namenode:8020/tmp/legacy'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    cleanup__2_mkdir = KubernetesPodOperator(
        task_id='cleanup__2_mkdir',
        name='cleanup-2-mkdir',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-mkdir', '-p', 'hdfs://namenode:8020/tmp/legacy'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    cleanup__3_move = KubernetesPodOperator(
        task_id='cleanup__3_move',
        name='cleanup-3-move',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-mv', 'hdfs://namenode:8020/tmp/in', 'hdfs://namenode:8020/tmp/legacy/in'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    cleanup__4_chmod = KubernetesPodOperator(
        task_id='cleanup__4_chmod',
        name='cleanup-4-chmod',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-chmod', '755', 'hdfs://namenode:8020/tmp/legacy'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    wordcount = KubernetesPodOperator(
        task_id='wordcount',
        name='wordcount',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['mapred'],
        arguments=[
            'streaming',
            '-D',
            'mapred.input.dir=/tmp/legacy/in',
            '-mapper',
            '/bin/cat',
            '-reducer',
            '/usr/bin/wc',
            '-input',
            '/tmp/legacy/in',
        ],
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
            'oozie@edge.example.com',
            '/opt/scripts/report.sh',
            '{{ run_id }}',
            '{{ dag.owner }}',
        ],
        do_xcom_push=True,
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    notify = EmailOperator(
        task_id='notify',
        to=['ops@example.com', 'data@example.com'],
        subject='legacy legacy-0.1 done',
        html_content='run {{ run_id }} by {{ dag.owner }}',
    )
    # OOZIE-UNSUPPORTED: workflow.xml:57: action <http> (uri:oozie:workflow:0.1) has no Airflow equivalent; the
    #   task fails until it is replaced
    ping = PythonOperator(
        task_id='ping',
        python_callable=oozie_kill,
        op_kwargs={'message': "Oozie action 'ping' (<http> (uri:oozie:workflow:0.1)) was not migrated"},
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={
            'message': 'legacy failed: {{ oozie.error_message(dag_run, oozie.last_error_node(dag_run, ti), ti) }}',
        },
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    cleanup__1_delete >> [cleanup__2_mkdir, fail]
    cleanup__2_mkdir >> [cleanup__3_move, fail]
    cleanup__3_move >> [cleanup__4_chmod, fail]
    cleanup__4_chmod >> [wordcount, fail]
    wordcount >> [remote, fail]
    remote >> [notify, fail]
    notify >> [ping, fail]
    ping >> fail
