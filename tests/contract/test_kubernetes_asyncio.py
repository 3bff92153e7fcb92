"""Contract tests: kubernetes_asyncio against the API emulator.

pytest-asyncio is not a dependency, so each test runs its coroutine with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import config as kconfig
from kubernetes_asyncio import watch
from kubernetes_asyncio.client import ApiClient, ApiException, Configuration, CoreV1Api, CustomObjectsApi

from airflow_provider_sparkk8s.testing.emulator import KubeEmulator

pytestmark = pytest.mark.contract

NS = "default"
ANN = "emulator.sparkk8s.io/"


@pytest.fixture(params=["plain", "tls-token"])
def kube(request: pytest.FixtureRequest, kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    if request.param == "plain":
        return kube_emulator_factory()
    return kube_emulator_factory(tls=True, token="s3cret")


@asynccontextmanager
async def api_client(kubeconfig: Path) -> AsyncIterator[ApiClient]:
    """A client with its own configuration, so nothing leaks through the global default."""
    configuration = Configuration()
    await kconfig.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with ApiClient(configuration=configuration) as api:
        yield api


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout=20))


def pod_body(name: str, labels: dict[str, str] | None = None, **behaviour: Any) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {},
                     "annotations": {ANN + k.replace("_", "-"): str(v) for k, v in behaviour.items()}},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36"}]},
    }


async def wait_phase(v1: CoreV1Api, name: str, phases: set[str], timeout: float = 5.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        pod = await v1.read_namespaced_pod(name, NS)
        if pod.status.phase in phases:
            return pod
        assert loop.time() < deadline, f"pod {name} stayed {pod.status.phase}"
        await asyncio.sleep(0.02)


def test_async_create_and_list_pods_with_label_selector(kube: KubeEmulator) -> None:
    async def scenario() -> list[str]:
        async with api_client(kube.kubeconfig_path) as api:
            v1 = CoreV1Api(api)
            for name, role in (("driver", "driver"), ("exec-1", "executor"), ("exec-2", "executor")):
                await v1.create_namespaced_pod(NS, pod_body(name, {"spark-role": role}, outcome="running"))
            listed = await v1.list_namespaced_pod(NS, label_selector="spark-role=executor")
            return [p.metadata.name for p in listed.items]

    assert run(scenario()) == ["exec-1", "exec-2"]


def test_async_watch_from_resource_version_sees_pod_life(kube: KubeEmulator) -> None:
    async def scenario() -> list[tuple[str, str | None]]:
        async with api_client(kube.kubeconfig_path) as api:
            v1 = CoreV1Api(api)
            rv = (await v1.list_namespaced_pod(NS)).metadata.resource_version
            await v1.create_namespaced_pod(NS, pod_body("job", run_seconds=0.1))
            seen: list[tuple[str, str | None]] = []
            async with watch.Watch() as w:
                async for event in w.stream(v1.list_namespaced_pod, NS, resource_version=rv, timeout_seconds=5,
                                            field_selector="metadata.name=job"):
                    pod = event["object"]
                    seen.append((event["type"], pod.status.phase))
                    if event["type"] == "DELETED":
                        break
                    if pod.status.phase == "Succeeded" and event["type"] == "MODIFIED":
                        await v1.delete_namespaced_pod("job", NS)
            return seen

    seen = run(scenario())
    assert seen[0] == ("ADDED", "Pending")
    assert ("MODIFIED", "Running") in seen
    assert seen[-1][0] == "DELETED"
    phases = [phase for _, phase in seen]
    assert phases.index("Running") < phases.index("Succeeded")


def test_async_log_follow_streams_until_the_container_terminates(kube: KubeEmulator) -> None:
    async def scenario() -> tuple[list[str], str]:
        async with api_client(kube.kubeconfig_path) as api:
            v1 = CoreV1Api(api)
            await v1.create_namespaced_pod(NS, pod_body("talker", log="alpha\nbeta\ngamma", run_seconds=0.4))
            await wait_phase(v1, "talker", {"Running"})
            resp = await v1.read_namespaced_pod_log("talker", NS, follow=True, _preload_content=False)
            lines = [line.decode() async for line in resp.content]
            resp.release()
            pod = await v1.read_namespaced_pod("talker", NS)
            return lines, pod.status.phase

    lines, phase = run(scenario())
    assert lines == ["alpha\n", "beta\n", "gamma\n"]
    assert phase == "Succeeded"


def test_async_watch_stream_of_log_lines(kube_emulator: KubeEmulator) -> None:
    async def scenario() -> list[str]:
        async with api_client(kube_emulator.kubeconfig_path) as api:
            v1 = CoreV1Api(api)
            await v1.create_namespaced_pod(NS, pod_body("lines", log="1\n2\n3", run_seconds=0.2))
            await wait_phase(v1, "lines", {"Running"})
            async with watch.Watch() as w:
                return [line async for line in w.stream(v1.read_namespaced_pod_log, "lines", NS)]

    assert run(scenario()) == ["1\n", "2\n", "3\n"]


def test_async_watch_from_compacted_resource_version_is_gone(kube_emulator: KubeEmulator) -> None:
    async def scenario() -> ApiException:
        async with api_client(kube_emulator.kubeconfig_path) as api:
            v1 = CoreV1Api(api)
            rv = (await v1.list_namespaced_config_map(NS)).metadata.resource_version
            await v1.create_namespaced_config_map(NS, {"metadata": {"name": "x"}})
            kube_emulator.store.compact()
            with pytest.raises(ApiException) as exc:
                async with watch.Watch() as w:
                    async for _ in w.stream(v1.list_namespaced_config_map, NS, resource_version=rv,
                                            timeout_seconds=2):
                        pass
            return exc.value

    error = run(scenario())
    assert error.status == 410
    assert error.reason.startswith("Expired: too old resource version")


def test_async_sparkapplication_status_patch(kube_emulator: KubeEmulator) -> None:
    group = ("sparkoperator.k8s.io", "v1beta2")

    async def scenario() -> dict:
        async with api_client(kube_emulator.kubeconfig_path) as api:
            custom = CustomObjectsApi(api)
            await custom.create_namespaced_custom_object(*group, NS, "sparkapplications", {
                "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
                "metadata": {"name": "pi"}, "spec": {"type": "Python"}})
            # This client labels a dict body as a JSON patch unless told otherwise (a real server says 400).
            await custom.patch_namespaced_custom_object_status(
                *group, NS, "sparkapplications", "pi", {"status": {"applicationState": {"state": "COMPLETED"}}},
                _content_type="application/merge-patch+json")
            return await custom.get_namespaced_custom_object(*group, NS, "sparkapplications", "pi")

    app = run(scenario())
    assert app["status"]["applicationState"]["state"] == "COMPLETED"
    assert app["metadata"]["generation"] == 1


def test_async_wrong_token_is_unauthorized(kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory(tls=True, token="s3cret")

    async def scenario() -> ApiException:
        async with api_client(kube.kubeconfig_path) as api:
            api.configuration.api_key = {"BearerToken": "Bearer wrong"}
            with pytest.raises(ApiException) as exc:
                await CoreV1Api(api).list_namespaced_pod(NS)
            return exc.value

    assert run(scenario()).status == 401
