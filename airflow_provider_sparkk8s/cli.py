"""The `sparkk8s` command."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["main"]


def _emulator(args: argparse.Namespace) -> int:
    from .testing.emulator import KubeEmulator

    emulator = KubeEmulator(
        host=args.host,
        port=args.port,
        tls=args.tls,
        token=args.token,
        workdir=args.workdir,
        kubeconfig=args.kubeconfig,
        watch_window=args.watch_window,
        simulate_pods=not args.no_pods,
        pod_run_seconds=args.pod_run_seconds,
        namespaces=args.namespace or [],
    )
    try:
        emulator.start()
    except (RuntimeError, OSError) as exc:
        print(f"sparkk8s emulator: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Kubernetes API emulator listening on {emulator.url}", flush=True)
    print(f"kubeconfig: {emulator.kubeconfig_path}", flush=True)
    if emulator.ca_path:
        print(f"CA certificate: {emulator.ca_path}", flush=True)
    print(f"admin endpoint: {emulator.url}/_emulator/counters (faults: /_emulator/faults)", flush=True)
    print(f"export KUBECONFIG={emulator.kubeconfig_path}", flush=True)
    stop.wait()
    emulator.stop()
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    import json
    import shlex
    from dataclasses import replace

    from .sandbox.config import ConfigError, SandboxConfig
    from .sandbox.sandbox import Sandbox

    try:
        config = SandboxConfig.load(args.config) if args.config else None
    except ConfigError as exc:
        print(f"sparkk8s sandbox: {exc}", file=sys.stderr)
        return 1
    if config is not None and args.no_history_server:
        config.history_server = replace(config.history_server, enabled=False)
    sandbox = Sandbox(config, workdir=args.workdir, host=args.host, port=args.port,
                      console=lambda line: print(f"sandbox: {line}", flush=True))
    try:
        sandbox.start()
        applied = [obj for folder in args.apply or [] for obj in sandbox.apply_folder(folder)]
    except Exception as exc:  # noqa: BLE001 - a port in use, a manifest the API server refuses, ...: said, not raised
        sandbox.stop()
        print(f"sparkk8s sandbox: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if sandbox.history is not None and not sandbox.wait_for_history_server():
        print(f"sandbox: the Spark History Server did not start (see {sandbox.history.log_file}); the local "
              f"applications still run", flush=True)
    print(sandbox.banner(), flush=True)
    for obj in applied:
        print(f"applied {obj}", flush=True)
    print(f"kubeconfig: {sandbox.kubeconfig_path}", flush=True)
    print("Point Airflow (and kubectl) at it with:", flush=True)
    for key, value in sandbox.airflow_env().items():
        print(f"export {key}={shlex.quote(value)}", flush=True)
    print(json.dumps({"ready": sandbox.url}), flush=True)  # one machine-readable line for scripts
    print("Ctrl-C stops the sandbox.", flush=True)
    stop.wait()
    sandbox.stop()
    return 0


def _migrate_oozie(args: argparse.Namespace) -> int:
    from .migrate import migrate_oozie

    options: dict[str, object] = {"image_for": dict(args.action_image or [])}
    if args.namespace:
        options["namespace"] = args.namespace
    if args.image:
        options["spark_image"] = args.image
    if args.to == "airflow":
        options["spark_launcher"] = args.spark_launcher
    else:
        options["spark_mode"] = args.spark_mode
        options["argo_events"] = args.argo_events
    return _run_migration("oozie", args.source, args.to, args.report, "Oozie", lambda: migrate_oozie(
        args.source, to=args.to, out=args.out, properties_file=args.properties, report_file=args.report, **options))


def _migrate_airflow(args: argparse.Namespace) -> int:
    from .migrate.airflow import migrate_airflow

    options: dict[str, object] = {"dag_ids": args.dag_id, "partial": args.partial,
                                  "workflow_templates": args.workflow_templates,
                                  "service_account": args.service_account}
    if args.namespace:
        options["namespace"] = args.namespace
    if args.image:
        options["spark_image"] = args.image
    return _run_migration("airflow", args.dags_path, "argo", args.report, "Airflow", lambda: migrate_airflow(
        args.dags_path, out=args.out, report_file=args.report, **options))


def _run_migration(command: str, source: str, target: str, report_file: str | None, origin: str,
                   migrate: Callable[[], Any]) -> int:
    """Run a migration; print its report (stdout), or what stopped it (stderr, exit 1: nothing written)."""
    from pathlib import Path

    from .migrate import write_report
    from .migrate.oozie.ir import MigrationError
    from .migrate.report import Report

    try:
        report = migrate()
    except MigrationError as error:
        report = Report(source=Path(source).name, target=target, issues=error.issues, origin=origin)
        if report_file:
            write_report(Path(report_file), report)
        sys.stderr.write(report.to_text())
        return 1
    except (OSError, ValueError) as error:
        print(f"sparkk8s migrate {command}: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(report.to_text())
    return 0


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"expected ACTION=IMAGE (e.g. shell=busybox:1.36), got {text!r}")
    return key, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparkk8s", description="Spark on Kubernetes and Argo tools for Airflow.")
    sub = parser.add_subparsers(dest="command", required=True)
    emu = sub.add_parser("emulator", help="run the Kubernetes API emulator in the foreground")
    emu.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    emu.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    emu.add_argument("--kubeconfig", help="write the kubeconfig here (default: in --workdir)")
    emu.add_argument("--workdir", help="directory for the kubeconfig and certificates (default: a temporary one)")
    emu.add_argument("--tls", action="store_true", help="serve HTTPS with a self-signed CA")
    emu.add_argument("--token", help="require this bearer token")
    emu.add_argument("--namespace", action="append", help="create this namespace at start (repeatable)")
    emu.add_argument("--watch-window", type=int, default=10_000,
                     help="changes kept for watches to resume from; older ones get 410 Gone")
    emu.add_argument("--pod-run-seconds", type=float, default=0.5, help="default run time of a simulated pod")
    emu.add_argument("--no-pods", action="store_true", help="do not simulate pods (they stay Pending)")
    emu.set_defaults(func=_emulator)

    box = sub.add_parser("sandbox", help="run the emulator with mapped Spark applications running locally",
                         description="An emulated Kubernetes control plane (the emulator's API server, kubelet, "
                                     "spark-operator and Argo controller) in which Spark drivers and client-mode "
                                     "spark-submit steps whose image and application the --config mapping names "
                                     "run on this machine with pyspark's spark-submit in local mode; every other "
                                     "pod is simulated. Runs in the foreground until Ctrl-C.")
    box.add_argument("--config", help="the image-to-local mapping (e.g. dags_examples/sandbox.yaml); without it "
                                      "every pod is simulated")
    box.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    box.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    box.add_argument("--workdir", help="directory for the kubeconfig and the local applications' working "
                                       "directories (default: a temporary one, removed on exit)")
    box.add_argument("--apply", action="append", metavar="DIR",
                     help="apply the *.yaml manifests of this folder at start, e.g. dags_examples/manifests "
                          "(repeatable)")
    box.add_argument("--no-history-server", action="store_true",
                     help="do not run pyspark's Spark History Server over the local applications' event logs "
                          "(the mapping's history_server; on by default: a JVM of about 200 MB)")
    box.set_defaults(func=_sandbox)

    migrate = sub.add_parser("migrate", help="convert workflows from other schedulers")
    migrate_sub = migrate.add_subparsers(dest="source_kind", required=True)
    oozie = migrate_sub.add_parser(
        "oozie", help="convert an Oozie application (workflow, coordinator, bundle) into Airflow DAGs or Argo "
                      "WorkflowTemplates", description="Nothing is written when the application has errors; "
                      "the report lists what was converted, approximated or not supported, with file and line.")
    oozie.add_argument("source", help="the application directory (workflow.xml, coordinator.xml, bundle.xml, "
                                      "job.properties, config-default.xml) or a single XML file")
    oozie.add_argument("--to", required=True, choices=["airflow", "argo"], help="the target")
    oozie.add_argument("--out", required=True, help="output directory (the DAGs folder, or a manifests folder)")
    oozie.add_argument("--properties", help="job properties file (default: job.properties in the application)")
    oozie.add_argument("--image", help="the Spark image for spark actions (default apache/spark:4.0.1)")
    oozie.add_argument("--action-image", action="append", type=_key_value, metavar="ACTION=IMAGE",
                       help="the image for another action type, e.g. shell=busybox:1.36 (repeatable)")
    oozie.add_argument("--namespace", help="Kubernetes namespace the work runs in")
    oozie.add_argument("--report", help="also write the report as JSON to this file")
    oozie.add_argument("--spark-launcher", default="spark-submit", choices=["spark-submit", "pod", "spark-operator"],
                       help="Airflow: how SparkK8sOperator launches spark actions (default spark-submit)")
    oozie.add_argument("--spark-mode", default="spark-submit", choices=["spark-submit", "spark-application"],
                       help="Argo: run spark-submit in a step, or create a SparkApplication (default spark-submit)")
    oozie.add_argument("--argo-events", action="store_true",
                       help="Argo: also render an Argo Events calendar EventSource + Sensor per coordinator")
    oozie.set_defaults(func=_migrate_oozie)

    airflow = migrate_sub.add_parser(
        "airflow", help="export Airflow DAGs to Argo WorkflowTemplates (+ CronWorkflow or calendar EventSource/Sensor)",
        description="Loads the DAGs with Airflow's DagBag. Nothing is written when a DAG file does not load or a "
                    "task has no Argo equivalent (unless --partial); the report lists what was approximated or not "
                    "supported, per task, with file and line.")
    airflow.add_argument("dags_path", help="a DAG file or a folder of DAG files")
    airflow.add_argument("--dag-id", action="append", help="export only this DAG (repeatable; default: all)")
    airflow.add_argument("--out", required=True, help="output directory for the manifests")
    airflow.add_argument("--namespace", help="namespace of the manifests and of the steps' pods (default argo)")
    airflow.add_argument("--image", help="the Spark image for spark-submit steps of tasks that name none (default "
                                         "apache/spark:4.0.1)")
    airflow.add_argument("--service-account", help="the service account the workflows run as")
    airflow.add_argument("--workflow-templates", metavar="DIR",
                         help="folder of WorkflowTemplate manifests the DAGs submit: their entrypoints make the "
                              "templateRef steps of ArgoWorkflowOperator tasks")
    airflow.add_argument("--partial", action="store_true",
                         help="export the DAG even when some tasks cannot be mapped (their steps pass through and "
                              "are reported)")
    airflow.add_argument("--report", help="also write the report as JSON to this file")
    airflow.set_defaults(func=_migrate_airflow)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
