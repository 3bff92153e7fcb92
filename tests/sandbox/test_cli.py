"""`sparkk8s sandbox`: the sandbox as a foreground process."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import kubernetes
import requests

from tests.sandbox.conftest import EXAMPLES, history_server_processes


def test_prints_the_banner_and_the_connection_then_stops_on_ctrl_c(tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("sparkk8s")
    proc = subprocess.Popen([str(cli), "sandbox", "--config", str(EXAMPLES / "sandbox.yaml"), "--workdir",
                             str(tmp_path / "box"), "--apply", str(EXAMPLES / "manifests")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith('{"ready"'):
                break
        output = "\n".join(lines)
        assert "sparkk8s sandbox: an EMULATED Kubernetes control plane, not a cluster." in output
        assert "apache/spark:4.0.1: /opt/spark/examples/src/main/python/ -> " in output
        assert "Every other pod is simulated" in output
        assert "applied WorkflowTemplate/argo/spark-app-workflow-template" in output
        exports = dict(shlex.split(line[len("export "):])[0].split("=", 1) for line in lines
                       if line.startswith("export "))
        connection = json.loads(exports["AIRFLOW_CONN_KUBERNETES_DEFAULT"])
        kubeconfig = connection["extra"]["kube_config_path"]
        assert kubeconfig == exports["KUBECONFIG"] and f"kubeconfig: {kubeconfig}" in output
        assert json.loads(exports["AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT"])["conn_type"] == "argo_workflows"
        # The History Server answers once the sandbox says it is ready; the connection's link base leads to it.
        listing = requests.get(connection["extra"]["spark_history_server_url"], timeout=30)
        assert listing.status_code == 200 and "History Server" in listing.text
        api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=kubeconfig))
        assert {"spark-jobs", "argo", "argo-events"} <= {ns.metadata.name for ns in api.list_namespace().items}
        assert "spark" in [sa.metadata.name for sa in api.list_namespaced_service_account("spark-jobs").items]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert not history_server_processes(tmp_path / "box")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_bad_mapping_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("images: [{paths: {}}]\n")
    cli = Path(sys.executable).with_name("sparkk8s")
    result = subprocess.run([str(cli), "sandbox", "--config", str(tmp_path / "bad.yaml")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "images[0] needs an `image`" in result.stderr
