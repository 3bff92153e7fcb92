"""Run the real kubectl against an emulator, as a user would."""

from __future__ import annotations

import subprocess

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require_tool


def kubectl(kube: KubeEmulator, *args: str, stdin: str | None = None, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
    """`kubectl --kubeconfig <the emulator's> ARGS`; never raises for a non-zero exit code."""
    binary = require_tool("kubectl")
    return subprocess.run([binary, "--kubeconfig", str(kube.kubeconfig_path), *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout)
