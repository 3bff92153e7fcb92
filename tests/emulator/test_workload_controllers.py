"""The StatefulSet and DaemonSet controllers as a user of a real 1.32 cluster observes them, through kubectl
and the kubernetes client: ordered pod identities, OrderedReady vs Parallel, rolling updates, one daemon pod
per node."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kubernetes import client, config

from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.testing.resources import ResourceType

from .apps_support import NS, eventually, kubectl, owned_pods, start, workload


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return start(kube_emulator_factory)


def core(kube: KubeEmulator) -> client.CoreV1Api:
    conf = client.Configuration()
    config.load_kube_config_from_dict(kube.kubeconfig(NS), client_configuration=conf)
    return client.CoreV1Api(client.ApiClient(conf))


def pod_names(kube: KubeEmulator) -> list[str]:
    return sorted(p.metadata.name for p in core(kube).list_namespaced_pod(NS).items)


def ready(pod: dict | None) -> bool:
    return pod is not None and any(c["type"] == "Ready" and c["status"] == "True"
                                   for c in (pod.get("status") or {}).get("conditions") or [])


def stateful_set(replicas: int = 3, **spec) -> dict:
    return workload("StatefulSet", "db", replicas=replicas, serviceName="db", **spec)


# ---------------------------------------------------------------------- StatefulSet
def test_statefulset_pods_get_ordinal_names_stable_identities_and_claims(kube) -> None:
    claim = {"metadata": {"name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    (sts,) = kube.apply(stateful_set(volumeClaimTemplates=[claim]), NS)
    out = kubectl(kube, "rollout", "status", "statefulset/db", "--timeout=20s", timeout=30).stdout
    # The defaulted RollingUpdate strategy has a partition (0), so kubectl reports a partitioned roll out.
    assert out.splitlines()[-1] == "partitioned roll out complete: 3 new pods have been updated..."
    assert pod_names(kube) == ["db-0", "db-1", "db-2"]
    pod = kube.get("v1", "Pod", "db-1", NS)
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("db-1", "db")
    labels = pod["metadata"]["labels"]
    assert labels["statefulset.kubernetes.io/pod-name"] == "db-1"
    assert labels["apps.kubernetes.io/pod-index"] == "1"
    status = kube.get("apps/v1", "StatefulSet", "db", NS)["status"]
    assert labels["controller-revision-hash"] == status["updateRevision"] == status["currentRevision"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"], status["updatedReplicas"],
            status["observedGeneration"]) == (3, 3, 3, 3, 1)
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-1"}} in pod["spec"]["volumes"]
    assert sorted(c["metadata"]["name"] for c in kube.list("v1", "PersistentVolumeClaim", NS)) == [
        "data-db-0", "data-db-1", "data-db-2"]
    ref = pod["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["uid"], ref["controller"]) == ("StatefulSet", sts["metadata"]["uid"], True)


@pytest.mark.parametrize(("policy", "at_once"), [("OrderedReady", ["db-0"]), ("Parallel", ["db-0", "db-1", "db-2"])])
def test_ordered_ready_waits_for_each_pod_and_parallel_does_not(kube, policy, at_once) -> None:
    # Pods take a second to be scheduled: OrderedReady has created only db-0 meanwhile, Parallel all three.
    kube.pods.behave(namespace=NS, outcome="running", pending_seconds=1.0)
    kube.apply(stateful_set(podManagementPolicy=policy), NS)
    eventually(lambda: len(kube.list("v1", "Pod", NS)) >= len(at_once), what="the first pods")
    time.sleep(0.3)  # time for a wrongly eager controller to create more
    assert pod_names(kube) == at_once
    assert not any(ready(p) for p in kube.list("v1", "Pod", NS))
    eventually(lambda: kube.get("apps/v1", "StatefulSet", "db", NS)["status"].get("readyReplicas") == 3,
               what="three ready replicas")


def test_ordered_scale_down_removes_the_highest_ordinal_first(kube) -> None:
    kube.apply(stateful_set(), NS)
    eventually(lambda: kube.get("apps/v1", "StatefulSet", "db", NS)["status"].get("readyReplicas") == 3,
               what="three ready replicas")
    assert kubectl(kube, "scale", "statefulset/db", "--replicas=1").stdout.strip() == "statefulset.apps/db scaled"
    eventually(lambda: pod_names(kube) == ["db-0"], what="only db-0 left")
    assert kube.get("v1", "Pod", "db-0", NS)["status"]["phase"] == "Running"


def test_rolling_update_replaces_pods_from_the_highest_ordinal(kube) -> None:
    kube.apply(stateful_set(), NS)
    kubectl(kube, "rollout", "status", "statefulset/db", "--timeout=20s", timeout=30)
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in kube.list("v1", "Pod", NS)}
    kubectl(kube, "set", "image", "statefulset/db", "main=busybox:1.37")
    kubectl(kube, "rollout", "status", "statefulset/db", "--timeout=20s", timeout=30)
    eventually(lambda: (s := kube.get("apps/v1", "StatefulSet", "db", NS)["status"]).get("updatedReplicas") == 3
               and s["currentRevision"] == s["updateRevision"], what="the update to complete")
    pods = {p["metadata"]["name"]: p for p in kube.list("v1", "Pod", NS)}
    assert sorted(pods) == ["db-0", "db-1", "db-2"]
    assert all(p["spec"]["containers"][0]["image"] == "busybox:1.37" for p in pods.values())
    assert all(p["metadata"]["uid"] != before[name] for name, p in pods.items())
    # Replaced from the highest ordinal down: db-2 is the oldest of the new pods.
    created = sorted(pods, key=lambda n: (pods[n]["metadata"]["creationTimestamp"],
                                          int(pods[n]["metadata"]["resourceVersion"])))
    assert created == ["db-2", "db-1", "db-0"]
    history = kubectl(kube, "rollout", "history", "statefulset/db").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]


def test_deleting_a_statefulset_pod_brings_it_back_with_the_same_name(kube) -> None:
    kube.apply(stateful_set(replicas=2), NS)
    eventually(lambda: ready(kube.get("v1", "Pod", "db-1", NS)), what="db-1 ready")
    uid = kube.get("v1", "Pod", "db-1", NS)["metadata"]["uid"]
    # --wait=false: a simulated container stops at once, and the controller recreates db-1 within milliseconds, so
    # kubectl's wait could find the new db-1 and wait for its deletion (on a real cluster sleep ignores SIGTERM and
    # the old pod stays Terminating for 30 s, long enough for kubectl to see it go).
    kubectl(kube, "delete", "pod", "db-1", "--wait=false")
    eventually(lambda: (p := kube.get("v1", "Pod", "db-1", NS)) is not None and p["metadata"]["uid"] != uid,
               what="a new db-1")


# ---------------------------------------------------------------------- DaemonSet
def test_a_daemonset_runs_one_pod_per_node(kube) -> None:
    (ds,) = kube.apply(workload("DaemonSet", "agent", replicas=None), NS)
    out = kubectl(kube, "rollout", "status", "daemonset/agent", "--timeout=20s", timeout=30).stdout
    assert out.splitlines()[-1] == 'daemon set "agent" successfully rolled out'
    (pod,) = owned_pods(kube, ds)
    assert pod["metadata"]["generateName"] == "agent-"
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"]
    # Pinned to its node by affinity on metadata.name, and scheduled there.
    assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                       "values": [pod["spec"]["nodeName"]]}]}]
    assert {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"} in \
        pod["spec"]["tolerations"]
    assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
    status = kube.get("apps/v1", "DaemonSet", "agent", NS)["status"]
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"], status["numberReady"],
            status["numberAvailable"], status["updatedNumberScheduled"], status["numberMisscheduled"]) == (
        1, 1, 1, 1, 1, 0)


def test_a_daemonset_whose_node_selector_matches_no_node_runs_nothing(kube) -> None:
    body = workload("DaemonSet", "gpu", replicas=None)
    body["spec"]["template"]["spec"]["nodeSelector"] = {"accelerator": "gpu"}
    kube.apply(body, NS)
    status = eventually(lambda: (s := kube.get("apps/v1", "DaemonSet", "gpu", NS)["status"]).get(
        "observedGeneration") and s, what="the status")
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"]) == (0, 0)
    assert kube.list("v1", "Pod", NS) == []
    line = kubectl(kube, "get", "ds", "gpu").stdout.splitlines()[1].split()
    assert line[1:7] == ["0", "0", "0", "0", "0", "accelerator=gpu"]


def test_a_daemonset_rolls_its_pod_on_restart(kube) -> None:
    (ds,) = kube.apply(workload("DaemonSet", "agent", replicas=None), NS)
    kubectl(kube, "rollout", "status", "daemonset/agent", "--timeout=20s", timeout=30)
    (old,) = owned_pods(kube, ds)
    assert kubectl(kube, "rollout", "restart", "daemonset/agent").stdout.strip() == "daemonset.apps/agent restarted"
    kubectl(kube, "rollout", "status", "daemonset/agent", "--timeout=20s", timeout=30)
    (new,) = eventually(lambda: [p for p in owned_pods(kube, ds) if p["metadata"]["uid"] != old["metadata"]["uid"]
                                 and ready(p)] if len(owned_pods(kube, ds)) == 1 else None, what="one new pod")
    assert new["metadata"]["labels"]["controller-revision-hash"] != old["metadata"]["labels"][
        "controller-revision-hash"]
    assert new["metadata"]["labels"]["pod-template-generation"] == "2"


def test_a_daemonset_follows_the_node_objects_when_nodes_are_served(kube) -> None:
    # Served here the way a cluster serves core/v1 nodes; the controller reads them through the API.
    kube.register(ResourceType("", "v1", "nodes", "Node", namespaced=False, short_names=("no",),
                               subresources=("status",)))

    def node(name: str, **labels: str) -> dict:
        return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, **labels}}}

    kube.apply([node("node-a", disk="ssd"), node("node-b", disk="ssd"), node("node-c")])
    body = workload("DaemonSet", "agent", replicas=None)
    body["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    (ds,) = kube.apply(body, NS)

    def pods_by_node() -> dict[str, str]:
        out = {}
        for pod in owned_pods(kube, ds):
            terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            out[terms["nodeSelectorTerms"][0]["matchFields"][0]["values"][0]] = pod["metadata"]["name"]
        return out

    eventually(lambda: sorted(pods_by_node()) == ["node-a", "node-b"], what="a pod on each ssd node")
    kubectl(kube, "label", "node", "node-c", "disk=ssd")
    eventually(lambda: sorted(pods_by_node()) == ["node-a", "node-b", "node-c"], what="a pod on node-c")
    kubectl(kube, "delete", "node", "node-a")
    eventually(lambda: sorted(pods_by_node()) == ["node-b", "node-c"], what="node-a's pod to go")
    status = eventually(lambda: (s := kube.get("apps/v1", "DaemonSet", "agent", NS)["status"]).get(
        "numberAvailable") == 2 and s, what="two available daemon pods")
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"], status["numberMisscheduled"]) == (
        2, 2, 0)
