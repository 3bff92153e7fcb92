"""apps/v1 (Deployments, ReplicaSets, StatefulSets, DaemonSets) and core/v1 ReplicationControllers as a real 1.32
API server serves them: discovery, defaulting, validation, generation, the scale subresource and kubectl's
tables. The expected values are those of the Kubernetes API reference and of `kubectl` against a 1.32 cluster."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from kubernetes import client

from airflow_provider_sparkk8s.testing import KubeEmulator

from .apps_support import NS, eventually, kubectl, start, workload

WORKLOADS = {  # plural: (kind, short names, subresources)
    "deployments": ("Deployment", ["deploy"], {"scale", "status"}),
    "replicasets": ("ReplicaSet", ["rs"], {"scale", "status"}),
    "statefulsets": ("StatefulSet", ["sts"], {"scale", "status"}),
    "daemonsets": ("DaemonSet", ["ds"], {"status"}),
}


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return start(kube_emulator_factory)


@pytest.fixture
def apps(kube: KubeEmulator) -> client.AppsV1Api:
    return client.AppsV1Api(_api_client(kube))


def _api_client(kube: KubeEmulator) -> client.ApiClient:
    from kubernetes import config

    conf = client.Configuration()
    config.load_kube_config_from_dict(kube.kubeconfig(NS), client_configuration=conf)
    return client.ApiClient(conf)


# ---------------------------------------------------------------------- discovery
def test_discovery_lists_the_workload_kinds_with_short_names_categories_and_subresources(kube) -> None:
    resources = {r.name: r for r in client.AppsV1Api(_api_client(kube)).get_api_resources().resources}
    for plural, (kind, short_names, subresources) in WORKLOADS.items():
        main = resources[plural]
        assert (main.kind, main.short_names, main.categories, main.namespaced) == (kind, short_names, ["all"], True)
        assert sorted(main.verbs) == ["create", "delete", "deletecollection", "get", "list", "patch", "update",
                                      "watch"]
        assert {n.split("/")[1] for n in resources if n.startswith(plural + "/")} == subresources
    scale = resources["deployments/scale"]
    # The scale subresource is autoscaling/v1 Scale, whatever the parent's group.
    assert (scale.group, scale.version, scale.kind, sorted(scale.verbs)) == ("autoscaling", "v1", "Scale",
                                                                             ["get", "patch", "update"])
    assert "controllerrevisions" in resources
    core = {r.name: r for r in client.CoreV1Api(_api_client(kube)).get_api_resources().resources}
    rc = core["replicationcontrollers"]
    assert (rc.kind, rc.short_names, rc.categories) == ("ReplicationController", ["rc"], ["all"])
    assert core["replicationcontrollers/scale"].kind == "Scale"


def test_kubectl_api_resources_shows_the_all_category(kube) -> None:
    out = kubectl(kube, "api-resources", "--categories=all", "-o", "name").stdout.split()
    assert {"deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps",
            "replicationcontrollers", "pods", "services"} <= set(out)


# ---------------------------------------------------------------------- defaulting
def test_a_deployment_gets_the_api_servers_defaults(kube, apps) -> None:
    created = apps.create_namespaced_deployment(NS, workload("Deployment", "web", replicas=None))
    spec = created.spec
    assert spec.replicas == 1
    assert spec.strategy.type == "RollingUpdate"
    assert (spec.strategy.rolling_update.max_surge, spec.strategy.rolling_update.max_unavailable) == ("25%", "25%")
    assert (spec.revision_history_limit, spec.progress_deadline_seconds) == (10, 600)
    pod = spec.template.spec
    assert (pod.restart_policy, pod.dns_policy, pod.scheduler_name, pod.termination_grace_period_seconds) == (
        "Always", "ClusterFirst", "default-scheduler", 30)
    container = pod.containers[0]
    assert (container.image_pull_policy, container.termination_message_path,
            container.termination_message_policy) == ("IfNotPresent", "/dev/termination-log", "File")
    # A template is not a pod: admission's serviceAccountName is not defaulted into it.
    assert pod.service_account_name is None
    assert created.metadata.generation == 1


def test_statefulset_daemonset_and_replicaset_defaults(kube, apps) -> None:
    sts = apps.create_namespaced_stateful_set(NS, workload("StatefulSet", "db", replicas=None)).spec
    assert (sts.replicas, sts.pod_management_policy, sts.update_strategy.type,
            sts.update_strategy.rolling_update.partition, sts.revision_history_limit) == (
        1, "OrderedReady", "RollingUpdate", 0, 10)
    assert (sts.persistent_volume_claim_retention_policy.when_deleted,
            sts.persistent_volume_claim_retention_policy.when_scaled) == ("Retain", "Retain")
    ds = apps.create_namespaced_daemon_set(NS, workload("DaemonSet", "agent", replicas=None)).spec
    assert (ds.update_strategy.type, ds.update_strategy.rolling_update.max_unavailable,
            ds.update_strategy.rolling_update.max_surge, ds.revision_history_limit) == ("RollingUpdate", 1, 0, 10)
    rs = apps.create_namespaced_replica_set(NS, workload("ReplicaSet", "plain", replicas=None)).spec
    assert rs.replicas == 1


def test_a_replication_controller_defaults_its_selector_and_labels_from_the_template(kube) -> None:
    core = client.CoreV1Api(_api_client(kube))
    body = workload("ReplicationController", "legacy")
    del body["spec"]["selector"]
    rc = core.create_namespaced_replication_controller(NS, body)
    assert rc.spec.selector == {"app": "legacy"}
    assert rc.metadata.labels == {"app": "legacy"}
    assert rc.status.replicas is not None  # RC's status.replicas is not omitempty: 0 at first, then the count


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"])
def test_a_selector_that_does_not_match_the_template_labels_is_invalid(kube, kind) -> None:
    body = workload(kind, "mismatch")
    body["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    result = kubectl(kube, "apply", "-f", "-", stdin=_yaml(body), check=False)
    assert result.returncode == 1
    assert (f'The {kind} "mismatch" is invalid: spec.template.metadata.labels: Invalid value: '
            'map[string]string{"app":"mismatch"}: `selector` does not match template `labels`') in result.stderr


def test_apps_v1_requires_a_selector_and_names_the_field(kube, apps) -> None:
    body = workload("Deployment", "noselector")
    del body["spec"]["selector"]
    with pytest.raises(client.ApiException) as err:
        apps.create_namespaced_deployment(NS, body)
    assert err.value.status == 422
    details = json.loads(err.value.body)["details"]
    assert {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"} in \
        details["causes"]
    assert kube.get("apps/v1", "Deployment", "noselector", NS) is None


def test_the_selector_is_immutable_on_apps_v1(kube, apps) -> None:
    apps.create_namespaced_deployment(NS, workload("Deployment", "web"))
    patch = {"spec": {"selector": {"matchLabels": {"app": "web", "tier": "x"}},
                      "template": {"metadata": {"labels": {"app": "web", "tier": "x"}}}}}
    with pytest.raises(client.ApiException) as err:
        apps.patch_namespaced_deployment("web", NS, patch)
    assert err.value.status == 422
    message = json.loads(err.value.body)["message"]
    assert 'spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string{"app":"web", ' \
           '"tier":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable' in message


def test_a_deployment_template_must_restart_always_and_name_its_containers_images(kube, apps) -> None:
    body = workload("Deployment", "bad")
    body["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    del body["spec"]["template"]["spec"]["containers"][0]["image"]
    with pytest.raises(client.ApiException) as err:
        apps.create_namespaced_deployment(NS, body)
    assert err.value.status == 422
    message = json.loads(err.value.body)["message"]
    assert "spec.template.spec.containers[0].image: Required value" in message
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"' in message


def test_negative_replicas_are_invalid(kube, apps) -> None:
    with pytest.raises(client.ApiException) as err:
        apps.create_namespaced_replica_set(NS, workload("ReplicaSet", "neg", replicas=-1))
    assert err.value.status == 422
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in err.value.body


# ---------------------------------------------------------------------- generation and the scale subresource
def test_generation_counts_spec_changes_and_the_controller_reports_observed_generation(kube, apps) -> None:
    apps.create_namespaced_deployment(NS, workload("Deployment", "web"))
    # The controller records the revision annotation through /status: the generation stays 1.
    eventually(lambda: apps.read_namespaced_deployment_status("web", NS).status.observed_generation == 1,
               what="observedGeneration 1")
    apps.patch_namespaced_deployment("web", NS, {"metadata": {"labels": {"note": "metadata-only"}}})
    assert apps.read_namespaced_deployment("web", NS).metadata.generation == 1
    # deploymentStrategy.PrepareForUpdate bumps the generation on spec and on annotation changes (annotations are
    # copied to the ReplicaSets).
    apps.patch_namespaced_deployment("web", NS, {"metadata": {"annotations": {"note": "copied"}}})
    assert apps.read_namespaced_deployment("web", NS).metadata.generation == 2
    apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 2}})
    assert apps.read_namespaced_deployment("web", NS).metadata.generation == 3
    eventually(lambda: apps.read_namespaced_deployment_status("web", NS).status.observed_generation == 3,
               what="observedGeneration 3")


def test_the_scale_subresource_reads_and_writes_replicas(kube, apps) -> None:
    apps.create_namespaced_stateful_set(NS, workload("StatefulSet", "db", replicas=1))
    scale = apps.read_namespaced_stateful_set_scale("db", NS)
    assert (scale.kind, scale.api_version, scale.spec.replicas, scale.status.selector) == (
        "Scale", "autoscaling/v1", 1, "app=db")
    scale.spec.replicas = 2
    replaced = apps.replace_namespaced_stateful_set_scale("db", NS, scale)
    assert replaced.spec.replicas == 2
    assert apps.read_namespaced_stateful_set("db", NS).spec.replicas == 2
    patched = apps.patch_namespaced_stateful_set_scale("db", NS, {"spec": {"replicas": 3}})
    assert patched.spec.replicas == 3
    eventually(lambda: apps.read_namespaced_stateful_set_scale("db", NS).status.replicas == 3,
               what="three replicas in the Scale's status")
    stale = client.V1Scale(metadata=client.V1ObjectMeta(name="db", resource_version=scale.metadata.resource_version),
                           spec=client.V1ScaleSpec(replicas=5))
    with pytest.raises(client.ApiException) as err:
        apps.replace_namespaced_stateful_set_scale("db", NS, stale)
    assert err.value.status == 409


def test_kubectl_scale_sets_replicas_through_the_scale_subresource(kube) -> None:
    kube.apply(workload("ReplicaSet", "plain", replicas=1), NS)
    assert kubectl(kube, "scale", "rs/plain", "--replicas=3").stdout.strip() == "replicaset.apps/plain scaled"
    assert kube.get("apps/v1", "ReplicaSet", "plain", NS)["spec"]["replicas"] == 3
    kube.apply(workload("ReplicationController", "legacy", replicas=1), NS)
    assert kubectl(kube, "scale", "rc/legacy", "--replicas=2").stdout.strip() == \
        "replicationcontroller/legacy scaled"
    result = kubectl(kube, "scale", "ds/none", "--replicas=2", check=False)
    assert result.returncode == 1


# ---------------------------------------------------------------------- tables
def test_kubectl_get_shows_the_workload_columns(kube) -> None:
    kube.apply([workload("Deployment", "web", replicas=2), workload("StatefulSet", "db", replicas=1),
                workload("DaemonSet", "agent", replicas=None), workload("ReplicationController", "legacy")], NS)
    eventually(lambda: (kube.get("apps/v1", "Deployment", "web", NS)["status"].get("availableReplicas") == 2
                        and kube.get("apps/v1", "StatefulSet", "db", NS)["status"].get("readyReplicas") == 1
                        and kube.get("apps/v1", "DaemonSet", "agent", NS)["status"].get("numberAvailable") == 1),
               what="the workloads to be available")
    lines = kubectl(kube, "get", "deploy,rs,sts,ds,rc").stdout.splitlines()
    headers = [line.split() for line in lines if line.startswith("NAME")]
    assert headers == [
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        ["NAME", "READY", "AGE"],
        ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"],
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
    ]
    rows = {line.split()[0]: line.split()[1:] for line in lines if line and not line.startswith("NAME")}
    assert rows["deployment.apps/web"][:3] == ["2/2", "2", "2"]
    assert rows["statefulset.apps/db"][0] == "1/1"
    assert rows["daemonset.apps/agent"][:6] == ["1", "1", "1", "1", "1", "<none>"]
    assert rows["replicationcontroller/legacy"][:3] == ["1", "1", "1"]
    wide = kubectl(kube, "get", "deploy", "web", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES",
                               "SELECTOR"]
    assert wide[1].split()[-3:] == ["main", "busybox:1.36", "app=web"]


def test_kubectl_get_all_includes_the_workloads(kube) -> None:
    kube.apply(workload("Deployment", "web"), NS)
    eventually(lambda: kube.list("v1", "Pod", NS), what="a pod")
    names = kubectl(kube, "get", "all", "-o", "name").stdout.split()
    assert "deployment.apps/web" in names
    assert any(n.startswith("replicaset.apps/web-") for n in names)
    assert any(n.startswith("pod/web-") for n in names)


def _yaml(obj: dict) -> str:
    import yaml

    return yaml.safe_dump(obj)
