"""Oozie coordinator migrated by `sparkk8s migrate oozie`.

Generated from: coordinator.xml, workflow.xml

Review before use:
- approximated coordinator.xml:3 (coordinator frequency): Oozie evaluates cron frequencies in the server's
  processing timezone (UTC unless oozie.processing.timezone says otherwise), not in the coordinator timezone
  America/New_York; the schedule uses UTC
- approximated coordinator.xml:3 (coordinator controls): execution LIFO: Airflow catches up oldest first (FIFO)
- approximated coordinator.xml:3 (coordinator controls): throttle 6 (the number of materialized waiting actions) has
  no equivalent; not mapped
- approximated workflow.xml:13 (kill fail): wf:errorMessage(): Airflow does not keep the error text; the message
  names the failed task (its log has the cause)
- approximated workflow.xml:13 (kill fail): wf:lastErrorNode() gives the task id of the last failed task

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6
"""

from __future__ import annotations

import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='weekdays-0.2',
    description="Oozie coordinator 'weekdays-0.2'",
    doc_md=__doc__,
    schedule='0 15 * * 1-5',
    start_date=pendulum.datetime(2026, 2, 1, 15, 0, tz='UTC'),
    end_date=pendulum.datetime(2026, 3, 1, 15, 0, tz='UTC'),
    max_active_runs=3,
    catchup=True,
    params={
        'appPath': Param('hdfs://namenode:8020/user/etl/apps/coord-0.2/workflow.xml', type='string'),
        'end': Param('2026-03-01T15:00Z', type='string'),
        'start': Param('2026-02-01T15:00Z', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    process = KubernetesPodOperator(
        task_id='process',
        name='process',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['process.sh'],
        arguments=[
            "{{ '/data/in' }}",
            "{{ (oozie.format_time(oozie.nominal_time(logical_date or dag_run.run_after), 'yyyy-MM-dd')) }}",
        ],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={
            'message': (
                'coord-0.2-wf failed: {{ oozie.error_message(dag_run, oozie.last_error_node(dag_run, ti), ti) }}'
            ),
        },
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    process >> fail
