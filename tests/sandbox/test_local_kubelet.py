"""The local kubelet: with a sandbox mapping, a pod whose images all map to entries that run locally has its
containers run as processes on this machine, and kubectl and the kubernetes client see what a kubelet reports
for them (phase, container states from the real exit codes, real logs, Events, a pod IP on loopback)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
from kubernetes.client import CoreV1Api

from airflow_provider_sparkk8s.sandbox import SandboxConfig
from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl, kubectl_json, pod_phase, wait_for
from tests.runtime.support import bwrap
from tests.sandbox.local_kubelet import (
    HOST_IMAGE,
    MAPPING,
    create,
    event_reasons,
    finished,
    pod,
    processes_running,
    state_dir,
)


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
        wait_for(lambda name=name: pod_phase(core, name) == "Running", timeout=20)  # type: ignore[misc]
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
    create(kube, state_dir(pod("simulated", "touch /state/ran", image="legacy/tool:1"), tmp_path))
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
    create(plain, state_dir(pod("plain", "touch /state/ran"), tmp_path))
    assert finished(core, "plain").status.phase == "Succeeded"
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------- step 2
def test_an_init_container_writes_an_empty_dir_the_main_one_reads(kube: KubeEmulator, core: CoreV1Api) -> None:
    kubectl(kube, "create", "configmap", "settings", "--from-literal=greeting=hi")
    manifest = pod("shared", "cat /data/order; echo $GREETING $MY_POD; ls /conf; cat /tmp/x 2>/dev/null || echo no-x")
    mounts = [{"name": "data", "mountPath": "/data"}]
    manifest["spec"]["initContainers"] = [
        {"name": f"init{i}", "image": HOST_IMAGE, "command": ["sh", "-c", f"echo init{i} >> /data/order; "
                                                                          f"echo private > /tmp/x"],
         "volumeMounts": mounts} for i in (1, 2)]
    main = manifest["spec"]["containers"][0]
    main["volumeMounts"] = [*mounts, {"name": "conf", "mountPath": "/conf"}]
    main["env"] = [{"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "greeting"}}},
                   {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    manifest["spec"]["volumes"] = [{"name": "data", "emptyDir": {}},
                                   {"name": "conf", "configMap": {"name": "settings"}}]
    create(kube, manifest)
    done = finished(core, "shared")
    assert done.status.phase == "Succeeded", kubectl(kube, "logs", "shared").stdout
    # The init containers ran in order; each container has its own /tmp.
    assert kubectl(kube, "logs", "shared").stdout.splitlines() == ["init1", "init2", "hi shared", "greeting", "no-x"]
    assert [s.state.terminated.reason for s in done.status.init_container_statuses] == ["Completed", "Completed"]
    assert kubectl(kube, "logs", "shared", "-c", "init1").stdout == ""


def test_a_failing_init_container_fails_the_pod_with_restart_never(kube: KubeEmulator, core: CoreV1Api,
                                                                   tmp_path: Path) -> None:
    marker = tmp_path / "main-ran"
    manifest = state_dir(pod("init-fails", "touch /state/main-ran"), tmp_path)
    manifest["spec"]["initContainers"] = [{"name": "setup", "image": HOST_IMAGE, "command": ["sh", "-c", "exit 7"]}]
    create(kube, manifest)
    done = finished(core, "init-fails")
    assert done.status.phase == "Failed"
    assert done.status.init_container_statuses[0].state.terminated.exit_code == 7
    assert done.status.container_statuses[0].state.waiting.reason == "PodInitializing"
    assert not marker.exists()
    assert kubectl(kube, "get", "pod", "init-fails", "--no-headers").stdout.split()[2] == "Init:Error"


def test_a_missing_config_map_is_a_failed_mount(kube: KubeEmulator, core: CoreV1Api) -> None:
    manifest = pod("no-volume", "true")
    manifest["spec"]["volumes"] = [{"name": "conf", "configMap": {"name": "absent"}}]
    manifest["spec"]["containers"][0]["volumeMounts"] = [{"name": "conf", "mountPath": "/conf"}]
    create(kube, manifest)
    wait_for(lambda: "FailedMount" in event_reasons(kube, "no-volume"), timeout=10)
    events = kubectl_json(kube, "get", "events", "--field-selector", "involvedObject.name=no-volume")["items"]
    [mount] = [e for e in events if e["reason"] == "FailedMount"][:1]
    assert mount["message"] == 'MountVolume.SetUp failed for volume "conf" : configmap "absent" not found'
    assert mount["type"] == "Warning"
    current = core.read_namespaced_pod("no-volume", "default")
    assert current.status.phase == "Pending"
    assert current.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
    kubectl(kube, "create", "configmap", "absent", "--from-literal=k=v")  # the kubelet tries again
    assert finished(core, "no-volume").status.phase == "Succeeded"


def test_a_missing_key_is_a_create_container_config_error(kube: KubeEmulator, core: CoreV1Api) -> None:
    kubectl(kube, "create", "configmap", "partial", "--from-literal=other=1")
    manifest = pod("no-key", "echo $VALUE")
    manifest["spec"]["containers"][0]["env"] = [
        {"name": "VALUE", "valueFrom": {"configMapKeyRef": {"name": "partial", "key": "wanted"}}}]
    create(kube, manifest)

    def waiting() -> Any:
        statuses = core.read_namespaced_pod("no-key", "default").status.container_statuses or []
        return statuses and statuses[0].state.waiting and statuses[0].state.waiting.reason == \
            "CreateContainerConfigError" and statuses[0].state.waiting
    state = wait_for(waiting, timeout=10)
    assert state.message == "couldn't find key wanted in ConfigMap default/partial"
    assert kubectl(kube, "get", "pod", "no-key", "--no-headers").stdout.split()[2] == "CreateContainerConfigError"
    events = kubectl_json(kube, "get", "events", "--field-selector", "involvedObject.name=no-key")["items"]
    assert any(e["reason"] == "Failed" and e["message"] == f"Error: {state.message}" for e in events)


def test_on_failure_restarts_until_the_container_succeeds(kube: KubeEmulator, core: CoreV1Api,
                                                         tmp_path: Path) -> None:
    create(kube, state_dir(pod("flaky", "echo x >> /state/count; wc -l < /state/count; "
                                        "[ $(wc -l < /state/count) -ge 3 ] || exit 1; echo done",
                               restartPolicy="OnFailure"), tmp_path))
    done = finished(core, "flaky")
    assert done.status.phase == "Succeeded"
    status = done.status.container_statuses[0]
    assert status.restart_count == 2
    assert status.last_state.terminated.exit_code == 1
    assert "BackOff" in event_reasons(kube, "flaky")
    # The log is the last run's; the run before is --previous (each run printed how many runs there were).
    assert kubectl(kube, "logs", "flaky").stdout == "3\ndone\n"
    assert kubectl(kube, "logs", "flaky", "--previous").stdout == "2\n"


def test_always_restarts_with_crash_loop_back_off(kube: KubeEmulator, core: CoreV1Api) -> None:
    create(kube, pod("crashing", "exit 2", restartPolicy="Always"))

    def backing_off() -> bool:
        statuses = core.read_namespaced_pod("crashing", "default").status.container_statuses or []
        return bool(statuses and statuses[0].restart_count >= 2 and statuses[0].state.waiting
                    and statuses[0].state.waiting.reason == "CrashLoopBackOff")
    wait_for(backing_off, timeout=20)
    current = core.read_namespaced_pod("crashing", "default")
    assert current.status.phase == "Running"
    assert current.status.container_statuses[0].state.waiting.message.startswith("back-off ")
    assert kubectl(kube, "get", "pod", "crashing", "--no-headers").stdout.split()[2] == "CrashLoopBackOff"


# ---------------------------------------------------------------------------------------------- step 3
def test_deleting_a_running_pod_sends_sigterm_and_leaves_no_process(kube: KubeEmulator, core: CoreV1Api,
                                                                    tmp_path: Path) -> None:
    # A detached grandchild (setsid) too: the PID namespace takes it down with the container.
    script = "trap 'echo term > /state/term; exit 0' TERM; setsid sleep 4141 & while true; do sleep 0.1; done"
    create(kube, state_dir(pod("graceful", script), tmp_path))
    wait_for(lambda: pod_phase(core, "graceful") == "Running" and processes_running("sleep 4141"), timeout=20)
    kubectl(kube, "delete", "pod", "graceful", "--wait=false")
    wait_for(lambda: pod_phase(core, "graceful") is None, timeout=10, what="the pod to go")
    assert (tmp_path / "term").read_text() == "term\n"  # the program had its SIGTERM and its grace period
    wait_for(lambda: not processes_running("sleep 4141"), timeout=5, what="no process left")
    assert "Killing" in event_reasons(kube, "graceful")


def test_a_program_ignoring_sigterm_is_killed_when_the_grace_period_ends(kube: KubeEmulator,
                                                                         core: CoreV1Api) -> None:
    create(kube, pod("stubborn", "trap '' TERM; while true; do sleep 0.1; done; echo 4242"))
    wait_for(lambda: pod_phase(core, "stubborn") == "Running" and processes_running("echo 4242"), timeout=20)
    kubectl(kube, "delete", "pod", "stubborn", "--grace-period=1", "--wait=false")
    assert core.read_namespaced_pod("stubborn", "default").metadata.deletion_timestamp is not None
    wait_for(lambda: pod_phase(core, "stubborn") is None, timeout=10, what="the pod to go")
    assert not processes_running("echo 4242")


def test_active_deadline_stops_the_pod_failed(kube: KubeEmulator, core: CoreV1Api) -> None:
    create(kube, pod("late", "sleep 4343", activeDeadlineSeconds=1))
    done = finished(core, "late")
    assert (done.status.phase, done.status.reason) == ("Failed", "DeadlineExceeded")
    terminated = done.status.container_statuses[0].state.terminated
    # sleep is the container's PID 1 (sh execs it): it ignores SIGTERM, so the grace period ends it with SIGKILL
    assert terminated.exit_code == 137 and terminated.reason == "Error"
    assert "DeadlineExceeded" in event_reasons(kube, "late")
    assert not processes_running("sleep 4343")


# ---------------------------------------------------------------------------------------------- step 4
def test_an_image_the_mapping_does_not_list_cannot_be_pulled(kube: KubeEmulator, core: CoreV1Api) -> None:
    create(kube, pod("unmapped", "true", image="example.test/nosuch:1"))

    def reason() -> str | None:
        statuses = core.read_namespaced_pod("unmapped", "default").status.container_statuses or []
        waiting = statuses[0].state.waiting if statuses else None
        return waiting.reason if waiting else None
    seen = {wait_for(lambda: reason() in ("ErrImagePull", "ImagePullBackOff") and reason(), timeout=10)}
    seen.add(wait_for(lambda: reason() in {"ErrImagePull", "ImagePullBackOff"} - seen and reason(), timeout=10))
    assert seen == {"ErrImagePull", "ImagePullBackOff"}

    def waiting_message(reason: str) -> str | None:
        statuses = core.read_namespaced_pod("unmapped", "default").status.container_statuses or []
        waiting = statuses[0].state.waiting if statuses else None
        return waiting.message if waiting and waiting.reason == reason else None
    # The runtime's error; since 1.32 the back-off's message carries the last pull's error after it.
    error = 'rpc error: code = NotFound desc = failed to pull and unpack image "example.test/nosuch:1": not found'
    assert wait_for(lambda: waiting_message("ErrImagePull"), timeout=10) == error
    assert wait_for(lambda: waiting_message("ImagePullBackOff"), timeout=10) == \
        f'Back-off pulling image "example.test/nosuch:1": ErrImagePull: {error}'
    assert core.read_namespaced_pod("unmapped", "default").status.phase == "Pending"
    events = kubectl_json(kube, "get", "events", "--field-selector", "involvedObject.name=unmapped")["items"]
    failed = [e["message"] for e in events if e["reason"] == "Failed"]
    assert any(m.startswith('Failed to pull image "example.test/nosuch:1": ') for m in failed)
    assert {"Error: ErrImagePull", "Error: ImagePullBackOff"} <= set(failed)
    assert all(e["type"] == "Warning" for e in events if e["reason"] == "Failed")
    # The image manager records the back-off itself as a Normal Event (kubectl describe: "Normal  BackOff").
    assert {(e["type"], e["message"]) for e in events if e["reason"] == "BackOff"} == {
        ("Normal", 'Back-off pulling image "example.test/nosuch:1"')}
    kubectl(kube, "delete", "pod", "unmapped")
    assert pod_phase(core, "unmapped") is None


def test_the_banner_says_which_images_run_on_this_machine(tmp_path: Path) -> None:
    from airflow_provider_sparkk8s.sandbox import Sandbox

    banner = Sandbox(SandboxConfig.from_dict(MAPPING, base=tmp_path), workdir=tmp_path / "box").banner()
    assert "the containers of these images' pods run their commands on this machine" in banner
    assert "    busybox:*: host programs" in banner and "    python:3.12: host programs" in banner
    assert "legacy/*" not in banner
    assert "fail to pull (ImagePullBackOff)" in banner


# ---------------------------------------------------------------------------------------------- exec probes
def test_a_readiness_probe_makes_the_container_ready(kube: KubeEmulator, core: CoreV1Api) -> None:
    manifest = pod("probed", "sleep 1; touch /tmp/ready; sleep 60")
    manifest["spec"]["containers"][0]["readinessProbe"] = {"exec": {"command": ["cat", "/tmp/ready"]},
                                                           "periodSeconds": 1}
    create(kube, manifest)
    wait_for(lambda: pod_phase(core, "probed") == "Running", timeout=20)
    assert core.read_namespaced_pod("probed", "default").status.container_statuses[0].ready is False
    wait_for(lambda: core.read_namespaced_pod("probed", "default").status.container_statuses[0].ready, timeout=10)
    conditions = {c.type: c.status for c in core.read_namespaced_pod("probed", "default").status.conditions}
    assert conditions["Ready"] == conditions["ContainersReady"] == "True"
    assert "Unhealthy" in event_reasons(kube, "probed")  # the probe failed before the file was there


def test_a_failing_liveness_probe_restarts_the_container(kube: KubeEmulator, core: CoreV1Api) -> None:
    manifest = pod("unlive", "sleep 60", restartPolicy="Always", terminationGracePeriodSeconds=1)
    manifest["spec"]["containers"][0]["livenessProbe"] = {"exec": {"command": ["false"]}, "periodSeconds": 1,
                                                          "failureThreshold": 2}
    create(kube, manifest)

    def restarted() -> bool:
        statuses = core.read_namespaced_pod("unlive", "default").status.container_statuses or []
        return bool(statuses and statuses[0].restart_count >= 1)
    wait_for(restarted, timeout=20)
    status = core.read_namespaced_pod("unlive", "default").status.container_statuses[0]
    assert status.last_state.terminated.exit_code == 137  # sleep, PID 1, ignored the SIGTERM: killed after 1 s
    reasons = event_reasons(kube, "unlive")
    assert "Unhealthy" in reasons and "Killing" in reasons


def test_running_containers_are_registered_for_exec_until_they_end(kube: KubeEmulator, core: CoreV1Api) -> None:
    create(kube, pod("registered", "sleep 4545"))
    running = wait_for(lambda: kube.containers.get("default", "registered", "main"), timeout=20)
    assert running.pid is not None and processes_running("sleep 4545")
    kubectl(kube, "delete", "pod", "registered", "--grace-period=1")
    assert kube.containers.of_pod("default", "registered") == {}
    assert not processes_running("sleep 4545")


def test_a_sidecar_runs_beside_the_containers_and_stops_after_them(kube: KubeEmulator, core: CoreV1Api) -> None:
    manifest = pod("with-sidecar", "sleep 1; cat /data/beat | head -1; echo main done")
    manifest["spec"]["initContainers"] = [{
        "name": "beat", "image": HOST_IMAGE, "restartPolicy": "Always",
        "command": ["sh", "-c", "while true; do echo beat >> /data/beat; sleep 0.2; done; echo 4646"],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]
    manifest["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    manifest["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    create(kube, manifest)
    wait_for(lambda: pod_phase(core, "with-sidecar") == "Running", timeout=20)
    row = kubectl(kube, "get", "pod", "with-sidecar", "--no-headers").stdout.split()
    assert row[1:3] == ["2/2", "Running"] or pod_phase(core, "with-sidecar") != "Running", row
    done = finished(core, "with-sidecar")
    assert done.status.phase == "Succeeded"  # the sidecar's own end (killed when stopped) does not fail the pod
    assert kubectl(kube, "logs", "with-sidecar", "-c", "main").stdout == "beat\nmain done\n"
    sidecar = done.status.init_container_statuses[0].state.terminated
    assert sidecar.exit_code == 137  # a shell as PID 1 without a trap ignores SIGTERM: SIGKILL after the grace period
    assert not processes_running("echo 4646")


def sidecar_order_pod(name: str, main_script: str, host_dir: Path) -> dict:
    """Two sidecars and a container, each writing its name to /state/order when it gets SIGTERM."""
    def on_term(who: str, then: str) -> list[str]:
        return ["sh", "-c", f"trap 'echo {who} >> /state/order; exit 0' TERM; {then}"]
    manifest = pod(name, "")
    manifest["spec"]["terminationGracePeriodSeconds"] = 10
    manifest["spec"]["containers"][0]["command"] = on_term("main", main_script)
    manifest["spec"]["initContainers"] = [
        {"name": who, "image": HOST_IMAGE, "restartPolicy": "Always",
         "command": on_term(who, "while true; do sleep 0.1; done"),
         "volumeMounts": [{"name": "state", "mountPath": "/state"}]} for who in ("first", "second")]
    return state_dir(manifest, host_dir)


def test_sidecars_stop_after_the_containers_in_reverse_order(kube: KubeEmulator, core: CoreV1Api,
                                                            tmp_path: Path) -> None:
    """Since Kubernetes 1.29 the kubelet stops a pod's sidecars only once its containers have ended, the last
    sidecar first: on deletion (the containers get SIGTERM first) and when the containers end by themselves."""
    deleted, ended = tmp_path / "deleted", tmp_path / "ended"
    deleted.mkdir()
    ended.mkdir()
    create(kube, sidecar_order_pod("deleted", "while true; do sleep 0.1; done", deleted))
    wait_for(lambda: pod_phase(core, "deleted") == "Running", timeout=20, what="the pod to run")
    kubectl(kube, "delete", "pod", "deleted", "--wait=true", timeout=60)
    assert (deleted / "order").read_text().split() == ["main", "second", "first"]

    create(kube, sidecar_order_pod("ended", "sleep 0.5; echo main ended itself >> /state/order", ended))
    assert finished(core, "ended").status.phase == "Succeeded"
    assert (ended / "order").read_text().splitlines() == ["main ended itself", "second", "first"]


def test_kubectl_exec_and_cp_reach_a_pod_the_local_kubelet_runs(kube: KubeEmulator, core: CoreV1Api,
                                                                 tmp_path: Path) -> None:
    create(kube, pod("shell", "echo ready > /tmp/state; sleep 300"))
    wait_for(lambda: pod_phase(core, "shell") == "Running", timeout=20, what="shell to run")
    # exec runs in the container's own view: its private /tmp, with what the main program wrote there.
    assert wait_for(lambda: kubectl(kube, "exec", "shell", "--", "cat", "/tmp/state", check=False).stdout.strip()
                    == "ready", timeout=10)
    failed = kubectl(kube, "exec", "shell", "--", "sh", "-c", "exit 7", check=False)
    assert failed.returncode == 7
    (tmp_path / "in.txt").write_text("from the host\n")
    kubectl(kube, "cp", str(tmp_path / "in.txt"), "default/shell:/tmp/in.txt")
    assert kubectl(kube, "exec", "shell", "--", "cat", "/tmp/in.txt").stdout == "from the host\n"
    kubectl(kube, "cp", "default/shell:/tmp/state", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "ready\n"


def test_an_exec_shares_the_containers_pid_namespace(kube: KubeEmulator, core: CoreV1Api) -> None:
    """As in a container, the program is PID 1 and an exec's processes see it: ``kill -2 1`` reaches a program
    that traps SIGINT (what KubernetesPodOperator does to its XCom sidecar), and the pod then ends with its
    exit code."""
    create(kube, pod("pid-one", 'trap "echo interrupted; exit 0" INT; while true; do sleep 0.1; done'))
    wait_for(lambda: pod_phase(core, "pid-one") == "Running", timeout=20, what="pid-one to run")
    shown = wait_for(lambda: kubectl(kube, "exec", "pid-one", "--", "cat", "/proc/1/cmdline", check=False).stdout,
                     timeout=10)
    assert shown.split("\0")[:2] == ["sh", "-c"]
    kubectl(kube, "exec", "pid-one", "--", "kill", "-2", "1")
    done = finished(core, "pid-one")
    assert done.status.phase == "Succeeded"
    assert done.status.container_statuses[0].state.terminated.exit_code == 0
    assert kubectl(kube, "logs", "pid-one").stdout == "interrupted\n"
    stopped = kubectl(kube, "exec", "pid-one", "--", "true", check=False)
    assert stopped.returncode != 0  # no exec into a container that has ended


def test_an_ended_pods_files_stay_until_the_pod_is_deleted(kube: KubeEmulator, core: CoreV1Api) -> None:
    """As a node keeps an ended pod's volumes and its containers' files until the pod is removed (Argo's executor
    reads a step's output files after the step's program ended); deleting the pod removes them."""
    create(kube, pod("leaves-files", "echo kept > /tmp/out.txt"))
    done = finished(core, "leaves-files")
    assert kube.containers.read_file("default", "leaves-files", "main", "/tmp/out.txt") == b"kept\n"
    pod_dir = kube.workdir / "kubelet" / "pods" / done.metadata.uid
    assert pod_dir.is_dir()
    kubectl(kube, "delete", "pod", "leaves-files")
    wait_for(lambda: not pod_dir.exists(), timeout=10, what="the pod's files to go")
    assert kube.containers.read_file("default", "leaves-files", "main", "/tmp/out.txt") is None


def test_a_mapped_program_is_where_the_image_has_it_with_the_image_env_and_mounts(
        kube_emulator_factory: Callable[..., KubeEmulator], tmp_path: Path) -> None:
    """In an image, a program is there for every process of the container, not only for its command: a shell
    script calling `greet` runs the mapped stand-in, and so does `/opt/tool` by its path. The image's ENV is
    the container's env below the pod's own; a mapped directory is seen at its path (the container's /tmp is its
    own, so a host directory under /tmp needs the mount)."""
    bwrap()
    (tmp_path / "stand-ins").mkdir()
    greet = tmp_path / "stand-ins" / "greet"
    greet.write_text('#!/bin/sh\necho "greet $* from $GREETING, data in $DATA_DIR"\n')
    greet.chmod(0o755)
    shared = tmp_path / "shared"
    config = SandboxConfig.from_dict({"images": [{
        "image": "tools:1", "run": "host", "commands": {"greet": "stand-ins/greet", "/opt/tool": "stand-ins/greet"},
        "env": {"GREETING": "the image", "DATA_DIR": "/data"}, "mounts": {"/data": str(shared)}}]}, base=tmp_path)
    kube = kube_emulator_factory(run_images=config.image, pod_pending_seconds=0.05)
    core = CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))
    manifest = pod("tools", "greet one; /opt/tool two; GREETING=the-shell greet three; echo kept > $DATA_DIR/out",
                   image="tools:1")
    manifest["spec"]["containers"][0]["env"] = [{"name": "DATA_DIR", "value": "/data"}]
    create(kube, manifest)
    assert finished(core, "tools").status.phase == "Succeeded", kubectl(kube, "logs", "tools").stdout
    assert kubectl(kube, "logs", "tools").stdout == (
        "greet one from the image, data in /data\ngreet two from the image, data in /data\n"
        "greet three from the-shell, data in /data\n")
    assert (shared / "out").read_text() == "kept\n"
    # As the container's command too, though the stand-in's host path (under /tmp here) is not in the container.
    direct = pod("direct", "", image="tools:1")
    direct["spec"]["containers"][0]["command"] = ["greet", "zero"]
    create(kube, direct)
    assert finished(core, "direct").status.phase == "Succeeded", kubectl(kube, "logs", "direct").stdout
    assert kubectl(kube, "logs", "direct").stdout == "greet zero from the image, data in /data\n"


def test_the_pod_env_overrides_the_image_env(kube_emulator_factory: Callable[..., KubeEmulator],
                                             tmp_path: Path) -> None:
    """Kubernetes: a container's env is the image's ENV with the pod's env on top."""
    bwrap()
    config = SandboxConfig.from_dict({"images": [{"image": "tools:1", "run": "host",
                                                  "env": {"A": "image", "B": "image"}}]}, base=tmp_path)
    kube = kube_emulator_factory(run_images=config.image, pod_pending_seconds=0.05)
    core = CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))
    manifest = pod("env", "echo $A $B", image="tools:1")
    manifest["spec"]["containers"][0]["env"] = [{"name": "B", "value": "pod"}]
    create(kube, manifest)
    assert finished(core, "env").status.phase == "Succeeded"
    assert kubectl(kube, "logs", "env").stdout == "image pod\n"
