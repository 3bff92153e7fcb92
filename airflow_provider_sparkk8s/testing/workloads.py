"""What the API server does for the workload kinds (apps/v1 Deployments, ReplicaSets, StatefulSets, DaemonSets
and core/v1 ReplicationControllers): defaulting as in k8s.io/kubernetes pkg/apis/apps/v1/defaults.go, the
validation that matters to clients (422 naming the field) and the autoscaling/v1 Scale subresource.
"""

from __future__ import annotations

from typing import Any

from .resources import ResourceType
from .selectors import parse_label_selector

WORKLOAD_PLURALS = ("deployments", "replicasets", "statefulsets", "daemonsets", "replicationcontrollers")
SCALABLE_PLURALS = ("deployments", "replicasets", "statefulsets", "replicationcontrollers")

Cause = tuple[str, str, Any, str]
# What an update of a StatefulSet may change in its spec (ValidateStatefulSetUpdate).
STS_MUTABLE = {"replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
               "minReadySeconds"}


def is_workload(rt: ResourceType) -> bool:
    return rt.plural in WORKLOAD_PLURALS and rt.group in ("apps", "")


# ---------------------------------------------------------------------- label selectors
def selector_string(selector: dict | None) -> str:
    """A LabelSelector (or a ReplicationController's plain map) as metav1.FormatLabelSelector writes it."""
    if not selector:
        return ""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
        if op == "In":
            terms.append(f"{key} in ({','.join(sorted(values))})")
        elif op == "NotIn":
            terms.append(f"{key} notin ({','.join(sorted(values))})")
        elif op == "Exists":
            terms.append(key)
        elif op == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms)


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """An empty selector matches nothing here: the controllers never adopt with one (it is invalid anyway)."""
    text = selector_string(selector)
    return bool(text) and parse_label_selector(text)(labels or {})


# ---------------------------------------------------------------------- defaulting
def default_pod_template(template: dict) -> None:
    """The pod template's defaults (SetDefaults_PodSpec, SetDefaults_Container): not those a pod gets from
    admission when it is created (serviceAccountName), which a template never shows."""
    meta = template.setdefault("metadata", {})
    meta.setdefault("creationTimestamp", None)
    spec = template.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        image = str(container.get("image", ""))
        untagged = ":" not in image.rsplit("/", 1)[-1] and "@" not in image
        container.setdefault("imagePullPolicy", "Always" if image.endswith(":latest") or untagged else
                             "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")


def default_workload(rt: ResourceType, obj: dict) -> None:
    """Defaults on create and update, and the status a new object starts with."""
    spec = obj.setdefault("spec", {})
    if spec is None:
        spec = obj["spec"] = {}
    template = spec.get("template")
    if isinstance(template, dict):
        default_pod_template(template)
    if rt.plural != "daemonsets":
        spec.setdefault("replicas", 1)
    if rt.plural == "deployments":
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
    elif rt.plural == "statefulsets":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
        retention.setdefault("whenDeleted", "Retain")
        retention.setdefault("whenScaled", "Retain")
    elif rt.plural == "daemonsets":
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)
        spec.setdefault("revisionHistoryLimit", 10)
    elif rt.plural == "replicationcontrollers":
        # core/v1 defaults the selector and the object's labels from the template's labels.
        template_labels = ((template or {}).get("metadata") or {}).get("labels") or {}
        if template_labels and not spec.get("selector"):
            spec["selector"] = dict(template_labels)
        meta = obj.setdefault("metadata", {})
        if template_labels and not meta.get("labels"):
            meta["labels"] = dict(template_labels)


def initial_status(rt: ResourceType) -> dict:
    """A new object's status: the API server drops what the client sent and serializes the empty status, whose
    fields without omitempty show as 0."""
    if rt.plural in ("replicasets", "replicationcontrollers"):
        return {"replicas": 0}
    if rt.plural == "statefulsets":
        return {"replicas": 0, "availableReplicas": 0}
    if rt.plural == "daemonsets":
        return {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}
    return {}


# ---------------------------------------------------------------------- validation
def workload_causes(rt: ResourceType, obj: dict, old: dict | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    replicas = spec.get("replicas")
    if rt.plural != "daemonsets" and isinstance(replicas, int) and replicas < 0:
        causes.append(("spec.replicas", "FieldValueInvalid", replicas, "must be greater than or equal to 0"))
    selector = spec.get("selector")
    template = spec.get("template")
    labels = ((template or {}).get("metadata") or {}).get("labels") or {}
    if rt.group == "apps":
        if not selector:
            causes.append(("spec.selector", "FieldValueRequired", None, "Required value"))
        elif not selector.get("matchLabels") and not selector.get("matchExpressions"):
            causes.append(("spec.selector", "FieldValueInvalid", _go_selector(selector),
                           f"empty selector is invalid for {rt.kind.lower()}"))
        old_spec = (old or {}).get("spec") or {}
        if rt.plural == "statefulsets" and old is not None and any(
                spec.get(k) != old_spec.get(k) for k in set(spec) | set(old_spec) if k not in STS_MUTABLE):
            causes.append(("spec", "FieldValueForbidden", None,
                           "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                           "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                           "'minReadySeconds' are forbidden"))
        elif old is not None and selector != old_spec.get("selector"):
            causes.append(("spec.selector", "FieldValueInvalid", _go_selector(selector or {}),
                           "field is immutable"))
    elif not selector:
        causes.append(("spec.selector", "FieldValueRequired", None, "Required value"))
    if not isinstance(template, dict):
        causes.append(("spec.template", "FieldValueRequired", None, "Required value"))
        return causes
    if selector and not selector_matches(selector, labels):
        causes.append(("spec.template.metadata.labels", "FieldValueInvalid", _go_map(labels),
                       "`selector` does not match template `labels`"))
    pod_spec = template.get("spec") or {}
    containers = pod_spec.get("containers")
    if not containers:
        causes.append(("spec.template.spec.containers", "FieldValueRequired", None, "Required value"))
    for i, container in enumerate(containers or []):
        for required in ("name", "image"):
            if not container.get(required):
                causes.append((f"spec.template.spec.containers[{i}].{required}", "FieldValueRequired", None,
                               "Required value"))
    restart = pod_spec.get("restartPolicy")
    if restart != "Always":
        causes.append(("spec.template.spec.restartPolicy", "FieldValueNotSupported", None,
                       f'Unsupported value: "{restart}": supported values: "Always"'))
    if rt.plural == "deployments":
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate" and strategy.get("rollingUpdate"):
            causes.append(("spec.strategy.rollingUpdate", "FieldValueForbidden", None,
                           "Forbidden: may not be specified when strategy `type` is 'Recreate'"))
    return causes


class GoValue:
    """A value as the API server prints a Go struct or map (%#v) in a message: unquoted."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _go_map_text(labels: dict) -> str:
    return "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"


def _go_map(labels: dict) -> GoValue:
    return GoValue(_go_map_text(labels))


def _go_selector(selector: dict) -> GoValue:
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return _go_map(selector)
    expressions = selector.get("matchExpressions")
    return GoValue(f"&v1.LabelSelector{{MatchLabels:{_go_map_text(selector.get('matchLabels') or {})}, "
                   f"MatchExpressions:[]v1.LabelSelectorRequirement{'{...}' if expressions else '(nil)'}}}")
