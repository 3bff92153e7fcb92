"""The sandbox's Spark History Server: pyspark's own, over the event logs of the applications run locally.

What a real deployment does, which the sandbox reproduces: a Spark application with ``spark.eventLog.enabled``
writes its event log to ``spark.eventLog.dir``; a History Server reading that directory lists it in its REST API
(``/api/v1/applications``: id, name, ``completed``) and serves its pages at ``/history/<app id>/jobs/``. The
operators' "Spark History Server" link is ``<spark_history_server_url>/history/<spark-app-selector>/jobs/``.
"""

from __future__ import annotations

import json

import pytest
import requests

from airflow_provider_sparkk8s.links import render_url
from airflow_provider_sparkk8s.sandbox.history import HistoryServerSettings
from tests.emulator.cluster_clients import wait_for
from tests.sandbox.conftest import driver_pod, exit_code, history_server_processes, require_spark, wait_for_pod

pytestmark = pytest.mark.slow

SELECTOR = "spark-5f0c3a9d2e7b4c1aa0e1f2d3c4b5a697"  # the id spark-submit gives a driver pod in a cluster


def test_a_local_application_is_in_the_history_server_and_the_operators_link_opens_its_page(
        sandbox_factory) -> None:
    require_spark()
    # The DAG's cluster conf may log events to s3a://, which a local run cannot reach: the sandbox's own event
    # log directory wins over the mapping's conf (Spark would fail the application on the s3a:// scheme).
    sandbox = sandbox_factory(history_server=HistoryServerSettings(),
                              conf={"spark.ui.enabled": "false", "spark.log.level": "WARN",
                                    "spark.eventLog.dir": "s3a://cluster-bucket/spark-events"})
    assert sandbox.wait_for_history_server(), (sandbox.workdir / "history-server.log").read_text()[-3000:]
    pod = driver_pod("pi-driver", "local:///opt/spark/examples/src/main/python/pi.py", "2",
                     image="apache/spark:4.0.1")
    pod["metadata"]["labels"]["spark-app-selector"] = SELECTOR
    sandbox.emulator.apply(pod, "spark-jobs")
    assert exit_code(wait_for_pod(sandbox, "pi-driver")) == 0, sandbox.emulator.pods.logs("spark-jobs", "pi-driver")
    history = sandbox.history
    assert history is not None

    def completed() -> list[dict]:
        apps = requests.get(f"{history.url}/api/v1/applications", timeout=10).json()
        return [app for app in apps if app["attempts"][0]["completed"]]

    [app] = wait_for(completed, timeout=60, interval=0.5, what="the application listed as completed")
    assert app["name"] == "PythonPi"  # the name pi.py gives its SparkSession
    page = requests.get(f"{history.url}/history/{app['id']}/jobs/", timeout=30)
    assert page.status_code == 200 and "Spark Jobs" in page.text
    # The pod's log says where the application's page is.
    assert f"{history.url}/history/{app['id']}/jobs/" in sandbox.emulator.pods.logs("spark-jobs", "pi-driver")

    # The link the operators build from the connection the sandbox gives Airflow and the driver pod's id.
    extra = json.loads(sandbox.airflow_env()["AIRFLOW_CONN_KUBERNETES_DEFAULT"])["extra"]
    link = render_url(extra["spark_history_server_url"], {"spark_app_id": SELECTOR}, history_server=True)
    assert link is not None and link.endswith(f"/history/{SELECTOR}/jobs/")
    opened = requests.get(link, timeout=30)
    assert opened.status_code == 200 and opened.url == f"{history.url}/history/{app['id']}/jobs/"

    workdir = sandbox.workdir
    assert history_server_processes(workdir)
    sandbox.stop()
    assert not history_server_processes(workdir), "the History Server outlived the sandbox"


def test_without_a_history_server_applications_write_no_event_log_and_the_connection_has_no_link(
        sandbox_factory) -> None:
    require_spark()
    sandbox = sandbox_factory()  # history_server disabled
    sandbox.emulator.apply(driver_pod("hello-driver", "local:///apps/hello.py", "x"), "spark-jobs")
    assert exit_code(wait_for_pod(sandbox, "hello-driver")) == 0
    log = sandbox.emulator.pods.logs("spark-jobs", "hello-driver")
    assert "spark.eventLog" not in log and "Spark History Server" not in log
    extra = json.loads(sandbox.airflow_env()["AIRFLOW_CONN_KUBERNETES_DEFAULT"])["extra"]
    assert "spark_history_server_url" not in extra
    assert not history_server_processes(sandbox.workdir)


WAITING_APP = """\
import pathlib, sys, time
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("Waiting").getOrCreate()
print("counted", spark.sparkContext.parallelize(range(10), 2).count(), flush=True)
flag = pathlib.Path(sys.argv[1])
while not flag.exists():
    time.sleep(0.2)
spark.stop()
"""


def test_with_the_driver_ui_on_its_link_opens_the_running_driver_then_the_history_page(
        sandbox_factory, apps_dir, tmp_path) -> None:
    """A driver serves its UI (``spark.ui.port``) while it runs; in a cluster the Driver UI link is useful only
    then, and the History Server has the application afterwards."""
    require_spark()
    (apps_dir / "waiting.py").write_text(WAITING_APP)
    flag = tmp_path / "finish"
    sandbox = sandbox_factory(history_server=HistoryServerSettings(),
                              conf={"spark.ui.enabled": "true", "spark.log.level": "WARN"})
    assert sandbox.wait_for_history_server()
    history = sandbox.history
    assert history is not None
    pod = driver_pod("waiting-driver", "local:///apps/waiting.py", str(flag))
    pod["metadata"]["labels"]["spark-app-selector"] = SELECTOR
    sandbox.emulator.apply(pod, "spark-jobs")
    wait_for(lambda: "counted 10" in sandbox.emulator.pods.logs("spark-jobs", "waiting-driver"), timeout=150,
             interval=0.5, what="the application's first job")

    extra = json.loads(sandbox.airflow_env()["AIRFLOW_CONN_KUBERNETES_DEFAULT"])["extra"]
    link = render_url(extra["spark_driver_ui_url"], {"spark_app_id": SELECTOR})
    assert link is not None
    running = requests.get(link, timeout=30)
    assert running.status_code == 200 and "Spark Jobs" in running.text
    assert not running.url.startswith(history.url)  # the driver's own UI

    flag.touch()
    assert exit_code(wait_for_pod(sandbox, "waiting-driver")) == 0
    ended = requests.get(link, timeout=30)
    assert ended.url.startswith(f"{history.url}/history/local-"), ended.url
    wait_for(lambda: requests.get(ended.url, timeout=30).status_code == 200, timeout=60, interval=0.5,
             what="the History Server's page of the ended application")
