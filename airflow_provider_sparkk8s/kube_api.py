"""Raw JSON access to the Kubernetes API through a kubernetes_asyncio ``ApiClient`` (so authentication and TLS
come from the connection), the resources the provider touches, and retries that honour Retry-After."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncGenerator, Callable, Hashable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

RETRYABLE = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    def path(self, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name:
            base += f"/{quote(name, safe='')}"
        if sub:
            base += f"/{sub}"
        return base


PODS = Resource("", "v1", "pods", "Pod")
EVENTS = Resource("", "v1", "events", "Event")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
SPARK_APPLICATIONS = Resource("sparkoperator.k8s.io", "v1beta2", "sparkapplications", "SparkApplication")
EVENT_SOURCES = Resource("argoproj.io", "v1alpha1", "eventsources", "EventSource")


class KubeApiError(Exception):
    """A failed API call, with what the server said."""

    def __init__(self, status: int, body: Any, retry_after: float | None = None, method: str = "",
                 path: str = "") -> None:
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.reason = self.body.get("reason") or _phrase(status)  # the Argo Server's errors carry no reason
        self.message = self.body.get("message") or (body if isinstance(body, str) else "")
        self.retry_after = retry_after
        super().__init__(f"{method} {path}: HTTP {status} {self.reason}: {self.message}".strip())

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE


class Backoff:
    """Exponential backoff with full jitter; a server's Retry-After is a floor, not a suggestion."""

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self.base, self.cap, self.attempt = base, cap, 0

    def next(self, retry_after: float | None = None) -> float:
        delay = random.uniform(0, min(self.cap, self.base * 2 ** self.attempt))
        self.attempt += 1
        return max(delay, retry_after or 0.0)

    def reset(self) -> None:
        self.attempt = 0


def _phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class KubeAPI:
    """Raw JSON access to any resource path through a kubernetes_asyncio ApiClient."""

    #: Names the cluster and credentials; waits through an API with a share key share the process-wide watches.
    share_key: Hashable | None = None
    #: Opens a fresh client from the connection (credentials read again): a wait's reconnect after a 401.
    reopen: Callable[[], AbstractAsyncContextManager[KubeAPI]] | None = None

    def __init__(self, api_client: Any) -> None:
        self.client = api_client
        self._renewed: AsyncExitStack | None = None

    async def _client(self) -> Any:
        return self.client

    async def _call(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None,
                    content_type: str | None = None, timeout: Any = None) -> Any:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        for renew in (self.reopen is not None, False):
            client = await self._client()
            resp = await client.call_api(path, method, query_params=params, header_params=headers, body=body,
                                         auth_settings=["BearerToken"], _preload_content=False,
                                         _request_timeout=timeout)
            if resp.status != 401 or not renew:
                return resp
            resp.release()
            await self._renew()
        raise AssertionError("unreachable")

    async def _renew(self) -> None:
        """After a 401 (an expired token): a fresh client, with the credentials read again, for this and every
        later call; it is closed with this API (`aclose`)."""
        assert self.reopen is not None
        if self._renewed is None:
            self._renewed = AsyncExitStack()
        self.client = (await self._renewed.enter_async_context(self.reopen())).client

    async def aclose(self) -> None:
        if self._renewed is not None:
            await self._renewed.aclose()

    async def request(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None,
                      content_type: str | None = None, timeout: float | None = 60) -> Any:
        resp = await self._call(method, path, query, body, content_type, timeout)
        try:
            raw = await resp.read()
        finally:
            resp.release()
        try:
            data: Any = json.loads(raw) if raw else {}
        except ValueError:
            data = raw.decode(errors="replace")
        if resp.status >= 400:
            raise KubeApiError(resp.status, data, _retry_after(resp.headers), method, path)
        return data

    async def text(self, path: str, query: dict[str, Any] | None = None, timeout: float | None = 60) -> str:
        resp = await self._call("GET", path, query, timeout=timeout)
        try:
            raw = await resp.read()
        finally:
            resp.release()
        if resp.status >= 400:
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            raise KubeApiError(resp.status, body, _retry_after(resp.headers), "GET", path)
        return raw.decode(errors="replace")

    async def lines(self, path: str, query: dict[str, Any] | None = None, read_timeout: float | None = None
                    ) -> AsyncGenerator[bytes, None]:
        """Stream a response line by line (watches, followed logs). `read_timeout` bounds the silence between
        chunks, so a half-open connection is noticed instead of hanging forever."""
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=read_timeout)
        resp = await self._call("GET", path, query, timeout=timeout)
        try:
            if resp.status >= 400:
                raw = await resp.read()
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                raise KubeApiError(resp.status, body, _retry_after(resp.headers), "GET", path)
            while True:
                line = await resp.content.readline()
                if not line:
                    return
                yield line
        finally:
            resp.close()


class SharedKubeAPI(KubeAPI):
    """A KubeAPI for the triggerer: it opens a client (through `opener`) only when a direct call needs one, so
    a thousand waiting triggers hold no connections of their own; their waits go through the shared watches of
    the cluster named by `share_key`, which open their own clients with `opener`."""

    def __init__(self, opener: Callable[[], AbstractAsyncContextManager[KubeAPI]], share_key: Hashable) -> None:
        super().__init__(None)
        self.opener = opener
        self.share_key = share_key
        self._stack = AsyncExitStack()
        self._opening = asyncio.Lock()

    async def _client(self) -> Any:
        async with self._opening:
            if self.client is None:
                self.client = (await self._stack.enter_async_context(self.opener())).client
        return self.client

    async def __aenter__(self) -> SharedKubeAPI:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        self.client = None


def is_connection_error(exc: Exception) -> bool:
    import aiohttp

    return isinstance(exc, aiohttp.ClientError)


def is_certificate_error(exc: BaseException) -> bool:
    """The server's certificate was not trusted: retrying cannot help (a CA bundle or the connection is wrong)."""
    import ssl

    import aiohttp

    return isinstance(exc, ssl.SSLCertVerificationError | aiohttp.ClientConnectorCertificateError)


async def _pause(delay: float, exc: Exception, on_error: Callable[[Exception, float], None] | None) -> None:
    if on_error is not None:
        on_error(exc, delay)
    else:
        log.warning("Kubernetes API call failed (%s); retrying in %.1fs", exc, delay)
    await asyncio.sleep(delay)


async def call_with_retries(fn: Callable[[], Any], attempts: int = 6) -> Any:
    """Run one API call, retrying what is retryable (429 honouring Retry-After, 5xx, connection errors)."""
    backoff = Backoff()
    for attempt in range(attempts):
        try:
            return await fn()
        except KubeApiError as exc:
            if not exc.retryable or attempt == attempts - 1:
                raise
            await _pause(backoff.next(exc.retry_after), exc, None)
        except (OSError, asyncio.TimeoutError) as exc:
            if is_certificate_error(exc) or attempt == attempts - 1:
                raise
            await _pause(backoff.next(), exc, None)
        except Exception as exc:
            if not is_connection_error(exc) or is_certificate_error(exc) or attempt == attempts - 1:
                raise
            await _pause(backoff.next(), exc, None)
    raise AssertionError("unreachable")
