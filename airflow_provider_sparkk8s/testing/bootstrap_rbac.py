"""The API server's bootstrap RBAC policy: the default ClusterRoles and ClusterRoleBindings a new 1.32 cluster
has, as kube-apiserver's ``rbac/bootstrap-roles`` post-start hook creates them (from
plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go).

Every object carries the label ``kubernetes.io/bootstrapping: rbac-defaults`` and the annotation
``rbac.authorization.kubernetes.io/autoupdate: "true"``. ``admin``, ``edit`` and ``view`` hold only an
aggregationRule: their rules are those of the ClusterRoles their selectors match, which the clusterrole-aggregation
controller (controllers/clusterrole_aggregation.py) fills in. The per-controller roles (``system:controller:*``),
those of the node, scheduler and kube-proxy, and the namespaced bootstrap Roles are left out: nothing the emulator
runs authenticates as them.

``edit`` (and so ``admin``) grants get, list, watch and the write verbs on ``pods/exec``, ``pods/attach`` and
``pods/portforward``, as 1.32's aggregate-to-edit does: both verbs a websocket upgrade of them needs (get, and
create since 1.31), and create for their SPDY upgrades.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors

if TYPE_CHECKING:
    from .store import Store

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_API = f"{RBAC_GROUP}/v1"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
FIELD_MANAGER = "kube-apiserver"

READ = ("get", "list", "watch")
WRITE = ("create", "delete", "deletecollection", "patch", "update")
READ_WRITE = READ + WRITE
READ_UPDATE = ("get", "list", "watch", "update", "patch")


def rule(verbs: tuple[str, ...] | str, groups: tuple[str, ...] | str = (), *resources: str) -> dict:
    """A resource rule, its lists sorted as bootstrappolicy's PolicyRuleBuilder leaves them."""
    verbs = (verbs,) if isinstance(verbs, str) else verbs
    groups = (groups,) if isinstance(groups, str) else groups
    return {"verbs": sorted(verbs), "apiGroups": sorted(groups), "resources": sorted(resources)}


def urls(verbs: tuple[str, ...] | str, *paths: str) -> dict:
    """A non-resource rule."""
    verbs = (verbs,) if isinstance(verbs, str) else verbs
    return {"verbs": sorted(verbs), "nonResourceURLs": sorted(paths)}


def _aggregated_by(role: str) -> dict:
    """The aggregationRule of admin, edit and view: every ClusterRole labelled aggregate-to-<role>."""
    return {"clusterRoleSelectors": [{"matchLabels": {f"{AGGREGATE_TO}{role}": "true"}}]}


# ClusterRole name -> (extra labels, aggregationRule or None, rules).
CLUSTER_ROLES: dict[str, tuple[dict[str, str], dict | None, list[dict]]] = {
    "cluster-admin": ({}, None, [rule("*", "*", "*"), urls("*", "*")]),
    "system:discovery": ({}, None, [
        urls("get", "/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*", "/api",
             "/api/*", "/apis", "/apis/*"),
    ]),
    "system:monitoring": ({}, None, [
        urls("get", "/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*",
             "/healthz/*"),
    ]),
    "system:basic-user": ({}, None, [
        rule("create", "authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
        rule("create", "authentication.k8s.io", "selfsubjectreviews"),
    ]),
    "system:public-info-viewer": ({}, None, [urls("get", "/livez", "/readyz", "/healthz", "/version", "/version/")]),
    # admin is edit plus granting rights within the namespace; edit is every user action in a namespace but
    # the privileged ones; view reads what does not escalate (no Secrets).
    "admin": ({}, _aggregated_by("admin"), []),
    "edit": ({f"{AGGREGATE_TO}admin": "true"}, _aggregated_by("edit"), []),
    "view": ({f"{AGGREGATE_TO}edit": "true"}, _aggregated_by("view"), []),
    "system:aggregate-to-admin": ({f"{AGGREGATE_TO}admin": "true"}, None, [
        rule("create", "authorization.k8s.io", "localsubjectaccessreviews"),
        rule(READ_WRITE, RBAC_GROUP, "roles", "rolebindings"),
    ]),
    "system:aggregate-to-edit": ({f"{AGGREGATE_TO}edit": "true"}, None, [
        rule(READ, "", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"),
        rule("impersonate", "", "serviceaccounts"),
        rule(WRITE, "", "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
        rule("create", "", "pods/eviction"),
        rule(WRITE, "", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
             "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"),
        rule("create", "", "serviceaccounts/token"),
        rule(WRITE, "apps", "statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
             "deployments/rollback", "replicasets", "replicasets/scale"),
        rule(WRITE, "autoscaling", "horizontalpodautoscalers"),
        rule(WRITE, "batch", "jobs", "cronjobs"),
        rule(WRITE, "extensions", "daemonsets", "deployments", "deployments/scale", "deployments/rollback",
             "ingresses", "replicasets", "replicasets/scale", "replicationcontrollers/scale", "networkpolicies"),
        rule(WRITE, "policy", "poddisruptionbudgets"),
        rule(WRITE, "networking.k8s.io", "networkpolicies", "ingresses"),
        rule(READ_WRITE, "coordination.k8s.io", "leases"),
    ]),
    "system:aggregate-to-view": ({f"{AGGREGATE_TO}view": "true"}, None, [
        rule(READ, "", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
             "services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
             "configmaps"),
        rule(READ, "", "limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
             "namespaces/status", "replicationcontrollers/status", "pods/log"),
        # Reading namespaces in a namespace means reading that one: a sign of which namespaces one may use.
        rule(READ, "", "namespaces"),
        rule(READ, "discovery.k8s.io", "endpointslices"),
        rule(READ, "apps", "controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
             "daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
             "replicasets", "replicasets/status", "replicasets/scale"),
        rule(READ, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
        rule(READ, "batch", "jobs", "cronjobs", "cronjobs/status", "jobs/status"),
        rule(READ, "extensions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
             "deployments/status", "ingresses", "ingresses/status", "replicasets", "replicasets/scale",
             "replicasets/status", "replicationcontrollers/scale", "networkpolicies"),
        rule(READ, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
        rule(READ, "networking.k8s.io", "networkpolicies", "ingresses", "ingresses/status"),
    ]),
    "system:auth-delegator": ({}, None, [
        rule("create", "authentication.k8s.io", "tokenreviews"),
        rule("create", "authorization.k8s.io", "subjectaccessreviews"),
    ]),
    "system:heapster": ({}, None, [
        rule(READ, "", "events", "pods", "nodes", "namespaces"),
        rule(READ, "extensions", "deployments"),
    ]),
    "system:node-bootstrapper": ({}, None, [
        rule(("create", "get", "list", "watch"), "certificates.k8s.io", "certificatesigningrequests"),
    ]),
    "system:volume-scheduler": ({}, None, [
        rule(READ_UPDATE, "", "persistentvolumes"),
        rule(READ, "storage.k8s.io", "storageclasses"),
        rule(READ_UPDATE, "", "persistentvolumeclaims"),
    ]),
    "system:service-account-issuer-discovery": ({}, None, [
        urls("get", "/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks",
             "/openid/v1/jwks/"),
    ]),
}

# ClusterRoleBinding name (that of its ClusterRole) -> subjects as (kind, name).
CLUSTER_ROLE_BINDINGS: dict[str, list[tuple[str, str]]] = {
    "cluster-admin": [("Group", "system:masters")],
    "system:monitoring": [("Group", "system:monitoring")],
    "system:discovery": [("Group", "system:authenticated")],
    "system:basic-user": [("Group", "system:authenticated")],
    "system:public-info-viewer": [("Group", "system:authenticated"), ("Group", "system:unauthenticated")],
    "system:volume-scheduler": [("User", "system:kube-scheduler")],
    "system:service-account-issuer-discovery": [("Group", "system:serviceaccounts")],
}


def _metadata(name: str, labels: dict[str, str] | None = None) -> dict:
    return {"name": name, "labels": {**BOOTSTRAP_LABELS, **(labels or {})}, "annotations": dict(AUTOUPDATE)}


def cluster_roles() -> list[dict]:
    roles = []
    for name, (labels, aggregation, rules) in CLUSTER_ROLES.items():
        role: dict = {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": _metadata(name, labels)}
        if aggregation is not None:
            role["aggregationRule"] = aggregation
        else:
            role["rules"] = [dict(r) for r in rules]
        roles.append(role)
    return roles


def cluster_role_bindings() -> list[dict]:
    return [{"apiVersion": RBAC_API, "kind": "ClusterRoleBinding", "metadata": _metadata(name),
             "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name},
             "subjects": [{"apiGroup": RBAC_GROUP, "kind": kind, "name": subject} for kind, subject in subjects]}
            for name, subjects in CLUSTER_ROLE_BINDINGS.items()]


def ensure_bootstrap_policy(store: Store) -> None:
    """Create the bootstrap objects that are missing. Like the post-start hook, it leaves existing ones as they
    are (a real API server also adds back missing rules and subjects of those that keep autoupdate "true")."""
    for obj in (*cluster_roles(), *cluster_role_bindings()):
        rt = store.rt(obj["apiVersion"], obj["kind"])
        try:
            store.create(rt, None, obj, field_manager=FIELD_MANAGER)
        except errors.ApiError as exc:
            if exc.code != 409:
                raise
