"""Server-side apply and `metadata.managedFields` as a Kubernetes 1.32 API server keeps them: every write records
its field manager (the `fieldManager` parameter, else the User-Agent's program name), operation, apiVersion and
fields in the FieldsV1 format; a second applier gets 409 naming the field and its manager unless it forces; fields
a manager stops applying go when nobody else owns them. Driven with kubectl, kubernetes and kubernetes_asyncio."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import try_kubectl


def config_map(data: dict[str, str], labels: dict[str, str] | None = None) -> str:
    meta: dict = {"name": "settings", **({"labels": labels} if labels else {})}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data})


def managed(kube: KubeEmulator, *args: str) -> list[dict]:
    result = try_kubectl(kube, "get", *args, "-o", "json", "--show-managed-fields")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["metadata"]["managedFields"]


def fields(entries: list[dict]) -> dict[tuple[str, str], dict]:
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in entries}


def core(kube: KubeEmulator) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(kube.kubeconfig_path)))


def test_kubectl_create_records_an_update_by_kubectl_create(kube_emulator) -> None:
    assert try_kubectl(kube_emulator, "create", "-f", "-", stdin=config_map({"a": "1"}, {"app": "x"})).returncode == 0
    [entry] = managed(kube_emulator, "configmap", "settings")
    assert set(entry) == {"manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"}
    assert (entry["manager"], entry["operation"], entry["apiVersion"], entry["fieldsType"]) == (
        "kubectl-create", "Update", "v1", "FieldsV1")
    # A map that did not exist before is owned as a whole (".") as well as key by key.
    assert entry["fieldsV1"] == {"f:data": {".": {}, "f:a": {}},
                                 "f:metadata": {"f:labels": {".": {}, "f:app": {}}}}
    # kubectl hides them unless asked.
    plain = json.loads(try_kubectl(kube_emulator, "get", "configmap", "settings", "-o", "json").stdout)
    assert "managedFields" not in plain["metadata"]


def test_server_side_apply_records_what_the_manager_applied_in_fields_v1(kube_emulator) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
           "spec": {"containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}]}}
    result = try_kubectl(kube_emulator, "apply", "--server-side", "-f", "-", stdin=json.dumps(pod))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pod/web serverside-applied"
    entries = managed(kube_emulator, "pod", "web")
    assert fields(entries)[("kubectl", "Apply")] == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {"f:containers": {'k:{"name":"app"}': {
            ".": {}, "f:image": {}, "f:name": {},
            "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}}}}


def test_a_second_manager_taking_a_field_gets_a_conflict_naming_field_and_manager(kube_emulator) -> None:
    assert try_kubectl(kube_emulator, "apply", "--server-side", "--field-manager=team-a", "-f", "-",
                   stdin=config_map({"a": "1", "b": "2"})).returncode == 0
    result = try_kubectl(kube_emulator, "apply", "--server-side", "--field-manager=team-b", "-f", "-",
                     stdin=config_map({"a": "9"}))
    assert result.returncode == 1
    assert result.stderr.startswith('error: Apply failed with 1 conflict: conflict with "team-a": .data.a\n'
                                    "Please review the fields above--they currently have other managers.")
    assert kube_emulator.get("v1", "ConfigMap", "settings")["data"] == {"a": "1", "b": "2"}
    # The same value is no conflict: both managers own the field.
    assert try_kubectl(kube_emulator, "apply", "--server-side", "--field-manager=team-b", "-f", "-",
                   stdin=config_map({"a": "1"})).returncode == 0
    owners = fields(managed(kube_emulator, "configmap", "settings"))
    assert owners[("team-a", "Apply")] == {"f:data": {"f:a": {}, "f:b": {}}}
    assert owners[("team-b", "Apply")] == {"f:data": {"f:a": {}}}


def test_force_conflicts_moves_ownership(kube_emulator) -> None:
    assert try_kubectl(kube_emulator, "create", "-f", "-", stdin=config_map({"a": "1", "b": "2"})).returncode == 0
    result = try_kubectl(kube_emulator, "apply", "--server-side", "--force-conflicts", "-f", "-",
                     stdin=config_map({"a": "9"}))
    assert result.returncode == 0, result.stderr
    owners = fields(managed(kube_emulator, "configmap", "settings"))
    assert owners[("kubectl", "Apply")] == {"f:data": {"f:a": {}}}
    assert owners[("kubectl-create", "Update")] == {"f:data": {".": {}, "f:b": {}}}
    assert kube_emulator.get("v1", "ConfigMap", "settings")["data"] == {"a": "9", "b": "2"}


def test_an_update_managers_conflict_names_its_api_version(kube_emulator) -> None:
    assert try_kubectl(kube_emulator, "create", "-f", "-", stdin=config_map({"a": "1"})).returncode == 0
    result = try_kubectl(kube_emulator, "apply", "--server-side", "-f", "-", stdin=config_map({"a": "2"}))
    assert result.returncode == 1
    assert result.stderr.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.a\n')


def test_fields_a_manager_stops_applying_are_removed_unless_someone_else_owns_them(kube_emulator) -> None:
    apply = ("apply", "--server-side", "-f", "-")
    assert try_kubectl(kube_emulator, *apply, "--field-manager=one",
                       stdin=config_map({"a": "1", "b": "2"})).returncode == 0
    assert try_kubectl(kube_emulator, *apply, "--field-manager=two", stdin=config_map({"b": "2"})).returncode == 0
    assert try_kubectl(kube_emulator, *apply, "--field-manager=one", stdin=config_map({"c": "3"})).returncode == 0
    # `a` was only one's: gone. `b` is still two's: kept. `c` is new.
    assert kube_emulator.get("v1", "ConfigMap", "settings")["data"] == {"b": "2", "c": "3"}
    owners = fields(managed(kube_emulator, "configmap", "settings"))
    assert owners == {("one", "Apply"): {"f:data": {"f:c": {}}}, ("two", "Apply"): {"f:data": {"f:b": {}}}}


def test_the_python_clients_manager_is_its_user_agents_program_name(kube_emulator) -> None:
    api = core(kube_emulator)
    api.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"),
                                                                    data={"a": "1"}))
    api.patch_namespaced_config_map("settings", "default", {"data": {"b": "2"}}, field_manager="patcher")
    entries = api.read_namespaced_config_map("settings", "default").metadata.managed_fields
    by_manager = {e.manager: e for e in entries}
    assert set(by_manager) == {"OpenAPI-Generator", "patcher"}
    assert by_manager["OpenAPI-Generator"].fields_v1 == {"f:data": {".": {}, "f:a": {}}}
    assert by_manager["patcher"].fields_v1 == {"f:data": {"f:b": {}}}
    assert by_manager["patcher"].operation == "Update" and by_manager["patcher"].time is not None


def test_a_conflict_through_the_python_client_is_409_with_causes(kube_emulator) -> None:
    api = core(kube_emulator)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}
    api.patch_namespaced_config_map("settings", "default", body, field_manager="first",
                                    _content_type="application/apply-patch+yaml")
    body["data"]["a"] = "2"
    with pytest.raises(client.ApiException) as exc:
        api.patch_namespaced_config_map("settings", "default", body, field_manager="second",
                                        _content_type="application/apply-patch+yaml")
    assert exc.value.status == 409
    status = json.loads(exc.value.body)
    assert (status["reason"], status["message"]) == (
        "Conflict", 'Apply failed with 1 conflict: conflict with "first": .data.a')
    assert status["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "first"', "field": ".data.a"}]
    forced = api.patch_namespaced_config_map("settings", "default", body, field_manager="second", force=True,
                                             _content_type="application/apply-patch+yaml")
    assert forced.data == {"a": "2"}
    assert {e.manager for e in forced.metadata.managed_fields} == {"second"}


def test_a_status_write_is_recorded_with_its_subresource(kube_emulator) -> None:
    async def run() -> list:
        async with await aconfig.new_client_from_config(config_file=str(kube_emulator.kubeconfig_path)) as api:
            v1 = aclient.CoreV1Api(api)
            await v1.create_namespaced_service("default", {
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
                "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}}, field_manager="creator")
            await v1.patch_namespaced_service_status(
                "svc", "default", {"status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}},
                field_manager="lb-controller")
            svc = await v1.read_namespaced_service("svc", "default")
            return svc.metadata.managed_fields

    entries = {e.manager: e for e in asyncio.run(run())}
    assert entries["lb-controller"].subresource == "status"
    assert entries["lb-controller"].fields_v1 == {"f:status": {"f:loadBalancer": {"f:ingress": {}}}}
    assert entries["creator"].subresource is None
    spec = entries["creator"].fields_v1["f:spec"]
    assert spec["f:selector"] == {}  # `+mapType=atomic`: owned as a whole
    # The ports list did not exist before (omitempty), so it is owned as a node, and each port by its keys. The
    # request is defaulted when it is decoded, so the manager owns the defaulted protocol and targetPort too.
    assert spec["f:ports"] == {".": {}, 'k:{"port":80,"protocol":"TCP"}': {
        ".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}}


def test_a_custom_resource_update_owns_its_new_objects(kube_emulator, tmp_path: Path) -> None:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "properties": {
                            "size": {"type": "integer"}, "items": {
                                "type": "array", "x-kubernetes-list-type": "map",
                                "x-kubernetes-list-map-keys": ["id"],
                                "items": {"type": "object", "properties": {"id": {"type": "string"},
                                                                           "v": {"type": "string"}}}}}}}}}}]}}
    kube_emulator.apply(crd)
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
              "spec": {"size": 1, "items": [{"id": "a", "v": "1"}]}}
    assert try_kubectl(kube_emulator, "create", "-f", "-", stdin=json.dumps(widget)).returncode == 0
    [entry] = managed(kube_emulator, "widget", "w")
    # A custom resource starts from nothing: every object in it is new, so owned with ".".
    assert entry["fieldsV1"] == {"f:spec": {".": {}, "f:size": {}, "f:items": {
        ".": {}, "k:{\"id\":\"a\"}": {".": {}, "f:id": {}, "f:v": {}}}}}
    # A keyed list merges item by item under server-side apply.
    widget["spec"] = {"items": [{"id": "b", "v": "2"}]}
    applied = try_kubectl(kube_emulator, "apply", "--server-side", "-f", "-", stdin=json.dumps(widget))
    assert applied.returncode == 0, applied.stderr
    assert kube_emulator.get("example.com/v1", "Widget", "w")["spec"]["items"] == [{"id": "a", "v": "1"},
                                                                                    {"id": "b", "v": "2"}]
