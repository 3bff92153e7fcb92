"""A daily DAG whose Spark job waits for the Argo Events calendar `calendar-source` (event `schedule-a`,
manifests/calendar-source.yaml), read from the cluster when the run starts: the job starts at the first
calendar event after the run's data interval start, skipping the calendar's exclusion dates exactly as
Argo Events does. Trigger it from the UI with `after` to wait for the event following another instant."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator
from airflow_provider_sparkk8s.sensors.calendar import ArgoCalendarSensor

with DAG(
    dag_id="spark_gated_by_argo_calendar",
    doc_md=__doc__,
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"after": Param(None, type=["null", "string"], format="date-time",
                           description="Wait for the first calendar event after this instant "
                                       "(default: the run's data interval start)")},
    tags=["argo-events", "spark", "example"],
) as dag:
    calendar_event = ArgoCalendarSensor(
        task_id="calendar_event",
        event_source="calendar-source",
        event_name="schedule-a",
        namespace="argo-events",
        after="{{ params.after or data_interval_start }}",
        deferrable=True,  # waits in the triggerer: no worker slot is held until 23:00
        timeout=2 * 24 * 3600,
    )
    pi = SparkK8sOperator(
        task_id="pi",
        launcher="spark-operator",
        application="local:///opt/spark/examples/jars/spark-examples.jar",
        main_class="org.apache.spark.examples.SparkPi",
        application_args=["100"],
        # The sensor's XCom is the event as Argo Events sends it: {"eventTime": ..., "metadata": {...}}
        env_vars={"CALENDAR_EVENT_TIME": "{{ ti.xcom_pull(task_ids='calendar_event')['eventTime'] }}"},
        image="apache/spark:4.0.1",
        namespace="spark-jobs",
        service_account_name="spark",
    )
    calendar_event >> pi
