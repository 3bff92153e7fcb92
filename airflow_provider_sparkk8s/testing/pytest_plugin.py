"""pytest plugin (entry point `pytest11`): fixtures that run the Kubernetes API emulator.

- ``kube_emulator``: a running emulator for one test. KUBECONFIG and Airflow's ``kubernetes_default``
  connection point at it for the duration of the test.
- ``kube_emulator_factory``: start emulators with options, e.g. ``kube_emulator_factory(tls=True,
  token="t")``; each is stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .emulator import KubeEmulator

__all__ = ["kube_emulator", "kube_emulator_factory"]


@pytest.fixture
def kube_emulator_factory(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
                          ) -> Iterator[Callable[..., KubeEmulator]]:
    from .emulator import KubeEmulator

    started: list[KubeEmulator] = []

    def start(**options: Any) -> KubeEmulator:
        options.setdefault("workdir", tmp_path_factory.mktemp("kube"))
        emulator = KubeEmulator(**options).start()
        started.append(emulator)
        for key, value in emulator.airflow_env().items():
            monkeypatch.setenv(key, value)
        return emulator

    yield start
    for emulator in reversed(started):
        emulator.stop()


@pytest.fixture
def kube_emulator(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory()
