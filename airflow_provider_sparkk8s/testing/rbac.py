"""Kubernetes RBAC for the emulator: requests from a token's user are authorised by the Role, ClusterRole,
RoleBinding and ClusterRoleBinding objects in the store, with the API server's semantics.

- Only users the emulator maps tokens to are checked; ``admin`` (the user of ``KubeEmulator(token=...)``) and
  the anonymous user of an emulator without tokens keep full access.
- A user ``system:serviceaccount:<ns>:<name>`` matches ServiceAccount subjects (and the groups
  ``system:serviceaccounts``, ``system:serviceaccounts:<ns>``, ``system:authenticated``); any other user matches
  User subjects of its name and ``system:authenticated``.
- A rule allows a request when its verbs, apiGroups, resources (``pods/log`` for a subresource, ``*`` and
  ``*/log``) and resourceNames (when set; never for list, watch or create without a name) all match. A
  RoleBinding grants its Role's (or ClusterRole's) rules in its own namespace only.
- Discovery and other non-resource paths are open to every authenticated user (the default
  ``system:discovery`` binding).
- A denial is the API server's 403 ``Status``: ``pods "x" is forbidden: User "..." cannot get resource
  "pods/log" in API group "" in the namespace "ns"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
    from .faults import RequestInfo
    from .store import Store

FULL_ACCESS_USERS = frozenset({"admin", "system:anonymous"})
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
RBAC_GROUP = "rbac.authorization.k8s.io"


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

    @property
    def combined(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def service_account_user(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def groups_of(user: str) -> set[str]:
    groups = {"system:authenticated"}
    if user.startswith(SERVICE_ACCOUNT_PREFIX):
        namespace = user[len(SERVICE_ACCOUNT_PREFIX):].partition(":")[0]
        groups |= {"system:serviceaccounts", f"system:serviceaccounts:{namespace}"}
    return groups


def _applies_to(subject: dict, user: str, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return name == user
    if kind == "Group":
        return name in groups_of(user)
    if kind == "ServiceAccount":
        return user == service_account_user(subject.get("namespace") or binding_namespace, name)
    return False


def rule_allows(rule: dict, attrs: Attributes) -> bool:
    """rbac/v1 rule matching (pkg/apis/rbac/v1/evaluation_helpers.go)."""
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
    def enforced(user: str) -> bool:
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

    def allowed(self, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, reason): the reason names the roles bindings point at that do not exist."""
        missing: list[str] = []
        bindings: list[tuple[dict, str | None]] = [(b, None) for b in self._items("clusterrolebindings")]
        if attrs.namespace:
            bindings += [(b, attrs.namespace) for b in self._items("rolebindings", attrs.namespace)]
        for binding, namespace in bindings:
            if not any(_applies_to(s, attrs.user, namespace or "") for s in binding.get("subjects") or []):
                continue
            rules, why_not = self._role_rules(binding.get("roleRef") or {}, namespace)
            if why_not:
                missing.append(why_not)
            if any(rule_allows(rule, attrs) for rule in rules):
                return True, ""
        return False, f"RBAC: [{', '.join(missing)}]" if len(missing) > 1 else (f"RBAC: {missing[0]}" if missing
                                                                                  else "")

    def check(self, attrs: Attributes) -> None:
        """Raise the API server's 403 unless the request is allowed."""
        allowed, reason = self.allowed(attrs)
        if not allowed:
            raise forbidden(attrs, reason)

    def check_request(self, user: str, info: RequestInfo, query: Any, content_type: str) -> None:
        """Authorise a Kubernetes API request classified by the server (see server.Server._classify)."""
        if not self.enforced(user) or not info.resource or not info.verb:
            return
        resource, _, subresource = info.resource.partition("/")
        name = info.name
        if info.verb in ("list", "watch") and not name:
            # A list or watch of one object by field selector counts as a request for that name.
            for term in (query.get("fieldSelector") or "").split(","):
                key, _, value = term.partition("=")
                if key.strip() == "metadata.name":
                    name = value.lstrip("=").strip()
        attrs = Attributes(user, info.verb, info.group, resource, subresource, info.namespace, name)
        self.check(attrs)
        if info.verb == "patch" and content_type.startswith("application/apply-patch") and not subresource \
                and not self._exists(attrs):
            # Server-side apply that creates the object also needs create (as a PUT that creates would).
            self.check(Attributes(user, "create", info.group, resource, "", info.namespace, name))

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
