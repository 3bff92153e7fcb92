"""SparkPi in cluster mode, submitted by spark-submit from the Airflow worker.

The worker needs Java and Spark (`pip install pyspark` ships spark-submit). Credentials come from the
`kubernetes_default` connection and never appear on spark-submit's command line.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

with DAG(
    dag_id="spark_pi_spark_submit",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["spark", "example"],
) as dag:
    SparkK8sOperator(
        task_id="pi",
        launcher="spark-submit",
        application="local:///opt/spark/examples/src/main/python/pi.py",
        application_args=["100"],
        image="apache/spark:4.0.1",
        namespace="spark-jobs",
        service_account_name="spark",
        executor_instances=2,
        driver_memory="1g",
        executor_memory="1g",
    )
