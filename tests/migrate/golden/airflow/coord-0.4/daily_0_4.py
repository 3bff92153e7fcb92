"""Oozie coordinator migrated by `sparkk8s migrate oozie`.

Generated from: coordinator.xml, workflow.xml

Review before use:
- OOZIE-UNSUPPORTED coordinator.xml:3 (configuration inputDir): ${coord:dataIn('week')}: EL function coord:dataIn is
  not supported: dataset URIs are resolved by Oozie's input dependency check, which is not migrated
- OOZIE-UNSUPPORTED coordinator.xml:28 (input-event week): data-in 'week' (dataset 'weekly',
  hdfs://namenode:8020/weekly/${YEAR}/${MONTH}/${DAY}): no generic sensor for a done-flag; a placeholder task marks
  where to wait
- OOZIE-UNSUPPORTED coordinator.xml:31 (input-event today): data-in 'today' (dataset 'local',
  hdfs://namenode:8020/local/${YEAR}-${MONTH}-${DAY}): no generic sensor for a done-flag; a placeholder task marks
  where to wait
- approximated workflow.xml:13 (kill fail): wf:errorMessage(): Airflow does not keep the error text; the message
  names the failed task (its log has the cause)
- approximated workflow.xml:13 (kill fail): wf:lastErrorNode() gives the task id of the last failed task

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6
"""

from __future__ import annotations

import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='daily-0.4',
    description="Oozie coordinator 'daily-0.4'",
    doc_md=__doc__,
    schedule='0 0 * * *',
    start_date=pendulum.datetime(2026, 1, 1, 0, 0, tz='UTC'),
    end_date=pendulum.datetime(2027, 1, 1, 0, 0, tz='UTC'),
    max_active_runs=1,
    catchup=True,
    params={
        'coordName': Param('daily-0.4', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
        'start': Param('2026-01-01T00:00Z', type='string'),
        'tz': Param('UTC', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    # OOZIE-UNSUPPORTED: coordinator.xml:28: data-in 'week' (dataset 'weekly',
    #   hdfs://namenode:8020/weekly/${YEAR}/${MONTH}/${DAY}): no generic sensor for a done-flag; a placeholder
    #   task marks where to wait
    wait_for_week = EmptyOperator(
        task_id='wait_for_week',
        doc_md=(
            "Placeholder for Oozie data-in 'week': wait for dataset 'weekly' "
            '(hdfs://namenode:8020/weekly/${YEAR}/${MONTH}/${DAY}, done-flag _DONE, instances ${coord:current(0)}). '
            'Replace it with a sensor for your storage (e.g. an S3KeySensor on the done-flag) or an Asset schedule.'
        ),
    )
    # OOZIE-UNSUPPORTED: coordinator.xml:31: data-in 'today' (dataset 'local',
    #   hdfs://namenode:8020/local/${YEAR}-${MONTH}-${DAY}): no generic sensor for a done-flag; a placeholder task
    #   marks where to wait
    wait_for_today = EmptyOperator(
        task_id='wait_for_today',
        doc_md=(
            "Placeholder for Oozie data-in 'today': wait for dataset 'local' "
            '(hdfs://namenode:8020/local/${YEAR}-${MONTH}-${DAY}, done-flag _SUCCESS, instances '
            '${coord:current(0)}). Replace it with a sensor for your storage (e.g. an S3KeySensor on the done-flag) '
            'or an Asset schedule.'
        ),
    )
    process = KubernetesPodOperator(
        task_id='process',
        name='process',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['process.sh'],
        arguments=[
            '{{ "<oozie-el-unsupported: ${coord:dataIn(\'week\')}>" }}',
            '{{ (oozie.nominal_time(logical_date or dag_run.run_after)) }}',
        ],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={
            'message': (
                'coord-0.4-wf failed: {{ oozie.error_message(dag_run, oozie.last_error_node(dag_run, ti), ti) }}'
            ),
        },
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    wait_for_week >> process
    wait_for_today >> process
    process >> fail
