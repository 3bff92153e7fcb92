"""What a CustomResourceDefinition write answers with: the status the CRD strategy gives it, before any controller.

A 1.32 API server empties a new CRD's status and records its storage version in `status.storedVersions`; the status
is serialized with `acceptedNames` (plural and kind have no omitempty, so they show as ""), so the create's answer has
a status (the kubernetes_asyncio dynamic client's e2e test checks that it is not empty). An update whose spec names a
new storage version has it added to storedVersions at once. The naming controller fills acceptedNames later.
"""

from __future__ import annotations

import copy

from kubernetes.client import api_client
from kubernetes.dynamic import DynamicClient

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import client

SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": SCHEMA}]},
}


def test_a_created_crd_answers_with_its_initial_status_and_an_update_records_the_new_storage_version(
        kube_emulator: KubeEmulator) -> None:
    crds = DynamicClient(api_client.ApiClient(configuration=client(kube_emulator).configuration)).resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")

    created = crds.create(copy.deepcopy(CRD)).to_dict()
    assert created["status"] == {"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": ["v1"]}

    changed = crds.get(name="gadgets.example.com").to_dict()
    changed["spec"]["versions"] = [{"name": "v1", "served": True, "storage": False, "schema": SCHEMA},
                                   {"name": "v2", "served": True, "storage": True, "schema": SCHEMA}]
    updated = crds.replace(body=changed).to_dict()
    assert updated["status"]["storedVersions"] == ["v1", "v2"]
