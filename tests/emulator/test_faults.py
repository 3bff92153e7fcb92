"""Fault injection as a client sees it: resets, latency, dropped, stalled and expired watches, rotated tokens."""

from __future__ import annotations

import json
import time

import kubernetes
import pytest
import urllib3
from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException

from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.testing.faults import rotate_token


@pytest.fixture
def v1(kube_emulator: KubeEmulator) -> CoreV1Api:
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(str(kube_emulator.kubeconfig_path), client_configuration=config)
    config.retries = False  # surface each fault instead of urllib3 retrying it
    return CoreV1Api(kubernetes.client.ApiClient(config))


def configmap(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def test_connection_reset_fails_the_request_and_creates_nothing(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    kube_emulator.faults.add(reset=True, verb="create", resource="configmaps", times=1)
    with pytest.raises(urllib3.exceptions.HTTPError):
        v1.create_namespaced_config_map("default", configmap("a"))
    assert kube_emulator.get("v1", "ConfigMap", "a") is None
    v1.create_namespaced_config_map("default", configmap("a"))  # the fault fired once
    assert kube_emulator.get("v1", "ConfigMap", "a") is not None


def test_latency_delays_matching_requests_only(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    kube_emulator.faults.add(latency=0.6, verb="list", resource="configmaps")
    started = time.monotonic()
    v1.list_namespaced_config_map("default")
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    v1.list_namespaced_pod("default")
    assert time.monotonic() - started < 0.5


def test_path_rule_matches_a_group(kube_emulator: KubeEmulator) -> None:
    kube_emulator.faults.add(status=503, path="^/apis/argoproj.io/", times=1)
    api = kubernetes.client.CustomObjectsApi(
        kubernetes.config.new_client_from_config(str(kube_emulator.kubeconfig_path)))
    with pytest.raises(ApiException) as exc:
        api.list_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflows")
    assert exc.value.status == 503
    assert json.loads(exc.value.body)["reason"] == "ServiceUnavailable"


def test_watch_dropped_after_n_events_ends_the_stream_early(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    for i in range(5):
        kube_emulator.apply(configmap(f"cm-{i}"))
    kube_emulator.faults.add(verb="watch", resource="configmaps", drop_watch_after_events=2, times=1)
    seen = []
    with pytest.raises((urllib3.exceptions.HTTPError, ValueError)):
        for event in kubernetes.watch.Watch().stream(v1.list_namespaced_config_map, "default", timeout_seconds=5):
            seen.append(event["object"].metadata.name)
    assert seen == ["cm-0", "cm-1"]


def test_watch_dropped_after_seconds_ends_without_events(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    kube_emulator.faults.add(verb="watch", resource="configmaps", drop_watch_after_seconds=0.5, times=1)
    rv = v1.list_namespaced_config_map("default").metadata.resource_version
    started = time.monotonic()
    events = list(kubernetes.watch.Watch().stream(v1.list_namespaced_config_map, "default", resource_version=rv,
                                                  timeout_seconds=10))
    assert events == []
    assert 0.4 < time.monotonic() - started < 5


def test_gone_fault_answers_the_next_watch_with_410(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    kube_emulator.faults.add(verb="watch", resource="configmaps", gone=True, times=1)
    rv = v1.list_namespaced_config_map("default").metadata.resource_version
    with pytest.raises(ApiException) as exc:
        list(kubernetes.watch.Watch().stream(v1.list_namespaced_config_map, "default", resource_version=rv,
                                             timeout_seconds=5))
    assert exc.value.status == 410


def test_pod_behaviour_over_the_admin_endpoint(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    request = urllib3.request("POST", f"{kube_emulator.url}/_emulator/pod-behaviours",
                              body=json.dumps({"name": "job-*", "outcome": "oomkilled", "run_seconds": 0.1}),
                              headers={"Content-Type": "application/json"})
    assert request.status == 201
    v1.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job-1"},
                                         "spec": {"containers": [{"name": "main", "image": "busybox"}]}})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pod = v1.read_namespaced_pod("job-1", "default")
        if pod.status.phase == "Failed":
            break
        time.sleep(0.05)
    terminated = pod.status.container_statuses[0].state.terminated
    assert (pod.status.phase, terminated.reason, terminated.exit_code) == ("Failed", "OOMKilled", 137)


def test_stalled_watch_sends_nothing_then_cuts_the_connection(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    kube_emulator.faults.add(verb="watch", resource="configmaps", stall_watch_seconds=0.8, times=1)
    rv = v1.list_namespaced_config_map("default").metadata.resource_version
    kube_emulator.apply(configmap("during-the-stall"))  # an event the stalled stream never delivers
    started = time.monotonic()
    seen = []
    with pytest.raises((urllib3.exceptions.HTTPError, ValueError)):
        for event in kubernetes.watch.Watch().stream(v1.list_namespaced_config_map, "default", resource_version=rv,
                                                     allow_watch_bookmarks=True, timeout_seconds=10):
            seen.append(event)
    assert seen == []
    assert 0.7 < time.monotonic() - started < 5
    # the next watch from the same resourceVersion delivers what the stalled one held back
    events = kubernetes.watch.Watch().stream(v1.list_namespaced_config_map, "default", resource_version=rv,
                                             timeout_seconds=5)
    assert next(events)["object"].metadata.name == "during-the-stall"


def test_stalled_argo_server_event_stream_sends_nothing_then_cuts(kube_emulator: KubeEmulator) -> None:
    kube_emulator.faults.add(verb="watch", resource="argo/workflows", stall_watch_seconds=0.5, times=1)
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.HTTPError):
        urllib3.request("GET", f"{kube_emulator.argo_server_url}/api/v1/workflow-events/default",
                        preload_content=True, retries=False, timeout=urllib3.Timeout(read=10))
    assert 0.4 < time.monotonic() - started < 5


def test_rotated_token_is_refused_and_the_new_kubeconfig_works(kube_emulator_factory) -> None:
    kube = kube_emulator_factory(token="first-token")
    before = CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))
    before.list_namespaced_config_map("default")
    new = rotate_token(kube)
    assert new != "first-token"
    with pytest.raises(ApiException) as exc:
        before.list_namespaced_config_map("default")  # a client still holding the expired token
    assert exc.value.status == 401
    reloaded = CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))
    reloaded.list_namespaced_config_map("default")
    assert [r.status for r in kube.requests.snapshot() if r.resource == "configmaps"] == [200, 401, 200]


def test_rotating_without_a_token_is_an_error(kube_emulator: KubeEmulator) -> None:
    with pytest.raises(ValueError, match="without a token"):
        rotate_token(kube_emulator)


def test_reset_after_serving_loses_the_response_but_not_the_work(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    kube_emulator.faults.add(reset_after=True, verb="create", resource="configmaps", times=1)
    with pytest.raises(urllib3.exceptions.HTTPError):
        v1.create_namespaced_config_map("default", configmap("a"))
    assert kube_emulator.get("v1", "ConfigMap", "a") is not None  # created, though the client never heard
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_config_map("default", configmap("a"))
    assert exc.value.status == 409
