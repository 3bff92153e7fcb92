"""Oozie workflow migrated by `sparkk8s migrate oozie`.

Generated from: workflow.xml

Review before use:
- OOZIE-UNSUPPORTED workflow.xml:21 (action java-node): ${wf:conf('mapred.job.queue.name')}: property
  'mapred.job.queue.name' is not defined (job.properties, config-default.xml or <parameters>)
- OOZIE-UNSUPPORTED workflow.xml:33 (action pipes-node): a map-reduce job defined by configuration (or pipes) has no
  command line; rewrite it as a Spark job or run its driver jar
- approximated workflow.xml:5 (action pig-node): prepare delete hdfs://namenode:8020/out/pig runs `hdfs dfs` in a
  pod; HDFS paths must be remapped to your storage
- approximated workflow.xml:5 (action pig-node): file/archive udf.py#udf.py, lib.zip#lib: Oozie ships them to the
  task's working directory; bake them into the image or mount them
- approximated workflow.xml:5 (action pig-node): file/archive udf.py#udf.py, lib.zip#lib: Oozie ships them to the
  task's working directory; bake them into the image or mount them
- approximated workflow.xml:21 (action java-node): java: the main class runs with the jars in /opt/oozie/lib/ of the
  image on the classpath; put the workflow's lib/ jars there
- approximated workflow.xml:56 (action remote): ssh runs from a pod: mount the private key (a Secret) and
  known_hosts; the remote side joins the command and its arguments into one shell line

Container images (check they hold the tools the commands need): apache/hadoop:3.3.6, apache/pig:0.17.0,
  kroniak/ssh-client:3.19
"""

from __future__ import annotations

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.smtp.operators.smtp import EmailOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_sparkk8s.migrate.runtime import MACROS


def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)


with DAG(
    dag_id='classic-0.2',
    description="Oozie workflow 'classic-0.2'",
    doc_md=__doc__,
    schedule=None,
    params={
        'jobTracker': Param('jobtracker:8021', type='string'),
        'mode': Param('batch', type='string'),
        'nameNode': Param('hdfs://namenode:8020', type='string'),
    },
    user_defined_macros=MACROS,
    tags=['oozie'],
) as dag:
    pig_node__prepare = KubernetesPodOperator(
        task_id='pig-node__prepare',
        doc_md="Oozie <prepare> of 'pig-node'.",
        name='pig-node-prepare',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['hdfs'],
        arguments=['dfs', '-rm', '-r', '-f', 'hdfs://namenode:8020/out/pig'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    pig_node = KubernetesPodOperator(
        task_id='pig-node',
        name='pig-node',
        namespace='default',
        image='apache/pig:0.17.0',
        cmds=['pig'],
        arguments=[
            '-param',
            'INPUT=hdfs://namenode:8020/in',
            '-param',
            'OUTPUT=hdfs://namenode:8020/out/pig',
            '-f',
            'id.pig',
        ],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    # OOZIE-UNSUPPORTED: workflow.xml:21: ${wf:conf('mapred.job.queue.name')}: property 'mapred.job.queue.name' is
    #   not defined (job.properties, config-default.xml or <parameters>)
    java_node = KubernetesPodOperator(
        task_id='java-node',
        name='java-node',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['java'],
        arguments=[
            '-Xmx1g',
            '-Dmode=batch',
            '-cp',
            '/opt/oozie/lib/*',
            'org.example.Main',
            'hdfs://namenode:8020/out/pig',
            "<oozie-el-unsupported: ${wf:conf('mapred.job.queue.name')}>",
        ],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    # OOZIE-UNSUPPORTED: workflow.xml:33: a map-reduce job defined by configuration (or pipes) has no command
    #   line; rewrite it as a Spark job or run its driver jar
    pipes_node = KubernetesPodOperator(
        task_id='pipes-node',
        name='pipes-node',
        namespace='default',
        image='apache/hadoop:3.3.6',
        cmds=['mapred'],
        arguments=['job'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    mail = EmailOperator(
        task_id='mail',
        to=['ops@example.com'],
        subject='classic done',
        html_content='classic-0.2 {{ run_id }}',
        cc=['lead@example.com'],
    )
    remote = KubernetesPodOperator(
        task_id='remote',
        name='remote',
        namespace='default',
        image='kroniak/ssh-client:3.19',
        cmds=['ssh'],
        arguments=['-o', 'BatchMode=yes', 'etl@edge', 'ls', '-l'],
        kubernetes_conn_id='kubernetes_default',
        get_logs=True,
    )
    fail = PythonOperator(
        task_id='fail',
        python_callable=oozie_kill,
        op_kwargs={'message': 'classic failed'},
        trigger_rule='one_failed',
        doc_md="Oozie kill node 'fail': the run fails with its message.",
    )

    pig_node__prepare >> [pig_node, fail]
    pig_node >> [java_node, fail]
    java_node >> [pipes_node, fail]
    pipes_node >> [mail, fail]
    mail >> [remote, fail]
    remote >> fail
