"""Oozie coordinator migrated by `sparkk8s migrate oozie`.

Generated from: coord-b/coordinator.xml, workflow/workflow.xml

Review before use:
- approximated workflow/workflow.xml:4 (action load): application
  'hdfs://namenode:8020/user/etl/apps/bundle/jobs/load.py' is on HDFS: remap it to local://, s3a:// or https:// (the
  image or object storage)
- approximated workflow/workflow.xml:4 (action load): master 'yarn', mode 'cluster': dropped; the application runs
  in cluster mode on Kubernetes
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='sales-nightly',
    description="Oozie coordinator 'sales-nightly'",
    doc_md=__doc__,
    schedule='30 1 * * *',
    start_date=pendulum.datetime(2026, 1, 1, 0, 0, tz='UTC'),
    end_date=pendulum.datetime(2027, 1, 1, 0, 0, tz='UTC'),
    max_active_runs=1,
    catchup=True,
    params={
        'bundleRoot': Param('hdfs://namenode:8020/user/etl/apps/bundle', type='string'),
        'kickOff': Param('2026-01-01T00:00Z', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
        'oozie.bundle.application.path': Param('hdfs://namenode:8020/user/etl/apps/bundle', type='string'),
        'region': Param('eu', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
    is_paused_upon_creation=True,
) as dag:
    load = SparkK8sOperator(
        task_id='load',
        application='hdfs://namenode:8020/user/etl/apps/bundle/jobs/load.py',
        name='sales-eu',
        application_args=[
            "{{ (oozie.format_time(oozie.nominal_time(logical_date or dag_run.run_after), 'yyyyMMddHH')) }}",
        ],
        image='apache/spark:4.0.1',
        namespace='default',
        launcher='spark-submit',
        kubernetes_conn_id='kubernetes_default',
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'sales load failed'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    load >> fail
