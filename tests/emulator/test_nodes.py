"""The emulator's single Node, as the kubelet registers it and kubectl shows it."""

from __future__ import annotations

from kubernetes.client import CoreV1Api

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import client, kubectl, table, wait_for


def test_get_nodes_lists_one_ready_node_of_version_1_32(kube_emulator: KubeEmulator) -> None:
    rows = wait_for(lambda: table(kubectl(kube_emulator, "get", "nodes").stdout))
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(rows) == 2
    name, status, roles, _, version = rows[1]
    assert (name, status, roles) == ("emulator-node", "Ready", "control-plane")
    assert version.startswith("v1.32.")
    assert kubectl(kube_emulator, "get", "no", "-o", "name").stdout.strip() == "node/emulator-node"


def test_node_status_as_the_kubelet_reports_it(kube_emulator: KubeEmulator) -> None:
    core = CoreV1Api(client(kube_emulator))
    node = wait_for(lambda: core.list_node().items)[0]
    assert [(a.type, a.address) for a in node.status.addresses] == [("InternalIP", "127.0.0.1"),
                                                                    ("Hostname", "emulator-node")]
    assert {c.type: c.status for c in node.status.conditions} == {
        "MemoryPressure": "False", "DiskPressure": "False", "PIDPressure": "False", "Ready": "True"}
    assert int(node.status.allocatable["pods"]) == 110 and int(node.status.capacity["cpu"]) >= 1
    assert node.status.node_info.kubelet_version.startswith("v1.32.")
    assert node.status.node_info.operating_system == "linux"
    assert node.metadata.labels["kubernetes.io/hostname"] == "emulator-node"
    described = kubectl(kube_emulator, "describe", "node", "emulator-node").stdout
    assert "Ready            True" in described and "InternalIP:  127.0.0.1" in described
    assert "Kubelet Version:            v1.32." in described


def test_pods_run_on_the_node_and_a_deleted_node_registers_again(kube_emulator: KubeEmulator) -> None:
    core = CoreV1Api(client(kube_emulator))
    core.create_namespaced_pod("default", {"metadata": {"name": "placed"}, "spec": {
        "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}})
    pod = wait_for(lambda: (p := core.read_namespaced_pod("placed", "default")).status.pod_ip and p)
    assert pod.spec.node_name == "emulator-node"
    assert pod.status.host_ip == "127.0.0.1" and pod.status.pod_ip.startswith("10.244.0.")
    core.delete_node("emulator-node")
    wait_for(lambda: [n.metadata.name for n in core.list_node().items] == ["emulator-node"])
