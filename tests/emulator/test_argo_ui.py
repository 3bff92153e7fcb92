"""The Argo Server emulation's workflow page (``/workflows/<ns>/<name>``, where the real Argo UI shows a workflow):
what a browser following a task's "Argo Workflows UI" link gets, including when it cannot show the workflow."""

from __future__ import annotations

from collections.abc import Callable

import requests

from airflow_provider_sparkk8s.testing import KubeEmulator

RUNNING = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "long-1"},
    "spec": {"entrypoint": "work", "templates": [{
        "name": "work", "metadata": {"annotations": {"emulator.sparkk8s.io/outcome": "running"}},
        "container": {"image": "busybox:1.36", "command": ["sleep", "3600"]}}]},
}


def test_page_of_a_running_workflow_refreshes_itself(kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory(pod_pending_seconds=0.05)
    kube.apply(RUNNING, "default")
    page = requests.get(f"{kube.argo_server_url}/workflows/default/long-1", timeout=10)
    assert page.status_code == 200
    assert "<h1>Workflow default/long-1</h1>" in page.text
    assert '<meta http-equiv="refresh" content="5">' in page.text


def test_unknown_workflow_is_a_page_saying_so_not_a_json_error(
        kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory()
    page = requests.get(f"{kube.argo_server_url}/workflows/default/gone-1", timeout=10)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert "gone-1" in page.text and "not found" in page.text


def test_without_the_token_the_page_asks_for_it_and_the_cookie_opens_it(
        kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory(token="s3cret", pod_pending_seconds=0.05)
    kube.apply(RUNNING, "default")
    url = f"{kube.argo_server_url}/workflows/default/long-1"
    refused = requests.get(url, verify=str(kube.ca_path) if kube.ca_path else True, timeout=10)
    assert refused.status_code == 401 and refused.headers["Content-Type"].startswith("text/html")
    assert "needs a bearer token" in refused.text and "long-1" not in refused.text
    page = requests.get(url, cookies={"authorization": "Bearer%20s3cret"},  # as the page's form sets it
                        verify=str(kube.ca_path) if kube.ca_path else True, timeout=10)
    assert page.status_code == 200 and "<h1>Workflow default/long-1</h1>" in page.text
