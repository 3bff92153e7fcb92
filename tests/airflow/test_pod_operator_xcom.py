"""KubernetesPodOperator (the cncf.kubernetes provider, unchanged) run by real Airflow against the emulator whose
local kubelet runs the pod's containers as processes on this machine.

What the provider does with ``do_xcom_push=True`` (``utils/pod_manager.py``, ``utils/xcom_sidecar.py``): it adds
an emptyDir at /airflow/xcom to the base container and a sidecar ``airflow-xcom-sidecar`` (alpine, ``sh -c 'trap
"exit 0" INT; while true; do sleep 1; done;'``); it waits for the base container to terminate, reads
/airflow/xcom/return.json through pods/exec in the sidecar (``/bin/sh -c 'if [ -s ... ]; then cat ...'``), then
kills the sidecar through another exec whose stdin is ``kill -2 $(pgrep -u $(id -u) -f 'sh')``: the sidecar's
shell is its container's PID 1 and traps SIGINT, so it exits 0 and the pod ends Succeeded. A kubelet reports an
image it cannot pull as the container waiting with ErrImagePull, then ImagePullBackOff; the provider gives up at
once on either (``detect_pod_terminate_early_issues``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.sandbox import SandboxConfig
from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.conftest import DagResult
from tests.emulator.cluster_clients import wait_for
from tests.runtime.support import bwrap

MAPPING = {"images": [{"image": "alpine:*", "run": "host"},
                      {"image": "python:3.12", "run": "host", "entrypoint": ["python3"],
                       "commands": {"python": "python3"}}]}
IMPORTS = "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator\n"
RESULT = {"rows": 3, "tables": ["a", "b"], "ok": True}


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator], tmp_path: Path) -> KubeEmulator:
    bwrap()
    config = SandboxConfig.from_dict(MAPPING, base=tmp_path)
    kube = kube_emulator_factory(run_images=config.image, pod_pending_seconds=0.05, argo_server=False)
    kube.created_pods = []  # the operator deletes its pod when it ends: keep what it created
    kube.store.add_listener(lambda event, rt, obj, old: kube.created_pods.append(obj)
                            if event == "ADDED" and rt.plural == "pods" else None)
    return kube


def pod_task(script: str, image: str = "python:3.12") -> str:
    return (f"KubernetesPodOperator(task_id='produce', namespace='default', image={image!r}, name='produce',\n"
            f"    cmds=['python', '-c', {script!r}], do_xcom_push=True, get_logs=True,\n"
            f"    startup_timeout_seconds=60)\n")


WRITE_RESULT = ("import json, os\n"
                "print('computing the result', flush=True)\n"
                f"json.dump({RESULT!r}, open('/airflow/xcom/return.json', 'w'))\n"
                "print('done', flush=True)\n")


def test_the_xcom_is_the_json_the_container_wrote(kube: KubeEmulator, run_dag: Callable[..., DagResult]) -> None:
    result = run_dag(pod_task(WRITE_RESULT), imports=IMPORTS)
    assert result.states == {"produce": "success"}, result.output[-3000:]
    assert result.xcom("produce") == RESULT
    # The base container's log, as the operator follows it into the task log.
    assert "[base] computing the result" in result.output and "[base] done" in result.output
    [created] = kube.created_pods
    names = [c["name"] for c in created["spec"]["containers"]]
    assert names == ["base", "airflow-xcom-sidecar"]
    # The operator deleted the pod once done (a graceful deletion: the kubelet removes it once it has ended).
    wait_for(lambda: kube.get("v1", "Pod", created["metadata"]["name"], "default") is None, timeout=20,
             what="the pod to go")
    assert "Failed to kill xcom sidecar" not in result.output


def test_a_failing_container_fails_the_task_with_its_exit_code(kube: KubeEmulator,
                                                               run_dag: Callable[..., DagResult]) -> None:
    script = "import sys\nprint('about to fail', flush=True)\nsys.exit(4)\n"
    result = run_dag(pod_task(script), imports=IMPORTS)
    assert result.states == {"produce": "failed"}
    assert "[base] about to fail" in result.output
    # The operator's failure names the pod's end: the base container terminated with exit code 4, reason Error.
    assert "'exit_code': 4" in result.output and "'reason': 'Error'" in result.output
    assert result.xcom("produce") is None


def test_an_image_that_cannot_be_pulled_fails_the_task(kube: KubeEmulator,
                                                       run_dag: Callable[..., DagResult]) -> None:
    result = run_dag(pod_task("print('never runs')", image="example.test/unmapped:1"), imports=IMPORTS)
    assert result.states == {"produce": "failed"}
    # The operator polls once a second: it sees the pull's failure or the back-off after it, with its message.
    # The waiting message is the runtime's error; from 1.32 the back-off's carries the last pull's error after it.
    error = 'rpc error: code = NotFound desc = failed to pull and unpack image "example.test/unmapped:1": not found'
    pulling = {"ErrImagePull": error,
               "ImagePullBackOff": f'Back-off pulling image "example.test/unmapped:1": ErrImagePull: {error}'}
    assert any(f"Image cannot be pulled, unable to start: {reason}\n{message}" in result.output
               for reason, message in pulling.items()), result.output[-3000:]
    assert "[base] never runs" not in result.output  # no log line from the container


def test_the_sidecar_is_killed_through_exec_and_the_pod_succeeds(kube: KubeEmulator,
                                                                 run_dag: Callable[..., DagResult]) -> None:
    """With the pod kept, its end shows the sidecar's exit: 0, from its SIGINT trap (not a kill at deletion)."""
    body = pod_task(WRITE_RESULT).replace("startup_timeout_seconds=60", "startup_timeout_seconds=60, "
                                                                        "on_finish_action='keep_pod'")
    result = run_dag(body, imports=IMPORTS)
    assert result.states == {"produce": "success"}, result.output[-3000:]
    assert result.xcom("produce") == RESULT
    [created] = kube.created_pods
    name = created["metadata"]["name"]
    # The operator does not wait for the pod's end once the base container ended; the kubelet gets there.
    pod = wait_for(lambda: (p := kube.get("v1", "Pod", name, "default")) and p["status"].get("phase") in
                   ("Succeeded", "Failed") and p, timeout=20, what="the pod to end")
    statuses = {s["name"]: s for s in pod["status"]["containerStatuses"]}
    assert statuses["airflow-xcom-sidecar"]["state"]["terminated"]["exitCode"] == 0
    assert statuses["base"]["state"]["terminated"]["exitCode"] == 0
    assert pod["status"]["phase"] == "Succeeded"
    assert kube.pods.logs("default", name, "base") == "computing the result\ndone\n"
