"""Validation and small semantics of a Kubernetes 1.32 API server, as kubectl and the kubernetes /
kubernetes_asyncio clients see them: immutable pod fields, generateName, metadata.generation, Status bodies,
server-side tables, pods/binding and the streaming subresources of simulated pods."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import kubernetes
import kubernetes_asyncio
import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes_asyncio.stream import WsApiClient

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl_json, try_kubectl

NOT_CA = "metadata.name!=kube-root-ca.crt"  # every namespace holds the cluster's CA bundle
RUNNING = {"emulator.sparkk8s.io/outcome": "running"}  # the simulated container keeps running
UNSCHEDULABLE = {"emulator.sparkk8s.io/outcome": "unschedulable"}  # the pod stays Pending, on no node


def pod(name: str, annotations: dict[str, str] | None = None, containers: tuple[str, ...] = ("main",)) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name}, "annotations": annotations or {}},
            "spec": {"containers": [{"name": c, "image": "busybox:1.36", "command": ["sleep", "3600"]}
                                    for c in containers]}}


def core(kube: KubeEmulator) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


def wait_for(kube: KubeEmulator, name: str, check, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj = kube.get("v1", "Pod", name)
        if obj is not None and check(obj):
            return obj
        time.sleep(0.02)
    raise AssertionError(f"pod {name} never reached the expected state: {kube.get('v1', 'Pod', name)}")


# ---------------------------------------------------------------------------------------------- immutable pod spec
def test_kubectl_patch_of_an_immutable_pod_field_is_forbidden_with_the_spec_diff(kube_emulator) -> None:
    kube_emulator.apply(pod("web", RUNNING))
    result = try_kubectl(kube_emulator, "patch", "pod", "web", "-p", '{"spec":{"restartPolicy":"Never"}}')
    # A 1.32 server: 422 Invalid, one cause on `spec`; kubectl prints it after `The Pod "web" is invalid: `.
    assert result.returncode == 1
    assert result.stderr.startswith(
        'The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than '
        "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
        "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
        "it was previously negative)\n  core.PodSpec{")
    assert '- \tRestartPolicy: "Always",' in result.stderr and '+ \tRestartPolicy: "Never",' in result.stderr
    assert kube_emulator.get("v1", "Pod", "web")["spec"]["restartPolicy"] == "Always"
    # The image is one of the fields an update may change.
    image = try_kubectl(kube_emulator, "set", "image", "pod/web", "main=busybox:1.37")
    assert image.returncode == 0, image.stderr
    assert kube_emulator.get("v1", "Pod", "web")["spec"]["containers"][0]["image"] == "busybox:1.37"


def test_client_patch_of_container_command_gets_422_invalid_on_spec(kube_emulator) -> None:
    kube_emulator.apply(pod("web", RUNNING))
    api = core(kube_emulator)
    with pytest.raises(ApiException) as exc:
        api.patch_namespaced_pod("web", "default", {"spec": {"containers": [{"name": "main", "command": ["true"]}]}})
    assert exc.value.status == 422
    body = json.loads(exc.value.body)
    assert body["reason"] == "Invalid"
    assert body["details"]["kind"] == "Pod" and body["details"]["name"] == "web"
    assert [c["field"] for c in body["details"]["causes"]] == ["spec"]
    assert body["details"]["causes"][0]["reason"] == "FieldValueForbidden"
    assert "Containers: []core.Container{" in body["message"] and '"sleep"' in body["message"]


def test_active_deadline_may_only_shrink_and_tolerations_only_grow(kube_emulator) -> None:
    manifest = pod("web", RUNNING)
    manifest["spec"]["activeDeadlineSeconds"] = 600
    manifest["spec"]["tolerations"] = [{"key": "a", "operator": "Exists"}]
    kube_emulator.apply(manifest)

    async def run() -> None:
        async with kubernetes_asyncio.client.ApiClient(
                await _async_config(kube_emulator)) as api_client:
            api = kubernetes_asyncio.client.CoreV1Api(api_client)
            shorter = await api.patch_namespaced_pod("web", "default", {"spec": {"activeDeadlineSeconds": 300}})
            assert shorter.spec.active_deadline_seconds == 300
            with pytest.raises(kubernetes_asyncio.client.ApiException) as longer:
                await api.patch_namespaced_pod("web", "default", {"spec": {"activeDeadlineSeconds": 900}})
            assert longer.value.status == 422
            assert json.loads(longer.value.body)["message"] == (
                'Pod "web" is invalid: spec.activeDeadlineSeconds: Invalid value: 900: must be less than or equal '
                "to previous value")
            added = await api.patch_namespaced_pod("web", "default", {"spec": {"tolerations": [
                {"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]}})
            assert [t.key for t in added.spec.tolerations] == ["a", "b"]
            with pytest.raises(kubernetes_asyncio.client.ApiException) as removed:
                await api.patch_namespaced_pod("web", "default", {"spec": {"tolerations": [
                    {"key": "b", "operator": "Exists"}]}})
            assert removed.value.status == 422
            assert "spec.tolerations: Forbidden: existing toleration can not be modified except its " \
                   "tolerationSeconds" in json.loads(removed.value.body)["message"]

    asyncio.run(run())


async def _async_config(kube: KubeEmulator) -> kubernetes_asyncio.client.Configuration:
    conf = kubernetes_asyncio.client.Configuration()
    await kubernetes_asyncio.config.load_kube_config(str(kube.kubeconfig_path), client_configuration=conf)
    return conf


# ---------------------------------------------------------------------------------------------- metadata
def test_generate_name_is_cut_to_58_characters_before_the_random_suffix(kube_emulator) -> None:
    prefix = "a-very-long-generate-name-prefix-" + "x" * 40 + "-"
    created = core(kube_emulator).create_namespaced_config_map(
        "default", {"metadata": {"generateName": prefix}, "data": {"k": "v"}})
    name = created.metadata.name
    assert len(name) == 63 and name[:58] == prefix[:58]
    assert created.metadata.generate_name == prefix


def test_generation_is_set_only_where_a_real_server_sets_it(kube_emulator) -> None:
    api_client = kubernetes.config.new_client_from_config(str(kube_emulator.kubeconfig_path))
    api = kubernetes.client.CoreV1Api(api_client)
    api.create_namespace({"metadata": {"name": "team"}})
    cm = api.create_namespaced_config_map("team", {"metadata": {"name": "c"}, "data": {"a": "1"}})
    secret = api.create_namespaced_secret("team", {"metadata": {"name": "s"}, "stringData": {"a": "1"}})
    svc = api.create_namespaced_service("team", {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}})
    sa = api.create_namespaced_service_account("team", {"metadata": {"name": "robot"}})
    created_pod = api.create_namespaced_pod("team", pod("p", UNSCHEDULABLE))
    ns = api.read_namespace("team")
    for obj in (cm, secret, svc, sa, created_pod, ns):
        assert obj.metadata.generation is None, obj.kind
    # Changing a ConfigMap's data does not give it one either.
    assert api.patch_namespaced_config_map("c", "team", {"data": {"a": "2"}}).metadata.generation is None
    netpol = kubernetes.client.NetworkingV1Api(api_client).create_namespaced_network_policy(
        "team", {"metadata": {"name": "deny"}, "spec": {"podSelector": {}}})
    assert netpol.metadata.generation == 1
    patched = kubernetes.client.NetworkingV1Api(api_client).patch_namespaced_network_policy(
        "deny", "team", {"spec": {"policyTypes": ["Ingress"]}})
    assert patched.metadata.generation == 2


def test_custom_resources_without_status_subresource_bump_generation_on_status_writes(kube_emulator) -> None:
    # Workflows have no status subresource: a custom resource's generation then follows any non-metadata change.
    api = kubernetes.client.CustomObjectsApi(kubernetes.config.new_client_from_config(
        str(kube_emulator.kubeconfig_path)))
    template = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
                "metadata": {"name": "t"}, "spec": {"entrypoint": "a", "templates": []}}
    created = api.create_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflowtemplates", template)
    assert created["metadata"]["generation"] == 1
    labelled = api.patch_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflowtemplates", "t",
                                                  {"metadata": {"labels": {"x": "y"}}})
    assert labelled["metadata"]["generation"] == 1
    with_status = api.patch_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "workflowtemplates", "t",
                                                     {"status": {"note": "seen"}})
    assert with_status["metadata"]["generation"] == 2


def test_status_bodies_have_the_real_servers_field_order(kube_emulator) -> None:
    with pytest.raises(ApiException) as exc:
        core(kube_emulator).read_namespaced_pod("nope", "default")
    body = json.loads(exc.value.body)
    assert list(body) == ["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"]
    assert body["message"] == 'pods "nope" not found'


# ---------------------------------------------------------------------------------------------- tables
def test_get_pods_wide_shows_ip_node_nominated_node_and_readiness_gates(kube_emulator) -> None:
    kube_emulator.apply(pod("web", RUNNING))
    running = wait_for(kube_emulator, "web", lambda p: (p.get("status") or {}).get("podIP"))
    lines = try_kubectl(kube_emulator, "get", "pods", "-o", "wide").stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                                "READINESS", "GATES"]
    cells = lines[1].split()
    assert cells[0] == "web" and cells[5:] == [running["status"]["podIP"], running["spec"]["nodeName"],
                                               "<none>", "<none>"]
    # Without -o wide kubectl leaves out the priority-1 columns.
    assert try_kubectl(kube_emulator, "get", "pods").stdout.splitlines()[0].split() == [
        "NAME", "READY", "STATUS", "RESTARTS", "AGE"]


def test_get_services_shows_type_cluster_ip_external_ip_and_ports(kube_emulator) -> None:
    kube_emulator.apply([
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"port": 443, "protocol": "TCP"}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
         "spec": {"type": "LoadBalancer", "ports": [{"port": 53, "protocol": "UDP", "nodePort": 30053}]}},
    ])
    lines = try_kubectl(kube_emulator, "get", "svc").stdout.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    ip = kube_emulator.get("v1", "Service", "web")["spec"]["clusterIP"]
    assert rows["web"][1:5] == ["ClusterIP", ip, "<none>", "80/TCP,443/TCP"]
    assert rows["lb"][1] == "LoadBalancer" and rows["lb"][3:5] == ["<pending>", "53:30053/UDP"]
    wide = try_kubectl(kube_emulator, "get", "svc", "web", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-1] == "SELECTOR" and wide[1].split()[-1] == "app=web"


def test_get_events_sorted_by_last_timestamp_lists_them(kube_emulator) -> None:
    kube_emulator.apply(pod("web", RUNNING))
    wait_for(kube_emulator, "web", lambda p: (p.get("status") or {}).get("phase") == "Running")
    result = try_kubectl(kube_emulator, "get", "events", "--sort-by=.lastTimestamp")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    reasons = [line.split()[2] for line in lines[1:]]
    assert {"Scheduled", "Started"} <= set(reasons)
    assert all(line.split()[3] == "pod/web" for line in lines[1:])


# ---------------------------------------------------------------------------------------------- pod subresources
def test_binding_assigns_a_node_once(kube_emulator) -> None:
    kube_emulator.apply(pod("waiting", UNSCHEDULABLE))
    api = core(kube_emulator)
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "waiting"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node-a"}}
    # The generated client cannot read the Status a binding answers: take the raw response.
    response = api.create_namespaced_pod_binding("waiting", "default", binding, _preload_content=False)
    assert response.status == 201
    assert kube_emulator.get("v1", "Pod", "waiting")["spec"]["nodeName"] == "node-a"
    with pytest.raises(ApiException) as again:
        api.create_namespaced_pod_binding("waiting", "default", binding, _preload_content=False)
    assert again.value.status == 409
    assert json.loads(again.value.body)["message"] == (
        'Operation cannot be fulfilled on pods "waiting": pod waiting is already assigned to node "node-a"')


def test_kubectl_exec_into_a_simulated_pod_fails_with_a_clear_error(kube_emulator) -> None:
    kube_emulator.apply(pod("sleeper", RUNNING))
    wait_for(kube_emulator, "sleeper", lambda p: (p.get("status") or {}).get("phase") == "Running")
    # kubectl 1.32 tries a websocket (v5.channel.k8s.io), then SPDY, and prints the server's Status.
    result = try_kubectl(kube_emulator, "exec", "sleeper", "--", "ls")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error from server: error dialing backend: pod "sleeper" is simulated: node "emulator-node" of the '
        "Kubernetes API emulator runs no containers, so there is nothing to exec into, attach to or forward ports to")
    wrong = try_kubectl(kube_emulator, "exec", "sleeper", "-c", "nope", "--", "ls")
    assert wrong.returncode == 1
    assert "Error from server (BadRequest): container nope is not valid for pod sleeper" in wrong.stderr
    attach = try_kubectl(kube_emulator, "attach", "sleeper")
    assert attach.returncode == 1 and "error dialing backend" in attach.stderr
    forward = try_kubectl(kube_emulator, "port-forward", "pod/sleeper", "0:80", timeout=30)
    assert forward.returncode == 1 and "error dialing backend" in forward.stderr


def test_exec_into_a_pod_on_no_node_says_it_has_no_host(kube_emulator) -> None:
    kube_emulator.apply(pod("waiting", UNSCHEDULABLE))
    result = try_kubectl(kube_emulator, "exec", "waiting", "--", "ls")
    assert result.returncode == 1
    assert "Error from server (BadRequest): pod waiting does not have a host assigned" in result.stderr


def test_discovery_lists_the_pod_subresources(kube_emulator) -> None:
    resources = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(
        str(kube_emulator.kubeconfig_path))).get_api_resources().resources
    subresources = {r.name: (r.kind, sorted(r.verbs)) for r in resources if r.name.startswith("pods/")}
    assert subresources["pods/exec"] == ("PodExecOptions", ["create", "get"])
    assert subresources["pods/attach"] == ("PodAttachOptions", ["create", "get"])
    assert subresources["pods/portforward"] == ("PodPortForwardOptions", ["create", "get"])
    assert subresources["pods/binding"] == ("Binding", ["create"])
    assert subresources["pods/log"] == ("Pod", ["get"])


def test_asyncio_client_exec_gets_the_refusal_in_the_websocket_handshake(kube_emulator) -> None:
    kube_emulator.apply(pod("sleeper", RUNNING))
    wait_for(kube_emulator, "sleeper", lambda p: (p.get("status") or {}).get("phase") == "Running")

    async def run() -> None:
        async with WsApiClient(configuration=await _async_config(kube_emulator)) as ws:
            api = kubernetes_asyncio.client.CoreV1Api(api_client=ws)
            # The handshake is answered with the Status instead of 101 Switching Protocols.
            with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
                await api.connect_get_namespaced_pod_exec("sleeper", "default", command=["ls"], stdout=True)
            assert exc.value.status == 500
            with pytest.raises(aiohttp.WSServerHandshakeError) as wrong:
                await api.connect_get_namespaced_pod_exec("sleeper", "default", command=["ls"], container="nope",
                                                          stdout=True)
            assert wrong.value.status == 400

    asyncio.run(run())


def test_paginated_lists_keep_to_their_namespace_in_key_order(kube_emulator) -> None:
    """A list walks etcd's keys in order, /registry/configmaps/<namespace>/<name>: a namespace's list holds none of
    a namespace whose name it prefixes ("team" and "team-b"), and the pages of `--chunk-size` join up in name
    order across the whole cluster."""
    api = core(kube_emulator)
    for namespace in ("team", "team-b", "teal"):
        api.create_namespace({"metadata": {"name": namespace}})
        for name in ("b", "a", "c"):
            api.create_namespaced_config_map(namespace, {"metadata": {"name": f"{namespace}-{name}"}})
    names, token = [], None
    while True:
        page = api.list_namespaced_config_map("team", limit=2, _continue=token, field_selector=NOT_CA)
        names += [item.metadata.name for item in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == ["team-a", "team-b", "team-c"]
    shown = try_kubectl(kube_emulator, "get", "configmaps", "-A", "--chunk-size=2", "--no-headers",
                        "--field-selector", "metadata.name!=kube-root-ca.crt", "-o", "custom-columns=N:.metadata.name")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [f"{ns}-{n}" for ns in ("teal", "team", "team-b") for n in "abc"]


def test_the_kubernetes_service_points_at_the_api_server_and_comes_back(kube_emulator) -> None:
    """Every cluster has the `kubernetes` Service in `default`: ClusterIP 10.96.0.1 (the service range's first
    address), port 443 named https, Endpoints and an EndpointSlice with the API server's address and port; the API
    server puts it back when it is deleted."""
    svc = kubectl_json(kube_emulator, "get", "svc", "kubernetes", "-n", "default")
    assert svc["spec"]["clusterIP"] == "10.96.0.1" and svc["metadata"]["labels"] == {
        "component": "apiserver", "provider": "kubernetes"}
    assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP",
                                     "targetPort": kube_emulator.port}]
    endpoints = kubectl_json(kube_emulator, "get", "endpoints", "kubernetes", "-n", "default")
    assert endpoints["subsets"] == [{"addresses": [{"ip": "127.0.0.1"}],
                                     "ports": [{"name": "https", "port": kube_emulator.port, "protocol": "TCP"}]}]
    slices = kubectl_json(kube_emulator, "get", "endpointslices", "-n", "default", "-l",
                          "kubernetes.io/service-name=kubernetes")["items"]
    assert [s["endpoints"][0]["addresses"] for s in slices] == [["127.0.0.1"]]
    assert "service/kubernetes" in try_kubectl(kube_emulator, "get", "all", "-n", "default", "-o", "name").stdout
    try_kubectl(kube_emulator, "delete", "svc", "kubernetes", "-n", "default")
    deadline = time.monotonic() + 10
    while (kube_emulator.get("v1", "Service", "kubernetes", "default") or {}).get("spec", {}).get(
            "clusterIP") != "10.96.0.1":
        assert time.monotonic() < deadline, "the kubernetes Service did not come back"
        time.sleep(0.05)


def test_a_requested_cluster_ip_is_kept_unless_taken_or_out_of_range(kube_emulator) -> None:
    """As the ClusterIP allocator: a free address of the range is the Service's; a taken one or one outside
    10.96.0.0/12 is 422 with the allocator's message; an allocated one is never one already asked for."""
    def service(name: str, ip: str | None = None) -> str:
        spec = {"ports": [{"port": 80}], **({"clusterIP": ip} if ip else {})}
        return json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
    assert try_kubectl(kube_emulator, "create", "-f", "-", stdin=service("pinned", "10.96.0.2")).returncode == 0
    assert kube_emulator.get("v1", "Service", "pinned")["spec"]["clusterIP"] == "10.96.0.2"
    assert try_kubectl(kube_emulator, "create", "-f", "-", stdin=service("next")).returncode == 0
    assert kube_emulator.get("v1", "Service", "next")["spec"]["clusterIP"] not in ("10.96.0.1", "10.96.0.2")
    taken = try_kubectl(kube_emulator, "create", "-f", "-", stdin=service("clash", "10.96.0.1"))
    assert taken.returncode == 1
    assert ('The Service "clash" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.1"}: failed to '
            'allocate IP 10.96.0.1: provided IP is already allocated') in taken.stderr
    outside = try_kubectl(kube_emulator, "create", "-f", "-", stdin=service("far", "192.168.0.9"))
    assert ("failed to allocate IP 192.168.0.9: the provided IP (192.168.0.9) is not in the valid range. The range "
            "of valid IPs is 10.96.0.0/12") in outside.stderr
