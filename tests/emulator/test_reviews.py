"""The access and identity reviews (`kubectl auth can-i`, `auth can-i --list`, `auth whoami`), TokenReview and
TokenRequest (`kubectl create token`), as authorization.k8s.io/v1 and authentication.k8s.io/v1 define them."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import datetime, timezone

import pytest
from kubernetes import client
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import api_client, try_kubectl

NS = "team"
RBAC = "rbac.authorization.k8s.io/v1"
RUNNER = f"system:serviceaccount:{NS}:runner"


@pytest.fixture
def kube(kube_emulator_factory) -> KubeEmulator:
    kube = kube_emulator_factory(tls=True, token="admin-token", namespaces=[NS], pod_run_seconds=30)
    kube.apply([
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "runner", "namespace": NS}},
        {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "pod-reader", "namespace": NS},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
        {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "runner", "namespace": NS},
         "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": NS}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"}},
    ])
    return kube


def test_auth_can_i_answers_for_the_caller_and_for_whom_it_impersonates(kube: KubeEmulator) -> None:
    admin = try_kubectl(kube, "auth", "can-i", "delete", "secrets", "-n", NS)
    assert (admin.returncode, admin.stdout.strip()) == (0, "yes")
    as_runner = ("-n", NS, "--as", RUNNER)
    assert try_kubectl(kube, "auth", "can-i", "list", "pods", *as_runner).stdout.strip() == "yes"
    denied = try_kubectl(kube, "auth", "can-i", "list", "secrets", *as_runner)
    assert (denied.returncode, denied.stdout.strip()) == (1, "no")
    # The Role is in `team` only.
    assert try_kubectl(kube, "auth", "can-i", "list", "pods", "-n", "default", "--as", RUNNER).returncode == 1

    listed = try_kubectl(kube, "auth", "can-i", "--list", *as_runner)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert ["pods", "[]", "[]", "[get", "list]"] in rows
    assert ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"] in rows
    assert not any(row[0].startswith("secrets") for row in rows)
    admin_rows = [line.split() for line in try_kubectl(kube, "auth", "can-i", "--list", "-n", NS).stdout.splitlines()]
    assert ["*.*", "[]", "[]", "[*]"] in admin_rows


def test_auth_whoami_shows_the_user_and_its_groups(kube: KubeEmulator) -> None:
    me = json.loads(try_kubectl(kube, "auth", "whoami", "-o", "json").stdout)
    assert me["kind"] == "SelfSubjectReview"
    assert me["status"]["userInfo"] == {"username": "admin", "groups": ["system:masters", "system:authenticated"]}
    runner = try_kubectl(kube, "auth", "whoami", "--as", RUNNER)
    assert runner.returncode == 0, runner.stderr
    assert f"Username    {RUNNER}" in runner.stdout
    assert "[system:serviceaccounts system:serviceaccounts:team system:authenticated]" in runner.stdout


def test_subject_access_review_judges_another_user(kube: KubeEmulator) -> None:
    authz = client.AuthorizationV1Api(api_client(kube))

    def review(verb: str, resource: str) -> client.V1SubjectAccessReviewStatus:
        return authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
            user=RUNNER, groups=["system:serviceaccounts", "system:authenticated"],
            resource_attributes=client.V1ResourceAttributes(namespace=NS, verb=verb, resource=resource)))).status

    allowed = review("list", "pods")
    assert allowed.allowed is True
    assert allowed.reason == 'RBAC: allowed by RoleBinding "runner/team" of Role "pod-reader" to ServiceAccount ' \
                             '"runner/team"'
    assert review("list", "secrets").allowed is False
    # Asking about others needs create on subjectaccessreviews; the runner may only ask about itself.
    runner_authz = client.AuthorizationV1Api(api_client(kube, token=kube.service_account_token(NS, "runner")))
    with pytest.raises(client.ApiException) as forbidden:
        runner_authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
            user="admin", resource_attributes=client.V1ResourceAttributes(verb="get", resource="pods"))))
    assert forbidden.value.status == 403
    own = runner_authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
            namespace=NS, verb="get", resource="pods"))))
    assert own.status.allowed is True


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_kubectl_create_token_authenticates_as_the_account_until_it_expires(kube: KubeEmulator) -> None:
    created = try_kubectl(kube, "create", "token", "runner", "-n", NS, "--duration=15m")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    claims = _claims(token)
    assert claims["exp"] - claims["iat"] == 900
    assert claims["sub"] == RUNNER
    assert abs(claims["exp"] - (time.time() + 900)) < 30

    as_runner = client.CoreV1Api(api_client(kube, token=token))
    assert as_runner.list_namespaced_pod(NS).items == []
    with pytest.raises(client.ApiException) as denied:
        as_runner.list_namespaced_secret(NS)
    assert denied.value.status == 403
    assert f'User "{RUNNER}" cannot list resource "secrets"' in json.loads(denied.value.body)["message"]

    too_short = try_kubectl(kube, "create", "token", "runner", "-n", NS, "--duration=5m")
    assert too_short.returncode == 1
    assert 'TokenRequest.authentication.k8s.io "runner" is invalid: spec.expirationSeconds: Invalid value: 300: ' \
           "may not specify a duration less than 10 minutes" in too_short.stderr
    missing = try_kubectl(kube, "create", "token", "nobody", "-n", NS)
    assert 'serviceaccounts "nobody" not found' in missing.stderr


def test_a_token_bound_to_a_pod_dies_with_the_pod(kube: KubeEmulator) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job", "namespace": NS},
                "spec": {"serviceAccountName": "runner", "containers": [{"name": "main", "image": "busybox"}]}})
    created = try_kubectl(kube, "create", "token", "runner", "-n", NS, "--bound-object-kind=Pod",
                      "--bound-object-name=job", "--duration=1h")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    pod_uid = kube.get("v1", "Pod", "job", NS)["metadata"]["uid"]
    assert _claims(token)["kubernetes.io"]["pod"] == {"name": "job", "uid": pod_uid}
    as_runner = client.CoreV1Api(api_client(kube, token=token))
    assert as_runner.read_namespaced_pod("job", NS).metadata.uid == pod_uid

    client.CoreV1Api(api_client(kube)).delete_namespaced_pod("job", NS, grace_period_seconds=0)
    with pytest.raises(client.ApiException) as refused:
        as_runner.list_namespaced_pod(NS)
    assert refused.value.status == 401


def test_token_request_and_token_review_through_kubernetes_asyncio(kube: KubeEmulator) -> None:
    async def scenario() -> None:
        conf = aclient.Configuration()
        await aconfig.load_kube_config(config_file=str(kube.kubeconfig_path), client_configuration=conf)
        async with aclient.ApiClient(conf) as api:
            requested = await aclient.CoreV1Api(api).create_namespaced_service_account_token(
                "runner", NS, aclient.AuthenticationV1TokenRequest(spec=aclient.V1TokenRequestSpec(
                    audiences=["https://kubernetes.default.svc.cluster.local"], expiration_seconds=1200)))
            assert requested.spec.expiration_seconds == 1200
            expires = requested.status.expiration_timestamp
            assert abs((expires - datetime.now(timezone.utc)).total_seconds() - 1200) < 30

            authn = aclient.AuthenticationV1Api(api)
            reviewed = await authn.create_token_review(aclient.V1TokenReview(
                spec=aclient.V1TokenReviewSpec(token=requested.status.token)))
            assert reviewed.status.authenticated is True
            assert reviewed.status.user.username == RUNNER
            assert "system:serviceaccounts:team" in reviewed.status.user.groups
            assert reviewed.status.audiences == ["https://kubernetes.default.svc.cluster.local"]

            bogus = await authn.create_token_review(aclient.V1TokenReview(spec=aclient.V1TokenReviewSpec(
                token="not-a-token")))
            assert not bogus.status.authenticated
            assert bogus.status.error

            # A token for another audience is no credential for the API server itself.
            vault = await aclient.CoreV1Api(api).create_namespaced_service_account_token(
                "runner", NS, aclient.AuthenticationV1TokenRequest(spec=aclient.V1TokenRequestSpec(
                    audiences=["vault"])))
            assert vault.spec.expiration_seconds == 3600
            other = await authn.create_token_review(aclient.V1TokenReview(spec=aclient.V1TokenReviewSpec(
                token=vault.status.token)))
            assert not other.status.authenticated

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))
