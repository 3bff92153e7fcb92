"""A simulated Argo Workflows controller (``argoproj.io/v1alpha1``): Workflows run as the real
workflow-controller runs them, with one pod per ``container``/``script`` step, made by the pod simulator.

First reconcile of a new Workflow:

- ``spec.workflowTemplateRef`` is resolved: a WorkflowTemplate in the workflow's namespace, or a
  ClusterWorkflowTemplate with ``clusterScope: true``. A missing template ends the workflow at once in
  ``phase: Error`` with ``message: workflowtemplate.argoproj.io "<name>" not found`` (the v4 controller reads
  templates through its listers; ``clusterworkflowtemplate.argoproj.io ...`` for cluster ones). ``spec.templates``
  beside a template reference is an ``invalid spec``.
- Arguments are merged as Argo does: the template's ``spec`` is the base, the Workflow's own ``spec`` fields win,
  and ``arguments.parameters`` are merged by name (the Workflow's value wins). A parameter that ends with
  neither ``value`` nor ``valueFrom`` fails the workflow (``phase: Failed``, ``message: invalid spec:
  spec.arguments.<name>.value or spec.arguments.<name>.valueFrom is required``); so does a value outside the
  parameter's ``enum`` and an entrypoint input parameter no argument supplies. The merged spec is stored in
  ``status.storedWorkflowTemplateSpec``.
- Labels: ``workflows.argoproj.io/workflow-template`` (or ``cluster-workflow-template``) with the template's
  name, and ``workflows.argoproj.io/phase`` / ``workflows.argoproj.io/completed`` kept current.

Then the entrypoint is walked on every change of the workflow or its pods (node ids and pod names as in
Argo: ``<wf>-<fnv32a(node name)>`` and ``<wf>-<template>-<fnv32a(node name)>``; a workflow whose entrypoint is a
single container runs one pod named like the workflow):

- ``steps``: step groups run in order, steps of a group in parallel (nodes ``<parent>[i]`` of type StepGroup and
  ``<parent>[i].<step>``); ``dag``: tasks start when their ``dependencies`` succeeded or their ``depends``
  expression holds (``A``, ``A.Succeeded``, ``.Failed``, ``.Errored``, ``.Skipped``, ``.Omitted``, ``.Completed``,
  ``.AnySucceeded``, ``.AllFailed`` with ``&&``, ``||``, ``!`` and parentheses); a task whose ``depends`` can no
  longer hold is ``Omitted``. A failed task nobody handles (no ``depends`` on its failure, no ``continueOn``)
  stops new tasks from starting (``failFast``) and fails the DAG.
- ``when`` conditions (comparisons ``== != < > <= >=`` of numbers or strings, ``&&``, ``||``, ``true``/``false``)
  make ``Skipped`` nodes. Placeholders ``{{inputs.parameters.x}}``, ``{{workflow.parameters.x}}``,
  ``{{workflow.name}}``, ``{{workflow.namespace}}``, ``{{workflow.uid}}``, ``{{workflow.status}}`` (exit handlers),
  ``{{steps.X.outputs.parameters.y}}``, ``{{steps.X.outputs.result}}``, ``{{steps.X.exitCode}}``,
  ``{{steps.X.status}}`` and their ``tasks.X`` twins are substituted; ``templateRef`` reaches templates of other
  WorkflowTemplates (``clusterScope`` for cluster ones); ``retryStrategy.limit`` (with ``retryPolicy``
  OnFailure (default), OnError, Always) wraps the step in a ``Retry`` node with children ``<step>(0)``, ...
- ``container``/``script`` templates run a pod: labels ``workflows.argoproj.io/workflow=<wf>`` and
  ``workflows.argoproj.io/completed`` ("true" once its node is done) plus the template's ``metadata.labels``;
  annotations ``workflows.argoproj.io/node-name``, ``workflows.argoproj.io/node-id`` plus the template's
  ``metadata.annotations`` (so a template can carry ``emulator.sparkk8s.io/outcome: failed`` and the other pod
  simulator annotations); an ownerReference to the Workflow; one container ``main`` with the template's image,
  command, args and env, parameters substituted — the arguments are passed as argv, as Argo does (the emissary
  wrapper, the ``wait`` sidecar and the init container of a real Argo pod are not modelled). A ``script``
  template's container runs its ``command`` with ``/argo/staging/script`` appended, as Argo's does; where Argo's
  init container writes the source into the ``argo-staging`` volume, here that volume is a downwardAPI volume
  showing the pod annotation ``emulator.sparkk8s.io/script-source``, so a pod the local kubelet runs finds its
  script there. The pod's outcome
  (annotations, ``emulator.pods.behave(...)`` rules, container programs such as spark-submit) decides the
  node's: ``Succeeded``, or ``Failed`` with ``message: main: Error (exit code N)`` (``main: OOMKilled (exit code
  137)``) and ``outputs.exitCode``. A pod that cannot be scheduled or pulled keeps its node ``Pending`` with the
  reason as message. A pod deleted under a running node makes it ``Error`` (``pod deleted``).
- Output parameters: ``valueFrom.path`` reads the pod annotation ``emulator.sparkk8s.io/output.<name>`` (set it in
  the template's ``metadata.annotations``; it may use placeholders), else the file the main container left at that
  path when the local kubelet ran it (what Argo's wait container reads), falling back to ``valueFrom.default``;
  with none of them, the node ends ``Error`` as Argo's does when the file is missing. As Argo's executor does,
  one trailing newline of the file is trimmed. ``valueFrom.parameter`` (on steps/dag templates) and
  ``valueFrom.default`` are resolved too. ``script`` templates get ``outputs.result``: the main container's stdout
  (not its stderr) without its last newline, as the executor reads it.
  ``status.outputs.parameters`` holds the entrypoint's output parameters and any ``globalName`` exports.
- ``suspend`` templates keep a ``Suspend`` node ``Running`` until ``suspend.duration`` seconds passed or the
  Argo Server's ``resume`` marks it ``Succeeded``. ``resource`` templates are simplified: the manifest is
  created (``create``/``apply``) or deleted (``delete``) at once and the node succeeds (no pod, no
  success/failure conditions).
- ``spec.onExit`` runs as node ``<wf>.onExit`` once the entrypoint ended, with ``{{workflow.status}}``.

Failures propagate as Argo writes them: a step group and its Steps node fail with ``child '<node id>' failed``
(the id of the failed step), so does a DAG; the workflow takes its root node's phase and message. ``Error``
stays ``Error``. ``status.progress`` is ``<succeeded pods>/<pods>`` (also per node), with ``startedAt`` /
``finishedAt`` on the workflow and every node, and conditions ``PodRunning`` and ``Completed``.

``spec.shutdown`` (what the Argo Server's stop/terminate set): no new pods start, running step pods are deleted
and their nodes fail with ``workflow shutdown with strategy: <S>``, steps not yet started are created failed with
the same message; ``Stop`` still runs the ``onExit`` handler, ``Terminate`` does not. The workflow ends
``Failed`` with ``message: Stopped with strategy '<S>'``. ``spec.activeDeadlineSeconds`` works the same way
once exceeded (message ``Step exceeded its deadline``).

Argo's CRDs have no status subresource: every write replaces the whole Workflow through the store, so watchers
see each change as a MODIFIED event. Deleting a Workflow garbage-collects its pods through their
ownerReferences. CronWorkflows are not run.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import yaml

from .. import errors
from ..pod_logs import PodLogs
from ..store import now_rfc3339
from .base import ApiClient, Controller, Key
from .support import epoch_seconds

GROUP, VERSION = "argoproj.io", "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
LABEL_WORKFLOW = "workflows.argoproj.io/workflow"
LABEL_PHASE = "workflows.argoproj.io/phase"
LABEL_COMPLETED = "workflows.argoproj.io/completed"
LABEL_TEMPLATE = "workflows.argoproj.io/workflow-template"
LABEL_CLUSTER_TEMPLATE = "workflows.argoproj.io/cluster-workflow-template"
ANNOTATION_NODE_NAME = "workflows.argoproj.io/node-name"
ANNOTATION_NODE_ID = "workflows.argoproj.io/node-id"
OUTPUT_ANNOTATION = "emulator.sparkk8s.io/output."
SCRIPT_ANNOTATION = "emulator.sparkk8s.io/script-source"
STAGING_VOLUME, STAGING_DIR, SCRIPT_FILE = "argo-staging", "/argo/staging", "script"  # Argo's names
WORKFLOW_COMPLETED = ("Succeeded", "Failed", "Error")
NODE_COMPLETED = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
NODE_OK = ("Succeeded", "Skipped", "Omitted")
MAIN = "main"

log = logging.getLogger(__name__)


def fnv32a(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def node_id(workflow: str, node_name: str) -> str:
    """Argo's node id: the workflow name for the root node, else ``<wf>-<fnv32a(node name)>``."""
    return workflow if node_name == workflow else f"{workflow}-{fnv32a(node_name)}"


def pod_name(workflow: str, node_name: str, template: str | None) -> str:
    """Argo's v2 pod name: ``<wf>-<template>-<fnv32a(node name)>`` (the workflow's name for a root pod)."""
    if node_name == workflow:
        return workflow
    suffix = str(fnv32a(node_name))
    prefix = f"{workflow}-{template}" if template else workflow
    return f"{prefix[: 253 - len(suffix) - 1]}-{suffix}"


class ArgoError(Exception):
    """An error the controller records on a workflow or node."""

    def __init__(self, message: str, phase: str = "Error") -> None:
        super().__init__(message)
        self.message = message
        self.phase = phase


_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """Replace ``{{name}}`` placeholders known in `variables` in every string of `value`; others stay."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: variables.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def _literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return float(text)
    except ValueError:
        return text


def evaluate_when(expression: str) -> bool:
    """Argo's ``when``, after substitution: comparisons joined by ``&&`` / ``||`` (no parentheses)."""
    def one(term: str) -> bool:
        term = term.strip()
        negate = False
        while term.startswith("!") and not term.startswith("!="):
            negate, term = not negate, term[1:].strip()
        if term.startswith("(") and term.endswith(")"):
            return evaluate_when(term[1:-1]) != negate
        m = re.fullmatch(r"(.+?)\s*(==|!=|<=|>=|<|>)\s*(.+)", term)
        if not m:
            result = str(_literal(term)).lower() == "true"
            return result != negate
        left, op, right = _literal(m.group(1)), m.group(2), _literal(m.group(3))
        if isinstance(left, float) != isinstance(right, float):
            left, right = str(m.group(1)).strip().strip("'\""), str(m.group(3)).strip().strip("'\"")
        if op == "==":
            result = left == right
        elif op == "!=":
            result = left != right
        else:
            try:
                result = {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
            except TypeError as exc:
                raise ArgoError(f"Invalid 'when' expression '{expression}': {exc}") from exc
        return result != negate

    return any(all(one(t) for t in alt.split("&&")) for alt in expression.split("||"))


_DEPENDS_TOKEN = re.compile(r"\s*(&&|\|\||!|\(|\)|[A-Za-z0-9_-]+(?:\.[A-Za-z]+)?)")


def depends_tasks(expression: str) -> list[str]:
    names = []
    for token in _DEPENDS_TOKEN.findall(expression):
        if token not in ("&&", "||", "!", "(", ")"):
            name = token.split(".")[0]
            if name not in names:
                names.append(name)
    return names


def evaluate_depends(expression: str, phase_of: dict[str, str]) -> bool:
    """Evaluate a DAG ``depends`` expression over the completed phases of the tasks it names."""
    def result(task: str, what: str | None) -> bool:
        phase = phase_of.get(task, "")
        checks = {
            None: phase in ("Succeeded", "Skipped"),
            "Succeeded": phase == "Succeeded", "Failed": phase == "Failed", "Errored": phase == "Error",
            "Skipped": phase in ("Skipped", "Omitted"), "Omitted": phase == "Omitted", "Daemoned": False,
            "Completed": phase in ("Succeeded", "Failed"), "AnySucceeded": phase == "Succeeded",
            "AllFailed": phase == "Failed",
        }
        if what not in checks:
            raise ArgoError(f"invalid depends expression '{expression}': unknown result '{what}'")
        return checks[what]

    pieces = []
    operators = {"&&": " and ", "||": " or ", "!": " not ", "(": "(", ")": ")"}
    for part in _DEPENDS_TOKEN.findall(expression):
        if part in operators:
            pieces.append(operators[part])
        else:
            task, _, what = part.partition(".")
            pieces.append(str(result(task, what or None)))
    try:
        return bool(eval("".join(pieces) or "True", {"__builtins__": {}}, {}))  # noqa: S307 - only True/False/and/or/not
    except SyntaxError as exc:
        raise ArgoError(f"invalid depends expression '{expression}'") from exc


def merge_parameters(base: list[dict], override: list[dict]) -> list[dict]:
    """Parameters merged by name (patchMergeKey ``name``): a parameter of `override` keeps the fields of the
    same-named one in `base` it does not set (e.g. its ``enum``) and wins on the others; they come first."""
    by_name = {p.get("name"): p for p in base}
    names = {p.get("name") for p in override}
    merged = [{**copy.deepcopy(by_name.get(p.get("name"), {})), **copy.deepcopy(p)} for p in override]
    return merged + [copy.deepcopy(p) for p in base if p.get("name") not in names]


def get_template(api: ApiClient, namespace: str, name: str, cluster: bool) -> dict:
    """The (Cluster)WorkflowTemplate, or ArgoError with the lister's NotFound text."""
    plural = "clusterworkflowtemplates" if cluster else "workflowtemplates"
    kind = "ClusterWorkflowTemplate" if cluster else "WorkflowTemplate"
    tmpl = api.get(API_VERSION, kind, None if cluster else namespace, name)
    if tmpl is None:
        raise ArgoError(f'{plural[:-1]}.argoproj.io "{name}" not found')
    return tmpl


def resolve_spec(api: ApiClient, wf: dict) -> tuple[dict, dict | None]:
    """The spec the workflow runs (merged with its template) and the template used, or ArgoError."""
    spec = copy.deepcopy(wf.get("spec") or {})
    ref = spec.get("workflowTemplateRef")
    if not ref:
        return spec, None
    if spec.get("templates"):
        raise ArgoError("invalid spec: Templates is invalid field in spec if workflow referred WorkflowTemplate "
                        "reference", "Failed")
    tmpl = get_template(api, wf["metadata"]["namespace"], ref.get("name", ""), bool(ref.get("clusterScope")))
    merged = copy.deepcopy(tmpl.get("spec") or {})
    for key, value in spec.items():
        if key in ("workflowTemplateRef", "arguments"):
            continue
        merged[key] = copy.deepcopy(value)
    args = copy.deepcopy(merged.get("arguments") or {})
    params = merge_parameters((args.get("parameters") or []),
                              ((spec.get("arguments") or {}).get("parameters") or []))
    if params:
        args["parameters"] = params
    if (spec.get("arguments") or {}).get("artifacts"):
        args["artifacts"] = spec["arguments"]["artifacts"]
    if args:
        merged["arguments"] = args
    return merged, tmpl


def validate_spec(spec: dict, namespace: str) -> None:
    """validate.ValidateWorkflow, the parts a submitter meets: arguments and the entrypoint's inputs.
    Raises ArgoError with the bare message (the controller prefixes ``invalid spec: ``)."""
    params = (spec.get("arguments") or {}).get("parameters") or []
    for p in params:
        name = p.get("name", "")
        if "value" not in p and "valueFrom" not in p:
            raise ArgoError(f"spec.arguments.{name}.value or spec.arguments.{name}.valueFrom is required",
                            "Failed")
        if p.get("enum") and "value" in p and p["value"] not in p["enum"]:
            raise ArgoError(f"spec.arguments.{name}.value should be present in spec.arguments.{name}.enum list",
                            "Failed")
    entry = spec.get("entrypoint")
    if not entry:
        raise ArgoError("spec.entrypoint is required", "Failed")
    templates = {t.get("name"): t for t in spec.get("templates") or []}
    tmpl = templates.get(entry)
    if tmpl is None:
        raise ArgoError(f"spec.entrypoint template '{entry}' undefined", "Failed")
    supplied = {p.get("name") for p in params}
    for p in (tmpl.get("inputs") or {}).get("parameters") or []:
        if p.get("name") not in supplied and "value" not in p and "default" not in p:
            raise ArgoError(f"spec.templates[{list(templates).index(entry)}].inputs.parameters.{p.get('name')} "
                            "was not supplied", "Failed")


class ArgoWorkflowController(Controller):
    """The workflow controller: reconciles each Workflow after every change to it or its pods (and at the times
    suspend durations and deadlines end). What Argo's wait container reads in a pod, this controller reads itself:
    script results from `logs`, output files through `files` (namespace, pod, container, path → the bytes, or
    None) from the containers the local kubelet ran."""

    api_version = API_VERSION
    kind = "Workflow"
    watches = (("v1", "Pod"),)

    def __init__(self, api: ApiClient, logs: PodLogs, enabled: bool = True,
                 files: Callable[[str, str, str, str], bytes | None] | None = None) -> None:
        super().__init__(api)
        self.logs = logs
        self.enabled = enabled
        self.files = files

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        wf = (obj["metadata"].get("labels") or {}).get(LABEL_WORKFLOW)
        return [Key(obj["metadata"].get("namespace", ""), wf)] if wf else []

    async def reconcile(self, key: Key) -> float | None:
        return self._reconcile(key.namespace, key.name) if self.enabled else None

    # ------------------------------------------------------------------ reconcile
    def _reconcile(self, namespace: str, name: str) -> float | None:
        """One pass over the workflow; returns when it wants another look."""
        wf = self.api.get(API_VERSION, self.kind, namespace, name)
        if wf is None or wf["metadata"].get("deletionTimestamp"):
            return None
        status = copy.deepcopy(wf.get("status") or {})
        labels = dict(wf["metadata"].get("labels") or {})
        if status.get("phase") in WORKFLOW_COMPLETED:
            return None
        spec = wf.get("spec") or {}
        if not status.get("phase"):
            ref = spec.get("workflowTemplateRef") or {}
            if ref.get("name"):
                labels[LABEL_CLUSTER_TEMPLATE if ref.get("clusterScope") else LABEL_TEMPLATE] = ref["name"]
            try:
                run_spec, tmpl = resolve_spec(self.api, wf)
                try:
                    validate_spec(run_spec, namespace)
                except ArgoError as exc:
                    raise ArgoError(f"invalid spec: {exc.message}", "Failed") from exc
            except ArgoError as exc:
                now = now_rfc3339()
                status.update(phase=exc.phase, message=exc.message, startedAt=now, finishedAt=now, progress="0/0",
                              conditions=[{"type": "Completed", "status": "True"}])
                labels.update({LABEL_PHASE: exc.phase, LABEL_COMPLETED: "true"})
                self._write(wf, status, labels)
                return None
            if tmpl is not None:
                status["storedWorkflowTemplateSpec"] = run_spec
            status.update(phase="Running", startedAt=now_rfc3339())
            status.setdefault("progress", "0/0")
            labels[LABEL_PHASE] = "Running"
            labels[LABEL_COMPLETED] = "false"
        run = _Operation(self, wf, status)
        run.operate()
        if status.get("phase") in WORKFLOW_COMPLETED:
            labels[LABEL_PHASE] = status["phase"]
            labels[LABEL_COMPLETED] = "true"
        self._write(wf, status, labels)
        for completed in run.completed_pods:
            self._label_pod_completed(namespace, completed)
        if status.get("phase") in WORKFLOW_COMPLETED:
            for pod in self.api.list("v1", "Pod", namespace, f"{LABEL_WORKFLOW}={name}"):
                self._label_pod_completed(namespace, pod["metadata"]["name"])
        return run.wake_in

    def _write(self, wf: dict, status: dict, labels: dict) -> None:
        if status == wf.get("status") and labels == (wf["metadata"].get("labels") or {}):
            return
        new = copy.deepcopy(wf)
        new["status"] = status
        new["metadata"]["labels"] = labels
        # No status subresource: the whole object is replaced; a concurrent spec edit makes this a 409.
        self.api.replace(new)

    def _label_pod_completed(self, namespace: str, name: str) -> None:
        pod = self.api.get("v1", "Pod", namespace, name)
        if pod is None or (pod["metadata"].get("labels") or {}).get(LABEL_COMPLETED) == "true":
            return
        try:
            self.api.patch("v1", "Pod", namespace, name, {"metadata": {"labels": {LABEL_COMPLETED: "true"}}})
        except errors.ApiError:
            pass


class _Operation:
    """One pass of the operator over a workflow (workflow/controller/operator.go)."""

    def __init__(self, ctl: ArgoWorkflowController, wf: dict, status: dict) -> None:
        self.ctl = ctl
        self.api = ctl.api
        self.wf = wf
        self.status = status
        self.name = wf["metadata"]["name"]
        self.namespace = wf["metadata"]["namespace"]
        self.own_spec = wf.get("spec") or {}
        self.spec = status.get("storedWorkflowTemplateSpec") or self.own_spec
        self.nodes: dict[str, dict] = status.setdefault("nodes", {})
        self.shutdown = self.own_spec.get("shutdown") or ""
        self.shutdown_message = ""
        self.completed_pods: list[str] = []
        self.wake_in: float | None = None
        ref = self.own_spec.get("workflowTemplateRef") or {}
        if ref.get("name"):
            self.scope = _Scope(self.spec.get("templates") or [],
                                f"{'cluster' if ref.get('clusterScope') else 'namespaced'}/{ref['name']}")
        else:
            self.scope = _Scope(self.spec.get("templates") or [], "local/" + self.name)
        self.globals: dict[str, str] = {
            "workflow.name": self.name, "workflow.namespace": self.namespace,
            "workflow.uid": wf["metadata"].get("uid", ""),
            "workflow.serviceAccountName": self.spec.get("serviceAccountName", "default"),
            "workflow.creationTimestamp": wf["metadata"].get("creationTimestamp", ""),
        }
        for p in (self.spec.get("arguments") or {}).get("parameters") or []:
            value = p.get("value", (p.get("valueFrom") or {}).get("default", ""))
            self.globals[f"workflow.parameters.{p.get('name')}"] = str(value)
        deadline = self.spec.get("activeDeadlineSeconds")
        started = epoch_seconds(status.get("startedAt"))
        if deadline is not None and started is not None and not self.shutdown:
            left = started + float(str(deadline)) - datetime.now(timezone.utc).timestamp()
            if left <= 0:
                self.shutdown, self.shutdown_message = "Deadline", "Step exceeded its deadline"
            else:
                self._wake(left + 0.05)
        if self.shutdown and not self.shutdown_message:
            self.shutdown_message = f"workflow shutdown with strategy: {self.shutdown}"

    def _wake(self, seconds: float) -> None:
        self.wake_in = seconds if self.wake_in is None else min(self.wake_in, seconds)

    # ------------------------------------------------------------------ the workflow
    def operate(self) -> None:
        args = {p.get("name"): str(p.get("value", (p.get("valueFrom") or {}).get("default", "")))
                for p in (self.spec.get("arguments") or {}).get("parameters") or []}
        entry = self.spec.get("entrypoint", "")
        root = self.execute(self.name, self.name, {"template": entry}, args, None, self.scope)
        if root is None or root["phase"] not in NODE_COMPLETED:
            self._finish_pass(None)
            return
        phase = {"Succeeded": "Succeeded", "Skipped": "Succeeded", "Omitted": "Succeeded",
                 "Failed": "Failed", "Error": "Error"}[root["phase"]]
        message = root.get("message", "") if phase != "Succeeded" else ""
        on_exit = self.spec.get("onExit")
        if on_exit and self.shutdown != "Terminate":
            self.globals["workflow.status"] = phase
            exit_node = self.execute(f"{self.name}.onExit", "onExit", {"template": on_exit}, {}, None, self.scope,
                                     on_exit=True)
            if exit_node is None or exit_node["phase"] not in NODE_COMPLETED:
                self._finish_pass(None)
                return
            if phase == "Succeeded" and exit_node["phase"] not in NODE_OK:
                phase, message = "Failed", exit_node.get("message", "")
        if self.shutdown and phase != "Succeeded":
            phase = "Failed"
            message = (self.shutdown_message if self.shutdown == "Deadline"
                       else f"Stopped with strategy '{self.shutdown}'")
        self._finish_pass((phase, message, root))

    def _finish_pass(self, done: tuple[str, str, dict] | None) -> None:
        status = self.status
        pods = [n for n in self.nodes.values() if n.get("type") == "Pod"]
        status["progress"] = f"{sum(n['phase'] == 'Succeeded' for n in pods)}/{len(pods)}"
        for node in self.nodes.values():
            node["progress"] = self._node_progress(node, set())
        running = any(n["phase"] in ("Pending", "Running") for n in pods)
        if done is None:
            status["conditions"] = [{"type": "PodRunning", "status": "True" if running else "False"}]
            return
        phase, message, root = done
        status["phase"] = phase
        if message:
            status["message"] = message
        else:
            status.pop("message", None)
        status["finishedAt"] = now_rfc3339()
        status["conditions"] = [{"type": "PodRunning", "status": "False"}, {"type": "Completed", "status": "True"}]
        outputs: dict[str, dict] = {}
        for p in (root.get("outputs") or {}).get("parameters") or []:
            outputs[p["name"]] = {"name": p["name"], "value": p.get("value", "")}
        for node in self.nodes.values():
            for p in (node.get("outputs") or {}).get("parameters") or []:
                if p.get("globalName"):
                    outputs[p["globalName"]] = {"name": p["globalName"], "value": p.get("value", "")}
        if outputs:
            status["outputs"] = {"parameters": list(outputs.values())}

    def _node_progress(self, node: dict, seen: set[str]) -> str:
        if node.get("type") == "Pod":
            return "1/1" if node["phase"] == "Succeeded" else "0/1"
        done = total = 0
        seen.add(node["id"])
        for child in node.get("children") or []:
            if child in seen or child not in self.nodes:
                continue
            d, _, t = self._node_progress(self.nodes[child], seen).partition("/")
            done, total = done + int(d), total + int(t)
        return f"{done}/{total}"

    # ------------------------------------------------------------------ nodes
    def _id(self, node_name: str) -> str:
        return node_id(self.name, node_name)

    def _node(self, node_name: str) -> dict | None:
        return self.nodes.get(self._id(node_name))

    def _init_node(self, node_name: str, display: str, type_: str, phase: str, boundary: str | None,
                   tmpl: dict | None = None, scope: _Scope | None = None, message: str = "",
                   inputs: dict | None = None) -> dict:
        now = now_rfc3339()
        node: dict[str, Any] = {"id": self._id(node_name), "name": node_name, "displayName": display,
                                "type": type_, "phase": phase, "startedAt": now}
        if tmpl is not None and tmpl.get("name"):
            node["templateName"] = tmpl["name"]
        if scope is not None:
            node["templateScope"] = scope.name
        if boundary:
            node["boundaryID"] = boundary
        if message:
            node["message"] = message
        if inputs:
            node["inputs"] = inputs
        if phase in NODE_COMPLETED:
            node["finishedAt"] = now
        self.nodes[node["id"]] = node
        return node

    def _mark(self, node: dict, phase: str, message: str | None = None) -> dict:
        node["phase"] = phase
        if message:
            node["message"] = message
        elif message is not None:
            node.pop("message", None)
        if phase in NODE_COMPLETED and not node.get("finishedAt"):
            node["finishedAt"] = now_rfc3339()
        return node

    def _add_child(self, parent: dict, child: dict) -> None:
        children = parent.setdefault("children", [])
        if child["id"] not in children:
            children.append(child["id"])

    def _blocked(self, on_exit: bool) -> bool:
        """ShutdownStrategy.ShouldExecute: Terminate runs nothing new, Stop only exit handlers."""
        if not self.shutdown:
            return False
        return not (self.shutdown in ("Stop", "Deadline") and on_exit)

    def _resolve(self, holder: dict, scope: _Scope) -> tuple[dict, _Scope]:
        if holder.get("inline"):
            return holder["inline"], scope
        ref = holder.get("templateRef")
        if ref:
            owner = get_template(self.api, self.namespace, ref.get("name", ""), bool(ref.get("clusterScope")))
            other = _Scope((owner.get("spec") or {}).get("templates") or [],
                           f"{'cluster' if ref.get('clusterScope') else 'namespaced'}/{ref.get('name')}")
            tmpl = other.templates.get(ref.get("template", ""))
            if tmpl is None:
                raise ArgoError(f"template {ref.get('template')} not found in workflow template {ref.get('name')}")
            return tmpl, other
        name = holder.get("template", "")
        tmpl = scope.templates.get(name)
        if tmpl is None:
            raise ArgoError(f"template {name} not found")
        return tmpl, scope

    def execute(self, node_name: str, display: str, holder: dict, args: dict[str, str], boundary: str | None,
                scope: _Scope, on_exit: bool = False) -> dict | None:
        """executeTemplate: the node for `holder` (a step, task or entrypoint), advanced as far as it goes."""
        node = self._node(node_name)
        if node is not None and node["phase"] in NODE_COMPLETED:
            return node
        try:
            tmpl, tscope = self._resolve(holder, scope)
        except ArgoError as exc:
            if node is None:
                return self._init_node(node_name, display, "Skipped", "Error", boundary, None, scope, exc.message)
            return self._mark(node, "Error", exc.message)
        if node is None and self._blocked(on_exit):
            type_ = _node_type(tmpl)
            return self._init_node(node_name, display, type_, "Failed", boundary, tmpl, tscope,
                                   self.shutdown_message)
        strategy = tmpl.get("retryStrategy")
        if strategy is None:
            return self._execute_template(node_name, display, tmpl, tscope, args, boundary, on_exit)
        # processNodeRetries: a Retry node with one child per attempt.
        if node is None:
            node = self._init_node(node_name, display, "Retry", "Running", boundary, tmpl, tscope)
        limit = strategy.get("limit")
        limit_n = int(str(limit)) if limit not in (None, "") else None
        policy = strategy.get("retryPolicy") or "OnFailure"
        children = node.get("children") or []
        last = self.nodes.get(children[-1]) if children else None
        if last is not None and last["phase"] not in NODE_COMPLETED:
            last = self._execute_template(last["name"], last["displayName"], tmpl, tscope, args, boundary, on_exit)
        if last is not None and last["phase"] in NODE_COMPLETED:
            retryable = {"OnFailure": ("Failed",), "OnError": ("Error",),
                         "Always": ("Failed", "Error")}.get(policy, ("Failed",))
            again = (last["phase"] in retryable and (limit_n is None or len(children) <= limit_n)
                     and not self._blocked(on_exit))
            if not again:
                self._mark(node, last["phase"], last.get("message") if last["phase"] not in NODE_OK else None)
                if last.get("outputs"):
                    node["outputs"] = copy.deepcopy(last["outputs"])
                return node
            last = None
        if last is None:
            attempt = len(children)
            # Attempts share the Retry node's boundary; a finished attempt is judged on the next pass.
            child = self._execute_template(f"{node_name}({attempt})", f"{display}({attempt})", tmpl, tscope, args,
                                           boundary, on_exit)
            self._add_child(node, child)
            if attempt:
                child["nodeFlag"] = {"retried": True}
        return node

    def _execute_template(self, node_name: str, display: str, tmpl: dict, scope: _Scope, args: dict[str, str],
                          boundary: str | None, on_exit: bool) -> dict:
        node = self._node(node_name)
        if node is not None and node["phase"] in NODE_COMPLETED:
            return node
        inputs: dict[str, str] = {}
        for p in (tmpl.get("inputs") or {}).get("parameters") or []:
            pname = p.get("name", "")
            if pname in args:
                inputs[pname] = args[pname]
            elif "value" in p:
                inputs[pname] = str(substitute(p["value"], self.globals))
            elif "default" in p:
                inputs[pname] = str(p["default"])
            elif (p.get("valueFrom") or {}).get("default") is not None:
                inputs[pname] = str(p["valueFrom"]["default"])
            else:
                message = f"inputs.parameters.{pname} was not supplied"
                if node is None:
                    return self._init_node(node_name, display, _node_type(tmpl), "Error", boundary, tmpl, scope,
                                           message)
                return self._mark(node, "Error", message)
        variables = {**self.globals, **{f"inputs.parameters.{k}": v for k, v in inputs.items()}}
        node_inputs = {"parameters": [{"name": k, "value": v} for k, v in inputs.items()]} if inputs else None
        # Step, task and output references ({{steps.X...}}) stay until their nodes have run.
        body = substitute(tmpl, variables)
        if "container" in body or "script" in body:
            return self._pod_node(node, node_name, display, body, scope, boundary, node_inputs, variables)
        if "steps" in body:
            return self._steps_node(node, node_name, display, body, scope, boundary, node_inputs, variables, on_exit)
        if "dag" in body:
            return self._dag_node(node, node_name, display, body, scope, boundary, node_inputs, variables, on_exit)
        if "suspend" in body:
            return self._suspend_node(node, node_name, display, body, scope, boundary, node_inputs)
        if "resource" in body:
            return self._resource_node(node, node_name, display, body, scope, boundary, node_inputs)
        message = f"template '{tmpl.get('name', '')}' has no type: container, script, steps, dag, suspend or resource"
        if node is None:
            return self._init_node(node_name, display, "Skipped", "Error", boundary, tmpl, scope, message)
        return self._mark(node, "Error", message)

    # ------------------------------------------------------------------ pods
    def _pod_node(self, node: dict | None, node_name: str, display: str, tmpl: dict, scope: _Scope,
                  boundary: str | None, inputs: dict | None, variables: dict[str, str]) -> dict:
        name = pod_name(self.name, node_name, tmpl.get("name"))
        if node is None:
            node = self._init_node(node_name, display, "Pod", "Pending", boundary, tmpl, scope, inputs=inputs)
            try:
                self.api.create(self._pod_manifest(name, node, tmpl, variables), self.namespace)
            except errors.ApiError as exc:
                if exc.code != 409:
                    return self._mark(node, "Error", exc.message)
            return node
        pod = self.api.get("v1", "Pod", self.namespace, name)
        if self.shutdown and node["phase"] not in NODE_COMPLETED and not self._is_exit_node(node):
            if pod is not None:
                try:
                    self.api.delete("v1", "Pod", self.namespace, name)
                except errors.ApiError:
                    pass
            return self._mark(node, "Failed", self.shutdown_message)
        if pod is None:
            return self._mark(node, "Error", "pod deleted")
        pod_status = pod.get("status") or {}
        phase = pod_status.get("phase")
        main: dict = next((cs for cs in pod_status.get("containerStatuses") or [] if cs.get("name") == MAIN), {})
        if pod_status.get("podIP"):
            node["podIP"] = pod_status["podIP"]
        if pod.get("spec", {}).get("nodeName"):
            node["hostNodeName"] = pod["spec"]["nodeName"]
        if phase == "Pending":
            waiting = (main.get("state") or {}).get("waiting") or {}
            unschedulable = next((c for c in pod_status.get("conditions") or []
                                  if c.get("type") == "PodScheduled" and c.get("status") == "False"), None)
            if unschedulable is not None:
                return self._mark(node, "Pending", f"{unschedulable.get('reason')}: {unschedulable.get('message')}")
            if waiting.get("reason") and waiting["reason"] not in ("ContainerCreating", "PodInitializing"):
                return self._mark(node, "Pending", f"{waiting['reason']}: {waiting.get('message', '')}".rstrip(": "))
            return self._mark(node, "Pending", None)
        if phase == "Running":
            return self._mark(node, "Running", None)
        if phase not in ("Succeeded", "Failed"):
            return node
        terminated = (main.get("state") or {}).get("terminated") or {}
        code = int(terminated.get("exitCode", 0 if phase == "Succeeded" else 1))
        outputs: dict[str, Any] = {"exitCode": str(code)}
        self.completed_pods.append(name)
        if "script" in tmpl:  # the executor trims a single trailing newline "for user convenience"
            outputs["result"] = self.ctl.logs.text(self.namespace, name, MAIN, stdout_only=True).removesuffix("\n")
        if code != 0 or phase == "Failed":
            node["outputs"] = outputs
            # A pod the kubelet failed as a whole (e.g. DeadlineExceeded) carries its own message, as Argo shows.
            message = pod_status.get("message") or f"{MAIN}: {terminated.get('reason') or 'Error'} (exit code {code})"
            return self._mark(node, "Failed", message)
        annotations = pod["metadata"].get("annotations") or {}
        params = []
        for p in (tmpl.get("outputs") or {}).get("parameters") or []:
            value_from = p.get("valueFrom") or {}
            written = self._output_file(name, value_from.get("path"))
            if OUTPUT_ANNOTATION + p.get("name", "") in annotations:
                value = annotations[OUTPUT_ANNOTATION + p["name"]]
            elif written is not None:
                value = written
            elif "default" in value_from:
                value = value_from["default"]
            elif "value" in p:
                value = p["value"]
            else:
                node["outputs"] = outputs
                path = value_from.get("path", "")
                return self._mark(node, "Error", f"Error (exit code 1): open {path}: no such file or directory")
            params.append(_output_param(p, str(value)))
        if params:
            outputs["parameters"] = params
        node["outputs"] = outputs
        return self._mark(node, "Succeeded", None)

    def _output_file(self, pod: str, path: str | None) -> str | None:
        """The main container's file at ``path`` without one trailing newline (as the executor saves a
        parameter), or None when it has none (or the pod was simulated)."""
        if not path or self.ctl.files is None:
            return None
        data = self.ctl.files(self.namespace, pod, MAIN, path)
        return None if data is None else data.decode(errors="replace").removesuffix("\n")

    def _is_exit_node(self, node: dict) -> bool:
        onexit_id = self._id(f"{self.name}.onExit")
        cursor: dict | None = node
        for _ in range(100):
            if cursor is None:
                return False
            if cursor["id"] == onexit_id:
                return self.shutdown in ("Stop", "Deadline")
            cursor = self.nodes.get(cursor.get("boundaryID", "")) if cursor.get("boundaryID") else None
        return False

    def _pod_manifest(self, name: str, node: dict, tmpl: dict, variables: dict[str, str]) -> dict:
        meta = tmpl.get("metadata") or {}
        variables = {**variables, "pod.name": name, "node.name": node["name"]}
        if "container" in tmpl:
            container = copy.deepcopy(tmpl["container"])
        else:
            script = tmpl["script"]
            container = {k: copy.deepcopy(v) for k, v in script.items() if k != "source"}
            container.setdefault("command", ["python"])
            container["args"] = [*container.get("args", []), f"{STAGING_DIR}/{SCRIPT_FILE}"]
            container["volumeMounts"] = [*container.get("volumeMounts", []),
                                         {"name": STAGING_VOLUME, "mountPath": STAGING_DIR}]
        container = substitute(container, variables)
        container["name"] = MAIN
        container.setdefault("image", "")
        pod_spec: dict[str, Any] = {
            "restartPolicy": "Never",
            "containers": [container],
            "serviceAccountName": tmpl.get("serviceAccountName") or self.spec.get("serviceAccountName") or "default",
        }
        for key in ("nodeSelector", "tolerations", "affinity", "volumes", "priorityClassName", "securityContext"):
            value = tmpl.get(key) or self.spec.get(key)
            if value:
                pod_spec[key] = copy.deepcopy(value)
        if tmpl.get("activeDeadlineSeconds") is not None:
            pod_spec["activeDeadlineSeconds"] = int(str(tmpl["activeDeadlineSeconds"]))
        labels = {**(meta.get("labels") or {}), LABEL_WORKFLOW: self.name, LABEL_COMPLETED: "false"}
        annotations = {**substitute(meta.get("annotations") or {}, variables), ANNOTATION_NODE_NAME: node["name"],
                       ANNOTATION_NODE_ID: node["id"]}
        if "script" in tmpl:  # the source, placeholders substituted, in the file the command runs
            annotations[SCRIPT_ANNOTATION] = str(substitute(tmpl["script"].get("source", ""), variables))
            field = f"metadata.annotations['{SCRIPT_ANNOTATION}']"
            pod_spec["volumes"] = [*pod_spec.get("volumes", []), {"name": STAGING_VOLUME, "downwardAPI": {
                "items": [{"path": SCRIPT_FILE, "fieldRef": {"fieldPath": field}}]}}]
        return {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": self.namespace, "labels": labels, "annotations": annotations,
                         "ownerReferences": [{"apiVersion": API_VERSION, "kind": "Workflow", "name": self.name,
                                              "uid": self.wf["metadata"]["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": pod_spec,
        }

    # ------------------------------------------------------------------ steps
    def _steps_node(self, node: dict | None, node_name: str, display: str, tmpl: dict, scope: _Scope,
                    boundary: str | None, inputs: dict | None, variables: dict[str, str], on_exit: bool) -> dict:
        if node is None:
            node = self._init_node(node_name, display, "Steps", "Running", boundary, tmpl, scope, inputs=inputs)
        scope_vars = dict(variables)
        previous: list[dict] = []
        for i, group in enumerate(tmpl.get("steps") or []):
            group_name = f"{node_name}[{i}]"
            gnode = self._node(group_name)
            if gnode is None:
                gnode = self._init_node(group_name, f"[{i}]", "StepGroup", "Running", node["id"], tmpl, scope)
                for parent in previous or [node]:
                    self._add_child(parent, gnode)
            children: list[dict] = []
            for step in group or []:
                step_name = f"{group_name}.{step.get('name', '')}"
                existing = self._node(step_name)
                resolved = substitute(step, scope_vars)
                if existing is None and resolved.get("when") is not None and not self._blocked(on_exit):
                    try:
                        ok = evaluate_when(str(resolved["when"]))
                    except ArgoError as exc:
                        child = self._init_node(step_name, step.get("name", ""), "Skipped", "Error", node["id"],
                                                None, scope, exc.message)
                        self._add_child(gnode, child)
                        children.append(child)
                        continue
                    if not ok:
                        child = self._init_node(step_name, step.get("name", ""), "Skipped", "Skipped", node["id"],
                                                None, scope, f"when '{resolved['when']}' evaluated false")
                        self._add_child(gnode, child)
                        children.append(child)
                        continue
                args = {p.get("name"): str(p.get("value", ""))
                        for p in (resolved.get("arguments") or {}).get("parameters") or []}
                executed = self.execute(step_name, step.get("name", ""), resolved, args, node["id"], scope, on_exit)
                if executed is not None:
                    self._add_child(gnode, executed)
                    children.append(executed)
            if any(c["phase"] not in NODE_COMPLETED for c in children) or len(children) < len(group or []):
                return node
            failed = next((c for c, s in zip(children, group or [], strict=False) if c["phase"] not in NODE_OK
                           and not _continues(s, c["phase"])), None)
            for c, s in zip(children, group or [], strict=False):
                _export(scope_vars, "steps", s.get("name", ""), c)
            if failed is not None:
                message = f"child '{failed['id']}' failed"
                self._mark(gnode, "Failed", message)
                return self._mark(node, "Failed", message)
            self._mark(gnode, "Succeeded", None)
            previous = children
        self._template_outputs(node, tmpl, scope_vars)
        return self._mark(node, node["phase"] if node["phase"] in NODE_COMPLETED else "Succeeded", None)

    def _template_outputs(self, node: dict, tmpl: dict, scope_vars: dict[str, str]) -> None:
        params = []
        for p in (tmpl.get("outputs") or {}).get("parameters") or []:
            value_from = p.get("valueFrom") or {}
            value = None
            if "parameter" in value_from:
                value = substitute(value_from["parameter"], scope_vars)
                if _PLACEHOLDER.search(str(value)):
                    value = None
            if value is None:
                value = value_from.get("default", p.get("value"))
            if value is None:
                self._mark(node, "Error", f"unable to resolve outputs.parameters.{p.get('name')}")
                return
            params.append(_output_param(p, str(value)))
        if params:
            node["outputs"] = {"parameters": params}

    # ------------------------------------------------------------------ dag
    def _dag_node(self, node: dict | None, node_name: str, display: str, tmpl: dict, scope: _Scope,
                  boundary: str | None, inputs: dict | None, variables: dict[str, str], on_exit: bool) -> dict:
        if node is None:
            node = self._init_node(node_name, display, "DAG", "Running", boundary, tmpl, scope, inputs=inputs)
        dag = tmpl.get("dag") or {}
        tasks = {t.get("name", ""): t for t in dag.get("tasks") or []}
        fail_fast = dag.get("failFast", True)

        def deps_of(task: dict) -> list[str]:
            if task.get("depends"):
                return depends_tasks(str(task["depends"]))
            return list(task.get("dependencies") or [])

        handled = set()
        for t in tasks.values():
            if t.get("depends"):
                for token in _DEPENDS_TOKEN.findall(str(t["depends"])):
                    task_name, _, what = token.partition(".")
                    if what in ("Failed", "Errored", "Completed", "AllFailed"):
                        handled.add(task_name)
        scope_vars = dict(variables)
        for _ in range(len(tasks) + 1):
            progressed = False
            phases = {}
            for tname in tasks:
                tnode = self._node(f"{node_name}.{tname}")
                if tnode is not None:
                    phases[tname] = tnode["phase"]
                    if tnode["phase"] in NODE_COMPLETED:
                        _export(scope_vars, "tasks", tname, tnode)
            unhandled = [t for t, ph in phases.items() if ph in ("Failed", "Error") and t not in handled
                         and not _continues(tasks[t], ph)]
            for tname, task in tasks.items():
                task_node_name = f"{node_name}.{tname}"
                tnode = self._node(task_node_name)
                if tnode is not None:
                    if tnode["phase"] not in NODE_COMPLETED:
                        resolved = substitute(task, scope_vars)
                        args = {p.get("name"): str(p.get("value", ""))
                                for p in (resolved.get("arguments") or {}).get("parameters") or []}
                        before = tnode["phase"]
                        tnode = self.execute(task_node_name, tname, resolved, args, node["id"], scope, on_exit)
                        progressed = progressed or (tnode is not None and tnode["phase"] != before)
                    continue
                deps = deps_of(task)
                if any(phases.get(d) not in NODE_COMPLETED for d in deps):
                    continue
                if fail_fast and unhandled:
                    continue
                resolved = substitute(task, scope_vars)
                parents = [self._node(f"{node_name}.{d}") for d in deps]
                try:
                    if task.get("depends"):
                        runnable = evaluate_depends(str(task["depends"]), phases)
                    else:
                        runnable = all(phases.get(d) in ("Succeeded", "Skipped") for d in deps)
                        if not runnable:
                            continue  # `dependencies` on a failed task: never scheduled
                except ArgoError as exc:
                    tnode = self._init_node(task_node_name, tname, "Skipped", "Error", node["id"], None, scope,
                                            exc.message)
                    runnable = None
                if runnable is False:
                    tnode = self._init_node(task_node_name, tname, "Skipped", "Omitted", node["id"], None, scope,
                                            "omitted: depends condition not met")
                elif runnable and resolved.get("when") is not None and not self._blocked(on_exit):
                    try:
                        if not evaluate_when(str(resolved["when"])):
                            tnode = self._init_node(task_node_name, tname, "Skipped", "Skipped", node["id"], None,
                                                    scope, f"when '{resolved['when']}' evaluated false")
                    except ArgoError as exc:
                        tnode = self._init_node(task_node_name, tname, "Skipped", "Error", node["id"], None, scope,
                                                exc.message)
                if tnode is None:
                    args = {p.get("name"): str(p.get("value", ""))
                            for p in (resolved.get("arguments") or {}).get("parameters") or []}
                    tnode = self.execute(task_node_name, tname, resolved, args, node["id"], scope, on_exit)
                if tnode is None:
                    continue
                for parent in [p for p in parents if p is not None] or [node]:
                    self._add_child(parent, tnode)
                progressed = True
                phases[tname] = tnode["phase"]
            if not progressed:
                break
        phases = {t: n["phase"] for t in tasks if (n := self._node(f"{node_name}.{t}")) is not None}
        if any(ph not in NODE_COMPLETED for ph in phases.values()):
            return node
        for tname in phases:
            _export(scope_vars, "tasks", tname, self._node(f"{node_name}.{tname}") or {})
        failed = [t for t, ph in phases.items() if ph in ("Failed", "Error") and t not in handled
                  and not _continues(tasks[t], ph)]
        if not failed:
            # A task never scheduled because a `dependencies` parent failed leaves the DAG failed too.
            waiting = [t for t in tasks if t not in phases]
            if waiting and not self.shutdown:
                failed = [d for t in waiting for d in deps_of(tasks[t]) if phases.get(d) in ("Failed", "Error")]
        if failed:
            message = f"child '{self._id(f'{node_name}.{failed[0]}')}' failed"
            return self._mark(node, "Failed", message)
        if self.shutdown and len(phases) < len(tasks):
            return self._mark(node, "Failed", self.shutdown_message)
        self._template_outputs(node, tmpl, scope_vars)
        return self._mark(node, node["phase"] if node["phase"] in NODE_COMPLETED else "Succeeded", None)

    # ------------------------------------------------------------------ suspend and resource
    def _suspend_node(self, node: dict | None, node_name: str, display: str, tmpl: dict, scope: _Scope,
                      boundary: str | None, inputs: dict | None) -> dict:
        if node is None:
            node = self._init_node(node_name, display, "Suspend", "Running", boundary, tmpl, scope, inputs=inputs)
        if self.shutdown and not self._is_exit_node(node):
            return self._mark(node, "Failed", self.shutdown_message)
        duration = (tmpl.get("suspend") or {}).get("duration")
        if duration not in (None, ""):
            seconds = _duration_seconds(str(duration))
            left = (epoch_seconds(node.get("startedAt")) or 0) + seconds - datetime.now(timezone.utc).timestamp()
            if left <= 0:
                return self._mark(node, "Succeeded", None)
            self._wake(left + 0.05)
        return node

    def _resource_node(self, node: dict | None, node_name: str, display: str, tmpl: dict, scope: _Scope,
                       boundary: str | None, inputs: dict | None) -> dict:
        if node is not None:
            return node
        node = self._init_node(node_name, display, "Pod", "Running", boundary, tmpl, scope, inputs=inputs)
        resource = tmpl.get("resource") or {}
        action = resource.get("action", "create")
        try:
            manifest = yaml.safe_load(resource.get("manifest") or "") or {}
            rt = self.api.resource(manifest.get("apiVersion", ""), manifest.get("kind", ""))
            ns = self.namespace if rt.namespaced else None
            if ns is not None:
                manifest.setdefault("metadata", {}).setdefault("namespace", ns)
            if resource.get("setOwnerReference"):
                manifest.setdefault("metadata", {})["ownerReferences"] = [{
                    "apiVersion": API_VERSION, "kind": "Workflow", "name": self.name,
                    "uid": self.wf["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
            meta = manifest.get("metadata") or {}
            if action == "delete":
                if self.api.delete(rt.api_version, rt.kind, ns, meta.get("name", "")) is None:
                    raise errors.not_found(rt.plural, meta.get("name", ""), rt.group)
                return self._mark(node, "Succeeded", None)
            try:
                created = self.api.create(manifest, ns)
            except errors.ApiError as exc:
                if exc.code != 409 or action not in ("apply", "replace"):
                    raise
                created = self.api.replace(manifest)
        except (errors.ApiError, yaml.YAMLError, AttributeError) as exc:
            return self._mark(node, "Failed", getattr(exc, "message", str(exc)))
        node["outputs"] = {"parameters": [_output_param(p, str(p.get("value", created["metadata"]["name"])))
                                          for p in (tmpl.get("outputs") or {}).get("parameters") or []]}
        if not node["outputs"]["parameters"]:
            node.pop("outputs")
        return self._mark(node, "Succeeded", None)


class _Scope:
    """The templates a reference resolves against, and Argo's templateScope (``namespaced/<name>``...)."""

    def __init__(self, templates: list[dict], name: str) -> None:
        self.templates = {t.get("name", ""): t for t in templates}
        self.name = name


def _node_type(tmpl: dict) -> str:
    for key, type_ in (("container", "Pod"), ("script", "Pod"), ("resource", "Pod"), ("steps", "Steps"),
                       ("dag", "DAG"), ("suspend", "Suspend")):
        if key in tmpl:
            return type_
    return "Skipped"


def _continues(step: dict, phase: str) -> bool:
    cont = step.get("continueOn") or {}
    return bool((phase == "Failed" and cont.get("failed")) or (phase == "Error" and cont.get("error")))


def _export(variables: dict[str, str], prefix: str, name: str, node: dict) -> None:
    """What later steps/tasks may reference: outputs.parameters.*, outputs.result, exitCode, status."""
    outputs = node.get("outputs") or {}
    for p in outputs.get("parameters") or []:
        variables[f"{prefix}.{name}.outputs.parameters.{p['name']}"] = str(p.get("value", ""))
    if "result" in outputs:
        variables[f"{prefix}.{name}.outputs.result"] = outputs["result"]
    if "exitCode" in outputs:
        variables[f"{prefix}.{name}.exitCode"] = outputs["exitCode"]
    if node.get("phase"):
        variables[f"{prefix}.{name}.status"] = node["phase"]
    if node.get("id"):
        variables[f"{prefix}.{name}.id"] = node["id"]


def _output_param(spec: dict, value: str) -> dict:
    out: dict[str, Any] = {"name": spec.get("name", ""), "value": value}
    if spec.get("valueFrom"):
        out["valueFrom"] = copy.deepcopy(spec["valueFrom"])
    if spec.get("globalName"):
        out["globalName"] = spec["globalName"]
    return out


def _duration_seconds(text: str) -> float:
    """A suspend duration: seconds ("20") or a Go-style duration ("1m30s", "2h")."""
    try:
        return float(text)
    except ValueError:
        pass
    total, found = 0.0, False
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text):
        found = True
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return total if found else 0.0
