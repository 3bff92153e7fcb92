"""Clusters whose Airflow connections act as a ServiceAccount bound by the shipped Role manifests, shared by the
least-privilege campaign and its tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from airflow_provider_sparkk8s.testing import KubeEmulator
from airflow_provider_sparkk8s.testing.rbac import service_account_user

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "dags_examples"
MANIFESTS = EXAMPLES / "manifests"
RBAC_MANIFESTS = ("spark-rbac.yaml", "argo-rbac.yaml")
# The identity of the Airflow workers and triggerer that the example RBAC binds.
WORKER = ("airflow", "airflow-worker")
WORKER_USER = service_account_user(*WORKER)
ADMIN_TOKEN = "cluster-admin-token"


def rbac_documents() -> list[dict]:
    return [doc for name in RBAC_MANIFESTS for doc in yaml.safe_load_all((MANIFESTS / name).read_text()) if doc]


def roles_of_worker(docs: list[dict]) -> list[tuple[int, dict]]:
    """(index in docs, Role or ClusterRole) for every role bound to the worker's ServiceAccount."""
    bound = set()
    for doc in docs:
        if doc["kind"] in ("RoleBinding", "ClusterRoleBinding") and any(
                s.get("kind") == "ServiceAccount" and (s.get("namespace"), s.get("name")) == WORKER
                for s in doc.get("subjects") or []):
            ref = doc["roleRef"]
            bound.add((ref["kind"], doc["metadata"].get("namespace") if ref["kind"] == "Role" else None, ref["name"]))
    return [(i, doc) for i, doc in enumerate(docs) if doc["kind"] in ("Role", "ClusterRole") and (
        doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"]) in bound]


def without(docs: list[dict], index: int, rule: int, verb: str | None = None) -> list[dict]:
    """The manifests with one rule of one role removed (or only one verb of it)."""
    docs = copy.deepcopy(docs)
    rules = docs[index]["rules"]
    if verb is None or rules[rule]["verbs"] == [verb]:
        del rules[rule]
    else:
        rules[rule]["verbs"] = [v for v in rules[rule]["verbs"] if v != verb]
    return docs


def start_cluster(workdir: Path, rbac: list[dict] | None = None, **options: Any) -> KubeEmulator:
    """An emulator with the example namespaces, the RBAC manifests (the shipped ones by default) and the
    example WorkflowTemplate and calendar EventSource."""
    kube = KubeEmulator(token=ADMIN_TOKEN, workdir=workdir, namespaces=["airflow", "argo-events"],
                        **options).start()
    kube.apply(rbac if rbac is not None else rbac_documents())
    kube.apply((MANIFESTS / "spark-app-workflow-template.yaml").read_text(), "argo")
    kube.apply((MANIFESTS / "calendar-source.yaml").read_text())
    return kube


def worker_env(kube: KubeEmulator, workdir: Path) -> dict[str, str]:
    """Environment that makes `kubernetes_default` and `argo_workflows_default` use the worker's token."""
    token = kube.service_account_token(*WORKER)
    kubeconfig = kube.write_kubeconfig(workdir / "worker-kubeconfig", token=token)
    return {"AIRFLOW_CONN_KUBERNETES_DEFAULT": json.dumps({"conn_type": "kubernetes",
                                                            "extra": {"kube_config_path": str(kubeconfig)}}),
            "KUBECONFIG": str(kubeconfig),
            "AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT": json.dumps(kube.argo_connection("argo", token=token))}


def worker_calls(kube: KubeEmulator) -> set[tuple[str, str, str, int]]:
    """(verb, resource, namespace, status) of every request the worker's identity made."""
    return {(r.verb, r.resource, r.namespace, r.status) for r in kube.requests.snapshot() if r.user == WORKER_USER}
