"""Kubernetes RBAC for the emulator: requests from a token's user are authorised by the Role, ClusterRole,
RoleBinding and ClusterRoleBinding objects in the store, with the API server's semantics.

- Everyone is checked but the group ``system:masters`` (``admin``, the user of ``KubeEmulator(token=...)`` and of
  an emulator without tokens, see ``authn.py``), as the API server's privileged-group authorizer does.
- A user ``system:serviceaccount:<ns>:<name>`` matches ServiceAccount subjects (and the groups
  ``system:serviceaccounts``, ``system:serviceaccounts:<ns>``, ``system:authenticated``); any other user matches
  User subjects of its name and ``system:authenticated``.
- A rule allows a request when its verbs, apiGroups, resources (``pods/log`` for a subresource, ``*`` and
  ``*/log``) and resourceNames (when set; never for list, watch or create without a name) all match. A
  RoleBinding grants its Role's (or ClusterRole's) rules in its own namespace only.
- What every user may do comes from the bootstrap policy's bindings (``bootstrap_rbac.py``), as on a real
  cluster: ``system:basic-user`` (SelfSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview) and
  ``system:discovery`` for ``system:authenticated``; ``cluster-admin`` is bound to ``system:masters``, though
  that group is allowed before any binding is read. ClusterRole rules with ``nonResourceURLs`` answer access
  reviews of paths; non-resource requests themselves (discovery, /version, ...) are served to every user.
- A websocket upgrade of ``pods/exec``, ``pods/attach`` or ``pods/portforward`` is a GET: it needs ``get``, then
  ``create`` too, as on a 1.31+ API server (feature AuthorizePodWebsocketUpgradeCreatePermission, on by default);
  their SPDY upgrades are POSTs and need ``create`` only. kubectl falls back to SPDY when the websocket upgrade is
  refused, so a role with ``create`` alone still execs, and one with ``get`` alone is told it ``cannot create``.
- Impersonation needs the ``impersonate`` verb on users, groups, serviceaccounts, ``userextras/<key>`` and uids.
- A denial is the API server's 403 ``Status``: ``pods "x" is forbidden: User "..." cannot get resource
  "pods/log" in API group "" in the namespace "ns"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import errors
from .authn import MASTERS, SERVICE_ACCOUNT_PREFIX, UserInfo, impersonation_requests, service_account_user, user_for

if TYPE_CHECKING:
    from .faults import RequestInfo
    from .store import Store

__all__ = ["SERVICE_ACCOUNT_PREFIX", "Attributes", "Authorizer", "forbidden", "service_account_user"]

FULL_ACCESS_USERS = frozenset({"admin", "system:anonymous"})
RBAC_GROUP = "rbac.authorization.k8s.io"
EVERYTHING = {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}
EVERY_URL = {"verbs": ["*"], "nonResourceURLs": ["*"]}
# A websocket upgrade (GET) of these needs create as well as get.
WEBSOCKET_CREATE_SUBRESOURCES = ("exec", "attach", "portforward")


@dataclass(frozen=True)
class Attributes:
    """One authorisation question: may `user` do `verb` on this resource (authorizer.AttributesRecord)."""

    user: str
    verb: str
    group: str
    resource: str  # plural, without the subresource
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    groups: tuple[str, ...] = ()  # empty: those of the user name (see authn.user_for)
    path: str = ""  # a non-resource request (resource empty)

    @property
    def combined(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    @cached_property
    def user_groups(self) -> tuple[str, ...]:
        return self.groups or user_for(self.user).groups


def groups_of(user: str) -> set[str]:
    return set(user_for(user).groups)


def _applies_to(subject: dict, attrs: Attributes, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return name == attrs.user
    if kind == "Group":
        return name in attrs.user_groups
    if kind == "ServiceAccount":
        return attrs.user == service_account_user(subject.get("namespace") or binding_namespace, name)
    return False


def _describe(subject: dict, binding_namespace: str) -> str:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "ServiceAccount":
        return f'ServiceAccount "{name}/{subject.get("namespace") or binding_namespace}"'
    return f'{kind} "{name}"'


def non_resource_allows(rule: dict, verb: str, path: str) -> bool:
    verbs = rule.get("verbs") or []
    if "*" not in verbs and verb not in verbs:
        return False
    return any(url == "*" or url == path or (url.endswith("*") and path.startswith(url[:-1]))
               for url in rule.get("nonResourceURLs") or [])


def rule_allows(rule: dict, attrs: Attributes) -> bool:
    """rbac/v1 rule matching (pkg/apis/rbac/v1/evaluation_helpers.go)."""
    if not attrs.resource:
        return non_resource_allows(rule, attrs.verb, attrs.path)
    if rule.get("nonResourceURLs") and not rule.get("resources"):
        return False
    verbs = rule.get("verbs") or []
    if "*" not in verbs and attrs.verb not in verbs:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and attrs.group not in groups:
        return False
    if not any(r == "*" or r == attrs.combined or (attrs.subresource and r == f"*/{attrs.subresource}")
               for r in rule.get("resources") or []):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


class Authorizer:
    """RBAC over the objects in a store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def enforced(user: str | UserInfo) -> bool:
        """RBAC applies to everyone but the cluster admins (system:masters, as the API server's privileged
        group authorizer) and the emulator's own users named in FULL_ACCESS_USERS."""
        if isinstance(user, UserInfo):
            return MASTERS not in user.groups
        return user not in FULL_ACCESS_USERS

    def _items(self, plural: str, namespace: str | None = None) -> list[dict]:
        rt = self.store.registry.get(RBAC_GROUP, "v1", plural)
        return self.store.list(rt, namespace)["items"] if rt is not None else []

    def _role_rules(self, role_ref: dict, namespace: str | None) -> tuple[list[dict], str]:
        """The rules a binding grants, or a reason when its role does not exist."""
        kind, name = role_ref.get("kind"), role_ref.get("name", "")
        if kind == "ClusterRole":
            rt = self.store.registry.get(RBAC_GROUP, "v1", "clusterroles")
            role = self.store.try_get(rt, None, name) if rt else None
            return (role or {}).get("rules") or [], "" if role else f'clusterrole.{RBAC_GROUP} "{name}" not found'
        rt = self.store.registry.get(RBAC_GROUP, "v1", "roles")
        role = self.store.try_get(rt, namespace, name) if rt and namespace else None
        return (role or {}).get("rules") or [], "" if role else f'role.{RBAC_GROUP} "{name}" not found'

    def _bindings(self, namespace: str) -> list[tuple[dict, str | None]]:
        bindings: list[tuple[dict, str | None]] = [(b, None) for b in self._items("clusterrolebindings")]
        if namespace:
            bindings += [(b, namespace) for b in self._items("rolebindings", namespace)]
        return bindings

    def allowed(self, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, reason): why it is allowed (the binding), or the roles bindings point at that do not exist."""
        if MASTERS in attrs.user_groups:
            return True, ""
        missing: list[str] = []
        for binding, namespace in self._bindings(attrs.namespace):
            subject = next((s for s in binding.get("subjects") or [] if _applies_to(s, attrs, namespace or "")),
                           None)
            if subject is None:
                continue
            role_ref = binding.get("roleRef") or {}
            rules, why_not = self._role_rules(role_ref, namespace)
            if why_not:
                missing.append(why_not)
            if any(rule_allows(rule, attrs) for rule in rules):
                where = f'RoleBinding "{binding["metadata"]["name"]}/{namespace}"' if namespace else \
                    f'ClusterRoleBinding "{binding["metadata"]["name"]}"'
                role = f'{role_ref.get("kind")} "{role_ref.get("name")}"'
                return True, f"RBAC: allowed by {where} of {role} to {_describe(subject, namespace or '')}"
        return False, f"RBAC: [{', '.join(missing)}]" if len(missing) > 1 else (f"RBAC: {missing[0]}" if missing
                                                                                  else "")

    def rules(self, user: UserInfo, namespace: str) -> tuple[list[dict], list[dict]]:
        """(resource rules, non-resource rules) that apply to the user in the namespace (SelfSubjectRulesReview)."""
        if MASTERS in user.groups:
            return [EVERYTHING], [EVERY_URL]
        probe = Attributes(user.name, "", "", "", groups=user.groups)
        resource_rules: list[dict] = []
        non_resource: list[dict] = []
        for binding, binding_ns in self._bindings(namespace):
            if any(_applies_to(s, probe, binding_ns or "") for s in binding.get("subjects") or []):
                for rule in self._role_rules(binding.get("roleRef") or {}, binding_ns)[0]:
                    keys = ("verbs", "nonResourceURLs") if rule.get("nonResourceURLs") else \
                        ("verbs", "apiGroups", "resources", "resourceNames")
                    picked = {k: list(rule[k]) for k in keys if rule.get(k)}
                    (non_resource if "nonResourceURLs" in picked else resource_rules).append(picked)
        return resource_rules, non_resource

    def check_impersonation(self, requestor: UserInfo, headers: Any) -> bool:
        """Authorize the impersonation a request asks for (403 naming what was refused); whether it asks."""
        wanted = impersonation_requests(headers)
        for want in wanted:
            attrs = Attributes(requestor.name, "impersonate", want.group, want.resource, want.subresource,
                               want.namespace, want.name, requestor.groups)
            allowed, reason = self.allowed(attrs)
            if not allowed:
                raise forbidden(attrs, reason)
        return bool(wanted)

    def check(self, attrs: Attributes) -> None:
        """Raise the API server's 403 unless the request is allowed."""
        allowed, reason = self.allowed(attrs)
        if not allowed:
            raise forbidden(attrs, reason)

    def check_request(self, user: str | UserInfo, info: RequestInfo, query: Any, content_type: str,
                      websocket: bool = False) -> None:
        """Authorise a Kubernetes API request classified by the server (see server.Server._classify);
        ``websocket``: the request is a websocket upgrade."""
        if not self.enforced(user) or not info.resource or not info.verb:
            return
        groups = user.groups if isinstance(user, UserInfo) else ()
        user = user.name if isinstance(user, UserInfo) else user
        resource, _, subresource = info.resource.partition("/")
        name = info.name
        if info.verb in ("list", "watch") and not name:
            # A list or watch of one object by field selector counts as a request for that name.
            for term in (query.get("fieldSelector") or "").split(","):
                key, _, value = term.partition("=")
                if key.strip() == "metadata.name":
                    name = value.lstrip("=").strip()
        attrs = Attributes(user, info.verb, info.group, resource, subresource, info.namespace, name, groups)
        self.check(attrs)
        if info.verb == "patch" and content_type.startswith("application/apply-patch") and not subresource \
                and not self._exists(attrs):
            # Server-side apply that creates the object also needs create (as a PUT that creates would).
            self.check(Attributes(user, "create", info.group, resource, "", info.namespace, name, groups))
        if websocket and info.verb == "get" and not info.group and resource == "pods" \
                and subresource in WEBSOCKET_CREATE_SUBRESOURCES:
            # 1.31+ (AuthorizePodWebsocketUpgradeCreatePermission, on by default): the websocket upgrade is a GET,
            # but what it does is what the SPDY POST does, so it also needs create, as that POST always did.
            self.check(Attributes(user, "create", "", resource, subresource, info.namespace, name, groups))

    def _exists(self, attrs: Attributes) -> bool:
        for rt in self.store.registry.types.values():
            if rt.group == attrs.group and rt.plural == attrs.resource:
                return self.store.try_get(rt, attrs.namespace or None, attrs.name) is not None
        return False

    def check_argo_server(self, user: str, info: RequestInfo, body: dict) -> None:
        """Authorise an Argo Server request as the server in client auth mode does: it makes the Kubernetes
        calls below with the caller's token, so they need the same RBAC."""
        if not self.enforced(user):
            return
        for verb, resource, namespace, name in argo_server_calls(info, body):
            group = "" if resource in ("pods", "pods/log") else "argoproj.io"
            plural, _, sub = resource.partition("/")
            self.check(Attributes(user, verb, group, plural, sub, namespace, name))


def argo_server_calls(info: RequestInfo, body: dict) -> list[tuple[str, str, str, str]]:
    """(verb, resource, namespace, name) of the Kubernetes calls behind one Argo Server request."""
    ns, name, verb = info.namespace, info.name, info.verb
    kind = info.resource.removeprefix("argo/")
    if kind == "workflows/submit":
        template = "clusterworkflowtemplates" if "cluster" in str(body.get("resourceKind", "")).lower() \
            or body.get("resourceKind") == "cwftmpl" else "workflowtemplates"
        return [("get", template, "" if template.startswith("cluster") else ns, body.get("resourceName", "")),
                ("create", "workflows", ns, "")]
    if kind == "workflows/log":
        return [("get", "workflows", ns, name), ("list", "pods", ns, ""), ("get", "pods/log", ns, "")]
    if kind in ("workflows/stop", "workflows/terminate", "workflows/resume", "workflows/suspend",
                "workflows/retry", "workflows/resubmit", "workflows/set"):
        return [("get", "workflows", ns, name), ("patch", "workflows", ns, name)]
    if kind in ("workflows", "workflowtemplates", "clusterworkflowtemplates") and verb:
        return [(verb, kind, "" if kind.startswith("cluster") else ns, name)]
    return []  # version, info, userinfo


def forbidden(attrs: Attributes, reason: str = "") -> errors.ApiError:
    """The API server's Forbidden Status for a denied request (endpoints/handlers/responsewriters)."""
    resource = attrs.combined
    if attrs.namespace:
        where = f'in API group "{attrs.group}" in the namespace "{attrs.namespace}"'
    else:
        where = f'in API group "{attrs.group}" at the cluster scope'
    why = f'User "{attrs.user}" cannot {attrs.verb} resource "{resource}" {where}' + (f": {reason}" if reason else "")
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    subject = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    details: dict[str, Any] = {**({"name": attrs.name} if attrs.name else {}),
                               **({"group": attrs.group} if attrs.group else {}), "kind": attrs.resource}
    return errors.ApiError(403, "Forbidden", f"{subject} is forbidden: {why}", details)
