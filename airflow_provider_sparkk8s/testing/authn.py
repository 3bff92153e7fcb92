"""Who a request is: bearer tokens, service-account tokens the emulator signs, and impersonation.

- The static tokens (``KubeEmulator(token=..., tokens=...)``) map to user names; ``admin`` is in the group
  ``system:masters`` (RBAC does not apply to it), any other name is judged by RBAC.
- Service-account tokens are JWTs the emulator signs (HS256 with a key of its own): legacy ones from the token
  controller (valid while their Secret holds them) and bound ones from TokenRequest (valid until ``exp``, while
  their ServiceAccount and bound object exist with the same uid, for the API server's audience).
- Whether credentials are required is fixed when the emulator is built: with no static token, a request without
  credentials acts as ``admin``; a token that is presented but not valid gets 401 either way. Creating objects
  (token Secrets, TokenRequests) never changes it.
- Impersonation headers (``Impersonate-User``, ``-Group``, ``-Uid``, ``-Extra-*``) need the ``impersonate`` verb
  on users, serviceaccounts, groups, userextras and uids, as pkg/endpoints/filters/impersonation.go checks them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import errors

if TYPE_CHECKING:
    from .store import Store

ADMIN = "admin"
MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
LEGACY_ISSUER = "kubernetes/serviceaccount"
CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
EXTRA_HEADER = "impersonate-extra-"


@dataclass(frozen=True)
class UserInfo:
    """user.Info: name, uid, groups and extra, as the authenticators hand it to the authorizer."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """authentication.k8s.io/v1 UserInfo."""
        return {"username": self.name, **({"uid": self.uid} if self.uid else {}), "groups": list(self.groups),
                **({"extra": {k: list(v) for k, v in self.extra.items()}} if self.extra else {})}


def service_account_user(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def service_account_groups(namespace: str) -> tuple[str, ...]:
    return ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")


ADMIN_USER = UserInfo(ADMIN, "", (MASTERS, AUTHENTICATED))


def user_for(name: str, uid: str = "") -> UserInfo:
    """The identity of a user name from a static token: admin is a cluster admin, service accounts get their
    groups, and everyone is authenticated."""
    if name == ADMIN:
        return ADMIN_USER if not uid else UserInfo(ADMIN, uid, ADMIN_USER.groups)
    if name.startswith(SERVICE_ACCOUNT_PREFIX):
        namespace = name[len(SERVICE_ACCOUNT_PREFIX):].partition(":")[0]
        return UserInfo(name, uid, (*service_account_groups(namespace), AUTHENTICATED))
    return UserInfo(name, uid, (AUTHENTICATED,))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Signs and verifies the emulator's service-account JWTs."""

    def __init__(self, key: bytes | None = None, clock: Callable[[], float] = time.time) -> None:
        self._key = key or secrets.token_bytes(32)
        self._kid = hashlib.sha256(self._key).hexdigest()[:16]
        self.clock = clock

    def sign(self, claims: dict) -> str:
        header = _b64(json.dumps({"alg": "HS256", "kid": self._kid}, separators=(",", ":")).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def verify(self, token: str) -> dict | None:
        """The claims of a token this issuer signed that is in its validity window, else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            expected = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return None
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, TypeError):
            return None
        now = self.clock()
        if not isinstance(claims, dict) or ("exp" in claims and now >= claims["exp"]) or \
                ("nbf" in claims and now < claims["nbf"] - 60):
            return None
        return claims

    def legacy(self, namespace: str, account: str, account_uid: str, secret: str) -> str:
        """A token for a kubernetes.io/service-account-token Secret (no expiry, valid while the Secret has it)."""
        prefix = "kubernetes.io/serviceaccount/"
        return self.sign({"iss": LEGACY_ISSUER, f"{prefix}namespace": namespace, f"{prefix}secret.name": secret,
                          f"{prefix}service-account.name": account, f"{prefix}service-account.uid": account_uid,
                          "sub": service_account_user(namespace, account)})

    def bound(self, namespace: str, account: str, account_uid: str, audiences: list[str], seconds: int,
              bound_to: dict | None = None, warn_after: int | None = None) -> tuple[str, int]:
        """A TokenRequest token and its expiry (epoch seconds); ``warn_after`` (seconds) adds the claim of an
        extended token: the API server warns about its use after that."""
        now = int(self.clock())
        exp = now + seconds
        private: dict[str, Any] = {"namespace": namespace, "serviceaccount": {"name": account, "uid": account_uid}}
        if bound_to:
            private[bound_to["kind"].lower()] = {"name": bound_to["name"], "uid": bound_to["uid"]}
        if warn_after is not None:
            private["warnafter"] = now + warn_after
        claims = {"aud": audiences, "exp": exp, "iat": now, "iss": API_AUDIENCE, "jti": str(uuid.uuid4()),
                  "kubernetes.io": private, "nbf": now, "sub": service_account_user(namespace, account)}
        return self.sign(claims), exp


class Authenticator:
    """Bearer tokens to identities, over the static token map and the objects in the store."""

    def __init__(self, store: Store, static_tokens: dict[str, str], issuer: TokenIssuer,
                 anonymous_is_admin: bool) -> None:
        self.store = store
        self.static_tokens = static_tokens  # shared with the emulator: rotate_token edits it in place
        self.issuer = issuer
        self.anonymous_is_admin = anonymous_is_admin

    def authenticate_header(self, header: str) -> UserInfo:
        """The identity behind an Authorization header value; 401 when credentials are required or invalid."""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            user = self.authenticate(token)
            if user is not None:
                return user
            raise errors.unauthorized()
        if self.anonymous_is_admin:
            return user_for(ADMIN)
        raise errors.unauthorized()

    def authenticate(self, token: str, audiences: list[str] | None = None) -> UserInfo | None:
        user, _ = self.review(token, audiences)
        return user

    def review(self, token: str, audiences: list[str] | None = None) -> tuple[UserInfo | None, list[str]]:
        """(identity, the audiences it is valid for) of a token; (None, []) when it is not valid."""
        wanted = audiences or [API_AUDIENCE]
        for known, name in list(self.static_tokens.items()):
            if hmac.compare_digest(token, known):
                return user_for(name), wanted
        claims = self.issuer.verify(token)
        if claims is None:
            return None, []
        if claims.get("iss") == LEGACY_ISSUER:
            return self._legacy_user(token, claims), wanted
        granted = [a for a in claims.get("aud") or [] if a in wanted]
        if not granted:
            return None, []
        return self._bound_user(claims), granted

    def _get(self, plural: str, namespace: str, name: str) -> dict | None:
        return self.store.try_get(self.store.registry.core(plural), namespace, name)

    def _account(self, namespace: str, name: str, uid: str) -> dict | None:
        account = self._get("serviceaccounts", namespace, name)
        return account if account is not None and (not uid or account["metadata"]["uid"] == uid) else None

    def _legacy_user(self, token: str, claims: dict) -> UserInfo | None:
        prefix = "kubernetes.io/serviceaccount/"
        namespace, name = claims.get(f"{prefix}namespace", ""), claims.get(f"{prefix}service-account.name", "")
        secret = self._get("secrets", namespace, claims.get(f"{prefix}secret.name", ""))
        stored = ((secret or {}).get("data") or {}).get("token", "")
        if not stored or base64.b64decode(stored).decode() != token:
            return None  # the Secret was deleted or now holds another token
        account = self._account(namespace, name, claims.get(f"{prefix}service-account.uid", ""))
        if account is None:
            return None
        return UserInfo(service_account_user(namespace, name), account["metadata"]["uid"],
                        (*service_account_groups(namespace), AUTHENTICATED))

    def _bound_user(self, claims: dict) -> UserInfo | None:
        private = claims.get("kubernetes.io") or {}
        namespace = private.get("namespace", "")
        sa = private.get("serviceaccount") or {}
        if self._account(namespace, sa.get("name", ""), sa.get("uid", "")) is None:
            return None
        extra: dict[str, tuple[str, ...]] = {CREDENTIAL_ID: (f"JTI={claims.get('jti', '')}",)}
        for kind, plural in (("pod", "pods"), ("secret", "secrets")):
            ref = private.get(kind)
            if ref is None:
                continue
            obj = self._get(plural, namespace, ref.get("name", ""))
            if obj is None or obj["metadata"]["uid"] != ref.get("uid") or obj["metadata"].get("deletionTimestamp"):
                return None  # the object the token was bound to is gone, or going
            if kind == "pod":
                extra |= {"authentication.kubernetes.io/pod-name": (ref["name"],),
                          "authentication.kubernetes.io/pod-uid": (ref["uid"],)}
        return UserInfo(service_account_user(namespace, sa.get("name", "")), sa.get("uid", ""),
                        (*service_account_groups(namespace), AUTHENTICATED), extra)


@dataclass(frozen=True)
class ImpersonationRequest:
    """One thing to impersonate and the authorization it needs (resource, namespace, name, subresource)."""

    resource: str
    name: str
    namespace: str = ""
    group: str = ""
    subresource: str = ""


def impersonation_requests(headers: Mapping[str, str] | Any) -> list[ImpersonationRequest]:
    """The impersonation a request asks for, in the order the API server authorizes it (400 when it names
    groups, extra or a uid but no user)."""
    user = headers.get("Impersonate-User", "")
    groups = headers.getall("Impersonate-Group", []) if hasattr(headers, "getall") else []
    uid = headers.get("Impersonate-Uid", "")
    extras: list[tuple[str, str]] = []
    for key, value in headers.items():
        if key.lower().startswith(EXTRA_HEADER):
            extras.append((unquote(key[len(EXTRA_HEADER):].lower()), value))
    wanted: list[ImpersonationRequest] = []
    if user.startswith(SERVICE_ACCOUNT_PREFIX) and user.count(":") == 3:
        namespace, _, name = user[len(SERVICE_ACCOUNT_PREFIX):].partition(":")
        wanted.append(ImpersonationRequest("serviceaccounts", name, namespace))
    elif user:
        wanted.append(ImpersonationRequest("users", user))
    wanted += [ImpersonationRequest("groups", group) for group in groups]
    wanted += [ImpersonationRequest("userextras", value, group="authentication.k8s.io", subresource=key)
               for key, value in extras]
    if uid:
        wanted.append(ImpersonationRequest("uids", uid, group="authentication.k8s.io"))
    if not user and wanted:
        asked = " ".join(f"{{{w.resource} {w.name}}}" for w in wanted)
        raise errors.bad_request(f"requested [{asked}] without impersonating a user")
    return wanted


def impersonated_user(headers: Mapping[str, str] | Any) -> UserInfo:
    """The identity the impersonation headers name (after they were authorized)."""
    name = headers.get("Impersonate-User", "")
    groups = list(headers.getall("Impersonate-Group", []) if hasattr(headers, "getall") else [])
    if name.startswith(SERVICE_ACCOUNT_PREFIX) and name.count(":") == 3 and not groups:
        groups = list(service_account_groups(name[len(SERVICE_ACCOUNT_PREFIX):].partition(":")[0]))
    always = UNAUTHENTICATED if name == ANONYMOUS else AUTHENTICATED
    if always not in groups:
        groups.append(always)
    extra: dict[str, tuple[str, ...]] = {}
    for key, value in headers.items():
        if key.lower().startswith(EXTRA_HEADER):
            extra_key = unquote(key[len(EXTRA_HEADER):].lower())
            extra[extra_key] = (*extra.get(extra_key, ()), value)
    return UserInfo(name, headers.get("Impersonate-Uid", ""), tuple(groups), extra)
