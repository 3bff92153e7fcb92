"""The workload kinds (apps/v1 Deployments, ReplicaSets, StatefulSets, DaemonSets and core/v1
ReplicationControllers): defaulting as in pkg/apis/apps/v1/defaults.go and the validation that matters to clients
(422 naming the field)."""

from __future__ import annotations

from ..workloads import go_map, go_selector, selector_matches
from .base import Cause, Strategy
from .pods import default_pod_template, validate_pod_template

# What an update of a StatefulSet may change in its spec (ValidateStatefulSetUpdate).
STS_MUTABLE = {"replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
               "minReadySeconds"}


class WorkloadStrategy(Strategy):
    def __init__(self, group: str, plural: str, kind: str) -> None:
        self.group, self.plural, self.kind = group, plural, kind
        if (group, plural) == ("", "replicationcontrollers"):
            self.default_propagation = "Orphan"  # core/v1 keeps a deleted controller's pods, for compatibility

    def default(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        if spec is None:
            spec = obj["spec"] = {}
        template = spec.get("template")
        if isinstance(template, dict):
            default_pod_template(template)
        if self.plural != "daemonsets":
            spec.setdefault("replicas", 1)
        if self.plural == "deployments":
            strategy = spec.setdefault("strategy", {})
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = strategy.setdefault("rollingUpdate", {})
                rolling.setdefault("maxUnavailable", "25%")
                rolling.setdefault("maxSurge", "25%")
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
        elif self.plural == "statefulsets":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            strategy = spec.setdefault("updateStrategy", {})
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
            spec.setdefault("revisionHistoryLimit", 10)
            retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
            retention.setdefault("whenDeleted", "Retain")
            retention.setdefault("whenScaled", "Retain")
        elif self.plural == "daemonsets":
            strategy = spec.setdefault("updateStrategy", {})
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = strategy.setdefault("rollingUpdate", {})
                rolling.setdefault("maxUnavailable", 1)
                rolling.setdefault("maxSurge", 0)
            spec.setdefault("revisionHistoryLimit", 10)
        elif self.plural == "replicationcontrollers":
            # core/v1 defaults the selector and the object's labels from the template's labels.
            template_labels = ((template or {}).get("metadata") or {}).get("labels") or {}
            if template_labels and not spec.get("selector"):
                spec["selector"] = dict(template_labels)
            meta = obj.setdefault("metadata", {})
            if template_labels and not meta.get("labels"):
                meta["labels"] = dict(template_labels)

    def prepare_for_create(self, obj: dict) -> None:
        # The API server drops the status a client sent and serializes the empty one, whose fields without
        # omitempty show as 0.
        obj["status"] = {
            "replicasets": {"replicas": 0},
            "replicationcontrollers": {"replicas": 0},
            "statefulsets": {"replicas": 0, "availableReplicas": 0},
            "daemonsets": {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                           "numberReady": 0},
        }.get(self.plural, {})

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        replicas = spec.get("replicas")
        if self.plural != "daemonsets" and isinstance(replicas, int) and replicas < 0:
            causes.append(("spec.replicas", "FieldValueInvalid", replicas, "must be greater than or equal to 0"))
        selector = spec.get("selector")
        if not selector:
            causes.append(("spec.selector", "FieldValueRequired", None, "Required value"))
        elif self.group == "apps" and not selector.get("matchLabels") and not selector.get("matchExpressions"):
            causes.append(("spec.selector", "FieldValueInvalid", go_selector(selector),
                           f"empty selector is invalid for {self.kind.lower()}"))
        template = spec.get("template")
        if not isinstance(template, dict):
            causes.append(("spec.template", "FieldValueRequired", None, "Required value"))
            return causes
        labels = (template.get("metadata") or {}).get("labels") or {}
        if selector and not selector_matches(selector, labels):
            causes.append(("spec.template.metadata.labels", "FieldValueInvalid", go_map(labels),
                           "`selector` does not match template `labels`"))
        causes.extend(validate_pod_template(template, "spec.template", ("Always",)))
        if self.plural == "deployments":
            strategy = spec.get("strategy") or {}
            if strategy.get("type") == "Recreate" and strategy.get("rollingUpdate"):
                causes.append(("spec.strategy.rollingUpdate", "FieldValueForbidden", None,
                               "Forbidden: may not be specified when strategy `type` is 'Recreate'"))
        return causes

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        if self.group != "apps":
            return []
        spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        if self.plural == "statefulsets" and any(
                spec.get(k) != old_spec.get(k) for k in set(spec) | set(old_spec) if k not in STS_MUTABLE):
            return [("spec", "FieldValueForbidden", None,
                     "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                     "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                     "'minReadySeconds' are forbidden")]
        if spec.get("selector") != old_spec.get("selector"):
            return [("spec.selector", "FieldValueInvalid", go_selector(spec.get("selector") or {}),
                     "field is immutable")]
        return []


STRATEGIES: dict[tuple[str, str], Strategy] = {
    (group, plural): WorkloadStrategy(group, plural, kind) for group, plural, kind in (
        ("apps", "deployments", "Deployment"), ("apps", "replicasets", "ReplicaSet"),
        ("apps", "statefulsets", "StatefulSet"), ("apps", "daemonsets", "DaemonSet"),
        ("", "replicationcontrollers", "ReplicationController"))}
