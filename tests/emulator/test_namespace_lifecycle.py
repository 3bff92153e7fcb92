"""What a namespace holds from the start, and how it goes: Terminating, emptied, then gone."""

from __future__ import annotations

import json
from collections.abc import Callable

from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import client, kubectl, wait_for


def gone(read: Callable[[], object]) -> bool:
    try:
        read()
    except ApiException as exc:
        return exc.status == 404
    return False


def test_a_new_namespace_gets_kube_root_ca_and_the_default_serviceaccount(
        kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory(tls=True, token="t0ken")
    core = CoreV1Api(client(kube))
    core.create_namespace({"metadata": {"name": "team-b"}})
    ca = wait_for(lambda: core.list_namespaced_config_map("team-b", field_selector="metadata.name=kube-root-ca.crt")
                  .items)[0]
    assert ca.data == {"ca.crt": kube.ca_path.read_text()}  # the API server's own CA
    assert "kube-apiserver" in ca.metadata.annotations["kubernetes.io/description"]
    assert [sa.metadata.name for sa in core.list_namespaced_service_account("team-b").items] == ["default"]
    # Both come back when deleted.
    core.delete_namespaced_config_map("kube-root-ca.crt", "team-b")
    core.delete_namespaced_service_account("default", "team-b")
    wait_for(lambda: not gone(lambda: core.read_namespaced_config_map("kube-root-ca.crt", "team-b"))
             and not gone(lambda: core.read_namespaced_service_account("default", "team-b")))


def test_plain_http_clusters_publish_a_pem_ca_too(kube_emulator: KubeEmulator) -> None:
    out = kubectl(kube_emulator, "get", "configmap", "kube-root-ca.crt", "-n", "kube-system", "-o",
                  "jsonpath={.data.ca\\.crt}")
    assert out.stdout.startswith("-----BEGIN CERTIFICATE-----\n")


def test_a_deleted_namespace_is_terminating_until_its_content_is_gone(kube_emulator: KubeEmulator) -> None:
    kube = kube_emulator
    core = CoreV1Api(client(kube))
    core.create_namespace({"metadata": {"name": "leaving"}})
    core.create_namespaced_config_map("leaving", {"metadata": {"name": "plain"}})
    core.create_namespaced_config_map("leaving", {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    core.delete_namespace("leaving")

    def conditions() -> dict[str, tuple[str, str, str]]:
        namespace = core.read_namespace("leaving")
        return {c.type: (c.status, c.reason, c.message) for c in namespace.status.conditions or []}

    wait_for(lambda: conditions().get("NamespaceFinalizersRemaining", ("",))[0] == "True")
    namespace = core.read_namespace("leaving")
    assert namespace.status.phase == "Terminating" and namespace.metadata.deletion_timestamp is not None
    assert conditions() == {
        "NamespaceDeletionDiscoveryFailure": ("False", "ResourcesDiscovered", "All resources successfully discovered"),
        "NamespaceDeletionGroupVersionParsingFailure": ("False", "ParsedGroupVersions",
                                                        "All legacy kube types successfully parsed"),
        "NamespaceDeletionContentFailure": ("False", "ContentDeleted",
                                            "All content successfully deleted, may be waiting on finalization"),
        "NamespaceContentRemaining": ("True", "SomeResourcesRemain",
                                      "Some resources are remaining: configmaps has 1 resource instances"),
        "NamespaceFinalizersRemaining": ("True", "SomeFinalizersRemain",
                                         "Some content in the namespace has finalizers remaining: example.com/hold in "
                                         "1 resource instances"),
    }
    assert [c.metadata.name for c in core.list_namespaced_config_map("leaving").items] == ["held"]
    assert "Terminating" in kubectl(kube, "get", "namespace", "leaving").stdout
    # Nothing new may be created in it.
    result = kubectl(kube, "create", "-n", "leaving", "-f", "-", check=False, stdin=json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}}))
    assert result.returncode == 1
    assert result.stderr.strip() == ('Error from server (Forbidden): error when creating "STDIN": configmaps "late" '
                                     "is forbidden: unable to create new content in namespace leaving because it is "
                                     "being terminated")
    core.patch_namespaced_config_map("held", "leaving", {"metadata": {"finalizers": None}})
    wait_for(lambda: gone(lambda: core.read_namespace("leaving")))
