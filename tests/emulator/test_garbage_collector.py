"""Garbage collection by ownerReferences, as kube-controller-manager's garbage collector does it (Kubernetes 1.32),
seen through kubectl and the kubernetes client.

What a real cluster does, and these tests assume:

- DELETE (propagationPolicy=Background, kubectl's default) removes an owner without finalizers at once; the
  collector deletes its dependents later, asynchronously. It deletes every object whose ownerReferences all point
  at absent owners: an owner is looked up by kind, name and uid, so a reference to a uid that never existed (or to
  an older object of the same name) is absent too, whenever the dependent was created. A dependent with at least
  one live owner stays, and the collector removes its references to the absent owners.
- Foreground: the API server sets deletionTimestamp and the `foregroundDeletion` finalizer (the owner stays visible);
  the collector deletes the dependents and removes the finalizer once no dependent with blockOwnerDeletion=true is
  left. Owners in a chain (Deployment -> ReplicaSet -> Pod) are deleted in the foreground too, so when the top owner
  is gone, so is everything below it.
- Orphan: the API server adds the `orphan` finalizer; the collector removes the owner's reference from each
  dependent (an emptied ownerReferences list is omitted), then the finalizer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client import AppsV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import client, kubectl, kubectl_json, wait_for

NS = "default"


@pytest.fixture
def core(kube_emulator: KubeEmulator) -> CoreV1Api:
    return CoreV1Api(client(kube_emulator))


def configmap(name: str, *owners: dict, finalizers: tuple[str, ...] = (), block: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if owners:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"],
                                    "uid": o["metadata"]["uid"], **({"blockOwnerDeletion": True} if block else {})}
                                   for o in owners]
    if finalizers:
        meta["finalizers"] = list(finalizers)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}


def create(core: CoreV1Api, body: dict[str, Any]) -> dict[str, Any]:
    created = core.create_namespaced_config_map(NS, body)
    return {"metadata": {"name": created.metadata.name, "uid": created.metadata.uid}}


def exists(core: CoreV1Api, name: str) -> bool:
    try:
        core.read_namespaced_config_map(name, NS)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def meta(kube: KubeEmulator, name: str) -> dict[str, Any]:
    return kubectl_json(kube, "get", "configmap", name, "-n", NS)["metadata"]


def test_background_deletion_removes_the_owner_at_once_and_its_dependents_soon(kube_emulator: KubeEmulator,
                                                                                core: CoreV1Api) -> None:
    owner = create(core, configmap("owner"))
    create(core, configmap("child", owner))
    create(core, configmap("grandchild", {"metadata": {"name": "child", "uid": meta(kube_emulator, "child")["uid"]}}))
    result = kubectl(kube_emulator, "delete", "configmap", "owner", "-n", NS, "--cascade=background")
    assert result.stdout.strip() == 'configmap "owner" deleted'
    assert not exists(core, "owner")
    wait_for(lambda: not exists(core, "child") and not exists(core, "grandchild"))


def test_foreground_deletion_keeps_the_owner_visible_until_blocking_dependents_are_gone(
        kube_emulator: KubeEmulator, core: CoreV1Api) -> None:
    owner = create(core, configmap("owner"))
    create(core, configmap("held", owner, finalizers=("example.com/hold",), block=True))
    create(core, configmap("plain", owner, block=True))
    kubectl(kube_emulator, "delete", "configmap", "owner", "-n", NS, "--cascade=foreground", "--wait=false")

    # The collector deletes both dependents; the one held by its own finalizer keeps the owner.
    wait_for(lambda: not exists(core, "plain") and meta(kube_emulator, "held").get("deletionTimestamp"))
    owner_meta = meta(kube_emulator, "owner")
    assert owner_meta["deletionTimestamp"]
    assert owner_meta["finalizers"] == ["foregroundDeletion"]
    assert "owner" in kubectl(kube_emulator, "get", "configmaps", "-n", NS).stdout

    kubectl(kube_emulator, "patch", "configmap", "held", "-n", NS, "--type=json",
            "-p", json.dumps([{"op": "remove", "path": "/metadata/finalizers"}]))
    wait_for(lambda: not exists(core, "held") and not exists(core, "owner"))


def test_foreground_deletion_does_not_wait_for_dependents_that_do_not_block(kube_emulator: KubeEmulator,
                                                                            core: CoreV1Api) -> None:
    owner = create(core, configmap("owner"))
    create(core, configmap("held", owner, finalizers=("example.com/hold",)))
    kubectl(kube_emulator, "delete", "configmap", "owner", "-n", NS, "--cascade=foreground", "--timeout=20s")
    assert not exists(core, "owner")
    wait_for(lambda: meta(kube_emulator, "held").get("deletionTimestamp"))


def test_orphan_deletion_leaves_the_dependents_without_the_reference(kube_emulator: KubeEmulator,
                                                                      core: CoreV1Api) -> None:
    owner = create(core, configmap("owner"))
    other = create(core, configmap("other"))
    create(core, configmap("only-child", owner))
    create(core, configmap("shared-child", owner, other))
    # kubectl waits until the owner is gone, which is after the collector has orphaned the dependents.
    kubectl(kube_emulator, "delete", "configmap", "owner", "-n", NS, "--cascade=orphan", "--timeout=20s")
    assert not exists(core, "owner")
    assert "ownerReferences" not in meta(kube_emulator, "only-child")
    assert [r["name"] for r in meta(kube_emulator, "shared-child")["ownerReferences"]] == ["other"]


def test_orphan_deletion_of_an_owner_held_by_another_finalizer(kube_emulator: KubeEmulator, core: CoreV1Api) -> None:
    owner = create(core, configmap("owner", finalizers=("example.com/hold",)))
    create(core, configmap("child", owner))
    core.delete_namespaced_config_map("owner", NS, propagation_policy="Orphan")
    wait_for(lambda: "ownerReferences" not in meta(kube_emulator, "child")
             and meta(kube_emulator, "owner").get("finalizers") == ["example.com/hold"])
    assert meta(kube_emulator, "owner")["deletionTimestamp"]
    core.patch_namespaced_config_map("owner", NS, {"metadata": {"finalizers": None}})
    wait_for(lambda: not exists(core, "owner"))
    assert exists(core, "child")


def test_a_dependent_with_one_live_owner_stays_and_drops_the_absent_one(kube_emulator: KubeEmulator,
                                                                         core: CoreV1Api) -> None:
    first, second = create(core, configmap("first")), create(core, configmap("second"))
    create(core, configmap("shared", first, second))
    core.delete_namespaced_config_map("first", NS)
    wait_for(lambda: [r["name"] for r in meta(kube_emulator, "shared")["ownerReferences"]] == ["second"])
    core.delete_namespaced_config_map("second", NS)
    wait_for(lambda: not exists(core, "shared"))


@pytest.mark.parametrize("owner_uid", ["never-existed", "older-namesake"])
def test_a_dependent_whose_owner_is_absent_is_collected_whenever_it_was_created(
        kube_emulator: KubeEmulator, core: CoreV1Api, owner_uid: str) -> None:
    # The collector is not part of DELETE: it collects what references absent owners, even an object created after
    # its owner went, or one naming a uid no object ever had. An object of the owner's name with another uid is
    # not the owner.
    create(core, configmap("owner"))
    if owner_uid == "older-namesake":
        owner_uid = meta(kube_emulator, "owner")["uid"]
        core.delete_namespaced_config_map("owner", NS)
        create(core, configmap("owner"))
    create(core, configmap("stray", {"metadata": {"name": "owner", "uid": owner_uid}}))
    wait_for(lambda: not exists(core, "stray"))
    assert exists(core, "owner")


def _deployment(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                         {"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}}}}


@pytest.mark.parametrize("cascade", ["foreground", "background"])
def test_a_deployment_takes_its_replica_set_and_pods(kube_emulator: KubeEmulator, core: CoreV1Api,
                                                      cascade: str) -> None:
    kube_emulator.pods.behave(name="web-*", outcome="running")
    apps = AppsV1Api(client(kube_emulator))
    kubectl(kube_emulator, "apply", "-n", NS, "-f", "-", stdin=json.dumps(_deployment("web")))
    wait_for(lambda: len([p for p in core.list_namespaced_pod(NS, label_selector="app=web").items
                          if p.status.phase == "Running"]) == 2, timeout=20)
    (rs,) = apps.list_namespaced_replica_set(NS, label_selector="app=web").items
    assert rs.metadata.owner_references[0].kind == "Deployment"

    kubectl(kube_emulator, "delete", "deployment", "web", "-n", NS, f"--cascade={cascade}", "--timeout=30s")
    if cascade == "foreground":
        # Each owner in the chain waited for its blocking dependents: nothing below the Deployment is left.
        assert apps.list_namespaced_replica_set(NS, label_selector="app=web").items == []
        assert core.list_namespaced_pod(NS, label_selector="app=web").items == []
    wait_for(lambda: apps.list_namespaced_replica_set(NS, label_selector="app=web").items == []
             and core.list_namespaced_pod(NS, label_selector="app=web").items == [], timeout=20)


def _job(name: str) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}}}}


def test_a_job_deleted_without_a_policy_keeps_its_pods_and_warns(kube_emulator: KubeEmulator,
                                                                  core: CoreV1Api) -> None:
    # batch/v1 Jobs (and core/v1 ReplicationControllers) default to orphaning their pods, for compatibility; the
    # API server warns about it for Jobs. kubectl always sends a policy (Background), so only API clients see this.
    kube_emulator.pods.behave(name="keep-*", outcome="running")
    kube_emulator.pods.behave(name="drop-*", outcome="running")
    for name in ("keep", "drop"):
        kubectl(kube_emulator, "apply", "-n", NS, "-f", "-", stdin=json.dumps(_job(name)))
        wait_for(lambda n=name: core.list_namespaced_pod(NS, label_selector=f"job-name={n}").items, timeout=20)
    api = client(kube_emulator)
    response = api.call_api(f"/apis/batch/v1/namespaces/{NS}/jobs/keep", "DELETE", auth_settings=["BearerToken"],
                            _preload_content=False)
    assert "child pods are preserved by default when jobs are deleted" in response.getheader("Warning")
    wait_for(lambda: kube_emulator.get("batch/v1", "Job", "keep", NS) is None, timeout=20)
    (pod,) = core.list_namespaced_pod(NS, label_selector="job-name=keep").items
    assert pod.metadata.owner_references is None and pod.metadata.deletion_timestamp is None

    result = kubectl(kube_emulator, "delete", "job", "drop", "-n", NS)
    assert "Warning" not in result.stderr
    wait_for(lambda: all(p.metadata.deletion_timestamp for p in
                         core.list_namespaced_pod(NS, label_selector="job-name=drop").items), timeout=20)


def test_a_replication_controller_deleted_without_a_policy_keeps_its_pods(kube_emulator: KubeEmulator,
                                                                          core: CoreV1Api) -> None:
    kube_emulator.pods.behave(name="legacy-*", outcome="running")
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy"},
          "spec": {"replicas": 1, "selector": {"app": "legacy"}, "template": {
              "metadata": {"labels": {"app": "legacy"}},
              "spec": {"containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}}}}
    core.create_namespaced_replication_controller(NS, rc)
    wait_for(lambda: core.list_namespaced_pod(NS, label_selector="app=legacy").items, timeout=20)
    core.delete_namespaced_replication_controller("legacy", NS)
    wait_for(lambda: kube_emulator.get("v1", "ReplicationController", "legacy", NS) is None, timeout=20)
    (pod,) = core.list_namespaced_pod(NS, label_selector="app=legacy").items
    assert pod.metadata.owner_references is None and pod.metadata.deletion_timestamp is None
