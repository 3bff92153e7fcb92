"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- OOZIE-UNSUPPORTED workflow.xml:26 (action run-elsewhere): sub-workflow
  'hdfs://namenode:8020/user/shared/apps/not-in-this-input' is not in the input: migrate it too, as DAG
  'not-in-this-input'
- approximated workflow.xml:33 (kill fail): wf:lastErrorNode() gives the task id of the last failed task
"""

from __future__ import annotations

from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='parent',
    description="Oozie workflow 'parent'",
    doc_md=__doc__,
    schedule=None,
    params={
        'appRoot': Param('hdfs://namenode:8020/user/etl/apps/subworkflow', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    run_child = TriggerDagRunOperator(
        task_id='run-child',
        trigger_dag_id='child',
        wait_for_completion=True,
        poke_interval=30,
        conf={
            'appRoot': "{{ params['appRoot'] }}",
            'childInput': 'hdfs://namenode:8020/user/etl/apps/subworkflow/input',
            'nameNode': "{{ params['nameNode'] }}",
        },
    )
    run_again = TriggerDagRunOperator(
        task_id='run-again',
        trigger_dag_id='child',
        wait_for_completion=True,
        poke_interval=30,
        conf={},
    )
    # OOZIE-UNSUPPORTED: workflow.xml:26: sub-workflow 'hdfs://namenode:8020/user/shared/apps/not-in-this-input'
    #   is not in the input: migrate it too, as DAG 'not-in-this-input'
    run_elsewhere = TriggerDagRunOperator(
        task_id='run-elsewhere',
        trigger_dag_id='not-in-this-input',
        wait_for_completion=True,
        poke_interval=30,
        conf={},
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'parent failed in {{ oozie.last_error_node(dag_run, ti) }}'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    run_child >> [run_again, fail]
    run_again >> [run_elsewhere, fail]
    run_elsewhere >> fail
