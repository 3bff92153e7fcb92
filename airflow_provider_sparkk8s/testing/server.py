"""The emulator's HTTP front: Kubernetes REST paths, discovery, watches, logs, auth, faults, accounting."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import yaml
from aiohttp import web

from . import custom_resources, discovery, errors, representations, scale, stored_json
from .authn import UserInfo, impersonated_user
from .faults import Fault, RequestInfo, RequestRecord, cut_response, stall_watch
from .graceful_deletion import parse_grace_period
from .openapi import openapi_v3_group_version, openapi_v3_index
from .patching import json_patch, merge_patch, strategic_merge_patch
from .pod_streams import STREAM_SUBRESOURCES, serve_stream
from .resources import ResourceType
from .stream_channels import is_websocket

if TYPE_CHECKING:
    from .emulator import KubeEmulator

PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply",
}
# Subresources served for some methods only (status takes them all).
SUBRESOURCE_METHODS = {"log": ("GET",), "binding": ("POST",), **dict.fromkeys(STREAM_SUBRESOURCES, ("GET", "POST"))}
ADMIN_PREFIX = "/_emulator"
REVIEW_GROUPS = ("authorization.k8s.io", "authentication.k8s.io")
# What the API server warns when a batch/v1 Job is deleted without a propagationPolicy (its pods are orphaned).
JOB_PODS_KEPT = ("child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to "
                 "remove them or set propagationPolicy=Orphan to suppress this warning")
INFO = web.RequestKey("info", RequestInfo)
FAULTS = web.RequestKey("faults", list)
USER = web.RequestKey("user", str)
IDENTITY = web.RequestKey("identity", UserInfo)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        content_type="application/json", headers=headers)


def _error(exc: errors.ApiError) -> web.Response:
    return _json(exc.status(), exc.code, exc.headers)


def _warned(response: web.Response, warnings: list[str]) -> web.Response:
    """Add `Warning: 299 - "..."` headers, which kubectl prints as `Warning: ...`."""
    for text in warnings:
        response.headers.add("Warning", '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return response


def _field_manager(request: web.Request) -> str:
    """The `fieldManager` parameter, else the program name the User-Agent starts with (as the API server does)."""
    return request.query.get("fieldManager") or request.headers.get("User-Agent", "").split("/")[0][:128]


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class Server:
    def __init__(self, emulator: KubeEmulator) -> None:
        self.emu = emulator
        self.store = emulator.store
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)

    # ------------------------------------------------------------------ middleware: auth, faults, accounting
    def _classify(self, request: web.Request) -> RequestInfo:
        path = request.path
        info = RequestInfo(request.method, path, request.query_string)
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        if parts[:2] == ["api", "v1"]:
            group, rest = "", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, rest = parts[1], parts[3:]
        else:
            return info
        if not rest:
            return info
        watch = rest[0] == "watch"
        if watch:
            rest = rest[1:]
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
            info.namespace, rest = rest[1], rest[2:]
        if not rest:
            return info
        info.group = group
        info.resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
        info.name = rest[1] if len(rest) > 1 else ""
        if rest[0] == "namespaces" and len(rest) > 1 and not info.namespace:
            info.namespace = rest[1]
        m = request.method
        watch = watch or _truthy(request.query.get("watch"))
        if m == "GET":
            info.verb = "watch" if watch else ("get" if info.name else "list")
        elif m == "POST":
            info.verb = "create"
        elif m == "PUT":
            info.verb = "update"
        elif m == "PATCH":
            info.verb = "patch"
        elif m == "DELETE":
            info.verb = "delete" if info.name else "deletecollection"
        return info

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.monotonic()
        info = self._classify(request)
        request[INFO] = info
        # Recorded when it arrives (status 0 until it ends), so open watches and log follows count at once.
        record = RequestRecord(request.method, request.path, request.query_string, 0, time.time(), 0.0, info.verb,
                               info.resource, info.namespace, info.name)
        if not request.path.startswith(ADMIN_PREFIX):
            self.emu.requests.add(record)
        try:
            response = await self._guarded(request, handler, info)
            record.status = response.status
            return response
        except errors.ApiError as exc:
            record.status = exc.code
            return _error(exc)
        finally:
            record.duration = time.monotonic() - started
            record.user = request.get(USER, "")

    async def _guarded(self, request: web.Request, handler: Any, info: RequestInfo) -> web.StreamResponse:
        if request.path not in ("/healthz", "/livez", "/readyz"):
            self._authenticate(request)
            self.emu.rbac.check_request(request[IDENTITY], info, request.query,
                                        request.headers.get("Content-Type", ""), is_websocket(request))
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        faults = self.emu.faults.take(info)
        request[FAULTS] = faults
        for fault in faults:
            if fault.latency:
                await asyncio.sleep(fault.latency)
        for fault in faults:
            if fault.reset:
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError("injected connection reset")
            if fault.status:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(int(fault.retry_after))
                return _json(fault.status_body(), fault.status, headers)
        response = await handler(request)
        cut_response(request, faults)
        return response

    def _authenticate(self, request: web.Request) -> None:
        """Who the request is (authn.py), then whom it acts as when it impersonates (403 unless allowed)."""
        user = self.emu.authenticator.authenticate_header(request.headers.get("Authorization", ""))
        if self.emu.rbac.check_impersonation(user, request.headers):
            user = impersonated_user(request.headers)
        request[IDENTITY] = user
        request[USER] = user.name

    # ------------------------------------------------------------------ routing
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path.startswith(ADMIN_PREFIX):
            return await self._admin(request, path[len(ADMIN_PREFIX):])
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if path == "/version":
            return _json({"major": "1", "minor": "32", "gitVersion": "v1.32.0-sparkk8s-emulator",
                          "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                          "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"})
        if path in ("/api", "/apis"):
            return self._discovery(request, path == "/api")
        # kubectl only accepts /openapi/v2 as protobuf; without it, it uses v3, which is served.
        if path == "/openapi/v3":
            return _json(openapi_v3_index(self.store.registry))
        if path.startswith("/openapi/v3/"):
            doc = openapi_v3_group_version(self.store.registry, path[len("/openapi/v3/"):])
            if doc is None:
                raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
            return _json(doc)
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) >= 2:
            group = parts[1]
            versions = self.store.registry.groups().get(group)
            if not versions:
                raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
            if len(parts) == 2:
                return _json({"kind": "APIGroup", "apiVersion": "v1", **discovery.api_group(group, versions)})
            version, rest = parts[2], parts[3:]
            if version not in versions:
                raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        else:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            return _json(discovery.resource_list(self.store.registry, group, version))
        return await self._resource(request, group, version, rest)

    def _discovery(self, request: web.Request, core: bool) -> web.Response:
        """/api or /apis: aggregated when the Accept header asks for it (with an ETag: 304 when unchanged)."""
        version = discovery.negotiate(request.headers.get("Accept", ""))
        registry = self.store.registry
        if version is not None:
            document = discovery.aggregated(registry, version, core)
        elif core:
            document = discovery.api_versions(f"127.0.0.1:{self.emu.port}")
        else:
            document = discovery.group_list(registry)
        found = discovery.answer(document, version)
        headers = {"Vary": "Accept", **({"ETag": found.etag} if found.etag else {})}
        if found.etag and request.headers.get("If-None-Match") == found.etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=found.body, headers={"Content-Type": found.content_type, **headers})

    async def _resource(self, request: web.Request, group: str, version: str, rest: list[str]) -> web.StreamResponse:
        watch_path = rest[0] == "watch"
        if watch_path:
            rest = rest[1:]
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        plural = rest[0] if rest else ""
        rt = self.store.registry.get(group, version, plural)
        if rt is None or (namespace is not None and not rt.namespaced):
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3 or (sub and sub not in rt.subresources):
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        if rt.namespaced and name and namespace is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        q = request.query
        dry_run = "All" in q.getall("dryRun", [])
        method = request.method
        if rt.group in REVIEW_GROUPS or sub == "token":
            return await self._review(request, rt, namespace, name, sub)
        if method not in SUBRESOURCE_METHODS.get(sub or "", (method,)):
            raise errors.method_not_allowed()
        if sub in STREAM_SUBRESOURCES:
            return await serve_stream(request, self.emu.containers, self.store.get(rt, namespace, name or ""), sub)
        if sub == "binding":
            self.store.bind(namespace or "", name or "", await self._body(request))
            return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
                         201)
        if sub == "scale":
            return await self._scale(request, rt, namespace or "", name or "", dry_run)
        if method == "GET" and sub == "log":
            return await self.emu.pod_logs.serve(request, namespace or "", name or "")
        # The representation is negotiated first: a request nothing can be served for is 406 before it reads or writes.
        wanted = representations.negotiate(request.headers.get("Accept", ""))

        def answer(obj: dict, status: int = 200) -> web.Response:
            """`obj` in the negotiated representation; it is a stored object (never changed again) or a fresh one."""
            if wanted == representations.AS_STORED:
                return web.Response(body=stored_json.stored(obj), status=status, content_type="application/json")
            return _json(representations.render_object(rt, obj, wanted, q.get("includeObject")), status)

        if method == "GET":
            if watch_path or _truthy(q.get("watch")):
                field_selector = q.get("fieldSelector")
                if name:
                    field_selector = ",".join(filter(None, [field_selector, f"metadata.name={name}"]))
                return await self._watch(request, rt, namespace, q.get("labelSelector"), field_selector, wanted)
            if name:
                return answer(self.store.get(rt, namespace, name, read_only=True))
            limit = int(q["limit"]) if q.get("limit") else None
            listed = self.store.list(rt, namespace, q.get("labelSelector"), q.get("fieldSelector"), limit,
                                     q.get("continue"), read_only=True)
            if wanted == representations.AS_STORED:
                return web.Response(body=stored_json.stored_list(listed), content_type="application/json")
            return _json(representations.render_list(rt, listed, wanted, q.get("includeObject")))
        if method == "POST":
            if name:
                raise errors.method_not_allowed()
            obj = await self._body(request)
            warnings = custom_resources.field_validation(self.store.registry, rt, obj, q.get("fieldValidation"))
            return _warned(answer(self.store.create(rt, namespace, obj, dry_run=dry_run, read_only=True,
                                                    field_manager=_field_manager(request)), 201), warnings)
        if method == "PUT":
            if not name:
                raise errors.method_not_allowed()
            obj = await self._body(request)
            warnings = custom_resources.field_validation(self.store.registry, rt, obj, q.get("fieldValidation"))
            return _warned(answer(self.store.replace(rt, namespace, name, obj, sub, dry_run=dry_run, read_only=True,
                                                     field_manager=_field_manager(request))), warnings)
        if method == "PATCH":
            if not name:
                raise errors.method_not_allowed()
            ctype = request.headers.get("Content-Type", "").split(";")[0].strip()
            patch_type = PATCH_TYPES.get(ctype)
            if patch_type is None:
                raise errors.unsupported_media_type(ctype)
            body = await self._body(request)
            warnings = [] if patch_type == "json" else custom_resources.field_validation(
                self.store.registry, rt, body, q.get("fieldValidation"))
            manager = q.get("fieldManager") if patch_type == "apply" else _field_manager(request)
            obj, created = self.store.patch(rt, namespace, name, patch_type, body, sub, manager,
                                            _truthy(q.get("force")), dry_run=dry_run, read_only=True)
            return _warned(answer(obj, 201 if created else 200), warnings)
        if method == "DELETE":
            opts = await self._body(request, optional=True) or {}
            # client-go (kubectl delete --dry-run=server) sends dryRun in the DeleteOptions body, not the query.
            dry_run = dry_run or "All" in (opts.get("dryRun") or [])
            propagation = q.get("propagationPolicy") or opts.get("propagationPolicy")
            if opts.get("orphanDependents") is True:
                propagation = "Orphan"
            if not name:
                return _json(self._delete_collection(rt, namespace, request, propagation, dry_run))
            grace = parse_grace_period(q.get("gracePeriodSeconds", opts.get("gracePeriodSeconds")))
            obj = self.store.delete(rt, namespace, name, propagation, dry_run=dry_run,
                                    preconditions=opts.get("preconditions"), grace_period_seconds=grace)
            warnings = [JOB_PODS_KEPT] if propagation is None and (rt.group, rt.plural) == ("batch", "jobs") else []
            if obj["metadata"].get("deletionTimestamp") or rt.plural == "pods":
                return _warned(answer(obj), warnings)
            status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": {"name": name, **({"group": rt.group} if rt.group else {}), "kind": rt.plural,
                                  "uid": obj["metadata"]["uid"]}}
            return _warned(_json(status), warnings)
        raise errors.method_not_allowed()

    async def _review(self, request: web.Request, rt: ResourceType, namespace: str | None, name: str | None,
                      sub: str | None) -> web.Response:
        """The create-only review and token endpoints: answered, never stored (reviews.py)."""
        if request.method != "POST" or (name and sub != "token"):
            raise errors.method_not_allowed()
        body = await self._body(request)
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be an object")
        answer = self.emu.reviews.answer(rt, namespace or "", name or "", body, request[IDENTITY])
        return _json(answer, 201)

    async def _scale(self, request: web.Request, rt: ResourceType, namespace: str, name: str,
                     dry_run: bool) -> web.Response:
        """The autoscaling/v1 Scale subresource: a view of the replicas (written) and status (read)."""
        paths = scale.scale_paths(self.store.registry, rt)
        if paths is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        current = scale.to_scale(self.store.get(rt, namespace, name), paths)
        if request.method == "GET":
            return _json(current)
        body = await self._body(request)
        if request.method == "PUT":
            wanted = body
        elif request.method == "PATCH":
            ctype = request.headers.get("Content-Type", "").split(";")[0].strip()
            patch_type = PATCH_TYPES.get(ctype)
            if patch_type is None:
                raise errors.unsupported_media_type(ctype)
            wanted = {"json": json_patch, "merge": merge_patch}.get(patch_type, strategic_merge_patch)(current, body)
        else:
            raise errors.method_not_allowed()
        if not isinstance(wanted, dict):
            raise errors.bad_request("the body of the request must be a Scale object")
        replicas = (wanted.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid("Scale", name, [("spec.replicas", "FieldValueInvalid", replicas,
                                                  "must be greater than or equal to 0")], "autoscaling")
        patch = scale.replicas_patch(paths, replicas)
        if (wanted.get("metadata") or {}).get("resourceVersion"):  # a write of a stale Scale gets 409
            patch["metadata"] = {"resourceVersion": wanted["metadata"]["resourceVersion"]}
        obj, _ = self.store.patch(rt, namespace, name, "merge", patch, dry_run=dry_run)
        return _json(scale.to_scale(obj, paths))

    def _delete_collection(self, rt: ResourceType, namespace: str | None, request: web.Request,
                           propagation: str | None, dry_run: bool) -> dict:
        listed = self.store.list(rt, namespace, request.query.get("labelSelector"),
                                 request.query.get("fieldSelector"))
        for item in listed["items"]:
            try:
                self.store.delete(rt, item["metadata"].get("namespace"), item["metadata"]["name"], propagation,
                                  dry_run=dry_run)
            except errors.ApiError as exc:
                if exc.code != 404:
                    raise
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}

    async def _body(self, request: web.Request, optional: bool = False) -> Any:
        raw = await request.read()
        if not raw.strip():
            if optional:
                return None
            raise errors.bad_request("the body of the request was empty")
        if request.headers.get("Content-Type", "").startswith("application/vnd.kubernetes.protobuf"):
            from .protobuf import decode

            return decode(raw)
        try:
            if raw.lstrip()[:1] in (b"{", b"["):
                return json.loads(raw)
            return yaml.load(raw, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from exc

    # ------------------------------------------------------------------ watch
    async def _watch(self, request: web.Request, rt: ResourceType, namespace: str | None,
                     label_selector: str | None, field_selector: str | None,
                     wanted: representations.Representation) -> web.StreamResponse:
        q = request.query
        faults: list[Fault] = request.get(FAULTS, [])
        timeout = float(q["timeoutSeconds"]) if q.get("timeoutSeconds") else self.emu.watch_timeout
        bookmarks = _truthy(q.get("allowWatchBookmarks"))
        gone = any(f.gone for f in faults)
        drop_events = min((f.drop_watch_after_events for f in faults if f.drop_watch_after_events is not None),
                          default=None)
        drop_seconds = min((f.drop_watch_after_seconds for f in faults if f.drop_watch_after_seconds is not None),
                           default=None)
        loop = asyncio.get_running_loop()
        websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        watcher = None
        try:
            if not gone:
                watcher = self.store.watch(rt, namespace, label_selector, field_selector,
                                           q.get("resourceVersion"), loop)
        except errors.ApiError as exc:
            if exc.code != 410:
                raise
            gone = True
            gone_status = exc.status()
        else:
            gone_status = errors.expired(q.get("resourceVersion") or "0", self.store.resource_version).status()

        if websocket:
            ws = web.WebSocketResponse(protocols=("v4.channel.k8s.io", "channel.k8s.io"))
            await ws.prepare(request)

            async def send(line: bytes) -> None:
                await ws.send_str(line.decode())

            resp: web.StreamResponse = ws
        else:
            resp = web.StreamResponse(headers={"Content-Type": "application/json", "Cache-Control": "no-cache"})
            resp.enable_chunked_encoding()
            await resp.prepare(request)

            async def send(line: bytes) -> None:
                await resp.write(line + b"\n")

        try:
            if gone:
                await send(stored_json.dumps({"type": "ERROR", "object": gone_status}))
                return resp
            if await stall_watch(request, faults):
                return resp
            assert watcher is not None
            deadline = loop.time() + timeout
            if drop_seconds is not None:
                deadline = min(deadline, loop.time() + drop_seconds)
            sent = 0
            bookmark_at = loop.time() + self.emu.bookmark_interval
            while True:
                now = loop.time()
                if now >= deadline:
                    break
                wait = deadline - now
                if bookmarks:
                    wait = min(wait, max(0.0, bookmark_at - now))
                try:
                    event = await asyncio.wait_for(watcher.queue.get(), timeout=wait)
                except asyncio.TimeoutError:
                    if bookmarks and loop.time() >= bookmark_at:
                        rv = self.store.resource_version
                        await asyncio.sleep(0)  # let already-scheduled events reach the queue first
                        if watcher.queue.empty():
                            bookmark = {"type": "BOOKMARK", "object": {
                                "kind": rt.kind, "apiVersion": rt.api_version,
                                "metadata": {"resourceVersion": str(rv), "annotations": {}}}}
                            await send(stored_json.dumps(self._watch_event(rt, bookmark, wanted, None, False)))
                        bookmark_at = loop.time() + self.emu.bookmark_interval
                    continue
                if event is None:
                    break
                if wanted == representations.AS_STORED and event.type != "ERROR":
                    await send(stored_json.stored_event(event.type, event.object))
                else:
                    await send(stored_json.dumps(self._watch_event(rt, event.wire(), wanted, q.get("includeObject"),
                                                                   sent == 0)))
                sent += 1
                if drop_events is not None and sent >= drop_events:
                    if request.transport is not None:
                        request.transport.abort()  # an abrupt drop, not a clean end of stream
                    break
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if watcher is not None:
                self.store.stop_watch(watcher)
        if websocket:
            await ws.close()
        return resp

    @staticmethod
    def _watch_event(rt: ResourceType, event: dict, wanted: representations.Representation,
                     include_object: str | None, first: bool) -> dict:
        """An event with its object in the negotiated representation (a Table's columns in the first event only).

        An object the representation does not fit (one asked for as a list kind) is sent as it is, as the API
        server does when a watch event's transformation fails.
        """
        if event["type"] == "ERROR" or (event["type"] == "BOOKMARK" and wanted.kind == "Table"):
            return event  # a Status is never transformed; a bookmark has no row (Table watches ask for none)
        try:
            obj = representations.render_object(rt, event["object"], wanted, include_object, headers=first)
        except errors.ApiError:
            return event
        return {**event, "object": obj}

    # ------------------------------------------------------------------ admin endpoint
    async def _admin(self, request: web.Request, path: str) -> web.Response:
        method = request.method
        if path == "/requests" and method == "GET":
            return _json([asdict(r) for r in self.emu.requests.snapshot()])
        if path == "/requests" and method == "DELETE":
            self.emu.requests.clear()
            return _json({"status": "Success"})
        if path == "/counters" and method == "GET":
            return _json({"counters": self.emu.requests.counters(), "total": len(self.emu.requests.snapshot()),
                          "watches": self.store.watcher_count, "resourceVersion": self.store.resource_version})
        if path == "/faults" and method == "GET":
            return _json(self.emu.faults.list())
        if path == "/faults" and method == "POST":
            spec = await self._body(request)
            try:
                fault = self.emu.faults.add(Fault(**spec))
            except TypeError as exc:
                raise errors.bad_request(f"bad fault: {exc}") from exc
            return _json(asdict(fault), 201)
        if path == "/faults" and method == "DELETE":
            self.emu.faults.clear()
            return _json({"status": "Success"})
        if path.startswith("/faults/") and method == "DELETE":
            self.emu.faults.remove(int(path.rsplit("/", 1)[1]))
            return _json({"status": "Success"})
        if path == "/compact" and method == "POST":
            self.store.compact()
            return _json({"status": "Success", "resourceVersion": self.store.resource_version})
        if path == "/pod-behaviours" and method == "POST":
            spec = await self._body(request)
            self.emu.pods.behave(**spec)
            return _json({"status": "Success"}, 201)
        raise errors.ApiError(404, "NotFound", f"unknown admin path {path}")

