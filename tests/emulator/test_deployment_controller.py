"""The Deployment, ReplicaSet and ReplicationController controllers, observed as a user of a real 1.32 cluster
observes them: through kubectl (`rollout status|history|undo|restart|pause|resume`, `set image`, `scale`,
`delete`) and the kubernetes / kubernetes_asyncio clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from kubernetes_asyncio import config as kconfig
from kubernetes_asyncio import watch
from kubernetes_asyncio.client import ApiClient, AppsV1Api, Configuration, CoreV1Api

from airflow_provider_sparkk8s.testing import KubeEmulator

from .apps_support import NS, eventually, kubectl, owned_pods, start, workload

HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return start(kube_emulator_factory)


def deployment(name: str = "web", replicas: int = 3, **spec) -> dict:
    return workload("Deployment", name, replicas=replicas, **spec)


def replica_sets(kube: KubeEmulator, owner: str = "web") -> list[dict]:
    uid = kube.get("apps/v1", "Deployment", owner, NS)["metadata"]["uid"]
    return [rs for rs in kube.list("apps/v1", "ReplicaSet", NS)
            if any(r["uid"] == uid and r.get("controller") for r in rs["metadata"].get("ownerReferences") or [])]


def rolled_out(kube: KubeEmulator, name: str = "web") -> str:
    return kubectl(kube, "rollout", "status", f"deployment/{name}", "--timeout=20s", timeout=30).stdout


# ---------------------------------------------------------------------- Deployment
def test_rollout_status_finishes_and_the_deployment_owns_a_hashed_replica_set(kube) -> None:
    kubectl(kube, "apply", "-f", "-", stdin=_yaml(deployment()))
    assert rolled_out(kube).splitlines()[-1] == 'deployment "web" successfully rolled out'
    (rs,) = replica_sets(kube)
    pod_hash = rs["metadata"]["labels"][HASH]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", HASH: pod_hash}
    assert rs["metadata"]["annotations"][REVISION] == "1"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "3"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "4"  # 3 + 25% rounded up
    ref = rs["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["controller"], ref["blockOwnerDeletion"]) == ("Deployment", "web", True,
                                                                                          True)
    pods = owned_pods(kube, rs)
    assert len(pods) == 3
    assert all(p["metadata"]["name"].startswith(f"web-{pod_hash}-") for p in pods)
    assert all(p["metadata"]["labels"] == {"app": "web", HASH: pod_hash} for p in pods)
    d = kube.get("apps/v1", "Deployment", "web", NS)
    assert d["metadata"]["annotations"][REVISION] == "1"
    status = d["status"]
    assert (status["replicas"], status["updatedReplicas"], status["readyReplicas"], status["availableReplicas"],
            status["observedGeneration"]) == (3, 3, 3, 3, 1)
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions == {"Available": ("True", "MinimumReplicasAvailable"),
                          "Progressing": ("True", "NewReplicaSetAvailable")}


def watch_during(kube: KubeEmulator, resource: str, command: list[str], done: Callable[[dict], bool]
                 ) -> list[tuple[str, dict]]:
    """The watch events of `resource` (pods or replicasets in NS) from before `kubectl <command>` runs until the
    Deployment `web` satisfies `done`, seen through kubernetes_asyncio."""

    async def run() -> list[tuple[str, dict]]:
        conf = Configuration()
        await kconfig.load_kube_config(config_file=str(kube.kubeconfig_path), client_configuration=conf)
        async with ApiClient(configuration=conf) as api_client:
            apps, core = AppsV1Api(api_client), CoreV1Api(api_client)
            lister = apps.list_namespaced_replica_set if resource == "replicasets" else core.list_namespaced_pod
            listed = await lister(NS)
            events = [("ADDED", api_client.sanitize_for_serialization(o)) for o in listed.items]
            proc = await asyncio.create_subprocess_exec(
                "kubectl", "--kubeconfig", str(kube.kubeconfig_path), "-n", NS, *command)
            stream = watch.Watch().stream(lister, NS, resource_version=listed.metadata.resource_version,
                                          timeout_seconds=20)
            async for event in stream:
                events.append((event["type"], api_client.sanitize_for_serialization(event["object"])))
                d = api_client.sanitize_for_serialization(await apps.read_namespaced_deployment("web", NS))
                if done(d):
                    break
            assert await proc.wait() == 0
            return events

    return asyncio.run(run())


def complete(d: dict) -> bool:
    replicas, status = d["spec"]["replicas"], d.get("status") or {}
    return d["metadata"]["generation"] == status.get("observedGeneration") and all(
        status.get(f) == replicas for f in ("replicas", "updatedReplicas", "availableReplicas"))


def test_set_image_rolls_out_within_max_surge_and_max_unavailable(kube) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    kube.apply(deployment(replicas=4, strategy=strategy), NS)
    rolled_out(kube)
    events = watch_during(kube, "replicasets", ["set", "image", "deployment/web", "main=busybox:1.37"],
                          lambda d: complete(d) and d["metadata"]["generation"] == 2)
    desired: dict[str, int] = {}
    totals = []
    for _, rs in events:
        desired[rs["metadata"]["name"]] = rs["spec"]["replicas"]
        totals.append(sum(desired.values()))
    assert max(totals) == 5  # replicas + maxSurge, never more
    assert rolled_out(kube).splitlines()[-1] == 'deployment "web" successfully rolled out'
    new, old = sorted(replica_sets(kube), key=lambda rs: rs["metadata"]["annotations"][REVISION], reverse=True)
    assert new["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.37"
    assert (new["spec"]["replicas"], old["spec"]["replicas"]) == (4, 0)
    assert new["metadata"]["annotations"][REVISION] == "2"
    # Once rolled out, old pods may still be terminating (as on a real cluster); the others run the new image.
    assert {p["spec"]["containers"][0]["image"] for p in kube.list("v1", "Pod", NS)
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")} == {"busybox:1.37"}


def test_rollout_history_and_undo(kube) -> None:
    kube.apply(deployment(replicas=2), NS)
    rolled_out(kube)
    kubectl(kube, "set", "image", "deployment/web", "main=busybox:1.37")
    kubectl(kube, "annotate", "deployment/web", "kubernetes.io/change-cause=move to 1.37")
    rolled_out(kube)
    history = kubectl(kube, "rollout", "history", "deployment/web").stdout.splitlines()
    assert history[0].strip() == "deployment.apps/web"
    assert [line.split(None, 1) for line in history[1:] if line.strip()] == [
        ["REVISION", "CHANGE-CAUSE"], ["1", "<none>"], ["2", "move to 1.37"]]
    assert "busybox:1.36" in kubectl(kube, "rollout", "history", "deployment/web", "--revision=1").stdout

    assert kubectl(kube, "rollout", "undo", "deployment/web").stdout.strip() == "deployment.apps/web rolled back"
    rolled_out(kube)
    d = kube.get("apps/v1", "Deployment", "web", NS)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.36"
    # The first ReplicaSet is the new one again, renumbered after the newest revision: no third ReplicaSet.
    assert d["metadata"]["annotations"][REVISION] == "3"
    revisions = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["metadata"]["annotations"][REVISION]
                 for rs in replica_sets(kube)}
    assert revisions == {"busybox:1.36": "3", "busybox:1.37": "2"}
    history = kubectl(kube, "rollout", "history", "deployment/web").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]


def test_pause_holds_template_changes_until_resume(kube) -> None:
    kube.apply(deployment(replicas=2), NS)
    rolled_out(kube)
    assert kubectl(kube, "rollout", "pause", "deployment/web").stdout.strip() == "deployment.apps/web paused"
    kubectl(kube, "set", "image", "deployment/web", "main=busybox:1.37")
    progressing = eventually(lambda: next((c for c in kube.get("apps/v1", "Deployment", "web", NS)["status"]
                                           .get("conditions", []) if c["type"] == "Progressing"
                                           and c["reason"] == "DeploymentPaused"), None),
                             what="the DeploymentPaused condition")
    assert (progressing["status"], progressing["message"]) == ("Unknown", "Deployment is paused")
    assert len(replica_sets(kube)) == 1
    assert kubectl(kube, "rollout", "resume", "deployment/web").stdout.strip() == "deployment.apps/web resumed"
    rolled_out(kube)
    assert len(replica_sets(kube)) == 2


def test_rollout_restart_replaces_every_pod(kube) -> None:
    kube.apply(deployment(replicas=2), NS)
    rolled_out(kube)
    before = {p["metadata"]["name"] for p in kube.list("v1", "Pod", NS)}
    assert kubectl(kube, "rollout", "restart", "deployment/web").stdout.strip() == "deployment.apps/web restarted"
    rolled_out(kube)
    d = kube.get("apps/v1", "Deployment", "web", NS)
    assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"]["annotations"]
    running = {p["metadata"]["name"] for p in kube.list("v1", "Pod", NS)
               if not p["metadata"].get("deletionTimestamp")}  # old pods may still be terminating
    assert len(running) == 2 and not running & before


def test_kubectl_scale_deployment(kube) -> None:
    kube.apply(deployment(replicas=1), NS)
    rolled_out(kube)
    assert kubectl(kube, "scale", "deployment/web", "--replicas=4").stdout.strip() == "deployment.apps/web scaled"
    rolled_out(kube)
    assert len(kube.list("v1", "Pod", NS)) == 4
    kubectl(kube, "scale", "deployment/web", "--replicas=2")
    eventually(lambda: len(kube.list("v1", "Pod", NS)) == 2, what="two pods")
    (rs,) = replica_sets(kube)
    assert rs["spec"]["replicas"] == 2


def test_recreate_removes_old_pods_before_creating_new_ones(kube) -> None:
    kube.apply(deployment(replicas=2, strategy={"type": "Recreate"}), NS)
    rolled_out(kube)
    events = watch_during(kube, "pods", ["set", "image", "deployment/web", "main=busybox:1.37"],
                          lambda d: complete(d) and d["metadata"]["generation"] == 2)
    live: dict[str, str] = {}
    for event_type, pod in events:
        if event_type == "DELETED":
            live.pop(pod["metadata"]["name"], None)
        else:
            live[pod["metadata"]["name"]] = pod["spec"]["containers"][0]["image"]
        assert len(set(live.values())) <= 1, f"old and new pods at once: {live}"
    assert set(live.values()) == {"busybox:1.37"} and len(live) == 2
    assert rolled_out(kube).splitlines()[-1] == 'deployment "web" successfully rolled out'


def test_delete_deployment_cascades_to_replica_sets_and_pods(kube) -> None:
    kube.apply(deployment(replicas=2), NS)
    rolled_out(kube)
    assert kubectl(kube, "delete", "deployment", "web").stdout.strip() == 'deployment.apps "web" deleted'
    eventually(lambda: not kube.list("apps/v1", "ReplicaSet", NS) and not kube.list("v1", "Pod", NS),
               what="the ReplicaSet and its pods to go")


def test_delete_deployment_with_orphan_cascade_leaves_the_replica_set(kube) -> None:
    kube.apply(deployment(replicas=2), NS)
    rolled_out(kube)
    kubectl(kube, "delete", "deployment", "web", "--cascade=orphan")
    (rs,) = kube.list("apps/v1", "ReplicaSet", NS)
    assert "ownerReferences" not in rs["metadata"]
    assert len(owned_pods(kube, rs)) == 2
    # A new Deployment with the same selector and template adopts it instead of creating another.
    kube.apply(deployment(replicas=2), NS)
    rolled_out(kube)
    assert [r["metadata"]["name"] for r in replica_sets(kube)] == [rs["metadata"]["name"]]


# ---------------------------------------------------------------------- ReplicaSet and ReplicationController
@pytest.mark.parametrize(("kind", "api_version"), [("ReplicaSet", "apps/v1"), ("ReplicationController", "v1")])
def test_replicas_are_kept_and_pods_are_controlled(kube, kind, api_version) -> None:
    (owner,) = kube.apply(workload(kind, "keeper", replicas=2), NS)
    pods = eventually(lambda: [p for p in owned_pods(kube, owner) if p["status"].get("phase") == "Running"]
                      if len(owned_pods(kube, owner)) == 2 else None, what="two running pods")
    ref = pods[0]["metadata"]["ownerReferences"][0]
    assert (ref["apiVersion"], ref["kind"], ref["name"], ref["controller"], ref["blockOwnerDeletion"]) == (
        api_version, kind, "keeper", True, True)
    assert all(p["metadata"]["generateName"] == "keeper-" for p in pods)
    status = eventually(lambda: (s := kube.get(api_version, kind, "keeper", NS)["status"]).get(
        "availableReplicas") == 2 and s, what="two available replicas")
    assert (status["replicas"], status["fullyLabeledReplicas"], status["readyReplicas"],
            status["observedGeneration"]) == (2, 2, 2, 1)
    kubectl(kube, "delete", "pod", pods[0]["metadata"]["name"])
    eventually(lambda: len(owned_pods(kube, owner)) == 2 and pods[0]["metadata"]["name"] not in
               {p["metadata"]["name"] for p in owned_pods(kube, owner)}, what="a replacement pod")


def test_a_replica_set_adopts_matching_orphans_and_releases_pods_that_stop_matching(kube) -> None:
    orphan = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stray", "labels": {"app": "keeper"}},
              "spec": {"containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}}
    kube.apply(orphan, NS)
    (rs,) = kube.apply(workload("ReplicaSet", "keeper", replicas=2), NS)
    eventually(lambda: len(owned_pods(kube, rs)) == 2, what="two pods")
    stray = kube.get("v1", "Pod", "stray", NS)
    assert stray["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
    assert len(kube.list("v1", "Pod", NS)) == 2  # adopted, so only one was created

    kubectl(kube, "label", "pod", "stray", "app=elsewhere", "--overwrite")
    eventually(lambda: "ownerReferences" not in kube.get("v1", "Pod", "stray", NS)["metadata"],
               what="the relabelled pod to be released")
    eventually(lambda: len(owned_pods(kube, rs)) == 2, what="a replacement for the released pod")
    assert len(kube.list("v1", "Pod", NS)) == 3

    kubectl(kube, "delete", "rs", "keeper", "--cascade=orphan")
    pods = kube.list("v1", "Pod", NS)
    assert len(pods) == 3 and all("ownerReferences" not in p["metadata"] for p in pods)


def _yaml(obj: dict) -> str:
    import yaml

    return yaml.safe_dump(obj)


def test_the_controllers_record_events_that_kubectl_describe_shows(kube) -> None:
    kube.apply(deployment(replicas=2), NS)
    rolled_out(kube)
    (rs,) = replica_sets(kube)
    name = rs["metadata"]["name"]
    describe = kubectl(kube, "describe", "deployment", "web").stdout
    assert f"NewReplicaSet:   {name} (2/2 replicas created)" in describe
    assert "Normal  ScalingReplicaSet  " in describe and f"deployment-controller  Scaled up replica set {name} " \
        "from 0 to 2" in describe
    events = kubectl(kube, "get", "events", "--field-selector", f"involvedObject.name={name}", "-o",
                     "jsonpath={range .items[*]}{.reason} {.source.component}{'\\n'}{end}").stdout.splitlines()
    assert events == ["SuccessfulCreate replicaset-controller"] * 2
