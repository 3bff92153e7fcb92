"""Kubernetes' token controller: a Secret of type ``kubernetes.io/service-account-token`` annotated with
``kubernetes.io/service-account.name`` gets ``data.token``, ``data.ca.crt`` and ``data.namespace`` (and the
``kubernetes.io/service-account.uid`` annotation); the token authenticates as that ServiceAccount, under RBAC,
while the Secret holds it (``authn.py``).

This is how a deployment hands a long-lived, least-privilege identity to a program outside the cluster (the
docker-compose bootstrap does it for Airflow, Argo's install manifests for its server). As on a real cluster, the
ServiceAccount must exist; a Secret applied before its account gets its token when the account comes.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .base import ApiClient, Controller, Key

TOKEN_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 - a Secret type, not a password
SA_NAME = "kubernetes.io/service-account.name"
SA_UID = "kubernetes.io/service-account.uid"


class LegacyTokenSigner(Protocol):
    def legacy(self, namespace: str, account: str, account_uid: str, secret: str) -> str: ...


class ServiceAccountTokenController(Controller):
    api_version = "v1"
    kind = "Secret"
    watches = (("v1", "ServiceAccount"),)

    def __init__(self, api: ApiClient, signer: LegacyTokenSigner, ca_cert: Callable[[], str | None]) -> None:
        super().__init__(api)
        self.signer = signer
        self.ca_cert = ca_cert

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        if event_type != "ADDED":
            return ()
        meta = obj["metadata"]
        return [Key.of(secret) for secret in self.api.list("v1", "Secret", meta["namespace"])
                if _account_of(secret) == meta["name"]]

    async def reconcile(self, key: Key) -> float | None:
        secret = self.api.get("v1", "Secret", key.namespace, key.name)
        account_name = _account_of(secret) if secret is not None else None
        if secret is None or not account_name or "token" in (secret.get("data") or {}):
            return None
        account = self.api.get("v1", "ServiceAccount", key.namespace, account_name)
        if account is None:
            return None  # the real controller leaves (and eventually deletes) a Secret for a missing account
        uid = account["metadata"]["uid"]
        token = self.signer.legacy(key.namespace, account_name, uid, key.name)
        data: dict[str, Any] = {"token": _b64(token), "namespace": _b64(key.namespace)}
        ca = self.ca_cert()
        if ca is not None:
            data["ca.crt"] = _b64(ca)
        secret["data"] = {**(secret.get("data") or {}), **data}
        secret["metadata"]["annotations"] = {**secret["metadata"]["annotations"], SA_UID: uid}
        self.api.replace(secret)  # a conflict (changed meanwhile) comes back through the queue
        return None


def _account_of(secret: dict) -> str | None:
    if secret.get("type") != TOKEN_TYPE:
        return None
    return (secret["metadata"].get("annotations") or {}).get(SA_NAME)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
