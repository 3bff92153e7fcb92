"""SparkPi every night at 23:00 in Amsterdam, except on the calendar's exclusion dates, scheduled by the same
Argo Events calendar EventSource the cluster uses (manifests/calendar-source.yaml, read when the DAG file is
parsed). Runs start exactly when Argo Events would send the event: Argo's cron dialect, DST rules and
exclusion dates apply, not croniter's. The application sizes itself with dynamic allocation: executor pods come
while its tasks wait and go when idle.

To move this schedule to Argo Events, render the EventSource and a Sensor that submits a WorkflowTemplate:

    python -c "import spark_nightly_argo_calendar as d; \
print(d.NIGHTLY.to_argo_events_yaml('spark-app-workflow-template', namespace='argo-events'))"
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator
from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable

NIGHTLY = ArgoCalendarTimetable(event_source_file="manifests/calendar-source.yaml", event_name="schedule-a")

with DAG(
    dag_id="spark_nightly_argo_calendar",
    doc_md=__doc__,
    schedule=NIGHTLY,
    start_date=datetime(2026, 11, 1),
    catchup=False,
    tags=["argo-events", "spark", "example"],
) as dag:
    SparkK8sOperator(
        task_id="pi",
        launcher="spark-operator",
        application="local:///opt/spark/examples/jars/spark-examples.jar",
        main_class="org.apache.spark.examples.SparkPi",
        application_args=["100"],
        image="apache/spark:4.0.1",
        namespace="spark-jobs",
        service_account_name="spark",
        # No fixed executor count: the driver asks for executor pods while tasks wait and removes idle ones
        # (shuffle tracking stands in for the external shuffle service, which Kubernetes does not have).
        conf={
            "spark.dynamicAllocation.enabled": "true",
            "spark.dynamicAllocation.shuffleTracking.enabled": "true",
            "spark.dynamicAllocation.minExecutors": "0",
            "spark.dynamicAllocation.maxExecutors": "4",
            "spark.dynamicAllocation.executorIdleTimeout": "30s",
        },
        # The run's logical date is the calendar fire time (data interval: exactly that instant).
        env_vars={"FIRE_TIME": "{{ logical_date.isoformat() }}"},
    )
