"""The API's questions about identity and access, answered and never stored.

- authorization.k8s.io/v1 SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview (``kubectl auth
  can-i``) and SelfSubjectRulesReview (``kubectl auth can-i --list``), judged by the emulator's RBAC;
- authentication.k8s.io/v1 SelfSubjectReview (``kubectl auth whoami``) and TokenReview;
- the ``serviceaccounts/<name>/token`` subresource, TokenRequest (``kubectl create token``): a bound token for the
  ServiceAccount, for ``expirationSeconds`` (at least 10 minutes, 1 hour by default), optionally bound to a Pod or
  Secret whose deletion revokes it (a pod's kube-api-access token, 3607 seconds, is valid for a year, as the API
  server extends it).
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import errors
from .authn import API_AUDIENCE, UserInfo
from .rbac import Attributes

if TYPE_CHECKING:
    from .authn import Authenticator, TokenIssuer
    from .rbac import Authorizer
    from .resources import ResourceType
    from .store import Store

MIN_TOKEN_SECONDS = 600
DEFAULT_TOKEN_SECONDS = 3600
EXTENDED_WHEN_SECONDS = 3607  # WarnOnlyBoundTokenExpirationSeconds, what the ServiceAccount admission asks for
EXTENDED_TOKEN_SECONDS = 365 * 24 * 3600  # ExpirationExtensionSeconds
BINDABLE_KINDS = {"Pod": "pods", "Secret": "secrets"}


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(kind: str, group: str, name: str, field: str, value: Any, message: str) -> errors.ApiError:
    return errors.invalid(kind, name, [(field, "FieldValueInvalid", value, message)], group)


class Reviews:
    def __init__(self, store: Store, authorizer: Authorizer, authenticator: Authenticator,
                 issuer: TokenIssuer) -> None:
        self.store = store
        self.authorizer = authorizer
        self.authenticator = authenticator
        self.issuer = issuer

    def answer(self, rt: ResourceType, namespace: str, name: str, body: dict, user: UserInfo) -> dict:
        """The object the API server answers a create of `rt` with (its status filled in)."""
        if rt.plural == "serviceaccounts":
            return self.token_request(namespace, name, body)
        out = copy.deepcopy(body)
        out.update({"kind": rt.kind, "apiVersion": rt.api_version})
        meta = out.setdefault("metadata", {})
        meta.setdefault("creationTimestamp", None)
        if rt.plural == "selfsubjectreviews":
            out["status"] = {"userInfo": user.to_json()}
        elif rt.plural == "tokenreviews":
            out["status"] = self._token_review(out.get("spec") or {})
        elif rt.plural == "selfsubjectrulesreviews":
            resource_rules, non_resource_rules = self.authorizer.rules(
                user, (out.get("spec") or {}).get("namespace") or "")
            out["status"] = {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules,
                             "incomplete": False}
        else:
            subject = user if rt.plural == "selfsubjectaccessreviews" else self._subject(rt, out)
            out["status"] = self._access(rt, out, subject, namespace)
        return out

    # ------------------------------------------------------------------ access reviews
    def _subject(self, rt: ResourceType, review: dict) -> UserInfo:
        spec = review.get("spec") or {}
        if not spec.get("user") and not spec.get("groups"):
            raise _invalid(rt.kind, rt.group, review["metadata"].get("name", ""), "spec.user", "",
                           "at least one of user or group must be specified")
        return UserInfo(spec.get("user", ""), spec.get("uid", ""), tuple(spec.get("groups") or ()),
                        {k: tuple(v) for k, v in (spec.get("extra") or {}).items()})

    def _access(self, rt: ResourceType, review: dict, subject: UserInfo, namespace: str) -> dict:
        spec = review.get("spec") or {}
        resource, non_resource = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
        if (resource is None) == (non_resource is None):
            raise _invalid(rt.kind, rt.group, review["metadata"].get("name", ""), "spec.resourceAttributes",
                           resource, "exactly one of nonResourceAttributes or resourceAttributes must be specified")
        if resource is not None:
            if rt.plural == "localsubjectaccessreviews" and (resource.get("namespace") or "") != namespace:
                raise errors.bad_request(f"spec.resourceAttributes.namespace must match namespace: {namespace}")
            attrs = Attributes(subject.name, resource.get("verb", ""), resource.get("group", ""),
                               resource.get("resource", ""), resource.get("subresource", ""),
                               resource.get("namespace", ""), resource.get("name", ""), subject.groups)
        else:
            attrs = Attributes(subject.name, (non_resource or {}).get("verb", ""), "", "", groups=subject.groups,
                               path=(non_resource or {}).get("path", ""))
        allowed, reason = self.authorizer.allowed(attrs)
        return {"allowed": allowed, **({"reason": reason} if reason else {})}

    # ------------------------------------------------------------------ tokens
    def _token_review(self, spec: dict) -> dict:
        user, audiences = self.authenticator.review(spec.get("token", ""), spec.get("audiences") or None)
        if user is None:
            return {"user": {}, "error": "[invalid bearer token, token lookup failed]"}
        return {"authenticated": True, "user": user.to_json(), "audiences": audiences}

    def token_request(self, namespace: str, account_name: str, body: dict) -> dict:
        group, kind = "authentication.k8s.io", "TokenRequest"
        account = self.store.get(self.store.registry.core("serviceaccounts"), namespace, account_name)
        spec = dict(body.get("spec") or {})
        seconds = int(spec.get("expirationSeconds") or DEFAULT_TOKEN_SECONDS)
        if seconds < MIN_TOKEN_SECONDS:
            raise _invalid(kind, group, account_name, "spec.expirationSeconds", seconds,
                           "may not specify a duration less than 10 minutes")
        if seconds > 1 << 32:
            raise _invalid(kind, group, account_name, "spec.expirationSeconds", seconds,
                           "may not specify a duration larger than 2^32 seconds")
        bound = self._bound_object(namespace, account_name, spec.get("boundObjectRef"))
        audiences = list(spec.get("audiences") or [API_AUDIENCE])
        lifetime, warn_after = seconds, None
        if seconds == EXTENDED_WHEN_SECONDS and bound is not None and bound["kind"] == "Pod" and \
                set(audiences) <= {API_AUDIENCE}:
            # A kube-api-access volume's token (--service-account-extend-token-expiration, on by default): valid
            # for a year, so that a client that does not reload its token keeps working; its status still says
            # the requested expiry.
            lifetime, warn_after = EXTENDED_TOKEN_SECONDS, seconds
        token, _ = self.issuer.bound(namespace, account_name, account["metadata"]["uid"], audiences, lifetime,
                                     bound, warn_after)
        expires = int(self.issuer.clock()) + seconds
        spec.update({"audiences": audiences, "expirationSeconds": seconds})
        if bound is not None:
            spec["boundObjectRef"] = {**spec["boundObjectRef"], "uid": bound["uid"]}
        return {"kind": kind, "apiVersion": f"{group}/v1",
                "metadata": {"name": account_name, "namespace": namespace, "creationTimestamp": None},
                "spec": spec, "status": {"token": token, "expirationTimestamp": _timestamp(expires)}}

    def _bound_object(self, namespace: str, account: str, ref: dict | None) -> dict | None:
        if not ref:
            return None
        kind, name = ref.get("kind", ""), ref.get("name", "")
        plural = BINDABLE_KINDS.get(kind)
        if plural is None or (ref.get("apiVersion") or "v1") != "v1":
            raise errors.bad_request(f'cannot bind token for serviceaccount "{account}" to object of kind '
                                     f'"{ref.get("apiVersion", "")}, Kind={kind}"')
        obj = self.store.get(self.store.registry.core(plural), namespace, name)
        uid = obj["metadata"]["uid"]
        if ref.get("uid") and ref["uid"] != uid:
            raise errors.ApiError(409, "Conflict", f'Operation cannot be fulfilled on {kind} "{name}": the UID in the '
                                  f'bound object reference ({ref["uid"]}) does not match the UID in record. The '
                                  "object might have been deleted and then recreated",
                                  {"name": name, "kind": kind})
        if kind == "Pod" and ((obj.get("spec") or {}).get("serviceAccountName") or "default") != account:
            raise errors.bad_request(f'cannot bind token for serviceaccount "{account}" to pod running with different '
                                     "serviceaccount name.")
        return {"kind": kind, "name": name, "uid": uid}
