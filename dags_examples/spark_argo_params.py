"""Run-time parameters for Spark and Argo: "Trigger DAG w/ config" in the UI shows a form built from the
DAG's `params` (types, defaults, descriptions, checked before the run is created), and the values reach
the Spark application's conf and arguments and the Argo workflow's parameters through templated fields.

The Spark task uses the pod launcher: spark-submit runs in a pod from the Spark image inside the cluster,
so the worker needs neither Java nor Spark and the submission does not depend on the worker's resources.
The Argo task submits `spark-app-workflow-template` (manifests/spark-app-workflow-template.yaml) through
the Argo Server of the `argo_workflows_default` connection. Both wait deferred, in the triggerer.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

with DAG(
    dag_id="spark_argo_params",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["spark", "argo", "example"],
    params={
        "partitions": Param(100, type="integer", minimum=1, maximum=10_000, title="Pi partitions",
                            description="Argument of pi.py: the number of partitions (and tasks) to sample."),
        "executor_instances": Param(2, type="integer", minimum=1, maximum=20, title="Executors",
                                    description="spark.executor.instances of the Spark application."),
        "shuffle_partitions": Param(64, type="integer", minimum=1, title="Shuffle partitions",
                                    description="spark.sql.shuffle.partitions of the Spark application."),
        "environment": Param("dev", type="string", enum=["dev", "staging", "prod"], title="Environment",
                             description="Set as the environment label of the Spark driver pod."),
        "job_file": Param("/mounted/volume/spark-apps/my-spark-app.py", type="string", minLength=1,
                          title="Argo job file", description="The sparkJobFilePath parameter of the Argo workflow: "
                                                             "the application its spark-submit step runs."),
    },
) as dag:
    SparkK8sOperator(
        task_id="spark_pi",
        launcher="pod",
        application="local:///opt/spark/examples/src/main/python/pi.py",
        application_args=["{{ params.partitions }}"],
        conf={
            "spark.executor.instances": "{{ params.executor_instances }}",
            "spark.sql.shuffle.partitions": "{{ params.shuffle_partitions }}",
            "spark.kubernetes.driver.label.environment": "{{ params.environment }}",
        },
        image="apache/spark:4.0.1",
        namespace="spark-jobs",
        service_account_name="spark",
        deferrable=True,
    )
    ArgoWorkflowOperator(
        task_id="argo_spark_app",
        workflow_template="spark-app-workflow-template",
        parameters={"sparkJobFilePath": "{{ params.job_file }}"},
        namespace="argo",
        argo_conn_id="argo_workflows_default",
        wait_timeout=3600,
        deferrable=True,
    )
