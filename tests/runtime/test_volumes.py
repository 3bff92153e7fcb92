"""A pod's volumes as host directories, as the kubelet's volume plugins set them up."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.testing.runtime import MountFailure, materialise_volumes, remove_pod_volumes

from .support import config_map, pod, reader, secret

READ = reader(config_map("settings", {"mode": "fast", "level": "3"}),
              secret("credentials", {"user": "ada", "password": "s3cret"}))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_config_map_and_secret_files_with_items_and_modes(tmp_path: Path) -> None:
    volumes = materialise_volumes(pod([], [
        {"name": "all", "configMap": {"name": "settings"}},
        {"name": "some", "configMap": {"name": "settings", "defaultMode": 0o600,
                                       "items": [{"key": "mode", "path": "conf/mode.txt"},
                                                 {"key": "level", "path": "level", "mode": 0o400}]}},
        {"name": "creds", "secret": {"secretName": "credentials"}},
    ]), READ, tmp_path / "pod", tmp_path / "claims")
    everything = volumes["all"].path
    assert sorted(p.name for p in everything.iterdir()) == ["level", "mode"]
    assert (everything / "mode").read_text() == "fast" and mode_of(everything / "mode") == 0o644
    some = volumes["some"].path
    assert (some / "conf" / "mode.txt").read_text() == "fast" and mode_of(some / "conf" / "mode.txt") == 0o600
    assert mode_of(some / "level") == 0o400 and not (some / "mode").exists()
    assert (volumes["creds"].path / "password").read_text() == "s3cret"  # decoded
    assert all(volumes[name].read_only for name in ("all", "some", "creds"))


@pytest.mark.parametrize(("volume", "message"), [
    ({"name": "x", "configMap": {"name": "y"}}, 'MountVolume.SetUp failed for volume "x" : configmap "y" not found'),
    ({"name": "x", "secret": {"secretName": "y"}}, 'MountVolume.SetUp failed for volume "x" : secret "y" not found'),
    ({"name": "x", "configMap": {"name": "settings", "items": [{"key": "k", "path": "k"}]}},
     'MountVolume.SetUp failed for volume "x" : configmap references non-existent config key: k'),
    ({"name": "x", "projected": {"sources": [{"secret": {"name": "y"}}]}},
     'MountVolume.SetUp failed for volume "x" : secret "y" not found'),
])
def test_missing_source_fails_the_mount_with_the_kubelet_message(tmp_path: Path, volume: dict, message: str) -> None:
    with pytest.raises(MountFailure) as failure:
        materialise_volumes(pod([], [volume]), READ, tmp_path / "pod", tmp_path / "claims")
    assert (failure.value.reason, failure.value.message) == ("FailedMount", message)


def test_optional_missing_sources_give_empty_or_partial_volumes(tmp_path: Path) -> None:
    volumes = materialise_volumes(pod([], [
        {"name": "none", "configMap": {"name": "absent", "optional": True}},
        {"name": "partial", "secret": {"secretName": "credentials", "optional": True,
                                       "items": [{"key": "user", "path": "u"}, {"key": "absent", "path": "a"}]}},
    ]), READ, tmp_path / "pod", tmp_path / "claims")
    assert list(volumes["none"].path.iterdir()) == []
    assert [p.name for p in volumes["partial"].path.iterdir()] == ["u"]


def test_downward_api_and_projected_volumes(tmp_path: Path) -> None:
    the_pod = pod([{"name": "c", "resources": {"limits": {"memory": "1Gi"}}}], [
        {"name": "info", "downwardAPI": {"items": [
            {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
            {"path": "mem", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory",
                                                 "divisor": "1Mi"}}]}},
        {"name": "all-in-one", "projected": {"defaultMode": 0o640, "sources": [
            {"configMap": {"name": "settings", "items": [{"key": "mode", "path": "mode"}]}},
            {"secret": {"name": "credentials", "items": [{"key": "user", "path": "secret/user"}]}},
            {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
            {"serviceAccountToken": {"path": "token"}},  # no token for a local container: not written
        ]}},
    ], labels={"tier": "web", "app": "shop"})
    volumes = materialise_volumes(the_pod, READ, tmp_path / "pod", tmp_path / "claims")
    info = volumes["info"].path
    assert (info / "name").read_text() == "p"
    assert (info / "labels").read_text() == 'app="shop"\ntier="web"'
    assert (info / "mem").read_text() == "1024"
    projected = volumes["all-in-one"].path
    assert sorted(str(p.relative_to(projected)) for p in projected.rglob("*") if p.is_file()) == [
        "mode", "ns", "secret/user"]
    assert mode_of(projected / "secret" / "user") == 0o640


def test_empty_dir_is_per_pod_and_a_claim_outlives_the_pod(tmp_path: Path) -> None:
    volumes = [{"name": "scratch", "emptyDir": {}}, {"name": "data", "persistentVolumeClaim": {"claimName": "c1"}}]
    claims = tmp_path / "claims"
    first = materialise_volumes(pod([], volumes), READ, tmp_path / "pod1", claims)
    (first["scratch"].path / "f").write_text("1")
    (first["data"].path / "kept").write_text("yes")
    remove_pod_volumes(tmp_path / "pod1")
    second = materialise_volumes(pod([], volumes, name="q"), READ, tmp_path / "pod2", claims)
    assert list(second["scratch"].path.iterdir()) == []
    assert (second["data"].path / "kept").read_text() == "yes"
    assert second["data"].path == claims / "default" / "c1" and not second["data"].read_only


def test_host_path_is_the_host_path_with_its_type_check(tmp_path: Path) -> None:
    created = tmp_path / "made" / "here"
    volumes = materialise_volumes(pod([], [
        {"name": "made", "hostPath": {"path": str(created), "type": "DirectoryOrCreate"}},
    ]), READ, tmp_path / "pod", tmp_path / "claims")
    assert volumes["made"].path == created and created.is_dir()
    with pytest.raises(MountFailure, match="is not a directory"):
        materialise_volumes(pod([], [{"name": "d", "hostPath": {"path": str(tmp_path / "no"), "type": "Directory"}}]),
                            READ, tmp_path / "pod", tmp_path / "claims")
