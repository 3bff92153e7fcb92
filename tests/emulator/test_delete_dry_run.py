"""`kubectl delete --dry-run=server` deletes nothing: client-go sends `dryRun: [All]` in the DeleteOptions body (not
in the query, as it does for the other verbs), and the API server reads it from there."""

from __future__ import annotations

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl


def test_a_server_dry_run_delete_leaves_the_objects(kube_emulator: KubeEmulator) -> None:
    for name in ("kept", "also-kept"):
        kubectl(kube_emulator, "create", "configmap", name)

    single = kubectl(kube_emulator, "delete", "configmap", "kept", "--dry-run=server")
    every = kubectl(kube_emulator, "delete", "configmap", "--all", "--dry-run=server")

    assert single.stdout.strip() == 'configmap "kept" deleted (server dry run)'
    assert 'configmap "also-kept" deleted (server dry run)' in every.stdout
    names = kubectl(kube_emulator, "get", "configmaps", "-o", "name").stdout.split()
    assert {"configmap/kept", "configmap/also-kept"} <= set(names)
