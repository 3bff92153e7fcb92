"""The target-independent model of an Oozie application (the IR).

The parser (``parse.py``) builds it from XML and properties; the emitters (``to_airflow.py``, ``to_argo.py``)
read it. Every element remembers where it came from (:class:`Source`) so that reports and errors can name the
file and line. Values are kept as written in the XML, with property references already substituted where the
value is known at conversion time; what stays is Oozie EL (``${wf:id()}``), which the emitters translate with
``el.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# ------------------------------------------------------------------------------------------ bookkeeping


@dataclass(frozen=True)
class Source:
    """Where something was read: a file relative to the application directory, and a 1-based line."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


IssueLevel = Literal["error", "unsupported", "approximated", "converted"]


@dataclass(frozen=True)
class Issue:
    """One line of the migration report. ``error`` stops the migration (nothing is written);
    ``unsupported`` is kept visible in the output with a marker; ``approximated`` converts with a difference."""

    level: IssueLevel
    message: str
    source: Source
    element: str = ""  # e.g. "action spark-node", "coordinator frequency", "EL wf:actionData"
    target: Literal["", "airflow", "argo"] = ""  # the one target it concerns; "" for both

    def __str__(self) -> str:
        where = f"{self.source}" + (f" ({self.element})" if self.element else "")
        return f"{where}: {self.level}: {self.message}"


class MigrationError(Exception):
    """The input cannot be converted; carries every error found (not just the first)."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


# ------------------------------------------------------------------------------------------ actions


@dataclass
class Prepare:
    """``<prepare>``: paths to delete / mkdir before the action runs, in document order."""

    operations: list[tuple[Literal["delete", "mkdir"], str]] = field(default_factory=list)


@dataclass
class ActionCommon:
    """What every Hadoop-style action may carry. ``configuration`` is already merged in Oozie's order:
    ``<global>`` < ``<job-xml>`` files (when readable in the app dir) < inline ``<configuration>``."""

    job_tracker: str | None = None  # or resource-manager (1.0)
    name_node: str | None = None
    prepare: Prepare = field(default_factory=Prepare)
    job_xml: list[str] = field(default_factory=list)
    configuration: dict[str, str] = field(default_factory=dict)
    launcher: dict[str, str] = field(default_factory=dict)  # 1.0 <launcher>: memory.mb, vcores, java-opts, env, queue
    files: list[str] = field(default_factory=list)  # path or path#symlink
    archives: list[str] = field(default_factory=list)


@dataclass
class SparkOpts:
    """``<spark-opts>`` split like spark-submit's own option parser; anything unknown stays in ``unparsed``."""

    conf: dict[str, str] = field(default_factory=dict)  # --conf k=v (last wins, as in spark-submit)
    driver_memory: str | None = None
    driver_cores: str | None = None
    executor_memory: str | None = None
    executor_cores: str | None = None
    num_executors: str | None = None
    jars: list[str] = field(default_factory=list)
    py_files: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    archives: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    repositories: list[str] = field(default_factory=list)
    exclude_packages: list[str] = field(default_factory=list)
    queue: str | None = None
    properties_file: str | None = None
    driver_java_options: str | None = None
    driver_class_path: str | None = None
    driver_library_path: str | None = None
    principal: str | None = None
    keytab: str | None = None
    unparsed: list[str] = field(default_factory=list)


@dataclass
class SparkAction:
    kind: Literal["spark"] = field(default="spark", init=False)
    master: str = ""
    mode: str | None = None  # client | cluster (or implied by master yarn-cluster / yarn-client)
    app_name: str = ""
    main_class: str | None = None
    application: str = ""  # the first entry of <jar>: a jar or a .py file
    extra_jars: list[str] = field(default_factory=list)  # the other comma-separated <jar> entries
    spark_opts: SparkOpts = field(default_factory=SparkOpts)
    spark_opts_text: str = ""  # as written, for the report
    args: list[str] = field(default_factory=list)
    common: ActionCommon = field(default_factory=ActionCommon)

    @property
    def is_python(self) -> bool:
        return self.application.split("#", 1)[0].lower().endswith(".py")


@dataclass
class ShellAction:
    kind: Literal["shell"] = field(default="shell", init=False)
    exec: str = ""
    arguments: list[str] = field(default_factory=list)
    env: list[tuple[str, str]] = field(default_factory=list)  # <env-var>NAME=VALUE</env-var>, in order
    capture_output: bool = False
    common: ActionCommon = field(default_factory=ActionCommon)


@dataclass
class JavaAction:
    kind: Literal["java"] = field(default="java", init=False)
    main_class: str = ""
    java_opts: list[str] = field(default_factory=list)  # <java-opts> (one string) or <java-opt>* (0.4+)
    args: list[str] = field(default_factory=list)
    capture_output: bool = False
    common: ActionCommon = field(default_factory=ActionCommon)


@dataclass
class MapReduceAction:
    kind: Literal["map-reduce"] = field(default="map-reduce", init=False)
    # streaming: mapper, reducer, record-reader, record-reader-mapping (list), env (list)
    streaming: dict[str, str | list[str]] = field(default_factory=dict)
    # pipes: map, reduce, inputformat, outputformat, partitioner, writer, program
    pipes: dict[str, str] = field(default_factory=dict)
    config_class: str | None = None
    common: ActionCommon = field(default_factory=ActionCommon)


@dataclass
class PigAction:
    kind: Literal["pig"] = field(default="pig", init=False)
    script: str = ""
    params: list[str] = field(default_factory=list)  # <param>NAME=VALUE</param>
    args: list[str] = field(default_factory=list)
    common: ActionCommon = field(default_factory=ActionCommon)


@dataclass
class HiveAction:
    """``hive`` (Hive CLI) and ``hive2`` (Beeline over JDBC: ``jdbc_url``, ``password``)."""

    kind: Literal["hive", "hive2"] = "hive"
    script: str | None = None
    query: str | None = None  # inline <query> (hive 0.6+/hive2 0.2+)
    params: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    jdbc_url: str | None = None
    password: str | None = None
    common: ActionCommon = field(default_factory=ActionCommon)


@dataclass
class SqoopAction:
    kind: Literal["sqoop"] = field(default="sqoop", init=False)
    command: str | None = None  # <command> (split on whitespace by Oozie) or
    args: list[str] = field(default_factory=list)  # <arg>*
    common: ActionCommon = field(default_factory=ActionCommon)


@dataclass
class DistcpAction:
    kind: Literal["distcp"] = field(default="distcp", init=False)
    java_opts: str | None = None
    args: list[str] = field(default_factory=list)
    common: ActionCommon = field(default_factory=ActionCommon)


@dataclass
class FsOperation:
    """One fs operation: delete, mkdir, move, chmod, touchz, chgrp, setrep, with its attributes as written
    (``path``, ``source``, ``target``, ``permissions``, ``dir-files``, ``group``, ``replication-factor``,
    ``skip-trash``) and whether ``<recursive/>`` was given."""

    op: str
    attributes: dict[str, str] = field(default_factory=dict)
    recursive: bool = False
    source: Source | None = None


@dataclass
class FsAction:
    kind: Literal["fs"] = field(default="fs", init=False)
    operations: list[FsOperation] = field(default_factory=list)
    common: ActionCommon = field(default_factory=ActionCommon)


@dataclass
class EmailAction:
    kind: Literal["email"] = field(default="email", init=False)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str = ""
    body: str = ""
    content_type: str | None = None
    attachments: list[str] = field(default_factory=list)


@dataclass
class SshAction:
    kind: Literal["ssh"] = field(default="ssh", init=False)
    host: str = ""  # user@host
    command: str = ""
    args: list[str] = field(default_factory=list)
    capture_output: bool = False


@dataclass
class GitAction:
    kind: Literal["git"] = field(default="git", init=False)
    git_uri: str = ""
    branch: str | None = None
    key_path: str | None = None
    destination_uri: str = ""
    common: ActionCommon = field(default_factory=ActionCommon)


@dataclass
class SubWorkflowAction:
    kind: Literal["sub-workflow"] = field(default="sub-workflow", init=False)
    app_path: str = ""
    propagate_configuration: bool = False
    configuration: dict[str, str] = field(default_factory=dict)
    workflow: Workflow | None = None  # the child, when its workflow.xml was found in the input


@dataclass
class UnknownAction:
    """An action in a namespace we do not know (a custom action executor); kept as XML for the report."""

    kind: Literal["unknown"] = field(default="unknown", init=False)
    tag: str = ""
    namespace: str = ""
    xml: str = ""


ActionBody = (SparkAction | ShellAction | JavaAction | MapReduceAction | PigAction | HiveAction | SqoopAction
              | DistcpAction | FsAction | EmailAction | SshAction | GitAction | SubWorkflowAction | UnknownAction)


# ------------------------------------------------------------------------------------------ nodes


@dataclass
class Node:
    name: str
    source: Source


@dataclass
class Start(Node):
    to: str = ""


@dataclass
class End(Node):
    pass


@dataclass
class Kill(Node):
    message: str = ""  # EL allowed, e.g. "failed: [${wf:errorMessage(wf:lastErrorNode())}]"


@dataclass
class Decision(Node):
    cases: list[tuple[str, str]] = field(default_factory=list)  # (predicate as EL text, target node), in order
    default: str = ""


@dataclass
class Fork(Node):
    paths: list[str] = field(default_factory=list)


@dataclass
class Join(Node):
    to: str = ""


@dataclass
class Action(Node):
    body: ActionBody = field(default_factory=UnknownAction)
    ok: str = ""
    error: str = ""
    retry_max: int | None = None
    retry_interval_minutes: int | None = None  # Oozie's retry-interval is in minutes
    retry_policy: str | None = None  # periodic | exponential (0.5+)
    cred: list[str] = field(default_factory=list)


AnyNode = Start | End | Kill | Decision | Fork | Join | Action


# ------------------------------------------------------------------------------------------ workflow


@dataclass
class Credential:
    name: str
    type: str
    properties: dict[str, str] = field(default_factory=dict)
    source: Source | None = None


@dataclass
class Workflow:
    """A ``workflow-app``. ``nodes`` keeps document order; names are unique (the parser checks)."""

    name: str
    schema_version: str  # "0.1" ... "1.0"
    source: Source
    app_path: str = ""  # the directory the workflow came from, relative to the input root ("" for the root)
    parameters: dict[str, str | None] = field(default_factory=dict)  # <parameters>: name -> default (None: required)
    global_common: ActionCommon = field(default_factory=ActionCommon)  # <global>
    credentials: list[Credential] = field(default_factory=list)
    nodes: dict[str, AnyNode] = field(default_factory=dict)
    start: str = ""  # name of the first node after <start>

    @property
    def actions(self) -> list[Action]:
        return [node for node in self.nodes.values() if isinstance(node, Action)]


# ------------------------------------------------------------------------------------------ coordinator


@dataclass
class Frequency:
    """A coordinator frequency. ``unit`` minutes (plain number, coord:minutes/hours/days), months
    (coord:months), end_of_days / end_of_weeks / end_of_months (coord:endOf*), or cron (Quartz-flavoured
    5-field text in ``cron``, as written)."""

    unit: Literal["minutes", "months", "end_of_days", "end_of_weeks", "end_of_months", "cron"]
    amount: int = 0
    cron: str = ""
    text: str = ""  # as written in the XML


@dataclass
class Controls:
    timeout_minutes: int | None = None  # Oozie default 120; -1 waits forever; 0 times out at once
    concurrency: int | None = None  # default 1
    execution: str | None = None  # FIFO (default) | LIFO | LAST_ONLY | NONE
    throttle: int | None = None  # default 12


@dataclass
class Dataset:
    name: str
    frequency: Frequency
    initial_instance: str
    timezone: str
    uri_template: str
    done_flag: str | None = None  # None: "_SUCCESS"; "" (empty element): the directory itself
    source: Source | None = None


@dataclass
class DataEvent:
    """``data-in`` / ``data-out``: instances as EL text (``${coord:current(0)}``) or a start/end range."""

    name: str
    dataset: str
    instances: list[str] = field(default_factory=list)
    start_instance: str | None = None
    end_instance: str | None = None
    source: Source | None = None


@dataclass
class Coordinator:
    name: str
    schema_version: str  # "0.1" ... "0.5"
    source: Source
    frequency: Frequency
    start: str  # ISO 8601 as written, e.g. 2026-01-01T00:00Z (property references substituted)
    end: str
    timezone: str
    app_path: str = ""  # the workflow the coordinator runs (after property substitution)
    workflow: Workflow | None = None  # that workflow, when found in the input
    controls: Controls = field(default_factory=Controls)
    parameters: dict[str, str | None] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    input_events: list[DataEvent] = field(default_factory=list)
    output_events: list[DataEvent] = field(default_factory=list)
    configuration: dict[str, str] = field(default_factory=dict)  # action/workflow/configuration: the wf's job conf


@dataclass
class BundleCoordinator:
    name: str
    app_path: str
    configuration: dict[str, str] = field(default_factory=dict)
    critical: bool = False
    enabled: bool = True
    coordinator: Coordinator | None = None
    source: Source | None = None


@dataclass
class Bundle:
    name: str
    schema_version: str
    source: Source
    kick_off_time: str | None = None
    parameters: dict[str, str | None] = field(default_factory=dict)
    coordinators: list[BundleCoordinator] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ application


@dataclass
class Application:
    """Everything read from one input (an application directory or a single XML file).

    ``properties`` are the job properties after Oozie's precedence (job.properties over config-default.xml;
    workflow ``<parameters>`` defaults fill what neither sets); ``unresolved`` names referenced properties that
    nothing defines. ``workflows`` holds every workflow read, keyed by app path ("" for the root one)."""

    root: str  # the input path as given (directory or file); only its name appears in output
    properties: dict[str, str] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    coordinators: list[Coordinator] = field(default_factory=list)
    bundle: Bundle | None = None
    issues: list[Issue] = field(default_factory=list)
    unresolved: dict[str, Source] = field(default_factory=dict)
