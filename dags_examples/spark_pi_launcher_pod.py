"""SparkPi in cluster mode, submitted from a launcher pod inside the cluster.

The worker needs neither Java nor Spark: a pod from the Spark image runs spark-submit against the
in-cluster API server, then the task follows the driver pod it started.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

with DAG(
    dag_id="spark_pi_launcher_pod",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["spark", "example"],
) as dag:
    SparkK8sOperator(
        task_id="pi",
        launcher="pod",
        application="local:///opt/spark/examples/src/main/python/pi.py",
        application_args=["100"],
        image="apache/spark:4.0.1",
        namespace="spark-jobs",
        service_account_name="spark",
        executor_instances=2,
    )
