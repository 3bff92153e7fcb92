"""Fixtures for a real Airflow 3 deployment (tests/stack.py) against the Kubernetes API emulator, a pytest plugin
of the whole suite (tests/conftest.py) so the end-to-end tests and the reliability campaigns share one.

Both are session-scoped: starting Airflow's four components takes about a minute on a 2-core machine.
The emulator runs in the test process (so tests inspect its store directly); the Airflow processes reach
it through the kubeconfig and the ``kubernetes_default`` connection in their environment.

The stack has real users with roles (USERS; the REST client logs in as ``admin``), as a deployment
would, and connection extras that give the operators' extra links their URLs (the browser tests check them).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require
from tests.stack import AirflowStack

NAMESPACE = "spark-e2e"
USERS = {"admin": "admin", "ops": "op", "viewer": "viewer"}  # ops: may trigger DAGs and edit connections
HISTORY_URL = "https://spark-history.example"
DRIVER_UI_URL = "https://spark-ui.example/{namespace}/{driver_pod}"
ARGO_UI_URL = "https://argo-ui.example"


def env_with_link_urls(kube: KubeEmulator) -> dict[str, str]:
    """The emulator's connections, with the extras the operators build their extra links from."""
    env = kube.airflow_env()
    kubernetes = json.loads(env["AIRFLOW_CONN_KUBERNETES_DEFAULT"])
    kubernetes["extra"].update(spark_history_server_url=HISTORY_URL, spark_driver_ui_url=DRIVER_UI_URL)
    argo = json.loads(env["AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT"])
    argo["extra"]["ui_base_url"] = ARGO_UI_URL
    return {**env, "AIRFLOW_CONN_KUBERNETES_DEFAULT": json.dumps(kubernetes),
            "AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT": json.dumps(argo)}


@pytest.fixture(scope="session")
def e2e_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeEmulator]:
    with KubeEmulator(workdir=tmp_path_factory.mktemp("kube"), namespaces=[NAMESPACE]) as kube:
        yield kube


@pytest.fixture(scope="session")
def airflow_stack(e2e_kube: KubeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    """api-server, scheduler (LocalExecutor), dag-processor and triggerer, healthy, for the whole session."""
    require(sys.platform == "linux" and Path("/proc/self/cmdline").exists(),
            "the Airflow stack tests need Linux (/proc, process groups)")
    stack = AirflowStack(tmp_path_factory.mktemp("airflow-stack"), extra_env=env_with_link_urls(e2e_kube),
                         users=USERS)
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    print(f"\nAirflow stack started in {stack.startup_seconds:.1f}s at {stack.url} (logs: {stack.logs})")
    yield stack
    # Nothing is checked of the shutdown at the session's end: components still going after a few seconds (the
    # triggerer waits 10 s for its trigger runner) are killed with whatever they started.
    stack.stop(timeout=3)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failure, add the last lines of every Airflow component's output to the report."""
    outcome = yield
    report = outcome.get_result()
    stack = getattr(item, "funcargs", {}).get("airflow_stack")
    if report.failed and isinstance(stack, AirflowStack):
        report.sections.append(("airflow stack", stack.tails(60)))
