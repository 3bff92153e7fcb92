"""Oozie coordinator migrated by `sparkk8s migrate oozie`.

Generated from: coordinator.xml, workflow.xml

Review before use:
- OOZIE-UNSUPPORTED coordinator.xml:3 (configuration inputDir): ${coord:dataIn('either')}: EL function coord:dataIn
  is not supported: dataset URIs are resolved by Oozie's input dependency check, which is not migrated
- OOZIE-UNSUPPORTED coordinator.xml:20 (input-event primary-in): data-in 'primary-in' (dataset 'primary',
  hdfs://namenode:8020/primary/${YEAR}/${MONTH}/${DAY}): no generic sensor for a done-flag; a placeholder task marks
  where to wait
- OOZIE-UNSUPPORTED coordinator.xml:23 (input-event backup-in): data-in 'backup-in' (dataset 'backup',
  s3a://backup/primary/${YEAR}/${MONTH}/${DAY}): no generic sensor for a done-flag; a placeholder task marks where
  to wait
- approximated coordinator.xml:3 (coordinator controls): throttle 1 (the number of materialized waiting actions) has
  no equivalent; not mapped
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
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='monthly-0.5',
    description="Oozie coordinator 'monthly-0.5'",
    doc_md=__doc__,
    schedule='0 0 1 * *',
    start_date=pendulum.datetime(2026, 1, 1, 0, 0, tz='UTC'),
    end_date=pendulum.datetime(2027, 1, 1, 0, 0, tz='UTC'),
    max_active_runs=1,
    catchup=True,
    params={},
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    # OOZIE-UNSUPPORTED: coordinator.xml:20: data-in 'primary-in' (dataset 'primary',
    #   hdfs://namenode:8020/primary/${YEAR}/${MONTH}/${DAY}): no generic sensor for a done-flag; a placeholder
    #   task marks where to wait
    wait_for_primary_in = EmptyOperator(
        task_id='wait_for_primary-in',
        doc_md=(
            "Placeholder for Oozie data-in 'primary-in': wait for dataset 'primary' "
            '(hdfs://namenode:8020/primary/${YEAR}/${MONTH}/${DAY}, done-flag _SUCCESS, instances '
            '${coord:current(-1)}). Replace it with a sensor for your storage (e.g. an S3KeySensor on the done-flag) '
            'or an Asset schedule.'
        ),
    )
    # OOZIE-UNSUPPORTED: coordinator.xml:23: data-in 'backup-in' (dataset 'backup',
    #   s3a://backup/primary/${YEAR}/${MONTH}/${DAY}): no generic sensor for a done-flag; a placeholder task marks
    #   where to wait
    wait_for_backup_in = EmptyOperator(
        task_id='wait_for_backup-in',
        doc_md=(
            "Placeholder for Oozie data-in 'backup-in': wait for dataset 'backup' "
            '(s3a://backup/primary/${YEAR}/${MONTH}/${DAY}, done-flag _SUCCESS, instances ${coord:current(-1)}). '
            'Replace it with a sensor for your storage (e.g. an S3KeySensor on the done-flag) or an Asset schedule.'
        ),
    )
    process = KubernetesPodOperator(
        task_id='process',
        name='process',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['process.sh'],
        arguments=[
            '{{ "<oozie-el-unsupported: ${coord:dataIn(\'either\')}>" }}',
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
                'coord-0.5-wf failed: {{ oozie.error_message(dag_run, oozie.last_error_node(dag_run, ti), ti) }}'
            ),
        },
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    wait_for_primary_in >> process
    wait_for_backup_in >> process
    process >> fail
