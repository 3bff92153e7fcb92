"""Aggregated discovery (apidiscovery.k8s.io/v2, GA in 1.30) at /api and /apis, as a 1.32 API server serves it.

kubectl 1.32 asks /api and /apis with the Accept header below and, given an APIGroupDiscoveryList, needs no
/api/v1 or /apis/<group>/<version> request: a cold `kubectl get pods` is three requests. Without that header the
legacy APIVersions / APIGroupList are served. The documents carry an ETag; a request with a matching If-None-Match
gets 304 (kubectl's HTTP cache revalidates with it), and a CRD that is established or deleted changes them at once.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl, table, wait_for

KUBECTL_ACCEPT = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                  "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""


def get(kube: KubeEmulator, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a GET, as the admin (a request without credentials when no token is set)."""
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if kube.token:
        sent["Authorization"] = f"Bearer {kube.token}"
    request = urllib.request.Request(kube.url + path, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def aggregated(kube: KubeEmulator, path: str) -> dict:
    status, headers, body = get(kube, path, Accept=KUBECTL_ACCEPT)
    assert status == 200 and headers["Content-Type"] == V2, (status, headers)
    return json.loads(body)


def group_names(kube: KubeEmulator) -> list[str]:
    return [item["metadata"]["name"] for item in aggregated(kube, "/apis")["items"]]


def test_api_with_kubectls_accept_header_is_the_core_groups_aggregated_document(kube_emulator) -> None:
    document = aggregated(kube_emulator, "/api")
    assert {k: document[k] for k in ("kind", "apiVersion", "metadata")} == {
        "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}}
    [core] = document["items"]
    # The core group's name is "" and left out; ObjectMeta's creationTimestamp is written as null.
    assert core["metadata"] == {"creationTimestamp": None}
    [v1] = core["versions"]
    assert v1["version"] == "v1" and v1["freshness"] == "Current"
    pods = next(r for r in v1["resources"] if r["resource"] == "pods")
    # As a 1.32 server writes it: a built-in's responseKind has an empty group and version (its legacy
    # APIResource leaves them out); subresources carry their own kind and verbs.
    assert {k: v for k, v in pods.items() if k != "subresources"} == {
        "resource": "pods", "responseKind": {"group": "", "version": "", "kind": "Pod"}, "scope": "Namespaced",
        "singularResource": "pod", "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update",
                                             "watch"],
        "shortNames": ["po"], "categories": ["all"]}
    subresources = {s["subresource"]: s for s in pods["subresources"]}
    assert subresources["log"] == {"subresource": "log", "responseKind": {"group": "", "version": "", "kind": "Pod"},
                                   "verbs": ["get"]}
    assert subresources["exec"]["responseKind"]["kind"] == "PodExecOptions"
    namespaces = next(r for r in v1["resources"] if r["resource"] == "namespaces")
    assert namespaces["scope"] == "Cluster"
    token = next(r for r in v1["resources"] if r["resource"] == "serviceaccounts")["subresources"][0]
    assert token == {"subresource": "token", "verbs": ["create"], "responseKind": {
        "group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest"}}


def test_apis_lists_every_group_in_the_legacy_order_with_its_resources(kube_emulator) -> None:
    document = aggregated(kube_emulator, "/apis")
    _, _, legacy = get(kube_emulator, "/apis")
    legacy_groups = json.loads(legacy)["groups"]
    assert [i["metadata"]["name"] for i in document["items"]] == [g["name"] for g in legacy_groups]
    for item, group in zip(document["items"], legacy_groups, strict=True):
        assert [v["version"] for v in item["versions"]] == [v["version"] for v in group["versions"]]
    apps = next(i for i in document["items"] if i["metadata"]["name"] == "apps")
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["responseKind"] == {"group": "", "version": "", "kind": "Deployment"}
    assert {s["subresource"]: s["responseKind"] for s in deployments["subresources"]} == {
        "scale": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
        "status": {"group": "", "version": "", "kind": "Deployment"}}
    # Argo's kinds are CRDs in a real cluster: the apiextensions server names their group and version.
    argo = next(i for i in document["items"] if i["metadata"]["name"] == "argoproj.io")
    workflows = next(r for r in argo["versions"][0]["resources"] if r["resource"] == "workflows")
    assert workflows["responseKind"] == {"group": "argoproj.io", "version": "v1alpha1", "kind": "Workflow"}
    assert "subresources" not in workflows  # omitempty


def test_without_the_aggregated_accept_header_the_legacy_documents_are_served(kube_emulator) -> None:
    for accept in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
        status, headers, body = get(kube_emulator, "/apis", **accept)
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["kind"] == "APIGroupList" and "ETag" not in headers
        status, _, body = get(kube_emulator, "/api", **accept)
        assert json.loads(body)["kind"] == "APIVersions"
    # The first acceptable choice wins: legacy JSON listed before the aggregated type.
    _, headers, _ = get(kube_emulator, "/apis", Accept="application/json," + V2)
    assert headers["Content-Type"] == "application/json"


def test_a_client_that_asks_only_for_v2beta1_gets_v2beta1(kube_emulator) -> None:
    status, headers, body = get(kube_emulator, "/apis", Accept=V2BETA1)
    assert status == 200 and headers["Content-Type"] == V2BETA1
    document = json.loads(body)
    assert document["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    assert document["items"] == aggregated(kube_emulator, "/apis")["items"]


def test_an_aggregated_version_the_server_does_not_serve_alone_is_406(kube_emulator) -> None:
    status, _, body = get(kube_emulator, "/apis", Accept=V2.replace("v=v2", "v=v3"))
    assert status == 406
    assert json.loads(body)["reason"] == "NotAcceptable"
    status, headers, _ = get(kube_emulator, "/apis", Accept=V2.replace("v=v2", "v=v3") + "," + V2)
    assert status == 200 and headers["Content-Type"] == V2


def test_an_unchanged_document_is_304_to_its_etag_and_a_crd_changes_it(kube_emulator) -> None:
    _, headers, _ = get(kube_emulator, "/apis", Accept=KUBECTL_ACCEPT)
    etag = headers["ETag"]
    assert headers["Vary"] == "Accept" and etag.startswith('"') and etag.endswith('"')
    status, headers, body = get(kube_emulator, "/apis", Accept=KUBECTL_ACCEPT, If_None_Match=etag)
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    kubectl(kube_emulator, "apply", "-f", "-", stdin=CRD)
    wait_for(lambda: "example.com" in group_names(kube_emulator))
    status, headers, _ = get(kube_emulator, "/apis", Accept=KUBECTL_ACCEPT, If_None_Match=etag)
    assert status == 200 and headers["ETag"] != etag


def test_a_crd_appears_when_established_and_goes_when_deleted(kube_emulator) -> None:
    kubectl(kube_emulator, "apply", "-f", "-", stdin=CRD)
    kubectl(kube_emulator, "wait", "--for=condition=Established", "crd/widgets.example.com")
    item = next(i for i in aggregated(kube_emulator, "/apis")["items"] if i["metadata"]["name"] == "example.com")
    assert item["versions"] == [{"version": "v1", "freshness": "Current", "resources": [{
        "resource": "widgets", "responseKind": {"group": "example.com", "version": "v1", "kind": "Widget"},
        "scope": "Namespaced", "singularResource": "widget",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["wd"], "subresources": [{
            "subresource": "status", "responseKind": {"group": "example.com", "version": "v1", "kind": "Widget"},
            "verbs": ["get", "patch", "update"]}]}]}]
    kubectl(kube_emulator, "delete", "crd", "widgets.example.com")
    wait_for(lambda: "example.com" not in group_names(kube_emulator))


def test_a_cold_kubectl_get_pods_asks_api_apis_then_the_list(kube_emulator, tmp_path: Path) -> None:
    """What kubectl 1.32 does against a real server with aggregated discovery: no per-group/version requests."""
    kube_emulator.requests.clear()
    result = kubectl(kube_emulator, "get", "pods", "--cache-dir", str(tmp_path / "cache"))
    assert "No resources found" in result.stderr
    # A kubectl installed by the Cloud SDK is a dispatcher that asks /version to pick the kubectl matching the
    # server before it runs it; kubectl itself does not ask it.
    requests = [(r.method, r.path) for r in kube_emulator.requests.snapshot() if r.path != "/version"]
    assert requests == [("GET", "/api"), ("GET", "/apis"), ("GET", "/api/v1/namespaces/default/pods")]


def test_kubectl_with_a_warm_cache_finds_a_new_crd(kube_emulator, tmp_path: Path) -> None:
    """kubectl's cached discovery lacks the new kind: it revalidates /api and /apis (ETag) and gets the new one."""
    cache = ("--cache-dir", str(tmp_path / "cache"))
    kubectl(kube_emulator, "get", "pods", *cache)
    kubectl(kube_emulator, "apply", "-f", "-", stdin=CRD)
    kubectl(kube_emulator, "wait", "--for=condition=Established", "crd/widgets.example.com")
    result = kubectl(kube_emulator, "get", "widgets", *cache)
    assert "No resources found in default namespace." in result.stderr
    rows = table(kubectl(kube_emulator, "api-resources", "--api-group=example.com", *cache).stdout)
    assert rows[1] == ["widgets", "wd", "example.com/v1", "true", "Widget"]
