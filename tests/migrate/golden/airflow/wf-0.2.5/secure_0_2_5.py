"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- approximated workflow.xml:23 (action hive-node): credentials hcat: give the pod a service account or secrets
  instead
- approximated workflow.xml:33 (action beeline): hive2 password dropped from the command line: pass it from a
  Kubernetes Secret (beeline -p)
- approximated workflow.xml:33 (action beeline): credentials hcat, hs2: give the pod a service account or secrets
  instead

Container images (check they hold the tools the commands need): apache/hive:4.0.0
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
    dag_id='secure-0.2.5',
    description="Oozie workflow 'secure-0.2.5'",
    doc_md=__doc__,
    schedule=None,
    params={
        'day': Param('2026-01-01', type='string'),
        'jdbcUrl': Param('jdbc:hive2://hs2:10000/default', type='string'),
        'jobTracker': Param('jobtracker:8021', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    hive_node = KubernetesPodOperator(
        task_id='hive-node',
        name='hive-node',
        namespace='default',
        image='apache/hive:4.0.0',
        cmds=['hive'],
        arguments=['--hivevar', 'DAY=2026-01-01', '-f', 'daily.q'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    beeline = KubernetesPodOperator(
        task_id='beeline',
        name='beeline',
        namespace='default',
        image='apache/hive:4.0.0',
        cmds=['beeline'],
        arguments=[
            '-u',
            'jdbc:hive2://hs2:10000/default',
            '--hivevar',
            'DAY=2026-01-01',
            '-f',
            'report.q',
            '--verbose',
        ],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'secure failed'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    hive_node >> [beeline, fail]
    beeline >> fail
