"""The resource types the emulator serves, and what discovery says about them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
# DNS-1123 subdomain (most objects), DNS-1123 label (namespaces) and DNS-1035 label (services).
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

NAME_RULES = {
    "subdomain": (
        SUBDOMAIN,
        253,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
        "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ),
    "label": (
        LABEL_1123,
        63,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
        "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ),
    "dns1035": (
        LABEL_1035,
        63,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
        "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
        "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ),
    # RBAC objects only need a name that is a URL path segment (ValidateRBACName): "system:basic-user".
    "path_segment": (
        re.compile(r"^(?!\.\.?$)[^/%]+$"),
        1 << 20,
        "may not be '.' or '..' and may not contain '/' or '%'",
    ),
    # APIServices are named <version>.<group>: "v1." for the core group.
    "apiservice": (
        re.compile(r"^[a-z0-9]+\.([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$"),
        253,
        "must be <version>.<group>",
    ),
}

# What discovery says of a subresource whose kind or verbs are not its parent's (status: the parent's kind, with
# get, patch, update). serviceaccounts/token takes an authentication.k8s.io TokenRequest.
SUBRESOURCE_DISCOVERY: dict[str, dict] = {
    "log": {"kind": "Pod", "verbs": ["get"]},
    "binding": {"kind": "Binding", "verbs": ["create"]},
    "exec": {"kind": "PodExecOptions", "verbs": ["create", "get"]},
    "attach": {"kind": "PodAttachOptions", "verbs": ["create", "get"]},
    "portforward": {"kind": "PodPortForwardOptions", "verbs": ["create", "get"]},
    "token": {"group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest", "verbs": ["create"]},
    "finalize": {"kind": "Namespace", "verbs": ["update"]},
    "scale": {"group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]},
}


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    singular: str = ""
    subresources: tuple[str, ...] = ()  # "status", "log"
    name_rule: str = "subdomain"
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # Served by a CustomResourceDefinition in a real cluster (the CRDs registered through the API, and Argo's and
    # the Spark operator's kinds): aggregated discovery names their group and version in responseKind.
    custom: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def has_status_subresource(self) -> bool:
        return "status" in self.subresources

    def discovery_entries(self) -> list[dict]:
        entries = [
            {
                "name": self.plural,
                "singularName": self.singular or self.kind.lower(),
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": list(self.verbs),
                **({"shortNames": list(self.short_names)} if self.short_names else {}),
                **({"categories": list(self.categories)} if self.categories else {}),
            }
        ]
        for sub in self.subresources:
            entries.append({"name": f"{self.plural}/{sub}", "singularName": "", "namespaced": self.namespaced,
                            **SUBRESOURCE_DISCOVERY.get(sub, {"kind": self.kind, "verbs": ["get", "patch", "update"]})})
        return entries


def _core(plural: str, kind: str, **kw) -> ResourceType:
    return ResourceType("", "v1", plural, kind, **kw)


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _core("namespaces", "Namespace", namespaced=False, short_names=("ns",), subresources=("status", "finalize"),
          name_rule="label"),
    _core("pods", "Pod", short_names=("po",),
          subresources=("status", "log", "binding", "exec", "attach", "portforward"), categories=("all",)),
    _core("services", "Service", short_names=("svc",), subresources=("status",), name_rule="dns1035",
          categories=("all",)),
    _core("configmaps", "ConfigMap", short_names=("cm",)),
    _core("secrets", "Secret"),
    _core("serviceaccounts", "ServiceAccount", short_names=("sa",), subresources=("token",)),
    _core("events", "Event", short_names=("ev",)),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",), subresources=("status",)),
    _core("resourcequotas", "ResourceQuota", short_names=("quota",), subresources=("status",)),
    ResourceType("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", namespaced=False, short_names=("pc",)),
    # The workload controllers' kinds (workloads.py, controllers/): the scale subresource is autoscaling/v1 Scale.
    _core("replicationcontrollers", "ReplicationController", short_names=("rc",), subresources=("scale", "status"),
          categories=("all",)),
    ResourceType("apps", "v1", "deployments", "Deployment", short_names=("deploy",), subresources=("scale", "status"),
                 categories=("all",)),
    ResourceType("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",), subresources=("scale", "status"),
                 categories=("all",)),
    ResourceType("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",), subresources=("scale", "status"),
                 categories=("all",)),
    ResourceType("apps", "v1", "daemonsets", "DaemonSet", short_names=("ds",), subresources=("status",),
                 categories=("all",)),
    ResourceType("apps", "v1", "controllerrevisions", "ControllerRevision"),
    # spark-submit (Spark 4) applies a NetworkPolicy for the driver beside its service.
    ResourceType("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",)),
    ResourceType("rbac.authorization.k8s.io", "v1", "roles", "Role", name_rule="path_segment"),
    ResourceType("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", name_rule="path_segment"),
    ResourceType("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False,
                 name_rule="path_segment"),
    ResourceType("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
                 namespaced=False, name_rule="path_segment"),
    # Create-only reviews, answered and never stored (reviews.py).
    ResourceType("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", namespaced=False,
                 verbs=("create",)),
    ResourceType("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", namespaced=False, verbs=("create",)),
    ResourceType("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview",
                 verbs=("create",)),
    ResourceType("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
                 namespaced=False, verbs=("create",)),
    ResourceType("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
                 namespaced=False, verbs=("create",)),
    ResourceType("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", namespaced=False,
                 verbs=("create",)),
    ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
                 namespaced=False, short_names=("crd", "crds"), subresources=("status",)),
    # Argo's CRDs have no status subresource: the workflow controller writes the whole object.
    ResourceType("argoproj.io", "v1alpha1", "workflows", "Workflow", short_names=("wf",), custom=True),
    ResourceType("argoproj.io", "v1alpha1", "workflowtemplates", "WorkflowTemplate",
                 short_names=("wftmpl",), custom=True),
    ResourceType("argoproj.io", "v1alpha1", "clusterworkflowtemplates", "ClusterWorkflowTemplate",
                 namespaced=False, short_names=("clusterwftmpl", "cwft"), custom=True),
    ResourceType("argoproj.io", "v1alpha1", "cronworkflows", "CronWorkflow", short_names=("cwf", "cronwf"),
                 custom=True),
    ResourceType("argoproj.io", "v1alpha1", "eventsources", "EventSource", short_names=("es",), custom=True),
    ResourceType("argoproj.io", "v1alpha1", "sensors", "Sensor", short_names=("sn",), custom=True),
    # The cluster's own workload and plumbing types, with their controllers in controllers/.
    ResourceType("batch", "v1", "jobs", "Job", subresources=("status",), categories=("all",)),
    ResourceType("batch", "v1", "cronjobs", "CronJob", short_names=("cj",), subresources=("status",),
                 categories=("all",)),
    _core("nodes", "Node", namespaced=False, short_names=("no",), subresources=("status",)),
    _core("endpoints", "Endpoints", short_names=("ep",)),
    ResourceType("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"),
    ResourceType("apiregistration.k8s.io", "v1", "apiservices", "APIService", namespaced=False,
                 subresources=("status",), categories=("api-extensions",), name_rule="apiservice"),
    ResourceType("sparkoperator.k8s.io", "v1beta2", "sparkapplications", "SparkApplication",
                 short_names=("sparkapp",), custom=True, subresources=("status",)),
    ResourceType("sparkoperator.k8s.io", "v1beta2", "scheduledsparkapplications", "ScheduledSparkApplication",
                 short_names=("scheduledsparkapp",), custom=True, subresources=("status",)),
)


@dataclass
class Registry:
    """Resource types by (group, version, plural); register more with `register`."""

    types: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    crds: dict[tuple[str, str], dict] = field(default_factory=dict)  # served CRDs by (group, plural)

    @classmethod
    def default(cls) -> Registry:
        reg = cls()
        for rt in BUILTIN_TYPES:
            reg.register(rt)
        return reg

    def register(self, rt: ResourceType) -> ResourceType:
        self.types[(rt.group, rt.version, rt.plural)] = rt
        return rt

    def unregister(self, group: str, version: str, plural: str) -> None:
        self.types.pop((group, version, plural), None)

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self.types.get((group, version, plural))

    def core(self, plural: str) -> ResourceType:
        """A built-in core/v1 type (pods, services, namespaces, ...): always registered."""
        return self.types[("", "v1", plural)]

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        for rt in self.types.values():
            if rt.group == group and rt.version == version and rt.kind == kind:
                return rt
        return None

    def find(self, name: str) -> ResourceType | None:
        """Resolve a plural, kind, singular or short name (optionally `plural.group`), as kubectl does."""
        name = name.lower()
        plural, _, group = name.partition(".")
        for rt in self.types.values():
            names = {rt.plural, rt.kind.lower(), rt.singular or rt.kind.lower(), *rt.short_names}
            if (plural in names and (not group or rt.group == group)) or name in names:
                return rt
        return None

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for rt in self.types.values():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self.types.values() if rt.group == group and rt.version == version]

    def register_crd(self, crd: dict) -> list[ResourceType]:
        """Serve the resource a CustomResourceDefinition declares (every served version)."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        self.unregister_crd(crd)
        self.crds[(spec.get("group", ""), names.get("plural", ""))] = crd
        added = []
        for ver in spec.get("versions") or []:
            if not ver.get("served", True):
                continue
            subresources = [s for s in ("status", "scale") if s in (ver.get("subresources") or {})]
            added.append(
                self.register(
                    ResourceType(
                        group=spec.get("group", ""),
                        version=ver["name"],
                        plural=names.get("plural", ""),
                        kind=names.get("kind", ""),
                        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                        short_names=tuple(names.get("shortNames") or ()),
                        singular=names.get("singular", ""),
                        subresources=tuple(subresources),
                        categories=tuple(names.get("categories") or ()),
                        custom=True,
                    )
                )
            )
        return added

    def unregister_crd(self, crd: dict) -> None:
        """Stop serving what a CustomResourceDefinition declared."""
        spec = crd.get("spec") or {}
        key = (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
        old = self.crds.pop(key, None)
        for ver in ((old or {}).get("spec") or {}).get("versions") or []:
            self.unregister(key[0], ver.get("name", ""), key[1])
