"""core/v1 Endpoints and discovery.k8s.io/v1 EndpointSlices kept in step with Services and their ready pods."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from kubernetes.client import CoreV1Api, DiscoveryV1Api

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import client, kubectl, kubectl_json, table, wait_for

NS = "default"


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    kube = kube_emulator_factory()
    kube.pods.behave(labels={"app": "web"}, outcome="running")
    return kube


def web_pod(core: CoreV1Api, name: str) -> str:
    core.create_namespaced_pod(NS, {"metadata": {"name": name, "labels": {"app": "web"}}, "spec": {
        "containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 8080}]}]}})
    pod = wait_for(lambda: (p := core.read_namespaced_pod(name, NS)).status.phase == "Running" and p)
    return pod.status.pod_ip


def web_service(core: CoreV1Api) -> None:
    core.create_namespaced_service(NS, {"metadata": {"name": "web", "labels": {"tier": "front"}}, "spec": {
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "admin", "port": 9000}]}})


def addresses(core: CoreV1Api) -> list[tuple[str, str]]:
    endpoints = core.read_namespaced_endpoints("web", NS)
    return sorted((a.ip, a.target_ref.name) for s in endpoints.subsets or [] for a in s.addresses or [])


def test_endpoints_follow_the_ready_pods_a_service_selects(kube: KubeEmulator) -> None:
    core = CoreV1Api(client(kube))
    first = web_pod(core, "web-1")
    web_service(core)
    wait_for(lambda: addresses(core) == [(first, "web-1")])
    second = web_pod(core, "web-2")
    wait_for(lambda: addresses(core) == sorted([(first, "web-1"), (second, "web-2")]))
    endpoints = core.read_namespaced_endpoints("web", NS)
    [subset] = endpoints.subsets
    # A named targetPort resolves to the container's port of that name.
    assert sorted((p.name, p.port, p.protocol) for p in subset.ports) == [("admin", 9000, "TCP"),
                                                                         ("http", 8080, "TCP")]
    ref = subset.addresses[0].target_ref
    assert (ref.kind, ref.namespace) == ("Pod", NS) and ref.uid
    assert subset.addresses[0].node_name == "emulator-node"
    assert endpoints.metadata.labels == {"tier": "front"}
    rows = table(kubectl(kube, "get", "endpoints", "web").stdout)
    assert rows[0] == ["NAME", "ENDPOINTS", "AGE"]
    # Four address:port pairs: kubectl's printer shows three and counts the rest.
    shown, _, more = rows[1][1].partition(" + ")
    assert more == "1 more..."
    assert set(shown.split(",")) < {f"{ip}:{port}" for ip in (first, second) for port in (8080, 9000)}
    assert len(shown.split(",")) == 3
    described = kubectl(kube, "describe", "svc", "web").stdout
    assert f"{first}:8080" in described
    core.delete_namespaced_pod("web-1", NS)
    wait_for(lambda: addresses(core) == [(second, "web-2")])


def test_endpointslices_carry_the_service_name_and_endpoint_conditions(kube: KubeEmulator) -> None:
    core, discovery = CoreV1Api(client(kube)), DiscoveryV1Api(client(kube))
    ip = web_pod(core, "web-1")
    web_service(core)

    def the_slice() -> object:
        slices = discovery.list_namespaced_endpoint_slice(NS, label_selector="kubernetes.io/service-name=web").items
        return slices[0] if len(slices) == 1 and slices[0].endpoints else None

    eps = wait_for(the_slice)
    assert eps.metadata.name.startswith("web-")
    assert eps.metadata.labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert eps.metadata.owner_references[0].kind == "Service" and eps.metadata.owner_references[0].controller
    assert eps.address_type == "IPv4"
    [endpoint] = eps.endpoints
    assert endpoint.addresses == [ip] and endpoint.target_ref.name == "web-1"
    assert (endpoint.conditions.ready, endpoint.conditions.serving, endpoint.conditions.terminating) == (
        True, True, False)
    assert sorted((p.name, p.port) for p in eps.ports) == [("admin", 9000), ("http", 8080)]
    # The web Service's slice, not the one of the `kubernetes` Service every cluster has in default.
    rows = table(kubectl(kube, "get", "endpointslices", "-l", "kubernetes.io/service-name=web").stdout)
    assert rows[0] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert rows[1][1] == "IPv4" and rows[1][3] == ip
    assert sorted(rows[1][2].split(",")) == ["8080", "9000"]
    # With its pods gone the slice stays, empty, as the placeholder a real controller keeps.
    core.delete_namespaced_pod("web-1", NS)
    wait_for(lambda: kubectl_json(kube, "get", "endpointslices", "-l", "kubernetes.io/service-name=web")[
        "items"][0].get("endpoints") is None)
    # Deleting the Service takes its Endpoints and (by ownership) its slices.
    core.delete_namespaced_service("web", NS)
    wait_for(lambda: not core.list_namespaced_endpoints(NS, field_selector="metadata.name=web").items
             and not kubectl_json(kube, "get", "endpointslices", "-l", "kubernetes.io/service-name=web")["items"])


def test_asyncio_client_watches_endpoints_fill_in(kube: KubeEmulator) -> None:
    from kubernetes_asyncio import config as kconfig
    from kubernetes_asyncio import watch
    from kubernetes_asyncio.client import ApiClient, Configuration
    from kubernetes_asyncio.client import CoreV1Api as AsyncCore

    core = CoreV1Api(client(kube))
    web_service(core)

    async def scenario() -> list[str]:
        configuration = Configuration()
        await kconfig.load_kube_config(config_file=str(kube.kubeconfig_path), client_configuration=configuration)
        async with ApiClient(configuration=configuration) as api:
            v1 = AsyncCore(api)
            await v1.create_namespaced_pod(NS, {"metadata": {"name": "web-a", "labels": {"app": "web"}}, "spec": {
                "containers": [{"name": "nginx", "image": "nginx:1.27"}]}})
            async with watch.Watch().stream(v1.list_namespaced_endpoints, NS, field_selector="metadata.name=web",
                                            timeout_seconds=20) as stream:
                async for event in stream:
                    found = [a.target_ref.name for s in event["object"].subsets or [] for a in s.addresses or []]
                    if found:
                        return found
        return []

    assert asyncio.run(scenario()) == ["web-a"]
