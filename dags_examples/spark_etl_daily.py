"""Oozie coordinator migrated by `sparkk8s migrate oozie`.

Generated from: coordinator.xml, workflow.xml

Review before use:
- OOZIE-UNSUPPORTED coordinator.xml:2 (configuration inputDir): ${coord:dataIn('input')}: EL function coord:dataIn
  is not supported: dataset URIs are resolved by Oozie's input dependency check, which is not migrated
- OOZIE-UNSUPPORTED coordinator.xml:18 (input-event input): data-in 'input' (dataset 'events',
  hdfs://namenode:8020/data/events/${YEAR}/${MONTH}/${DAY}): no generic sensor for a done-flag; a placeholder task
  marks where to wait
- OOZIE-UNSUPPORTED workflow.xml:83 (action score): spark-opts not understood: --verbose
- approximated coordinator.xml:2 (coordinator controls): throttle 4 (the number of materialized waiting actions) has
  no equivalent; not mapped
- approximated workflow.xml:25 (action ingest): prepare delete
  hdfs://namenode:8020/user/etl/apps/spark-etl/staging/{{ run_id }} runs `hdfs dfs` in a pod; HDFS paths must be
  remapped to your storage
- approximated workflow.xml:25 (action ingest): prepare mkdir hdfs://namenode:8020/user/etl/apps/spark-etl/staging
  runs `hdfs dfs` in a pod; HDFS paths must be remapped to your storage
- approximated workflow.xml:25 (action ingest): application
  'hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/ingest.py' is on HDFS: remap it to local://, s3a:// or https://
  (the image or object storage)
- approximated workflow.xml:25 (action ingest): configuration mapreduce.job.queuename is an Oozie/YARN launcher
  setting; dropped
- approximated workflow.xml:25 (action ingest): master 'yarn', mode 'cluster': dropped; the application runs in
  cluster mode on Kubernetes
- approximated workflow.xml:50 (action check-count): capture-output: the command runs under a fixed sh/awk wrapper
  that turns its stdout (key=value lines) into the task's XCom; the image needs sh and awk
- approximated workflow.xml:50 (action check-count): file/archive
  hdfs://namenode:8020/user/etl/apps/spark-etl/bin/count_rows.sh#count_rows.sh: Oozie ships them to the task's
  working directory; bake them into the image or mount them
- approximated workflow.xml:71 (action aggregate): application
  'hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/aggregate.py' is on HDFS: remap it to local://, s3a:// or
  https:// (the image or object storage)
- approximated workflow.xml:71 (action aggregate): configuration mapreduce.job.queuename is an Oozie/YARN launcher
  setting; dropped
- approximated workflow.xml:71 (action aggregate): master 'yarn', mode 'cluster': dropped; the application runs in
  cluster mode on Kubernetes
- approximated workflow.xml:83 (action score): application
  'hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/score.jar' is on HDFS: remap it to local://, s3a:// or https://
  (the image or object storage)
- approximated workflow.xml:83 (action score): configuration mapreduce.job.queuename is an Oozie/YARN launcher
  setting; dropped
- approximated workflow.xml:83 (action score): master 'yarn', mode 'cluster': dropped; the application runs in
  cluster mode on Kubernetes
- approximated workflow.xml:83 (action score): --queue etl: YARN queues do not exist on Kubernetes
- approximated workflow.xml:99 (kill fail): wf:lastErrorNode() gives the task id of the last failed task
- approximated workflow.xml:99 (kill fail): wf:errorMessage(): Airflow does not keep the error text; the message
  names the failed task (its log has the cause)

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator

# capture-output: runs the action (its argv follows the script), echoes its stdout, and turns the
# key=value lines into the XCom JSON. Constant: user values only arrive as "$@".
CAPTURE_OUTPUT = (
    'set -e; out=$("$@"); printf \'%s\\n\' "$out"; mkdir -p /airflow/xcom; printf \'%s\\n\' "$out" | '
    'awk \'function q(s,  o, i, c) { o = ""; for (i = 1; i <= length(s); i++) { c = substr(s, i,'
    ' 1); if (c == "\\\\" || c == "\\"") o = o "\\\\"; o = o c } return o } BEGIN { printf "{" } /^['
    ' \\t]*[#!]/ { next } index($0, "=") > 0 { i = index($0, "="); printf "%s\\"%s\\": \\"%s\\"", '
    '(n++ ? ", " : ""), q(substr($0, 1, i - 1)), q(substr($0, i + 1)) } END { print "}" }\' > '
    '/airflow/xcom/return.json'
)


def oozie_decision(cases: list[list[str]], default: str) -> str:
    """Oozie switch/case: the first case whose predicate rendered true wins, else the default."""
    for predicate, target in cases:
        if str(predicate).strip().lower() == "true":
            return target
    return default


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='spark-etl-daily',
    description="Oozie coordinator 'spark-etl-daily'",
    doc_md=__doc__,
    schedule='0 3 * * *',
    start_date=pendulum.datetime(2026, 1, 1, 3, 0, tz='Europe/Amsterdam'),
    end_date=pendulum.datetime(2027, 1, 1, 3, 0, tz='Europe/Amsterdam'),
    max_active_runs=2,
    catchup=True,
    params={
        'appRoot': Param('hdfs://namenode:8020/user/etl/apps/spark-etl', type='string'),
        'endTime': Param('2027-01-01T02:00Z', type='string'),
        'env': Param('prod', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
        'oozie.coord.application.path': Param('hdfs://namenode:8020/user/etl/apps/spark-etl', type='string'),
        'oozie.use.system.libpath': Param('true', type='string'),
        'outputDir': Param('', type='string'),
        'queueName': Param('default', type='string'),
        'resourceManager': Param('resourcemanager:8032', type='string'),
        'startTime': Param('2026-01-01T02:00Z', type='string'),
        'user.name': Param('etl', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    # OOZIE-UNSUPPORTED: coordinator.xml:18: data-in 'input' (dataset 'events',
    #   hdfs://namenode:8020/data/events/${YEAR}/${MONTH}/${DAY}): no generic sensor for a done-flag; a
    #   placeholder task marks where to wait
    wait_for_input = EmptyOperator(
        task_id='wait_for_input',
        doc_md=(
            "Placeholder for Oozie data-in 'input': wait for dataset 'events' "
            '(hdfs://namenode:8020/data/events/${YEAR}/${MONTH}/${DAY}, done-flag _SUCCESS, instances '
            '${coord:current(-1)}). Replace it with a sensor for your storage (e.g. an S3KeySensor on the done-flag) '
            'or an Asset schedule.'
        ),
    )
    ingest__prepare_delete = KubernetesPodOperator(
        task_id='ingest__prepare_delete',
        doc_md="Oozie <prepare> of 'ingest'.",
        name='ingest-prepare-delete',
        namespace='spark-jobs',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-rm', '-r', '-f', 'hdfs://namenode:8020/user/etl/apps/spark-etl/staging/{{ run_id }}'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    ingest__prepare_mkdir = KubernetesPodOperator(
        task_id='ingest__prepare_mkdir',
        doc_md="Oozie <prepare> of 'ingest'.",
        name='ingest-prepare-mkdir',
        namespace='spark-jobs',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-mkdir', '-p', 'hdfs://namenode:8020/user/etl/apps/spark-etl/staging'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    ingest = SparkK8sOperator(
        task_id='ingest',
        application='hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/ingest.py',
        name='ingest-{{ run_id }}',
        application_args=[
            '--date',
            "{{ oozie.format_time(oozie.nominal_time(logical_date or dag_run.run_after), 'yyyy-MM-dd') }}",
            '--input',
            '{{ "<oozie-el-unsupported: ${coord:dataIn(\'input\')}>" }}',
        ],
        driver_memory='2g',
        executor_memory='4G',
        executor_cores=2,
        executor_instances=5,
        py_files=[
            'hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/lib.zip',
            'hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/util.py',
        ],
        files=['hdfs://namenode:8020/user/etl/apps/spark-etl/conf/app.conf'],
        conf={
            'spark.driver.extraJavaOptions': '-Dlog4j.configuration=log4j.properties -Denv=prod',
            'spark.sql.shuffle.partitions': '64',
        },
        image='apache/spark:4.0.1',
        namespace='spark-jobs',
        launcher='spark-operator',
        kubernetes_conn_id='kubernetes_default',
        retries=3,
        retry_delay=timedelta(minutes=5),
    )
    check_count = KubernetesPodOperator(
        task_id='check-count',
        name='check-count',
        namespace='spark-jobs',
        image='apache/hadoop:3.3.6',
        cmds=['sh'],
        arguments=[
            '-c',
            CAPTURE_OUTPUT,
            'oozie-capture-output',
            'count_rows.sh',
            'hdfs://namenode:8020/user/etl/apps/spark-etl/staging',
        ],
        env_vars={'RUN_ID': '{{ run_id }}'},
        do_xcom_push=True,
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    has_rows = BranchPythonOperator(
        task_id='has-rows',
        python_callable=oozie_decision,
        op_kwargs={
            'cases': [["{{ (oozie.num((ti.xcom_pull(task_ids='check-count') or {}).get('rows')) > 0) }}", 'transform']],
            'default': 'end',
        },
        doc_md="Oozie decision 'has-rows': the first true case wins.",
    )
    transform = EmptyOperator(
        task_id='transform',
        doc_md="Oozie fork node 'transform'.",
    )
    aggregate = SparkK8sOperator(
        task_id='aggregate',
        application='hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/aggregate.py',
        name='aggregate',
        application_args=['hdfs://namenode:8020/user/etl/apps/spark-etl/staging'],
        executor_memory='2G',
        conf={'spark.dynamicAllocation.enabled': 'false'},
        image='apache/spark:4.0.1',
        namespace='spark-jobs',
        launcher='spark-operator',
        kubernetes_conn_id='kubernetes_default',
    )
    # OOZIE-UNSUPPORTED: workflow.xml:83: spark-opts not understood: --verbose
    score = SparkK8sOperator(
        task_id='score',
        application='hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/score.jar',
        name='score',
        main_class='com.example.etl.Score',
        application_args=['hdfs://namenode:8020/user/etl/apps/spark-etl/staging'],
        jars=[
            'hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/deps.jar',
            'hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/extra.jar',
        ],
        files=['hdfs://namenode:8020/user/etl/apps/spark-etl/conf/score.conf#score.conf'],
        archives=['hdfs://namenode:8020/user/etl/apps/spark-etl/models.tgz#models'],
        packages=['org.apache.spark:spark-avro_2.12:3.5.1'],
        image='apache/spark:4.0.1',
        namespace='spark-jobs',
        launcher='spark-operator',
        kubernetes_conn_id='kubernetes_default',
    )
    joined = EmptyOperator(
        task_id='joined',
        doc_md="Oozie join node 'joined'.",
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={
            'message': (
                'spark-etl failed at [{{ oozie.last_error_node(dag_run, ti) }}]: {{ oozie.error_message(dag_run, '
                'oozie.last_error_node(dag_run, ti), ti) }}'
            ),
        },
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )
    end = EmptyOperator(
        task_id='end',
        doc_md="Oozie end node 'end'.",
        trigger_rule='none_failed_min_one_success',
    )

    wait_for_input >> ingest__prepare_delete
    ingest__prepare_delete >> [ingest__prepare_mkdir, fail]
    ingest__prepare_mkdir >> [ingest, fail]
    ingest >> [check_count, fail]
    check_count >> [has_rows, fail]
    has_rows >> [transform, end]
    transform >> [aggregate, score]
    aggregate >> [joined, fail]
    score >> [joined, fail]
    joined >> end
