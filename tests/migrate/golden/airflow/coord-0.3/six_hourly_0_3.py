"""Oozie coordinator migrated by `sparkk8s migrate oozie`.

Generated from: coordinator.xml, workflow.xml

Review before use:
- OOZIE-UNSUPPORTED coordinator.xml:3 (configuration inputDir): ${coord:dataIn('last-quarter')}: EL function
  coord:dataIn is not supported: dataset URIs are resolved by Oozie's input dependency check, which is not migrated
- OOZIE-UNSUPPORTED coordinator.xml:22 (input-event last-quarter): data-in 'last-quarter' (dataset 'monthly',
  hdfs://namenode:8020/monthly/${YEAR}/${MONTH}): no generic sensor for a done-flag; a placeholder task marks where
  to wait
- approximated coordinator.xml:3 (coordinator controls): execution NONE: translated as catchup=False (Airflow
  schedules only the latest missed run); Argo skips runs more than 60 s late
- approximated coordinator.xml:3 (coordinator controls): throttle 2 (the number of materialized waiting actions) has
  no equivalent; not mapped
- approximated workflow.xml:13 (kill fail): wf:errorMessage(): Airflow does not keep the error text; the message
  names the failed task (its log has the cause)
- approximated workflow.xml:13 (kill fail): wf:lastErrorNode() gives the task id of the last failed task
- approximated coordinator.xml:28 (output-event report): data-out 'report' (dataset 'reports') is not declared; add
  an Asset outlet if other DAGs depend on it

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
    dag_id='six-hourly-0.3',
    description="Oozie coordinator 'six-hourly-0.3'",
    doc_md=__doc__,
    schedule='0 */6 * * *',
    start_date=pendulum.datetime(2026, 1, 1, 0, 0, tz='UTC'),
    end_date=pendulum.datetime(2026, 6, 1, 0, 0, tz='UTC'),
    max_active_runs=2,
    catchup=False,
    params={},
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    # OOZIE-UNSUPPORTED: coordinator.xml:22: data-in 'last-quarter' (dataset 'monthly',
    #   hdfs://namenode:8020/monthly/${YEAR}/${MONTH}): no generic sensor for a done-flag; a placeholder task
    #   marks where to wait
    wait_for_last_quarter = EmptyOperator(
        task_id='wait_for_last-quarter',
        doc_md=(
            "Placeholder for Oozie data-in 'last-quarter': wait for dataset 'monthly' "
            '(hdfs://namenode:8020/monthly/${YEAR}/${MONTH}, done-flag _SUCCESS, instances ${coord:current(-3)} .. '
            '${coord:current(-1)}). Replace it with a sensor for your storage (e.g. an S3KeySensor on the done-flag) '
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
            '{{ "<oozie-el-unsupported: ${coord:dataIn(\'last-quarter\')}>" }}',
            "{{ (oozie.date_offset(oozie.nominal_time(logical_date or dag_run.run_after), -6, 'HOUR')) }}",
        ],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={
            'message': (
                'coord-0.3-wf failed: {{ oozie.error_message(dag_run, oozie.last_error_node(dag_run, ti), ti) }}'
            ),
        },
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    wait_for_last_quarter >> process
    process >> fail
