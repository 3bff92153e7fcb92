"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- approximated workflow.xml:48 (action shell-node): wf:user(): property user.name is not defined; translated as the
  DAG owner
- approximated workflow.xml:48 (action shell-node): file/archive run.sh: Oozie ships them to the task's working
  directory; bake them into the image or mount them
- approximated workflow.xml:77 (kill fail): wf:errorMessage(): Airflow does not keep the error text; the message
  names the failed task (its log has the cause)
- approximated workflow.xml:77 (kill fail): wf:lastErrorNode() gives the task id of the last failed task

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6, apache/hive:4.0.0
"""

from __future__ import annotations

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS


def oozie_decision(cases: list[list[str]], default: str) -> str:
    """Oozie switch/case: the first case whose predicate rendered true wins, else the default."""
    for predicate, target in cases:
        if str(predicate).strip().lower() == "true":
            return target
    return default


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='params-0.4',
    description="Oozie workflow 'params-0.4'",
    doc_md=__doc__,
    schedule=None,
    params={
        'inputDir': Param('hdfs://namenode:8020/data/in', type='string'),
        'jobTracker': Param('jobtracker:8021', type='string'),
        'mode': Param('full', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
        'queueName': Param('from-config-default', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    route = BranchPythonOperator(
        task_id='route',
        python_callable=oozie_decision,
        op_kwargs={
            'cases': [
                [
                    (
                        "{{ ((oozie.first_not_null(params['mode'], 'full') == 'full') and "
                        "(oozie.trim(oozie.concat(params['mode'], ' ')) == 'full')) }}"
                    ),
                    'touch',
                ],
                [
                    (
                        "{{ ((oozie.to_str(oozie.replace_all(oozie.url_encode(params['inputDir']), '%2F', '/')) != "
                        "'') or (oozie.timestamp() > '2026')) }}"
                    ),
                    'hive-node',
                ],
            ],
            'default': 'end',
        },
        doc_md="Oozie decision 'route': the first true case wins.",
    )
    touch = KubernetesPodOperator(
        task_id='touch',
        name='touch',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-touchz', 'hdfs://namenode:8020/flags/{{ run_id }}'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    shell_node = KubernetesPodOperator(
        task_id='shell-node',
        name='shell-node',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['run.sh'],
        arguments=['hdfs://namenode:8020/data/in', '{{ dag.owner }}'],
        env_vars={'QUEUE': 'from-config-default', 'EMPTY': ''},
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    hive_node = KubernetesPodOperator(
        task_id='hive-node',
        name='hive-node',
        namespace='default',
        image='apache/hive:4.0.0',
        cmds=['hive'],
        arguments=[
            '--hiveconf',
            'from.global.job.xml=yes',
            '--hiveconf',
            'global.only=g',
            '--hiveconf',
            'level=global-inline',
            '--hivevar',
            'INPUT=hdfs://namenode:8020/data/in',
            '-f',
            'load.q',
            '--hiveconf',
            'mapreduce.job.queuename=from-config-default',
        ],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
        trigger_rule='none_failed_min_one_success',
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={
            'message': 'params failed [{{ oozie.error_message(dag_run, oozie.last_error_node(dag_run, ti), ti) }}]',
        },
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )
    end = EmptyOperator(
        task_id='end',
        doc_md="Oozie end node 'end'.",
        trigger_rule='none_failed_min_one_success',
    )

    route >> [touch, hive_node, end]
    touch >> [shell_node, fail]
    shell_node >> [hive_node, fail]
    hive_node >> [fail, end]
