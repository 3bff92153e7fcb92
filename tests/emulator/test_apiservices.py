"""apiregistration.k8s.io/v1 APIServices: one local, Available, per served group/version."""

from __future__ import annotations

from kubernetes.client import ApiregistrationV1Api

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import client, kubectl, table, wait_for

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""


def test_kubectl_get_apiservices_lists_every_served_group_version(kube_emulator: KubeEmulator) -> None:
    rows = wait_for(lambda: (t := table(kubectl(kube_emulator, "get", "apiservices").stdout)) and
                    any(r[0] == "v1.batch" for r in t) and t)
    assert rows[0] == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    by_name = {r[0]: r[1:3] for r in rows[1:]}
    for name in ("v1.", "v1.batch", "v1.rbac.authorization.k8s.io", "v1.apiextensions.k8s.io",
                 "v1.discovery.k8s.io", "v1.apiregistration.k8s.io"):
        assert by_name[name] == ["Local", "True"], name


def test_a_crd_group_gets_its_apiservice(kube_emulator: KubeEmulator) -> None:
    kubectl(kube_emulator, "apply", "-f", "-", stdin=CRD)
    api = ApiregistrationV1Api(client(kube_emulator))
    service = wait_for(lambda: next((a for a in api.list_api_service().items if a.metadata.name == "v1.example.com"),
                                    None))
    assert (service.spec.group, service.spec.version, service.spec.service) == ("example.com", "v1", None)
    [available] = service.status.conditions
    assert (available.type, available.status, available.reason, available.message) == (
        "Available", "True", "Local", "Local APIServices are always available")
    core = api.read_api_service("v1.")
    assert core.spec.group is None and core.spec.version == "v1" and core.spec.group_priority_minimum == 18000
