"""The emulator as Airflow's `kubernetes_default` connection, through the cncf.kubernetes provider's hook."""

from __future__ import annotations

import asyncio

from airflow_provider_sparkk8s.testing import KubeEmulator


def test_fixture_points_the_kubernetes_hook_at_the_emulator(kube_emulator: KubeEmulator) -> None:
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook

    kube_emulator.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"}})
    hook = KubernetesHook(conn_id="kubernetes_default")
    names = [cm.metadata.name for cm in hook.core_v1_client.list_namespaced_config_map("default").items]
    assert names == ["kube-root-ca.crt", "probe"]  # every namespace holds the cluster's CA bundle
    assert kube_emulator.requests.count(verb="list", resource="configmaps") == 1


def test_tls_and_token_through_the_kubernetes_hook(kube_emulator_factory) -> None:
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook

    cluster = kube_emulator_factory(tls=True, token="hook-token")
    pod = KubernetesHook(conn_id="kubernetes_default").core_v1_client.list_namespaced_pod("default")
    assert pod.items == []
    assert cluster.requests.snapshot()[-1].user == "admin"


def test_async_context_manager_serves_kubernetes_asyncio() -> None:
    async def scenario() -> list[str]:
        from kubernetes_asyncio import client, config

        async with KubeEmulator(namespaces=["spark-jobs"]) as kube:
            conf = client.Configuration()
            await config.load_kube_config(config_file=str(kube.kubeconfig_path), client_configuration=conf)
            async with client.ApiClient(conf) as api:
                namespaces = await client.CoreV1Api(api).list_namespace()
                return [ns.metadata.name for ns in namespaces.items]

    assert "spark-jobs" in asyncio.run(scenario())


def test_stopping_removes_the_private_kubeconfig() -> None:
    kube = KubeEmulator(token="secret").start()
    path = kube.kubeconfig_path
    assert path is not None and oct(path.stat().st_mode & 0o777) == "0o600"
    kube.stop()
    assert not path.exists()
