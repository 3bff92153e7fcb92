"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- OOZIE-UNSUPPORTED workflow.xml:70 (action mr): a map-reduce job defined by configuration (or pipes) has no command
  line; rewrite it as a Spark job or run its driver jar
- approximated workflow.xml:14 (action checkout): git key hdfs://namenode:8020/keys/id_rsa: mount the key from a
  Secret and set GIT_SSH_COMMAND
- approximated workflow.xml:14 (action checkout): git destination on HDFS: clone to a volume or object storage
  instead
- approximated workflow.xml:14 (action checkout): <launcher> settings have no Kubernetes equivalent here; set pod
  resources on the task
- approximated workflow.xml:34 (action spark-02): master 'local[*]': dropped; the application runs in cluster mode
  on Kubernetes
- approximated workflow.xml:44 (action hive-10): <launcher> settings have no Kubernetes equivalent here; set pod
  resources on the task
- approximated workflow.xml:54 (action hive2-10): <launcher> settings have no Kubernetes equivalent here; set pod
  resources on the task
- approximated workflow.xml:63 (action sqoop-10): <launcher> settings have no Kubernetes equivalent here; set pod
  resources on the task
- approximated workflow.xml:70 (action mr): <launcher> settings have no Kubernetes equivalent here; set pod
  resources on the task
- approximated workflow.xml:83 (action pig-10): <launcher> settings have no Kubernetes equivalent here; set pod
  resources on the task
- approximated workflow.xml:92 (action copy): <launcher> settings have no Kubernetes equivalent here; set pod
  resources on the task
- approximated workflow.xml:100 (action java-10): java: the main class runs with the jars in /opt/oozie/lib/ of the
  image on the classpath; put the workflow's lib/ jars there
- approximated workflow.xml:100 (action java-10): <launcher> settings have no Kubernetes equivalent here; set pod
  resources on the task
- approximated workflow.xml:108 (action tidy): <launcher> settings have no Kubernetes equivalent here; set pod
  resources on the task

Container images (check they hold the tools the commands need): alpine/git:2.47.2, apache/hadoop:3.3.6,
  apache/hive:4.0.0, apache/pig:0.17.0, apache/sqoop:1.4.7
"""

from __future__ import annotations

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='all-actions-1.0',
    description="Oozie workflow 'all-actions-1.0'",
    doc_md=__doc__,
    schedule=None,
    params={
        'nameNode': Param('hdfs://namenode:8020', type='string'),
        'resourceManager': Param('resourcemanager:8032', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    checkout = KubernetesPodOperator(
        task_id='checkout',
        name='checkout',
        namespace='default',
        image='alpine/git:2.47.2',
        cmds=['git'],
        arguments=[
            'clone',
            '--branch',
            'main',
            '--',
            'https://git.example.com/etl.git',
            'hdfs://namenode:8020/apps/etl-src',
        ],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    outer = EmptyOperator(
        task_id='outer',
        doc_md="Oozie fork node 'outer'.",
    )
    inner = EmptyOperator(
        task_id='inner',
        doc_md="Oozie fork node 'inner'.",
    )
    spark_02 = SparkK8sOperator(
        task_id='spark-02',
        application='job.py',
        name='local',
        files=['data.csv'],
        image='apache/spark:4.0.1',
        namespace='default',
        launcher='spark-submit',
        kubernetes_conn_id='kubernetes_default',
    )
    hive_10 = KubernetesPodOperator(
        task_id='hive-10',
        name='hive-10',
        namespace='default',
        image='apache/hive:4.0.0',
        cmds=['hive'],
        arguments=['-f', 'a.q'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    hive2_10 = KubernetesPodOperator(
        task_id='hive2-10',
        name='hive2-10',
        namespace='default',
        image='apache/hive:4.0.0',
        cmds=['beeline'],
        arguments=['-u', 'jdbc:hive2://hs2:10000/default', '-f', 'b.q'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    inner_join = EmptyOperator(
        task_id='inner-join',
        doc_md="Oozie join node 'inner-join'.",
    )
    sqoop_10 = KubernetesPodOperator(
        task_id='sqoop-10',
        name='sqoop-10',
        namespace='default',
        image='apache/sqoop:1.4.7',
        cmds=['sqoop'],
        arguments=['export', '--connect', 'jdbc:mysql://db/sales', '--table', 'totals'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    # OOZIE-UNSUPPORTED: workflow.xml:70: a map-reduce job defined by configuration (or pipes) has no command
    #   line; rewrite it as a Spark job or run its driver jar
    mr = KubernetesPodOperator(
        task_id='mr',
        name='mr',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['mapred'],
        arguments=['job', '-D', 'mapreduce.job.map.class=org.example.Mapper'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    pig_10 = KubernetesPodOperator(
        task_id='pig-10',
        name='pig-10',
        namespace='default',
        image='apache/pig:0.17.0',
        cmds=['pig'],
        arguments=['-f', 'x.pig', '-verbose'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    outer_join = EmptyOperator(
        task_id='outer-join',
        doc_md="Oozie join node 'outer-join'.",
    )
    copy = KubernetesPodOperator(
        task_id='copy',
        name='copy',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hadoop'],
        arguments=['distcp', 'hdfs://namenode:8020/out', 's3a://bucket/out'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    java_10 = KubernetesPodOperator(
        task_id='java-10',
        name='java-10',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['java'],
        arguments=['-cp', '/opt/oozie/lib/*', 'org.example.Report', '{{ run_id }}'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    tidy = KubernetesPodOperator(
        task_id='tidy',
        name='tidy',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-rm', '-r', '-f', 'hdfs://namenode:8020/tmp/all'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    cleanup_wf = TriggerDagRunOperator(
        task_id='cleanup-wf',
        trigger_dag_id='cleanup',
        wait_for_completion=True,
        poke_interval=30,
        conf={
            'nameNode': "{{ params['nameNode'] }}",
            'resourceManager': "{{ params['resourceManager'] }}",
            'target': 'hdfs://namenode:8020/tmp/all',
        },
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'all-actions failed'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    checkout >> [outer, fail]
    outer >> [inner, mr]
    inner >> [spark_02, hive_10, hive2_10]
    spark_02 >> [inner_join, fail]
    hive_10 >> [inner_join, fail]
    hive2_10 >> [inner_join, fail]
    inner_join >> sqoop_10
    sqoop_10 >> [outer_join, fail]
    mr >> [pig_10, fail]
    pig_10 >> [outer_join, fail]
    outer_join >> copy
    copy >> [java_10, fail]
    java_10 >> [tidy, fail]
    tidy >> [cleanup_wf, fail]
    cleanup_wf >> fail
