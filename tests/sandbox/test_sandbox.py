"""What the sandbox says about itself, and what it does on a machine that cannot run Spark."""

from __future__ import annotations

import pytest

from airflow_provider_sparkk8s.sandbox import Sandbox, SandboxConfig
from tests.sandbox.conftest import EXAMPLES, driver_pod, wait_for_pod


def test_the_banner_says_it_is_an_emulated_control_plane_and_what_runs_for_real(tmp_path) -> None:
    sandbox = Sandbox(SandboxConfig.load(EXAMPLES / "sandbox.yaml"), workdir=tmp_path)
    banner = sandbox.banner()
    assert "an EMULATED Kubernetes control plane, not a cluster" in banner
    assert "apache/spark:4.0.1: /opt/spark/examples/src/main/python/ -> " in banner
    assert "org.apache.spark.examples.SparkPi -> " in banner and "(stand-in)" in banner
    assert "Every other pod is simulated" in banner
    assert "Every pod is simulated: no image-to-local mapping" in Sandbox(workdir=tmp_path / "b").banner()


def test_without_java_every_spark_pod_is_simulated_and_says_why(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    sandbox = Sandbox(SandboxConfig.load(EXAMPLES / "sandbox.yaml"), workdir=tmp_path / "box",
                      pod_run_seconds=0.1, pod_pending_seconds=0.01)
    assert "Every pod is simulated: java was not found" in sandbox.banner()
    with sandbox:
        sandbox.emulator.create_namespace("spark-jobs")
        pi = "local:///opt/spark/examples/src/main/python/pi.py"
        sandbox.emulator.apply(driver_pod("pi-driver", pi, "2", image="apache/spark:4.0.1"), "spark-jobs")
        pod = wait_for_pod(sandbox, "pi-driver", timeout=30)
        assert pod["status"]["phase"] == "Succeeded"
        assert "simulated, not run (java was not found" in sandbox.emulator.pods.logs("spark-jobs", "pi-driver")
        assert sandbox.spark.runs == []


def test_apply_folder_creates_namespaces_first_and_honours_the_namespace_hint(tmp_path) -> None:
    with Sandbox(workdir=tmp_path) as sandbox:
        applied = sandbox.apply_folder(EXAMPLES / "manifests")
        assert "WorkflowTemplate/argo/spark-app-workflow-template" in applied  # `kubectl apply -n argo` comment
        assert "EventSource/argo-events/calendar-source" in applied  # its namespace made on the way
        assert "ServiceAccount/spark-jobs/spark" in applied
