"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: cleanup/workflow.xml

Review before use:
- OOZIE-UNSUPPORTED cleanup/workflow.xml:6 (action rm): ${target}: property 'target' is not defined (job.properties,
  config-default.xml or <parameters>)

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
    dag_id='cleanup',
    description="Oozie workflow 'cleanup'",
    doc_md=__doc__,
    schedule=None,
    params={
        'nameNode': Param('hdfs://namenode:8020', type='string'),
        'resourceManager': Param('resourcemanager:8032', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    # OOZIE-UNSUPPORTED: cleanup/workflow.xml:6: ${target}: property 'target' is not defined (job.properties,
    #   config-default.xml or <parameters>)
    rm = KubernetesPodOperator(
        task_id='rm',
        name='rm',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-rm', '-r', '-f', '<oozie-el-unsupported: ${target}>'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'cleanup failed'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    rm >> fail
