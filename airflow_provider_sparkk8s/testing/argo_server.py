"""An Argo Server (``argo server``) REST API emulation on the emulator's store: what Hera's
``WorkflowsService`` and other grpc-gateway clients of Argo Workflows v4 talk to.

It listens on its own port (``KubeEmulator.argo_server_url``), with the same TLS certificate and bearer tokens
as the Kubernetes API (``Authorization: Bearer <token>``, or an ``authorization`` cookie; a missing or unknown
token gives HTTP 401 ``{"code": 16, "message": "token not valid. see ..."}``). Errors are grpc-gateway's
``{"code": <gRPC code>, "message": "..."}`` with the HTTP status of the gRPC code. Requests are counted in the
emulator's request log (resources ``argo/workflows``, ``argo/workflows/submit``, ``argo/workflows/log``,
``argo/workflows/stop``, ``argo/workflowtemplates``, ...) and fault rules apply to them (a fault's status comes
back in the Argo error shape).

Endpoints (under ``/api/v1``):

- ``POST /workflows/{ns}/submit`` — ``{"resourceKind": "WorkflowTemplate" | "ClusterWorkflowTemplate" |
  "CronWorkflow" (or their short names), "resourceName", "submitOptions": {...}}``: builds the Workflow as Argo
  does (``generateName: <name>-``, the ``workflow-template`` / ``cluster-workflow-template`` label,
  ``workflowTemplateRef``), applies ``parameters`` (``["k=v"]``, placed first), ``labels`` / ``annotations``
  (``"a=b,c=d"``), ``entryPoint``, ``generateName``, ``name``, ``serviceAccount``, ``priority``,
  ``podPriorityClassName``, ``serverDryRun``, ``dryRun`` (option keys match case-insensitively, unknown ones are
  ignored, as Go's JSON decoder does) and validates before creating: a missing template is HTTP 404
  ``workflowtemplate.argoproj.io "<name>" not found``, a parameter with no value or outside its enum is 400,
  malformed ``parameters`` / ``labels`` strings are 500, an unknown kind is 400.
- ``POST /workflows/{ns}`` (``{"workflow": {...}, "serverDryRun": bool}``), ``GET /workflows/{ns}`` (list:
  ``listOptions.labelSelector``, ``listOptions.fieldSelector``, ``listOptions.limit``, ``listOptions.continue``,
  ``fields`` such as ``items.metadata.name,items.status.phase``), ``GET /workflows/{ns}/{name}`` (``fields``,
  e.g. ``metadata.name,status.phase``, or ``-status.nodes`` to leave out), ``DELETE /workflows/{ns}/{name}``.
- ``PUT /workflows/{ns}/{name}/stop`` and ``/terminate`` set ``spec.shutdown`` (``Stop`` / ``Terminate``);
  a completed workflow gives HTTP 500 ``cannot shutdown a completed workflow: workflow: "<n>", namespace:
  "<ns>"``. ``PUT .../resume`` marks running ``Suspend`` nodes ``Succeeded``.
- ``GET /workflow-events/{ns}`` — a watch: one ``{"result": {"type": "ADDED|MODIFIED|DELETED", "object":
  {...}}}`` line per change (``listOptions.fieldSelector=metadata.name=<wf>``, ``listOptions.labelSelector``,
  ``listOptions.resourceVersion``, ``fields`` with ``result.object.`` prefixes).
- ``GET /workflows/{ns}/{name}/log`` — the workflow's pod logs as ``{"result": {"content": "<line>",
  "podName": "<pod>"}}`` lines (``podName``, ``logOptions.container`` (default ``main``),
  ``logOptions.follow`` (until the workflow completes), ``logOptions.tailLines``, ``grep``). Like the real
  server the body is newline-delimited JSON, so a client must read it as a stream (Hera 7's ``workflow_logs``
  parses the body as one JSON document and only copes with a single line).
- ``GET /workflow-templates/{ns}``, ``GET|DELETE /workflow-templates/{ns}/{name}``, ``POST
  /workflow-templates/{ns}`` (``{"template": {...}}``) and the same under ``/cluster-workflow-templates``;
  ``GET /version``, ``GET /info``, ``GET /userinfo``.

Outside ``/api/v1``, ``GET /workflows/{ns}/{name}`` is the UI's page of a workflow (``argo_ui.py``: read-only
HTML; errors of UI paths are pages too).

Objects are written as the Go server marshals them: ``spec`` is always present, ``metadata.creationTimestamp``
and ``status.startedAt`` / ``status.finishedAt`` are ``null`` while unset.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from . import argo_ui, errors
from .controllers.argo_workflows import (
    API_VERSION,
    GROUP,
    LABEL_CLUSTER_TEMPLATE,
    LABEL_TEMPLATE,
    LABEL_WORKFLOW,
    VERSION,
    WORKFLOW_COMPLETED,
    ArgoError,
    merge_parameters,
    resolve_spec,
    validate_spec,
)
from .controllers.base import ApiClient
from .faults import Faults, RequestInfo, RequestLog, RequestRecord, cut_response, stall_watch
from .store import Store, now_rfc3339

if TYPE_CHECKING:
    from .authn import Authenticator
    from .pod_logs import PodLogs
    from .rbac import Authorizer
    from .resources import ResourceType

ARGO_VERSION = "v4.1.2"
UNAUTHENTICATED_MESSAGE = "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/"
# google.golang.org/grpc/codes and grpc-gateway's HTTPStatusFromCode.
GRPC_HTTP = {3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 12: 501, 13: 500, 14: 503, 16: 401}
HTTP_GRPC = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 410: 9, 422: 3, 429: 8, 501: 12, 503: 14, 504: 4}
KINDS = {
    "workflowtemplate": "WorkflowTemplate", "workflowtemplates": "WorkflowTemplate", "wftmpl": "WorkflowTemplate",
    "clusterworkflowtemplate": "ClusterWorkflowTemplate", "clusterworkflowtemplates": "ClusterWorkflowTemplate",
    "cwftmpl": "ClusterWorkflowTemplate",
    "cronworkflow": "CronWorkflow", "cronworkflows": "CronWorkflow", "cronwf": "CronWorkflow",
}
INFO = web.RequestKey("argo_info", RequestInfo)
USER = web.RequestKey("argo_user", str)
FAULTS = web.RequestKey("argo_faults", list)


class ArgoApiError(Exception):
    """A gRPC status the gateway writes as ``{"code", "message"}`` with the matching HTTP status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return GRPC_HTTP.get(self.code, 500)

    @classmethod
    def from_kube(cls, exc: errors.ApiError) -> ArgoApiError:
        return cls(HTTP_GRPC.get(exc.code, 13), exc.message)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        content_type="application/json",
                        headers={"Grpc-Metadata-Content-Type": "application/grpc", **(headers or {})})


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def go_object(obj: dict, status_times: bool = True) -> dict:
    """Fill in what Go's encoding/json writes for unset non-pointer fields of a Workflow (or template)."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta.setdefault("creationTimestamp", None)
    out["metadata"] = meta
    out.setdefault("spec", {})
    if status_times:
        status = dict(out.get("status") or {})
        status.setdefault("startedAt", None)
        status.setdefault("finishedAt", None)
        out["status"] = status
    return out


def clean_fields(value: Any, fields: str | None) -> Any:
    """util/fields.Cleaner: keep only the comma-separated paths in `fields` (with their parents), or, when the
    list starts with ``-``, drop them. Lists are walked through: ``items.metadata.name`` applies to each item."""
    if not fields:
        return value
    exclude = fields.startswith("-")
    paths = [f.strip() for f in fields.lstrip("-").split(",") if f.strip()]

    def keep(v: Any, path: str) -> Any:
        if isinstance(v, list):
            return [keep(x, path) for x in v]
        if not isinstance(v, dict):
            return v
        out = {}
        for k, x in v.items():
            p = f"{path}.{k}" if path else k
            if any(p == f or p.startswith(f + ".") for f in paths):
                out[k] = x
            elif any(f.startswith(p + ".") for f in paths):
                out[k] = keep(x, p)
        return out

    def drop(v: Any, path: str) -> Any:
        if isinstance(v, list):
            return [drop(x, path) for x in v]
        if not isinstance(v, dict):
            return v
        return {k: drop(x, f"{path}.{k}" if path else k) for k, x in v.items()
                if (f"{path}.{k}" if path else k) not in paths}

    return drop(value, "") if exclude else keep(value, "")


def parse_key_values(text: str, what: str) -> dict[str, str]:
    """util/cmd ParseLabels: ``"k1=v1,k2=v2"``, each pair exactly one ``=``."""
    out = {}
    for pair in text.split(","):
        parts = pair.split("=")
        if len(parts) != 2:
            raise ArgoApiError(13, f"expected {what} of the form: NAME1=VALUE2,NAME2=VALUE2. Received: {text}")
        out[parts[0]] = parts[1]
    return out


class ArgoServer:
    """The Argo Server's HTTP front over the store. `tokens` gives the bearer tokens known now (token → user);
    `authorizer`, `faults` and `requests` are shared with the Kubernetes API server; pod logs come from `logs`."""

    def __init__(self, store: Store, *, authenticator: Authenticator, authorizer: Authorizer,
                 faults: Faults, requests: RequestLog, logs: PodLogs, watch_timeout: float) -> None:
        self.store = store
        self.api = ApiClient(store)
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.faults = faults
        self.requests = requests
        self.logs = logs
        self.watch_timeout = watch_timeout
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)

    def _rt(self, plural: str) -> ResourceType:
        rt = self.store.registry.get(GROUP, VERSION, plural)
        assert rt is not None
        return rt

    # ------------------------------------------------------------------ middleware: auth, faults, accounting
    @staticmethod
    def _classify(request: web.Request) -> RequestInfo:
        info = RequestInfo(request.method, request.path, request.query_string)
        parts = [unquote(p) for p in request.path.strip("/").split("/") if p]
        if argo_ui.is_ui_path(request.path) and len(parts) == 3:  # the UI's page of one workflow: a GET of it
            info.resource, info.verb, info.namespace, info.name = "argo/workflows", "get", parts[1], parts[2]
            return info
        if parts[:2] != ["api", "v1"] or len(parts) < 3:
            return info
        rest, m = parts[2:], request.method
        kind = {"workflows": "workflows", "workflow-events": "workflows", "workflow-templates": "workflowtemplates",
                "cluster-workflow-templates": "clusterworkflowtemplates"}.get(rest[0])
        if kind is None:
            info.resource, info.verb = f"argo/{rest[0]}", "get"
            return info
        cluster = kind == "clusterworkflowtemplates"
        if not cluster and len(rest) > 1:
            info.namespace = rest[1]
        names = rest[1:] if cluster else rest[2:]
        info.resource = f"argo/{kind}"
        if rest[0] == "workflow-events":
            info.verb = "watch"
        elif m == "POST" and names in (["submit"], ["lint"]):
            info.resource, info.verb = f"argo/{kind}/{names[0]}", "create"
        elif names:
            info.name = names[0]
            if len(names) > 1:
                info.resource += f"/{names[-1]}"
            info.verb = {"GET": "get", "PUT": "update", "DELETE": "delete", "POST": "create"}.get(m, "")
        else:
            info.verb = {"GET": "list", "POST": "create"}.get(m, "")
        return info

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.monotonic()
        info = self._classify(request)
        request[INFO] = info
        record = RequestRecord(request.method, request.path, request.query_string, 0, time.time(), 0.0, info.verb,
                               info.resource, info.namespace, info.name)
        self.requests.add(record)
        try:
            response = await self._guarded(request, handler, info)
            record.status = response.status
            return response
        except (ArgoApiError, errors.ApiError) as exc:
            argo = ArgoApiError.from_kube(exc) if isinstance(exc, errors.ApiError) else exc
            record.status = argo.http_status
            if argo_ui.is_ui_path(request.path):
                return argo_ui.error_page(argo.http_status, argo.message)
            return _json({"code": argo.code, "message": argo.message}, argo.http_status)
        finally:
            record.duration = time.monotonic() - started
            record.user = request.get(USER, "")

    async def _guarded(self, request: web.Request, handler: Any, info: RequestInfo) -> web.StreamResponse:
        self._authenticate(request)
        if self.authorizer.enforced(request[USER]):
            body = await self._body(request) if info.resource == "argo/workflows/submit" else {}
            self.authorizer.check_argo_server(request[USER], info, body)
        faults = self.faults.take(info)
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
                headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else {}
                code = HTTP_GRPC.get(fault.status, 13 if fault.status >= 500 else 2)
                return _json({"code": code, "message": fault.message or f"injected fault: {fault.status}"},
                             fault.status, headers)
        response = await handler(request)
        cut_response(request, faults)
        return response

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization") or request.cookies.get("authorization", "")
        try:
            request[USER] = self.authenticator.authenticate_header(unquote(header)).name
        except errors.ApiError as exc:
            raise ArgoApiError(16, UNAUTHENTICATED_MESSAGE) from exc

    # ------------------------------------------------------------------ routing
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [unquote(p) for p in request.path.strip("/").split("/") if p]
        if argo_ui.is_ui_path(request.path) and len(parts) == 3 and request.method == "GET":
            return argo_ui.workflow_page(self.store.get(self._rt("workflows"), parts[1], parts[2]))
        if parts[:2] != ["api", "v1"] or len(parts) < 3:
            raise ArgoApiError(5, "Not Found")
        rest, m = parts[2:], request.method
        head, n = rest[0], len(rest)
        if head == "version" and n == 1 and m == "GET":
            return _json({"version": ARGO_VERSION, "buildDate": "2026-08-21T00:00:00Z",
                          "gitCommit": "f016ad89eb" + "0" * 30, "gitTag": ARGO_VERSION, "gitTreeState": "clean",
                          "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64"})
        if head == "info" and n == 1 and m == "GET":
            return _json({"links": [], "modals": {}, "navColor": "", "columns": []})
        if head == "userinfo" and n == 1 and m == "GET":
            return _json({"subject": request.get(USER, "")})
        if head == "workflows" and n >= 2:
            return await self._workflows(request, rest[1], rest[2:])
        if head == "workflow-events" and n == 2 and m == "GET":
            return await self._events(request, rest[1])
        if head == "workflow-templates" and n >= 2:
            return await self._templates(request, "workflowtemplates", rest[1], rest[2:])
        if head == "cluster-workflow-templates":
            return await self._templates(request, "clusterworkflowtemplates", None, rest[1:])
        raise ArgoApiError(5, "Not Found")

    async def _body(self, request: web.Request) -> dict:
        raw = await request.read()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ArgoApiError(3, f"invalid character in request body: {exc}") from exc
        if not isinstance(body, dict):
            raise ArgoApiError(3, "the request body must be a JSON object")
        return body

    # ------------------------------------------------------------------ workflows
    async def _workflows(self, request: web.Request, ns: str, rest: list[str]) -> web.StreamResponse:
        m, q = request.method, request.query
        rt = self._rt("workflows")
        if not rest and m == "GET":
            limit = int(q["listOptions.limit"]) if q.get("listOptions.limit") else None
            listed = self.store.list(rt, ns, q.get("listOptions.labelSelector"), q.get("listOptions.fieldSelector"),
                                     limit, q.get("listOptions.continue"))
            body = {"metadata": listed.get("metadata") or {}, "items": [go_object(i) for i in listed["items"]]}
            cleaned = clean_fields(body, q.get("fields"))
            if isinstance(cleaned.get("items"), list):
                cleaned["items"] = [go_object(i) for i in cleaned["items"]]
            cleaned.setdefault("metadata", {})
            return _json(cleaned)
        if not rest and m == "POST":
            body = await self._body(request)
            wf = body.get("workflow")
            if not isinstance(wf, dict):
                raise ArgoApiError(3, "workflow body not specified")
            return _json(go_object(self._create(ns, wf, bool(body.get("serverDryRun")))))
        if rest == ["submit"] and m == "POST":
            return _json(go_object(self._submit(ns, await self._body(request))))
        if len(rest) == 1 and m == "GET":
            wf = self.store.get(rt, ns, rest[0])
            return _json(go_object(clean_fields(go_object(wf), q.get("fields"))))
        if len(rest) == 1 and m == "DELETE":
            self.store.get(rt, ns, rest[0])
            self.store.delete(rt, ns, rest[0], q.get("deleteOptions.propagationPolicy") or None)
            return _json({})
        if len(rest) == 2 and m == "PUT" and rest[1] in ("stop", "terminate", "resume"):
            await self._body(request)
            return _json(go_object(self._action(ns, rest[0], rest[1])))
        if len(rest) == 2 and m == "GET" and rest[1] == "log":
            return await self._log(request, ns, rest[0])
        raise ArgoApiError(5, "Not Found")

    def _validate(self, ns: str, wf: dict) -> None:
        """validate.ValidateWorkflow as the server runs it before creating: template exists, arguments."""
        probe = {"metadata": {"name": "probe", "namespace": ns}, "spec": wf.get("spec") or {}}
        try:
            spec, _ = resolve_spec(self.api, probe)
            validate_spec(spec, ns)
        except ArgoError as exc:
            raise ArgoApiError(5 if exc.message.endswith("not found") else 3, exc.message) from exc

    def _create(self, ns: str, wf: dict, server_dry_run: bool = False) -> dict:
        wf = copy.deepcopy(wf)
        wf.setdefault("apiVersion", API_VERSION)
        wf.setdefault("kind", "Workflow")
        wf.setdefault("metadata", {})["namespace"] = ns
        self._validate(ns, wf)
        return self.store.create(self._rt("workflows"), ns, wf, dry_run=server_dry_run)

    def _submit(self, ns: str, body: dict) -> dict:
        raw_kind = str(body.get("resourceKind") or "")
        kind = KINDS.get(raw_kind.lower()) if raw_kind.lower() in KINDS or raw_kind in KINDS.values() else None
        if kind is None:
            raise ArgoApiError(3, f"Resource kind '{raw_kind}' is not supported for submitting")
        name = str(body.get("resourceName") or "")
        # Go's encoding/json matches keys case-insensitively and drops unknown ones.
        opts = {str(k).lower(): v for k, v in (body.get("submitOptions") or {}).items()}
        meta: dict[str, Any] = {"generateName": f"{name}-", "labels": {}}
        if kind == "CronWorkflow":
            cron = self.store.try_get(self._rt("cronworkflows"), ns, name)
            if cron is None:
                raise ArgoApiError(5, f'cronworkflow.argoproj.io "{name}" not found')
            spec = copy.deepcopy((cron.get("spec") or {}).get("workflowSpec") or {})
            meta["labels"]["workflows.argoproj.io/cron-workflow"] = name
        else:
            cluster = kind == "ClusterWorkflowTemplate"
            meta["labels"][LABEL_CLUSTER_TEMPLATE if cluster else LABEL_TEMPLATE] = name
            spec = {"workflowTemplateRef": {"name": name, **({"clusterScope": True} if cluster else {})}}
        wf: dict[str, Any] = {"apiVersion": API_VERSION, "kind": "Workflow", "metadata": meta, "spec": spec}
        # util.ApplySubmitOpts
        if opts.get("labels"):
            meta["labels"].update(parse_key_values(str(opts["labels"]), "labels"))
        if opts.get("annotations"):
            meta["annotations"] = parse_key_values(str(opts["annotations"]), "annotations")
        if opts.get("generatename"):
            meta["generateName"] = opts["generatename"]
        if opts.get("name"):
            meta["name"] = opts["name"]
        if opts.get("entrypoint"):
            spec["entrypoint"] = opts["entrypoint"]
        if opts.get("serviceaccount"):
            spec["serviceAccountName"] = opts["serviceaccount"]
        if opts.get("priority") not in (None, 0, "0", ""):
            spec["priority"] = int(opts["priority"])
        if opts.get("podpriorityclassname"):
            spec["podPriorityClassName"] = opts["podpriorityclassname"]
        if isinstance(opts.get("ownerreference"), dict):
            meta["ownerReferences"] = [opts["ownerreference"]]
        params = []
        for p in opts.get("parameters") or []:
            key, sep, value = str(p).partition("=")
            if not sep:
                raise ArgoApiError(13, f"expected parameter of the form: NAME=VALUE. Received: {p}")
            params.append({"name": key, "value": value})
        if params:
            args = spec.setdefault("arguments", {})
            args["parameters"] = merge_parameters(args.get("parameters") or [], params)
        if not meta["labels"]:
            meta.pop("labels")
        if opts.get("dryrun"):
            self._validate(ns, wf)
            return wf
        return self._create(ns, wf, bool(opts.get("serverdryrun")))

    def _action(self, ns: str, name: str, action: str) -> dict:
        rt = self._rt("workflows")
        wf = self.store.get(rt, ns, name)
        status = wf.get("status") or {}
        if action == "resume":
            nodes = copy.deepcopy(status.get("nodes") or {})
            changed = False
            for node in nodes.values():
                if node.get("type") == "Suspend" and node.get("phase") == "Running":
                    node.update(phase="Succeeded", finishedAt=now_rfc3339())
                    changed = True
            if not changed:
                return wf
            new = copy.deepcopy(wf)
            new["status"]["nodes"] = nodes
            return self.store.replace(rt, ns, name, new)
        if status.get("phase") in WORKFLOW_COMPLETED:
            raise ArgoApiError(13, f'cannot shutdown a completed workflow: workflow: "{name}", namespace: "{ns}"')
        strategy = "Stop" if action == "stop" else "Terminate"
        patched, _ = self.store.patch(rt, ns, name, "merge", {"spec": {"shutdown": strategy}})
        return patched

    # ------------------------------------------------------------------ streams
    async def _stream(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json",
                                           "Grpc-Metadata-Content-Type": "application/grpc"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        return resp

    async def _events(self, request: web.Request, ns: str) -> web.StreamResponse:
        q = request.query
        rt = self._rt("workflows")
        loop = asyncio.get_running_loop()
        watcher = self.store.watch(rt, ns or None, q.get("listOptions.labelSelector"),
                                   q.get("listOptions.fieldSelector"), q.get("listOptions.resourceVersion"), loop)
        fields = q.get("fields")
        if fields:
            fields = ("-" if fields.startswith("-") else "") + ",".join(
                f.strip()[len("result.object."):] for f in fields.lstrip("-").split(",")
                if f.strip().startswith("result.object."))
        drop_after = min((f.drop_watch_after_events for f in request.get(FAULTS, [])
                          if f.drop_watch_after_events is not None), default=None)
        try:
            resp = await self._stream(request)
        except ConnectionResetError:  # the client left before the headers were sent
            self.store.stop_watch(watcher)
            raise
        deadline = loop.time() + self.watch_timeout
        sent = 0
        try:
            if await stall_watch(request, request.get(FAULTS, [])):
                return resp
            while loop.time() < deadline:
                try:
                    event = await asyncio.wait_for(watcher.queue.get(), timeout=deadline - loop.time())
                except asyncio.TimeoutError:
                    break
                if event is None:
                    break
                obj = go_object(clean_fields(go_object(event.object), fields) if fields else event.object)
                line = {"result": {"type": event.type, "object": obj}}
                await resp.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
                sent += 1
                if drop_after is not None and sent >= drop_after:
                    break
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.stop_watch(watcher)
        return resp

    async def _log(self, request: web.Request, ns: str, name: str) -> web.StreamResponse:
        q = request.query
        wf_rt, pods_rt = self._rt("workflows"), self.store.registry.core("pods")
        self.store.get(wf_rt, ns, name)
        container = q.get("logOptions.container") or "main"
        only_pod = q.get("podName") or None
        follow = _truthy(q.get("logOptions.follow"))
        tail = int(q["logOptions.tailLines"]) if q.get("logOptions.tailLines") else None
        grep = re.compile(q["grep"]) if q.get("grep") else None
        sent: dict[str, int] = {}

        def pods() -> list[dict]:
            items = self.store.list(pods_rt, ns, f"{LABEL_WORKFLOW}={name}")["items"]
            items.sort(key=lambda p: (p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"]))
            return [p for p in items if only_pod is None or p["metadata"]["name"] == only_pod]

        def new_lines() -> list[bytes]:
            out = []
            for pod in pods():
                pod_name = pod["metadata"]["name"]
                lines = self.logs.text(ns, pod_name, container).splitlines()
                start = sent.get(pod_name)
                if start is None:
                    start = max(0, len(lines) - tail) if tail is not None else 0
                sent[pod_name] = len(lines)
                for line in lines[start:]:
                    if grep is None or grep.search(line):
                        out.append(json.dumps({"result": {"content": line, "podName": pod_name}},
                                              separators=(",", ":")).encode() + b"\n")
            return out

        resp = await self._stream(request)
        try:
            while True:
                for chunk in new_lines():
                    await resp.write(chunk)
                if not follow:
                    break
                wf = self.store.try_get(wf_rt, ns, name)
                if wf is None or (wf.get("status") or {}).get("phase") in WORKFLOW_COMPLETED:
                    for chunk in new_lines():
                        await resp.write(chunk)
                    break
                await asyncio.sleep(0.1)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp

    # ------------------------------------------------------------------ templates
    async def _templates(self, request: web.Request, plural: str, ns: str | None, rest: list[str]
                         ) -> web.StreamResponse:
        m = request.method
        rt = self._rt(plural)
        if not rest and m == "GET":
            q = request.query
            listed = self.store.list(rt, ns, q.get("listOptions.labelSelector"), q.get("listOptions.fieldSelector"))
            return _json({"metadata": listed.get("metadata") or {},
                          "items": [go_object(i, status_times=False) for i in listed["items"]]})
        if not rest and m == "POST":
            body = await self._body(request)
            tmpl = body.get("template")
            if not isinstance(tmpl, dict):
                raise ArgoApiError(3, "template body not specified")
            tmpl = {**copy.deepcopy(tmpl), "apiVersion": API_VERSION, "kind": rt.kind}
            return _json(go_object(self.store.create(rt, ns, tmpl), status_times=False))
        if len(rest) == 1 and m == "GET":
            return _json(go_object(self.store.get(rt, ns, rest[0]), status_times=False))
        if len(rest) == 1 and m == "DELETE":
            self.store.delete(rt, ns, rest[0])
            return _json({})
        raise ArgoApiError(5, "Not Found")
