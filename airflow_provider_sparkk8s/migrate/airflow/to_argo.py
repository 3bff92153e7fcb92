"""An Airflow DAG (as DagBag loaded it) → a WorkflowTemplate whose entrypoint ``main`` is an Argo DAG, plus a
CronWorkflow for a cron / interval schedule or the calendar EventSource + Sensor for an ArgoCalendarTimetable.

Each task becomes one DAG task named after its task id (task group prefixes flatten: ``group.task`` →
``group-task``). Dependencies become ``dependencies``, or — as soon as one task has another trigger rule —
``depends`` expressions for every task. ``failFast`` is off: Airflow keeps running the tasks that do not depend
on a failed one. Retries become the template's ``retryStrategy``, ``execution_timeout`` its
``activeDeadlineSeconds``, the DAG's params the workflow's arguments (and the inputs of ``main``, so the template
also runs through a ``templateRef``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_provider_sparkk8s.migrate.argo_manifests import (
    ANNOTATION_PREFIX,
    MAIN,
    NOOP,
    Names,
    calendar_events,
    cron_workflow,
    dns_name,
    lift_all,
    map_strings,
    noop_template,
    param_mapping,
    task_name,
    workflow_template,
)
from airflow_provider_sparkk8s.migrate.oozie.ir import Issue, IssueLevel, Source

from .jinja import JinjaContext, Unmappable
from .tasks import BUILDERS, Options, Step, TaskContext, XCom, why_unmappable

NOT_MIGRATED = f"{ANNOTATION_PREFIX}not-migrated"
_ITEM = "\x00item.{}\x00"  # stands for {{item.<key>}} until the Jinja of the fields has been translated
_HANDLES_FAILURE = ("one_failed", "all_failed", "all_done", "always", "one_done", "none_skipped")
_SKIP_LIKE = ("one_failed", "all_failed", "one_done", "none_skipped", "all_skipped")  # unmet → skipped, not failed


def render_dag(dag: Any, source: Source, lines: Mapping[str, int], names: Names, cron_names: Names,
               options: Options) -> tuple[list[tuple[str, dict]], list[Issue]]:
    """The manifests of one DAG and the issues found. A task that cannot be mapped is an ``error`` unless
    ``options.partial``: then it is ``unsupported`` and its step only passes through (marked in the manifest)."""
    emitter = _DagEmitter(dag, source, lines, options)
    template = names.claim(dns_name(dag.dag_id))
    manifests = [(f"{template}.workflowtemplate.yaml", emitter.render(template))]
    manifests += _schedule(dag, template, cron_names, options, emitter.issue)
    return manifests, emitter.issues


class _DagEmitter:
    def __init__(self, dag: Any, source: Source, lines: Mapping[str, int], options: Options) -> None:
        self.dag = dag
        self.source = source
        self.lines = lines
        self.options = options
        self.issues: list[Issue] = []
        self.order = _topological(dag)
        names = Names(reserved=(MAIN, NOOP))
        self.task_of = {task_id: names.claim(task_name(task_id)) for task_id in sorted(dag.task_dict)}
        self.params = param_mapping(dag.params.keys())
        self.kinds = {task_id: _kind(task) for task_id, task in dag.task_dict.items()}
        self.xcoms: dict[str, XCom] = {}
        self.templates: list[dict[str, Any]] = []
        self.uses_noop = False
        self.wrapped: set[str] = set()  # templateRef steps wrapped to carry retries / a deadline

    def issue(self, level: IssueLevel, message: str, element: str, task_id: str | None = None) -> None:
        line = self.lines.get(task_id) if task_id else self.lines.get("")
        self.issues.append(Issue(level, message, Source(self.source.file, line), element))

    # -------------------------------------------------------------- manifest
    def render(self, name: str) -> dict[str, Any]:
        steps = {task_id: self._step(task_id) for task_id in self.order}
        uses_depends = any(_rule(self.dag.task_dict[t]) != "all_success" for t in self.order)
        tasks = []
        for task_id in self.order:
            task, step = self.dag.task_dict[task_id], steps[task_id]
            entry: dict[str, Any] = {"name": self.task_of[task_id]}
            if step.template_ref is not None:
                entry["templateRef"] = step.template_ref
            else:
                entry["template"] = step.template_name
            upstream = sorted(task.upstream_task_ids, key=self.order.index)
            if upstream and uses_depends:
                entry["depends"] = self._depends(task, upstream)
            elif upstream:
                entry["dependencies"] = [self.task_of[u] for u in upstream]
            if step.arguments:
                entry["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in step.arguments.items()]}
            if step.with_items is not None:
                entry["withItems"] = step.with_items
            tasks.append(entry)
        templates = [*self.templates, *([noop_template()] if self.uses_noop else [])]
        dag = self.dag
        annotations = {f"{ANNOTATION_PREFIX}airflow-dag": dag.dag_id, f"{ANNOTATION_PREFIX}airflow-source":
                       str(Source(self.source.file, self.lines.get("")))}
        manifest = workflow_template(name, self.options.namespace, annotations, self._parameters(), tasks,
                                     templates, service_account=self.options.service_account, fail_fast=False)
        self._parameter_details(manifest)
        return manifest

    def _parameters(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for key, argo in self.params.items():
            param = self.dag.params.get_param(key)
            value = param.value
            if type(value).__name__ == "ArgNotSet":
                out[argo] = None
            elif value is None:
                out[argo] = ""
                self.issue("approximated", f"param {key!r} defaults to None: the workflow argument defaults to the "
                           "empty string", f"dag {self.dag.dag_id} params")
            else:
                out[argo] = str(value)
        return out

    def _parameter_details(self, manifest: dict[str, Any]) -> None:
        """Enum and description of the DAG's params, on the workflow's arguments (shown by the Argo UI)."""
        arguments = manifest["spec"].get("arguments", {}).get("parameters", [])
        for key, argo in self.params.items():
            param = self.dag.params.get_param(key)
            entry = next(a for a in arguments if a["name"] == argo)
            if param.schema.get("enum"):
                entry["enum"] = [str(v) for v in param.schema["enum"] if v is not None]
            if param.description:
                entry["description"] = param.description

    # -------------------------------------------------------------- tasks
    def _step(self, task_id: str) -> Step:
        task = self.dag.task_dict[task_id]
        name = self.task_of[task_id]
        element = f"task {task_id}"
        jinja = JinjaContext(self.dag.dag_id, task_id, self.params, self._xcom_resolver(task))
        try:
            op, items = self._unmapped(task)
            builder = next((BUILDERS[k] for k in _classes(op) if k in BUILDERS), None)
            if builder is None:
                raise Unmappable(why_unmappable(op))
            ctx = TaskContext(op, name, Path(self.dag.fileloc).parent, self.options, jinja,
                              set(task.get_flat_relative_ids(upstream=True)), self.kinds)
            step = builder(ctx)
        except Unmappable as error:
            level: IssueLevel = "unsupported" if self.options.partial else "error"
            self.issue(level, f"not migrated: {error}" + ("; its step only passes through, marked "
                       f"{NOT_MIGRATED}" if self.options.partial else " (--partial exports the other tasks)"),
                       element, task_id)
            # Argo would read {{ }} in the annotation as its own placeholder
            reason = str(error).replace("{{", "{ {").replace("}}", "} }")
            self.templates.append({"name": name, "metadata": {"annotations": {NOT_MIGRATED: reason}},
                                   "suspend": {"duration": "0"}})
            return Step(template_name=name)
        for level, message in ctx.notes:
            self.issue(level, message, element, task_id)
        for message in dict.fromkeys(jinja.notes):
            self.issue("approximated", message, element, task_id)
        if step.xcom is not None:
            self.xcoms[task_id] = step.xcom
        if items is not None:
            step = self._with_items(step, items)
        self._task_settings(task, step, element)
        if step.template is not None:
            templates, needed = lift_all(step.template)
            self.templates.extend(templates)
            step.template_name = step.template["name"]
            step.arguments = {**needed, **step.arguments}  # the item inputs are filled by the DAG task
        self.templates.extend(step.extra_templates)
        if step.template_name == NOOP:
            self.uses_noop = True
        self._report_task(task, element)
        return step

    def _unmapped(self, task: Any) -> tuple[Any, list[dict[str, Any]] | None]:
        """The operator to translate, and for ``expand`` over literal lists the ``withItems`` items (one map per
        combination; each field reads ``{{item.<key>}}``)."""
        if type(task).__name__ != "MappedOperator":
            return task, None
        expand = getattr(task.expand_input, "value", None)
        if type(task.expand_input).__name__ != "DictOfListsExpandInput" or not isinstance(expand, dict):
            raise Unmappable("expand_kwargs / expand over XCom: the items are known only at run time (withParam "
                             "over another step's output is not migrated)")
        placeholders: dict[str, Any] = {}
        columns: list[list[dict[str, Any]]] = []
        for arg, values in expand.items():
            if not isinstance(values, (list, tuple)):
                raise Unmappable(f"expand({arg}=...): not a literal list (XCom of another task: known only at run "
                                 "time)")
            if all(isinstance(v, (str, int, float, bool)) for v in values):
                placeholders[arg] = _ITEM.format(arg)
                columns.append([{arg: str(v)} for v in values])
            elif all(isinstance(v, (list, tuple)) for v in values) and len({len(v) for v in values}) == 1 \
                    and all(isinstance(x, (str, int, float, bool)) for v in values for x in v):
                width = len(values[0])
                placeholders[arg] = [_ITEM.format(f"{arg}_{i}") for i in range(width)]
                columns.append([{f"{arg}_{i}": str(x) for i, x in enumerate(v)} for v in values])
            else:
                raise Unmappable(f"expand({arg}=...): items must be scalars or lists of scalars of one length")
        items = [{k: v for part in combination for k, v in part.items()} for combination in itertools.product(*columns)]
        kwargs = {k: v for k, v in task.partial_kwargs.items()}
        op = task.operator_class(task_id=task.task_id, **kwargs, **placeholders)
        return op, items

    def _with_items(self, step: Step, items: list[dict[str, Any]]) -> Step:
        def item(text: str) -> str:
            return text.replace("\x00item.", "{{item.").replace("\x00", "}}")

        if step.template is not None:
            # the leaf template reads inputs; the DAG task fills them from the item
            keys = sorted({k for i in items for k in i})
            for key in keys:
                step.arguments[f"item-{key}"] = f"{{{{item.{key}}}}}"
            step.template = map_strings(step.template, lambda t: t.replace("\x00item.", "{{inputs.parameters.item-")
                                        .replace("\x00", "}}"))
        step.arguments = {k: item(v) for k, v in step.arguments.items()}
        step.with_items = items
        return step

    def _task_settings(self, task: Any, step: Step, element: str) -> None:
        """Retries and execution_timeout, on the step's template (a templateRef step gets a wrapper for them)."""
        retries = task.retries or 0
        timeout = task.execution_timeout
        if not retries and timeout is None:
            return
        if step.template_ref is not None:
            step.template = {"name": self.task_of[task.task_id], "steps": [[{
                "name": "run", "templateRef": step.template_ref,
                **({"arguments": {"parameters": [{"name": k, "value": v} for k, v in step.arguments.items()]}}
                   if step.arguments else {})}]]}
            step.template_ref, step.arguments = None, {}
            self.wrapped.add(step.template["name"])
        elif step.template is None:
            if step.template_name != NOOP:
                self.issue("approximated", "retries / execution_timeout are not applied to an inline workflow's "
                           "steps", element, task.task_id)
            return
        if retries:
            backoff: dict[str, Any] = {"duration": f"{_seconds(task.retry_delay)}s"}
            if task.retry_exponential_backoff:
                backoff["factor"] = "2"
            if task.max_retry_delay is not None:
                backoff["maxDuration"] = f"{_seconds(task.max_retry_delay)}s"
            step.template["retryStrategy"] = {"limit": str(retries), "retryPolicy": "Always", "backoff": backoff}
        if timeout is not None:
            step.template["activeDeadlineSeconds"] = _seconds(timeout)

    def _report_task(self, task: Any, element: str) -> None:
        if getattr(task, "depends_on_past", False) or getattr(task, "wait_for_downstream", False):
            self.issue("approximated", "depends_on_past / wait_for_downstream: Argo does not look at earlier runs",
                       element, task.task_id)
        callbacks = [c for c in ("on_failure_callback", "on_success_callback", "on_retry_callback",
                                 "on_execute_callback") if getattr(task, c, None)]
        if callbacks:
            self.issue("unsupported", f"{', '.join(callbacks)} (Python) not migrated: use an Argo exit handler",
                       element, task.task_id)
        rule = _rule(task)
        if rule in ("one_failed", "one_success", "one_done"):
            self.issue("approximated", f"trigger rule {rule}: Argo evaluates `depends` once every upstream task "
                       "finished (Airflow starts the task at the first match)", element, task.task_id)
        elif rule == "always":
            self.issue("approximated", "trigger rule always: the step waits for its upstream tasks to finish, in "
                       "any state (Airflow may start it at once)", element, task.task_id)
        if rule in _HANDLES_FAILURE and task.upstream_task_ids:
            self.issue("approximated", f"trigger rule {rule}: an upstream failure this step handles does not fail "
                       "the Argo workflow (Airflow still fails the run when a failed or upstream-failed task is a "
                       "leaf)", element, task.task_id)

    # -------------------------------------------------------------- dependencies
    def _depends(self, task: Any, upstream: list[str]) -> str:
        rule = _rule(task)
        names = [self.task_of[u] for u in upstream]
        skip_like = {self.task_of[u] for u in upstream if _rule(self.dag.task_dict[u]) in _SKIP_LIKE}

        def skipped(n: str) -> str:
            return f"{n}.Skipped || {n}.Omitted" if n in skip_like else f"{n}.Skipped"

        def failed(n: str) -> str:
            return f"{n}.Failed || {n}.Errored"

        terms = {
            "all_success": (" && ", lambda n: f"{n}.Succeeded"),
            "all_failed": (" && ", failed),
            "all_done": (" && ", lambda n: f"{n}.Succeeded || {failed(n)} || {n}.Skipped || {n}.Omitted"),
            "always": (" && ", lambda n: f"{n}.Succeeded || {failed(n)} || {n}.Skipped || {n}.Omitted"),
            "one_failed": (" || ", failed),
            "one_success": (" || ", lambda n: f"{n}.Succeeded"),
            "one_done": (" || ", lambda n: f"{n}.Succeeded || {failed(n)}"),
            "none_failed": (" && ", lambda n: f"{n}.Succeeded || {skipped(n)}"),
            "none_skipped": (" && ", lambda n: f"{n}.Succeeded || {failed(n)}"),
            "all_skipped": (" && ", skipped),
        }
        if rule == "none_failed_min_one_success":
            return _join(" && ", [self._depends_with("none_failed", terms, names),
                                  self._depends_with("one_success", terms, names)])
        if rule not in terms:
            self.issue("unsupported", f"trigger rule {rule!r} has no Argo `depends` equivalent; the step waits for "
                       "all upstream tasks to succeed", f"task {task.task_id}", task.task_id)
            rule = "all_success"
        return self._depends_with(rule, terms, names)

    @staticmethod
    def _depends_with(rule: str, terms: Mapping[str, Any], names: list[str]) -> str:
        joiner, term = terms[rule]
        return _join(joiner, [term(n) for n in names])

    # -------------------------------------------------------------- XCom
    def _xcom_resolver(self, task: Any) -> Any:
        upstream = set(task.get_flat_relative_ids(upstream=True))

        def resolve(task_id: str, key: str, subscripts: list[Any]) -> str:
            pulled = f"xcom_pull({task_id!r}{'' if key == 'return_value' else f', key={key!r}'})" + "".join(
                f"[{s!r}]" for s in subscripts)
            if task_id not in self.dag.task_dict:
                raise Unmappable(f"{pulled}: no task {task_id!r} in the DAG")
            if task_id not in upstream:
                raise Unmappable(f"{pulled}: {task_id!r} is not upstream of the task; Argo reads a step's outputs "
                                 "only after it ran")
            xcom = self.xcoms.get(task_id)
            if xcom is None or key != "return_value":
                raise Unmappable(f"{pulled}: the step of {task_id!r} does not expose this XCom as an output")
            if len(subscripts) == 1 and str(subscripts[0]) in xcom.keys:
                return xcom.keys[str(subscripts[0])]
            producer = self.task_of[task_id]
            if xcom.workflow_outputs and len(subscripts) == 2 and subscripts[0] == "outputs" \
                    and isinstance(subscripts[1], str) and producer not in self.wrapped:
                return f"{{{{tasks.{producer}.outputs.parameters.{subscripts[1]}}}}}"
            if xcom.json_param is None:
                raise Unmappable(f"{pulled}: the step of {task_id!r} exposes only "
                                 f"{', '.join(sorted(xcom.keys)) or 'nothing'}")
            if not subscripts:
                return f"{{{{tasks.{producer}.outputs.parameters.{xcom.json_param}}}}}"
            if not all(isinstance(s, int) or (isinstance(s, str) and s.isidentifier()) for s in subscripts):
                raise Unmappable(f"{pulled}: only plain keys and indexes become a JSON path")
            path = "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in subscripts)
            return f"{{{{=jsonpath(tasks['{producer}'].outputs.parameters['{xcom.json_param}'], '{path}')}}}}"

        return resolve


# ------------------------------------------------------------------------------------------ schedule


def _schedule(dag: Any, template: str, names: Names, options: Options, issue: Any) -> list[tuple[str, dict]]:
    timetable = dag.timetable
    kind = type(timetable).__name__
    element = f"dag {dag.dag_id} schedule"
    if kind == "NullTimetable":
        return []
    if kind == "OnceTimetable":
        issue("approximated", f"@once: no CronWorkflow; submit the template once (argo submit --from "
              f"workflowtemplate/{template})", element)
        return []
    name = names.claim(dns_name(dag.dag_id, 52))  # room for the suffix Argo appends to the Workflows it creates
    window = f"start_date {dag.start_date} / end_date {dag.end_date}"
    if kind == "ArgoCalendarTimetable":
        issue("approximated", f"the calendar EventSource fires from when it is applied: {window} and catchup are not "
              "enforced", element)
        return calendar_events(name, template, timetable, {}, options.namespace, options.service_account)
    cron = _attr(timetable, "expression")
    if kind == "MultipleCronTriggerTimetable":
        parts = list(_attr(timetable, "timetables") or [])
        zones = {str(_attr(part, "timezone")) for part in parts}
        if parts and len(zones) == 1:  # one CronWorkflow takes several schedules in one timezone
            cron, timetable = [_attr(part, "expression") for part in parts], parts[0]
    delta = _attr(timetable, "delta")
    if cron is None and delta is not None:
        cron = _delta_cron(delta)
        if cron is not None:
            issue("approximated", f"every {delta}: cron {cron!r} ticks on the clock, not from start_date", element)
    if not isinstance(cron, (str, list)):
        issue("unsupported", f"schedule {kind} ({getattr(timetable, 'summary', '')}) has no CronWorkflow "
              "equivalent: no schedule exported; submit the template from your trigger", element)
        return []
    if kind == "CronDataIntervalTimetable":
        issue("approximated", "a data-interval cron schedule: Airflow's logical date is the interval start, one "
              "period before the run; the workflow's creation time is the tick", element)
    zone = _attr(timetable, "timezone")
    zone_name = getattr(zone, "name", None) or (str(zone) if zone else None)
    policy = "Allow"
    if dag.max_active_runs == 1:
        policy = "Forbid"
        issue("approximated", "max_active_runs 1: concurrencyPolicy Forbid skips a tick while a run is active "
              "(Airflow queues it)", element)
    issue("approximated", f"{window} are not enforced by a CronWorkflow (kept as annotations)"
          + ("; catchup (backfilling missed runs) is not migrated" if dag.catchup else ""), element)
    annotations = {f"{ANNOTATION_PREFIX}airflow-dag": dag.dag_id,
                   f"{ANNOTATION_PREFIX}airflow-schedule": cron if isinstance(cron, str) else " | ".join(cron),
                   f"{ANNOTATION_PREFIX}airflow-start-date": str(dag.start_date or ""),
                   f"{ANNOTATION_PREFIX}airflow-end-date": str(dag.end_date or "")}
    return [(f"{name}.cronworkflow.yaml", cron_workflow(name, options.namespace, annotations, cron, template,
                                                        timezone=zone_name, concurrency_policy=policy))]


def _attr(timetable: Any, name: str) -> Any:
    """A timetable setting: public on the task SDK's timetables, private on airflow.timetables' ones."""
    value = getattr(timetable, name, None)
    return value if value is not None else getattr(timetable, f"_{name}", None)


def _delta_cron(delta: Any) -> str | None:
    """A cron expression for an interval that divides an hour or a day evenly; None otherwise."""
    seconds = int(delta.total_seconds())
    if seconds <= 0 or seconds % 60:
        return None
    minutes = seconds // 60
    if minutes < 60 and 60 % minutes == 0:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if minutes % 60 == 0 and (hours := minutes // 60) <= 24 and 24 % hours == 0:
        return "0 * * * *" if hours == 1 else "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"
    return None


# ------------------------------------------------------------------------------------------ helpers


def _topological(dag: Any) -> list[str]:
    """Every task after its upstream tasks; ties by task id, so the output is stable."""
    indegree = {t: len(task.upstream_task_ids) for t, task in dag.task_dict.items()}
    ready = sorted(t for t, d in indegree.items() if d == 0)
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for child in dag.task_dict[current].downstream_task_ids:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
                ready.sort()
    return order


def _classes(op: Any) -> list[str]:
    return [cls.__name__ for cls in type(op).__mro__]


def _kind(task: Any) -> str:
    if type(task).__name__ == "MappedOperator":
        return task.operator_class.__name__
    return next((k for k in _classes(task) if k in BUILDERS), type(task).__name__)


def _rule(task: Any) -> str:
    return str(getattr(task.trigger_rule, "value", task.trigger_rule))


def _join(joiner: str, terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    return joiner.join(f"({t})" if " " in t else t for t in terms)


def _seconds(delta: Any) -> int:
    return int(math.ceil(delta.total_seconds())) if hasattr(delta, "total_seconds") else int(delta)

