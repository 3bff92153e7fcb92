"""ArgoWorkflowsHook: submit Argo Workflows and wait for them, over either transport.

- the Kubernetes API (a `kubernetes` connection): create a Workflow with `workflowTemplateRef`, stop or
  terminate by patching `spec.shutdown`, logs from the workflow's pods;
- the Argo Server REST API (an `argo_workflows` connection: server URL, bearer token, namespace, TLS
  verification, CA bundle, UI base URL): `POST .../submit` for templates, events stream, stop/terminate,
  logs.

Both give the same behaviour and the same errors to the operator. Hera's REST client is synchronous
(requests), which would block the triggerer's event loop, so the Argo Server transport speaks the same
REST API with aiohttp.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.providers.common.compat.sdk import BaseHook

from ..identity import TASK_KEY
from ..kube_api import PODS, KubeAPI, KubeApiError, Resource, call_with_retries
from ..watch import ANY, before, newest, present, reopening, wait_for, wait_for_object

if TYPE_CHECKING:
    from ..identity import TaskIdentity
    from .spark import SparkK8sHook

__all__ = ["ArgoError", "ArgoWorkflowsHook", "WorkflowOutcome", "WorkflowRef", "WorkflowTarget"]

WORKFLOWS = Resource("argoproj.io", "v1alpha1", "workflows", "Workflow")
WORKFLOW_TEMPLATES = Resource("argoproj.io", "v1alpha1", "workflowtemplates", "WorkflowTemplate")
CLUSTER_WORKFLOW_TEMPLATES = Resource("argoproj.io", "v1alpha1", "clusterworkflowtemplates",
                                      "ClusterWorkflowTemplate", namespaced=False)
TERMINAL_PHASES = ("Succeeded", "Failed", "Error")
LEAF_TYPES = ("Pod", "Container", "HTTP", "Plugin", "Suspend")
WORKFLOW_LABEL = "workflows.argoproj.io/workflow"


class ArgoError(RuntimeError):
    """A failed Argo call, with the message the server gave (either transport)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class WorkflowRef:
    namespace: str
    name: str
    uid: str = ""
    try_number: int = 1
    adopted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowRef:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class WorkflowTarget:
    """What a sensor follows: a workflow by name, or the newest one matching a label selector; it may not exist yet."""

    namespace: str
    name: str | None = None
    label_selector: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowTarget:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        if self.name:
            return f"workflow {self.namespace}/{self.name}"
        return f"workflows matching {self.label_selector} in {self.namespace}"

    def wanted(self) -> str:
        """The target as named before it exists ("No ... yet", "Waiting for ...")."""
        return f"workflow {self.name} in {self.namespace}" if self.name else self.describe()

    def ref(self, wf: dict) -> WorkflowRef:
        return WorkflowRef(self.namespace, wf["metadata"]["name"], wf["metadata"].get("uid", ""), adopted=True)


def phase_of(wf: dict | None) -> str:
    return ((wf or {}).get("status") or {}).get("phase") or "Pending"


@dataclass
class WorkflowOutcome:
    status: str  # success | failed | error | timeout (the wait timeout, or a sensor's timeout, ran out)
    phase: str
    message: str
    ref: WorkflowRef
    progress: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    failed_nodes: list[dict[str, Any]] = field(default_factory=list)

    def to_event(self) -> dict[str, Any]:
        data = asdict(self)
        data["ref"] = self.ref.to_dict()
        return data

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> WorkflowOutcome:
        data = dict(event)
        data["ref"] = WorkflowRef.from_dict(data["ref"])
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def error_message(self) -> str:
        """What a person needs to act: the workflow message and each failed leaf step."""
        lines = [f"Workflow {self.ref.namespace}/{self.ref.name} ended {self.phase}"
                 + (f": {self.message}" if self.message else "")]
        for node in self.failed_nodes:
            code = f", exit code {node['exit_code']}" if node.get("exit_code") not in (None, "") else ""
            lines.append(f"  step {node['display_name']} (template {node['template']}) {node['phase']}{code}: "
                         f"{node['message']}")
        return "\n".join(lines)


def outcome_of(wf: dict | None, ref: WorkflowRef) -> WorkflowOutcome | None:
    """The outcome of a workflow in a terminal phase, else None. A deleted workflow is a failure."""
    if wf is None:
        return WorkflowOutcome("failed", "Deleted", "the workflow was deleted before it finished", ref)
    status = wf.get("status") or {}
    phase = status.get("phase") or ""
    if phase not in TERMINAL_PHASES:
        return None
    ref.uid = wf["metadata"].get("uid", ref.uid)
    outputs = {p["name"]: p.get("value") for p in (status.get("outputs") or {}).get("parameters") or []}
    failed = []
    for node in (status.get("nodes") or {}).values():
        if node.get("type") in LEAF_TYPES and node.get("phase") in ("Failed", "Error"):
            failed.append({"display_name": node.get("displayName") or node.get("name"),
                           "template": node.get("templateName") or (node.get("templateRef") or {}).get("template"),
                           "phase": node.get("phase"), "message": node.get("message") or "",
                           "exit_code": (node.get("outputs") or {}).get("exitCode"),
                           "finished_at": node.get("finishedAt")})
    failed.sort(key=lambda n: n.get("finished_at") or "")
    return WorkflowOutcome("success" if phase == "Succeeded" else "failed", phase, status.get("message") or "", ref,
                           status.get("progress") or "", status.get("startedAt"), status.get("finishedAt"),
                           outputs, failed)


class _KubernetesTransport:
    def __init__(self, api: KubeAPI) -> None:
        self.api = api

    async def get_template(self, kind: str, namespace: str, name: str) -> dict | None:
        resource = CLUSTER_WORKFLOW_TEMPLATES if kind == "ClusterWorkflowTemplate" else WORKFLOW_TEMPLATES
        try:
            return await call_with_retries(lambda: self.api.request("GET", resource.path(namespace, name)))
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise ArgoError(str(exc), exc.status) from exc

    async def create(self, namespace: str, workflow: dict) -> dict:
        try:
            return await call_with_retries(lambda: self.api.request("POST", WORKFLOWS.path(namespace),
                                                                      body=workflow))
        except KubeApiError as exc:
            existing = await _created_before(self, exc.status, namespace, workflow)
            if existing is not None:
                return existing
            raise ArgoError(str(exc) if exc.status in (401, 403) else exc.message or str(exc), exc.status) from exc

    async def get(self, namespace: str, name: str) -> dict | None:
        try:
            return await call_with_retries(lambda: self.api.request("GET", WORKFLOWS.path(namespace, name)))
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise ArgoError(str(exc), exc.status) from exc

    async def list(self, namespace: str, selector: str) -> list[dict]:
        listed = await call_with_retries(lambda: self.api.request("GET", WORKFLOWS.path(namespace),
                                                                    {"labelSelector": selector}))
        return listed.get("items") or []

    async def shutdown(self, namespace: str, name: str, strategy: str) -> None:
        body = {"spec": {"shutdown": strategy}}
        await call_with_retries(lambda: self.api.request("PATCH", WORKFLOWS.path(namespace, name), body=body,
                                                          content_type="application/merge-patch+json"))

    def waiting(self, namespace: str, name: str, label_selector: str | None = None) -> Callable[..., Any]:
        """A wait (see watch.wait_for) on the workflow `name`, or with ANY on those matching `label_selector`."""
        return lambda **how: wait_for_object(self.api, WORKFLOWS, namespace, name, label_selector=label_selector,
                                             **how)

    async def wait(self, ref: WorkflowRef, timeout: float | None,
                   on_error: Callable[[Exception, float], None] | None) -> WorkflowOutcome:
        return await _wait_workflow(self.waiting(ref.namespace, ref.name), ref, timeout, on_error)

    async def logs(self, namespace: str, name: str) -> builtins.list[tuple[str, str]]:
        """(pod, line) for every step pod of the workflow, in pod creation order."""
        pods = await call_with_retries(lambda: self.api.request(
            "GET", PODS.path(namespace), {"labelSelector": f"{WORKFLOW_LABEL}={name}"}))
        out: builtins.list[tuple[str, str]] = []
        for pod in sorted(pods.get("items") or [], key=lambda p: p["metadata"].get("creationTimestamp") or ""):
            pod_name = pod["metadata"]["name"]
            try:
                text = await self.api.text(PODS.path(namespace, pod_name, "log"), {"container": "main"})
            except KubeApiError:
                continue
            out.extend((pod_name, line) for line in text.splitlines())
        return out


def _timed_out(wf: dict | None, ref: WorkflowRef, timeout: float | None) -> WorkflowOutcome:
    phase = ((wf or {}).get("status") or {}).get("phase") or "Pending"
    return WorkflowOutcome("timeout", phase, f"still {phase} after the wait timeout of {timeout:.0f}s", ref,
                           ((wf or {}).get("status") or {}).get("progress") or "")


class _ArgoServerTransport:
    """The Argo Server's REST API (grpc-gateway) with aiohttp."""

    share_key: Any = None
    opener: Callable[[], Any] | None = None  # opens another transport to the same server, for shared watches
    reopen: Callable[[], Any] | None = None  # a new transport (token read again): a wait's reconnect after a 401

    def __init__(self, session: Any, base_url: str, token: str | None, ssl: Any) -> None:
        self.session = session
        self.base = base_url.rstrip("/")
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = token if token.lower().startswith(("bearer ", "basic ")) \
                else f"Bearer {token}"
        self.ssl = ssl

    async def raw(self, method: str, path: str, query: dict | None = None, body: Any = None) -> Any:
        """One request; a KubeApiError when the server says no."""
        async with self.session.request(method, self.base + path, params=query or None, json=body,
                                        headers=self.headers, ssl=self.ssl) as resp:
            if resp.status == 401 and await self._renew_token():
                return await self.raw(method, path, query, body)
            raw = await resp.read()
            try:
                data = json.loads(raw) if raw else {}
            except ValueError:
                data = {"message": raw.decode(errors="replace")}
            if resp.status >= 400:
                retry_after = resp.headers.get("Retry-After")
                raise KubeApiError(resp.status, data, float(retry_after) if retry_after else None, method, path)
            return data

    async def _renew_token(self) -> bool:
        """After a 401 (an expired token): read the connection's token again. True when it changed."""
        if self.reopen is None:
            return False
        async with self.reopen() as fresh:
            changed = fresh.headers != self.headers
            self.headers = fresh.headers
        return changed

    async def _request(self, method: str, path: str, query: dict | None = None, body: Any = None) -> Any:
        try:
            return await call_with_retries(lambda: self.raw(method, path, query, body))
        except KubeApiError as exc:
            # 401/403 say which request and status, so that a rejected token or a missing permission is plain.
            message = str(exc) if exc.status in (401, 403) else exc.body.get("message") or str(exc)
            raise ArgoError(message, exc.status) from exc

    async def get_template(self, kind: str, namespace: str, name: str) -> dict | None:
        path = (f"/api/v1/cluster-workflow-templates/{quote(name)}" if kind == "ClusterWorkflowTemplate"
                else f"/api/v1/workflow-templates/{quote(namespace)}/{quote(name)}")
        try:
            return await self._request("GET", path)
        except ArgoError as exc:
            if exc.status == 404:
                return None
            raise

    async def create(self, namespace: str, workflow: dict) -> dict:
        """Submit a template reference through `/submit` (the server validates it as `argo submit` does);
        anything the submit options cannot carry goes through a plain create of the same manifest."""
        request = _submit_request(namespace, workflow)
        try:
            if request is not None:
                return await self._request("POST", f"/api/v1/workflows/{quote(namespace)}/submit", body=request)
            return await self._request("POST", f"/api/v1/workflows/{quote(namespace)}",
                                       body={"namespace": namespace, "workflow": workflow})
        except ArgoError as exc:
            existing = await _created_before(self, exc.status, namespace, workflow)
            if existing is None:
                raise
            return existing

    async def get(self, namespace: str, name: str) -> dict | None:
        try:
            return await self._request("GET", f"/api/v1/workflows/{quote(namespace)}/{quote(name)}")
        except ArgoError as exc:
            if exc.status == 404:
                return None
            raise

    async def list(self, namespace: str, selector: str) -> list[dict]:
        data = await self._request("GET", f"/api/v1/workflows/{quote(namespace)}",
                                   {"listOptions.labelSelector": selector})
        return data.get("items") or []

    async def shutdown(self, namespace: str, name: str, strategy: str) -> None:
        action = "stop" if strategy == "Stop" else "terminate"
        await self._request("PUT", f"/api/v1/workflows/{quote(namespace)}/{quote(name)}/{action}",
                            body={"name": name, "namespace": namespace})

    def waiting(self, namespace: str, name: str, label_selector: str | None = None) -> Callable[..., Any]:
        """A wait (see watch.wait_for) on the workflow `name`, or with ANY on those matching `label_selector`,
        through the server's workflow-events stream (shared by every trigger of the process that uses this
        connection, namespace and selector, when the transport is shared)."""
        opener = self.opener
        if opener is None:
            def events_on(transport: _ArgoServerTransport) -> _WorkflowEvents:
                if name == ANY:
                    return _WorkflowEvents(transport, namespace, label_selector=label_selector)
                return _WorkflowEvents(transport, namespace, f"metadata.name={name}")

            key, open_source = None, reopening(events_on(self), self.reopen, events_on)
        else:
            @contextlib.asynccontextmanager
            async def open_source() -> AsyncIterator[_WorkflowEvents]:
                async with opener() as transport:
                    yield _WorkflowEvents(transport, namespace, label_selector=label_selector)

            key = (self.share_key, namespace, label_selector)
        return lambda **how: wait_for(key, open_source, name, **how)

    async def wait(self, ref: WorkflowRef, timeout: float | None,
                   on_error: Callable[[Exception, float], None] | None) -> WorkflowOutcome:
        """Follow the workflow until it ends or `timeout` seconds pass."""
        return await _wait_workflow(self.waiting(ref.namespace, ref.name), ref, timeout, on_error)

    async def logs(self, namespace: str, name: str) -> builtins.list[tuple[str, str]]:
        data_path = f"/api/v1/workflows/{quote(namespace)}/{quote(name)}/log"
        out = []
        async with self.session.get(self.base + data_path, params={"logOptions.container": "main"},
                                    headers=self.headers, ssl=self.ssl) as resp:
            if resp.status >= 400:
                return []
            async for line in resp.content:
                if line.strip():
                    result = json.loads(line).get("result") or {}
                    out.append((result.get("podName", ""), result.get("content", "")))
        return out


async def _created_before(transport: Any, status: int | None, namespace: str, workflow: dict) -> dict | None:
    """After a 409 on create: the workflow an earlier attempt of this very call created (its response was
    lost, so the retry found the name taken), or None when the name belongs to something else."""
    meta = workflow.get("metadata") or {}
    if status != 409 or not meta.get("name"):
        return None
    existing = await transport.get(namespace, meta["name"])
    key = (meta.get("labels") or {}).get(TASK_KEY)
    if existing is None or not key or (existing["metadata"].get("labels") or {}).get(TASK_KEY) != key:
        return None
    return existing


async def _wait_workflow(wait: Callable[..., Any], ref: WorkflowRef, timeout: float | None,
                         on_error: Callable[[Exception, float], None] | None) -> WorkflowOutcome:
    """`wait` (a partial wait_for or wait_for_object) until the workflow ends or `timeout` seconds pass."""
    deadline = asyncio.get_running_loop().time() + timeout if timeout else None
    waited = await wait(decide=lambda wf: outcome_of(wf, ref), deadline=(lambda wf: deadline) if deadline else None,
                        on_deadline=lambda wf: _timed_out(wf, ref, timeout), on_error=on_error)
    return waited.verdict


async def find_target(transport: Any, target: WorkflowTarget) -> tuple[WorkflowRef | None, dict | None]:
    """The workflow a sensor follows and its object as just read (one call), or (None, None) while none exists."""
    if target.name:
        wf = await transport.get(target.namespace, target.name)
    else:
        wf = newest(await transport.list(target.namespace, target.label_selector))
    return (None, None) if wf is None else (target.ref(wf), wf)


async def wait_for_target(transport: Any, target: WorkflowTarget, deadline: float | None,
                          on_error: Callable[[Exception, float], None] | None) -> WorkflowOutcome:
    """Wait for a sensor's workflow to exist, then for it to end; at `deadline` (wall clock) a "timeout" outcome
    says what it was doing."""
    async def follow() -> WorkflowOutcome:
        name, decide = present(target.name)
        waited = await transport.waiting(target.namespace, name, target.label_selector)(decide=decide,
                                                                                         on_error=on_error)
        ref = target.ref(waited.verdict)
        return outcome_of(waited.verdict, ref) or await transport.wait(ref, None, on_error)

    done, outcome = await before(deadline, follow())
    if done:
        return outcome  # type: ignore[return-value]
    ref, wf = await find_target(transport, target)
    if ref is None:
        return WorkflowOutcome("timeout", "missing", f"no {target.wanted()}",
                               WorkflowRef(target.namespace, target.name or ""))
    return WorkflowOutcome("timeout", phase_of(wf), f"workflow {ref.namespace}/{ref.name} is still {phase_of(wf)}",
                           ref)


class _WorkflowEvents:
    """The Argo Server's workflows of one namespace as a watch source: list, then workflow-events from the
    list's resourceVersion (a window is one request that the client ends after `window` seconds)."""

    def __init__(self, server: _ArgoServerTransport, namespace: str, field_selector: str | None = None,
                 label_selector: str | None = None) -> None:
        self.server, self.namespace = server, namespace
        self.path = f"/api/v1/workflows/{quote(namespace)}"
        self.selector = {k: v for k, v in (("listOptions.fieldSelector", field_selector),
                                           ("listOptions.labelSelector", label_selector)) if v}

    async def list(self) -> tuple[list[dict], str]:
        data = await self.server.raw("GET", self.path, self.selector)
        return data.get("items") or [], (data.get("metadata") or {}).get("resourceVersion") or ""

    async def watch(self, resource_version: str, window: float) -> AsyncGenerator[tuple[str, dict], None]:
        import aiohttp

        server, path = self.server, f"/api/v1/workflow-events/{quote(self.namespace)}"
        query = {**self.selector, "listOptions.resourceVersion": resource_version}
        try:
            async with server.session.get(server.base + path, params=query, headers=server.headers, ssl=server.ssl,
                                          timeout=aiohttp.ClientTimeout(total=window, sock_connect=30)) as resp:
                if resp.status >= 400:
                    body = await resp.read()
                    try:
                        data: Any = json.loads(body)
                    except ValueError:
                        data = {"message": body.decode(errors="replace")}
                    retry_after = resp.headers.get("Retry-After")
                    raise KubeApiError(resp.status, data, float(retry_after) if retry_after else None, "WATCH", path)
                async for line in resp.content:
                    if not line.strip():
                        continue
                    data = json.loads(line)
                    if "error" in data:  # grpc-gateway reports a failed stream in-band
                        error = data["error"] or {}
                        status = error.get("http_code") or (410 if "too old" in str(error.get("message")) else 500)
                        raise KubeApiError(int(status), error, None, "WATCH", path)
                    event = data.get("result") or {}
                    yield event.get("type") or "", event.get("object") or {}
        except asyncio.TimeoutError:
            return  # the window ended

    async def get(self, name: str) -> dict | None:
        try:
            return await self.server.raw("GET", f"{self.path}/{quote(name)}")
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise


_SUBMITTABLE_SPEC = {"workflowTemplateRef", "arguments", "entrypoint", "serviceAccountName", "priority"}


def _submit_request(namespace: str, workflow: dict) -> dict | None:
    """The Argo Server's WorkflowSubmitRequest for a template-reference Workflow, or None when it cannot say
    the same thing (inline templates, other spec fields, or label/annotation text with ',' or '=' — the
    submit options carry them as one "k=v,k=v" string)."""
    spec = workflow.get("spec") or {}
    ref = spec.get("workflowTemplateRef")
    meta = workflow.get("metadata") or {}
    if not ref or set(spec) - _SUBMITTABLE_SPEC:
        return None
    pairs = {**(meta.get("labels") or {}), **(meta.get("annotations") or {})}
    if any("," in f"{k}{v}" or "=" in f"{k}{v}" for k, v in pairs.items()):
        return None
    options: dict[str, Any] = {
        "name": meta.get("name", ""),
        "parameters": [f"{p['name']}={p.get('value', '')}" for p in (spec.get("arguments") or {}).get("parameters")
                       or []],
        "labels": ",".join(f"{k}={v}" for k, v in (meta.get("labels") or {}).items()),
        "annotations": ",".join(f"{k}={v}" for k, v in (meta.get("annotations") or {}).items()),
    }
    for key, option in (("entrypoint", "entryPoint"), ("serviceAccountName", "serviceAccount"),
                        ("priority", "priority")):
        if key in spec:
            options[option] = spec[key]
    kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
    return {"namespace": namespace, "resourceKind": kind, "resourceName": ref["name"], "submitOptions": options}


class ArgoWorkflowsHook(BaseHook):
    """Argo Workflows over the Argo Server (`argo_conn_id`) or the Kubernetes API (`kubernetes_conn_id`)."""

    conn_name_attr = "argo_conn_id"
    default_conn_name = "argo_workflows_default"
    conn_type = "argo_workflows"
    hook_name = "Argo Workflows"

    def __init__(self, argo_conn_id: str | None = None, kubernetes_conn_id: str = "kubernetes_default",
                 namespace: str | None = None) -> None:
        super().__init__()
        self.argo_conn_id = argo_conn_id
        self.kubernetes_conn_id = kubernetes_conn_id
        self.namespace = namespace
        self._settings: dict[str, Any] | None = None  # the Argo Server connection as read last
        self._kube: SparkK8sHook | None = None  # the Kubernetes transport's hook, which keeps its client settings

    def _kube_hook(self) -> SparkK8sHook:
        if self._kube is None:
            from .spark import SparkK8sHook

            self._kube = SparkK8sHook(self.kubernetes_conn_id)
        return self._kube

    @property
    def transport_name(self) -> str:
        return "argo-server" if self.argo_conn_id else "kubernetes"

    def _argo_settings(self, lookup: bool = True) -> dict[str, Any]:
        """The Argo Server connection's settings; `lookup=False` takes the ones read last, if any (see run())."""
        if not lookup and self._settings is not None:
            return self._settings
        self._settings = self._read_argo_settings()
        return self._settings

    def _read_argo_settings(self) -> dict[str, Any]:
        assert self.argo_conn_id is not None  # only the Argo Server transport reads these
        conn = self.get_connection(self.argo_conn_id)
        extra = conn.extra_dejson
        host = conn.host or ""
        if host and "://" not in host:
            host = f"{conn.schema or 'https'}://{host}" + (f":{conn.port}" if conn.port else "")
        verify = extra.get("verify_ssl", True)
        if isinstance(verify, str):
            verify = verify.lower() not in ("false", "0", "no")
        return {"url": host, "token": conn.password or extra.get("token"), "namespace": extra.get("namespace"),
                "verify_ssl": verify, "ca_bundle": extra.get("ca_bundle"), "ui_url": extra.get("ui_base_url")}

    def get_namespace(self) -> str:
        if self.namespace:
            return self.namespace
        if self.argo_conn_id:
            return self._argo_settings().get("namespace") or "argo"
        return self._kube_hook().get_namespace()

    def ui_base_url(self) -> str | None:
        if self.argo_conn_id:
            settings = self._argo_settings()
            return settings.get("ui_url") or settings.get("url")
        return self._kube_hook().connection_extra("argo_ui_base_url")

    @contextlib.asynccontextmanager
    async def transport(self, shared: bool = False, lookup: bool = True) -> AsyncIterator[Any]:
        """The transport of this hook's connection. A `shared` one (for triggers) waits through the process's
        shared watches instead of a stream of its own. `lookup=False`: with the connection as read last, if it
        was (for kill handlers, see SparkK8sHook.api)."""
        if not self.argo_conn_id:
            kube = self._kube_hook()
            async with kube.shared_api() if shared else kube.api(lookup) as api:
                yield _KubernetesTransport(api)
            return
        async with self._argo_server(lookup) as transport:
            if shared:
                transport.share_key, transport.opener = ("argo-server", self.argo_conn_id), self._argo_server
            transport.reopen = self._argo_server
            yield transport

    @contextlib.asynccontextmanager
    async def _argo_server(self, lookup: bool = True) -> AsyncIterator[_ArgoServerTransport]:
        import ssl as ssl_lib

        import aiohttp

        settings = await asyncio.to_thread(self._argo_settings, lookup)
        if not settings["url"]:
            raise ArgoError(f"connection {self.argo_conn_id!r} has no Argo Server URL (host)")
        ssl: Any = None
        if settings["url"].startswith("https"):
            if not settings["verify_ssl"]:
                self.log.warning("TLS verification is disabled for connection %s (verify_ssl=false)",
                                 self.argo_conn_id)
                ssl = False
            else:
                ssl = ssl_lib.create_default_context(cafile=settings["ca_bundle"] or None)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=330)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            yield _ArgoServerTransport(session, settings["url"], settings["token"], ssl)

    def adopt_or_submit(self, namespace: str, body: dict, identity: TaskIdentity,
                        template: tuple[str, str] | None = None, parameters: dict[str, str] | None = None,
                        entrypoint: str | None = None, recorded: dict[str, Any] | None = None
                        ) -> WorkflowRef | WorkflowOutcome:
        """The workflow of this task instance: a still running one of any try (adopted), the outcome of this try's
        (or of an earlier try's unreported success, see task_state), or `body` created now. Before creating, the
        `template` (kind, name) it references must exist and accept `parameters` (when given)."""
        from .. import task_state

        async def adopt_or_submit(transport: Any) -> WorkflowRef | WorkflowOutcome:
            def try_of(wf: dict) -> int:
                return int(wf["metadata"]["labels"].get("sparkk8s.io/try-number", "0"))

            for wf in sorted(await transport.list(namespace, identity.selector("workflow")), key=try_of, reverse=True):
                ref = WorkflowRef(namespace, wf["metadata"]["name"], wf["metadata"].get("uid", ""), try_of(wf),
                                  adopted=True)
                outcome = outcome_of(wf, ref)
                if outcome is None:
                    return ref
                if ref.try_number == identity.try_number:
                    return outcome
                if (outcome.status == "success" and (recorded or {}).get("name") == ref.name
                        and task_state.unreported_success(recorded, identity.try_number)):
                    self.log.info("Workflow %s/%s of try %s succeeded, but that try ended before it could report "
                                  "it; taking its outcome instead of submitting again", namespace, ref.name,
                                  ref.try_number)
                    return outcome
            if template is not None:  # the Kubernetes API would accept a missing template; fail before creating
                kind, name = template
                found = await transport.get_template(kind, namespace, name)
                if found is None:
                    where = "" if kind == "ClusterWorkflowTemplate" else f" in namespace {namespace}"
                    raise ArgoError(f"{kind} {name!r} not found{where}")
                if parameters is not None:
                    check_parameters(found, kind, parameters, entrypoint)
            created = await transport.create(namespace, body)
            return WorkflowRef(namespace, created["metadata"]["name"], created["metadata"].get("uid", ""),
                               identity.try_number)

        return self.run(adopt_or_submit)

    def wait(self, ref: WorkflowRef, timeout: float | None = None) -> WorkflowOutcome:
        """Wait (on the worker) until the workflow ends or `timeout` seconds pass (status "timeout")."""
        return self.run(lambda transport: transport.wait(ref, timeout, None))

    def logs(self, ref: WorkflowRef) -> list[tuple[str, str]]:
        """(pod, line) for every step pod of the workflow."""
        return self.run(lambda transport: transport.logs(ref.namespace, ref.name))

    def shutdown(self, action: str, ref: WorkflowRef | None = None, submitted_by: TaskIdentity | None = None,
                 namespace: str | None = None, lookup: bool = True) -> list[str]:
        """Stop or terminate the workflow `ref`, or (killed while submitting) whatever the try `submitted_by`
        created in `namespace`, found by its labels. Says what it did. `lookup`: see transport()."""

        async def shutdown(transport: Any) -> list[str]:
            refs = [ref] if ref is not None else []
            if submitted_by is not None and namespace is not None:
                try_number = str(submitted_by.try_number)
                refs = [WorkflowRef(namespace, wf["metadata"]["name"], wf["metadata"].get("uid", ""),
                                    submitted_by.try_number)
                        for wf in await transport.list(namespace, submitted_by.selector("workflow"))
                        if wf["metadata"]["labels"].get("sparkk8s.io/try-number") == try_number]
                if not refs:
                    return [f"no workflow of this try in namespace {namespace} to stop"]
            return [await shutdown_workflow(transport, r, action) for r in refs]

        return self.run(shutdown, lookup=lookup)

    def check(self, target: WorkflowTarget) -> tuple[str, WorkflowOutcome | None]:
        """A sensor's poke: the workflow's state and, once it ended, its outcome. One call."""

        async def check(transport: Any) -> tuple[str, WorkflowOutcome | None]:
            ref, wf = await find_target(transport, target)
            if ref is None:
                return f"No {target.wanted()} yet", None
            state = f"workflow {ref.namespace}/{ref.name} is {phase_of(wf)}" if target.label_selector else phase_of(wf)
            return f"Waiting for {target.wanted()}: {state}", outcome_of(wf, ref)

        return self.run(check)

    def run(self, fn: Callable[[Any], Any], lookup: bool = True) -> Any:
        """Run `await fn(transport)` from synchronous code (the worker). `lookup`: see transport()."""

        async def main() -> Any:
            async with self.transport(lookup=lookup) as transport:
                return await fn(transport)

        return asyncio.run(main())


async def shutdown_workflow(transport: Any, ref: WorkflowRef, action: str) -> str:
    """Stop (exit handlers run) or terminate a workflow; a completed one is left alone. Says what it did."""
    wf = await transport.get(ref.namespace, ref.name)
    if wf is None:
        return f"workflow {ref.namespace}/{ref.name} is already gone"
    phase = (wf.get("status") or {}).get("phase") or ""
    if phase in TERMINAL_PHASES:
        return f"workflow {ref.namespace}/{ref.name} already ended {phase}; left alone"
    strategy = "Terminate" if action == "terminate" else "Stop"
    await transport.shutdown(ref.namespace, ref.name, strategy)
    return f"workflow {ref.namespace}/{ref.name}: shutdown strategy {strategy} requested"


def check_parameters(template: dict, kind: str, parameters: dict[str, str], entrypoint: str | None) -> None:
    """Fail before anything is created: unknown parameter names, missing required values, enum violations."""
    spec = template.get("spec") or {}
    name = template.get("metadata", {}).get("name", "")
    declared: dict[str, dict] = {p["name"]: p for p in (spec.get("arguments") or {}).get("parameters") or []}
    entry = entrypoint or spec.get("entrypoint")
    for tmpl in spec.get("templates") or []:
        if tmpl.get("name") == entry:
            for p in (tmpl.get("inputs") or {}).get("parameters") or []:
                declared.setdefault(p["name"], p)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ArgoError(f"parameters: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not declared by "
                        f"{kind} {name} (it declares: {', '.join(sorted(declared)) or 'nothing'})")
    missing = sorted(p for p, decl in declared.items()
                     if p not in parameters and not any(k in decl for k in ("value", "valueFrom", "default")))
    if missing:
        raise ArgoError(f"parameters: {kind} {name} requires a value for {', '.join(missing)}")
    for p, value in parameters.items():
        allowed = declared[p].get("enum")
        if allowed and value not in allowed:
            raise ArgoError(f"parameters: {p}={value!r} is not one of {allowed} ({kind} {name})")
