"""kubectl, the reference client, against the emulator."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require_tool

pytestmark = pytest.mark.contract

MANIFEST = Path(__file__).parent / "manifests" / "mixed.yaml"


def kubectl(cluster: KubeEmulator, *args: str, check: bool = True, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
    binary = require_tool("kubectl")
    result = subprocess.run([binary, "--kubeconfig", str(cluster.kubeconfig_path), *args],
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def test_apply_creates_every_document_of_a_multi_document_file(cluster: KubeEmulator) -> None:
    out = kubectl(cluster, "apply", "-f", str(MANIFEST)).stdout
    assert out.splitlines() == [
        "pod/hello created",
        "configmap/settings created",
        "workflowtemplate.argoproj.io/spark-app-workflow-template created",
        "sparkapplication.sparkoperator.k8s.io/pi created",
    ]
    assert cluster.get("v1", "ConfigMap", "settings")["data"] == {"a": "1"}
    template = cluster.get("argoproj.io/v1alpha1", "WorkflowTemplate", "spark-app-workflow-template")
    assert template["spec"]["templates"][0]["container"]["args"] == ["{{inputs.parameters.sparkJobFilePath}}"]
    assert cluster.get("sparkoperator.k8s.io/v1beta2", "SparkApplication", "pi")["spec"]["type"] == "Python"


def test_second_client_side_apply_patches_only_what_changed(cluster: KubeEmulator, tmp_path: Path) -> None:
    kubectl(cluster, "apply", "-f", str(MANIFEST))
    changed = tmp_path / "changed.yaml"
    changed.write_text(MANIFEST.read_text().replace('a: "1"', 'a: "2"\n  b: "3"'))
    out = kubectl(cluster, "apply", "-f", str(changed)).stdout
    assert "configmap/settings configured" in out
    assert "pod/hello unchanged" in out
    assert cluster.get("v1", "ConfigMap", "settings")["data"] == {"a": "2", "b": "3"}


def test_server_side_apply_creates_then_updates(cluster: KubeEmulator, tmp_path: Path) -> None:
    out = kubectl(cluster, "apply", "--server-side", "-f", str(MANIFEST)).stdout
    assert out.count("serverside-applied") == 4
    changed = tmp_path / "changed.yaml"
    changed.write_text(MANIFEST.read_text().replace('a: "1"', 'b: "2"'))
    kubectl(cluster, "apply", "--server-side", "-f", str(changed))
    # The manager stopped applying `a`, so server-side apply removes it.
    assert cluster.get("v1", "ConfigMap", "settings")["data"] == {"b": "2"}


def test_get_json_returns_the_stored_objects(cluster: KubeEmulator) -> None:
    kubectl(cluster, "apply", "-f", str(MANIFEST))
    listed = json.loads(kubectl(cluster, "get", "workflowtemplates", "-o", "json").stdout)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["spark-app-workflow-template"]
    pod = json.loads(kubectl(cluster, "get", "pod", "hello", "-o", "json").stdout)
    assert pod["metadata"]["uid"] == cluster.get("v1", "Pod", "hello")["metadata"]["uid"]


def test_get_prints_a_table_with_pod_status(cluster: KubeEmulator) -> None:
    kubectl(cluster, "apply", "-f", str(MANIFEST))
    kubectl(cluster, "wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/hello", "--timeout=20s")
    lines = kubectl(cluster, "get", "pods").stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[1].split()[:4] == ["hello", "0/1", "Completed", "0"]


def test_wait_for_jsonpath_returns_when_the_pod_succeeds(cluster: KubeEmulator) -> None:
    kubectl(cluster, "apply", "-f", str(MANIFEST))
    result = kubectl(cluster, "wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/hello", "--timeout=20s")
    assert result.stdout.strip() == "pod/hello condition met"


def test_wait_times_out_on_a_pod_that_never_finishes(cluster: KubeEmulator) -> None:
    cluster.pods.behave(name="hello", outcome="running")
    kubectl(cluster, "apply", "-f", str(MANIFEST))
    result = kubectl(cluster, "wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/hello", "--timeout=2s",
                     check=False)
    assert result.returncode != 0
    assert "timed out waiting for the condition on pods/hello" in result.stderr


def test_logs_prints_what_the_container_wrote(cluster: KubeEmulator) -> None:
    kubectl(cluster, "apply", "-f", str(MANIFEST))
    kubectl(cluster, "wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/hello", "--timeout=20s")
    assert kubectl(cluster, "logs", "hello").stdout == "hello from pod\n"


def test_logs_follow_streams_until_the_container_ends(cluster: KubeEmulator) -> None:
    cluster.pods.behave(name="hello", log="one\ntwo\nthree", run_seconds=1.5)
    kubectl(cluster, "apply", "-f", str(MANIFEST))
    kubectl(cluster, "wait", "--for=jsonpath={.status.phase}=Running", "pod/hello", "--timeout=20s")
    assert kubectl(cluster, "logs", "-f", "hello", timeout=30).stdout == "one\ntwo\nthree\n"


def test_delete_removes_every_object_of_the_file(cluster: KubeEmulator) -> None:
    kubectl(cluster, "apply", "-f", str(MANIFEST))
    out = kubectl(cluster, "delete", "-f", str(MANIFEST)).stdout
    assert 'pod "hello" deleted' in out
    assert cluster.get("v1", "Pod", "hello") is None
    assert cluster.get("sparkoperator.k8s.io/v1beta2", "SparkApplication", "pi") is None


def test_get_of_a_missing_object_reports_not_found(cluster: KubeEmulator) -> None:
    result = kubectl(cluster, "get", "pod", "nope", check=False)
    assert result.returncode == 1
    assert 'pods "nope" not found' in result.stderr


def test_wrong_token_is_refused(kube_emulator_factory) -> None:
    cluster = kube_emulator_factory(tls=True, token="right")
    result = kubectl(cluster, "--token", "wrong", "get", "pods", check=False)
    assert result.returncode == 1
    assert "Unauthorized" in result.stderr or "must be logged in" in result.stderr
