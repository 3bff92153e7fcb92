"""The Airflow emitter: an :class:`ir.Application` becomes one DAG file per workflow (per coordinator when one runs it).

Public API: :func:`render_airflow`. Pure and deterministic: no I/O, no timestamps, no absolute paths; the same IR
gives byte-identical files. Generated files import only public names (``airflow.sdk``, the cncf.kubernetes, standard
and smtp providers, this provider's operators, timetable and :mod:`airflow_provider_sparkk8s.migrate.runtime`).

How Oozie's control flow maps (every inactive path ends *skipped*, so the leaves decide the run's state as Oozie's
end/kill nodes do):

* ``ok`` transitions are plain dependencies (``all_success``); a node several paths reach (decision branches,
  ok/error convergence) waits with ``none_failed_min_one_success``;
* an ``error`` transition to a kill node is the kill task's ``one_failed`` upstream; to any other node it goes
  through a small branch task (``<action>__route``, ``all_done``) that follows ``ok`` or ``error`` from the action's
  task states, so a handled failure lets the run succeed as in Oozie;
* kill → a task that raises ``AirflowFailException`` with the translated message (the run fails);
* decision → a ``BranchPythonOperator`` that picks the first case whose templated predicate renders true.
"""

from __future__ import annotations

import keyword
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from airflow_provider_sparkk8s.migrate.oozie import ir
from airflow_provider_sparkk8s.migrate.oozie.ir import Issue, Source

Launcher = Literal["spark-submit", "pod", "spark-operator"]
LINE = 120
DEFAULT_IMAGES: Mapping[str, str] = {
    "shell": "apache/hadoop:3.3.6",
    "java": "apache/hadoop:3.3.6",
    "map-reduce": "apache/hadoop:3.3.6",
    "distcp": "apache/hadoop:3.3.6",
    "fs": "apache/hadoop:3.3.6",
    "prepare": "apache/hadoop:3.3.6",
    "pig": "apache/pig:0.17.0",
    "hive": "apache/hive:4.0.0",
    "hive2": "apache/hive:4.0.0",
    "sqoop": "apache/sqoop:1.4.7",
    "ssh": "kroniak/ssh-client:3.19",
    "git": "alpine/git:2.47.2",
}
# Runs the action, echoes its stdout, and turns it (Java properties, like Oozie's capture-output) into the
# XCom JSON the KubernetesPodOperator sidecar reads. A constant: user values only ever arrive as "$@".
CAPTURE_SCRIPT = (
    r"""set -e; out=$("$@"); printf '%s\n' "$out"; mkdir -p /airflow/xcom; printf '%s\n' "$out" | awk '"""
    r"""function q(s,  o, i, c) { o = ""; for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); """
    r"""if (c == "\\" || c == "\"") o = o "\\"; o = o c } return o } BEGIN { printf "{" } """
    r"""/^[ \t]*[#!]/ { next } index($0, "=") > 0 { i = index($0, "="); printf "%s\"%s\": \"%s\"", """
    r"""(n++ ? ", " : ""), q(substr($0, 1, i - 1)), q(substr($0, i + 1)) } END { print "}" }' """
    r"""> /airflow/xcom/return.json"""
)
_HDFS = re.compile(r"^(hdfs://|/|\$\{\s*nameNode\s*\})")
_OOZIE_ONLY_CONF = ("oozie.launcher.", "oozie.action.", "mapred.job.queue.name", "mapreduce.job.queuename")

IMPORTS = {
    "DAG": "airflow.sdk",
    "Param": "airflow.sdk",
    "AirflowFailException": "airflow.sdk.exceptions",
    "KubernetesPodOperator": "airflow.providers.cncf.kubernetes.operators.pod",
    "EmptyOperator": "airflow.providers.standard.operators.empty",
    "BranchPythonOperator": "airflow.providers.standard.operators.python",
    "PythonOperator": "airflow.providers.standard.operators.python",
    "TriggerDagRunOperator": "airflow.providers.standard.operators.trigger_dagrun",
    "EmailOperator": "airflow.providers.smtp.operators.smtp",
    "SparkK8sOperator": "airflow_provider_sparkk8s.operators.spark",
    "ArgoCalendarTimetable": "airflow_provider_sparkk8s.timetables",
    "MACROS": "airflow_provider_sparkk8s.migrate.runtime",
}

def _pieces(text: str, width: int = 90) -> list[str]:
    """``text`` cut at spaces into pieces that concatenate back to it exactly."""
    return textwrap.wrap(text, width, drop_whitespace=False, replace_whitespace=False, expand_tabs=False,
                         break_on_hyphens=False)


HELPERS = {
    "oozie_decision": '''
def oozie_decision(cases: list[list[str]], default: str) -> str:
    """Oozie switch/case: the first case whose predicate rendered true wins, else the default."""
    for predicate, target in cases:
        if str(predicate).strip().lower() == "true":
            return target
    return default
''',
    "oozie_route": '''
def oozie_route(ti, watched: list[str], ok: str, error: str) -> list[str]:
    """After an action whose <error> leads to a node: follow <error> if one of its tasks failed, <ok> if all
    succeeded, nothing when the action was not on the run's path (skipped)."""
    states = ti.get_task_states(dag_id=ti.dag_id, task_ids=watched, run_ids=[ti.run_id]).get(ti.run_id, {})
    values = [str(getattr(state, "value", state)) for state in states.values()]
    if "failed" in values:
        return [error]
    return [ok] if values and all(value == "success" for value in values) else []
''',
    "oozie_kill": '''
def oozie_kill(message: str) -> None:
    """Oozie kill node: the workflow run fails with the node's message."""
    raise AirflowFailException(message)
''',
}
HELPERS["CAPTURE_OUTPUT"] = (
    "\n# capture-output: runs the action (its argv follows the script), echoes its stdout, and turns the\n"
    "# key=value lines into the XCom JSON. Constant: user values only arrive as \"$@\".\n"
    "CAPTURE_OUTPUT = (\n" + "".join(f"    {piece!r}\n" for piece in _pieces(CAPTURE_SCRIPT)) + ")\n"
)
HELPER_IMPORTS = {"oozie_kill": ["AirflowFailException"]}


class Code(str):
    """Python source emitted as is (not quoted)."""


@dataclass
class _Task:
    task_id: str
    operator: str
    kwargs: dict[str, Any]
    markers: list[str] = field(default_factory=list)
    var: str = ""


@dataclass
class _NodeTasks:
    entry: _Task
    exit: _Task
    watched: list[_Task]


# ------------------------------------------------------------------------------------------ public API


def render_airflow(
    app: ir.Application,
    *,
    image_for: Mapping[str, str] | None = None,
    namespace: str = "default",
    spark_image: str = "apache/spark:4.0.1",
    kubernetes_conn_id: str = "kubernetes_default",
    spark_launcher: Launcher = "spark-submit",
) -> tuple[dict[str, str], list[Issue]]:
    """Render ``app`` as Airflow DAG files: ``({file name: source}, issues)``.

    One file per coordinator (bundle coordinators included), holding the workflow it runs; one per workflow no
    coordinator runs (sub-workflow children included, triggered by their parent)."""
    options = _Options({**DEFAULT_IMAGES, **(image_for or {})}, namespace, spark_image, kubernetes_conn_id,
                       spark_launcher)
    files: dict[str, str] = {}
    issues: list[Issue] = []
    dag_ids = _DagIds()
    coordinators = list(app.coordinators)
    if app.bundle is not None:
        coordinators += [bc.coordinator for bc in app.bundle.coordinators
                         if bc.coordinator is not None and bc.coordinator not in coordinators]
    scheduled: set[int] = set()
    workflows = _all_workflows(app)
    for coordinator in coordinators:
        workflow = coordinator.workflow or app.workflows.get(coordinator.app_path)
        if workflow is not None:
            scheduled.add(id(workflow))
    children = {id(a.body.workflow) for w in workflows for a in w.actions
                if isinstance(a.body, ir.SubWorkflowAction) and a.body.workflow is not None}
    for workflow in workflows:  # dag ids first, so sub-workflow triggers name their child's DAG
        if id(workflow) not in scheduled or id(workflow) in children:
            dag_ids.workflow(workflow)
    disabled = {id(bc.coordinator) for bc in (app.bundle.coordinators if app.bundle else []) if not bc.enabled}
    for coordinator in coordinators:
        workflow = coordinator.workflow or app.workflows.get(coordinator.app_path)
        renderer = _DagRenderer(app, options, dag_ids, dag_ids.claim(coordinator.name), coordinator.source)
        renderer.paused = id(coordinator) in disabled
        files[renderer.file_name] = renderer.render(workflow, coordinator)
        issues += renderer.issues
    for workflow in workflows:
        if id(workflow) in scheduled and id(workflow) not in children:
            continue
        renderer = _DagRenderer(app, options, dag_ids, dag_ids.workflow(workflow), workflow.source)
        files[renderer.file_name] = renderer.render(workflow, None)
        issues += renderer.issues
    return dict(sorted(files.items())), issues


def dag_id_for(name: str) -> str:
    """A DAG id from an Oozie application name (letters, digits, ``_ . -``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name.strip()).strip("_") or "oozie_app"
    return cleaned[:200]


# ------------------------------------------------------------------------------------------ bookkeeping


@dataclass(frozen=True)
class _Options:
    images: Mapping[str, str]
    namespace: str
    spark_image: str
    kubernetes_conn_id: str
    spark_launcher: Launcher


class _DagIds:
    """Unique DAG ids, stable for a given input (first come, first named)."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.by_workflow: dict[int, str] = {}

    def claim(self, name: str) -> str:
        base = dag_id_for(name)
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}_{n}", n + 1
        self.used.add(candidate)
        return candidate

    def workflow(self, workflow: ir.Workflow) -> str:
        if id(workflow) not in self.by_workflow:
            self.by_workflow[id(workflow)] = self.claim(workflow.name)
        return self.by_workflow[id(workflow)]


def _all_workflows(app: ir.Application) -> list[ir.Workflow]:
    """Every workflow of the input, sorted by app path, with sub-workflow children not listed in ``workflows``."""
    found: list[ir.Workflow] = []

    def add(workflow: ir.Workflow) -> None:
        if any(w is workflow for w in found):
            return
        found.append(workflow)
        for action in workflow.actions:
            if isinstance(action.body, ir.SubWorkflowAction) and action.body.workflow is not None:
                add(action.body.workflow)

    for _, workflow in sorted(app.workflows.items()):
        add(workflow)
    return found


def _var_name(task_id: str, used: set[str]) -> str:
    base = re.sub(r"\W", "_", task_id)
    if not base or base[0].isdigit() or keyword.iskeyword(base) or base in ("dag", "pendulum", "timedelta"):
        base = f"t_{base}"
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name


# ------------------------------------------------------------------------------------------ one DAG file


class _DagRenderer:
    def __init__(self, app: ir.Application, options: _Options, dag_ids: _DagIds, dag_id: str, source: Source):
        self.app = app
        self.options = options
        self.dag_ids = dag_ids
        self.dag_id = dag_id
        self.source = source
        self.file_name = re.sub(r"\W", "_", dag_id) + ".py"
        self.issues: list[Issue] = []
        self.tasks: list[_Task] = []
        self.edges: list[tuple[_Task, _Task]] = []
        self.names: set[str] = set()
        self.used_names: set[str] = set()
        self.helpers: set[str] = set()
        self.current: _Task | None = None  # the task being built: unsupported items get a marker on it
        self.ctx: Any = None
        self.workflow_nodes: dict[str, ir.AnyNode] = {}
        self.params: dict[str, str] = {}
        self.paused = False  # a bundle coordinator with enabled="false"

    # -------------------------------------------------------------- issues and EL
    def issue(self, level: ir.IssueLevel, message: str, source: Source | None, element: str) -> None:
        item = Issue(level, message, source or self.source, element)
        self.issues.append(item)
        if level == "unsupported" and self.current is not None:
            self.current.markers.append(f"{item.source}: {message}")

    def el(self, text: str | None, source: Source, element: str, *, condition: bool = False) -> str:
        if text is None or (not condition and "${" not in text and "#{" not in text and "{" not in text):
            return text or ""
        from airflow_provider_sparkk8s.migrate.oozie import el

        result = el.translate(text, source, "airflow", self.ctx, condition=condition, element=element)
        for item in result.issues:
            self.issue(item.level, item.message, item.source, item.element)
        return result.text

    def el_list(self, values: list[str], source: Source, element: str) -> list[str]:
        return [self.el(value, source, element) for value in values]

    # -------------------------------------------------------------- document
    def render(self, workflow: ir.Workflow | None, coordinator: ir.Coordinator | None) -> str:
        self._set_params(workflow, coordinator)
        dag_kwargs = self._dag_kwargs(workflow, coordinator)
        if workflow is None:
            assert coordinator is not None
            self.issue("unsupported", f"the workflow at {coordinator.app_path!r} is not in the input; convert it "
                                      "and put its tasks in this DAG", coordinator.source, "coordinator action")
            placeholder = self._add("workflow", "EmptyOperator", {})
            placeholder.markers.append(f"{coordinator.source}: workflow {coordinator.app_path!r} not converted")
        else:
            waits = self._input_events(coordinator) if coordinator else []
            first = self._workflow(workflow)
            for wait in waits:
                if first is not None:
                    self.edges.append((wait, first))
        if coordinator is not None:
            self._output_events(coordinator)
        return self._document(workflow, coordinator, dag_kwargs)

    def _set_params(self, workflow: ir.Workflow | None, coordinator: ir.Coordinator | None) -> None:
        from airflow_provider_sparkk8s.migrate.oozie import el

        params = dict(self.app.properties)
        for holder in (workflow, coordinator):
            for name, default in (holder.parameters.items() if holder else ()):
                params.setdefault(name, default or "")
        self.params = dict(sorted(params.items()))
        references = {name: f"params[{name!r}]" for name in self.params}
        task_ids: dict[str, str] = dict(workflow and {n: n for n in workflow.nodes} or {})
        capture = frozenset(a.name for a in (workflow.actions if workflow else [])
                            if getattr(a.body, "capture_output", False))
        self.ctx = el.ElContext(parameters=references, task_ids=task_ids, app_name=workflow.name if workflow else "",
                                coordinator=coordinator is not None, capture_nodes=capture)
        if coordinator is not None:  # the coordinator's action configuration is the workflow's job conf
            for name, value in sorted(coordinator.configuration.items()):
                expression = self._expression(self.el(value, coordinator.source, f"configuration {name}"))
                references[name] = expression
            self.ctx = el.ElContext(parameters=references, task_ids=task_ids, app_name=self.ctx.app_name,
                                    coordinator=True, capture_nodes=capture)

    @staticmethod
    def _expression(template: str) -> str:
        """A Jinja template text as one Jinja expression (literal parts concatenated with ``~``)."""
        parts: list[str] = []
        pos = 0
        for match in re.finditer(r"\{\{(.*?)\}\}", template, re.S):
            if match.start() > pos:
                parts.append(repr(template[pos:match.start()]))
            parts.append(f"({match.group(1).strip()})")
            pos = match.end()
        if pos < len(template) or not parts:
            parts.append(repr(template[pos:]))
        return parts[0] if len(parts) == 1 else "(" + " ~ ".join(parts) + ")"

    # -------------------------------------------------------------- DAG arguments
    def _dag_kwargs(self, workflow: ir.Workflow | None, coordinator: ir.Coordinator | None) -> dict[str, Any]:
        name = coordinator.name if coordinator else workflow.name if workflow else self.dag_id
        kind = "coordinator" if coordinator else "workflow"
        kwargs: dict[str, Any] = {"dag_id": self.dag_id, "description": f"Oozie {kind} {name!r}"}
        kwargs["doc_md"] = Code("__doc__")  # the module docstring (what to review) shows in the UI's DAG docs
        if coordinator is None:
            kwargs["schedule"] = None
        else:
            kwargs.update(self._schedule(coordinator))
        kwargs["params"] = {name: Code(f"Param({value!r}, type='string')") for name, value in self.params.items()}
        kwargs["user_defined_macros"] = Code("MACROS")
        kwargs["tags"] = ["oozie"]
        if self.paused:
            kwargs["is_paused_upon_creation"] = True
        return kwargs

    def _schedule(self, coordinator: ir.Coordinator) -> dict[str, Any]:
        from airflow_provider_sparkk8s.migrate.oozie import schedule

        element = "coordinator"
        translation = schedule.translate_frequency(coordinator.frequency, coordinator.timezone, coordinator.start,
                                                   coordinator.source)
        for item in translation.issues:
            if item.target != "argo":  # schedule.py reports for both targets
                self.issue(item.level, item.message, item.source, item.element)
        zone = translation.timezone or coordinator.timezone or "UTC"
        out: dict[str, Any] = {}
        if translation.airflow_schedule:
            out["schedule"] = translation.airflow_schedule
        elif translation.airflow_timedelta_minutes:
            out["schedule"] = Code(f"timedelta(minutes={translation.airflow_timedelta_minutes})")
        elif translation.calendar:
            entry = _py(dict(sorted(translation.calendar.items())), 8)
            out["schedule"] = Code(f"ArgoCalendarTimetable(calendar={entry})")
        else:
            out["schedule"] = None
            self.issue("unsupported", f"frequency {coordinator.frequency.text!r} has no Airflow schedule; the DAG "
                                      "only runs when triggered", coordinator.source, element)
        for key, text in (("start_date", coordinator.start), ("end_date", coordinator.end)):
            moment = _pendulum(text, zone)
            if moment is None:
                self.issue("unsupported", f"cannot read {key.split('_')[0]} {text!r}", coordinator.source, element)
            else:
                out[key] = Code(moment)
        controls = schedule.coordinator_controls(coordinator.controls, coordinator.source)
        for item in controls["issues"]:
            if item.target != "argo":
                self.issue(item.level, item.message, item.source, item.element)
        out["max_active_runs"] = controls["max_active_runs"]
        out["catchup"] = controls["catchup"]
        return out

    # -------------------------------------------------------------- coordinator datasets
    def _input_events(self, coordinator: ir.Coordinator) -> list[_Task]:
        waits = []
        for event in coordinator.input_events:
            dataset = coordinator.datasets.get(event.dataset)
            where = event.source or coordinator.source
            uri = dataset.uri_template if dataset else "?"
            flag = "_SUCCESS" if dataset is None or dataset.done_flag is None else dataset.done_flag or "(directory)"
            instances = ", ".join(event.instances) or f"{event.start_instance} .. {event.end_instance}"
            doc = (f"Placeholder for Oozie data-in {event.name!r}: wait for dataset {event.dataset!r} "
                   f"({uri}, done-flag {flag}, instances {instances}). Replace it with a sensor for your storage "
                   f"(e.g. an S3KeySensor on the done-flag) or an Asset schedule.")
            task = self._add(f"wait_for_{event.name}", "EmptyOperator", {"doc_md": doc})
            self.current = task
            self.issue("unsupported", f"data-in {event.name!r} (dataset {event.dataset!r}, {uri}): no generic "
                                      "sensor for a done-flag; a placeholder task marks where to wait", where,
                       f"input-event {event.name}")
            self.current = None
            waits.append(task)
        return waits

    def _output_events(self, coordinator: ir.Coordinator) -> None:
        for event in coordinator.output_events:
            self.issue("approximated", f"data-out {event.name!r} (dataset {event.dataset!r}) is not declared; "
                                       "add an Asset outlet if other DAGs depend on it",
                       event.source or coordinator.source, f"output-event {event.name}")

    # -------------------------------------------------------------- workflow graph
    def _workflow(self, workflow: ir.Workflow) -> _Task | None:
        nodes = self.workflow_nodes = workflow.nodes
        reachable = _reachable(workflow)
        for name, node in nodes.items():
            if name not in reachable and not isinstance(node, ir.Start):
                self.issue("approximated", f"node {name!r} is not reachable from start; not converted", node.source,
                           f"node {name}")
        incoming = _incoming(workflow, reachable)
        need_end = {t for t, edges in incoming.items() if any(kind in ("branch", "route") for _, kind in edges)}
        built: dict[tuple[str, str], _NodeTasks] = {}
        kills: dict[tuple[str, str], _Task] = {}
        for name in [n for n in nodes if n in reachable]:
            node = nodes[name]
            if isinstance(node, ir.Kill):
                kinds = sorted({"error" if kind == "error" else "flow" for _, kind in incoming.get(name, [])})
                for kind in kinds:
                    task_id = name if len(kinds) == 1 or kind == "flow" else f"{name}__on_error"
                    kills[(name, kind)] = self._kill(node, task_id, kind)
                continue
            if isinstance(node, ir.End) and name not in need_end:
                continue
            tasks = self._node(node, workflow, incoming.get(name, []))
            if tasks is not None:
                built[(name, "")] = tasks

        def entry(target: str, kind: str) -> _Task | None:
            node = nodes[target]
            if isinstance(node, ir.Kill):
                return kills[(target, "error" if kind == "error" else "flow")]
            tasks = built.get((target, ""))
            return tasks.entry if tasks else None

        for name in [n for n in nodes if n in reachable]:
            node = nodes[name]
            tasks = built.get((name, ""))
            if isinstance(node, ir.Action) and tasks is not None:
                self._action_edges(node, tasks, entry)
            elif isinstance(node, ir.Decision) and tasks is not None:
                for target in _unique([t for _, t in node.cases] + [node.default]):
                    self._edge(tasks.exit, entry(target, "branch"))
                self._branch_ids(tasks.exit, lambda target: entry(target, "branch"))
            elif isinstance(node, ir.Fork) and tasks is not None:
                for path in node.paths:
                    self._edge(tasks.exit, entry(path, "ok"))
            elif isinstance(node, ir.Join) and tasks is not None:
                self._edge(tasks.exit, entry(node.to, "ok"))
        start = workflow.start
        return entry(start, "ok") if start in nodes else None

    def _edge(self, upstream: _Task, downstream: _Task | None) -> None:
        if downstream is not None and (upstream, downstream) not in self.edges:
            self.edges.append((upstream, downstream))

    def _action_edges(self, node: ir.Action, tasks: _NodeTasks,
                      entry: Callable[[str, str], _Task | None]) -> None:
        ok = entry(node.ok, "ok") if node.ok else None
        error_node = self._target(node.error)
        if not node.error or error_node is None:
            self._edge(tasks.exit, ok)
            return
        if isinstance(error_node, ir.Kill):
            self._edge(tasks.exit, ok)
            for task in tasks.watched:
                self._edge(task, entry(node.error, "error"))
            return
        error = entry(node.error, "route")
        route = self._route(node, tasks, ok, error)
        self._edge(route, ok)
        self._edge(route, error)

    def _target(self, name: str) -> ir.AnyNode | None:
        return self.workflow_nodes.get(name)

    def _route(self, node: ir.Action, tasks: _NodeTasks, ok: _Task | None, error: _Task | None) -> _Task:
        self.helpers.add("oozie_route")
        route = self._add(f"{node.name}__route", "BranchPythonOperator", {
            "python_callable": Code("oozie_route"),
            "op_kwargs": {"watched": [t.task_id for t in tasks.watched], "ok": ok.task_id if ok else "",
                          "error": error.task_id if error else ""},
            "trigger_rule": "all_done",
            "doc_md": f"Oozie transitions of {node.name!r}: ok to {node.ok!r}, error to {node.error!r}.",
        })
        for task in tasks.watched:
            self._edge(task, route)
        return route

    def _node(self, node: ir.AnyNode, workflow: ir.Workflow, incoming: list[tuple[str, str]]) -> _NodeTasks | None:
        rule = _trigger_rule(node, incoming)
        if isinstance(node, ir.Action):
            tasks = self._action(node, workflow)
        elif isinstance(node, ir.Decision):
            task = self._decision(node)
            tasks = _NodeTasks(task, task, [task])
        elif isinstance(node, ir.Fork | ir.Join | ir.End):
            kind = type(node).__name__.lower()
            task = self._add(node.name, "EmptyOperator", {"doc_md": f"Oozie {kind} node {node.name!r}."})
            tasks = _NodeTasks(task, task, [task])
        else:
            return None
        if rule:
            tasks.entry.kwargs["trigger_rule"] = rule
        return tasks

    def _add(self, task_id: str, operator: str, kwargs: dict[str, Any]) -> _Task:
        base, n = task_id, 2
        while task_id in self.names:
            task_id, n = f"{base}_{n}", n + 1
        self.names.add(task_id)
        task = _Task(task_id, operator, {"task_id": task_id, **kwargs}, var=_var_name(task_id, self.used_names))
        self.tasks.append(task)
        return task

    def _kill(self, node: ir.Kill, task_id: str, kind: str) -> _Task:
        self.helpers.add("oozie_kill")
        task = self._add(task_id, "PythonOperator", {})
        self.current = task
        task.kwargs.update({
            "python_callable": Code("oozie_kill"),
            "op_kwargs": {"message": self.el(node.message, node.source, f"kill {node.name}")},
        })
        self.current = None
        if kind == "error":
            task.kwargs["trigger_rule"] = "one_failed"
        task.kwargs["doc_md"] = f"Oozie kill node {node.name!r}: the run fails with its message."
        return task

    def _decision(self, node: ir.Decision) -> _Task:
        self.helpers.add("oozie_decision")
        task = self._add(node.name, "BranchPythonOperator", {})
        self.current = task
        cases = []
        for predicate, target in node.cases:
            expression = self.el(predicate, node.source, f"decision {node.name}", condition=True)
            cases.append(["{{ " + expression + " }}", self._entry_id(target)])
        task.kwargs.update({"python_callable": Code("oozie_decision"),
                            "op_kwargs": {"cases": cases, "default": self._entry_id(node.default)},
                            "doc_md": f"Oozie decision {node.name!r}: the first true case wins."})
        self.current = None
        return task

    def _entry_id(self, target: str) -> str:
        return target  # a node name; :meth:`_branch_ids` swaps it for its first task once all are built

    @staticmethod
    def _branch_ids(task: _Task, entry: Callable[[str], _Task | None]) -> None:
        def task_id(target: str) -> str:
            found = entry(target)
            return found.task_id if found else target

        op_kwargs = task.kwargs["op_kwargs"]
        op_kwargs["cases"] = [[predicate, task_id(target)] for predicate, target in op_kwargs["cases"]]
        op_kwargs["default"] = task_id(op_kwargs["default"])

    # -------------------------------------------------------------- actions
    def _action(self, node: ir.Action, workflow: ir.Workflow) -> _NodeTasks:
        body = node.body
        prepare = self._prepare(node, getattr(body, "common", None))
        builder = {
            ir.SparkAction: self._spark, ir.ShellAction: self._shell, ir.JavaAction: self._java,
            ir.MapReduceAction: self._map_reduce, ir.PigAction: self._pig, ir.HiveAction: self._hive,
            ir.SqoopAction: self._sqoop, ir.DistcpAction: self._distcp, ir.FsAction: self._fs,
            ir.EmailAction: self._email, ir.SshAction: self._ssh, ir.GitAction: self._git,
            ir.SubWorkflowAction: self._sub_workflow,
        }.get(type(body), self._unknown)
        main = builder(node, body)  # type: ignore[operator]
        chain = prepare + main
        for before, after in zip(chain, chain[1:], strict=False):
            self._edge(before, after)
        for task in main:
            self._retries(node, task)
        return _NodeTasks(chain[0], chain[-1], chain)

    def _retries(self, node: ir.Action, task: _Task) -> None:
        if node.retry_max:
            task.kwargs["retries"] = node.retry_max
            task.kwargs["retry_delay"] = Code(f"timedelta(minutes={node.retry_interval_minutes or 10})")
            if node.retry_policy == "exponential":
                task.kwargs["retry_exponential_backoff"] = True

    def _start(self, task_id: str, operator: str) -> _Task:
        task = self._add(task_id, operator, {})
        self.current = task
        return task

    def _pod(self, node: ir.Action, task: _Task, kind: str, argv: list[str], *,
             env: dict[str, str] | None = None, xcom: bool = False) -> list[_Task]:
        task.kwargs.update({
            "name": re.sub(r"[^a-z0-9-]+", "-", task.task_id.lower()).strip("-")[:50] or "oozie-action",
            "namespace": self.options.namespace,
            "image": self.options.images.get(kind, DEFAULT_IMAGES.get(kind, "apache/hadoop:3.3.6")),
            "cmds": argv[:1],
            "arguments": argv[1:],
        })
        if env:
            task.kwargs["env_vars"] = env
        if xcom:
            task.kwargs["do_xcom_push"] = True
        task.kwargs["kubernetes_conn_id"] = self.options.kubernetes_conn_id
        task.kwargs["get_logs"] = True
        self._common_notes(node, getattr(node.body, "common", None), kind)
        self.current = None
        return [task]

    def _common_notes(self, node: ir.Action, common: ir.ActionCommon | None, kind: str) -> None:
        if common is None:
            return
        element = f"action {node.name}"
        shipped = common.files + common.archives
        if shipped and kind != "spark":
            self.issue("approximated", f"file/archive {', '.join(shipped)}: Oozie ships them to the task's working "
                                       "directory; bake them into the image or mount them", node.source, element)
        if common.launcher:
            self.issue("approximated", "<launcher> settings have no Kubernetes equivalent here; set pod resources "
                                       "on the task", node.source, element)
        if node.cred:
            self.issue("approximated", f"credentials {', '.join(node.cred)}: give the pod a service account or "
                                       "secrets instead", node.source, element)

    def _configuration_d(self, node: ir.Action, common: ir.ActionCommon) -> list[str]:
        """Hadoop configuration as ``-D key=value`` arguments (Oozie-only keys dropped)."""
        out: list[str] = []
        for key, value in sorted(common.configuration.items()):
            if not key.startswith(_OOZIE_ONLY_CONF):
                out += ["-D", f"{key}={self.el(value, node.source, f'configuration {key}')}"]
        return out

    def _prepare(self, node: ir.Action, common: ir.ActionCommon | None) -> list[_Task]:
        if common is None or not common.prepare.operations:
            return []
        operations = common.prepare.operations
        kinds = _unique([op for op, _ in operations])
        if len(kinds) > 1 and [op for op, _ in operations] != sorted((op for op, _ in operations),
                                                                      key=kinds.index):
            self.issue("approximated", "prepare mixes delete and mkdir; deletes run before mkdirs in document "
                                       "order of their first appearance", node.source, f"action {node.name}")
        tasks = []
        for kind in kinds:
            paths = [self.el(path, node.source, f"prepare {node.name}") for op, path in operations if op == kind]
            argv = ["hdfs", "dfs", "-rm", "-r", "-f", *paths] if kind == "delete" else ["hdfs", "dfs", "-mkdir",
                                                                                         "-p", *paths]
            suffix = "__prepare" if len(kinds) == 1 else f"__prepare_{kind}"
            task = self._start(node.name + suffix, "KubernetesPodOperator")
            task.kwargs["doc_md"] = f"Oozie <prepare> of {node.name!r}."
            self.issue("approximated", f"prepare {kind} {', '.join(paths)} runs `hdfs dfs` in a pod; HDFS paths "
                                       "must be remapped to your storage", node.source, f"action {node.name}")
            tasks += self._pod(node, task, "prepare", argv)
        return tasks

    def _spark(self, node: ir.Action, body: ir.SparkAction) -> list[_Task]:
        task = self._start(node.name, "SparkK8sOperator")
        src, element = node.source, f"action {node.name}"
        opts = body.spark_opts
        if _HDFS.match(body.application):
            self.issue("approximated", f"application {body.application!r} is on HDFS: remap it to local://, s3a:// "
                                       "or https:// (the image or object storage)", src, element)
        kw: dict[str, Any] = {"application": self.el(body.application, src, element)}
        if body.app_name:
            kw["name"] = self.el(body.app_name, src, element)
        if body.main_class:
            kw["main_class"] = self.el(body.main_class, src, element)
        if body.args:
            kw["application_args"] = self.el_list(body.args, src, element)
        conf: dict[str, str] = {key: self.el(value, src, element) for key, value in opts.conf.items()}
        for key, value in body.common.configuration.items():
            if key.startswith(_OOZIE_ONLY_CONF):
                self.issue("approximated", f"configuration {key} is an Oozie/YARN launcher setting; dropped", src,
                           element)
            else:
                conf.setdefault(f"spark.hadoop.{key}", self.el(value, src, element))
        for prop, setting in (("spark.driver.extraJavaOptions", opts.driver_java_options),
                              ("spark.driver.extraClassPath", opts.driver_class_path),
                              ("spark.driver.extraLibraryPath", opts.driver_library_path),
                              ("spark.jars.repositories", ",".join(opts.repositories) or None),
                              ("spark.jars.excludes", ",".join(opts.exclude_packages) or None),
                              ("spark.kerberos.principal", opts.principal), ("spark.kerberos.keytab", opts.keytab)):
            if setting:
                conf.setdefault(prop, self.el(setting, src, element))
        self._spark_resources(kw, conf, opts, src, element)
        for arg, values in (("jars", body.extra_jars + opts.jars), ("py_files", opts.py_files),
                            ("files", opts.files + body.common.files),
                            ("archives", opts.archives + body.common.archives), ("packages", opts.packages)):
            if values:
                kw[arg] = self.el_list(values, src, element)
        if conf:
            kw["conf"] = dict(sorted(conf.items()))
        self._spark_notes(body, src, element)
        kw.update({"image": self.options.spark_image, "namespace": self.options.namespace,
                   "launcher": self.options.spark_launcher, "kubernetes_conn_id": self.options.kubernetes_conn_id})
        task.kwargs.update(kw)
        self._common_notes(node, None, "spark")
        self.current = None
        return [task]

    def _spark_resources(self, kw: dict[str, Any], conf: dict[str, str], opts: ir.SparkOpts, src: Source,
                         element: str) -> None:
        for arg, prop, value, kind in (("driver_memory", "spark.driver.memory", opts.driver_memory, str),
                                       ("executor_memory", "spark.executor.memory", opts.executor_memory, str),
                                       ("driver_cores", "spark.driver.cores", opts.driver_cores, float),
                                       ("executor_cores", "spark.executor.cores", opts.executor_cores, int),
                                       ("executor_instances", "spark.executor.instances", opts.num_executors, int)):
            if value is None:
                continue
            try:
                number = kind(value)
                kw[arg] = int(number) if kind is float and float(number).is_integer() else number
            except ValueError:  # EL or unusual text: Spark reads the property at run time
                conf[prop] = self.el(value, src, element)

    def _spark_notes(self, body: ir.SparkAction, src: Source, element: str) -> None:
        master = body.master.strip()
        if master and not master.startswith("k8s://"):
            self.issue("approximated", f"master {master!r}" + (f", mode {body.mode!r}" if body.mode else "")
                       + ": dropped; the application runs in cluster mode on Kubernetes", src, element)
        if body.spark_opts.queue:
            self.issue("approximated", f"--queue {body.spark_opts.queue}: YARN queues do not exist on Kubernetes",
                       src, element)
        if body.spark_opts.properties_file:
            self.issue("unsupported", f"--properties-file {body.spark_opts.properties_file}: copy its properties "
                                      "into conf", src, element)
        if body.spark_opts.unparsed:
            self.issue("unsupported", f"spark-opts not understood: {' '.join(body.spark_opts.unparsed)}", src,
                       element)

    def _shell(self, node: ir.Action, body: ir.ShellAction) -> list[_Task]:
        task = self._start(node.name, "KubernetesPodOperator")
        argv = [self.el(body.exec, node.source, f"action {node.name}"),
                *self.el_list(body.arguments, node.source, f"action {node.name}")]
        env = {name: self.el(value, node.source, f"env-var {name}") for name, value in body.env}
        if body.capture_output:
            argv = self._capture(node, argv)
        return self._pod(node, task, "shell", argv, env=env, xcom=body.capture_output)

    def _capture(self, node: ir.Action, argv: list[str]) -> list[str]:
        self.issue("approximated", "capture-output: the command runs under a fixed sh/awk wrapper that turns its "
                                   "stdout (key=value lines) into the task's XCom; the image needs sh and awk",
                   node.source, f"action {node.name}")
        self.helpers.add("CAPTURE_OUTPUT")
        return ["sh", "-c", Code("CAPTURE_OUTPUT"), "oozie-capture-output", *argv]

    def _java(self, node: ir.Action, body: ir.JavaAction) -> list[_Task]:
        task = self._start(node.name, "KubernetesPodOperator")
        element = f"action {node.name}"
        opts = [piece for opt in body.java_opts for piece in opt.split()]
        self.issue("approximated", "java: the main class runs with the jars in /opt/oozie/lib/ of the image on the "
                                   "classpath; put the workflow's lib/ jars there", node.source, element)
        argv = ["java", *self.el_list(opts, node.source, element), "-cp", "/opt/oozie/lib/*",
                self.el(body.main_class, node.source, element), *self.el_list(body.args, node.source, element)]
        if body.capture_output:
            self.issue("approximated", "capture-output: the program must write its output as JSON to "
                                       "/airflow/xcom/return.json (Oozie: oozie.action.output.properties)",
                       node.source, element)
        return self._pod(node, task, "java", argv, xcom=body.capture_output)

    def _map_reduce(self, node: ir.Action, body: ir.MapReduceAction) -> list[_Task]:
        task = self._start(node.name, "KubernetesPodOperator")
        element = f"action {node.name}"
        conf = body.common.configuration
        if body.streaming:
            argv = ["mapred", "streaming", *self._configuration_d(node, body.common)]
            for key in ("mapper", "reducer"):
                if body.streaming.get(key):
                    argv += [f"-{key}", self.el(str(body.streaming[key]), node.source, element)]
            for flag, keys in (("-input", ("mapred.input.dir", "mapreduce.input.fileinputformat.inputdir")),
                               ("-output", ("mapred.output.dir", "mapreduce.output.fileoutputformat.outputdir"))):
                value = next((conf[k] for k in keys if k in conf), None)
                if value:
                    argv += [flag, self.el(value, node.source, element)]
            self.issue("approximated", "map-reduce streaming runs `mapred streaming` in a pod; consider rewriting "
                                       "it as a Spark job", node.source, element)
        else:
            argv = ["mapred", "job", *self._configuration_d(node, body.common)]
            self.issue("unsupported", "a map-reduce job defined by configuration (or pipes) has no command line; "
                                      "rewrite it as a Spark job or run its driver jar", node.source, element)
        return self._pod(node, task, "map-reduce", argv)

    def _pig(self, node: ir.Action, body: ir.PigAction) -> list[_Task]:
        task = self._start(node.name, "KubernetesPodOperator")
        element = f"action {node.name}"
        argv = ["pig", *self._configuration_d(node, body.common)]
        for param in body.params:
            argv += ["-param", self.el(param, node.source, element)]
        argv += ["-f", self.el(body.script, node.source, element), *self.el_list(body.args, node.source, element)]
        return self._pod(node, task, "pig", argv)

    def _hive(self, node: ir.Action, body: ir.HiveAction) -> list[_Task]:
        task = self._start(node.name, "KubernetesPodOperator")
        element = f"action {node.name}"
        argv = ["beeline", "-u", self.el(body.jdbc_url or "", node.source, element)] if body.kind == "hive2" else [
            "hive"]
        for key, value in sorted(body.common.configuration.items()):
            if not key.startswith(_OOZIE_ONLY_CONF):
                argv += ["--hiveconf", f"{key}={self.el(value, node.source, element)}"]
        for param in body.params:
            argv += ["--hivevar", self.el(param, node.source, element)]
        if body.script:
            argv += ["-f", self.el(body.script, node.source, element)]
        elif body.query:
            argv += ["-e", self.el(body.query, node.source, element)]
        argv += self.el_list(body.args, node.source, element)
        if body.password:
            self.issue("approximated", "hive2 password dropped from the command line: pass it from a Kubernetes "
                                       "Secret (beeline -p)", node.source, element)
        return self._pod(node, task, body.kind, argv)

    def _sqoop(self, node: ir.Action, body: ir.SqoopAction) -> list[_Task]:
        task = self._start(node.name, "KubernetesPodOperator")
        words = body.command.split() if body.command else body.args  # Oozie splits <command> on whitespace
        argv = ["sqoop", *self.el_list(words, node.source, f"action {node.name}")]
        return self._pod(node, task, "sqoop", argv)

    def _distcp(self, node: ir.Action, body: ir.DistcpAction) -> list[_Task]:
        task = self._start(node.name, "KubernetesPodOperator")
        element = f"action {node.name}"
        env = {"HADOOP_OPTS": self.el(body.java_opts, node.source, element)} if body.java_opts else None
        argv = ["hadoop", "distcp", *self._configuration_d(node, body.common),
                *self.el_list(body.args, node.source, element)]
        return self._pod(node, task, "distcp", argv, env=env)

    def _fs(self, node: ir.Action, body: ir.FsAction) -> list[_Task]:
        tasks: list[_Task] = []
        element = f"action {node.name}"
        for index, operation in enumerate(body.operations, 1):
            task_id = node.name if len(body.operations) == 1 else f"{node.name}__{index}_{operation.op}"
            task = self._start(task_id, "KubernetesPodOperator")
            argv = self._fs_argv(node, operation, element)
            tasks += self._pod(node, task, "fs", argv)
        if not tasks:
            tasks.append(self._add(node.name, "EmptyOperator", {"doc_md": f"Oozie fs action {node.name!r} (empty)."}))
        return tasks

    def _fs_argv(self, node: ir.Action, operation: ir.FsOperation, element: str) -> list[str]:
        attrs = {k: self.el(v, operation.source or node.source, element) for k, v in operation.attributes.items()}
        recursive = ["-R"] if operation.recursive else []
        argv: dict[str, list[str]] = {
            "delete": ["-rm", "-r", "-f", *(["-skipTrash"] if attrs.get("skip-trash") == "true" else []),
                       attrs.get("path", "")],
            "mkdir": ["-mkdir", "-p", attrs.get("path", "")],
            "move": ["-mv", attrs.get("source", ""), attrs.get("target", "")],
            "chmod": ["-chmod", *recursive, attrs.get("permissions", ""), attrs.get("path", "")],
            "chgrp": ["-chgrp", *recursive, attrs.get("group", ""), attrs.get("path", "")],
            "touchz": ["-touchz", attrs.get("path", "")],
            "setrep": ["-setrep", attrs.get("replication-factor", ""), attrs.get("path", "")],
        }
        if operation.op not in argv:
            self.issue("unsupported", f"fs operation {operation.op!r}", operation.source or node.source, element)
            return ["hdfs", "dfs", f"-{operation.op}"]
        if attrs.get("dir-files") == "false" and operation.op in ("chmod", "chgrp"):
            self.issue("approximated", f"fs {operation.op} dir-files='false' is applied to the path only when "
                                       "not recursive", operation.source or node.source, element)
        return ["hdfs", "dfs", *argv[operation.op]]

    def _email(self, node: ir.Action, body: ir.EmailAction) -> list[_Task]:
        task = self._start(node.name, "EmailOperator")
        element = f"action {node.name}"
        kw: dict[str, Any] = {"to": self.el_list(body.to, node.source, element),
                              "subject": self.el(body.subject, node.source, element),
                              "html_content": self.el(body.body, node.source, element)}
        if body.cc:
            kw["cc"] = self.el_list(body.cc, node.source, element)
        if body.bcc:
            kw["bcc"] = self.el_list(body.bcc, node.source, element)
        if body.attachments:
            kw["files"] = self.el_list(body.attachments, node.source, element)
            self.issue("approximated", "email attachments are read from the worker's file system, not HDFS",
                       node.source, element)
        if body.content_type and "html" not in body.content_type:
            self.issue("approximated", f"content type {body.content_type!r}: the body is sent as HTML", node.source,
                       element)
        task.kwargs.update(kw)
        self.current = None
        return [task]

    def _ssh(self, node: ir.Action, body: ir.SshAction) -> list[_Task]:
        task = self._start(node.name, "KubernetesPodOperator")
        element = f"action {node.name}"
        argv = ["ssh", "-o", "BatchMode=yes", self.el(body.host, node.source, element),
                self.el(body.command, node.source, element), *self.el_list(body.args, node.source, element)]
        self.issue("approximated", "ssh runs from a pod: mount the private key (a Secret) and known_hosts; the "
                                   "remote side joins the command and its arguments into one shell line",
                   node.source, element)
        if body.capture_output:
            argv = self._capture(node, argv)
        return self._pod(node, task, "ssh", argv, xcom=body.capture_output)

    def _git(self, node: ir.Action, body: ir.GitAction) -> list[_Task]:
        task = self._start(node.name, "KubernetesPodOperator")
        element = f"action {node.name}"
        branch = ["--branch", self.el(body.branch, node.source, element)] if body.branch else []
        argv = ["git", "clone", *branch, "--", self.el(body.git_uri, node.source, element),
                self.el(body.destination_uri, node.source, element)]
        if body.key_path:
            self.issue("approximated", f"git key {body.key_path}: mount the key from a Secret and set "
                                       "GIT_SSH_COMMAND", node.source, element)
        if _HDFS.match(body.destination_uri):
            self.issue("approximated", "git destination on HDFS: clone to a volume or object storage instead",
                       node.source, element)
        return self._pod(node, task, "git", argv)

    def _sub_workflow(self, node: ir.Action, body: ir.SubWorkflowAction) -> list[_Task]:
        task = self._start(node.name, "TriggerDagRunOperator")
        element = f"action {node.name}"
        if body.workflow is not None:
            child = self.dag_ids.workflow(body.workflow)
        else:
            child = dag_id_for(body.app_path.rstrip("/").rsplit("/", 1)[-1] or node.name)
            self.issue("unsupported", f"sub-workflow {body.app_path!r} is not in the input: migrate it too, as DAG "
                                      f"{child!r}", node.source, element)
        conf: dict[str, str] = {}
        if body.propagate_configuration:
            conf.update({name: "{{ params[" + repr(name) + "] }}" for name in self.params})
        conf.update({key: self.el(value, node.source, element) for key, value in body.configuration.items()})
        task.kwargs.update({"trigger_dag_id": child, "wait_for_completion": True, "poke_interval": 30,
                            "conf": dict(sorted(conf.items()))})
        self.current = None
        return [task]

    def _unknown(self, node: ir.Action, body: ir.UnknownAction) -> list[_Task]:
        self.helpers.add("oozie_kill")
        task = self._start(node.name, "PythonOperator")
        what = f"<{body.tag}> ({body.namespace})" if isinstance(body, ir.UnknownAction) else type(body).__name__
        self.issue("unsupported", f"action {what} has no Airflow equivalent; the task fails until it is replaced",
                   node.source, f"action {node.name}")
        task.kwargs.update({"python_callable": Code("oozie_kill"),
                            "op_kwargs": {"message": f"Oozie action {node.name!r} ({what}) was not migrated"}})
        self.current = None
        return [task]

    # -------------------------------------------------------------- output
    def _document(self, workflow: ir.Workflow | None, coordinator: ir.Coordinator | None,
                  dag_kwargs: dict[str, Any]) -> str:
        used = {"DAG", "MACROS"} | {t.operator for t in self.tasks}
        if self.params:
            used.add("Param")
        for helper in self.helpers:
            used.update(HELPER_IMPORTS.get(helper, []))
        text_kwargs = _py(dag_kwargs, 0) + "".join(_py(t.kwargs, 0) for t in self.tasks)
        stdlib = ["from datetime import timedelta"] if "timedelta(" in text_kwargs else []
        third = ["import pendulum"] if "pendulum." in text_kwargs else []
        if "ArgoCalendarTimetable(" in text_kwargs:
            used.add("ArgoCalendarTimetable")
        lines = [self._header(workflow, coordinator), "", "from __future__ import annotations", ""]
        if stdlib:
            lines += stdlib + [""]
        lines += third + _import_lines(used)
        for number, helper in enumerate(sorted(self.helpers)):
            text = HELPERS[helper].strip()
            # isort/PEP 8: one blank line after the imports before a statement, two before a def or between defs
            lines += ["", ""] if number or text.startswith("def ") else [""]
            lines.append(text)
        lines += ["", "", "with DAG(" + _call_args(dag_kwargs, 4) + ") as dag:"]
        for task in self.tasks:
            for marker in task.markers:
                lines += _comment(f"OOZIE-UNSUPPORTED: {marker}", 4)
            lines.append(f"    {task.var} = {task.operator}(" + _call_args(task.kwargs, 8, 4) + ")")
        if self.edges:
            lines.append("")
            lines += self._dependencies()
        if not self.tasks:
            lines.append("    pass")
        return "\n".join(lines) + "\n"

    def _dependencies(self) -> list[str]:
        order = {id(t): i for i, t in enumerate(self.tasks)}
        grouped: dict[int, list[_Task]] = {}
        for up, down in self.edges:
            grouped.setdefault(order[id(up)], []).append(down)
        lines = []
        for index in sorted(grouped):
            downs = sorted(grouped[index], key=lambda t: order[id(t)])
            target = downs[0].var if len(downs) == 1 else "[" + ", ".join(t.var for t in downs) + "]"
            lines.append(f"    {self.tasks[index].var} >> {target}")
        return lines

    def _header(self, workflow: ir.Workflow | None, coordinator: ir.Coordinator | None) -> str:
        sources = _unique([s.file for s in (coordinator.source if coordinator else None,
                                            workflow.source if workflow else None) if s is not None])
        lines = [f"Oozie {'coordinator' if coordinator else 'workflow'} migrated by `sparkk8s migrate oozie`.", "",
                 f"Generated from: {', '.join(sources)}"]
        unsupported = [i for i in self.issues if i.level == "unsupported"]
        approximated = [i for i in self.issues if i.level == "approximated"]
        lines += ["", "Review before use:"]
        if not unsupported and not approximated:
            lines.append("- nothing reported")
        items = [f"- OOZIE-UNSUPPORTED {i}".replace(": unsupported:", ":") for i in unsupported]
        items += [f"- approximated {i}".replace(": approximated:", ":") for i in approximated]
        images = sorted({t.kwargs["image"] for t in self.tasks if t.operator == "KubernetesPodOperator"})
        if images:
            items += ["", "Container images (check they hold the tools the commands need): " + ", ".join(images)]
        for item in items:
            lines += textwrap.wrap(item, LINE - 4, subsequent_indent="  ", break_long_words=False,
                                   break_on_hyphens=False) or [""]
        body = "\n".join(lines).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        return '"""' + body + '\n"""'


# ------------------------------------------------------------------------------------------ graph helpers


def _reachable(workflow: ir.Workflow) -> set[str]:
    seen: set[str] = set()
    stack = [workflow.start]
    while stack:
        name = stack.pop()
        if name in seen or name not in workflow.nodes:
            continue
        seen.add(name)
        stack += [target for target, _ in _out_edges(workflow.nodes[name])]
    return seen


def _out_edges(node: ir.AnyNode) -> list[tuple[str, str]]:
    """(target, kind) with kind ok | error | branch | route."""
    if isinstance(node, ir.Action):
        return [(node.ok, "ok"), (node.error, "error")] if node.error else [(node.ok, "ok")]
    if isinstance(node, ir.Decision):
        return [(target, "branch") for target in _unique([t for _, t in node.cases] + [node.default])]
    if isinstance(node, ir.Fork):
        return [(path, "ok") for path in node.paths]
    if isinstance(node, ir.Join | ir.Start):
        return [(node.to, "ok")]
    return []


def _incoming(workflow: ir.Workflow, reachable: set[str]) -> dict[str, list[tuple[str, str]]]:
    """For each node, its (source, kind) incoming edges; error edges to non-kill nodes become ``route`` (and so
    does the ok edge of an action that has such an error edge: both leave through the route task)."""
    incoming: dict[str, list[tuple[str, str]]] = {}
    for name in [n for n in workflow.nodes if n in reachable]:
        node = workflow.nodes[name]
        routed = (isinstance(node, ir.Action) and node.error
                  and not isinstance(workflow.nodes.get(node.error), ir.Kill))
        for target, kind in _out_edges(node):
            if routed and kind in ("ok", "error"):
                kind = "route"
            incoming.setdefault(target, []).append((name, kind))
    return incoming


def _trigger_rule(node: ir.AnyNode, incoming: list[tuple[str, str]]) -> str | None:
    sources = {source for source, _ in incoming}
    if isinstance(node, ir.Join):
        return None if all(kind == "ok" for _, kind in incoming) else "none_failed_min_one_success"
    if len(sources) > 1:
        return "none_failed_min_one_success"  # paths converge; only one of them ran
    return None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _pendulum(text: str, zone: str) -> str | None:
    value = text.strip()
    try:
        value = value[:-1] + "+00:00" if value.endswith("Z") else re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value)
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        local = moment.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError):
        return None
    return f"pendulum.datetime({local.year}, {local.month}, {local.day}, {local.hour}, {local.minute}, tz={zone!r})"


# ------------------------------------------------------------------------------------------ Python formatting


def _py(value: Any, indent: int, column: int | None = None) -> str:
    """``value`` as a Python literal; containers that do not fit on the line break one item per line, and long
    strings become parenthesized implicit concatenations. ``column`` is where the literal starts on its line."""
    if isinstance(value, Code):
        return str(value)
    column = indent if column is None else column
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            key_text = _py(key, indent + 4)
            items.append(f"{key_text}: {_py(item, indent + 4, indent + 4 + len(key_text) + 2)}")
        return _wrap("{", items, "}", indent, column)
    if isinstance(value, list | tuple):
        return _wrap("[", [_py(v, indent + 4) for v in value], "]", indent, column)
    if isinstance(value, str):
        return _py_str(value, indent, column)
    return repr(value)


def _py_str(value: str, indent: int, column: int) -> str:
    text = repr(value)
    if column + len(text) + 1 <= LINE:
        return text
    width = LINE - indent - 4 - 2  # inside the parentheses, with room for the quotes
    chunks, current = [], ""
    for piece in filter(None, re.findall(r"\S*\s*", value)):  # words with their trailing spaces
        if current and len(repr(current + piece)) > width:
            chunks.append(current)
            current = piece
        else:
            current += piece
    chunks.append(current)
    if len(chunks) == 1 and len(text) > width:  # one long word: nothing to gain
        return text
    pad = " " * (indent + 4)
    return "(\n" + "".join(f"{pad}{chunk!r}\n" for chunk in chunks) + " " * indent + ")"


def _comment(text: str, indent: int) -> list[str]:
    """A comment wrapped to the line length; continuation lines are indented under the text."""
    import textwrap

    pad = " " * indent
    return textwrap.wrap(text, LINE - indent - 2, initial_indent=f"{pad}# ", subsequent_indent=f"{pad}#   ",
                         break_long_words=False, break_on_hyphens=False)


def _wrap(opening: str, items: list[str], closing: str, indent: int, column: int) -> str:
    flat = opening + ", ".join(items) + closing
    if column + len(flat) + 1 <= LINE and "\n" not in flat:
        return flat
    pad = " " * (indent + 4)
    return opening + "\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + closing


def _call_args(kwargs: dict[str, Any], indent: int, outer: int | None = None) -> str:
    outer = indent - 4 if outer is None else outer
    pad = " " * indent
    return "\n" + "".join(f"{pad}{key}={_py(value, indent, indent + len(key) + 1)},\n"
                          for key, value in kwargs.items()) + " " * outer


def _import_lines(names: set[str]) -> list[str]:
    """``from module import A, B`` per module, sorted; the provider's own modules in a group of their own."""
    by_module: dict[str, list[str]] = {}
    for name in names:
        by_module.setdefault(IMPORTS[name], []).append(name)
    lines = [f"from {module} import {', '.join(sorted(by_module[module]))}" for module in sorted(by_module)]
    ours = [line for line in lines if line.startswith("from airflow_provider_sparkk8s")]
    theirs = [line for line in lines if line not in ours]
    return theirs + ([""] if theirs and ours else []) + ours
