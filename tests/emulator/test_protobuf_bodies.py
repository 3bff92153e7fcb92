"""kubectl 1.32 sends built-in types as application/vnd.kubernetes.protobuf: `kubectl create <generator>` must
work and the objects must read back as a real API server stores them (through the kubernetes client, in JSON)."""

from __future__ import annotations

import base64
import json
import urllib.request
from urllib.error import HTTPError

from kubernetes import client

from tests.emulator.cluster_clients import api_client, try_kubectl

NS = "team"


def test_kubectl_create_generators_send_protobuf_that_reads_back(kube_emulator_factory, tmp_path) -> None:
    kube = kube_emulator_factory(tls=True, token="admin-token")
    (tmp_path / "blob.bin").write_bytes(b"\x00\xff\xfe")
    for args in (["namespace", NS],
                 ["configmap", "settings", "--from-literal=mode=fast", "--from-literal=level=3", "-n", NS],
                 ["secret", "generic", "creds", "--from-literal=password=s3cret", "-n", NS],
                 ["serviceaccount", "runner", "-n", NS],
                 ["quota", "small", "--hard=pods=2,requests.cpu=500m", "-n", NS],
                 ["priorityclass", "urgent", "--value=1000", "--description=on call"],
                 ["role", "reader", "--verb=get,list", "--resource=pods", "-n", NS],
                 ["configmap", "blobs", f"--from-file={tmp_path / 'blob.bin'}", "-n", NS],
                 ["service", "clusterip", "web", "--tcp=80:http", "--tcp=443:8443", "-n", NS]):
        result = try_kubectl(kube, "create", *args)
        assert result.returncode == 0, (args, result.stderr)

    core = client.CoreV1Api(api_client(kube))
    namespace = core.read_namespace(NS)
    assert namespace.status.phase == "Active"
    settings = core.read_namespaced_config_map("settings", NS)
    assert settings.data == {"mode": "fast", "level": "3"}
    # Secret data arrive as protobuf bytes and are stored base64-encoded, as in JSON.
    creds = core.read_namespaced_secret("creds", NS)
    assert creds.type == "Opaque"
    assert base64.b64decode(creds.data["password"]) == b"s3cret"
    runner = core.read_namespaced_service_account("runner", NS)
    assert runner.metadata.namespace == NS
    assert runner.metadata.creation_timestamp is not None
    quota = core.read_namespaced_resource_quota("small", NS)
    assert quota.spec.hard == {"pods": "2", "requests.cpu": "500m"}  # Quantity: its string form
    urgent = client.SchedulingV1Api(api_client(kube)).read_priority_class("urgent")
    assert (urgent.value, urgent.description, urgent.global_default) == (1000, "on call", None)
    rules = client.RbacAuthorizationV1Api(api_client(kube)).read_namespaced_role("reader", NS).rules
    assert [(r.api_groups, r.resources, r.verbs) for r in rules] == [([""], ["pods"], ["get", "list"])]
    assert core.read_namespaced_config_map("blobs", NS).binary_data == {"blob.bin": "AP/+"}  # bytes: base64
    ports = core.read_namespaced_service("web", NS).spec.ports
    assert [(p.port, p.target_port) for p in ports] == [(80, "http"), (443, 8443)]  # IntOrString, both forms
    # Zero values of non-pointer fields are left out, as Go's JSON encoding with omitempty does.
    raw = json.loads(try_kubectl(kube, "get", "configmap", "settings", "-n", NS, "-o", "json").stdout)
    assert "generateName" not in raw["metadata"] and "immutable" not in raw


def _post(kube, path: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(kube.url + path, data=body, method="POST",
                                     headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local emulator
            return response.status, json.loads(response.read())
    except HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_protobuf_body_that_cannot_be_read_gets_415(kube_emulator) -> None:
    # A real API server answers 415 UnsupportedMediaType for a body its protobuf serializer cannot decode.
    status, body = _post(kube_emulator, "/api/v1/namespaces", b"not protobuf at all")
    assert status == 415
    assert body["reason"] == "UnsupportedMediaType"
    assert "application/vnd.kubernetes.protobuf" in body["message"]
    # k8s\x00 + Unknown{typeMeta{apiVersion: "example.com/v1", kind: "Gadget"}}: no message is known for it.
    type_meta = b"\x0a\x0eexample.com/v1" + b"\x12\x06Gadget"
    status, body = _post(kube_emulator, "/api/v1/namespaces", b"k8s\x00\x0a" + bytes([len(type_meta)]) + type_meta)
    assert status == 415
    assert "example.com/v1, Kind=Gadget" in body["message"]
