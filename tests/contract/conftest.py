from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator


@pytest.fixture(params=["http", "https+token"])
def cluster(request: pytest.FixtureRequest, kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    """The emulator as a plain HTTP server, and over TLS (own CA) with a bearer token."""
    if request.param == "http":
        return kube_emulator_factory()
    return kube_emulator_factory(tls=True, token="contract-test-token")
