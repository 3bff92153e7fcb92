"""The OpenAPI v3 documents carry real schemas, as a Kubernetes 1.32 API server's do: built-in kinds with their
fields, types, descriptions and required fields, custom resources with their CRD's openAPIV3Schema. `kubectl
explain` reads them."""

from __future__ import annotations

import json
import time

from kubernetes import config

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import try_kubectl


def openapi(kube: KubeEmulator, path: str) -> dict:
    api = config.new_client_from_config(config_file=str(kube.kubeconfig_path))
    response = api.call_api(path, "GET", auth_settings=["BearerToken"], _preload_content=False)
    return json.loads(response.data)


def test_kubectl_explain_a_built_in_field(kube_emulator) -> None:
    result = try_kubectl(kube_emulator, "explain", "pods.spec.containers")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("KIND:       Pod\nVERSION:    v1\n")
    assert "FIELD: containers <[]Container>" in out
    assert "List of containers belonging to the pod." in out
    assert "  image\t<string>" in out
    assert "  name\t<string> -required-" in out
    assert "  ports\t<[]ContainerPort>" in out


def test_kubectl_explain_recursive_follows_references(kube_emulator) -> None:
    result = try_kubectl(kube_emulator, "explain", "configmap", "--recursive")
    assert result.returncode == 0, result.stderr
    assert "  data\t<map[string]string>" in result.stdout
    assert "    labels\t<map[string]string>" in result.stdout  # metadata, through its ObjectMeta reference


def test_kubectl_explain_a_custom_resources_spec(kube_emulator) -> None:
    kube_emulator.apply({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "gadgets", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {
                         "type": "object", "description": "What the gadget does.", "required": ["size"],
                         "properties": {"size": {"type": "integer", "description": "How big it is."},
                                        "tags": {"type": "array", "items": {"type": "string"}}}}}}}}]}})
    deadline = time.monotonic() + 10
    while True:
        result = try_kubectl(kube_emulator, "explain", "gadget.spec")
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("GROUP:      example.com\nKIND:       Gadget\nVERSION:    v1\n")
    assert "FIELD: spec <Object>" in result.stdout
    assert "What the gadget does." in result.stdout
    assert "  size\t<integer> -required-\n    How big it is." in result.stdout
    assert "  tags\t<[]string>" in result.stdout


def test_the_group_version_document_has_the_kinds_schema(kube_emulator) -> None:
    index = openapi(kube_emulator, "/openapi/v3")
    url = index["paths"]["api/v1"]["serverRelativeURL"]
    doc = openapi(kube_emulator, url)
    schemas = doc["components"]["schemas"]
    pod = next(s for s in schemas.values() if {"group": "", "version": "v1", "kind": "Pod"}
               in s.get("x-kubernetes-group-version-kind", []))
    spec_ref = pod["properties"]["spec"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    pod_spec = schemas[spec_ref]
    assert pod_spec["required"] == ["containers"]
    containers = pod_spec["properties"]["containers"]
    assert containers["type"] == "array"
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-list-map-keys"] == ["name"]
    assert schemas[containers["items"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]["properties"]["image"]["type"] \
        == "string"
