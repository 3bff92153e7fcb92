"""The ServiceAccount admission plugin on pod create, as kube-apiserver 1.32 runs it
(plugin/pkg/admission/serviceaccount/admission.go), seen through kubectl:

- serviceAccountName defaults to ``default``;
- automountServiceAccountToken: the pod's setting wins, else its ServiceAccount's, else true;
- when it mounts: each init container and container without a mount at /var/run/secrets/kubernetes.io/serviceaccount
  gets ``{name: kube-api-access-<5 chars>, readOnly: true, mountPath: ...}`` appended to its volumeMounts, and the
  pod gets one projected volume of that name (sources: serviceAccountToken 3607 s at ``token``, configMap
  kube-root-ca.crt ``ca.crt``, downwardAPI metadata.namespace at ``namespace``; defaultMode 420);
- imagePullSecrets come from the ServiceAccount when the pod has none;
- a mirror pod (annotation kubernetes.io/config.mirror) is not changed.

Not as upstream, and assumed here: a pod whose ServiceAccount does not exist is admitted (kube-apiserver forbids
it), so that pods created right after their namespace, before its default ServiceAccount, are not refused.
"""

from __future__ import annotations

import json

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl, kubectl_json

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def created(kube: KubeEmulator, name: str, **spec: object) -> dict:
    """The spec of a pod created with kubectl from ``spec`` (one container ``main`` when none is given)."""
    spec = {"containers": [{"name": "main", "image": "busybox:1.36"}], **spec}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
    kubectl(kube, "create", "-f", "-", stdin=json.dumps(pod))
    return kubectl_json(kube, "get", "pod", name)["spec"]


def test_every_container_mounts_one_api_access_volume(kube_emulator: KubeEmulator) -> None:
    own = {"name": "own", "emptyDir": {}}
    spec = created(kube_emulator, "many", initContainers=[{"name": "init", "image": "busybox:1.36"}],
                   containers=[{"name": "a", "image": "busybox:1.36"},
                               {"name": "b", "image": "busybox:1.36",
                                "volumeMounts": [{"name": "own", "mountPath": SA_DIR}]}],
                   volumes=[own])
    assert spec["serviceAccountName"] == "default"
    assert spec["volumes"][0] == own and len(spec["volumes"]) == 2
    access = spec["volumes"][1]
    assert access["name"].startswith("kube-api-access-") and len(access["name"]) == len("kube-api-access-") + 5
    assert access["projected"]["sources"][0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    mount = {"name": access["name"], "readOnly": True, "mountPath": SA_DIR}
    assert spec["initContainers"][0]["volumeMounts"] == [mount]
    assert spec["containers"][0]["volumeMounts"] == [mount]
    assert spec["containers"][1]["volumeMounts"] == [{"name": "own", "mountPath": SA_DIR}]  # left as it was


def test_automount_follows_the_pod_then_its_service_account(kube_emulator: KubeEmulator) -> None:
    kube_emulator.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "quiet"},
                         "automountServiceAccountToken": False, "imagePullSecrets": [{"name": "registry"}]},
                        "default")
    quiet = created(kube_emulator, "quiet", serviceAccountName="quiet")
    assert "volumes" not in quiet and "volumeMounts" not in quiet["containers"][0]
    assert quiet["imagePullSecrets"] == [{"name": "registry"}]
    asked = created(kube_emulator, "asked", serviceAccountName="quiet", automountServiceAccountToken=True,
                    imagePullSecrets=[{"name": "mine"}])
    assert [v["name"][:16] for v in asked["volumes"]] == ["kube-api-access-"]
    assert asked["imagePullSecrets"] == [{"name": "mine"}]
    refused = created(kube_emulator, "refused", automountServiceAccountToken=False)
    assert "volumes" not in refused and "volumeMounts" not in refused["containers"][0]


def test_a_mirror_pod_is_left_as_it_is(kube_emulator: KubeEmulator) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "static", "annotations": {"kubernetes.io/config.mirror": "hash"}},
           "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]}}
    kubectl(kube_emulator, "create", "-f", "-", stdin=json.dumps(pod))
    spec = kubectl_json(kube_emulator, "get", "pod", "static")["spec"]
    assert "volumes" not in spec and "volumeMounts" not in spec["containers"][0]
    assert "serviceAccountName" not in spec
