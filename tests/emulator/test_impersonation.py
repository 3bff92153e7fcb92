"""Impersonation (`kubectl --as`, `--as-group`; Impersonate-* headers), as the API server's impersonation filter:
the caller needs the `impersonate` verb on what it names, then RBAC judges the impersonated user."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import api_client, try_kubectl

NS = "team"
RBAC = "rbac.authorization.k8s.io/v1"


def _setup(kube_emulator_factory) -> KubeEmulator:
    kube = kube_emulator_factory(tls=True, token="admin-token", namespaces=[NS])
    kube.apply([
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "runner", "namespace": NS}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": NS},
         "stringData": {"password": "x"}},
        {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "pod-reader", "namespace": NS},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]},
        {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "runner", "namespace": NS},
         "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": NS}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"}},
    ])
    return kube


def test_impersonating_a_service_account_is_judged_as_that_account(kube_emulator_factory) -> None:
    kube = _setup(kube_emulator_factory)
    as_runner = ("--as", f"system:serviceaccount:{NS}:runner")
    allowed = try_kubectl(kube, "get", "pods", "-n", NS, *as_runner)
    assert allowed.returncode == 0, allowed.stderr
    denied = try_kubectl(kube, "get", "secrets", "-n", NS, *as_runner)
    assert denied.returncode == 1
    assert ('Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:team:runner" cannot '
            'list resource "secrets" in API group "" in the namespace "team"') in denied.stderr
    assert "db" not in denied.stdout


def test_impersonation_needs_the_impersonate_verb(kube_emulator_factory, tmp_path) -> None:
    kube = _setup(kube_emulator_factory)
    token = kube.service_account_token(NS, "runner")
    runner_config = kube.write_kubeconfig(tmp_path / "runner", NS, token=token)

    assert try_kubectl(kube, "get", "pods", "-n", NS, "--as", "alice", kubeconfig=runner_config).returncode == 1
    assert _refusal(kube, token, "alice") == ('users "alice" is forbidden: User "system:serviceaccount:team:runner" '
                                              'cannot impersonate resource "users" in API group "" at the cluster '
                                              'scope')

    # Granted impersonate on the user alice (only) and the group auditors: now it acts as alice in auditors.
    kube.apply([
        {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "impersonate-alice"},
         "rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["alice"]},
                   {"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"],
                    "resourceNames": ["auditors"]}]},
        {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "runner-impersonates"},
         "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": NS}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonate-alice"}},
        {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "secret-auditor"},
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]},
        {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "auditors"},
         "subjects": [{"kind": "Group", "name": "auditors", "apiGroup": "rbac.authorization.k8s.io"}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "secret-auditor"}},
    ])
    whoami = try_kubectl(kube, "auth", "whoami", "-o", "json", "--as", "alice", "--as-group", "auditors",
                     kubeconfig=runner_config)
    assert whoami.returncode == 0, whoami.stderr
    user = json.loads(whoami.stdout)["status"]["userInfo"]
    assert (user["username"], user["groups"]) == ("alice", ["auditors", "system:authenticated"])
    as_auditor = try_kubectl(kube, "get", "secrets", "-n", NS, "-o", "name", "--as", "alice", "--as-group", "auditors",
                         kubeconfig=runner_config)
    assert as_auditor.returncode == 0, as_auditor.stderr
    assert "secret/db" in as_auditor.stdout
    # alice alone is not an auditor; and bob may not be impersonated at all.
    assert try_kubectl(kube, "get", "secrets", "-n", NS, "--as", "alice", kubeconfig=runner_config).returncode == 1
    assert _refusal(kube, token, "alice", "system:masters").startswith('groups "system:masters" is forbidden: User '
                                                                       '"system:serviceaccount:team:runner" cannot '
                                                                       'impersonate resource "groups"')
    assert _refusal(kube, token, "bob").startswith('users "bob" is forbidden')


def _refusal(kube: KubeEmulator, token: str, user: str, group: str | None = None) -> str:
    """The 403 message of listing pods as `token` impersonating user (and group)."""
    api = client.CoreV1Api(api_client(kube, token=token))
    api.api_client.set_default_header("Impersonate-User", user)
    if group:
        api.api_client.set_default_header("Impersonate-Group", group)
    with pytest.raises(client.ApiException) as forbidden:
        api.list_namespaced_pod(NS)
    assert forbidden.value.status == 403
    return json.loads(forbidden.value.body)["message"]


def test_impersonating_a_group_without_a_user_is_a_bad_request(kube_emulator_factory) -> None:
    kube = _setup(kube_emulator_factory)
    api = client.CoreV1Api(api_client(kube))
    api.api_client.set_default_header("Impersonate-Group", "system:masters")
    with pytest.raises(client.ApiException) as bad:
        api.list_namespaced_pod(NS)
    assert bad.value.status == 400
    assert "without impersonating a user" in json.loads(bad.value.body)["message"]
