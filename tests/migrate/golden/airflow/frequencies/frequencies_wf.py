"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- OOZIE-UNSUPPORTED workflow.xml:4 (action process): ${inputDir}: property 'inputDir' is not defined
  (job.properties, config-default.xml or <parameters>)
- OOZIE-UNSUPPORTED workflow.xml:4 (action process): ${nominal}: property 'nominal' is not defined (job.properties,
  config-default.xml or <parameters>)
- approximated workflow.xml:13 (kill fail): wf:errorMessage(): Airflow does not keep the error text; the message
  names the failed task (its log has the cause)
- approximated workflow.xml:13 (kill fail): wf:lastErrorNode() gives the task id of the last failed task

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6
"""

from __future__ import annotations

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='frequencies-wf',
    description="Oozie workflow 'frequencies-wf'",
    doc_md=__doc__,
    schedule=None,
    params={},
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    # OOZIE-UNSUPPORTED: workflow.xml:4: ${inputDir}: property 'inputDir' is not defined (job.properties,
    #   config-default.xml or <parameters>)
    # OOZIE-UNSUPPORTED: workflow.xml:4: ${nominal}: property 'nominal' is not defined (job.properties,
    #   config-default.xml or <parameters>)
    process = KubernetesPodOperator(
        task_id='process',
        name='process',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['process.sh'],
        arguments=['<oozie-el-unsupported: ${inputDir}>', '<oozie-el-unsupported: ${nominal}>'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={
            'message': (
                'frequencies-wf failed: {{ oozie.error_message(dag_run, oozie.last_error_node(dag_run, ti), ti) }}'
            ),
        },
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    process >> fail
