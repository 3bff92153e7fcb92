"""Contract tests: the official (sync) `kubernetes` Python client against the API emulator.

Each test drives the real client and asserts what its user observes: objects, status codes, reasons
and messages as the real API server gives them.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes
import pytest
import urllib3
import yaml
from kubernetes.client import (
    ApiClient,
    ApiException,
    CoreV1Api,
    CustomObjectsApi,
    V1ConfigMap,
    V1DeleteOptions,
    V1ObjectMeta,
)

from airflow_provider_sparkk8s.testing.emulator import KubeEmulator

pytestmark = pytest.mark.contract

NS = "default"
NOT_CA = "metadata.name!=kube-root-ca.crt"  # every namespace holds the cluster's CA bundle; lists leave it out
ANN = "emulator.sparkk8s.io/"
APPLY = "application/apply-patch+yaml"


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(params=["plain", "tls-token"])
def kube(request: pytest.FixtureRequest, kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    """The same test body against a plain HTTP emulator and one with TLS and a bearer token."""
    if request.param == "plain":
        return kube_emulator_factory()
    return kube_emulator_factory(tls=True, token="s3cret")


@pytest.fixture
def api(kube: KubeEmulator) -> Iterator[ApiClient]:
    client = kubernetes.config.new_client_from_config(config_file=str(kube.kubeconfig_path))
    yield client
    client.close()


@pytest.fixture
def plain_api(kube_emulator: KubeEmulator) -> Iterator[ApiClient]:
    client = kubernetes.config.new_client_from_config(config_file=str(kube_emulator.kubeconfig_path))
    yield client
    client.close()


@pytest.fixture
def core(api: ApiClient) -> CoreV1Api:
    return CoreV1Api(api)


@pytest.fixture
def v1(plain_api: ApiClient) -> CoreV1Api:
    """CoreV1Api on a plain emulator, for tests where transport does not matter."""
    return CoreV1Api(plain_api)


@pytest.fixture
def custom(api: ApiClient) -> CustomObjectsApi:
    return CustomObjectsApi(api)


# ---------------------------------------------------------------------------------------------- helpers
def pod_body(name: str, *, containers: list[str] | None = None, labels: dict[str, str] | None = None,
             **behaviour: Any) -> dict:
    """A pod manifest; keyword arguments become the emulator's behaviour annotations."""
    annotations = {ANN + key.replace("_", "-"): str(value) for key, value in behaviour.items()}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}, "annotations": annotations},
        "spec": {"restartPolicy": "Never",
                 "containers": [{"name": c, "image": "busybox:1.36"} for c in containers or ["main"]]},
    }


def cm_body(name: str, data: dict[str, str] | None = None, **meta: Any) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}, "data": data or {}}


def wait_for(check: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def wait_phase(core: CoreV1Api, name: str, phases: set[str], timeout: float = 5.0) -> Any:
    return wait_for(lambda: (p := core.read_namespaced_pod(name, NS)).status.phase in phases and p, timeout)


def status_body(exc: ApiException) -> dict:
    return json.loads(exc.body)


def log_text(core: CoreV1Api, name: str, **kwargs: Any) -> str:
    # The client turns a `str` response into "b'...'" (it skips decoding), so read the raw body.
    return core.read_namespaced_pod_log(name, NS, _preload_content=False, **kwargs).data.decode()


def not_found(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ApiException as exc:
        return exc.status == 404
    return False


# ---------------------------------------------------------------------------------------------- core CRUD
def test_pod_create_read_list_replace_delete(core: CoreV1Api) -> None:
    created = core.create_namespaced_pod(NS, pod_body("web", labels={"app": "web"}, outcome="running"))
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
    assert created.status.phase == "Pending"
    assert [p.metadata.name for p in core.list_namespaced_pod(NS).items] == ["web"]

    current = core.read_namespaced_pod("web", NS)
    current.metadata.labels["tier"] = "front"
    replaced = core.replace_namespaced_pod("web", NS, current)
    assert replaced.metadata.labels == {"app": "web", "tier": "front"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    core.delete_namespaced_pod("web", NS)
    assert not_found(lambda: core.read_namespaced_pod("web", NS))


def test_configmap_create_read_replace_delete(core: CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, V1ConfigMap(metadata=V1ObjectMeta(name="settings"), data={"a": "1"}))
    cm = core.read_namespaced_config_map("settings", NS)
    assert cm.data == {"a": "1"} and cm.kind == "ConfigMap" and cm.api_version == "v1"
    cm.data["b"] = "2"
    assert core.replace_namespaced_config_map("settings", NS, cm).data == {"a": "1", "b": "2"}
    status = core.delete_namespaced_config_map("settings", NS)
    assert status.status == "Success"
    assert not_found(lambda: core.read_namespaced_config_map("settings", NS))


def test_secret_string_data_is_stored_base64_in_data(core: CoreV1Api) -> None:
    created = core.create_namespaced_secret(NS, {"metadata": {"name": "creds"},
                                                 "data": {"user": base64.b64encode(b"admin").decode()},
                                                 "stringData": {"password": "hunter2"}})
    assert created.type == "Opaque"
    assert created.string_data is None
    decoded = {k: base64.b64decode(v).decode() for k, v in core.read_namespaced_secret("creds", NS).data.items()}
    assert decoded == {"user": "admin", "password": "hunter2"}


def test_secret_string_data_in_a_patch_updates_data(core: CoreV1Api) -> None:
    core.create_namespaced_secret(NS, {"metadata": {"name": "tok"}, "stringData": {"a": "1"}})
    patched = core.patch_namespaced_secret("tok", NS, {"stringData": {"b": "2"}})
    assert {k: base64.b64decode(v).decode() for k, v in patched.data.items()} == {"a": "1", "b": "2"}


def test_service_gets_cluster_ip_and_headless_stays_headless(core: CoreV1Api) -> None:
    svc = core.create_namespaced_service(NS, {"metadata": {"name": "api"},
                                              "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}})
    assert svc.spec.cluster_ip and svc.spec.cluster_ip != "None"
    assert svc.spec.type == "ClusterIP"
    headless = core.create_namespaced_service(NS, {"metadata": {"name": "driver-svc"},
                                                   "spec": {"clusterIP": "None", "ports": [{"port": 7078}]}})
    assert headless.spec.cluster_ip == "None"
    # Besides the `kubernetes` Service every cluster has in default.
    assert {s.metadata.name for s in core.list_namespaced_service(NS).items} == {"api", "driver-svc", "kubernetes"}


def test_namespace_lifecycle_gets_default_serviceaccount_and_deletes_contents(core: CoreV1Api) -> None:
    ns = core.create_namespace({"metadata": {"name": "team-a"}})
    assert ns.status.phase == "Active"
    assert ns.metadata.labels["kubernetes.io/metadata.name"] == "team-a"
    # The serviceaccounts controller adds it a moment after the namespace, as on a real cluster.
    assert wait_for(lambda: [sa.metadata.name for sa in core.list_namespaced_service_account("team-a").items]) \
        == ["default"]
    core.create_namespaced_config_map("team-a", cm_body("inside"))

    core.delete_namespace("team-a")
    wait_for(lambda: not_found(lambda: core.read_namespace("team-a")))
    assert core.list_namespaced_config_map("team-a").items == []


def test_create_in_missing_namespace_is_not_found(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map("nowhere", cm_body("x"))
    assert exc.value.status == 404
    assert status_body(exc.value)["message"] == 'namespaces "nowhere" not found'


def test_serviceaccount_create_list_delete(core: CoreV1Api) -> None:
    core.create_namespaced_service_account(NS, {"metadata": {"name": "spark"}})
    assert {sa.metadata.name for sa in core.list_namespaced_service_account(NS).items} == {"default", "spark"}
    core.delete_namespaced_service_account("spark", NS)
    assert not_found(lambda: core.read_namespaced_service_account("spark", NS))


def test_event_create_and_select_by_involved_object(core: CoreV1Api) -> None:
    core.create_namespaced_event(NS, {
        "metadata": {"name": "job.1"}, "involvedObject": {"kind": "Pod", "name": "job", "namespace": NS},
        "reason": "Custom", "message": "hello", "type": "Normal"})
    events = core.list_namespaced_event(NS, field_selector="involvedObject.name=job").items
    assert [(e.reason, e.message, e.type) for e in events] == [("Custom", "hello", "Normal")]


def test_persistentvolumeclaim_create_read_delete(core: CoreV1Api) -> None:
    core.create_namespaced_persistent_volume_claim(NS, {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    pvc = core.read_namespaced_persistent_volume_claim("data", NS)
    assert pvc.spec.access_modes == ["ReadWriteOnce"]
    assert pvc.spec.resources.requests == {"storage": "1Gi"}
    core.delete_namespaced_persistent_volume_claim("data", NS)
    assert not_found(lambda: core.read_namespaced_persistent_volume_claim("data", NS))


def test_generate_name_appends_five_random_characters(core: CoreV1Api) -> None:
    names = {core.create_namespaced_config_map(NS, {"metadata": {"generateName": "job-"}}).metadata.name
             for _ in range(3)}
    assert len(names) == 3
    for name in names:
        assert name.startswith("job-") and len(name) == len("job-") + 5 and name.isascii() and name.islower()


# ---------------------------------------------------------------------------------------------- custom objects
WF = ("argoproj.io", "v1alpha1")
SPARK = ("sparkoperator.k8s.io", "v1beta2")


def test_argo_workflow_crud(custom: CustomObjectsApi) -> None:
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "hello-"},
            "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "alpine"}}]}}
    created = custom.create_namespaced_custom_object(*WF, NS, "workflows", body)
    name = created["metadata"]["name"]
    assert name.startswith("hello-") and created["metadata"]["namespace"] == NS
    got = custom.get_namespaced_custom_object(*WF, NS, "workflows", name)
    assert got["spec"]["entrypoint"] == "main"
    patched = custom.patch_namespaced_custom_object(*WF, NS, "workflows", name,
                                                    {"metadata": {"labels": {"done": "yes"}}})
    # The simulated workflow controller adds its own labels (workflows.argoproj.io/phase ...), as Argo does.
    assert patched["metadata"]["labels"]["done"] == "yes"
    listed = custom.list_namespaced_custom_object(*WF, NS, "workflows", label_selector="done=yes")
    assert [i["metadata"]["name"] for i in listed["items"]] == [name]
    custom.delete_namespaced_custom_object(*WF, NS, "workflows", name)
    assert not_found(lambda: custom.get_namespaced_custom_object(*WF, NS, "workflows", name))


def test_argo_workflowtemplate_replace_bumps_generation(custom: CustomObjectsApi) -> None:
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "tmpl"},
            "spec": {"entrypoint": "a"}}
    created = custom.create_namespaced_custom_object(*WF, NS, "workflowtemplates", body)
    assert created["metadata"]["generation"] == 1
    created["spec"]["entrypoint"] = "b"
    replaced = custom.replace_namespaced_custom_object(*WF, NS, "workflowtemplates", "tmpl", created)
    assert replaced["spec"]["entrypoint"] == "b" and replaced["metadata"]["generation"] == 2


def test_cluster_scoped_clusterworkflowtemplate(custom: CustomObjectsApi) -> None:
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "ClusterWorkflowTemplate",
            "metadata": {"name": "shared"}, "spec": {"entrypoint": "main"}}
    created = custom.create_cluster_custom_object(*WF, "clusterworkflowtemplates", body)
    assert "namespace" not in created["metadata"]
    listed = custom.list_cluster_custom_object(*WF, "clusterworkflowtemplates")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["shared"]
    custom.delete_cluster_custom_object(*WF, "clusterworkflowtemplates", "shared")
    assert not_found(lambda: custom.get_cluster_custom_object(*WF, "clusterworkflowtemplates", "shared"))


def test_sparkapplication_status_subresource_is_separate_from_spec(kube: KubeEmulator,
                                                                   custom: CustomObjectsApi) -> None:
    kube.spark_operator.enabled = False  # API semantics only: no controller writing status meanwhile
    body = {"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
            "metadata": {"name": "pi"}, "spec": {"type": "Python", "mode": "cluster"},
            "status": {"applicationState": {"state": "IGNORED"}}}
    created = custom.create_namespaced_custom_object(*SPARK, NS, "sparkapplications", body)
    assert "status" not in created  # status is not writable through the main resource

    with_status = custom.patch_namespaced_custom_object_status(
        *SPARK, NS, "sparkapplications", "pi", {"status": {"applicationState": {"state": "RUNNING"}},
                                                "spec": {"mode": "client"}})
    assert with_status["status"]["applicationState"]["state"] == "RUNNING"
    assert with_status["spec"]["mode"] == "cluster"  # /status ignores spec changes
    assert with_status["metadata"]["generation"] == 1

    with_status["spec"]["mode"] = "client"
    with_status["status"] = {"applicationState": {"state": "FAILED"}}
    replaced = custom.replace_namespaced_custom_object(*SPARK, NS, "sparkapplications", "pi", with_status)
    assert replaced["spec"]["mode"] == "client" and replaced["metadata"]["generation"] == 2
    assert replaced["status"]["applicationState"]["state"] == "RUNNING"  # the main resource ignores status

    replaced["status"] = {"applicationState": {"state": "COMPLETED"}}
    done = custom.replace_namespaced_custom_object_status(*SPARK, NS, "sparkapplications", "pi", replaced)
    assert done["status"]["applicationState"]["state"] == "COMPLETED"
    got = custom.get_namespaced_custom_object_status(*SPARK, NS, "sparkapplications", "pi")
    assert got["status"]["applicationState"]["state"] == "COMPLETED"


def test_unknown_custom_resource_is_not_found(custom: CustomObjectsApi) -> None:
    with pytest.raises(ApiException) as exc:
        custom.list_namespaced_custom_object("example.com", "v1", NS, "widgets")
    assert exc.value.status == 404
    assert status_body(exc.value)["reason"] == "NotFound"


# ---------------------------------------------------------------------------------------------- selectors
@pytest.fixture
def labelled(v1: CoreV1Api) -> CoreV1Api:
    for name, labels in {"a": {"env": "prod", "tier": "web"}, "b": {"env": "dev", "tier": "web"},
                         "c": {"env": "test"}, "d": {}}.items():
        v1.create_namespaced_config_map(NS, cm_body(name, labels=labels))
    return v1


@pytest.mark.parametrize(("selector", "expected"), [
    ("env=prod", ["a"]),
    ("env==dev", ["b"]),
    ("env!=prod", ["b", "c", "d"]),
    ("env in (prod, test)", ["a", "c"]),
    ("env notin (prod,test)", ["b", "d"]),
    ("tier", ["a", "b"]),
    ("!tier", ["c", "d"]),
    ("tier=web,env!=dev", ["a"]),
])
def test_label_selector(labelled: CoreV1Api, selector: str, expected: list[str]) -> None:
    items = labelled.list_namespaced_config_map(NS, label_selector=selector, field_selector=NOT_CA).items
    assert sorted(i.metadata.name for i in items) == expected


def test_invalid_label_selector_is_bad_request(labelled: CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        labelled.list_namespaced_config_map(NS, label_selector="env in prod")
    assert exc.value.status == 400


def test_field_selector_on_metadata_name(labelled: CoreV1Api) -> None:
    items = labelled.list_namespaced_config_map(NS, field_selector="metadata.name=c").items
    assert [i.metadata.name for i in items] == ["c"]
    items = labelled.list_namespaced_config_map(NS, field_selector=f"metadata.name!=c,{NOT_CA}").items
    assert sorted(i.metadata.name for i in items) == ["a", "b", "d"]


def test_field_selector_on_pod_phase(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("quick", run_seconds=0))
    v1.create_namespaced_pod(NS, pod_body("forever", outcome="running"))
    wait_phase(v1, "quick", {"Succeeded"})
    wait_phase(v1, "forever", {"Running"})
    succeeded = v1.list_namespaced_pod(NS, field_selector="status.phase=Succeeded").items
    assert [p.metadata.name for p in succeeded] == ["quick"]
    active = v1.list_namespaced_pod(NS, field_selector="status.phase!=Succeeded,status.phase!=Failed").items
    assert [p.metadata.name for p in active] == ["forever"]


def test_unsupported_field_selector_is_bad_request(v1: CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        v1.list_namespaced_config_map(NS, field_selector="data.key=x")
    assert exc.value.status == 400
    assert "field label not supported: data.key" in status_body(exc.value)["message"]


def test_pagination_with_limit_and_continue(v1: CoreV1Api) -> None:
    for i in range(7):
        v1.create_namespaced_config_map(NS, cm_body(f"page-{i}"))
    # etcd counts the keys left after a page: the API server gives that count as remainingItemCount without a
    # selector (7 configmaps and kube-root-ca.crt, less 3), and leaves it out with one, which etcd cannot count.
    unselected = v1.list_namespaced_config_map(NS, limit=3)
    assert unselected.metadata._continue and unselected.metadata.remaining_item_count == 5
    first = v1.list_namespaced_config_map(NS, limit=3, field_selector=NOT_CA)
    assert len(first.items) == 3
    assert first.metadata._continue and first.metadata.remaining_item_count is None
    names, token = [i.metadata.name for i in first.items], first.metadata._continue
    while token:
        page = v1.list_namespaced_config_map(NS, limit=3, _continue=token, field_selector=NOT_CA)
        names += [i.metadata.name for i in page.items]
        token = page.metadata._continue
    assert names == [f"page-{i}" for i in range(7)]


# ---------------------------------------------------------------------------------------------- errors
def test_replace_with_stale_resource_version_is_conflict(core: CoreV1Api) -> None:
    stale = core.create_namespaced_config_map(NS, cm_body("cfg", {"k": "1"}))
    core.patch_namespaced_config_map("cfg", NS, {"data": {"k": "2"}})
    stale.data["k"] = "3"
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("cfg", NS, stale)
    assert exc.value.status == 409
    body = status_body(exc.value)
    assert body["reason"] == "Conflict"
    assert body["message"] == ('Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
                               "please apply your changes to the latest version and try again")
    assert core.read_namespaced_config_map("cfg", NS).data == {"k": "2"}


def test_create_existing_is_already_exists(core: CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm_body("dup"))
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(NS, cm_body("dup"))
    assert exc.value.status == 409
    body = status_body(exc.value)
    assert (body["reason"], body["message"]) == ("AlreadyExists", 'configmaps "dup" already exists')
    assert body["details"]["name"] == "dup" and body["details"]["kind"] == "configmaps"


def test_read_missing_is_not_found_with_status(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod("ghost", NS)
    assert exc.value.status == 404
    body = status_body(exc.value)
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == 404
    assert (body["reason"], body["message"]) == ("NotFound", 'pods "ghost" not found')
    assert body["details"] == {"name": "ghost", "kind": "pods"}  # the core group is left out


def test_bad_name_is_invalid(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(NS, cm_body("Bad_Name"))
    assert exc.value.status == 422
    body = status_body(exc.value)
    assert body["reason"] == "Invalid"
    assert body["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
                                      "a lowercase RFC 1123 subdomain must consist of")
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_owner_reference_without_uid_is_invalid(core: CoreV1Api) -> None:
    ref = {"apiVersion": "v1", "kind": "Pod", "name": "owner"}
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(NS, cm_body("orphan", ownerReferences=[ref]))
    assert exc.value.status == 422
    body = status_body(exc.value)
    assert body["reason"] == "Invalid"
    assert body["message"] == ('ConfigMap "orphan" is invalid: metadata.ownerReferences.uid: Invalid value: "": '
                               "uid must not be empty")


# ---------------------------------------------------------------------------------------------- patches
def test_merge_patch_sets_and_removes_keys(core: CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm_body("m", {"keep": "1", "drop": "2"}))
    patched = core.patch_namespaced_config_map("m", NS, {"data": {"drop": None, "new": "3"}},
                                               _content_type="application/merge-patch+json")
    assert patched.data == {"keep": "1", "new": "3"}


def test_strategic_merge_patch_merges_containers_by_name(core: CoreV1Api) -> None:
    core.create_namespaced_pod(NS, pod_body("sm", containers=["app", "sidecar"], outcome="running"))
    # A dict body makes the client send a strategic merge patch.
    patched = core.patch_namespaced_pod("sm", NS, {"spec": {"containers": [{"name": "sidecar",
                                                                            "image": "envoy:1.30"}]}})
    images = {c.name: c.image for c in patched.spec.containers}
    assert images == {"app": "busybox:1.36", "sidecar": "envoy:1.30"}


def test_json_patch_operations(core: CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm_body("j", {"a": "1"}))
    patched = core.patch_namespaced_config_map("j", NS, [
        {"op": "add", "path": "/data/b", "value": "2"},
        {"op": "replace", "path": "/data/a", "value": "10"},
        {"op": "add", "path": "/metadata/labels", "value": {"x": "y"}},
    ])
    assert patched.data == {"a": "10", "b": "2"} and patched.metadata.labels == {"x": "y"}
    removed = core.patch_namespaced_config_map("j", NS, [{"op": "remove", "path": "/data/b"}])
    assert removed.data == {"a": "10"}


def test_json_patch_removing_missing_path_is_rejected(core: CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm_body("jm", {"a": "1"}))
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map("jm", NS, [{"op": "remove", "path": "/data/missing"}])
    assert exc.value.status == 422
    assert status_body(exc.value)["reason"] == "Invalid"


def test_server_side_apply_creates_then_drops_fields_the_manager_stopped_applying(core: CoreV1Api) -> None:
    def apply(data: dict[str, str]) -> V1ConfigMap:
        return core.patch_namespaced_config_map("ssa", NS, cm_body("ssa", data), field_manager="deployer",
                                                force=True, _content_type=APPLY)

    created, code, _ = core.patch_namespaced_config_map_with_http_info(
        "ssa", NS, cm_body("ssa", {"a": "1", "b": "2"}), field_manager="deployer", force=True, _content_type=APPLY)
    assert code == 201  # apply created it
    assert created.data == {"a": "1", "b": "2"} and created.metadata.uid
    assert apply({"a": "1", "b": "2"}).metadata.resource_version == created.metadata.resource_version
    # Another manager's field survives the first manager's re-apply.
    core.patch_namespaced_config_map("ssa", NS, {"data": {"other": "x"}},
                                     _content_type="application/merge-patch+json")
    assert apply({"a": "1"}).data == {"a": "1", "other": "x"}


def test_server_side_apply_yaml_body_through_dynamic_client(api: ApiClient) -> None:
    dyn = kubernetes.dynamic.DynamicClient(api)
    services = dyn.resources.get(api_version="v1", kind="Service")
    manifest = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "driver-svc", "namespace": NS},
                "spec": {"clusterIP": "None", "ports": [{"name": "driver", "port": 7078}]}}
    created = services.server_side_apply(body=manifest, field_manager="fabric8", force=True)
    assert created.spec.clusterIP == "None"
    manifest["spec"]["ports"].append({"name": "ui", "port": 4040})
    updated = services.server_side_apply(body=manifest, field_manager="fabric8", force=True)
    assert [p.name for p in updated.spec.ports] == ["driver", "ui"]


def test_apply_without_field_manager_is_bad_request(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map("x", NS, cm_body("x"), _content_type=APPLY)
    assert exc.value.status == 400


def test_patch_of_missing_object_is_not_found(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map("absent", NS, {"data": {"a": "1"}})
    assert exc.value.status == 404


# ---------------------------------------------------------------------------------------------- deletion
def _owned_configmap(v1: CoreV1Api, owner: str, name: str, **ref: Any) -> None:
    pod = v1.read_namespaced_pod(owner, NS)
    v1.create_namespaced_config_map(NS, cm_body(name, ownerReferences=[
        {"apiVersion": "v1", "kind": "Pod", "name": owner, "uid": pod.metadata.uid, **ref}]))


def test_background_deletion_garbage_collects_dependents(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("owner", outcome="running"))
    _owned_configmap(v1, "owner", "dependent")
    v1.delete_namespaced_pod("owner", NS, body=V1DeleteOptions(propagation_policy="Background"))
    wait_for(lambda: not_found(lambda: v1.read_namespaced_config_map("dependent", NS)))


def test_orphan_deletion_keeps_dependents_and_strips_owner_reference(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("owner", outcome="running"))
    _owned_configmap(v1, "owner", "dependent")
    v1.delete_namespaced_pod("owner", NS, propagation_policy="Orphan")
    wait_for(lambda: not_found(lambda: v1.read_namespaced_pod("owner", NS)))
    assert v1.read_namespaced_config_map("dependent", NS).metadata.owner_references is None


def test_foreground_deletion_removes_dependents_and_owner(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("owner", outcome="running"))
    _owned_configmap(v1, "owner", "dependent", blockOwnerDeletion=True)
    v1.delete_namespaced_pod("owner", NS, body=V1DeleteOptions(propagation_policy="Foreground"))
    wait_for(lambda: not_found(lambda: v1.read_namespaced_config_map("dependent", NS)))
    wait_for(lambda: not_found(lambda: v1.read_namespaced_pod("owner", NS)))


def test_foreground_deletion_waits_for_blocking_dependent_finalizer(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("owner", outcome="running"))
    pod_uid = v1.read_namespaced_pod("owner", NS).metadata.uid
    v1.create_namespaced_config_map(NS, cm_body("held", finalizers=["example.com/hold"], ownerReferences=[
        {"apiVersion": "v1", "kind": "Pod", "name": "owner", "uid": pod_uid, "blockOwnerDeletion": True}]))
    v1.delete_namespaced_pod("owner", NS, propagation_policy="Foreground")

    owner = v1.read_namespaced_pod("owner", NS)
    assert owner.metadata.deletion_timestamp is not None
    assert "foregroundDeletion" in owner.metadata.finalizers
    # The garbage collector deletes the dependent asynchronously; its own finalizer keeps it.
    wait_for(lambda: v1.read_namespaced_config_map("held", NS).metadata.deletion_timestamp is not None)

    v1.patch_namespaced_config_map("held", NS, {"metadata": {"finalizers": None}})
    wait_for(lambda: not_found(lambda: v1.read_namespaced_pod("owner", NS)))


def test_finalizer_holds_object_with_deletion_timestamp_until_removed(core: CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm_body("held", finalizers=["example.com/hold"]))
    core.delete_namespaced_config_map("held", NS)
    held = core.read_namespaced_config_map("held", NS)
    assert held.metadata.deletion_timestamp is not None
    assert held.metadata.finalizers == ["example.com/hold"]
    core.patch_namespaced_config_map("held", NS, [{"op": "remove", "path": "/metadata/finalizers"}])
    assert not_found(lambda: core.read_namespaced_config_map("held", NS))


def test_dependents_are_collected_when_a_finalizer_held_owner_finally_goes(v1: CoreV1Api) -> None:
    owner = v1.create_namespaced_config_map(NS, cm_body("owner", finalizers=["example.com/hold"]))
    v1.create_namespaced_config_map(NS, cm_body("dependent", ownerReferences=[
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}]))
    v1.delete_namespaced_config_map("owner", NS)
    assert v1.read_namespaced_config_map("dependent", NS)  # the owner still exists, held by its finalizer
    v1.patch_namespaced_config_map("owner", NS, {"metadata": {"finalizers": None}})
    wait_for(lambda: not_found(lambda: v1.read_namespaced_config_map("dependent", NS)))


def test_delete_with_stale_uid_precondition_is_conflict(core: CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm_body("pre"))
    with pytest.raises(ApiException) as exc:
        core.delete_namespaced_config_map("pre", NS, body={"preconditions": {"uid": "not-the-uid"}})
    assert exc.value.status == 409
    assert status_body(exc.value)["reason"] == "Conflict"


# ---------------------------------------------------------------------------------------------- watches
def test_watch_from_resource_version_sees_only_later_events(core: CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm_body("before"))
    rv = core.list_namespaced_config_map(NS).metadata.resource_version
    core.create_namespaced_config_map(NS, cm_body("after"))
    core.patch_namespaced_config_map("after", NS, {"data": {"k": "v"}})
    core.delete_namespaced_config_map("after", NS)

    w = kubernetes.watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=2):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "after"), ("MODIFIED", "after"), ("DELETED", "after")]


def test_watch_without_resource_version_starts_with_current_objects(core: CoreV1Api) -> None:
    for name in ("x", "y"):
        core.create_namespaced_config_map(NS, cm_body(name))
    w = kubernetes.watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_config_map, NS, field_selector=NOT_CA, timeout_seconds=2):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 2:
            w.stop()
    assert seen == [("ADDED", "x"), ("ADDED", "y")]


def test_watch_with_label_selector_sees_objects_leave_as_deleted(v1: CoreV1Api) -> None:
    v1.create_namespaced_config_map(NS, cm_body("sel", labels={"app": "a"}))
    rv = v1.list_namespaced_config_map(NS).metadata.resource_version
    v1.patch_namespaced_config_map("sel", NS, {"metadata": {"labels": {"app": "b"}}})
    w = kubernetes.watch.Watch()
    event = next(iter(w.stream(v1.list_namespaced_config_map, NS, label_selector="app=a", resource_version=rv,
                               timeout_seconds=2)))
    w.stop()
    assert (event["type"], event["object"].metadata.labels) == ("DELETED", {"app": "b"})


def test_watch_bookmarks_carry_the_current_resource_version(kube_emulator_factory: Callable[..., KubeEmulator]
                                                             ) -> None:
    kube = kube_emulator_factory(bookmark_interval=0.2)
    api = kubernetes.config.new_client_from_config(config_file=str(kube.kubeconfig_path))
    v1 = CoreV1Api(api)
    v1.create_namespaced_config_map(NS, cm_body("b"))
    rv = v1.list_namespaced_config_map(NS).metadata.resource_version
    w = kubernetes.watch.Watch()
    event = next(iter(w.stream(v1.list_namespaced_config_map, NS, resource_version=rv,
                               allow_watch_bookmarks=True, timeout_seconds=3)))
    w.stop()
    api.close()
    assert event["type"] == "BOOKMARK"
    assert event["raw_object"]["kind"] == "ConfigMap"
    assert event["raw_object"]["metadata"]["resourceVersion"] == rv
    assert w.resource_version == rv


def test_watch_timeout_seconds_ends_the_stream(v1: CoreV1Api) -> None:
    rv = v1.list_namespaced_config_map(NS).metadata.resource_version
    started = time.monotonic()
    events = list(kubernetes.watch.Watch().stream(v1.list_namespaced_config_map, NS, resource_version=rv,
                                                  timeout_seconds=1))
    elapsed = time.monotonic() - started
    assert events == []
    assert 0.9 <= elapsed < 3


def test_watch_from_compacted_resource_version_is_gone_then_relist_recovers(kube_emulator: KubeEmulator,
                                                                            v1: CoreV1Api) -> None:
    v1.create_namespaced_config_map(NS, cm_body("old"))
    old_rv = v1.list_namespaced_config_map(NS).metadata.resource_version
    v1.create_namespaced_config_map(NS, cm_body("newer"))
    kube_emulator.store.compact()

    with pytest.raises(ApiException) as exc:
        list(kubernetes.watch.Watch().stream(v1.list_namespaced_config_map, NS, resource_version=old_rv,
                                             timeout_seconds=2))
    assert exc.value.status == 410
    assert "too old resource version" in exc.value.reason

    # The documented recovery: relist, then watch from the list's resourceVersion.
    listed = v1.list_namespaced_config_map(NS, field_selector=NOT_CA)
    assert sorted(i.metadata.name for i in listed.items) == ["newer", "old"]
    v1.create_namespaced_config_map(NS, cm_body("latest"))
    w = kubernetes.watch.Watch()
    event = next(iter(w.stream(v1.list_namespaced_config_map, NS, resource_version=listed.metadata.resource_version,
                               timeout_seconds=2)))
    w.stop()
    assert (event["type"], event["object"].metadata.name) == ("ADDED", "latest")


def test_watch_client_retries_once_after_injected_410(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    rv = v1.list_namespaced_config_map(NS).metadata.resource_version
    for name in ("c0", "c1"):
        v1.create_namespaced_config_map(NS, cm_body(name))
    kube_emulator.faults.add(verb="watch", resource="configmaps", gone=True, times=1)
    w = kubernetes.watch.Watch()
    seen = []
    # Without timeout_seconds the client re-watches once by itself after an ERROR 410.
    for event in w.stream(v1.list_namespaced_config_map, NS, resource_version=rv):
        seen.append(event["object"].metadata.name)
        if len(seen) == 2:
            w.stop()
    assert seen == ["c0", "c1"]
    assert kube_emulator.requests.count(verb="watch", resource="configmaps") == 2
    # An open request has status 0; the second watch ends once the server sees the client leave.
    wait_for(lambda: [r.status for r in kube_emulator.requests.snapshot() if r.verb == "watch"] == [200, 200])


def test_dropped_watch_resumes_from_last_seen_resource_version(kube_emulator: KubeEmulator,
                                                               v1: CoreV1Api) -> None:
    rv = v1.list_namespaced_config_map(NS).metadata.resource_version
    for name in ("c0", "c1", "c2"):
        v1.create_namespaced_config_map(NS, cm_body(name))
    kube_emulator.faults.add(verb="watch", resource="configmaps", drop_watch_after_events=1, times=1)
    w = kubernetes.watch.Watch()
    seen = []
    with pytest.raises(urllib3.exceptions.ProtocolError):
        for event in w.stream(v1.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=2):
            seen.append(event["object"].metadata.name)
    assert seen == ["c0"]
    for event in w.stream(v1.list_namespaced_config_map, NS, resource_version=w.resource_version,
                          timeout_seconds=2):
        seen.append(event["object"].metadata.name)
        if len(seen) == 3:
            w.stop()
    assert seen == ["c0", "c1", "c2"]


def test_watch_raw_error_event_carries_410_status(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    rv = v1.list_namespaced_config_map(NS).metadata.resource_version
    v1.create_namespaced_config_map(NS, cm_body("x"))
    kube_emulator.store.compact()
    resp = v1.list_namespaced_config_map(NS, watch=True, resource_version=rv, _preload_content=False)
    lines = [json.loads(line) for line in resp.data.decode().splitlines() if line]
    assert len(lines) == 1 and lines[0]["type"] == "ERROR"
    status = lines[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")


# ---------------------------------------------------------------------------------------------- pods
def test_pod_goes_pending_running_succeeded(v1: CoreV1Api) -> None:
    rv = v1.list_namespaced_pod(NS).metadata.resource_version
    v1.create_namespaced_pod(NS, pod_body("life", run_seconds=0.1))
    phases: list[str] = []
    w = kubernetes.watch.Watch()
    for event in w.stream(v1.list_namespaced_pod, NS, field_selector="metadata.name=life", resource_version=rv,
                          timeout_seconds=5):
        phase = event["object"].status.phase
        if not phases or phases[-1] != phase:
            phases.append(phase)
        if phase == "Succeeded":
            w.stop()
    assert phases == ["Pending", "Running", "Succeeded"]
    pod = v1.read_namespaced_pod("life", NS)
    assert pod.spec.node_name
    terminated = pod.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (0, "Completed")


@pytest.mark.parametrize(("behaviour", "exit_code", "reason"), [
    ({"outcome": "failed", "exit_code": 3}, 3, "Error"),
    ({"outcome": "oomkilled"}, 137, "OOMKilled"),
])
def test_failed_pod_reports_exit_code_and_reason(kube_emulator: KubeEmulator, v1: CoreV1Api,
                                                 behaviour: dict, exit_code: int, reason: str) -> None:
    kube_emulator.pods.behave(name="batch-*", run_seconds=0.05, **behaviour)
    v1.create_namespaced_pod(NS, pod_body("batch-1"))
    pod = wait_phase(v1, "batch-1", {"Failed", "Succeeded"})
    assert pod.status.phase == "Failed"
    terminated = pod.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (exit_code, reason)


def test_unschedulable_pod_has_condition_and_failed_scheduling_event(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("big", outcome="unschedulable"))

    def scheduled_condition() -> Any:
        conds = v1.read_namespaced_pod("big", NS).status.conditions or []
        return next((c for c in conds if c.type == "PodScheduled"), None)

    cond = wait_for(scheduled_condition)
    assert (cond.status, cond.reason) == ("False", "Unschedulable")
    assert "Insufficient cpu" in cond.message
    assert v1.read_namespaced_pod("big", NS).status.phase == "Pending"
    events = wait_for(lambda: v1.list_namespaced_event(
        NS, field_selector="involvedObject.name=big,reason=FailedScheduling").items)
    assert events[0].type == "Warning" and events[0].involved_object.kind == "Pod"


def test_pod_without_containers_is_invalid(v1: CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_pod(NS, {"metadata": {"name": "empty"}, "spec": {"containers": []}})
    assert exc.value.status == 422
    assert "spec.containers: Required value" in status_body(exc.value)["message"]


# ---------------------------------------------------------------------------------------------- logs
def test_log_follow_streams_lines_until_the_container_terminates(core: CoreV1Api) -> None:
    core.create_namespaced_pod(NS, pod_body("talker", log="one\ntwo\nthree", run_seconds=0.4))
    wait_phase(core, "talker", {"Running"})
    resp = core.read_namespaced_pod_log("talker", NS, follow=True, _preload_content=False)
    lines = [line.decode() for line in resp.stream(amt=64)]
    resp.release_conn()
    assert "".join(lines) == "one\ntwo\nthree\n"
    pod = core.read_namespaced_pod("talker", NS)
    assert pod.status.container_statuses[0].state.terminated is not None


def test_log_tail_lines(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("tail", log="1\n2\n3\n4\n5", run_seconds=0))
    wait_phase(v1, "tail", {"Succeeded"})
    assert log_text(v1, "tail") == "1\n2\n3\n4\n5\n"
    assert log_text(v1, "tail", tail_lines=2) == "4\n5\n"


def test_log_timestamps_and_limit_bytes(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("stamp", log="hello\nworld", run_seconds=0))
    wait_phase(v1, "stamp", {"Succeeded"})
    first = log_text(v1, "stamp", timestamps=True).splitlines()[0]
    stamp, _, line = first.partition(" ")
    assert line == "hello"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", stamp)
    assert log_text(v1, "stamp", limit_bytes=3) == "hel"


def test_log_of_missing_pod_is_not_found(v1: CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod_log("gone", NS)
    assert exc.value.status == 404
    assert status_body(exc.value)["message"] == 'pods "gone" not found'


def test_log_of_multi_container_pod_requires_container(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("multi", containers=["app", "sidecar"], run_seconds=0))
    wait_phase(v1, "multi", {"Succeeded"})
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod_log("multi", NS)
    assert exc.value.status == 400
    assert status_body(exc.value)["message"] == ("a container name must be specified for pod multi, "
                                                 "choose one of: [app sidecar]")
    assert log_text(v1, "multi", container="sidecar").startswith("emulated container started in pod multi")


def test_log_of_waiting_container_is_bad_request(v1: CoreV1Api) -> None:
    v1.create_namespaced_pod(NS, pod_body("slow", pending_seconds=30))
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod_log("slow", NS)
    assert exc.value.status == 400
    assert 'container "main" in pod "slow" is waiting to start' in status_body(exc.value)["message"]


# ---------------------------------------------------------------------------------------------- faults
def test_injected_500_reaches_the_client_once_and_is_counted(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    kube_emulator.faults.add(status=500, verb="list", resource="configmaps", times=1)
    with pytest.raises(ApiException) as exc:
        v1.list_namespaced_config_map(NS)
    assert exc.value.status == 500
    assert status_body(exc.value)["reason"] == "InternalError"
    assert v1.list_namespaced_config_map(NS, field_selector=NOT_CA).items == []
    assert kube_emulator.requests.count(verb="list", resource="configmaps") == 2
    assert kube_emulator.requests.counters()["list configmaps"] == 2


def test_injected_429_exposes_retry_after_header(kube_emulator: KubeEmulator) -> None:
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(kube_emulator.kubeconfig_path), client_configuration=config)
    config.retries = False  # see the raw answer instead of urllib3's automatic retry
    kube_emulator.faults.add(status=429, verb="get", resource="pods", retry_after=7, times=1)
    with ApiClient(config) as api:
        with pytest.raises(ApiException) as exc:
            CoreV1Api(api).read_namespaced_pod("any", NS)
    assert exc.value.status == 429
    assert exc.value.headers["Retry-After"] == "7"
    body = status_body(exc.value)
    assert body["reason"] == "TooManyRequests" and body["details"]["retryAfterSeconds"] == 7


def test_default_client_honours_retry_after_on_429(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    kube_emulator.faults.add(status=429, verb="list", resource="pods", retry_after=1, times=1)
    started = time.monotonic()
    assert v1.list_namespaced_pod(NS).items == []
    assert time.monotonic() - started >= 0.9
    assert kube_emulator.requests.count(verb="list", resource="pods") == 2


def test_request_counters_by_verb_and_resource(kube_emulator: KubeEmulator, v1: CoreV1Api) -> None:
    kube_emulator.requests.clear()
    v1.create_namespaced_config_map(NS, cm_body("c"))
    v1.read_namespaced_config_map("c", NS)
    v1.read_namespaced_config_map("c", NS)
    v1.patch_namespaced_config_map("c", NS, {"data": {"a": "b"}})
    v1.delete_namespaced_config_map("c", NS)
    assert kube_emulator.requests.counters() == {"create configmaps": 1, "get configmaps": 2,
                                                 "patch configmaps": 1, "delete configmaps": 1}


# ---------------------------------------------------------------------------------------------- TLS and auth
def test_tls_client_verifies_the_emulator_ca(kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory(tls=True, token="s3cret")
    with kubernetes.config.new_client_from_config(config_file=str(kube.kubeconfig_path)) as api:
        assert api.configuration.host.startswith("https://")
        assert api.configuration.verify_ssl and api.configuration.ssl_ca_cert
        assert "default" in {n.metadata.name for n in CoreV1Api(api).list_namespace().items}
    assert kube.requests.snapshot()[-1].user == "admin"

    # Without the CA the client refuses the self-signed certificate.
    config = kubernetes.client.Configuration()
    config.host, config.api_key = kube.url, {"authorization": "Bearer s3cret"}
    with ApiClient(config) as untrusting:
        with pytest.raises(urllib3.exceptions.MaxRetryError, match="CERTIFICATE_VERIFY_FAILED"):
            CoreV1Api(untrusting).list_namespace()


@pytest.mark.parametrize("token", ["wrong", None])
def test_wrong_or_missing_token_is_unauthorized(kube_emulator_factory: Callable[..., KubeEmulator],
                                                 tmp_path: Any, token: str | None) -> None:
    kube = kube_emulator_factory(tls=True, token="s3cret")
    config = yaml.safe_load(kube.kubeconfig_path.read_text())
    config["users"][0]["user"] = {"token": token} if token else {}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    with kubernetes.config.new_client_from_config(config_file=str(path)) as api:
        with pytest.raises(ApiException) as exc:
            CoreV1Api(api).list_namespaced_pod(NS)
    assert exc.value.status == 401
    assert status_body(exc.value)["reason"] == "Unauthorized"
