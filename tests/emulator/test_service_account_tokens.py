"""The emulator's token controller: a `kubernetes.io/service-account-token` Secret gets a token that acts as
its ServiceAccount, under RBAC, through the real kubernetes client."""

from __future__ import annotations

import base64
import json
import time

import pytest
from kubernetes import client, config

from airflow_provider_sparkk8s.testing import KubeEmulator

NS = "team"


def token_secret(name: str, account: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": name, "namespace": NS,
                         "annotations": {"kubernetes.io/service-account.name": account}}}


def wait_for_token(kube: KubeEmulator, name: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        data = (kube.get("v1", "Secret", name, NS) or {}).get("data") or {}
        if "token" in data:
            return base64.b64decode(data["token"]).decode()
        time.sleep(0.05)
    raise AssertionError(f"secret {name} got no token")


def core_api(kube: KubeEmulator, token: str) -> client.CoreV1Api:
    conf = client.Configuration()
    config.load_kube_config_from_dict(kube.kubeconfig(NS, token=token), client_configuration=conf)
    return client.CoreV1Api(client.ApiClient(conf))


def test_the_token_acts_as_its_service_account_under_rbac(kube_emulator_factory) -> None:
    kube = kube_emulator_factory(tls=True, token="admin-token", namespaces=[NS])
    kube.apply([
        token_secret("reader-token", "reader"),  # before its account, as `kubectl apply -f` of one file may do
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reader", "namespace": NS}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "read-pods", "namespace": NS},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "reader", "namespace": NS},
         "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": NS}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-pods"}},
    ], NS)
    token = wait_for_token(kube, "reader-token")
    secret = kube.get("v1", "Secret", "reader-token", NS)
    assert base64.b64decode(secret["data"]["ca.crt"]) == kube.ca_path.read_bytes()
    assert base64.b64decode(secret["data"]["namespace"]).decode() == NS

    api = core_api(kube, token)
    assert api.list_namespaced_pod(NS).items == []
    with pytest.raises(client.ApiException) as denied:
        api.list_namespaced_secret(NS)
    assert denied.value.status == 403
    message = json.loads(denied.value.body)["message"]
    assert 'User "system:serviceaccount:team:reader" cannot list resource "secrets"' in message


def test_a_secret_for_a_missing_account_gets_no_token(kube_emulator_factory) -> None:
    kube = kube_emulator_factory(namespaces=[NS])
    kube.apply([token_secret("orphan-token", "nobody")], NS)
    time.sleep(0.5)
    assert "token" not in (kube.get("v1", "Secret", "orphan-token", NS).get("data") or {})
