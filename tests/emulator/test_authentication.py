"""Who a request is never depends on the objects applied: the admin kubeconfig keeps working after Argo-style
service-account token Secrets are applied, and the tokens those Secrets get act as their ServiceAccount, under
RBAC, for as long as the Secret holds them (as the API server's legacy token authenticator checks)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from kubernetes import client

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import api_client, try_kubectl

NS = "argo"

# As in Argo Workflows' install manifests: an account and its long-lived token Secret.
ARGO_SERVER_MANIFESTS = f"""
apiVersion: v1
kind: ServiceAccount
metadata: {{name: argo-server, namespace: {NS}}}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: argo-server.service-account-token
  namespace: {NS}
  annotations: {{kubernetes.io/service-account.name: argo-server}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: argo-server, namespace: {NS}}}
rules: [{{apiGroups: [""], resources: [configmaps], verbs: [get, list]}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: argo-server, namespace: {NS}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: argo-server}}
subjects: [{{kind: ServiceAccount, name: argo-server, namespace: {NS}}}]
"""


def _token_of(kube: KubeEmulator, secret: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        data = (kube.get("v1", "Secret", secret, NS) or {}).get("data") or {}
        if "token" in data:
            return base64.b64decode(data["token"]).decode()
        time.sleep(0.05)
    raise AssertionError(f"secret {secret} got no token")


@pytest.mark.parametrize("admin_token", ["admin-token", None], ids=["token", "no-token"])
def test_applying_token_secrets_never_locks_out_the_admin_kubeconfig(kube_emulator_factory,
                                                                       admin_token: str | None) -> None:
    # kubectl sends a token over TLS only, and asks for a password over TLS without credentials.
    kube = kube_emulator_factory(tls=admin_token is not None, token=admin_token, namespaces=[NS])
    kube.apply(ARGO_SERVER_MANIFESTS)
    token = _token_of(kube, "argo-server.service-account-token")

    # The admin kubeconfig the emulator wrote still works, for kubectl and the kubernetes client.
    listed = try_kubectl(kube, "get", "secrets", "-n", NS, "-o", "name")
    assert listed.returncode == 0, listed.stderr
    assert "secret/argo-server.service-account-token" in listed.stdout
    assert client.CoreV1Api(api_client(kube)).list_namespace().items

    # The new token acts as the ServiceAccount, with its Role and nothing more.
    as_server = client.CoreV1Api(api_client(kube, token=token, namespace=NS))
    assert as_server.list_namespaced_config_map(NS).items is not None
    with pytest.raises(client.ApiException) as denied:
        as_server.list_namespaced_secret(NS)
    assert denied.value.status == 403
    assert 'User "system:serviceaccount:argo:argo-server" cannot list resource "secrets"' in \
        json.loads(denied.value.body)["message"]
    review = client.AuthenticationV1Api(api_client(kube, token=token)).create_self_subject_review(
        client.V1SelfSubjectReview())
    assert review.status.user_info.username == "system:serviceaccount:argo:argo-server"
    assert review.status.user_info.groups == ["system:serviceaccounts", "system:serviceaccounts:argo",
                                              "system:authenticated"]


def test_a_legacy_token_stops_working_when_its_secret_is_deleted(kube_emulator_factory) -> None:
    # The legacy token authenticator looks the Secret up: a deleted Secret revokes its token.
    kube = kube_emulator_factory(tls=True, token="admin-token", namespaces=[NS])
    kube.apply(ARGO_SERVER_MANIFESTS)
    token = _token_of(kube, "argo-server.service-account-token")
    as_server = client.CoreV1Api(api_client(kube, token=token, namespace=NS))
    as_server.list_namespaced_config_map(NS)
    client.CoreV1Api(api_client(kube)).delete_namespaced_secret("argo-server.service-account-token", NS)
    with pytest.raises(client.ApiException) as refused:
        as_server.list_namespaced_config_map(NS)
    assert refused.value.status == 401


def test_a_token_the_server_never_issued_gets_401_even_without_an_admin_token(kube_emulator_factory) -> None:
    # Credentials that are presented must be valid, whether or not anonymous requests are accepted.
    kube = kube_emulator_factory()
    assert client.CoreV1Api(api_client(kube)).list_namespace().items  # no credentials: the admin
    with pytest.raises(client.ApiException) as refused:
        client.CoreV1Api(api_client(kube, token="made-up")).list_namespace()
    assert refused.value.status == 401
