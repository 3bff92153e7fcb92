"""How long a pod lives, as kubectl and the kubernetes client see it: a container runs as long as its command
says (``sleep 3600``; ``sleep infinity`` and endless loops until deleted), ``activeDeadlineSeconds`` ends it
(Failed, DeadlineExceeded), and deletion is graceful: Terminating first, gone once the kubelet has stopped the
containers (pod strategy CheckGracefulDelete and the kubelet's pod termination in Kubernetes 1.32)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import kubernetes
import pytest
from kubernetes.client import CoreV1Api

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl, pod_phase, wait_for

STOP_SLOWLY = {"emulator.sparkk8s.io/stop-seconds": "60"}  # a process that ignores SIGTERM


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    # The default run time of a container whose command says nothing readable stays short.
    return kube_emulator_factory(pod_run_seconds=0.3, pod_pending_seconds=0.05)


@pytest.fixture
def core(kube: KubeEmulator) -> CoreV1Api:
    return CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


def pod(name: str, command: list[str], annotations: dict[str, str] | None = None, **spec: Any) -> dict:
    container: dict[str, Any] = {"name": "main", "image": "busybox:1.36", "command": command}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"restartPolicy": "Never", "containers": [container], **spec}}


def gone(core: CoreV1Api, name: str) -> bool:
    return pod_phase(core, name) is None


# ---------------------------------------------------------------------------------------------- how long it runs
def test_kubectl_run_sleep_3600_keeps_running(kube: KubeEmulator, core: CoreV1Api) -> None:
    # `kubectl run ... -- sleep 3600` puts the command in args (busybox has no entrypoint).
    kubectl(kube, "run", "sleeper", "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600")
    wait_for(lambda: pod_phase(core, "sleeper") == "Running")
    time.sleep(2)  # far longer than the default run time
    out = kubectl(kube, "get", "pod", "sleeper", "--no-headers").stdout.split()
    assert out[1:3] == ["1/1", "Running"], out


@pytest.mark.parametrize("command", [
    ["sleep", "infinity"],
    ["sh", "-c", "while true; do echo tick; sleep 1; done"],
    ["/bin/sh", "-ec", "trap 'exit 0' TERM; tail -f /dev/null"],
    ["bash", "-c", "sleep 5 && sleep 3600"],
])
def test_commands_that_do_not_end_keep_the_pod_running(core: CoreV1Api, command: list[str]) -> None:
    core.create_namespaced_pod("default", pod("forever", command))
    wait_for(lambda: pod_phase(core, "forever") == "Running")
    time.sleep(1.5)
    assert pod_phase(core, "forever") == "Running"


def test_a_short_sleep_ends_when_it_has_slept(core: CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("nap", ["sleep", "2"]))
    # A command the simulator cannot read keeps the short default run time.
    core.create_namespaced_pod("default", pod("app", ["python", "/app/main.py"]))
    wait_for(lambda: pod_phase(core, "nap") == "Running")
    started = time.monotonic()
    wait_for(lambda: pod_phase(core, "app") == "Succeeded", 5)
    assert pod_phase(core, "nap") == "Running"
    wait_for(lambda: pod_phase(core, "nap") == "Succeeded", 10)
    assert time.monotonic() - started > 1.2  # not the default run time
    terminated = core.read_namespaced_pod("nap", "default").status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (0, "Completed")


def test_behaviour_knobs_win_over_the_command(kube: KubeEmulator, core: CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("annotated", ["sleep", "3600"],
                                              {"emulator.sparkk8s.io/outcome": "failed"}))
    kube.pods.behave(name="ruled", run_seconds=0.2)
    core.create_namespaced_pod("default", pod("ruled", ["sleep", "infinity"]))
    core.create_namespaced_pod("default", pod("plain", ["sleep", "infinity"]))
    wait_for(lambda: pod_phase(core, "annotated") == "Failed" and pod_phase(core, "ruled") == "Succeeded", 5)
    assert pod_phase(core, "plain") == "Running"


def test_active_deadline_fails_the_pod(core: CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("bounded", ["sleep", "3600"], activeDeadlineSeconds=2))
    wait_for(lambda: pod_phase(core, "bounded") == "Running")
    started = time.monotonic()
    wait_for(lambda: pod_phase(core, "bounded") == "Failed", 10)
    assert time.monotonic() - started > 1
    status = core.read_namespaced_pod("bounded", "default").status
    assert status.reason == "DeadlineExceeded"
    assert status.message == "Pod was active on the node longer than the specified deadline"
    assert status.container_statuses[0].state.terminated is not None
    events = core.list_namespaced_event("default", field_selector="involvedObject.name=bounded").items
    assert "DeadlineExceeded" in {e.reason for e in events}


# ---------------------------------------------------------------------------------------------- deletion
def test_kubectl_delete_without_waiting_shows_terminating(kube: KubeEmulator, core: CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("stubborn", ["sleep", "3600"], STOP_SLOWLY))
    wait_for(lambda: pod_phase(core, "stubborn") == "Running")
    out = kubectl(kube, "delete", "pod", "stubborn", "--wait=false").stdout
    assert out.strip() == 'pod "stubborn" deleted'
    row = kubectl(kube, "get", "pod", "stubborn", "--no-headers").stdout.split()
    assert row[0] == "stubborn" and row[2] == "Terminating", row
    meta = core.read_namespaced_pod("stubborn", "default").metadata
    assert meta.deletion_timestamp is not None
    assert meta.deletion_grace_period_seconds == 30  # spec.terminationGracePeriodSeconds, defaulted
    # Forced with grace 0 it goes at once, as `kubectl delete --force --grace-period=0` makes it.
    kubectl(kube, "delete", "pod", "stubborn", "--grace-period=0", "--force")
    assert gone(core, "stubborn")


def test_the_grace_period_comes_from_the_spec_or_the_request(kube: KubeEmulator, core: CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("short", ["sleep", "3600"], STOP_SLOWLY,
                                              terminationGracePeriodSeconds=7))
    core.create_namespaced_pod("default", pod("asked", ["sleep", "3600"], STOP_SLOWLY))
    wait_for(lambda: pod_phase(core, "short") == "Running" and pod_phase(core, "asked") == "Running")
    core.delete_namespaced_pod("short", "default")
    assert core.read_namespaced_pod("short", "default").metadata.deletion_grace_period_seconds == 7
    kubectl(kube, "delete", "pod", "asked", "--grace-period=1", "--wait=false")
    assert core.read_namespaced_pod("asked", "default").metadata.deletion_grace_period_seconds == 1
    # A later, longer grace period does not extend the first one.
    core.delete_namespaced_pod("asked", "default", grace_period_seconds=20)
    # The container ignores SIGTERM: it is killed when its grace period ends, and only then is the pod gone.
    wait_for(lambda: gone(core, "asked"), 5)
    assert pod_phase(core, "short") == "Running"
    # A shorter one does shorten it.
    core.delete_namespaced_pod("short", "default", grace_period_seconds=1)
    assert core.read_namespaced_pod("short", "default").metadata.deletion_grace_period_seconds == 1
    wait_for(lambda: gone(core, "short"), 5)


def test_watchers_see_terminating_then_deleted(core: CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("watched", ["sh", "-c", "while true; do sleep 1; done"]))
    wait_for(lambda: pod_phase(core, "watched") == "Running")
    since = core.read_namespaced_pod("watched", "default").metadata.resource_version
    events: list[tuple[str, Any]] = []

    def collect() -> None:
        watch = kubernetes.watch.Watch()
        for event in watch.stream(core.list_namespaced_pod, "default", field_selector="metadata.name=watched",
                                  resource_version=since, timeout_seconds=10):
            events.append((event["type"], event["object"]))
            if event["type"] == "DELETED":
                watch.stop()

    watcher = threading.Thread(target=collect)
    watcher.start()
    started = time.monotonic()
    returned = core.delete_namespaced_pod("watched", "default")
    assert returned.metadata.deletion_timestamp is not None
    watcher.join(15)
    # A simulated container stops at once on SIGTERM: no need to sit out the 30 s grace period.
    assert time.monotonic() - started < 5
    assert [t for t, _ in events] == ["MODIFIED", "DELETED"]
    assert events[0][1].metadata.deletion_timestamp is not None
    assert events[0][1].metadata.deletion_grace_period_seconds == 30


def test_pods_that_never_ran_or_have_ended_go_at_once(kube: KubeEmulator, core: CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("unplaced", ["sleep", "3600"],
                                              {"emulator.sparkk8s.io/outcome": "unschedulable"}))
    core.create_namespaced_pod("default", pod("done", ["sleep", "0"]))
    core.create_namespaced_pod("default", pod("running", ["sleep", "3600"], STOP_SLOWLY))
    wait_for(lambda: pod_phase(core, "done") == "Succeeded" and pod_phase(core, "running") == "Running")
    wait_for(lambda: core.read_namespaced_pod("unplaced", "default").status.conditions)
    for name in ("unplaced", "done", "running"):
        core.delete_namespaced_pod(name, "default")
    assert gone(core, "unplaced") and gone(core, "done")  # not scheduled / already Succeeded
    assert pod_phase(core, "running") == "Running"  # still stopping
