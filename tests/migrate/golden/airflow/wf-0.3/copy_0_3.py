"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- nothing reported

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6, apache/sqoop:1.4.7
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='copy-0.3',
    description="Oozie workflow 'copy-0.3'",
    doc_md=__doc__,
    schedule=None,
    params={
        'jobTracker': Param('jobtracker:8021', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    t_import = KubernetesPodOperator(
        task_id='import',
        name='import',
        namespace='default',
        image='apache/sqoop:1.4.7',
        cmds=['sqoop'],
        arguments=['import', '--connect', 'jdbc:mysql://db/sales', '--table', 'orders', '--target-dir', '/data/orders'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
        retries=2,
        retry_delay=timedelta(minutes=10),
    )
    copy = KubernetesPodOperator(
        task_id='copy',
        name='copy',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hadoop'],
        arguments=['distcp', 'hdfs://namenode:8020/data/orders', 's3a://archive/orders'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'copy failed'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    t_import >> [copy, fail]
    copy >> fail
