"""Real clients against an emulator: kubectl, and the kubernetes client with the emulator's kubeconfig (or another
bearer token in it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kubernetes import client, config

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require_tool


def kubectl(kube: KubeEmulator, *args: str, kubeconfig: Path | None = None, timeout: float = 60
            ) -> subprocess.CompletedProcess:
    """kubectl with the emulator's kubeconfig (or `kubeconfig`); the caller checks the exit code."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig or kube.kubeconfig_path)}
    return subprocess.run([require_tool("kubectl"), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def api_client(kube: KubeEmulator, token: str | None = None, namespace: str = "default") -> client.ApiClient:
    """A kubernetes ApiClient with the emulator's kubeconfig, or with `token` as its bearer token."""
    conf = client.Configuration()
    config.load_kube_config_from_dict(kube.kubeconfig(namespace, token=token), client_configuration=conf)
    return client.ApiClient(conf)
