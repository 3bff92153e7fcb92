"""The clusterrole-aggregation controller (kube-controller-manager): a ClusterRole with an aggregationRule gets
as rules the union of the rules of every other ClusterRole its clusterRoleSelectors match, in the order of their
names, each rule once. Any ClusterRole change looks at every aggregated one again, so rules follow the matching
roles as they are created, changed, relabelled and deleted, and aggregation chains (view into edit into admin).
"""

from __future__ import annotations

from ..selectors import parse_label_selector
from ..workloads import selector_string
from .base import Controller, Key

API_VERSION = "rbac.authorization.k8s.io/v1"
KIND = "ClusterRole"
FIELD_MANAGER = "clusterrole-aggregation-controller"


def _matches(selector: dict, labels: dict) -> bool:
    """An empty selector matches every role, as metav1.LabelSelectorAsSelector makes it."""
    return parse_label_selector(selector_string(selector))(labels)


class ClusterRoleAggregationController(Controller):
    api_version = API_VERSION
    kind = KIND

    def on_event(self, event_type: str, obj: dict, old: dict | None) -> None:
        # Whatever changed may be selected by any aggregated role (the changed role's own key is queued too,
        # and is dropped at once when it has no aggregationRule).
        for role in self.api.list(API_VERSION, KIND):
            if role.get("aggregationRule"):
                self.enqueue(Key.of(role))

    async def reconcile(self, key: Key) -> float | None:
        role = self.api.get(API_VERSION, KIND, None, key.name)
        if role is None or not role.get("aggregationRule"):
            return None
        selectors = role["aggregationRule"].get("clusterRoleSelectors") or []
        rules: list[dict] = []
        for other in self.api.list(API_VERSION, KIND):  # sorted by name
            if other["metadata"]["name"] == key.name:
                continue
            labels = other["metadata"].get("labels") or {}
            if not any(_matches(selector, labels) for selector in selectors):
                continue
            for rule in other.get("rules") or []:
                if rule not in rules:
                    rules.append(rule)
        if rules == (role.get("rules") or []):
            return None
        # Server-side apply of the rules alone, forced, as the real controller writes them.
        body: dict = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": key.name}}
        if rules:
            body["rules"] = rules
        self.api.patch(API_VERSION, KIND, None, key.name, body, patch_type="apply", field_manager=FIELD_MANAGER,
                       force=True)
        return None
