"""The aggregator's APIService registration: one local apiregistration.k8s.io/v1 APIService per served
group/version (built-in or from a CRD), Available, as `kubectl get apiservices` lists them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .base import ApiClient, Controller, Key
from .support import now_rfc3339

AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"
RESYNC_SECONDS = 1.0  # types registered without a CRD show up this soon
# groupPriorityMinimum / versionPriority of the built-in groups (kube-apiserver's table); others: 1000 / 100.
PRIORITIES = {"": (18000, 1), "apps": (17800, 15), "events.k8s.io": (17750, 15),
              "authentication.k8s.io": (17700, 15), "authorization.k8s.io": (17600, 15),
              "autoscaling": (17500, 15), "batch": (17400, 15), "certificates.k8s.io": (17300, 15),
              "networking.k8s.io": (17200, 15), "policy": (17100, 15), "rbac.authorization.k8s.io": (17000, 15),
              "storage.k8s.io": (16800, 15), "apiextensions.k8s.io": (16700, 15), "admissionregistration.k8s.io":
              (16700, 15), "scheduling.k8s.io": (16600, 15), "coordination.k8s.io": (16500, 15),
              "node.k8s.io": (16300, 15), "discovery.k8s.io": (16200, 15), "flowcontrol.apiserver.k8s.io":
              (16100, 15), "apiregistration.k8s.io": (18000, 15)}
BUILTIN_GROUPS = frozenset(PRIORITIES)
ALL = Key("", "")


def apiservice_name(group: str, version: str) -> str:
    return f"{version}.{group}"


class APIServiceController(Controller):
    api_version = "apiregistration.k8s.io/v1"
    kind = "APIService"
    watches = (("apiextensions.k8s.io/v1", "CustomResourceDefinition"),)

    def __init__(self, api: ApiClient, group_versions: Callable[[], dict[str, list[str]]]) -> None:
        """group_versions: the served versions per group ("" is the core group)."""
        super().__init__(api)
        self.group_versions = group_versions

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        super().start(loop)
        self.enqueue(ALL)

    def _on_primary(self, event_type: str, obj: dict, old: dict | None) -> None:
        self.enqueue(ALL)  # one pass over all of them

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> list[Key]:
        return [ALL]

    async def reconcile(self, key: Key) -> float | None:
        current = {a["metadata"]["name"]: a for a in self.api.list("apiregistration.k8s.io/v1", "APIService")}
        desired = {}
        for group, versions in self.group_versions().items():
            minimum, priority = PRIORITIES.get(group, (1000, 100))
            for version in versions:
                desired[apiservice_name(group, version)] = (group, version, minimum, priority)
        for name, (group, version, minimum, priority) in desired.items():
            if name not in current:
                self._create(name, group, version, minimum, priority)
        for name, obj in current.items():
            managed = (obj["metadata"].get("labels") or {}).get(AUTOMANAGED)
            if managed and name not in desired:
                self.api.delete("apiregistration.k8s.io/v1", "APIService", None, name)
        return RESYNC_SECONDS

    def _create(self, name: str, group: str, version: str, minimum: int, priority: int) -> None:
        created = self.api.create({
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": name,
                         "labels": {AUTOMANAGED: "onstart" if group in BUILTIN_GROUPS else "true"}},
            "spec": {**({"group": group} if group else {}), "version": version,
                     "groupPriorityMinimum": minimum, "versionPriority": priority},
        })
        self.api.replace({**created, "status": {"conditions": [{
            "type": "Available", "status": "True", "lastTransitionTime": now_rfc3339(), "reason": "Local",
            "message": "Local APIServices are always available"}]}}, subresource="status")
