"""In-cluster API clients in the local kubelet's pods: a program in a pod reaches the API server as on a cluster.

What a Kubernetes 1.32 cluster gives a pod, which these tests assume:

- the ServiceAccount admission plugin gives each container (unless automountServiceAccountToken is false) a
  read-only mount at /var/run/secrets/kubernetes.io/serviceaccount of the projected volume
  ``kube-api-access-<5 random characters>``: a serviceAccountToken (3607 s, path ``token``), the ``ca.crt`` key of
  the ``kube-root-ca.crt`` ConfigMap and the namespace from the downward API, with defaultMode 420;
- the kubelet writes there a token it asks the API server for (a TokenRequest bound to the pod), which
  authenticates as ``system:serviceaccount:<namespace>:<account>`` under RBAC, and stops authenticating once the
  pod is deleted;
- the ``kubernetes`` Service's address (KUBERNETES_SERVICE_HOST/PORT, kubernetes.default.svc) serves HTTPS with a
  certificate the CA bundle verifies, for those names: ``config.load_incluster_config()`` of the python client and
  kubectl without a kubeconfig (its in-cluster config) just work.

The containers run the test's own Python (the host's filesystem is the image's), which has the kubernetes client.
"""

from __future__ import annotations

import shutil
import sys

import pytest
from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import api_client, kubectl, kubectl_json
from tests.sandbox.local_kubelet import HOST_IMAGE, create, finished

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
CLIENT = f"""
import os, subprocess
from kubernetes import client, config
config.load_incluster_config()
core = client.CoreV1Api()
namespace = open('{SA_DIR}/namespace').read()
print('pods', ' '.join(sorted(p.metadata.name for p in core.list_namespaced_pod(namespace).items)))
try:
    core.list_namespaced_secret(namespace)
except client.ApiException as denied:
    print('secrets', denied.status)
print('token', open('{SA_DIR}/token').read())
# kubectl without a kubeconfig uses its in-cluster config.
whoami = subprocess.run(['{shutil.which("kubectl") or "kubectl"}', 'auth', 'whoami', '-o',
                         'jsonpath={{.status.userInfo.username}}'],
                        capture_output=True, text=True, env={{**os.environ, 'HOME': '/tmp'}})
print('kubectl', whoami.stdout or whoami.stderr)
"""


def python_pod(name: str, script: str, **spec: object) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "main", "image": HOST_IMAGE, "command": [sys.executable, "-c", script]}],
                     **spec}}


def reader_account(kube: KubeEmulator) -> None:
    """ServiceAccount ``reader``, which may list (and only list) the pods of ``default``."""
    kube.apply([
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reader"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "list-pods"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "reader"},
         "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "default"}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "list-pods"}},
    ], "default")


def test_an_in_cluster_client_acts_as_the_pods_service_account(kube: KubeEmulator, core: CoreV1Api) -> None:
    reader_account(kube)
    create(kube, python_pod("client", CLIENT, serviceAccountName="reader"))
    done = finished(core, "client", timeout=60)
    output = kubectl(kube, "logs", "client").stdout
    assert done.status.phase == "Succeeded", output
    logs = dict(line.split(" ", 1) for line in output.splitlines())
    assert logs["pods"] == "client" and logs["secrets"] == "403"
    assert logs["kubectl"] == "system:serviceaccount:default:reader"

    spec = kubectl_json(kube, "get", "pod", "client")["spec"]
    [volume] = spec["volumes"]
    assert volume["name"].startswith("kube-api-access-") and len(volume["name"]) == len("kube-api-access-") + 5
    assert volume["projected"] == {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": volume["name"], "readOnly": True, "mountPath": SA_DIR}]

    # The token is bound to the pod: it authenticates while the pod exists, and no longer once it is deleted.
    # (kubectl sends no token to a plain-HTTP server: the python client, which does, is the one outside.)
    outside = CoreV1Api(api_client(kube, token=logs["token"]))
    assert [p.metadata.name for p in outside.list_namespaced_pod("default").items] == ["client"]
    kubectl(kube, "delete", "pod", "client", "--wait=true")
    with pytest.raises(ApiException) as refused:
        outside.list_namespaced_pod("default")
    assert refused.value.status == 401


def test_no_token_is_mounted_when_automount_is_off(kube: KubeEmulator, core: CoreV1Api) -> None:
    """``automountServiceAccountToken: false`` on the pod: no kube-api-access volume, nothing at the mount path."""
    script = f"import os\nprint(os.path.exists('{SA_DIR}'))\n"
    create(kube, python_pod("private", script, automountServiceAccountToken=False))
    done = finished(core, "private", timeout=60)
    assert done.status.phase == "Succeeded"
    assert kubectl(kube, "logs", "private").stdout == "False\n"
    spec = kubectl_json(kube, "get", "pod", "private")["spec"]
    assert "volumes" not in spec and "volumeMounts" not in spec["containers"][0]


WHO_ANSWERS = """
from kubernetes import client, config
config.load_incluster_config()
review = client.AuthenticationV1Api().create_self_subject_review(client.V1SelfSubjectReview())
print(review.status.user_info.uid)  # the pod's ServiceAccount's uid: one cluster's own
"""


def test_two_clusters_on_one_machine_keep_their_pods_and_services_apart(kube_emulator_factory, tmp_path) -> None:
    """Two emulators with local pods run at once (as parallel test workers do): each one's pods get IPs of their
    own and reach their own cluster's API server through its ``kubernetes`` Service."""
    from airflow_provider_sparkk8s.sandbox import SandboxConfig
    from tests.sandbox.local_kubelet import MAPPING

    config = SandboxConfig.from_dict(MAPPING, base=tmp_path)
    clusters = [kube_emulator_factory(run_images=config.image, pod_pending_seconds=0.05) for _ in range(2)]
    for kube in clusters:
        create(kube, python_pod("who", WHO_ANSWERS))
    ips, answers = [], []
    for kube in clusters:
        core = CoreV1Api(api_client(kube))
        done = finished(core, "who", timeout=60)
        assert done.status.phase == "Succeeded", kubectl(kube, "logs", "who").stdout
        ips.append(done.status.pod_ip)
        answers.append(kubectl(kube, "logs", "who").stdout.strip())
    assert ips[0] != ips[1]
    assert answers == [kube.get("v1", "ServiceAccount", "default")["metadata"]["uid"] for kube in clusters]
