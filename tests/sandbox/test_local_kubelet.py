"""The local kubelet: with a sandbox mapping, a pod whose images all map to entries that run locally has its
containers run as processes on this machine, and kubectl and the kubernetes client see what a kubelet reports
for them (phase, container states from the real exit codes, real logs, Events, a pod IP on loopback)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException

from airflow_provider_sparkk8s.sandbox import SandboxConfig
from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl, kubectl_json, wait_for
from tests.runtime.support import bwrap

HOST_IMAGE = "busybox:1.36"
MAPPING = {"images": [{"image": "busybox:*", "run": "host"},
                      {"image": "python:3.12", "run": "host", "entrypoint": ["python3"],
                       "commands": {"python": "python3"}},
                      {"image": "legacy/*", "simulate": True}]}


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator], tmp_path: Path) -> KubeEmulator:
    bwrap()
    config = SandboxConfig.from_dict(MAPPING, base=tmp_path)
    return kube_emulator_factory(run_images=config.image, pod_pending_seconds=0.05, restart_backoff_seconds=0.2)


@pytest.fixture
def core(kube: KubeEmulator) -> CoreV1Api:
    return CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


def pod(name: str, script: str, image: str = HOST_IMAGE, **spec: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 2,
                     "containers": [{"name": "main", "image": image, "command": ["sh", "-c", script]}], **spec}}


def create(kube: KubeEmulator, manifest: dict) -> None:
    import json
    kubectl(kube, "create", "-f", "-", stdin=json.dumps(manifest))


def phase_of(core: CoreV1Api, name: str) -> str | None:
    try:
        return core.read_namespaced_pod(name, "default").status.phase
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def finished(core: CoreV1Api, name: str, timeout: float = 20) -> Any:
    wait_for(lambda: phase_of(core, name) in ("Succeeded", "Failed"), timeout=timeout, what=f"{name} to end")
    return core.read_namespaced_pod(name, "default")


def event_reasons(kube: KubeEmulator, name: str) -> list[str]:
    events = kubectl_json(kube, "get", "events", "--field-selector", f"involvedObject.name={name}")["items"]
    return [e["reason"] for e in events]


# ---------------------------------------------------------------------------------------------- step 1: one container
def test_a_host_image_pod_runs_its_command_and_succeeds(kube: KubeEmulator, core: CoreV1Api) -> None:
    create(kube, pod("hello", "echo hello from $HOSTNAME; echo to stderr >&2; cat /proc/1/cmdline >/dev/null"))
    done = finished(core, "hello")
    assert done.status.phase == "Succeeded"
    [status] = done.status.container_statuses
    terminated = status.state.terminated
    assert (terminated.exit_code, terminated.reason) == (0, "Completed")
    assert terminated.started_at and terminated.finished_at and terminated.finished_at >= terminated.started_at
    assert status.container_id.startswith("containerd://")
    assert done.status.pod_ip.startswith("127.") and done.status.pod_ip != "127.0.0.1"
    assert done.status.host_ip == "127.0.0.1"
    logs = kubectl(kube, "logs", "hello").stdout
    assert logs.splitlines() == ["hello from hello", "to stderr"]  # stdout and stderr, as the runtime's log
    reasons = event_reasons(kube, "hello")
    assert {"Scheduled", "Pulled", "Created", "Started"} <= set(reasons)


def test_the_real_exit_code_fails_the_pod(kube: KubeEmulator, core: CoreV1Api) -> None:
    create(kube, pod("failing", "echo about to fail; exit 3"))
    done = finished(core, "failing")
    assert done.status.phase == "Failed"
    terminated = done.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (3, "Error")
    assert kubectl(kube, "logs", "failing").stdout == "about to fail\n"


def test_a_running_pod_is_running_with_its_own_loopback_ip(kube: KubeEmulator, core: CoreV1Api) -> None:
    create(kube, pod("one", "echo started; sleep 60"))
    create(kube, pod("two", "sleep 60"))
    for name in ("one", "two"):
        wait_for(lambda name=name: phase_of(core, name) == "Running", timeout=20)  # type: ignore[misc]
    one, two = core.read_namespaced_pod("one", "default"), core.read_namespaced_pod("two", "default")
    assert one.status.container_statuses[0].state.running.started_at is not None
    assert one.status.container_statuses[0].ready is True
    assert {c.type: c.status for c in one.status.conditions}["Ready"] == "True"
    assert one.status.pod_ip != two.status.pod_ip
    wait_for(lambda: kubectl(kube, "logs", "one").stdout == "started\n", timeout=10)
    out = kubectl(kube, "get", "pod", "one", "-o", "wide", "--no-headers").stdout.split()
    assert out[2] == "Running" and one.status.pod_ip in out


def test_the_mapping_decides_what_runs_on_the_host(kube: KubeEmulator, core: CoreV1Api, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    create(kube, pod("simulated", f"touch {marker}", image="legacy/tool:1"))
    done = finished(core, "simulated")
    assert done.status.phase == "Succeeded"
    assert not marker.exists()  # simulate: true keeps the simulated pod: nothing ran
    assert "emulated container" in kubectl(kube, "logs", "simulated").stdout


def test_the_image_entrypoint_and_commands_make_the_argv(kube: KubeEmulator, core: CoreV1Api) -> None:
    manifest = pod("python", "")
    manifest["spec"]["containers"][0] = {"name": "main", "image": "python:3.12",
                                         "args": ["-c", "import os; print('pid', os.getpid() > 0)"]}
    create(kube, manifest)
    assert finished(core, "python").status.phase == "Succeeded"
    assert kubectl(kube, "logs", "python").stdout == "pid True\n"


def test_without_a_mapping_nothing_runs_on_the_host(kube_emulator_factory: Callable[..., KubeEmulator],
                                                    tmp_path: Path) -> None:
    plain = kube_emulator_factory(pod_pending_seconds=0.05)
    core = CoreV1Api(kubernetes.config.new_client_from_config(str(plain.kubeconfig_path)))
    marker = tmp_path / "ran"
    create(plain, pod("plain", f"touch {marker}"))
    assert finished(core, "plain").status.phase == "Succeeded"
    assert not marker.exists()
    assert os.path.exists(tmp_path)
