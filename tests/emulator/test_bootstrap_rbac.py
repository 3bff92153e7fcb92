"""The bootstrap RBAC policy a new 1.32 cluster has (kube-apiserver's rbac/bootstrap-roles post-start hook) and the
clusterrole-aggregation controller that fills in admin, edit and view."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import api_client, table, try_kubectl, wait_for

NS = "team"
BOT = f"system:serviceaccount:{NS}:bot"
AS_BOT = ("-n", NS, "--as", BOT)
RBAC = "rbac.authorization.k8s.io/v1"
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
# As Argo Workflows' install manifests ship it.
ARGO_VIEW = {
    "apiVersion": RBAC, "kind": "ClusterRole",
    "metadata": {"name": "argo-aggregate-to-view", "labels": {f"{AGGREGATE_TO}view": "true"}},
    "rules": [{"apiGroups": ["argoproj.io"], "resources": ["workflows", "workflowtemplates", "cronworkflows"],
               "verbs": ["get", "list", "watch"]}],
}


@pytest.fixture
def kube(kube_emulator_factory) -> KubeEmulator:
    kube = kube_emulator_factory(tls=True, token="admin-token", namespaces=[NS])
    kube.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bot", "namespace": NS}})
    return kube


def _get_json(kube: KubeEmulator, *args: str) -> dict:
    done = try_kubectl(kube, "get", *args, "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _can_i(kube: KubeEmulator, *args: str) -> str:
    return try_kubectl(kube, "auth", "can-i", *args).stdout.strip()


def test_kubectl_get_clusterroles_lists_the_bootstrap_policy(kube: KubeEmulator) -> None:
    listed = try_kubectl(kube, "get", "clusterroles")
    assert listed.returncode == 0, listed.stderr
    rows = table(listed.stdout)
    assert rows[0] == ["NAME", "CREATED AT"]
    names = {row[0] for row in rows[1:]}
    assert {"cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
            "system:public-info-viewer", "system:aggregate-to-admin", "system:aggregate-to-edit",
            "system:aggregate-to-view"} <= names

    admin = _get_json(kube, "clusterrole", "cluster-admin")
    assert admin["metadata"]["labels"] == {"kubernetes.io/bootstrapping": "rbac-defaults"}
    assert admin["metadata"]["annotations"] == {"rbac.authorization.kubernetes.io/autoupdate": "true"}
    assert admin["rules"] == [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                              {"nonResourceURLs": ["*"], "verbs": ["*"]}]
    view = _get_json(kube, "clusterrole", "view")
    assert view["aggregationRule"] == {
        "clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]}
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    viewer = _get_json(kube, "clusterrole", "system:public-info-viewer")
    assert viewer["rules"] == [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
                                "verbs": ["get"]}]

    bindings = {b["metadata"]["name"]: b for b in _get_json(kube, "clusterrolebindings")["items"]}
    group = "rbac.authorization.k8s.io"

    def groups(name: str) -> list[str]:
        binding = bindings[name]
        assert binding["roleRef"] == {"apiGroup": group, "kind": "ClusterRole", "name": name}
        assert binding["metadata"]["labels"] == {"kubernetes.io/bootstrapping": "rbac-defaults"}
        return [s["name"] for s in binding["subjects"] if s == {"apiGroup": group, "kind": "Group", "name": s["name"]}]
    assert groups("cluster-admin") == ["system:masters"]
    assert groups("system:basic-user") == ["system:authenticated"]
    assert groups("system:discovery") == ["system:authenticated"]
    assert groups("system:public-info-viewer") == ["system:authenticated", "system:unauthenticated"]


def test_a_new_service_account_has_only_what_a_real_cluster_gives_every_user(kube: KubeEmulator, tmp_path) -> None:
    assert _can_i(kube, "create", "selfsubjectaccessreviews", *AS_BOT) == "yes"
    assert _can_i(kube, "create", "selfsubjectrulesreviews", *AS_BOT) == "yes"
    assert _can_i(kube, "get", "/version", *AS_BOT) == "yes"  # system:public-info-viewer
    assert _can_i(kube, "get", "/apis/apps", *AS_BOT) == "yes"  # system:discovery
    for denied in (("list", "pods"), ("get", "secrets"), ("create", "subjectaccessreviews"), ("get", "/metrics")):
        assert _can_i(kube, *denied, *AS_BOT) == "no", denied

    # What allows it is the bootstrap binding, as a SubjectAccessReview says.
    review = client.AuthorizationV1Api(api_client(kube)).create_subject_access_review(client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(user=BOT, groups=["system:serviceaccounts", "system:authenticated"],
                                              resource_attributes=client.V1ResourceAttributes(
                                                  verb="create", group="authorization.k8s.io",
                                                  resource="selfsubjectaccessreviews"))))
    assert review.status.allowed is True
    assert review.status.reason == ('RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole '
                                    '"system:basic-user" to Group "system:authenticated"')

    # With its own token: the bootstrap bindings add nothing to what it may do with resources.
    bot = kube.write_kubeconfig(tmp_path / "bot", NS, token=kube.service_account_token(NS, "bot"))
    listed = try_kubectl(kube, "get", "pods", kubeconfig=bot)
    assert listed.returncode == 1
    assert ('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team:bot" cannot list '
            'resource "pods" in API group "" in the namespace "team"\n') in listed.stderr
    rules = try_kubectl(kube, "auth", "can-i", "--list", kubeconfig=bot)
    assert rules.returncode == 0, rules.stderr
    resources = {row[0] for row in table(rules.stdout)[1:] if not row[0].startswith("[")}
    assert resources == {"selfsubjectreviews.authentication.k8s.io", "selfsubjectaccessreviews.authorization.k8s.io",
                         "selfsubjectrulesreviews.authorization.k8s.io"}


def test_binding_the_view_role_grants_reading_but_not_secrets(kube: KubeEmulator) -> None:
    made = try_kubectl(kube, "create", "rolebinding", "bot-view", "--clusterrole=view", f"--serviceaccount={NS}:bot",
                   "-n", NS)
    assert made.returncode == 0, made.stderr
    assert _can_i(kube, "list", "pods", *AS_BOT) == "yes"
    assert _can_i(kube, "get", "deployments.apps", *AS_BOT) == "yes"
    assert _can_i(kube, "get", "pods", "--subresource=log", *AS_BOT) == "yes"
    assert _can_i(kube, "get", "secrets", *AS_BOT) == "no"
    assert _can_i(kube, "delete", "pods", *AS_BOT) == "no"
    assert _can_i(kube, "list", "pods", "-n", "default", "--as", BOT) == "no"


def _rules_of(kube: KubeEmulator, role: str) -> list[dict]:
    return _get_json(kube, "clusterrole", role).get("rules") or []


def test_a_role_labelled_aggregate_to_view_joins_view_edit_and_admin_until_deleted(kube: KubeEmulator,
                                                                                   tmp_path) -> None:
    manifest = tmp_path / "argo-view.json"
    manifest.write_text(json.dumps(ARGO_VIEW))
    created = try_kubectl(kube, "apply", "-f", str(manifest))
    assert created.returncode == 0, created.stderr
    workflows_rule = ARGO_VIEW["rules"][0]
    for role in ("view", "edit", "admin"):  # edit aggregates view, admin aggregates edit
        wait_for(lambda role=role: workflows_rule in _rules_of(kube, role))
    made = try_kubectl(kube, "create", "rolebinding", "bot-view", "--clusterrole=view", f"--serviceaccount={NS}:bot",
                   "-n", NS)
    assert made.returncode == 0, made.stderr
    assert _can_i(kube, "list", "workflows.argoproj.io", *AS_BOT) == "yes"

    assert try_kubectl(kube, "delete", "clusterrole", "argo-aggregate-to-view").returncode == 0
    for role in ("view", "edit", "admin"):
        wait_for(lambda role=role: workflows_rule not in _rules_of(kube, role))
    assert _can_i(kube, "list", "workflows.argoproj.io", *AS_BOT) == "no"
    assert {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]} in \
        _rules_of(kube, "view")  # the bootstrap rules stay


def test_relabelling_a_role_moves_its_rules_between_aggregated_roles(kube: KubeEmulator) -> None:
    kube.apply(ARGO_VIEW)
    workflows_rule = ARGO_VIEW["rules"][0]
    wait_for(lambda: workflows_rule in _rules_of(kube, "view"))
    relabelled = try_kubectl(kube, "label", "clusterrole", "argo-aggregate-to-view", f"{AGGREGATE_TO}view-",
                         f"{AGGREGATE_TO}admin=true")
    assert relabelled.returncode == 0, relabelled.stderr
    wait_for(lambda: workflows_rule not in _rules_of(kube, "view") and workflows_rule in _rules_of(kube, "admin"))
    assert workflows_rule not in _rules_of(kube, "edit")


def test_kubectl_describe_clusterrole_view(kube: KubeEmulator) -> None:
    described = try_kubectl(kube, "describe", "clusterrole", "view")
    assert described.returncode == 0, described.stderr
    rows = [line.split() for line in described.stdout.splitlines()]
    assert ["Name:", "view"] in rows
    assert ["Labels:", "kubernetes.io/bootstrapping=rbac-defaults"] in rows
    assert ["pods", "[]", "[]", "[get", "list", "watch]"] in rows
    assert ["deployments.apps", "[]", "[]", "[get", "list", "watch]"] in rows
    assert not any(row and row[0] == "secrets" for row in rows)
