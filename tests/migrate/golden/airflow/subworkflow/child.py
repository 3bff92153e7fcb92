"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: child/workflow.xml

Review before use:
- OOZIE-UNSUPPORTED child/workflow.xml:4 (action work): ${childInput}: property 'childInput' is not defined
  (job.properties, config-default.xml or <parameters>)

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6
"""

from __future__ import annotations

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='child',
    description="Oozie workflow 'child'",
    doc_md=__doc__,
    schedule=None,
    params={
        'appRoot': Param('hdfs://namenode:8020/user/etl/apps/subworkflow', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    # OOZIE-UNSUPPORTED: child/workflow.xml:4: ${childInput}: property 'childInput' is not defined
    #   (job.properties, config-default.xml or <parameters>)
    work = KubernetesPodOperator(
        task_id='work',
        name='work',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['work.sh'],
        arguments=['<oozie-el-unsupported: ${childInput}>'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'child failed'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    work >> fail
