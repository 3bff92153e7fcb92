"""What the control-plane tests drive the emulator with: real kubectl and the kubernetes client (with the
emulator's kubeconfig, or another bearer token in it), and a poll."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import kubernetes
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require_tool

T = TypeVar("T")


def run_kubectl(kubeconfig: Path | str, *args: str, stdin: str | None = None, timeout: float = 60,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`kubectl --kubeconfig KUBECONFIG ARGS` (``env``: variables set for it); never raises for a non-zero exit
    code."""
    return subprocess.run([require_tool("kubectl"), "--kubeconfig", str(kubeconfig), *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env} if env else None)


def try_kubectl(kube: KubeEmulator, *args: str, stdin: str | None = None, kubeconfig: Path | None = None,
                timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """kubectl with the emulator's kubeconfig (or `kubeconfig`); the caller checks the exit code."""
    return run_kubectl(kubeconfig or kube.kubeconfig_path or "", *args, stdin=stdin, timeout=timeout, env=env)


def kubectl(kube: KubeEmulator, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """kubectl with the emulator's kubeconfig; a non-zero exit code fails the test unless check=False."""
    result = try_kubectl(kube, *args, stdin=stdin, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def kubectl_json(kube: KubeEmulator, *args: str) -> Any:
    return json.loads(kubectl(kube, *args, "-o", "json").stdout)


def client(kube: KubeEmulator) -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(config_file=str(kube.kubeconfig_path))


def api_client(kube: KubeEmulator, token: str | None = None, namespace: str = "default") -> k8s_client.ApiClient:
    """A kubernetes ApiClient with the emulator's kubeconfig, or with `token` as its bearer token."""
    conf = k8s_client.Configuration()
    k8s_config.load_kube_config_from_dict(kube.kubeconfig(namespace, token=token), client_configuration=conf)
    return k8s_client.ApiClient(conf)


def pod_phase(core: k8s_client.CoreV1Api, name: str, namespace: str = "default") -> str | None:
    """The pod's phase, or None when it does not exist."""
    try:
        return core.read_namespaced_pod(name, namespace).status.phase
    except k8s_client.exceptions.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def wait_for(probe: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.05, what: str | None = None
             ) -> T:
    """Poll until probe() returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for "
                                 f"{what or getattr(probe, '__name__', probe)}")
        time.sleep(interval)


def table(text: str) -> list[list[str]]:
    """kubectl's table output split into cells (columns are separated by at least two spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()]
