"""Run the real kubectl against an emulator, as a user would."""

from __future__ import annotations

import subprocess
from pathlib import Path

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require_tool


def run_kubectl(kubeconfig: Path | str, *args: str, stdin: str | None = None, timeout: float = 60
                ) -> subprocess.CompletedProcess[str]:
    """`kubectl --kubeconfig KUBECONFIG ARGS`; never raises for a non-zero exit code."""
    binary = require_tool("kubectl")
    return subprocess.run([binary, "--kubeconfig", str(kubeconfig), *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def kubectl(kube: KubeEmulator, *args: str, stdin: str | None = None, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
    """kubectl with the emulator's own kubeconfig."""
    assert kube.kubeconfig_path is not None
    return run_kubectl(kube.kubeconfig_path, *args, stdin=stdin, timeout=timeout)
