"""Kubernetes' token controller, for the emulator: a Secret of type ``kubernetes.io/service-account-token``
annotated with ``kubernetes.io/service-account.name`` gets ``data.token``, ``data.ca.crt`` and
``data.namespace``, and the token authenticates as that ServiceAccount (so RBAC applies to it).

This is how a deployment hands a long-lived, least-privilege identity to a program outside the cluster (the
docker-compose bootstrap does it for Airflow). As on a real cluster, the ServiceAccount must exist.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from . import errors
from .resources import ResourceType

if TYPE_CHECKING:
    from .emulator import KubeEmulator

TOKEN_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 - a Secret type, not a password
SA_NAME = "kubernetes.io/service-account.name"


class ServiceAccountTokens:
    def __init__(self, emulator: KubeEmulator) -> None:
        self.emu = emulator
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.emu.store.add_listener(self._on_change)

    def _on_change(self, event_type: str, rt: ResourceType, obj: dict, old: dict | None) -> None:
        # Called with the store's lock held: hand the work to the loop.
        if self._loop is None or event_type != "ADDED" or rt.group != "":
            return
        meta = obj["metadata"]
        if rt.plural == "secrets" and obj.get("type") == TOKEN_TYPE:
            self._loop.call_soon_threadsafe(self._fill, meta["namespace"], meta["name"])
        elif rt.plural == "serviceaccounts":  # its token Secret may have been applied first
            self._loop.call_soon_threadsafe(self._fill_for_account, meta["namespace"], meta["name"])

    def _fill_for_account(self, namespace: str, account: str) -> None:
        for secret in self.emu.store.list(self.emu.store.rt("v1", "Secret"), namespace)["items"]:
            if secret.get("type") == TOKEN_TYPE and (secret["metadata"].get("annotations") or {}).get(
                    SA_NAME) == account and "token" not in (secret.get("data") or {}):
                self._fill(namespace, secret["metadata"]["name"])

    def _fill(self, namespace: str, name: str) -> None:
        store = self.emu.store
        secrets_rt = store.rt("v1", "Secret")
        secret = store.try_get(secrets_rt, namespace, name)
        if secret is None:
            return
        account = (secret["metadata"].get("annotations") or {}).get(SA_NAME)
        if not account or store.try_get(store.rt("v1", "ServiceAccount"), namespace, account) is None:
            return  # the real controller leaves (and eventually deletes) a Secret for a missing account
        token = self.emu.service_account_token(namespace, account)
        data: dict[str, Any] = {"token": _b64(token), "namespace": _b64(namespace)}
        if self.emu.ca_path is not None:
            data["ca.crt"] = _b64(self.emu.ca_path.read_text())
        secret["data"] = {**(secret.get("data") or {}), **data}
        try:
            store.replace(secrets_rt, namespace, name, secret)
        except errors.ApiError:  # changed or deleted meanwhile: nothing to hand out
            pass


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
