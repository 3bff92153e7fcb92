"""The pages the sandbox's connections send the operators' extra links to."""

from __future__ import annotations

import json

import requests

from airflow_provider_sparkk8s.sandbox import Sandbox

WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "hello-1"},
    "spec": {"entrypoint": "say", "templates": [{"name": "say", "container": {"image": "busybox:1.36",
                                                                            "command": ["echo", "hi"]}}]},
}


def test_the_argo_connections_ui_base_url_opens_a_page_of_the_workflow(tmp_path) -> None:
    with Sandbox(workdir=tmp_path) as sandbox:
        sandbox.emulator.apply(WORKFLOW, "default")
        env = sandbox.airflow_env()
        base = json.loads(env["AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT"])["extra"]["ui_base_url"]
        page = requests.get(f"{base}/workflows/default/hello-1", timeout=10)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert "<h1>Workflow default/hello-1</h1>" in page.text
        # The sandbox runs no Spark History Server nor driver UI: its connection offers no Spark link.
        extra = json.loads(env["AIRFLOW_CONN_KUBERNETES_DEFAULT"])["extra"]
        assert not {"spark_history_server_url", "spark_driver_ui_url"} & set(extra)
