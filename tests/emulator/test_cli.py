"""`sparkk8s emulator`: the emulator as a foreground process, driven from outside over HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    cli = Path(sys.executable).with_name("sparkk8s")
    proc = subprocess.Popen([str(cli), "emulator", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Kubernetes API emulator listening on "):
            lines["url"] = line.rsplit(" ", 1)[1].strip()
        elif line.startswith("kubeconfig: "):
            lines["kubeconfig"] = line.split(": ", 1)[1].strip()
        elif line.startswith("export KUBECONFIG="):
            break
    return proc, lines


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc, info = _start("--workdir", str(tmp_path / "emu"), "--namespace", "spark-jobs")
    yield proc, info
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_prints_url_and_a_kubeconfig_real_clients_use(emulator_process) -> None:
    _, info = emulator_process
    assert info["url"].startswith("http://127.0.0.1:")
    api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=info["kubeconfig"]))
    names = [ns.metadata.name for ns in api.list_namespace().items]
    assert "spark-jobs" in names and "default" in names


def test_admin_endpoint_injects_faults_from_another_process(emulator_process) -> None:
    _, info = emulator_process
    fault = {"status": 503, "verb": "list", "resource": "pods", "times": 1}
    request = urllib.request.Request(f"{info['url']}/_emulator/faults", data=json.dumps(fault).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as resp:
        assert resp.status == 201
    api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=info["kubeconfig"]))
    with pytest.raises(ApiException) as exc:
        api.list_namespaced_pod("default")
    assert exc.value.status == 503
    assert api.list_namespaced_pod("default").items == []  # the fault fired once
    with urllib.request.urlopen(f"{info['url']}/_emulator/counters") as resp:
        counters = json.load(resp)["counters"]
    assert counters["list pods"] == 2


def test_sigterm_stops_the_server_cleanly(emulator_process) -> None:
    proc, info = emulator_process
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


def test_port_in_use_is_a_clear_error(emulator_process) -> None:
    _, info = emulator_process
    port = info["url"].rsplit(":", 1)[1]
    cli = Path(sys.executable).with_name("sparkk8s")
    result = subprocess.run([str(cli), "emulator", "--port", port], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "sparkk8s emulator:" in result.stderr
    assert "address already in use" in result.stderr.lower()
