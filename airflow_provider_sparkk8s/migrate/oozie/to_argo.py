"""The Argo emitter: an Oozie application (:mod:`ir`) as Argo Workflows manifests.

* each workflow → a ``WorkflowTemplate`` whose entrypoint ``main`` is a DAG, one task per Oozie action / kill;
* each coordinator (also those of a bundle) → a ``CronWorkflow`` running that template, and with
  ``argo_events=True`` an Argo Events calendar ``EventSource`` + ``Sensor`` as well.

How Oozie control flow becomes a DAG: every node is reached by an *arrival*, a ``depends`` expression over earlier
tasks (``X.Succeeded`` for ok, ``X.Failed || X.Errored`` for error) plus an optional ``when`` (the decision
predicates on the way). Convergence ORs arrivals, a join ANDs its fork paths. A ``when`` cannot be combined with
other arrivals, so where a decision branch meets other paths it becomes a *gate*: a pod-less task (``suspend`` of
0s) carrying the ``when``, whose ``.Succeeded`` then stands for "this branch was taken".

Parameters: the job properties become ``spec.arguments.parameters`` and the inputs of ``main``; every template
reads them as ``{{inputs.parameters.<name>}}`` (never ``workflow.parameters``) so that a parent workflow can run
the template through ``templateRef`` (an Oozie sub-workflow) and pass its own values.

Container contract for ``capture-output`` (shell, ssh): the step's command runs under a fixed wrapper script
(argv only, nothing spliced into it) that keeps stdout and writes each ``key=value`` line to
``/tmp/oozie-output/<key>``; the keys referenced by ``wf:actionData('<node>')['<key>']`` anywhere in the workflow
are declared as output parameters read from those files (empty when the key was not printed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_sparkk8s.migrate.argo_manifests import (
    ANNOTATION_PREFIX,
    MAIN,
    NOOP,
    Names,
    calendar_events,
    container,
    cron_workflow,
    dns_name,
    dump_files,
    lift_all,
    noop_template,
    param_mapping,
    param_name,
    spark_application_template,
    spark_submit_template,
    task_name,
    workflow_template,
)
from airflow_provider_sparkk8s.migrate.oozie import ir
from airflow_provider_sparkk8s.migrate.oozie.ir import Issue, Source

__all__ = ["KILL_SCRIPT", "dns_name", "render_argo"]

OUTPUT_DIR = "/tmp/oozie-output"
DEFAULT_RETRY_INTERVAL_MINUTES = 10  # Oozie's default user-retry interval
PLACEHOLDER_CRON = "0 0 1 1 *"  # keeps a suspended CronWorkflow valid when the schedule cannot be expressed
DEFAULT_IMAGES: Mapping[str, str] = {
    "shell": "bash:5.2",
    "java": "eclipse-temurin:17-jre",
    "map-reduce": "apache/hadoop:3.4.1",
    "pig": "apache/hadoop:3.4.1",
    "hive": "apache/hive:4.0.1",
    "hive2": "apache/hive:4.0.1",
    "sqoop": "apache/hadoop:3.4.1",
    "distcp": "apache/hadoop:3.4.1",
    "fs": "apache/hadoop:3.4.1",
    "email": "busybox:1.36",
    "ssh": "alpine/ssh:latest",
    "git": "alpine/git:2.45.2",
    "kill": "busybox:1.36",
    "unknown": "busybox:1.36",
}
# Fixed scripts: user values reach them only as positional arguments ($0, $1, ...), never spliced in.
KILL_SCRIPT = 'printf "%s\\n" "$0" >&2; exit 1'
CAPTURE_SCRIPT = (
    f'mkdir -p {OUTPUT_DIR} && "$0" "$@" > {OUTPUT_DIR}/.stdout; rc=$?; cat {OUTPUT_DIR}/.stdout; '
    "while IFS= read -r line; do case \"$line\" in '#'*|'!'*|'') ;; *=*) k=\"${line%%=*}\"; "
    "case \"$k\" in *[!A-Za-z0-9_.-]*) ;; *) printf '%s' \"${line#*=}\" > "
    f"\"{OUTPUT_DIR}/$k\";; esac;; esac; done < {OUTPUT_DIR}/.stdout; exit $rc"
)
EMAIL_SCRIPT = ("printf 'To: %s\\nCc: %s\\nBcc: %s\\nSubject: %s\\n\\n%s\\n' \"$0\" \"$1\" \"$2\" \"$3\" \"$4\" "
                "| sendmail -t")

_ACTION_DATA = re.compile(r"wf:actionData\(\s*['\"]([^'\"]+)['\"]\s*\)\s*\[\s*['\"]([^'\"]+)['\"]\s*\]")


# ------------------------------------------------------------------------------------------ public API


def render_argo(
    app: ir.Application,
    *,
    namespace: str = "argo",
    image_for: Mapping[str, str] | None = None,
    spark_image: str = "apache/spark:4.0.1",
    spark_mode: Literal["spark-submit", "spark-application"] = "spark-submit",
    service_account: str | None = None,
    argo_events: bool = False,
    workflow_template_prefix: str = "",
) -> tuple[dict[str, str], list[Issue]]:
    """Render ``app`` as Argo manifests: ``{relative file name: YAML text}`` (one manifest per file) and the
    issues found. Pure and deterministic: the same application renders byte-identical text."""
    if spark_mode not in ("spark-submit", "spark-application"):
        raise ValueError(f"spark_mode: expected 'spark-submit' or 'spark-application', not {spark_mode!r}")
    options = _Options(namespace, {**DEFAULT_IMAGES, **(image_for or {})}, spark_image, spark_mode, service_account)
    manifests: list[tuple[str, dict]] = []
    issues: list[Issue] = []
    templates = _template_names(app, workflow_template_prefix)
    parameters = _workflow_parameters(app)
    for key in sorted(app.workflows):
        workflow = app.workflows[key]
        emitter = _WorkflowEmitter(app, workflow, templates, parameters, options, issues)
        manifests.append((f"{templates[key]}.workflowtemplate.yaml", emitter.render()))
    cron_names = Names(limit=52)  # CronWorkflow names leave room for the suffix Argo appends to its Workflows
    for coordinator, bundled in _coordinators(app):
        manifests.extend(_render_coordinator(app, coordinator, bundled, templates, parameters, options, cron_names,
                                             argo_events, issues))
    return dump_files(manifests), issues


@dataclass(frozen=True)
class _Options:
    namespace: str
    images: Mapping[str, str]
    spark_image: str
    spark_mode: str
    service_account: str | None


def _template_names(app: ir.Application, prefix: str) -> dict[str, str]:
    names = Names(limit=63)
    return {key: names.claim(dns_name(prefix + app.workflows[key].name)) for key in sorted(app.workflows)}


def _workflow_key(app: ir.Application, workflow: ir.Workflow | None, app_path: str) -> str | None:
    """Which entry of ``app.workflows`` a coordinator or sub-workflow runs."""
    for key, candidate in app.workflows.items():
        if workflow is not None and candidate is workflow:
            return key
    wanted = app_path.rstrip("/").removesuffix("/workflow.xml").rstrip("/")
    for key, candidate in app.workflows.items():
        if key and wanted.endswith(key.rstrip("/")):
            return key
        if workflow is not None and candidate.name == workflow.name:
            return key
    return None


def _workflow_parameters(app: ir.Application) -> dict[str, dict[str, str | None]]:
    """Per workflow: Oozie property → default value (None: required). The job properties, the workflow's
    ``<parameters>`` and whatever coordinators and parent workflows pass to it."""
    extra: dict[str, set[str]] = {key: set() for key in app.workflows}
    for coordinator, _ in _coordinators(app):
        key = _workflow_key(app, coordinator.workflow, coordinator.app_path)
        if key is not None:
            extra[key].update(coordinator.configuration)
    for workflow in app.workflows.values():
        for action in workflow.actions:
            if isinstance(action.body, ir.SubWorkflowAction):
                key = _workflow_key(app, action.body.workflow, action.body.app_path)
                if key is not None:
                    extra[key].update(action.body.configuration)
    out: dict[str, dict[str, str | None]] = {}
    for key, workflow in app.workflows.items():
        names = sorted(set(app.properties) | set(workflow.parameters) | extra[key])
        out[key] = {name: app.properties.get(name, workflow.parameters.get(name)) for name in names}
    return out


def _coordinators(app: ir.Application) -> list[tuple[ir.Coordinator, ir.BundleCoordinator | None]]:
    found: list[tuple[ir.Coordinator, ir.BundleCoordinator | None]] = []
    bundled = {id(bc.coordinator): bc for bc in (app.bundle.coordinators if app.bundle else []) if bc.coordinator}
    for coordinator in app.coordinators:
        found.append((coordinator, bundled.pop(id(coordinator), None)))
    found.extend((bc.coordinator, bc) for bc in bundled.values() if bc.coordinator is not None)
    return found


# ------------------------------------------------------------------------------------------ EL


def _el() -> Any:
    from airflow_provider_sparkk8s.migrate.oozie import el  # imported late: written alongside this module

    return el


@dataclass
class _Translator:
    """Translates EL of one workflow (or coordinator) for Argo and collects the issues."""

    parameters: Mapping[str, str]  # Oozie property → Argo parameter name
    task_ids: Mapping[str, str]
    app_name: str
    coordinator: bool
    issues: list[Issue]
    parameter_scope: str = "inputs.parameters"

    def __call__(self, text: str | None, source: Source, element: str, condition: bool = False) -> str:
        if not text or "${" not in text:
            return text or ""
        el = _el()
        ctx = el.ElContext(parameters={k: f"{self.parameter_scope}.{v}" for k, v in self.parameters.items()},
                           task_ids=dict(self.task_ids), app_name=self.app_name, coordinator=self.coordinator)
        result = el.translate(text, source, "argo", ctx, condition=condition, element=element)
        self.issues.extend(result.issues)
        return result.text

    def many(self, texts: Iterable[str], source: Source, element: str) -> list[str]:
        return [self(text, source, element) for text in texts]


# ------------------------------------------------------------------------------------------ workflow


@dataclass
class _Arrival:
    """How control reaches a node: ``depends`` (None: at the start) and an optional ``when``."""

    depends: str | None
    when: str | None = None


@dataclass
class _Task:
    name: str
    template: str | None = None
    template_ref: dict[str, str] | None = None
    depends: str | None = None
    when: str | None = None
    arguments: dict[str, str] = field(default_factory=dict)
    continue_on: bool = False

    def as_dict(self) -> dict[str, Any]:
        task: dict[str, Any] = {"name": self.name}
        if self.template_ref is not None:
            task["templateRef"] = self.template_ref
        else:
            task["template"] = self.template
        if self.depends:
            task["depends"] = self.depends
        if self.when:
            task["when"] = self.when
        if self.arguments:
            task["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in self.arguments.items()]}
        if self.continue_on:
            task["continueOn"] = {"failed": True, "error": True}
        return task


def _and(*conditions: str | None) -> str | None:
    present = [c for c in conditions if c]
    if len(present) <= 1:
        return present[0] if present else None
    return " && ".join(f"({c})" for c in present)


def _group(expression: str) -> str:
    return f"({expression})" if " " in expression else expression


class _WorkflowEmitter:
    def __init__(self, app: ir.Application, workflow: ir.Workflow, templates: Mapping[str, str],
                 parameters: Mapping[str, Mapping[str, str | None]], options: _Options, issues: list[Issue]) -> None:
        self.app = app
        self.workflow = workflow
        self.key = next(k for k, w in app.workflows.items() if w is workflow)
        self.templates_by_key = templates
        self.all_parameters = parameters
        self.options = options
        self.issues = issues
        self.defaults = parameters[self.key]
        self.params = param_mapping(self.defaults)
        names = Names(reserved=(MAIN, NOOP))
        self.task_of = {node: names.claim(task_name(node)) for node in workflow.nodes
                        if isinstance(workflow.nodes[node], (ir.Action, ir.Kill))}
        self.names = names
        self.tr = _Translator(self.params, self.task_of, workflow.name, False, issues)
        self.tasks: list[_Task] = []
        self.leaf_templates: list[dict[str, Any]] = []
        self.uses_noop = False
        self.captured = _captured_keys(workflow)

    # -------------------------------------------------------------- manifest
    def render(self) -> dict[str, Any]:
        self._build_dag()
        wf = self.workflow
        # a handled failure (error transition) must not stop the other paths
        fail_fast = False if any(".Failed" in (t.depends or "") for t in self.tasks) else None
        templates = [*self.leaf_templates, *([noop_template()] if self.uses_noop else [])]
        annotations = {f"{ANNOTATION_PREFIX}oozie-workflow": wf.name,
                       f"{ANNOTATION_PREFIX}oozie-source": str(wf.source)}
        return workflow_template(self.templates_by_key[self.key], self.options.namespace, annotations,
                                 {name: self.defaults[key] for key, name in self.params.items()},
                                 [t.as_dict() for t in self.tasks], templates,
                                 service_account=self.options.service_account, fail_fast=fail_fast)

    # -------------------------------------------------------------- control flow
    def _build_dag(self) -> None:
        wf = self.workflow
        order = _topological(wf)
        incoming: dict[str, list[tuple[str, _Arrival]]] = {name: [] for name in wf.nodes}
        if wf.start in incoming:
            incoming[wf.start].append(("", _Arrival(None)))
        joins = _join_paths(wf)
        for name in order:
            node = wf.nodes[name]
            edges = incoming[name]
            if not edges or isinstance(node, ir.End):
                continue
            arrival = self._merge(name, edges, joins.get(name))
            for target, out in self._visit(node, arrival):
                if target in incoming:
                    incoming[target].append((name, out))
        for node in wf.actions:
            task = self._task(node.name)
            if task is not None and not any(f"{task.name}.Failed" in (t.depends or "") for t in self.tasks):
                task.continue_on = True  # the error transition reaches <end> without a task: Oozie succeeds

    def _task(self, node: str) -> _Task | None:
        name = self.task_of.get(node)
        return next((t for t in self.tasks if t.name == name), None)

    def _merge(self, name: str, edges: list[tuple[str, _Arrival]], fork_paths: list[set[str]] | None) -> _Arrival:
        if len(edges) == 1:
            return edges[0][1]
        terms = [(source, self._materialise(source, name, arrival)) for source, arrival in edges]
        if fork_paths is None:
            return _Arrival(" || ".join(_group(term) for _, term in terms))
        groups = []
        for members in fork_paths:
            alternatives = [term for source, term in terms if source in members]
            if alternatives:
                groups.append(" || ".join(_group(t) for t in alternatives))
        return _Arrival(" && ".join(_group(g) for g in groups))

    def _materialise(self, source: str, target: str, arrival: _Arrival) -> str:
        """A ``depends`` term for one of several ways into a node; a ``when`` on the way needs a gate task."""
        if arrival.when is None and arrival.depends is not None:
            return arrival.depends
        gate = _Task(self.names.claim(task_name(f"{source}-to-{target}")), NOOP, depends=arrival.depends,
                     when=arrival.when)
        self.uses_noop = True
        self.tasks.append(gate)
        return f"{gate.name}.Succeeded"

    def _visit(self, node: ir.AnyNode, arrival: _Arrival) -> list[tuple[str, _Arrival]]:
        if isinstance(node, ir.Start):
            return [(node.to, arrival)]
        if isinstance(node, ir.Action):
            name = self.task_of[node.name]
            self._add_action(node, name, arrival)
            failed = _Arrival(f"{name}.Failed || {name}.Errored")
            return [(node.ok, _Arrival(f"{name}.Succeeded")), (node.error, failed)]
        if isinstance(node, ir.Kill):
            self._add_kill(node, arrival)
            return []
        if isinstance(node, ir.Decision):
            return self._decision(node, arrival)
        if isinstance(node, ir.Fork):
            return [(path, arrival) for path in node.paths]
        if isinstance(node, ir.Join):
            return [(node.to, arrival)]
        return []  # End

    def _decision(self, node: ir.Decision, arrival: _Arrival) -> list[tuple[str, _Arrival]]:
        """Oozie takes the first case that holds: case i also needs every earlier case false; the default,
        all of them."""
        out = []
        earlier: list[str] = []
        for i, (predicate, target) in enumerate(node.cases):
            condition = self.tr(predicate, node.source, f"decision {node.name} case {i + 1}", condition=True)
            negations = [f"!({c})" for c in earlier]
            out.append((target, _Arrival(arrival.depends, _and(arrival.when, condition, *negations))))
            earlier.append(condition)
        negations = [f"!({c})" for c in earlier]
        out.append((node.default, _Arrival(arrival.depends, _and(arrival.when, *negations))))
        return out

    # -------------------------------------------------------------- tasks
    def _add_kill(self, node: ir.Kill, arrival: _Arrival) -> None:
        name = self.task_of[node.name]
        message = self.tr(node.message, node.source, f"kill {node.name}")
        template = {"name": name, "container": {"image": self.options.images["kill"],
                                                 "command": ["sh", "-c", KILL_SCRIPT], "args": [message]}}
        self._add(name, template, arrival)

    def _add_action(self, node: ir.Action, name: str, arrival: _Arrival) -> None:
        body = node.body
        if isinstance(body, ir.SubWorkflowAction):
            self._add_sub_workflow(node, body, name, arrival)
            return
        builder = _BUILDERS.get(type(body))
        element = f"action {node.name}"
        if builder is None:
            self.issues.append(Issue("unsupported", f"action type {getattr(body, 'tag', body.kind)!r} has no Argo "
                                     "equivalent; the step fails with a message saying so", node.source, element))
            message = f"oozie action {node.name!r} ({getattr(body, 'tag', body.kind)}) was not migrated"
            template = {"name": name, "container": {"image": self.options.images["unknown"],
                                                     "command": ["sh", "-c", KILL_SCRIPT], "args": [message]}}
        else:
            template = builder(self, node, body, name)
            template = self._with_prepare(node, getattr(body, "common", None), template)
        outputs = self.captured.get(node.name)
        if outputs and getattr(body, "capture_output", False):
            _add_outputs(template, outputs)
        elif outputs:
            self.issues.append(Issue("unsupported", f"wf:actionData('{node.name}') is used but the action has no "
                                     "capture-output; its keys are empty", node.source, element))
        if node.retry_max:
            interval = node.retry_interval_minutes or DEFAULT_RETRY_INTERVAL_MINUTES
            backoff: dict[str, Any] = {"duration": f"{interval}m"}
            if node.retry_policy == "exponential":
                backoff["factor"] = "2"
            template["retryStrategy"] = {"limit": str(node.retry_max), "retryPolicy": "Always", "backoff": backoff}
        self._add(name, template, arrival)

    def _add(self, name: str, template: dict[str, Any], arrival: _Arrival) -> None:
        """Add a leaf template (and any templates it wraps) and the task running it, passing the parameters and
        task outputs its text references as inputs (templates cannot see the DAG's scope)."""
        templates, needed = lift_all(template)
        self.leaf_templates.extend(templates)
        self.tasks.append(_Task(name, name, depends=arrival.depends, when=arrival.when, arguments=needed))

    def _add_sub_workflow(self, node: ir.Action, body: ir.SubWorkflowAction, name: str, arrival: _Arrival) -> None:
        key = _workflow_key(self.app, body.workflow, body.app_path)
        element = f"action {node.name}"
        if key is None:
            ref = dns_name(body.app_path.rstrip("/").removesuffix("/workflow.xml").rsplit("/", 1)[-1])
            self.issues.append(Issue("approximated", f"sub-workflow {body.app_path!r} is not part of the input; the "
                                     f"task expects a WorkflowTemplate named {ref!r}", node.source, element))
            child_params: Mapping[str, str] = {}
        else:
            ref = self.templates_by_key[key]
            child_params = param_mapping(self.all_parameters[key])
        arguments: dict[str, str] = {}
        if body.propagate_configuration:
            for prop, mine in self.params.items():
                if prop in child_params:
                    arguments[child_params[prop]] = f"{{{{inputs.parameters.{mine}}}}}"
        for prop, value in body.configuration.items():
            target = child_params.get(prop, param_name(prop))
            arguments[target] = self.tr(value, node.source, f"{element} configuration {prop}")
        self.tasks.append(_Task(name, template_ref={"name": ref, "template": MAIN}, depends=arrival.depends,
                                when=arrival.when, arguments=arguments))

    def _with_prepare(self, node: ir.Action, common: ir.ActionCommon | None, template: dict[str, Any]
                      ) -> dict[str, Any]:
        """``<prepare>`` runs first: the action becomes steps (prepare operations, then the action)."""
        if common is None or not common.prepare.operations:
            return template
        name = template["name"]
        steps: list[list[dict[str, Any]]] = []
        children = []
        for i, (op, path) in enumerate(common.prepare.operations, start=1):
            path = self.tr(path, node.source, f"action {node.name} prepare")
            argv = ["hdfs", "dfs", "-rm", "-r", "-f", path] if op == "delete" else ["hdfs", "dfs", "-mkdir", "-p", path]
            child = {"name": f"{name}-prepare-{i}",
                     "container": {"image": self.options.images["fs"], "command": argv[:1], "args": argv[1:]}}
            children.append(child)
            steps.append([{"name": f"prepare-{i}", "template": child["name"]}])
        main = {**template, "name": f"{name}-run"}
        children.append(main)
        steps.append([{"name": "run", "template": main["name"]}])
        return {"name": name, "steps": steps, "_children": children}

    # -------------------------------------------------------------- helpers for builders
    def image(self, kind: str) -> str:
        return self.options.images.get(kind) or DEFAULT_IMAGES.get(kind) or DEFAULT_IMAGES["unknown"]

    def note(self, level: ir.IssueLevel, message: str, node: ir.Action) -> None:
        self.issues.append(Issue(level, message, node.source, f"action {node.name}"))


# ------------------------------------------------------------------------------------------ graph helpers


def _successors(node: ir.AnyNode) -> list[str]:
    if isinstance(node, (ir.Start, ir.Join)):
        return [node.to]
    if isinstance(node, ir.Action):
        return [node.ok, node.error]
    if isinstance(node, ir.Decision):
        return [t for _, t in node.cases] + [node.default]
    if isinstance(node, ir.Fork):
        return list(node.paths)
    return []


def _topological(wf: ir.Workflow) -> list[str]:
    """Nodes reachable from the start, each after all its predecessors (the parser rejects cycles); ties in
    document order, so the output is stable."""
    reachable: list[str] = []
    stack = [wf.start]
    while stack:
        name = stack.pop()
        if name in wf.nodes and name not in reachable:
            reachable.append(name)
            stack.extend(reversed(_successors(wf.nodes[name])))
    indegree = {name: 0 for name in reachable}
    for name in reachable:
        for succ in _successors(wf.nodes[name]):
            if succ in indegree:
                indegree[succ] += 1
    position = {name: i for i, name in enumerate(wf.nodes)}
    ready = sorted((n for n, d in indegree.items() if d == 0), key=position.__getitem__)
    order = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for succ in _successors(wf.nodes[name]):
            if succ in indegree:
                indegree[succ] -= 1
                if indegree[succ] == 0:
                    ready.append(succ)
                    ready.sort(key=position.__getitem__)
    return order


def _reach(wf: ir.Workflow, start: str, stop: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        name = stack.pop()
        if name == stop or name in seen or name not in wf.nodes:
            continue
        seen.add(name)
        stack.extend(_successors(wf.nodes[name]))
    return seen


def _join_paths(wf: ir.Workflow) -> dict[str, list[set[str]]]:
    """For each join: the nodes of each path of its fork (a join waits for every path, whichever way a decision
    inside a path went)."""
    out: dict[str, list[set[str]]] = {}
    for fork in (n for n in wf.nodes.values() if isinstance(n, ir.Fork)):
        candidates = None
        for path in fork.paths:
            joins = {n for n in _reach(wf, path, "") if isinstance(wf.nodes[n], ir.Join)}
            candidates = joins if candidates is None else candidates & joins
        order = _topological(wf)
        join = min(candidates or (), key=lambda n: order.index(n) if n in order else len(order), default=None)
        if join is not None:
            out[join] = [_reach(wf, path, join) for path in fork.paths]
    return out


def _captured_keys(wf: ir.Workflow) -> dict[str, list[str]]:
    """node → the keys of its captured output that EL anywhere in the workflow reads (wf:actionData)."""
    texts: list[str] = []
    for node in wf.nodes.values():
        if isinstance(node, ir.Decision):
            texts.extend(p for p, _ in node.cases)
        elif isinstance(node, ir.Kill):
            texts.append(node.message)
        elif isinstance(node, ir.Action):
            texts.extend(_strings(node.body))
    keys: dict[str, list[str]] = {}
    for text in texts:
        for node, key in _ACTION_DATA.findall(text):
            if key not in keys.setdefault(node, []):
                keys[node].append(key)
    return keys


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
    elif hasattr(value, "__dataclass_fields__") and not isinstance(value, ir.Workflow):
        for name in value.__dataclass_fields__:
            yield from _strings(getattr(value, name))


def _add_outputs(template: dict[str, Any], keys: list[str]) -> None:
    names = Names()
    params = [{"name": names.claim(param_name(key)), "valueFrom": {"path": f"{OUTPUT_DIR}/{key}", "default": ""}}
              for key in keys]
    target = template
    if "steps" in template:  # prepare wrapper: the outputs come from its last step
        target = template["_children"][-1]
        template["outputs"] = {"parameters": [
            {"name": p["name"], "valueFrom": {"parameter": f"{{{{steps.run.outputs.parameters.{p['name']}}}}}"}}
            for p in params]}
    target["outputs"] = {"parameters": params}


# ------------------------------------------------------------------------------------------ action builders


def _hadoop_conf(em: _WorkflowEmitter, node: ir.Action, common: ir.ActionCommon, flag: str = "-D") -> list[str]:
    out: list[str] = []
    for key, value in common.configuration.items():
        out += [flag, f"{key}={em.tr(value, node.source, f'action {node.name} configuration {key}')}"]
    return out


def _report_cache(em: _WorkflowEmitter, node: ir.Action, common: ir.ActionCommon) -> None:
    if common.files or common.archives:
        em.note("approximated", "<file>/<archive> are not shipped to the container: bake them into the image or "
                "mount them", node)


def _build_shell(em: _WorkflowEmitter, node: ir.Action, body: ir.ShellAction, name: str) -> dict[str, Any]:
    src, el = node.source, f"action {node.name}"
    argv = [em.tr(body.exec, src, el), *em.tr.many(body.arguments, src, el)]
    env = [(k, em.tr(v, src, el)) for k, v in body.env]
    _report_cache(em, node, body.common)
    if body.common.configuration:
        em.note("approximated", "the action <configuration> is not passed to the shell command", node)
    if body.capture_output and node.name in em.captured:
        argv = ["sh", "-c", CAPTURE_SCRIPT, *argv]
    return {"name": name, "container": container(em.image("shell"), argv, env)}


def _build_java(em: _WorkflowEmitter, node: ir.Action, body: ir.JavaAction, name: str) -> dict[str, Any]:
    src, el = node.source, f"action {node.name}"
    opts = [part for opt in em.tr.many(body.java_opts, src, el) for part in opt.split()]
    conf = [f"-D{k}={em.tr(v, src, el)}" for k, v in body.common.configuration.items()]
    argv = ["java", *opts, *conf, "-cp", "/opt/oozie/lib/*", em.tr(body.main_class, src, el),
            *em.tr.many(body.args, src, el)]
    _report_cache(em, node, body.common)
    if body.capture_output and node.name in em.captured:
        argv = ["sh", "-c", CAPTURE_SCRIPT, *argv]
        em.note("approximated", "capture-output: the main class must print key=value lines to stdout (Oozie "
                "reads the file named by oozie.action.output.properties)", node)
    return {"name": name, "container": container(em.image("java"), argv)}


def _build_map_reduce(em: _WorkflowEmitter, node: ir.Action, body: ir.MapReduceAction, name: str) -> dict[str, Any]:
    conf = _hadoop_conf(em, node, body.common)
    if body.streaming:
        argv = ["mapred", "streaming", *conf]
        for key in ("mapper", "reducer"):
            if body.streaming.get(key):
                argv += [f"-{key}", em.tr(str(body.streaming[key]), node.source, f"action {node.name}")]
        for env in body.streaming.get("env") or []:
            argv += ["-cmdenv", str(env)]
    else:
        argv = ["hadoop", "jar", "/opt/oozie/lib/job.jar", *conf]
        em.note("approximated", "a configuration-only map-reduce job has no command line: the step runs "
                "`hadoop jar /opt/oozie/lib/job.jar` with the configuration as -D options; point it to the job's "
                "driver", node)
    if body.pipes:
        em.note("unsupported", "map-reduce <pipes> is not migrated", node)
    _report_cache(em, node, body.common)
    return {"name": name, "container": container(em.image("map-reduce"), argv)}


def _build_pig(em: _WorkflowEmitter, node: ir.Action, body: ir.PigAction, name: str) -> dict[str, Any]:
    src, el = node.source, f"action {node.name}"
    argv = ["pig", *_hadoop_conf(em, node, body.common), "-f", em.tr(body.script, src, el)]
    for param in em.tr.many(body.params, src, el):
        argv += ["-param", param]
    argv += em.tr.many(body.args, src, el)
    _report_cache(em, node, body.common)
    return {"name": name, "container": container(em.image("pig"), argv)}


def _build_hive(em: _WorkflowEmitter, node: ir.Action, body: ir.HiveAction, name: str) -> dict[str, Any]:
    src, el = node.source, f"action {node.name}"
    if body.kind == "hive2":
        argv = ["beeline", "-u", em.tr(body.jdbc_url or "", src, el)]
        if body.password:
            em.note("approximated", "the hive2 password is not copied into the manifest: mount it from a Secret "
                    "and pass it with beeline -w <file>", node)
    else:
        argv = ["hive"]
    argv += _hadoop_conf(em, node, body.common, "--hiveconf")
    argv += ["-e", em.tr(body.query, src, el)] if body.query else ["-f", em.tr(body.script or "", src, el)]
    for param in em.tr.many(body.params, src, el):
        argv += ["--hivevar", param]
    argv += em.tr.many(body.args, src, el)
    _report_cache(em, node, body.common)
    return {"name": name, "container": container(em.image(body.kind), argv)}


def _build_sqoop(em: _WorkflowEmitter, node: ir.Action, body: ir.SqoopAction, name: str) -> dict[str, Any]:
    src, el = node.source, f"action {node.name}"
    words = em.tr(body.command, src, el).split() if body.command else em.tr.many(body.args, src, el)
    # Hadoop generic options (-D) must follow the tool name.
    argv = ["sqoop", *words[:1], *_hadoop_conf(em, node, body.common), *words[1:]]
    _report_cache(em, node, body.common)
    return {"name": name, "container": container(em.image("sqoop"), argv)}


def _build_distcp(em: _WorkflowEmitter, node: ir.Action, body: ir.DistcpAction, name: str) -> dict[str, Any]:
    src, el = node.source, f"action {node.name}"
    argv = ["hadoop", "distcp", *_hadoop_conf(em, node, body.common), *em.tr.many(body.args, src, el)]
    env = [("HADOOP_CLIENT_OPTS", em.tr(body.java_opts, src, el))] if body.java_opts else None
    return {"name": name, "container": container(em.image("distcp"), argv, env)}


def _fs_argv(em: _WorkflowEmitter, node: ir.Action, op: ir.FsOperation) -> list[str] | None:
    a = {k: em.tr(v, op.source or node.source, f"action {node.name} fs {op.op}") for k, v in op.attributes.items()}
    recursive = ["-R"] if op.recursive else []
    if op.op == "delete":
        return ["hdfs", "dfs", "-rm", "-r", "-f", *(["-skipTrash"] if a.get("skip-trash") == "true" else []),
                a.get("path", "")]
    if op.op == "mkdir":
        return ["hdfs", "dfs", "-mkdir", "-p", a.get("path", "")]
    if op.op == "move":
        return ["hdfs", "dfs", "-mv", a.get("source", ""), a.get("target", "")]
    if op.op == "chmod":
        if a.get("dir-files") == "false":
            em.note("approximated", "chmod dir-files=false: hdfs dfs -chmod also changes the files", node)
        return ["hdfs", "dfs", "-chmod", *recursive, a.get("permissions", ""), a.get("path", "")]
    if op.op == "touchz":
        return ["hdfs", "dfs", "-touchz", a.get("path", "")]
    if op.op == "chgrp":
        return ["hdfs", "dfs", "-chgrp", *recursive, a.get("group", ""), a.get("path", "")]
    if op.op == "setrep":
        return ["hdfs", "dfs", "-setrep", a.get("replication-factor", ""), a.get("path", "")]
    em.note("unsupported", f"fs operation {op.op!r} is not migrated", node)
    return None


def _build_fs(em: _WorkflowEmitter, node: ir.Action, body: ir.FsAction, name: str) -> dict[str, Any]:
    """One container per operation, run in order by a steps template (no shell)."""
    argvs = [argv for op in body.operations if (argv := _fs_argv(em, node, op)) is not None]
    if len(argvs) == 1:
        return {"name": name, "container": container(em.image("fs"), argvs[0])}
    children = [{"name": f"{name}-op-{i}", "container": container(em.image("fs"), argv)}
                for i, argv in enumerate(argvs, start=1)]
    if not children:  # an fs action without operations does nothing
        return {"name": name, "suspend": {"duration": "0"}}
    return {"name": name, "steps": [[{"name": f"op-{i}", "template": c["name"]}] for i, c in enumerate(children, 1)],
            "_children": children}


def _build_email(em: _WorkflowEmitter, node: ir.Action, body: ir.EmailAction, name: str) -> dict[str, Any]:
    src, el = node.source, f"action {node.name}"
    em.note("approximated", "email is sent with sendmail -t from the step's image (configure its mail relay); "
            "content type and attachments are not migrated" if body.attachments or body.content_type else
            "email is sent with sendmail -t from the step's image (configure its mail relay)", node)
    values = [",".join(em.tr.many(v, src, el)) for v in (body.to, body.cc, body.bcc)]
    argv = ["sh", "-c", EMAIL_SCRIPT, *values, em.tr(body.subject, src, el), em.tr(body.body, src, el)]
    return {"name": name, "container": container(em.image("email"), argv)}


def _build_ssh(em: _WorkflowEmitter, node: ir.Action, body: ir.SshAction, name: str) -> dict[str, Any]:
    src, el = node.source, f"action {node.name}"
    argv = ["ssh", "-o", "BatchMode=yes", em.tr(body.host, src, el), em.tr(body.command, src, el),
            *em.tr.many(body.args, src, el)]
    if body.capture_output and node.name in em.captured:
        argv = ["sh", "-c", CAPTURE_SCRIPT, *argv]
    em.note("approximated", "ssh needs the private key mounted in the step's pod", node)
    return {"name": name, "container": container(em.image("ssh"), argv)}


def _build_git(em: _WorkflowEmitter, node: ir.Action, body: ir.GitAction, name: str) -> dict[str, Any]:
    src, el = node.source, f"action {node.name}"
    argv = ["git", "clone", *(["--branch", em.tr(body.branch, src, el)] if body.branch else []),
            em.tr(body.git_uri, src, el), em.tr(body.destination_uri, src, el)]
    env = None
    if body.key_path:
        env = [("GIT_SSH_COMMAND", f"ssh -i {em.tr(body.key_path, src, el)} -o StrictHostKeyChecking=accept-new")]
        em.note("approximated", "git key-path must be mounted in the step's pod at the same path", node)
    em.note("approximated", "git clones into the destination path inside the container; copy it to shared "
            "storage if later steps need it", node)
    return {"name": name, "container": container(em.image("git"), argv, env)}


def _build_spark(em: _WorkflowEmitter, node: ir.Action, body: ir.SparkAction, name: str) -> dict[str, Any]:
    from airflow_provider_sparkk8s.spark_app import SparkApp

    src, el = node.source, f"action {node.name}"
    opts = body.spark_opts
    conf = {k: em.tr(v, src, f"{el} --conf {k}") for k, v in opts.conf.items()}
    for key, value in body.common.configuration.items():
        conf.setdefault(f"spark.hadoop.{key}", em.tr(value, src, f"{el} configuration {key}"))
    for key, setting in (("spark.jars.repositories", ",".join(opts.repositories)),
                         ("spark.jars.excludes", ",".join(opts.exclude_packages)),
                         ("spark.driver.extraJavaOptions", opts.driver_java_options),
                         ("spark.driver.extraClassPath", opts.driver_class_path),
                         ("spark.driver.extraLibraryPath", opts.driver_library_path),
                         ("spark.kerberos.principal", opts.principal), ("spark.kerberos.keytab", opts.keytab)):
        if setting:
            conf.setdefault(key, em.tr(setting, src, el))
    sizes = _spark_sizes(em, node, opts, conf)
    _report_spark(em, node, body)
    tr = em.tr
    try:
        spark = SparkApp(
            application=tr(body.application, src, el), name=tr(body.app_name, src, el) or node.name,
            main_class=tr(body.main_class, src, el) or None, application_args=tr.many(body.args, src, el),
            image=em.options.spark_image, service_account_name=em.options.service_account, conf=conf,
            jars=tr.many([*body.extra_jars, *opts.jars], src, el), py_files=tr.many(opts.py_files, src, el),
            files=tr.many([*opts.files, *body.common.files], src, el),
            archives=tr.many([*opts.archives, *body.common.archives], src, el),
            packages=tr.many(opts.packages, src, el), driver_memory=tr(opts.driver_memory, src, el) or None,
            executor_memory=tr(opts.executor_memory, src, el) or None, **sizes)
    except (TypeError, ValueError) as error:
        em.note("error", f"spark action cannot be converted: {error}", node)
        return {"name": name, "container": container(em.image("unknown"), ["sh", "-c", KILL_SCRIPT, str(error)])}
    if em.options.spark_mode == "spark-submit":
        em.note("approximated", "spark-submit in cluster mode exits 0 even when the driver fails: the step shows "
                "the submission, not the application's result (spark_mode='spark-application' waits for it)", node)
        return spark_submit_template(spark, name, em.options.namespace, em.options.spark_image)
    return spark_application_template(spark, name, em.options.namespace)


def _spark_sizes(em: _WorkflowEmitter, node: ir.Action, opts: ir.SparkOpts, conf: dict[str, str]) -> dict[str, Any]:
    """Sizes SparkApp takes as numbers; a value that is not one (EL) goes in as the Spark property instead."""
    sizes: dict[str, Any] = {}
    for arg, value, prop, kind in (("driver_cores", opts.driver_cores, "spark.driver.cores", float),
                                   ("executor_cores", opts.executor_cores, "spark.executor.cores", int),
                                   ("executor_instances", opts.num_executors, "spark.executor.instances", int)):
        if value is None:
            continue
        try:
            sizes[arg] = kind(value)
        except ValueError:
            conf.setdefault(prop, em.tr(value, node.source, f"action {node.name}"))
    return sizes


def _report_spark(em: _WorkflowEmitter, node: ir.Action, body: ir.SparkAction) -> None:
    master = body.master.lower()
    if body.mode == "client" or master in ("yarn-client", "local") or master.startswith("local["):
        em.note("approximated", f"master {body.master!r} / mode {body.mode or 'default'!r} becomes Kubernetes "
                "cluster mode", node)
    if body.spark_opts.unparsed:
        em.note("unsupported", f"spark-opts not migrated: {' '.join(body.spark_opts.unparsed)}", node)
    if body.spark_opts.properties_file:
        em.note("approximated", "--properties-file is not read: put its properties in --conf", node)
    if body.spark_opts.queue:
        em.note("approximated", "--queue (YARN) has no Kubernetes equivalent and is dropped", node)


_BUILDERS: dict[type, Callable[..., dict[str, Any]]] = {
    ir.SparkAction: _build_spark, ir.ShellAction: _build_shell, ir.JavaAction: _build_java,
    ir.MapReduceAction: _build_map_reduce, ir.PigAction: _build_pig, ir.HiveAction: _build_hive,
    ir.SqoopAction: _build_sqoop, ir.DistcpAction: _build_distcp, ir.FsAction: _build_fs,
    ir.EmailAction: _build_email, ir.SshAction: _build_ssh, ir.GitAction: _build_git,
}


# ------------------------------------------------------------------------------------------ coordinators


def _concurrency_policy(controls: ir.Controls, issue: Callable[[ir.IssueLevel, str], None]) -> str:
    execution = (controls.execution or "FIFO").upper()
    concurrency = controls.concurrency if controls.concurrency is not None else 1
    if execution in ("LAST_ONLY", "NONE"):
        issue("approximated", f"execution {execution}: concurrencyPolicy Replace (a new run replaces the running "
              "one; Oozie skips the runs that are late)")
        return "Replace"
    if execution == "LIFO":
        issue("approximated", "execution LIFO has no Argo equivalent; runs start in schedule order")
    if concurrency == 1:
        issue("approximated", "concurrency 1: concurrencyPolicy Forbid skips a run while the previous one is "
              "running (Oozie queues it)")
        return "Forbid"
    issue("approximated", f"concurrency {concurrency}: concurrencyPolicy Allow does not cap the number of "
          "concurrent runs")
    return "Allow"


def _render_coordinator(app: ir.Application, coordinator: ir.Coordinator, bundled: ir.BundleCoordinator | None,
                        templates: Mapping[str, str], parameters: Mapping[str, Mapping[str, str | None]],
                        options: _Options, names: Names, argo_events: bool, issues: list[Issue]
                        ) -> list[tuple[str, dict]]:
    from airflow_provider_sparkk8s.migrate.oozie import schedule as schedules

    src = coordinator.source

    def issue(level: ir.IssueLevel, message: str, element: str = "coordinator controls") -> None:
        issues.append(Issue(level, message, src, element))

    name = names.claim(dns_name(coordinator.name, 52))
    key = _workflow_key(app, coordinator.workflow, coordinator.app_path)
    if key is None:
        template = dns_name(coordinator.app_path.rstrip("/").removesuffix("/workflow.xml").rsplit("/", 1)[-1])
        issue("approximated", f"the workflow {coordinator.app_path!r} is not part of the input; the CronWorkflow "
              f"expects a WorkflowTemplate named {template!r}", "coordinator action")
        mapping = param_mapping(coordinator.configuration)
    else:
        template = templates[key]
        mapping = param_mapping(parameters[key])
    tr = _Translator(mapping, {}, coordinator.name, True, issues, parameter_scope="workflow.parameters")
    arguments = {mapping.get(k, param_name(k)): tr(v, src, f"coordinator configuration {k}")
                 for k, v in coordinator.configuration.items()}
    translation = schedules.translate_frequency(coordinator.frequency, coordinator.timezone, coordinator.start, src)
    issues.extend(issue for issue in translation.issues if issue.target != "airflow")
    annotations = {f"{ANNOTATION_PREFIX}oozie-coordinator": coordinator.name,
                   f"{ANNOTATION_PREFIX}oozie-source": str(src),
                   f"{ANNOTATION_PREFIX}oozie-frequency": coordinator.frequency.text or coordinator.frequency.cron,
                   f"{ANNOTATION_PREFIX}oozie-start": coordinator.start,
                   f"{ANNOTATION_PREFIX}oozie-end": coordinator.end}
    suspend = False
    if not translation.argo_cron:
        suspend = True
        annotations[f"{ANNOTATION_PREFIX}migration-note"] = (
            f"suspended: the frequency {coordinator.frequency.text or coordinator.frequency.cron!r} has no cron "
            "equivalent; the schedule is a placeholder" + ("; the calendar EventSource runs it" if argo_events
                                                           and translation.calendar else ""))
        issue("unsupported", "the frequency cannot be a CronWorkflow schedule: the CronWorkflow is suspended",
              "coordinator frequency")
    zone = translation.timezone or coordinator.timezone  # cron frequencies run in Oozie's server zone
    policy = _concurrency_policy(coordinator.controls, issue)
    timeout = coordinator.controls.timeout_minutes
    deadline = None
    if timeout is not None and timeout > 0:
        deadline = timeout * 60
        issue("approximated", f"timeout {timeout} min: startingDeadlineSeconds (a run that could not start in "
              "time is skipped; Oozie's timeout waits for input data)")
    if coordinator.controls.throttle is not None:
        issue("approximated", "throttle has no Argo equivalent")
    issue("approximated", f"start {coordinator.start} and end {coordinator.end} are not enforced by a "
          "CronWorkflow (kept as annotations): suspend or delete it outside that window", "coordinator start/end")
    if coordinator.datasets or coordinator.input_events:
        issue("unsupported", "datasets and input-events (waiting for data) are not migrated to Argo",
              "coordinator input-events")
    if bundled is not None and not bundled.enabled:
        suspend = True
    cron = cron_workflow(name, options.namespace, annotations, translation.argo_cron or PLACEHOLDER_CRON, template,
                         timezone=zone, concurrency_policy=policy, starting_deadline_seconds=deadline,
                         suspend=suspend, arguments=arguments)
    out: list[tuple[str, dict]] = [(f"{name}.cronworkflow.yaml", cron)]
    if argo_events and translation.calendar:
        out.extend(_argo_events(name, template, translation.calendar, arguments, options, src, issues))
    elif argo_events:
        issue("unsupported", "no calendar equivalent of the frequency: no EventSource rendered",
              "coordinator frequency")
    return out


def _argo_events(name: str, template: str, calendar: Mapping[str, Any], arguments: Mapping[str, str],
                 options: _Options, src: Source, issues: list[Issue]) -> list[tuple[str, dict]]:
    """The calendar EventSource + Sensor, rendered by the timetable that Airflow uses for the same calendar."""
    from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable

    static = {k: v for k, v in arguments.items() if "{{" not in v}
    if len(static) != len(arguments):
        issues.append(Issue("approximated", "the Sensor cannot fill workflow variables ({{...}}) in arguments: "
                            f"{', '.join(sorted(set(arguments) - set(static)))} keep the template's defaults; the "
                            "fire time is the event-time parameter", src, "coordinator configuration"))
    timetable = ArgoCalendarTimetable(calendar=dict(calendar), event_name="schedule")
    return calendar_events(name, template, timetable, static, options.namespace, options.service_account)
