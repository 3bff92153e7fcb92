"""Which objects carry `metadata.generation`, and which writes bump it, as the registry strategies of a
Kubernetes 1.32 API server decide (each type's PrepareForCreate / PrepareForUpdate).

A type absent from the table gets no generation at all: ConfigMaps, Secrets, Services, Namespaces, Pods (from
1.33 on they have one), ServiceAccounts, Events, Endpoints, Nodes, PersistentVolume(Claim)s, RBAC objects,
Leases, ... Custom resources always have one.
"""

from __future__ import annotations

from typing import Literal

from .resources import ResourceType

# "spec": bumped when .spec changes; "spec+annotations": also when annotations change (a Deployment copies
# them to its ReplicaSets); "not-metadata": when anything but metadata changes (status too, when the type has
# no status subresource; what custom resources do).
Rule = Literal["spec", "spec+annotations", "not-metadata"]

GENERATION_RULES: dict[tuple[str, str], Rule] = {
    ("apps", "deployments"): "spec+annotations",
    ("apps", "replicasets"): "spec",
    ("apps", "statefulsets"): "spec",
    ("apps", "daemonsets"): "spec",
    ("", "replicationcontrollers"): "spec",
    ("batch", "jobs"): "spec",
    ("batch", "cronjobs"): "spec",
    ("networking.k8s.io", "ingresses"): "spec",
    ("networking.k8s.io", "ingressclasses"): "spec",
    ("networking.k8s.io", "networkpolicies"): "spec",
    ("policy", "poddisruptionbudgets"): "spec",
    ("apiextensions.k8s.io", "customresourcedefinitions"): "spec",
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): "not-metadata",
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): "not-metadata",
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"): "spec",
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): "spec",
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): "spec",
}

# Groups whose types are compiled into the API server; any other group is served from a CRD.
BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "apiextensions.k8s.io", "apiregistration.k8s.io", "admissionregistration.k8s.io", "authentication.k8s.io",
    "authorization.k8s.io", "certificates.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
    "flowcontrol.apiserver.k8s.io", "node.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "resource.k8s.io",
    "internal.apiserver.k8s.io", "storagemigration.k8s.io",
})


def generation_rule(rt: ResourceType) -> Rule | None:
    """How `rt`'s objects keep their generation; None when they have none."""
    if rt.group not in BUILTIN_GROUPS:
        return "not-metadata"
    return GENERATION_RULES.get((rt.group, rt.plural))


def bumps_generation(rt: ResourceType, old: dict, new: dict) -> bool:
    """Whether writing `new` over `old` starts a new generation."""
    rule = generation_rule(rt)
    if rule is None:
        return False
    skipped = {"metadata", "kind", "apiVersion"}
    if rule != "not-metadata" or rt.has_status_subresource:
        skipped.add("status")
    if _without(old, skipped) != _without(new, skipped):
        return True
    if rule == "spec+annotations":
        return (old["metadata"].get("annotations") or {}) != (new["metadata"].get("annotations") or {})
    return False


def _without(obj: dict, keys: set[str]) -> dict:
    return {k: v for k, v in obj.items() if k not in keys}
