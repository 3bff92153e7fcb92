"""SparkPi in cluster mode through the Kubeflow spark-operator: the task creates a SparkApplication and
follows `status.applicationState.state`, honouring its restart policy."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator
from airflow_provider_sparkk8s.sensors.spark import SparkK8sSensor

with DAG(
    dag_id="spark_pi_spark_operator",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["spark", "example"],
) as dag:
    pi = SparkK8sOperator(
        task_id="pi",
        launcher="spark-operator",
        application="local:///opt/spark/examples/jars/spark-examples.jar",
        main_class="org.apache.spark.examples.SparkPi",
        application_args=["100"],
        image="apache/spark:4.0.1",
        namespace="spark-jobs",
        service_account_name="spark",
        executor_instances=2,
        restart_policy={"type": "OnFailure", "onFailureRetries": 2, "onFailureRetryInterval": 10,
                        "onSubmissionFailureRetries": 1, "onSubmissionFailureRetryInterval": 10},
    )
    # A downstream gate on the same application, e.g. in another DAG: wait by SparkApplication name.
    confirmed = SparkK8sSensor(
        task_id="confirm_pi",
        application_name="{{ ti.xcom_pull(task_ids='pi')['application'] }}",
        namespace="spark-jobs",
        poke_interval=10,
        timeout=3600,
    )
    pi >> confirmed
