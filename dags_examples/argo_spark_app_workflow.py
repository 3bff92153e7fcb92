"""Run a Spark application through Argo Workflows: submit the `spark-app-workflow-template`
WorkflowTemplate (manifests/spark-app-workflow-template.yaml) with the job file as a parameter, wait for
the workflow, then gate on it with a sensor as a downstream DAG would."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator
from airflow_provider_sparkk8s.sensors.argo import ArgoWorkflowSensor

# None: create the Workflow through the Kubernetes API of `kubernetes_default` (RBAC:
# manifests/argo-rbac.yaml). "argo_workflows_default": go through the Argo Server instead.
ARGO_CONN_ID = None

with DAG(
    dag_id="argo_spark_app_workflow",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["argo", "spark", "example"],
) as dag:
    spark_app = ArgoWorkflowOperator(
        task_id="spark_app",
        workflow_template="spark-app-workflow-template",
        parameters={"sparkJobFilePath": "/mounted/volume/spark-apps/my-spark-app.py"},
        namespace="argo",
        argo_conn_id=ARGO_CONN_ID,
        wait_timeout=3600,  # the task fails and the workflow is stopped after an hour
        kill_action="stop",  # a user kill stops the workflow; its exit handlers still run
        deferrable=True,
    )
    # What a downstream DAG would do with a workflow it did not start: wait for it by name.
    confirmed = ArgoWorkflowSensor(
        task_id="confirm_spark_app",
        workflow_name="{{ ti.xcom_pull(task_ids='spark_app')['name'] }}",
        namespace="argo",
        argo_conn_id=ARGO_CONN_ID,
        poke_interval=10,
        timeout=3600,
    )
    spark_app >> confirmed
