"""What the control-plane tests drive the emulator with: real kubectl and the kubernetes client, and a poll."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require_tool

T = TypeVar("T")


def kubectl(kube: KubeEmulator, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
    binary = require_tool("kubectl")
    result = subprocess.run([binary, "--kubeconfig", str(kube.kubeconfig_path), *args], input=stdin,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def kubectl_json(kube: KubeEmulator, *args: str) -> Any:
    return json.loads(kubectl(kube, *args, "-o", "json").stdout)


def client(kube: KubeEmulator) -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(config_file=str(kube.kubeconfig_path))


def wait_for(probe: Callable[[], T], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Poll until probe() returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {getattr(probe, '__name__', probe)}")
        time.sleep(interval)


def table(text: str) -> list[list[str]]:
    """kubectl's table output split into cells (columns are separated by at least two spaces)."""
    import re

    return [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()]
