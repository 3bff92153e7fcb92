"""End-to-end fixtures: a real Airflow 3 deployment (tests/stack.py) against the Kubernetes API emulator.

Both are session-scoped: starting Airflow's four components takes about a minute on a 2-core machine.
The emulator runs in the test process (so tests inspect its store directly); the Airflow processes reach
it through the kubeconfig and the ``kubernetes_default`` connection in their environment.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require
from tests.stack import AirflowStack

NAMESPACE = "spark-e2e"


@pytest.fixture(scope="session")
def e2e_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeEmulator]:
    with KubeEmulator(workdir=tmp_path_factory.mktemp("kube"), namespaces=[NAMESPACE]) as kube:
        yield kube


@pytest.fixture(scope="session")
def airflow_stack(e2e_kube: KubeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    """api-server, scheduler (LocalExecutor), dag-processor and triggerer, healthy, for the whole session."""
    require(sys.platform == "linux" and Path("/proc/self/cmdline").exists(),
            "the Airflow stack tests need Linux (/proc, process groups)")
    stack = AirflowStack(tmp_path_factory.mktemp("airflow-stack"), extra_env=e2e_kube.airflow_env())
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    print(f"\nAirflow stack started in {stack.startup_seconds:.1f}s at {stack.url} (logs: {stack.logs})")
    yield stack
    stack.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failure, add the last lines of every Airflow component's output to the report."""
    outcome = yield
    report = outcome.get_result()
    stack = getattr(item, "funcargs", {}).get("airflow_stack")
    if report.failed and isinstance(stack, AirflowStack):
        report.sections.append(("airflow stack", stack.tails(60)))
