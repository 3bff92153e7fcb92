"""Read an Oozie application (workflow, coordinator, bundle, properties) into the IR (``ir.py``) and validate it.

Entry point: :func:`parse_application`. Every error found is collected and raised together as one
:class:`~.ir.MigrationError`; conversions that lose something are recorded as non-error issues on the
:class:`~.ir.Application`.

App paths (coordinator -> workflow, bundle -> coordinator, sub-workflow -> child) name HDFS locations such as
``${nameNode}/user/${user.name}/apps/etl``. After property substitution they are matched against the input
directory by their trailing path components: the longest suffix of the path that names a directory inside the
input root (or the root itself, when the suffix starts with the root's own name) holding the expected file
(``workflow.xml``/``coordinator.xml``, or the ``.xml`` file the path ends with) wins. A relative path is
resolved against the referencing file's directory first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import ir
from .ir import Issue, MigrationError, Source
from .properties import (
    PropertySet,
    configuration_properties,
    merge,
    parameter_defaults,
    read_configuration_xml,
    read_properties,
    resolve,
    substitute,
)
from .xml import XmlElement, read_xml

WORKFLOW_VERSIONS = ("0.1", "0.2", "0.2.5", "0.3", "0.4", "0.4.5", "0.5", "1.0")
COORDINATOR_VERSIONS = ("0.1", "0.2", "0.3", "0.4", "0.5")
BUNDLE_VERSIONS = ("0.1", "0.2")
MAX_APP_NAME = 250  # application names become DAG ids (Airflow allows 250 characters); Oozie stores 255
# Extension action schemas, as shipped by Oozie (client/src/main/resources/*-action-*.xsd).
ACTION_VERSIONS = {
    "spark": ("0.1", "0.2", "1.0"),
    "shell": ("0.1", "0.2", "0.3", "1.0"),
    "hive": ("0.2", "0.3", "0.4", "0.5", "0.6", "1.0"),
    "hive2": ("0.1", "0.2", "1.0"),
    "sqoop": ("0.2", "0.3", "0.4", "1.0"),
    "distcp": ("0.1", "0.2", "1.0"),
    "email": ("0.1", "0.2"),
    "ssh": ("0.1", "0.2"),
    "git": ("1.0",),
}
CORE_ACTIONS = ("map-reduce", "pig", "sub-workflow", "fs", "java")
CORE_ACTIONS_0_1 = (*CORE_ACTIONS, "ssh", "email", "http")  # workflow 0.1 had ssh/email/http inline

_NAMESPACE = re.compile(r"^uri:oozie:(workflow|coordinator|bundle|sla|([a-z0-9]+)-action):(.+)$")
_IDENTIFIER = re.compile(r"[a-zA-Z_][-_a-zA-Z0-9]*")  # Oozie's IDENTIFIER, without its backtracking trap
_FREQUENCY_EL = re.compile(r"^\$\{\s*coord:(minutes|hours|days|months|endOfDays|endOfWeeks|endOfMonths)"
                           r"\(\s*(-?\d+)\s*\)\s*\}$")
_FREQUENCY_UNITS: dict[str, tuple[str, int]] = {
    "minutes": ("minutes", 1), "hours": ("minutes", 60), "days": ("minutes", 1440), "months": ("months", 1),
    "endOfDays": ("end_of_days", 1), "endOfWeeks": ("end_of_weeks", 1), "endOfMonths": ("end_of_months", 1),
}
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://[^/]*")
_START = "<start>"  # the start node's key in transitions (it has no name; "start" may name a real node)
_ROOT_FILES = {"workflow-app": "workflow.xml", "coordinator-app": "coordinator.xml", "bundle-app": "bundle.xml"}


def parse_application(path: str | os.PathLike[str], properties_file: str | os.PathLike[str] | None = None
                      ) -> ir.Application:
    """Read an application directory (``workflow.xml``, optional ``coordinator.xml``/``bundle.xml``,
    ``job.properties``, ``config-default.xml``) or a single workflow/coordinator/bundle XML file.

    ``properties_file`` replaces the directory's ``job.properties``. Raises :class:`MigrationError` with every
    error found (each naming file, line and element)."""
    reader = _Reader(Path(path), Path(properties_file) if properties_file is not None else None)
    return reader.run()


# ------------------------------------------------------------------------------------------ the reader


@dataclass
class _Document:
    """One XML file being turned into IR, with the property values used to substitute its text."""

    element: XmlElement
    display: str
    directory: Path
    properties: dict[str, str]
    kind: str = ""
    version: str = ""


@dataclass
class _Reader:
    input_path: Path
    properties_file: Path | None
    root: Path = field(init=False)
    errors: list[Issue] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    unresolved: dict[str, Source] = field(default_factory=dict)
    properties: PropertySet = field(default_factory=PropertySet)
    workflows: dict[str, ir.Workflow] = field(default_factory=dict)
    coordinators: dict[Path, ir.Coordinator] = field(default_factory=dict)
    in_progress: set[Path] = field(default_factory=set)
    xml_cache: dict[Path, XmlElement | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = self.input_path if self.input_path.is_dir() else self.input_path.parent

    # ---------------------------------------------------------------- top level

    def run(self) -> ir.Application:
        if not self.input_path.exists():
            raise MigrationError([Issue("error", "no such file or directory", Source(str(self.input_path)))])
        roots = self._root_documents()
        self._load_properties(roots)
        app = ir.Application(root=str(self.input_path))
        self._parse_roots(roots, app)  # even after a properties error, to report every error at once
        if self.errors:
            raise MigrationError(self.errors)
        app.properties = dict(self.properties.values)
        app.workflows = dict(sorted(self.workflows.items(), key=lambda item: item[0] != ""))  # the root first
        app.coordinators = list(self.coordinators.values())
        app.issues = self.issues
        supplied = self._supplied_at_run_time(app)
        app.unresolved = {name: source for name, source in self.unresolved.items() if name not in supplied}
        return app

    def _supplied_at_run_time(self, app: ir.Application) -> set[str]:
        """Names that a coordinator, a bundle or a parent workflow passes in its <configuration>: not missing."""
        names: set[str] = set()
        for coordinator in app.coordinators:
            names.update(coordinator.configuration)
        for entry in app.bundle.coordinators if app.bundle is not None else []:
            names.update(entry.configuration)
        for workflow in app.workflows.values():
            for action in workflow.actions:
                if isinstance(action.body, ir.SubWorkflowAction):
                    names.update(action.body.configuration)
        return names

    def _root_documents(self) -> list[tuple[str, Path, XmlElement]]:
        """(root element name, path, element) of the files the input names, bundle first."""
        if self.input_path.is_file():
            candidates = [self.input_path]
        else:
            candidates = [self.root / name for name in ("bundle.xml", "coordinator.xml", "workflow.xml")]
            candidates = [c for c in candidates if c.exists()]  # a present but unreadable file is an error
            if not candidates:
                self.errors.append(Issue("error", "no workflow.xml, coordinator.xml or bundle.xml in the application "
                                         "directory", Source(self.input_path.name or str(self.input_path))))
        roots = []
        for candidate in candidates:
            element = self.xml(candidate)
            if element is None:
                continue
            if element.local not in _ROOT_FILES:
                self.errors.append(Issue("error", f"unknown root element <{element.local}> (expected workflow-app, "
                                         "coordinator-app or bundle-app)", element.source, element.local))
                continue
            roots.append((element.local, candidate, element))
        return roots

    def _load_properties(self, roots: list[tuple[str, Path, XmlElement]]) -> None:
        job = PropertySet()
        job_path = self.properties_file or self.root / "job.properties"
        defaults_path = self.root / "config-default.xml"
        try:
            if self.properties_file is not None or job_path.exists():
                job = read_properties(job_path, self.display_name(job_path))
            defaults = (read_configuration_xml(defaults_path, self.display_name(defaults_path))
                        if defaults_path.exists() else PropertySet())
            parameters = merge(*(self._parameter_layer(element) for _, _, element in reversed(roots)))
            self.properties, unresolved = resolve(job, defaults, parameters)
        except MigrationError as exc:
            self.errors.extend(exc.issues)
            return
        for name, source in unresolved.items():
            self.unresolved.setdefault(name, source)

    def _parameter_layer(self, element: XmlElement) -> PropertySet:
        return parameter_defaults(_parameters(element), element.source)

    def _parse_roots(self, roots: list[tuple[str, Path, XmlElement]], app: ir.Application) -> None:
        for kind, path, element in roots:
            if kind == "bundle-app":
                app.bundle = self.bundle(path, element)
            elif kind == "coordinator-app" and path.resolve() not in self.coordinators:
                self.coordinator(path, element)
            elif kind == "workflow-app":
                self.workflow(path.parent, path)

    # ---------------------------------------------------------------- shared helpers

    def display_name(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def xml(self, path: Path) -> XmlElement | None:
        key = path.resolve()
        if key not in self.xml_cache:
            try:
                self.xml_cache[key] = read_xml(path, self.display_name(path))
            except MigrationError as exc:
                self.errors.extend(exc.issues)
                self.xml_cache[key] = None
        return self.xml_cache[key]

    def error(self, message: str, source: Source, element: str = "") -> None:
        self.errors.append(Issue("error", message, source, element))

    def note(self, level: ir.IssueLevel, message: str, source: Source, element: str = "") -> None:
        self.issues.append(Issue(level, message, source, element))

    def sub(self, doc: _Document, text: str | None, source: Source) -> str | None:
        """Substitute known property references; remember unknown ones with where they were used."""
        if text is None:
            return None
        result, unresolved = substitute(text, doc.properties)
        for name in unresolved:
            self.unresolved.setdefault(name, source)
        return result

    def text(self, doc: _Document, element: XmlElement, local: str) -> str | None:
        child = element.child(local)
        return self.sub(doc, child.text.strip(), child.source) if child is not None else None

    def texts(self, doc: _Document, element: XmlElement, local: str) -> list[str]:
        return [self.sub(doc, c.text.strip(), c.source) or "" for c in element.children_named(local)]

    def attr(self, doc: _Document, element: XmlElement, name: str) -> str | None:
        return self.sub(doc, element.attrib.get(name), element.source)

    def configuration(self, doc: _Document, element: XmlElement | None) -> dict[str, str]:
        if element is None:
            return {}
        try:
            props = configuration_properties(element)
        except MigrationError as exc:
            self.errors.extend(exc.issues)
            return {}
        return {name: self.sub(doc, value, props.sources[name]) or "" for name, value in props.values.items()}

    def document(self, path: Path, element: XmlElement, kind: str) -> _Document | None:
        """Check the root element and its schema version; bind the properties for its text."""
        version = _schema_version(element, kind)
        supported = {"workflow": WORKFLOW_VERSIONS, "coordinator": COORDINATOR_VERSIONS,
                     "bundle": BUNDLE_VERSIONS}[kind]
        if version not in supported:
            self.error(f"unsupported schema '{element.namespace or '(no namespace)'}' for <{element.local}> "
                       f"(supported: {', '.join(f'uri:oozie:{kind}:{v}' for v in supported)})",
                       element.source, element.local)
            return None
        name = element.attrib.get("name", "")
        if len(name) > MAX_APP_NAME:
            self.error(f"application name is {len(name)} characters long; at most {MAX_APP_NAME} are supported (an "
                       "Airflow DAG id is at most 250)", element.source, element.local)
            return None
        properties = dict(self.properties.values)
        for name, value in _parameters(element).items():
            if value is not None and name not in properties:
                properties[name] = substitute(value, properties)[0]
        return _Document(element, self.display_name(path), path.parent, properties, kind, version)

    def locate(self, app_path: str, base: Path, default_file: str) -> Path | None:
        """The file an app path names inside the input root (see the module docstring for the rule)."""
        text = app_path.strip()
        remote = _SCHEME.match(text)
        parts = [p for p in _SCHEME.sub("", text).split("/") if p and p != "."]
        if not parts:
            return None
        filename = default_file
        if parts[-1].endswith(".xml"):
            filename, parts = parts[-1], parts[:-1]
        root = self.root.resolve()
        candidates: list[Path] = []
        if not remote and not text.startswith(("/", "${")):
            candidates.append(base.joinpath(*parts))
        for count in range(len(parts), 0, -1):
            suffix = parts[-count:]
            candidates.append(root.joinpath(*suffix))
            if suffix[0] == root.name:
                candidates.append(root.joinpath(*suffix[1:]))
        for candidate in candidates:
            resolved = candidate.resolve()
            if (resolved == root or root in resolved.parents) and (resolved / filename).is_file():
                return resolved / filename
        return None

    # ---------------------------------------------------------------- workflows

    def workflow(self, directory: Path, path: Path | None = None) -> ir.Workflow | None:
        path = (path or directory / "workflow.xml").resolve()
        key = self._app_key(path)
        if key in self.workflows:
            return self.workflows[key]
        if path in self.in_progress:
            return None
        element = self.xml(path)
        if element is None:
            return None
        if element.local != "workflow-app":
            self.error(f"expected <workflow-app>, found <{element.local}>", element.source, element.local)
            return None
        doc = self.document(path, element, "workflow")
        if doc is None:
            return None
        self.in_progress.add(path)
        try:
            workflow = _WorkflowParser(self, doc, key).parse()
        finally:
            self.in_progress.discard(path)
        self.workflows[key] = workflow
        return workflow

    def _app_key(self, path: Path) -> str:
        """The key of a workflow in ``Application.workflows``: its directory relative to the root."""
        if self.input_path.is_file() and path == self.input_path.resolve():
            return ""
        relative = self.display_name(path.parent)
        return "" if relative == "." else relative

    def linked_workflow(self, app_path: str, doc: _Document, source: Source,
                        element: str) -> ir.Workflow | None:
        path = self.locate(app_path, doc.directory, "workflow.xml")
        if path is None:
            return None
        if path.resolve() in self.in_progress:
            self.note("unsupported", f"app path '{app_path}' refers to a workflow that is already being read "
                      "(recursive sub-workflow)", source, element)
            return None
        return self.workflow(path.parent, path)

    # ---------------------------------------------------------------- coordinators and bundles

    def coordinator(self, path: Path, element: XmlElement) -> ir.Coordinator | None:
        key = path.resolve()
        if key in self.coordinators:
            return self.coordinators[key]
        doc = self.document(path, element, "coordinator")
        if doc is None:
            return None
        coordinator = _CoordinatorParser(self, doc).parse()
        if coordinator is not None:
            self.coordinators[key] = coordinator
        return coordinator

    def bundle(self, path: Path, element: XmlElement) -> ir.Bundle | None:
        doc = self.document(path, element, "bundle")
        if doc is None:
            return None
        controls = element.child("controls")
        bundle = ir.Bundle(
            name=self.attr(doc, element, "name") or "",
            schema_version=doc.version,
            source=element.source,
            kick_off_time=self.text(doc, controls, "kick-off-time") if controls is not None else None,
            parameters=_parameters(element),
        )
        for item in element.children_named("coordinator"):
            bundle.coordinators.append(self._bundle_coordinator(doc, item))
        if not bundle.coordinators:
            self.error("a bundle needs at least one <coordinator>", element.source, "bundle-app")
        return bundle

    def _bundle_coordinator(self, doc: _Document, item: XmlElement) -> ir.BundleCoordinator:
        app_path = self.text(doc, item, "app-path") or ""
        entry = ir.BundleCoordinator(
            name=self.attr(doc, item, "name") or "",
            app_path=app_path,
            configuration=self.configuration(doc, item.child("configuration")),
            critical=(item.attrib.get("critical", "false").strip().lower() == "true"),
            enabled=(item.attrib.get("enabled", "true").strip().lower() != "false"),
            source=item.source,
        )
        where = f"bundle coordinator {entry.name}"
        target = self.locate(app_path, doc.directory, "coordinator.xml") if app_path else None
        if target is None:
            self.note("unsupported", f"coordinator app path '{app_path}' was not found in the input directory",
                      item.source, where)
            return entry
        element = self.xml(target)
        if element is not None and element.local != "coordinator-app":
            self.error(f"expected <coordinator-app>, found <{element.local}>", element.source, where)
        elif element is not None:
            entry.coordinator = self.coordinator(target, element)
        return entry


# ------------------------------------------------------------------------------------------ workflow parser


@dataclass
class _Transition:
    node: str
    target: str
    source: Source
    kind: str  # "to", "ok", "error", "case", "default", "path"


class _WorkflowParser:
    def __init__(self, reader: _Reader, doc: _Document, key: str) -> None:
        self.reader = reader
        self.doc = doc
        self.key = key
        self.transitions: list[_Transition] = []
        self.job_xml_cache: dict[str, dict[str, str]] = {}

    def parse(self) -> ir.Workflow:
        element, reader, doc = self.doc.element, self.reader, self.doc
        self.workflow = workflow = ir.Workflow(
            name=reader.attr(doc, element, "name") or "", schema_version=doc.version, source=element.source,
            app_path=self.key, parameters=_parameters(element))
        global_element = element.child("global")
        if global_element is not None:
            workflow.global_common = self.common(global_element, global_scope=True)
        credentials = element.child("credentials")
        for credential in credentials.children_named("credential") if credentials is not None else []:
            workflow.credentials.append(ir.Credential(
                name=credential.attrib.get("name", ""), type=credential.attrib.get("type", ""),
                properties=reader.configuration(doc, credential), source=credential.source))
        starts = element.children_named("start")
        if not starts:
            reader.error("workflow has no <start> node", element.source, "workflow-app")
        for child in element:
            self.node(child)
        if not any(isinstance(n, ir.End) for n in workflow.nodes.values()):
            reader.error("workflow has no <end> node", element.source, "workflow-app")
        if starts:
            workflow.start = starts[0].attrib.get("to", "")
            self.transitions.insert(0, _Transition(_START, workflow.start, starts[0].source, "to"))
        _GraphValidator(reader, workflow, self.transitions).validate()
        return workflow

    # ---------------------------------------------------------------- nodes

    def node(self, element: XmlElement) -> None:
        builders: dict[str, Callable[[XmlElement, str], ir.AnyNode]] = {
            "end": self.end, "kill": self.kill, "decision": self.decision, "fork": self.fork, "join": self.join,
            "action": self.action}
        builder = builders.get(element.local)
        if element.local == "info":
            self.reader.note("unsupported", "SLA definitions (<sla:info>) are not converted", element.source,
                             "sla:info")
            return
        if builder is None:
            if element.local not in ("start", "parameters", "global", "credentials"):
                self.reader.error(f"unknown workflow element <{element.local}>", element.source, element.local)
            return
        name = element.attrib.get("name", "")
        if not _IDENTIFIER.fullmatch(name):
            self.reader.error(f"invalid node name '{name}' (Oozie names start with a letter or '_' and contain only "
                              "letters, digits, '-' and '_')", element.source, f"{element.local} {name}")
        if name in self.workflow.nodes:
            first = self.workflow.nodes[name].source
            self.reader.error(f"duplicate node name '{name}' (first defined at line {first.line})", element.source,
                              f"{element.local} {name}")
            return
        node = builder(element, name)
        self.workflow.nodes[name] = node

    def _to(self, name: str, element: XmlElement, kind: str, attribute: str = "to") -> str:
        target = element.attrib.get(attribute, "")
        self.transitions.append(_Transition(name, target, element.source, kind))
        return target

    def end(self, element: XmlElement, name: str) -> ir.End:
        return ir.End(name, element.source)

    def kill(self, element: XmlElement, name: str) -> ir.Kill:
        message = self.reader.text(self.doc, element, "message")
        if not message:
            self.reader.error("kill node without a <message>", element.source, f"kill {name}")
        return ir.Kill(name, element.source, message=message or "")

    def decision(self, element: XmlElement, name: str) -> ir.Decision:
        node = ir.Decision(name, element.source)
        switch = element.child("switch")
        if switch is None:
            self.reader.error("decision without <switch>", element.source, f"decision {name}")
            return node
        for case in switch.children_named("case"):
            predicate = self.reader.sub(self.doc, case.text.strip(), case.source) or ""
            node.cases.append((predicate, self._to(name, case, "case")))
        default = switch.child("default")
        if default is None:
            self.reader.error("decision without a <default> transition", element.source, f"decision {name}")
        else:
            node.default = self._to(name, default, "default")
        if not node.cases:
            self.reader.error("decision without any <case>", element.source, f"decision {name}")
        return node

    def fork(self, element: XmlElement, name: str) -> ir.Fork:
        paths = [self._to(name, p, "path", "start") for p in element.children_named("path")]
        if len(paths) < 2:
            self.reader.error("fork needs at least two <path> elements", element.source, f"fork {name}")
        return ir.Fork(name, element.source, paths=paths)

    def join(self, element: XmlElement, name: str) -> ir.Join:
        return ir.Join(name, element.source, to=self._to(name, element, "to"))

    def action(self, element: XmlElement, name: str) -> ir.Action:
        where = f"action {name}"
        node = ir.Action(name, element.source, retry_policy=element.attrib.get("retry-policy"),
                         cred=[c.strip() for c in element.attrib.get("cred", "").split(",") if c.strip()])
        node.retry_max = self._int_attribute(element, "retry-max", where)
        node.retry_interval_minutes = self._int_attribute(element, "retry-interval", where)
        for local in ("ok", "error"):
            transition = element.child(local)
            if transition is None:
                self.reader.error(f"action without an <{local}> transition", element.source, where)
            else:
                setattr(node, local, self._to(name, transition, local))
        for sla in (c for c in element if c.namespace.startswith("uri:oozie:sla")):
            self.reader.note("unsupported", "SLA definitions (<sla:info>) are not converted", sla.source, where)
        bodies = [c for c in element if c.local not in ("ok", "error") and not c.namespace.startswith("uri:oozie:sla")]
        if not bodies:
            self.reader.error("action without an action type element", element.source, where)
            return node
        node.body = self.body(bodies[0], where)
        return node

    def _int_attribute(self, element: XmlElement, attribute: str, where: str) -> int | None:
        raw = self.reader.attr(self.doc, element, attribute)
        if raw is None or not raw.strip():
            return None
        try:
            return int(raw.strip())
        except ValueError:
            self.reader.note("unsupported", f"{attribute}='{raw}' is not a number and is ignored", element.source,
                             where)
            return None

    # ---------------------------------------------------------------- action bodies

    def body(self, element: XmlElement, where: str) -> ir.ActionBody:
        kind = self._action_kind(element, where)
        builder: Callable[[XmlElement, str], ir.ActionBody] | None = getattr(
            self, "body_" + kind.replace("-", "_"), None) if kind else None
        if builder is None:
            self.reader.note("unsupported", f"action type <{element.local}> ({element.namespace or 'no namespace'}) "
                             "is not converted", element.source, where)
            return ir.UnknownAction(tag=element.local, namespace=element.namespace, xml=_to_text(element))
        return builder(element, where)

    def _action_kind(self, element: XmlElement, where: str) -> str | None:
        """The action type, or None for an unknown (custom) one; errors on unknown versions of known types."""
        if element.namespace == self.doc.element.namespace:
            core = CORE_ACTIONS_0_1 if self.doc.version == "0.1" else CORE_ACTIONS
            return element.local if element.local in core else None
        match = _NAMESPACE.match(element.namespace)
        if match is None or match.group(2) is None or match.group(2) != element.local:
            return None
        kind, version = match.group(2), match.group(3)
        if kind not in ACTION_VERSIONS:
            return None
        if version not in ACTION_VERSIONS[kind]:
            self.reader.error(f"unsupported schema '{element.namespace}' for <{element.local}> (supported: "
                              f"{', '.join(f'uri:oozie:{kind}-action:{v}' for v in ACTION_VERSIONS[kind])})",
                              element.source, where)
        return kind

    def body_spark(self, element: XmlElement, where: str) -> ir.SparkAction:
        text = self.reader.text
        jars = [j.strip() for j in (text(self.doc, element, "jar") or "").split(",") if j.strip()]
        opts_text = text(self.doc, element, "spark-opts") or ""
        if not jars:
            self.reader.error("spark action without a <jar>", element.source, where)
        return ir.SparkAction(
            master=text(self.doc, element, "master") or "", mode=text(self.doc, element, "mode"),
            app_name=text(self.doc, element, "name") or "", main_class=text(self.doc, element, "class"),
            application=jars[0] if jars else "", extra_jars=jars[1:], spark_opts=parse_spark_opts(opts_text),
            spark_opts_text=opts_text, args=self.reader.texts(self.doc, element, "arg"), common=self.common(element))

    def body_shell(self, element: XmlElement, where: str) -> ir.ShellAction:
        env = []
        for value in self.reader.texts(self.doc, element, "env-var"):
            key, _, val = value.partition("=")
            env.append((key, val))
        return ir.ShellAction(exec=self.reader.text(self.doc, element, "exec") or "",
                              arguments=self.reader.texts(self.doc, element, "argument"), env=env,
                              capture_output=element.has("capture-output"), common=self.common(element))

    def body_java(self, element: XmlElement, where: str) -> ir.JavaAction:
        opts = self.reader.texts(self.doc, element, "java-opt")
        joined = self.reader.text(self.doc, element, "java-opts")
        return ir.JavaAction(main_class=self.reader.text(self.doc, element, "main-class") or "",
                             java_opts=([joined] if joined else []) + opts,
                             args=self.reader.texts(self.doc, element, "arg"),
                             capture_output=element.has("capture-output"), common=self.common(element))

    def body_map_reduce(self, element: XmlElement, where: str) -> ir.MapReduceAction:
        action = ir.MapReduceAction(config_class=self.reader.text(self.doc, element, "config-class"),
                                    common=self.common(element))
        streaming = element.child("streaming")
        if streaming is not None:
            for local in ("mapper", "reducer", "record-reader"):
                value = self.reader.text(self.doc, streaming, local)
                if value is not None:
                    action.streaming[local] = value
            for local in ("record-reader-mapping", "env"):
                values = self.reader.texts(self.doc, streaming, local)
                if values:
                    action.streaming[local] = values
        pipes = element.child("pipes")
        for child in pipes.children if pipes is not None else []:
            action.pipes[child.local] = self.reader.sub(self.doc, child.text.strip(), child.source) or ""
        return action

    def body_pig(self, element: XmlElement, where: str) -> ir.PigAction:
        return ir.PigAction(script=self.reader.text(self.doc, element, "script") or "",
                            params=self.reader.texts(self.doc, element, "param"),
                            args=self.reader.texts(self.doc, element, "argument"), common=self.common(element))

    def body_hive(self, element: XmlElement, where: str, kind: str = "hive") -> ir.HiveAction:
        return ir.HiveAction(kind=kind, script=self.reader.text(self.doc, element, "script"),  # type: ignore[arg-type]
                             query=self.reader.text(self.doc, element, "query"),
                             params=self.reader.texts(self.doc, element, "param"),
                             args=self.reader.texts(self.doc, element, "argument"),
                             jdbc_url=self.reader.text(self.doc, element, "jdbc-url"),
                             password=self.reader.text(self.doc, element, "password"), common=self.common(element))

    def body_hive2(self, element: XmlElement, where: str) -> ir.HiveAction:
        return self.body_hive(element, where, "hive2")

    def body_sqoop(self, element: XmlElement, where: str) -> ir.SqoopAction:
        return ir.SqoopAction(command=self.reader.text(self.doc, element, "command"),
                              args=self.reader.texts(self.doc, element, "arg"), common=self.common(element))

    def body_distcp(self, element: XmlElement, where: str) -> ir.DistcpAction:
        return ir.DistcpAction(java_opts=self.reader.text(self.doc, element, "java-opts"),
                               args=self.reader.texts(self.doc, element, "arg"), common=self.common(element))

    def body_fs(self, element: XmlElement, where: str) -> ir.FsAction:
        action = ir.FsAction(common=self.common(element))
        for child in element:
            if child.local in ("name-node", "job-xml", "configuration"):
                continue
            attributes = {k: self.reader.sub(self.doc, v, child.source) or "" for k, v in child.attrib.items()}
            action.operations.append(ir.FsOperation(op=child.local, attributes=attributes,
                                                    recursive=child.has("recursive"), source=child.source))
        return action

    def body_email(self, element: XmlElement, where: str) -> ir.EmailAction:
        def addresses(local: str) -> list[str]:
            return [a.strip() for a in (self.reader.text(self.doc, element, local) or "").split(",") if a.strip()]

        body = self.reader.text(self.doc, element, "body")
        return ir.EmailAction(to=addresses("to"), cc=addresses("cc"), bcc=addresses("bcc"),
                              subject=self.reader.text(self.doc, element, "subject") or "",
                              body=body if body is not None else self.reader.text(self.doc, element, "message") or "",
                              content_type=self.reader.text(self.doc, element, "content_type"),
                              attachments=addresses("attachment"))

    def body_ssh(self, element: XmlElement, where: str) -> ir.SshAction:
        args = [a for c in element.children_named("args", "arg")
                for a in [self.reader.sub(self.doc, c.text.strip(), c.source) or ""]]
        return ir.SshAction(host=self.reader.text(self.doc, element, "host") or "",
                            command=self.reader.text(self.doc, element, "command") or "", args=args,
                            capture_output=element.has("capture-output"))

    def body_git(self, element: XmlElement, where: str) -> ir.GitAction:
        return ir.GitAction(git_uri=self.reader.text(self.doc, element, "git-uri") or "",
                            branch=self.reader.text(self.doc, element, "branch"),
                            key_path=self.reader.text(self.doc, element, "key-path"),
                            destination_uri=self.reader.text(self.doc, element, "destination-uri") or "",
                            common=self.common(element))

    def body_sub_workflow(self, element: XmlElement, where: str) -> ir.SubWorkflowAction:
        app_path = self.reader.text(self.doc, element, "app-path") or ""
        action = ir.SubWorkflowAction(app_path=app_path,
                                      propagate_configuration=element.has("propagate-configuration"),
                                      configuration=self.reader.configuration(self.doc, element.child("configuration")))
        action.workflow = self.reader.linked_workflow(app_path, self.doc, element.source, where)
        if action.workflow is None:
            self.reader.note("unsupported", f"sub-workflow app path '{app_path}' was not found in the input "
                             "directory; the child is referenced by name only", element.source, where)
        return action

    # ---------------------------------------------------------------- common action parts

    def common(self, element: XmlElement, global_scope: bool = False) -> ir.ActionCommon:
        """Hadoop-style action parts; fills what the action leaves out from ``<global>`` (Oozie semantics)."""
        reader, doc = self.reader, self.doc
        inherited = ir.ActionCommon() if global_scope else self.workflow.global_common
        job_xml = reader.texts(doc, element, "job-xml")
        configuration = dict(inherited.configuration)
        for path in job_xml:
            configuration.update(self.job_xml(path, element))
        configuration.update(reader.configuration(doc, element.child("configuration")))
        launcher = dict(inherited.launcher)
        launcher_element = element.child("launcher")
        for child in launcher_element.children if launcher_element is not None else []:
            launcher[child.local] = reader.sub(doc, child.text.strip(), child.source) or ""
        return ir.ActionCommon(
            job_tracker=reader.text(doc, element, "job-tracker") or reader.text(doc, element, "resource-manager")
            or inherited.job_tracker,
            name_node=reader.text(doc, element, "name-node") or inherited.name_node,
            prepare=self.prepare(element.child("prepare")),
            job_xml=[*inherited.job_xml, *job_xml], configuration=configuration, launcher=launcher,
            files=reader.texts(doc, element, "file"), archives=reader.texts(doc, element, "archive"))

    def prepare(self, element: XmlElement | None) -> ir.Prepare:
        prepare = ir.Prepare()
        for child in element.children_named("delete", "mkdir") if element is not None else []:
            prepare.operations.append((child.local, self.reader.attr(self.doc, child, "path") or ""))  # type: ignore[arg-type]
        return prepare

    def job_xml(self, path: str, element: XmlElement) -> dict[str, str]:
        """Properties of a ``<job-xml>`` file when it is in the input; otherwise reported."""
        if path not in self.job_xml_cache:
            found = self.reader.locate(path, self.doc.directory, "job.xml")
            values: dict[str, str] = {}
            if found is None:
                self.reader.note("unsupported", f"job-xml '{path}' was not found in the input directory; its "
                                 "properties are not merged", element.source, "job-xml")
            else:
                try:
                    props = read_configuration_xml(found, self.reader.display_name(found))
                    values = {k: self.reader.sub(self.doc, v, props.sources[k]) or "" for k, v in props.values.items()}
                except MigrationError as exc:
                    self.reader.errors.extend(exc.issues)
            self.job_xml_cache[path] = values
        return self.job_xml_cache[path]


# ------------------------------------------------------------------------------------------ graph validation


class _GraphValidator:
    """Oozie's structural rules: transitions land on nodes, no loops, everything reachable, forks meet at one join."""

    def __init__(self, reader: _Reader, workflow: ir.Workflow, transitions: list[_Transition]) -> None:
        self.reader = reader
        self.workflow = workflow
        self.transitions = transitions
        self.edges: dict[str, list[str]] = {}
        for transition in transitions:
            if transition.node != _START:
                self.edges.setdefault(transition.node, []).append(transition.target)

    def validate(self) -> None:
        if not self._dangling() and not self._cycles():
            self._unreachable()
            self._forks()

    def _dangling(self) -> bool:
        found = False
        for t in self.transitions:
            if t.target not in self.workflow.nodes:
                found = True
                what = "start" if t.node == _START else f"{self._kind(t.node)} {t.node}"
                self.reader.error(f"transition <{t.kind}> to '{t.target}', which is not a node of the workflow",
                                  t.source, what)
        return found

    def _kind(self, name: str) -> str:
        node = self.workflow.nodes.get(name)
        return type(node).__name__.lower() if node is not None else "node"

    def _cycles(self) -> bool:
        state: dict[str, int] = {}  # 1 visiting, 2 done
        stack: list[str] = []
        found: list[list[str]] = []

        def visit(name: str) -> None:
            state[name] = 1
            stack.append(name)
            for target in self.edges.get(name, []):
                if state.get(target) == 1:
                    found.append(stack[stack.index(target):] + [target])
                elif target not in state:
                    visit(target)
            stack.pop()
            state[name] = 2

        for name in self.workflow.nodes:
            if name not in state:
                visit(name)
        for loop in found:
            self.reader.error("cycle: " + " -> ".join(loop) + " (Oozie workflows must not loop)",
                              self.workflow.nodes[loop[0]].source, f"{self._kind(loop[0])} {loop[0]}")
        return bool(found)

    def _reachable(self) -> set[str]:
        seen: set[str] = set()
        pending = [self.workflow.start] if self.workflow.start else []
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                pending.extend(self.edges.get(name, []))
        return seen

    def _unreachable(self) -> None:
        seen = self._reachable()
        for name, node in self.workflow.nodes.items():
            # An unused kill or end is harmless (and common); anything else is a mistake.
            if name not in seen and not isinstance(node, ir.Kill | ir.End):
                self.reader.error(f"node '{name}' is not reachable from <start>", node.source,
                                  f"{self._kind(name)} {name}")

    def _forks(self) -> None:
        memo: dict[str, frozenset[str]] = {}
        fork_join: dict[str, str | None] = {}
        owner: dict[str, str] = {}
        nodes = self.workflow.nodes

        def joins_from(name: str) -> frozenset[str]:
            if name in memo:
                return memo[name]
            node = nodes[name]
            if isinstance(node, ir.Join):
                result = frozenset({name})
            elif isinstance(node, ir.Fork):
                join = join_of(name)
                join_node = nodes[join] if join is not None else None
                result = joins_from(join_node.to) if isinstance(join_node, ir.Join) else frozenset()
            else:
                result = frozenset().union(*(joins_from(t) for t in self.edges.get(name, [])))
            memo[name] = result
            return result

        def join_of(name: str) -> str | None:
            if name in fork_join:
                return fork_join[name]
            fork = nodes[name]
            assert isinstance(fork, ir.Fork)
            reached = frozenset().union(*(joins_from(p) for p in fork.paths))
            join: str | None = None
            if not reached:
                self.reader.error("no path of this fork reaches a <join>", fork.source, f"fork {name}")
            elif len(reached) > 1:
                owner.update(dict.fromkeys(reached, name))  # reported here, not again as stray joins
                self.reader.error(f"the paths of this fork reach different joins ({', '.join(sorted(reached))}); "
                                  "every path must meet at one join", fork.source, f"fork {name}")
            else:
                join = next(iter(reached))
                if join in owner and owner[join] != name:
                    self.reader.error(f"join '{join}' closes two forks ('{owner[join]}' and '{name}')", fork.source,
                                      f"fork {name}")
                owner.setdefault(join, name)
            fork_join[name] = join
            return join

        reachable = self._reachable()
        for name, node in nodes.items():
            if isinstance(node, ir.Fork) and name in reachable:
                join_of(name)
        for name, node in nodes.items():
            if isinstance(node, ir.Join) and name in reachable and name not in owner:
                self.reader.error(f"join '{name}' is not the meeting point of any fork", node.source, f"join {name}")
        for name in sorted(joins_from(self.workflow.start)) if self.workflow.start in nodes else []:
            self.reader.error(f"join '{name}' is reached on a path that does not pass through its fork",
                              nodes[name].source, f"join {name}")


# ------------------------------------------------------------------------------------------ coordinators


class _CoordinatorParser:
    def __init__(self, reader: _Reader, doc: _Document) -> None:
        self.reader = reader
        self.doc = doc

    def parse(self) -> ir.Coordinator | None:
        element, reader, doc = self.doc.element, self.reader, self.doc
        frequency = self.frequency(element.attrib.get("frequency", ""), element.source, "coordinator frequency")
        for attribute in ("name", "start", "end", "timezone"):
            if not element.attrib.get(attribute):
                reader.error(f"coordinator-app without a '{attribute}' attribute", element.source, "coordinator-app")
        coordinator = ir.Coordinator(
            name=reader.attr(doc, element, "name") or "", schema_version=doc.version, source=element.source,
            frequency=frequency or ir.Frequency("minutes"), start=reader.attr(doc, element, "start") or "",
            end=reader.attr(doc, element, "end") or "", timezone=reader.attr(doc, element, "timezone") or "",
            parameters=_parameters(element), controls=self.controls(element.child("controls")))
        datasets = element.child("datasets")
        if datasets is not None:
            self.datasets(datasets, coordinator)
        self.input_events(element, coordinator)
        outputs = element.child("output-events")
        for item in outputs.children_named("data-out") if outputs is not None else []:
            coordinator.output_events.append(self.event(item))
        self.action(element, coordinator)
        self.check_events(coordinator)
        return coordinator

    def frequency(self, raw: str, source: Source, where: str) -> ir.Frequency | None:
        text = (self.reader.sub(self.doc, raw, source) or "").strip()
        match = _FREQUENCY_EL.match(text)
        if match:
            unit, factor = _FREQUENCY_UNITS[match.group(1)]
            amount = int(match.group(2)) * factor
            if amount <= 0:
                self.reader.error(f"frequency '{raw}' must be positive", source, where)
            return ir.Frequency(unit, amount=amount, text=raw)  # type: ignore[arg-type]
        if text.isdigit():
            if int(text) <= 0:
                self.reader.error(f"frequency '{raw}' must be positive", source, where)
            return ir.Frequency("minutes", amount=int(text), text=raw)
        inner = text[2:-1].strip() if text.startswith("${") and text.endswith("}") else text
        if len(inner.split()) == 5 and "coord:" not in inner:
            return ir.Frequency("cron", cron=" ".join(inner.split()), text=raw)
        self.reader.error(f"unrecognized frequency '{raw}' (expected minutes, ${{coord:minutes|hours|days|months|"
                          "endOfDays|endOfWeeks|endOfMonths(n)} or a 5-field cron expression)", source, where)
        return None

    def _int(self, element: XmlElement, local: str) -> int | None:
        raw = self.reader.text(self.doc, element, local)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            self.reader.note("unsupported", f"<{local}>{raw}</{local}> is not a number and is ignored",
                             element.source, f"coordinator controls {local}")
            return None

    def controls(self, element: XmlElement | None) -> ir.Controls:
        if element is None:
            return ir.Controls()
        execution = self.reader.text(self.doc, element, "execution")
        if execution and execution not in ("FIFO", "LIFO", "LAST_ONLY", "NONE"):
            self.reader.error(f"unknown execution order '{execution}' (FIFO, LIFO, LAST_ONLY or NONE)",
                              element.source, "coordinator controls execution")
        return ir.Controls(timeout_minutes=self._int(element, "timeout"), concurrency=self._int(element, "concurrency"),
                           execution=execution, throttle=self._int(element, "throttle"))

    def datasets(self, element: XmlElement, coordinator: ir.Coordinator) -> None:
        for include in element.children_named("include"):
            path_text = self.reader.sub(self.doc, include.text.strip(), include.source) or ""
            found = self.reader.locate(path_text, self.doc.directory, "datasets.xml")
            included = self.reader.xml(found) if found is not None else None
            if included is None:
                self.reader.note("unsupported", f"dataset include '{path_text}' was not found in the input directory",
                                 include.source, "coordinator datasets include")
                continue
            self._datasets_of(included, coordinator)
        self._datasets_of(element, coordinator)

    def _datasets_of(self, element: XmlElement, coordinator: ir.Coordinator) -> None:
        for item in element.children_named("dataset", "async-dataset"):
            name = item.attrib.get("name", "")
            if item.local == "async-dataset":
                self.reader.note("unsupported", "async datasets are not converted", item.source, f"dataset {name}")
                continue
            frequency = self.frequency(item.attrib.get("frequency", ""), item.source, f"dataset {name} frequency")
            done_flag = item.child("done-flag")
            coordinator.datasets[name] = ir.Dataset(
                name=name, frequency=frequency or ir.Frequency("minutes"),
                initial_instance=self.reader.attr(self.doc, item, "initial-instance") or "",
                timezone=self.reader.attr(self.doc, item, "timezone") or "",
                uri_template=self.reader.text(self.doc, item, "uri-template") or "",
                done_flag=(self.reader.sub(self.doc, done_flag.text.strip(), done_flag.source)
                           if done_flag is not None else None),
                source=item.source)

    def event(self, item: XmlElement) -> ir.DataEvent:
        return ir.DataEvent(name=item.attrib.get("name", ""), dataset=item.attrib.get("dataset", ""),
                            instances=self.reader.texts(self.doc, item, "instance"),
                            start_instance=self.reader.text(self.doc, item, "start-instance"),
                            end_instance=self.reader.text(self.doc, item, "end-instance"), source=item.source)

    def input_events(self, element: XmlElement, coordinator: ir.Coordinator) -> None:
        inputs = element.child("input-events")
        if inputs is not None:
            for item in _descendants(inputs, "data-in"):
                coordinator.input_events.append(self.event(item))
            for logic in inputs.children_named("and", "or"):
                self.reader.note("approximated", f"input-events <{logic.local}> logic is read as a plain list of "
                                 "inputs, all required", logic.source, "coordinator input-events")
        input_logic = element.child("input-logic")
        if input_logic is not None:
            names = sorted({d.attrib.get("name") or d.attrib.get("dataset", "")
                            for d in _descendants(input_logic, "data-in")})
            self.reader.note("approximated", "<input-logic> (and/or/combine, min, wait) is not converted; inputs "
                             f"referenced: {', '.join(names)}; all declared input-events are treated as required",
                             input_logic.source, "coordinator input-logic")

    def action(self, element: XmlElement, coordinator: ir.Coordinator) -> None:
        action = element.child("action")
        workflow = action.child("workflow") if action is not None else None
        if workflow is None:
            self.reader.error("coordinator without <action><workflow>", element.source, "coordinator-app")
            return
        if action is not None and action.has("info"):
            self.reader.note("unsupported", "SLA definitions (<sla:info>) are not converted",
                             action.children_named("info")[0].source, "sla:info")
        coordinator.app_path = self.reader.text(self.doc, workflow, "app-path") or ""
        coordinator.configuration = self.reader.configuration(self.doc, workflow.child("configuration"))
        where = f"coordinator {coordinator.name} workflow"
        coordinator.workflow = self.reader.linked_workflow(coordinator.app_path, self.doc, workflow.source, where)
        if coordinator.workflow is None and (self.doc.directory / "workflow.xml").is_file():
            coordinator.workflow = self.reader.workflow(self.doc.directory)
            self.reader.note("approximated", f"app path '{coordinator.app_path}' does not match a directory of the "
                             "input; using the workflow.xml next to the coordinator", workflow.source, where)
        elif coordinator.workflow is None:
            self.reader.note("unsupported", f"workflow app path '{coordinator.app_path}' was not found in the input "
                             "directory", workflow.source, where)

    def check_events(self, coordinator: ir.Coordinator) -> None:
        for event in [*coordinator.input_events, *coordinator.output_events]:
            if event.dataset not in coordinator.datasets:
                self.reader.error(f"event '{event.name}' refers to dataset '{event.dataset}', which is not declared",
                                  event.source or coordinator.source, f"event {event.name}")


# ------------------------------------------------------------------------------------------ spark-opts


_VALUE_OPTIONS = {
    "--driver-memory": "driver_memory", "--driver-cores": "driver_cores", "--executor-memory": "executor_memory",
    "--executor-cores": "executor_cores", "--num-executors": "num_executors", "--queue": "queue",
    "--properties-file": "properties_file", "--driver-java-options": "driver_java_options",
    "--driver-class-path": "driver_class_path", "--driver-library-path": "driver_library_path",
    "--principal": "principal", "--keytab": "keytab",
}
_LIST_OPTIONS = {
    "--jars": "jars", "--py-files": "py_files", "--files": "files", "--archives": "archives",
    "--packages": "packages", "--repositories": "repositories", "--exclude-packages": "exclude_packages",
}


def split_options(text: str) -> list[str]:
    """Split on whitespace; double quotes group (and are removed), as Oozie's SparkMain does. No backslash escapes,
    so Windows paths and regexes pass through unchanged."""
    tokens: list[str] = []
    current: list[str] = []
    in_token = quoted = False
    for char in text:
        if char == '"':
            quoted, in_token = not quoted, True
        elif char.isspace() and not quoted:
            if in_token:
                tokens.append("".join(current))
            current, in_token = [], False
        else:
            current.append(char)
            in_token = True
    if in_token:
        tokens.append("".join(current))
    return tokens


def parse_spark_opts(text: str) -> ir.SparkOpts:
    """``<spark-opts>`` into :class:`~.ir.SparkOpts`; ``--opt value`` and ``--opt=value`` forms; unknown tokens
    are kept in order in ``unparsed``."""
    opts = ir.SparkOpts()
    tokens = split_options(text)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        option, has_inline, inline = token.partition("=") if token.startswith("--") else (token, False, "")
        known = option == "--conf" or option in _VALUE_OPTIONS or option in _LIST_OPTIONS
        if not known:
            opts.unparsed.append(token)
            index += 1
            continue
        if has_inline:
            value, index = inline, index + 1
        elif index + 1 < len(tokens):
            value, index = tokens[index + 1], index + 2
        else:
            opts.unparsed.append(token)
            break
        _apply_option(opts, option, value)
    return opts


def _apply_option(opts: ir.SparkOpts, option: str, value: str) -> None:
    if option == "--conf":
        key, has_value, conf_value = value.partition("=")
        if has_value and key:
            opts.conf[key.strip()] = conf_value
        else:
            opts.unparsed.extend([option, value])
    elif option in _VALUE_OPTIONS:
        setattr(opts, _VALUE_OPTIONS[option], value)
    else:
        getattr(opts, _LIST_OPTIONS[option]).extend(v.strip() for v in value.split(",") if v.strip())


# ------------------------------------------------------------------------------------------ small helpers


def _schema_version(element: XmlElement, kind: str) -> str:
    match = _NAMESPACE.match(element.namespace)
    return match.group(3) if match and match.group(1) == kind else ""


def _parameters(element: XmlElement) -> dict[str, str | None]:
    """``<parameters><property><name/><value/>``: name -> default (None when the parameter is required)."""
    parameters = element.child("parameters")
    result: dict[str, str | None] = {}
    for prop in parameters.children_named("property") if parameters is not None else []:
        name = prop.child_text("name")
        if name:
            result[name] = prop.child_text("value")
    return result


def _descendants(element: XmlElement, local: str) -> Iterable[XmlElement]:
    for child in element:
        if child.local == local:
            yield child
        else:
            yield from _descendants(child, local)


def _to_text(element: XmlElement, indent: str = "") -> str:
    """A readable XML rendering of an element (for unknown actions in the report)."""
    attributes = "".join(f' {k}="{v}"' for k, v in element.attrib.items())
    if not element.children:
        return f"{indent}<{element.local}{attributes}>{element.text.strip()}</{element.local}>"
    inner = "\n".join(_to_text(child, indent + "  ") for child in element.children)
    return f"{indent}<{element.local}{attributes}>\n{inner}\n{indent}</{element.local}>"
