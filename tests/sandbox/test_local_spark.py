"""Spark pods in the sandbox: mapped applications run for real with pyspark's spark-submit, the rest is
simulated, and what runs locally stops with its pod."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.sandbox.conftest import TEST_IMAGE, driver_pod, exit_code, require_spark, wait_for_pod

pytestmark = pytest.mark.slow

PI = "local:///opt/spark/examples/src/main/python/pi.py"


@pytest.fixture(autouse=True)
def _spark() -> None:
    require_spark()


def test_a_mapped_driver_runs_pi_for_real_and_its_output_is_the_pod_log(sandbox_factory) -> None:
    sandbox = sandbox_factory()
    sandbox.emulator.apply(driver_pod("pi-driver", PI, "2", image="apache/spark:4.0.1"), "spark-jobs")
    pod = wait_for_pod(sandbox, "pi-driver")
    log = sandbox.emulator.pods.logs("spark-jobs", "pi-driver")
    assert pod["status"]["phase"] == "Succeeded", log
    assert exit_code(pod) == 0
    assert "Pi is roughly 3.1" in log
    assert "[sandbox] emulated control plane: this driver runs on this machine, not in a cluster" in log
    assert "executors are not started" in log
    assert "--master 'local[1]'" in log and "apps/pi.py 2" in log
    # No executor pods: local mode has none.
    assert [p["metadata"]["name"] for p in sandbox.emulator.list("v1", "Pod", "spark-jobs")] == ["pi-driver"]
    [run] = sandbox.spark.runs
    assert run.file.name == "pi.py" and run.exit_code == 0
    assert any("pi-driver: running" in event for event in sandbox.events)


def test_a_failing_application_fails_the_pod_with_its_exit_code(sandbox_factory) -> None:
    sandbox = sandbox_factory()
    sandbox.emulator.apply(driver_pod("bad-driver", "local:///apps/fail.py"), "spark-jobs")
    pod = wait_for_pod(sandbox, "bad-driver")
    log = sandbox.emulator.pods.logs("spark-jobs", "bad-driver")
    assert pod["status"]["phase"] == "Failed", log
    assert exit_code(pod) == 3
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Error"
    assert "failing on purpose" in log and "[sandbox] spark-submit exited with code 3" in log


def test_a_simulated_image_follows_the_simulated_rules_and_says_so(sandbox_factory) -> None:
    """An image the mapping marks ``simulate: true`` keeps the simulator's rules (an image it does not list at all
    fails to pull, as on a cluster: test_local_kubelet.py)."""
    sandbox = sandbox_factory(images=[{"image": "other/*", "simulate": True}])
    sandbox.emulator.apply(driver_pod("sim-driver", PI, "2", image="other/spark:1"), "spark-jobs")
    pod = wait_for_pod(sandbox, "sim-driver")
    log = sandbox.emulator.pods.logs("spark-jobs", "sim-driver")
    assert pod["status"]["phase"] == "Succeeded"
    assert ("[sandbox] emulated control plane: this Spark pod is simulated, not run (image other/spark:1 has no "
            "entry in the sandbox mapping)") in log
    assert "emulated driver sim-driver" in log  # the simulator's canned driver log
    assert sandbox.spark.runs == []
    assert sandbox.spark.simulated == [("spark-jobs/sim-driver", "image other/spark:1 has no entry in the sandbox "
                                                                  "mapping")]
    executors = sandbox.emulator.list("v1", "Pod", "spark-jobs", "spark-role=executor")
    assert len(executors) == 2 or all(e["metadata"].get("deletionTimestamp") for e in executors)


def test_the_pod_env_reaches_the_app_but_not_the_container_paths(sandbox_factory) -> None:
    sandbox = sandbox_factory()
    env = {"GREETING": "hi", "SPARK_LOCAL_DIRS": "/var/data/spark-1"}
    sandbox.emulator.apply(driver_pod("env-driver", "local:///apps/hello.py", "there", env=env), "spark-jobs")
    pod = wait_for_pod(sandbox, "env-driver")
    log = sandbox.emulator.pods.logs("spark-jobs", "env-driver")
    assert pod["status"]["phase"] == "Succeeded", log
    assert "hello from there hi" in log
    assert "SPARK_LOCAL_DIRS /var/data/spark-1" not in log


def test_an_argo_spark_submit_step_runs_locally_and_other_steps_are_simulated(sandbox_factory) -> None:
    sandbox = sandbox_factory(images=[{"image": "busybox:*", "simulate": True}])
    sandbox.emulator.create_namespace("argo")
    sandbox.emulator.apply({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "wf", "namespace": "argo"},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "steps": [[{"name": "spark", "template": "spark"}], [{"name": "other",
                                                                                    "template": "other"}]]},
            {"name": "spark", "container": {"image": TEST_IMAGE, "command": ["/opt/spark/bin/spark-submit"],
                                            "args": ["/apps/hello.py", "argo"]}},
            {"name": "other", "container": {"image": "busybox:1.36", "command": ["echo", "hi"]}},
        ]},
    })
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        wf = sandbox.emulator.get("argoproj.io/v1alpha1", "Workflow", "wf", "argo")
        if (wf.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Error"):
            break
        time.sleep(0.2)
    assert wf["status"]["phase"] == "Succeeded", wf.get("status")
    pods = {p["spec"]["containers"][0]["image"]: p for p in sandbox.emulator.list("v1", "Pod", "argo")}
    spark_log = sandbox.emulator.pods.logs("argo", pods[TEST_IMAGE]["metadata"]["name"])
    assert "this spark-submit (client mode) runs on this machine" in spark_log
    assert "hello from argo" in spark_log
    other_log = sandbox.emulator.pods.logs("argo", pods["busybox:1.36"]["metadata"]["name"])
    assert "emulated container" in other_log and "[sandbox]" not in other_log
    assert [run.file.name for run in sandbox.spark.runs] == ["hello.py"]


def _processes_running(path: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and path in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_deleting_the_pod_kills_the_local_application(sandbox_factory, apps_dir: Path) -> None:
    sandbox = sandbox_factory()
    sandbox.emulator.apply(driver_pod("sleepy-driver", "local:///apps/sleep.py"), "spark-jobs")
    deadline = time.monotonic() + 120
    while "sleeping" not in sandbox.emulator.pods.logs("spark-jobs", "sleepy-driver"):
        assert time.monotonic() < deadline, sandbox.emulator.pods.logs("spark-jobs", "sleepy-driver")
        time.sleep(0.2)
    sleeper = str(apps_dir / "sleep.py")
    assert _processes_running(sleeper)
    sandbox.emulator.store.delete(sandbox.emulator.store.rt("v1", "Pod"), "spark-jobs", "sleepy-driver")
    deadline = time.monotonic() + 15
    while _processes_running(sleeper) or sandbox.spark.runs[0].seconds is None:
        assert time.monotonic() < deadline, "the local application outlived its pod"
        time.sleep(0.2)
    assert sandbox.spark.runs[0].exit_code is None


def test_an_application_past_the_time_limit_is_killed(sandbox_factory, apps_dir: Path) -> None:
    sandbox = sandbox_factory(timeout_seconds=2.0)
    sandbox.emulator.apply(driver_pod("slow-driver", "local:///apps/sleep.py"), "spark-jobs")
    pod = wait_for_pod(sandbox, "slow-driver")
    assert pod["status"]["phase"] == "Failed" and exit_code(pod) == 137
    assert "[sandbox] killed after 2s" in sandbox.emulator.pods.logs("spark-jobs", "slow-driver")
    assert not _processes_running(str(apps_dir / "sleep.py"))
