"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- OOZIE-UNSUPPORTED workflow.xml:6 (action spark-01): --properties-file spark.conf: copy its properties into conf
- OOZIE-UNSUPPORTED workflow.xml:6 (action spark-01): spark-opts not understood: --deploy-mode cluster --conf
- OOZIE-UNSUPPORTED workflow.xml:119 (action custom): action <my-action> (uri:example:custom-action:1.0) has no
  Airflow equivalent; the task fails until it is replaced
- approximated workflow.xml:6 (action spark-01): application 'hdfs://namenode:8020/apps/legacy.jar' is on HDFS:
  remap it to local://, s3a:// or https:// (the image or object storage)
- approximated workflow.xml:6 (action spark-01): master 'yarn-cluster': dropped; the application runs in cluster
  mode on Kubernetes

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6, apache/hive:4.0.0,
  apache/sqoop:1.4.7
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS
from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='versions-0.5',
    description="Oozie workflow 'versions-0.5'",
    doc_md=__doc__,
    schedule=None,
    params={
        'day': Param('2026-01-01', type='string'),
        'jobTracker': Param('jobtracker:8021', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    # OOZIE-UNSUPPORTED: workflow.xml:6: --properties-file spark.conf: copy its properties into conf
    # OOZIE-UNSUPPORTED: workflow.xml:6: spark-opts not understood: --deploy-mode cluster --conf
    spark_01 = SparkK8sOperator(
        task_id='spark-01',
        application='hdfs://namenode:8020/apps/legacy.jar',
        name='legacy-spark',
        main_class='org.example.Legacy',
        executor_memory='1G',
        driver_cores=1,
        archives=['env.tgz#env'],
        conf={
            'spark.driver.extraClassPath': '/opt/cp',
            'spark.driver.extraJavaOptions': '-Da=1 -Db=2',
            'spark.driver.extraLibraryPath': '/opt/lib',
            'spark.jars.excludes': 'a:b',
            'spark.jars.repositories': 'https://repo.example.com',
            'spark.kerberos.keytab': 'etl.keytab',
            'spark.kerberos.principal': 'etl@EXAMPLE.COM',
        },
        image='apache/spark:4.0.1',
        namespace='default',
        launcher='spark-submit',
        kubernetes_conn_id='kubernetes_default',
        retries=4,
        retry_delay=timedelta(minutes=1),
        retry_exponential_backoff=True,
    )
    shell_01 = KubernetesPodOperator(
        task_id='shell-01',
        name='shell-01',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['echo'],
        arguments=['one'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    shell_02 = KubernetesPodOperator(
        task_id='shell-02',
        name='shell-02',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['echo'],
        arguments=['two'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    hive_03 = KubernetesPodOperator(
        task_id='hive-03',
        name='hive-03',
        namespace='default',
        image='apache/hive:4.0.0',
        cmds=['hive'],
        arguments=['-f', 'a.q'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    hive_04 = KubernetesPodOperator(
        task_id='hive-04',
        name='hive-04',
        namespace='default',
        image='apache/hive:4.0.0',
        cmds=['hive'],
        arguments=['-f', 'b.q'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    hive_06 = KubernetesPodOperator(
        task_id='hive-06',
        name='hive-06',
        namespace='default',
        image='apache/hive:4.0.0',
        cmds=['hive'],
        arguments=['-e', "SELECT COUNT(*) FROM events WHERE day = '2026-01-01'"],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    hive2_02 = KubernetesPodOperator(
        task_id='hive2-02',
        name='hive2-02',
        namespace='default',
        image='apache/hive:4.0.0',
        cmds=['beeline'],
        arguments=['-u', 'jdbc:hive2://hs2:10000/default', '-e', 'INSERT OVERWRITE TABLE t SELECT 1'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    sqoop_03 = KubernetesPodOperator(
        task_id='sqoop-03',
        name='sqoop-03',
        namespace='default',
        image='apache/sqoop:1.4.7',
        cmds=['sqoop'],
        arguments=['list-tables', '--connect', 'jdbc:mysql://db/sales'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    sqoop_04 = KubernetesPodOperator(
        task_id='sqoop-04',
        name='sqoop-04',
        namespace='default',
        image='apache/sqoop:1.4.7',
        cmds=['sqoop'],
        arguments=['import', '--connect', 'jdbc:mysql://db/sales', '--query', 'SELECT * FROM orders WHERE $CONDITIONS'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    distcp_02 = KubernetesPodOperator(
        task_id='distcp-02',
        name='distcp-02',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hadoop'],
        arguments=['distcp', '-update', 'hdfs://namenode:8020/a', 'hdfs://namenode:8020/b'],
        env_vars={'HADOOP_OPTS': '-Xmx2g'},
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fs_05__1_delete = KubernetesPodOperator(
        task_id='fs-05__1_delete',
        name='fs-05-1-delete',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-rm', '-r', '-f', '-skipTrash', 'hdfs://namenode:8020/tmp/x'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fs_05__2_setrep = KubernetesPodOperator(
        task_id='fs-05__2_setrep',
        name='fs-05-2-setrep',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-setrep', '2', 'hdfs://namenode:8020/data/x'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fs_05__3_chmod = KubernetesPodOperator(
        task_id='fs-05__3_chmod',
        name='fs-05-3-chmod',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-chmod', '-R', '-rwxr-x---', 'hdfs://namenode:8020/data/x'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    # OOZIE-UNSUPPORTED: workflow.xml:119: action <my-action> (uri:example:custom-action:1.0) has no Airflow
    #   equivalent; the task fails until it is replaced
    custom = PythonOperator(
        task_id='custom',
        python_callable=oozie_kill,
        op_kwargs={'message': "Oozie action 'custom' (<my-action> (uri:example:custom-action:1.0)) was not migrated"},
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'versions failed'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    spark_01 >> [shell_01, fail]
    shell_01 >> [shell_02, fail]
    shell_02 >> [hive_03, fail]
    hive_03 >> [hive_04, fail]
    hive_04 >> [hive_06, fail]
    hive_06 >> [hive2_02, fail]
    hive2_02 >> [sqoop_03, fail]
    sqoop_03 >> [sqoop_04, fail]
    sqoop_04 >> [distcp_02, fail]
    distcp_02 >> [fs_05__1_delete, fail]
    fs_05__1_delete >> [fs_05__2_setrep, fail]
    fs_05__2_setrep >> [fs_05__3_chmod, fail]
    fs_05__3_chmod >> [custom, fail]
    custom >> fail
