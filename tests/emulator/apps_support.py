"""What the apps/v1 tests share: kubectl against an emulator, workload manifests, polling with a deadline."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any, TypeVar

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator import cluster_clients

NS = "apps"
T = TypeVar("T")


def start(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    cluster = kube_emulator_factory(namespaces=[NS])
    # The pods these workloads run `sleep 3600`, which on a real cluster runs until the pod is deleted. The pod
    # simulator finishes pods whose command it cannot read after pod_run_seconds, so keep them running.
    cluster.pods.behave(namespace=NS, outcome="running")
    return cluster


def kubectl(cluster: KubeEmulator, *args: str, stdin: str | None = None, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """kubectl in the apps tests' namespace."""
    return cluster_clients.kubectl(cluster, "-n", NS, *args, stdin=stdin, check=check, timeout=timeout)


def template(app: str, image: str = "busybox:1.36") -> dict[str, Any]:
    return {"metadata": {"labels": {"app": app}},
            "spec": {"containers": [{"name": "main", "image": image, "command": ["sleep", "3600"]}]}}


def workload(kind: str, name: str, replicas: int | None = 1, **spec: Any) -> dict[str, Any]:
    api_version = "v1" if kind == "ReplicationController" else "apps/v1"
    body: dict[str, Any] = {"selector": {"app": name} if kind == "ReplicationController" else
                            {"matchLabels": {"app": name}}, "template": template(name)}
    if replicas is not None:
        body["replicas"] = replicas
    body.update(spec)
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": NS}, "spec": body}


def eventually(probe: Callable[[], T | None], timeout: float = 15.0, what: str = "the condition") -> T:
    """Poll `probe` until it returns something truthy."""
    return cluster_clients.wait_for(probe, timeout, what=what)


def owned_pods(cluster: KubeEmulator, owner: dict) -> list[dict]:
    uid = owner["metadata"]["uid"]
    return [p for p in cluster.list("v1", "Pod", NS)
            if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or [])]
