"""SparkK8sTrigger as the triggerer sees it: serialized, re-created from its classpath and kwargs, and run in
another process than the worker that deferred."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.hooks.spark import SparkRun
from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.triggers.spark import SparkK8sTrigger

NS = "spark-jobs"
REPO = Path(__file__).resolve().parents[2]

# What the triggerer does: import the class from the serialized classpath, build it from the kwargs, run it.
TRIGGERER = textwrap.dedent("""
    import asyncio, importlib, json, sys

    classpath, kwargs = sys.argv[1], json.loads(sys.argv[2])
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**kwargs)

    async def main():
        async for event in trigger.run():
            print("EVENT " + json.dumps(event.payload), flush=True)
            return

    asyncio.run(main())
""")


def driver_pod(name: str, outcome: str, exit_code: int = 1) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"spark-role": "driver", "spark-app-selector": f"spark-{name}"},
                     "annotations": {"emulator.sparkk8s.io/outcome": outcome,
                                     "emulator.sparkk8s.io/exit-code": str(exit_code),
                                     "emulator.sparkk8s.io/log": "stage 1 done\nstage 2 done",
                                     "emulator.sparkk8s.io/executors": "0"}},
        "spec": {"restartPolicy": "Never",
                 "containers": [{"name": "spark-kubernetes-driver", "image": "apache/spark:4.0.1",
                                 "args": ["driver"]}]},
    }


def trigger_for(pod: str, **kwargs: object) -> SparkK8sTrigger:
    return SparkK8sTrigger(SparkRun("spark-submit", NS, pod, spark_app_id=None).to_dict(), **kwargs)


@pytest.fixture
def cluster(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory(namespaces=[NS])


def run_in_triggerer(trigger: SparkK8sTrigger) -> dict:
    classpath, kwargs = trigger.serialize()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", TRIGGERER, classpath, json.dumps(kwargs)], capture_output=True,
                          text=True, timeout=60, env=env)
    events = [line.removeprefix("EVENT ") for line in proc.stdout.splitlines() if line.startswith("EVENT ")]
    assert proc.returncode == 0 and len(events) == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(events[0])


def test_serialize_round_trips() -> None:
    trigger = trigger_for("pi-driver", kubernetes_conn_id="k8s_prod", startup_timeout=42.5, cluster_context="prod",
                          config_file="/etc/kube/config", in_cluster=False)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_sparkk8s.triggers.spark.SparkK8sTrigger"
    module, _, name = classpath.rpartition(".")
    again = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
    assert again.serialize() == (classpath, kwargs)
    assert kwargs["run"]["driver_pod"] == "pi-driver" and kwargs["startup_timeout"] == 42.5


def test_run_outside_the_worker_reports_success(cluster: KubeEmulator) -> None:
    cluster.apply(driver_pod("pi-driver", "succeeded"))
    event = run_in_triggerer(trigger_for("pi-driver", startup_timeout=30))
    assert (event["status"], event["state"], event["exit_code"]) == ("success", "Succeeded", 0)
    assert event["run"]["driver_pod"] == "pi-driver"
    assert event["run"]["spark_app_id"] == "spark-pi-driver"


def test_run_outside_the_worker_reports_failure_with_exit_code(cluster: KubeEmulator) -> None:
    cluster.apply(driver_pod("pi-driver", "failed", exit_code=3))
    event = run_in_triggerer(trigger_for("pi-driver", startup_timeout=30))
    assert (event["status"], event["state"], event["exit_code"], event["reason"]) == ("failed", "Failed", 3, "Error")
    assert event["message"] == f"driver pod {NS}/pi-driver failed (exit code 3, reason Error)"
    assert event["log_tail"] == ["stage 1 done", "stage 2 done"]
