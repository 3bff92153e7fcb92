"""The emulator's in-memory object store: one resourceVersion counter, a bounded event history for
watches, finalizers and what a DELETE does (garbage collection is a controller: controllers/garbage_collector.py).

Thread-safe: the HTTP server, the simulated controllers and test code may all call it.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import builtins
import ipaddress
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from . import custom_resources, errors, managed_fields
from .generation import BUILTIN_GROUPS, bumps_generation, generation_rule
from .graceful_deletion import grace_period_seconds as graceful_period
from .graceful_deletion import mark_deleting
from .json_copy import clone
from .ordered_bucket import Bucket
from .patching import json_patch, merge_patch, strategic_merge_patch
from .pod_updates import pod_update_causes
from .propagation import gc_finalizers, set_finalizers
from .resources import NAME_RULES, Registry, ResourceType
from .selectors import Predicate, parse_field_selector, parse_label_selector, supported_fields
from .service_account_admission import admit_pod
from .strategies import strategy_for
from .strategies.pods import default_pod_spec

SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/12")  # the service CIDR of a kubeadm cluster
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"


_now_cache: tuple[int, str] = (0, "")


def now_rfc3339() -> str:
    # Every write stamps times at one-second precision: format each second once.
    global _now_cache
    second = int(time.time())
    if _now_cache[0] != second:
        _now_cache = (second, datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _now_cache[1]


def _random_suffix(n: int = 5) -> str:
    # The API server's alphabet for generateName leaves out vowels and look-alike characters.
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: Any) -> None:
    """Schedule callback(*args) on `loop` from any thread; on the loop's own thread (an API request) without the
    self-pipe write that waking it from another thread needs."""
    if asyncio._get_running_loop() is loop:
        loop.call_soon(callback, *args)
    else:
        loop.call_soon_threadsafe(callback, *args)


@dataclass
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
    object: dict
    rv: int = 0

    def wire(self) -> dict:
        return {"type": self.type, "object": self.object}


@dataclass(eq=False)
class Watcher:
    """One open watch: events for objects of one type matching its filters, delivered to an asyncio queue."""

    rt: ResourceType
    namespace: str | None
    label_pred: Predicate
    field_pred: Predicate
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    closed: bool = False

    def matches(self, obj: dict | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata", {})
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        return self.label_pred(meta.get("labels") or {}) and self.field_pred(obj)

    def offer(self, event_type: str, obj: dict, old: dict | None, rv: int) -> None:
        """Translate a store change into what this watch sees (selector entry/exit become ADDED/DELETED)."""
        now_in, was_in = self.matches(obj), self.matches(old) if old is not None else False
        if event_type == "MODIFIED":
            if now_in and not was_in:
                event_type = "ADDED"
            elif was_in and not now_in:
                event_type = "DELETED"
            elif not now_in:
                return
        elif not now_in:
            return
        self.push(WatchEvent(event_type, obj, rv))

    def push(self, event: WatchEvent | None) -> None:
        if not self.closed:
            call_soon(self.loop, self.queue.put_nowait, event)


class Store:
    def __init__(self, registry: Registry | None = None, watch_window: int = 10_000) -> None:
        self.registry = registry or Registry.default()
        self.watch_window = watch_window
        self._lock = threading.RLock()
        self._rv = 0
        self._objects: dict[tuple[str, str], Bucket] = {}
        # Changes in resourceVersion order; a list (trimmed in chunks) so a watch can bisect to its start.
        self._history: list[tuple[int, str, tuple[str, str], dict, dict | None]] = []
        self._compacted = 0  # newest resourceVersion no longer in the history
        self._watchers: set[Watcher] = set()
        self._listeners: list[Callable[[str, ResourceType, dict, dict | None], None]] = []
        self._cluster_ip = 0
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create(self.registry.core("namespaces"), None,
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    # ------------------------------------------------------------------ helpers
    @property
    def resource_version(self) -> int:
        return self._rv

    def add_listener(self, fn: Callable[[str, ResourceType, dict, dict | None], None]) -> None:
        """Call fn(event_type, rt, obj, old) after every change, with the stored objects themselves: fn must not
        change them (controllers/base.py's ApiClient copies them for its handlers)."""
        self._listeners.append(fn)

    def rt(self, api_version: str, kind_or_plural: str) -> ResourceType:
        group, _, version = api_version.rpartition("/")
        rt = self.registry.by_kind(api_version, kind_or_plural) or self.registry.get(group, version, kind_or_plural)
        if rt is None:
            raise errors.ApiError(404, "NotFound", f"the server could not find the requested resource "
                                                   f"({api_version} {kind_or_plural})")
        return rt

    def _bucket(self, rt: ResourceType) -> Bucket:
        bucket = self._objects.get((rt.group, rt.plural))
        if bucket is None:
            bucket = self._objects[(rt.group, rt.plural)] = Bucket()
        return bucket

    def _commit(self, event_type: str, rt: ResourceType, obj: dict, old: dict | None) -> dict:
        """Store `obj` as the new state and tell every watch and listener; return it. A committed object is never
        changed again (writes build a new one), so the bucket, the history, the watches, the listeners (which must
        not change it either) and the caller share it: the public verbs hand out copies unless asked not to."""
        self._rv += 1
        rv = self._rv
        obj["metadata"]["resourceVersion"] = str(rv)
        bucket = self._bucket(rt)
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if event_type == "DELETED":
            bucket.pop(key, None)
        else:
            bucket[key] = obj
        self._history.append((rv, event_type, (rt.group, rt.plural), obj, old))
        if len(self._history) > self.watch_window + self.watch_window // 8:
            drop = len(self._history) - self.watch_window
            self._compacted = self._history[drop - 1][0]
            del self._history[:drop]
        for watcher in list(self._watchers):
            if watcher.rt.group == rt.group and watcher.rt.plural == rt.plural:
                watcher.offer(event_type, obj, old, rv)
        if custom_resources.is_crd(rt):
            self._serve_crd(event_type, clone(obj))
        for fn in list(self._listeners):
            fn(event_type, rt, obj, old)
        return obj

    def _serve_crd(self, event_type: str, crd: dict) -> None:
        """A CRD's resource is served while the CRD exists and its names are its own."""
        crds = builtins.list(self._objects.get((custom_resources.CRD_GROUP, "customresourcedefinitions"), {}).values())
        if event_type == "DELETED":
            self._delete_custom_resources(crd)
        if event_type == "DELETED" or not custom_resources.serves(crd, crds):
            self.registry.unregister_crd(crd)
        else:
            self.registry.register_crd(crd)

    def _delete_custom_resources(self, crd: dict) -> None:
        """A deleted CRD takes its custom resources with it (each watch sees them go)."""
        spec = crd.get("spec") or {}
        group, plural = spec.get("group", ""), (spec.get("names") or {}).get("plural", "")
        rt = next((t for t in self.registry.types.values() if (t.group, t.plural) == (group, plural)), None)
        if rt is not None:
            for obj in builtins.list(self._bucket(rt).values()):
                self._commit("DELETED", rt, clone(obj), obj)  # the stored object is the old state as it is

    def compact(self) -> None:
        """Forget the whole event history: any watch from an older resourceVersion now gets 410 Gone."""
        with self._lock:
            self._history.clear()
            self._compacted = self._rv

    # ------------------------------------------------------------------ validation
    def _validate(self, rt: ResourceType, obj: dict, name: str) -> None:
        """What every kind must satisfy: its name, labels and ownerReferences (and a pod's containers)."""
        causes: list[tuple[str, str, Any, str]] = []
        pattern, max_len, message = NAME_RULES[rt.name_rule]
        if not pattern.match(name):
            causes.append(("metadata.name", "FieldValueInvalid", name, message))
        elif len(name) > max_len:
            causes.append(("metadata.name", "FieldValueInvalid", name, f"must be no more than {max_len} characters"))
        meta = obj.get("metadata") or {}
        for key, value in (meta.get("labels") or {}).items():
            causes.extend(_validate_label(key, value))
        for ref in meta.get("ownerReferences") or []:
            # The API server reports these without an index, in this order, "version" for apiVersion.
            for required, what in (("uid", "uid"), ("apiVersion", "version"), ("kind", "kind"), ("name", "name")):
                if not ref.get(required):
                    causes.append((f"metadata.ownerReferences.{required}", "FieldValueInvalid",
                                   ref.get(required, ""), f"{what} must not be empty"))
        if rt.plural == "pods":
            containers = (obj.get("spec") or {}).get("containers")
            if not containers:
                causes.append(("spec.containers", "FieldValueRequired", None, "Required value"))
            for i, c in enumerate(containers or []):
                if not c.get("name"):
                    causes.append((f"spec.containers[{i}].name", "FieldValueRequired", None, "Required value"))
                if not c.get("image"):
                    causes.append((f"spec.containers[{i}].image", "FieldValueRequired", None, "Required value"))
        if causes:
            raise errors.invalid(rt.kind, name, causes, rt.group)

    def _validate_kind(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        """The kind's own rules, on the defaulted object (and, for an update, what may not change)."""
        strategy = strategy_for(rt)
        causes = strategy.validate(obj) + (strategy.validate_update(obj, old) if old is not None else [])
        if causes:
            raise errors.invalid(rt.kind, obj["metadata"]["name"], causes, rt.group)

    def _admit(self, rt: ResourceType, obj: dict) -> None:
        """CRDs and custom resources: what the API server defaults and validates beyond names and labels."""
        if custom_resources.is_crd(rt):
            custom_resources.default_crd(obj)
            custom_resources.validate_crd(obj)
        elif rt.group:
            custom_resources.admit(self.registry, rt, obj)

    def _check_type(self, rt: ResourceType, obj: dict) -> None:
        if not isinstance(obj, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if kind and kind != rt.kind:
            raise errors.bad_request(f"the kind of the provided object ({kind}) does not match the resource "
                                     f"({rt.kind})")
        if api_version and api_version != rt.api_version:
            raise errors.bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                                     f"version ({rt.api_version})")

    # ------------------------------------------------------------------ verbs
    def create(self, rt: ResourceType, namespace: str | None, obj: dict, dry_run: bool = False,
               field_manager: str | None = None, read_only: bool = False) -> dict:
        """Create `obj`; the created object (read_only: the stored one itself, for callers that only serialize
        it, as with `get`)."""
        self._check_type(rt, obj)
        obj = clone(obj)
        obj["kind"], obj["apiVersion"] = rt.kind, rt.api_version
        meta = obj.setdefault("metadata", {})
        if meta is None:
            meta = obj["metadata"] = {}
        with self._lock:
            if rt.namespaced:
                namespace = namespace or meta.get("namespace") or "default"
                if meta.get("namespace") and meta["namespace"] != namespace:
                    raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                             "sent on the request")
                ns_obj = self._bucket(self.registry.core("namespaces")).get(("", namespace))
                if ns_obj is None:
                    raise errors.not_found("namespaces", namespace)
                if ns_obj["metadata"].get("deletionTimestamp"):
                    raise errors.ApiError(403, "Forbidden",
                                          f'{rt.plural} "{meta.get("name") or meta.get("generateName", "")}" is '
                                          f"forbidden: unable to create new content in namespace {namespace} "
                                          "because it is being terminated")
                meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
            name = meta.get("name")
            if not name:
                prefix = meta.get("generateName")
                if not prefix:
                    raise errors.invalid(rt.kind, "", [("metadata.name", "FieldValueRequired", None,
                                                        "Required value: name or generateName is required")], rt.group)
                for _ in range(20):
                    # As names.SimpleNameGenerator: the prefix is cut to 63 - 5 characters before the suffix.
                    name = prefix[:58] + _random_suffix()
                    if (meta.get("namespace", ""), name) not in self._bucket(rt):
                        break
                meta["name"] = name
            self._validate(rt, obj, name)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if generation_rule(rt) is not None:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            for transient in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(transient, None)
            self._defaults(rt, obj)
            if rt.has_status_subresource and rt.group:
                obj.pop("status", None)  # custom resources ignore status on create
            strategy_for(rt).prepare_for_create(obj)
            self._validate_kind(rt, obj, None)
            if (meta.get("namespace", ""), name) in self._bucket(rt):  # the storage's answer, after validation
                raise errors.already_exists(rt.plural, name, rt.group)
            self._admit(rt, obj)
            managed_fields.record_update(None, obj, managed_fields.shape_for(self.registry, rt), field_manager,
                                         None, meta["creationTimestamp"])
            if dry_run:
                obj["metadata"]["resourceVersion"] = ""
                return obj
            # A new namespace's default ServiceAccount comes from the serviceaccounts controller
            # (controllers/namespace_defaults.py), a moment later, as on a real cluster.
            created = self._commit("ADDED", rt, obj, None)
            return created if read_only else clone(created)

    def _cluster_ip_for(self, service: dict, requested: str | None) -> str:
        """The requested ClusterIP when it is free and in the service range (10.96.0.0/12), else 422; without one,
        the next free address (10.96.0.1 is left to the `kubernetes` Service)."""
        taken = {(s.get("spec") or {}).get("clusterIP") for s in self._bucket(self.registry.core("services")).values()}
        if requested is None:
            while True:
                self._cluster_ip += 1
                ip = f"10.96.{self._cluster_ip // 250}.{self._cluster_ip % 250 + 1}"
                if ip not in taken:
                    return ip
        why = None
        try:
            if ipaddress.ip_address(requested) not in SERVICE_RANGE:
                why = (f"the provided IP ({requested}) is not in the valid range. The range of valid IPs is "
                       f"{SERVICE_RANGE}")
            elif requested in taken:
                why = "provided IP is already allocated"
        except ValueError:
            why = "must be a valid IP address"
        if why is not None:
            raise errors.invalid("Service", service["metadata"].get("name", ""), [
                ("spec.clusterIPs", "FieldValueInvalid", None,  # Go prints the value as a []string literal
                 f'Invalid value: []string{{"{requested}"}}: failed to allocate IP {requested}: {why}')])
        return requested

    def _defaults(self, rt: ResourceType, obj: dict) -> None:
        spec: dict = obj.setdefault("spec", {}) if rt.plural in ("pods", "services") else {}
        if rt.plural == "pods":
            default_pod_spec(spec)
            # The ServiceAccount admission plugin, on create only.
            sa_rt = self.registry.core("serviceaccounts")
            namespace = obj["metadata"].get("namespace", "")
            admit_pod(obj, lambda name: self._bucket(sa_rt).get((namespace, name)))
            obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        elif rt.plural == "services":
            if spec.get("clusterIP") != "None" and spec.get("type") != "ExternalName":
                spec["clusterIP"] = self._cluster_ip_for(obj, spec.get("clusterIP") or None)
                spec["clusterIPs"] = [spec["clusterIP"]]
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            # SetDefaults_Service and the IP-family allocation of a single-stack IPv4 cluster.
            spec.setdefault("internalTrafficPolicy", "Cluster")
            if spec["type"] != "ExternalName":
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
            for port in spec.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")
                    port.setdefault("targetPort", port.get("port"))
            obj["status"] = {"loadBalancer": {}}
        elif rt.plural == "namespaces":
            obj["spec"] = {"finalizers": ["kubernetes"]}
            obj["status"] = {"phase": "Active"}
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        elif rt.plural == "secrets":
            obj.setdefault("type", "Opaque")
            string_data = obj.pop("stringData", None) or {}
            data = obj.setdefault("data", {}) or {}
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
            obj["data"] = data
        strategy_for(rt).default(obj)

    def get(self, rt: ResourceType, namespace: str | None, name: str, read_only: bool = False) -> dict:
        """The object (read_only: the stored one itself, for callers that only serialize it)."""
        with self._lock:
            obj = self._bucket(rt).get((namespace or "" if rt.namespaced else "", name))
            if obj is None:
                raise errors.not_found(rt.plural, name, rt.group)
            return obj if read_only else clone(obj)

    def try_get(self, rt: ResourceType, namespace: str | None, name: str) -> dict | None:
        with self._lock:
            obj = self._bucket(rt).get((namespace or "" if rt.namespaced else "", name))
            return clone(obj) if obj is not None else None

    def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        read_only: bool = False,
    ) -> dict:
        """The matching objects as a list (read_only: the stored objects themselves, as in `get`)."""
        label_pred = parse_label_selector(label_selector)
        field_pred = parse_field_selector(field_selector, supported_fields(rt.plural))
        with self._lock:
            list_rv = self._rv
            start_after: tuple[str, str] | None = None
            if continue_token:
                try:
                    token = json.loads(base64.urlsafe_b64decode(continue_token.encode()))
                    list_rv, start_after = int(token["rv"]), tuple(token["start"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise errors.bad_request(f"continue key is not valid: {exc}") from exc
            bucket = self._bucket(rt)
            items: builtins.list[dict] = []
            more, after_last = False, 0
            for remaining, key in bucket.in_order(namespace, start_after):
                obj = bucket[key]
                if label_pred(obj["metadata"].get("labels") or {}) and field_pred(obj):
                    if limit and len(items) == limit:
                        more = True  # a further match: the page is full
                        break
                    items.append(obj)
                    after_last = remaining
            meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
            if more:
                last = items[-1]["metadata"]
                meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                    {"rv": list_rv, "start": [last.get("namespace", ""), last["name"]]}).encode()).decode()
                if not label_selector and not field_selector:
                    # etcd's count of the keys left; with a selector it would count non-matching ones too, so the
                    # API server leaves it out.
                    meta["remainingItemCount"] = after_last
            return {
                "kind": f"{rt.kind}List",
                "apiVersion": rt.api_version,
                "metadata": meta,
                "items": items if read_only else clone(items),
            }

    def replace(self, rt: ResourceType, namespace: str | None, name: str, obj: dict,
                subresource: str | None = None, dry_run: bool = False, field_manager: str | None = None,
                read_only: bool = False) -> dict:
        self._check_type(rt, obj)
        with self._lock:
            current = self._bucket(rt).get((namespace or "" if rt.namespaced else "", name))
            if current is None:
                raise errors.not_found(rt.plural, name, rt.group)
            meta = obj.get("metadata") or {}
            if meta.get("name") and meta["name"] != name:
                raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on "
                                         f"the URL ({name})")
            want_rv = meta.get("resourceVersion")
            if want_rv and want_rv != current["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.plural, name, rt.group)
            updated = self._update(rt, current, clone(obj), subresource, dry_run, field_manager)
            return updated if read_only else clone(updated)

    def _update(self, rt: ResourceType, current: dict, new: dict, subresource: str | None, dry_run: bool,
                field_manager: str | None = None) -> dict:
        """Write `new` over `current`; the stored object (shared: the caller copies it before handing it out)."""
        old = current  # committed objects are never changed
        name = current["metadata"]["name"]
        new["kind"], new["apiVersion"] = rt.kind, rt.api_version
        new_meta = new.setdefault("metadata", {}) or {}
        new["metadata"] = new_meta
        if subresource == "status":
            # /status writes change the status only; a Deployment's may change its annotations too
            # (deploymentStatusStrategy resets only spec and labels: the controller records the revision so).
            result = clone(current)
            if "status" in new:
                result["status"] = new["status"]
            if rt.group == "apps" and rt.plural == "deployments" and "annotations" in new_meta:
                result["metadata"]["annotations"] = new_meta["annotations"]
            new = result
        elif subresource == "finalize":
            # namespaces/finalize writes change spec.finalizers only (the namespace controller's last step).
            result = clone(current)
            result.setdefault("spec", {})["finalizers"] = list((new.get("spec") or {}).get("finalizers") or [])
            new = result
        else:
            for keep in ("uid", "creationTimestamp", "namespace", "deletionTimestamp", "deletionGracePeriodSeconds",
                         "generation"):
                if keep in current["metadata"]:
                    new_meta[keep] = current["metadata"][keep]
                else:
                    new_meta.pop(keep, None)
            new_meta["name"] = name
            if rt.has_status_subresource or rt.plural == "pods":
                if "status" in current:
                    new["status"] = current["status"]
                else:
                    new.pop("status", None)
            strategy_for(rt).default(new)
            self._validate(rt, new, name)
            if rt.plural == "pods":
                self._validate_pod_update(current, new)
            self._validate_kind(rt, new, current)
            if bumps_generation(rt, current, new):
                new_meta["generation"] = current["metadata"].get("generation", 1) + 1
        if rt.plural == "secrets":
            self._defaults(rt, new)
        self._admit(rt, new)
        managed_fields.record_update(current, new, managed_fields.shape_for(self.registry, rt), field_manager,
                                     subresource, now_rfc3339())
        if dry_run:
            return new
        if new == current:
            return current  # a no-op write does not bump resourceVersion
        # A namespace also waits for its spec.finalizers (the namespace controller's "kubernetes"); a pod in its
        # grace period waits for the kubelet.
        held_by_spec = rt.plural == "namespaces" and bool((new.get("spec") or {}).get("finalizers"))
        if (new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers") and not held_by_spec
                and not new["metadata"].get("deletionGracePeriodSeconds")):
            # The last finalizer is gone: the object goes (the garbage collector sees it and takes its dependents).
            return self._commit("DELETED", rt, new, old)
        return self._commit("MODIFIED", rt, new, old)

    def _validate_pod_update(self, current: dict, new: dict) -> None:
        spec = new.get("spec")
        if not isinstance(spec, dict):
            return
        default_pod_spec(spec)  # the API server defaults a decoded body before validating it
        causes = pod_update_causes(current.get("spec") or {}, spec)
        if causes:
            raise errors.invalid("Pod", current["metadata"]["name"], causes)

    def bind(self, namespace: str, name: str, binding: dict) -> dict:
        """The `pods/binding` subresource: what the scheduler writes to put a pod on a node."""
        target = binding.get("target") or {} if isinstance(binding, dict) else {}
        node = target.get("name")
        if not node:
            raise errors.invalid("Binding", name, [("target.name", "FieldValueRequired", None, "Required value")])
        pods = self.registry.core("pods")
        with self._lock:
            current = self._bucket(pods).get((namespace, name))
            if current is None:
                raise errors.not_found("pods", name)
            if current["metadata"].get("deletionTimestamp"):
                raise errors.conflict("pods", name, why="pod is being deleted, cannot be assigned to a host")
            assigned = (current.get("spec") or {}).get("nodeName")
            if assigned:
                raise errors.conflict("pods", name, why=f"pod {name} is already assigned to node \"{assigned}\"")
            new = clone(current)
            new["spec"]["nodeName"] = node
            return clone(self._commit("MODIFIED", pods, new, current))

    def patch(self, rt: ResourceType, namespace: str | None, name: str, patch_type: str, body: Any,
              subresource: str | None = None, field_manager: str | None = None, force: bool = False,
              dry_run: bool = False, read_only: bool = False) -> tuple[dict, bool]:
        """Apply a PATCH; returns (object, created) — server-side apply may create."""
        ns_key = namespace or "" if rt.namespaced else ""
        with self._lock:
            current = self._bucket(rt).get((ns_key, name))
            if patch_type == "apply":
                if not isinstance(body, dict):
                    raise errors.bad_request("apply patch must be an object")
                if not field_manager:
                    raise errors.bad_request("PATCH requests with apply patch must specify fieldManager")
                self._check_type(rt, body)
                if rt.has_status_subresource:
                    # The status subresource and the main resource each own their part (the other is reset).
                    body = {k: v for k, v in body.items() if (k == "status") == (subresource == "status")
                            or k in ("apiVersion", "kind", "metadata")}
                merged = managed_fields.apply(current, body, managed_fields.shape_for(self.registry, rt),
                                              field_manager, subresource, force, now_rfc3339())
                if current is None:
                    merged.setdefault("metadata", {})["name"] = name
                    return self.create(rt, namespace, merged, dry_run=dry_run, read_only=read_only), True
            else:
                if current is None:
                    raise errors.not_found(rt.plural, name, rt.group)
                if patch_type == "merge":
                    merged = merge_patch(current, body)
                elif patch_type == "strategic":
                    if rt.group not in BUILTIN_GROUPS:
                        raise errors.ApiError(415, "UnsupportedMediaType",
                                              "strategic merge patch is not supported for custom resources; use "
                                              "application/merge-patch+json")
                    merged = strategic_merge_patch(current, body)
                elif patch_type == "json":
                    merged = json_patch(current, body)
                else:
                    raise errors.unsupported_media_type(patch_type)
            if not isinstance(merged, dict):
                raise errors.bad_request("the patch produced something that is not an object")
            want_rv = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
            if want_rv and want_rv != current["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.plural, name, rt.group)
            merged.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
            updated = self._update(rt, current, merged, subresource, dry_run,
                                   None if patch_type == "apply" else field_manager)
            return (updated if read_only else clone(updated)), False

    def delete(self, rt: ResourceType, namespace: str | None, name: str, propagation: str | None = None,
               dry_run: bool = False, preconditions: dict | None = None,
               grace_period_seconds: int | None = None) -> dict:
        with self._lock:
            current = self._bucket(rt).get((namespace or "" if rt.namespaced else "", name))
            if current is None:
                raise errors.not_found(rt.plural, name, rt.group)
            pre = preconditions or {}
            if pre.get("uid") and pre["uid"] != current["metadata"]["uid"]:
                raise errors.conflict(rt.plural, name, rt.group,
                                      f"Precondition failed: UID in precondition: {pre['uid']}, "
                                      f"UID in object meta: {current['metadata']['uid']}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != current["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.plural, name, rt.group)
            if dry_run:
                return clone(current)
            obj = clone(current)
            if rt.plural == "namespaces":
                return self._delete_namespace(rt, current, obj)
            grace = graceful_period(rt.plural, rt.group, current, grace_period_seconds)
            finalizers = gc_finalizers(current["metadata"].get("finalizers") or [], propagation,
                                       strategy_for(rt).default_propagation)
            if grace > 0:
                # Graceful: marked now, gone when the kubelet has stopped the containers and deletes it again. A
                # deletion already under way keeps its finalizers.
                if not mark_deleting(obj, grace):
                    return obj
                set_finalizers(obj, finalizers)
                return clone(self._commit("MODIFIED", rt, obj, current))
            set_finalizers(obj, finalizers)
            if finalizers:
                # Held by finalizers (the garbage collector's foregroundDeletion or orphan among them).
                obj["metadata"].setdefault("deletionTimestamp", now_rfc3339())
                obj["metadata"]["deletionGracePeriodSeconds"] = 0
                return obj if obj == current else clone(self._commit("MODIFIED", rt, obj, current))
            return clone(self._commit("DELETED", rt, obj, current))

    def _delete_namespace(self, rt: ResourceType, current: dict, obj: dict) -> dict:
        """Terminating: the namespace controller empties it, then removes its "kubernetes" finalizer."""
        obj["metadata"].setdefault("deletionTimestamp", now_rfc3339())
        obj["metadata"]["deletionGracePeriodSeconds"] = 0
        obj.setdefault("status", {})["phase"] = "Terminating"
        if obj != current:
            obj = clone(self._commit("MODIFIED", rt, obj, current))
        if not (current.get("spec") or {}).get("finalizers"):
            self._empty_namespace(obj["metadata"]["name"])
        return obj

    def _empty_namespace(self, namespace: str) -> None:
        """A namespace without spec.finalizers (no namespace controller holds it) is emptied at once."""
        for rt in builtins.list({(t.group, t.plural): t for t in self.registry.types.values()}.values()):
            if not rt.namespaced:
                continue
            for key, obj in builtins.list(self._bucket(rt).items()):
                if key[0] != namespace:
                    continue
                try:
                    self.delete(rt, namespace, obj["metadata"]["name"], "Background", grace_period_seconds=0)
                except errors.ApiError:
                    pass
        ns_rt = self.registry.core("namespaces")
        ns = self._bucket(ns_rt).get(("", namespace))
        if ns is not None:
            ns = clone(ns)
            ns["spec"]["finalizers"] = []
            self._commit("DELETED", ns_rt, ns, None)

    # ------------------------------------------------------------------ watch
    def watch(self, rt: ResourceType, namespace: str | None, label_selector: str | None,
              field_selector: str | None, resource_version: str | None,
              loop: asyncio.AbstractEventLoop) -> Watcher:
        """Open a watch. With no resourceVersion (or "0") it starts with a synthetic ADDED per object;
        otherwise it replays what happened after that version, or raises 410 if that is compacted."""
        watcher = Watcher(rt, namespace, parse_label_selector(label_selector),
                          parse_field_selector(field_selector, supported_fields(rt.plural)), loop)
        with self._lock:
            if resource_version in (None, "", "0"):
                bucket = self._bucket(rt)
                for _, key in bucket.in_order():
                    obj = bucket[key]
                    if watcher.matches(obj):
                        watcher.queue.put_nowait(WatchEvent("ADDED", obj, int(obj["metadata"]["resourceVersion"])))
            else:
                try:
                    since = int(resource_version)
                except ValueError as exc:
                    raise errors.bad_request(f"invalid resource version: {resource_version!r}") from exc
                if since < self._compacted:
                    raise errors.expired(resource_version, self._compacted + 1)
                start = bisect.bisect_right(self._history, since, key=lambda change: change[0])
                for rv, etype, gp, obj, old in self._history[start:]:
                    if rv > since and gp == (rt.group, rt.plural):
                        # Delivered through the loop like live events, so the order is kept.
                        watcher.offer(etype, obj, old, rv)
            self._watchers.add(watcher)
        return watcher

    def stop_watch(self, watcher: Watcher) -> None:
        watcher.closed = True
        with self._lock:
            self._watchers.discard(watcher)

    @property
    def watcher_count(self) -> int:
        return len(self._watchers)


def _validate_label(key: str, value: Any) -> list[tuple[str, str, Any, str]]:
    causes = []
    prefix, _, name = key.rpartition("/")
    if not re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", name) or len(name) > 63:
        causes.append(("metadata.labels", "FieldValueInvalid", key,
                       "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                       "end with an alphanumeric character"))
    if prefix and (len(prefix) > 253 or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*"
                                                          r"[a-z0-9])?)*", prefix)):
        causes.append(("metadata.labels", "FieldValueInvalid", key, "prefix part must be a DNS-1123 subdomain"))
    if not isinstance(value, str) or len(value) > 63 or not re.fullmatch(_LABEL_VALUE, value):
        causes.append(("metadata.labels", "FieldValueInvalid", value,
                       "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                       "'.', and must start and end with an alphanumeric character, and be at most 63 characters"))
    return causes


__all__ = ["Store", "Watcher", "WatchEvent", "now_rfc3339"]
