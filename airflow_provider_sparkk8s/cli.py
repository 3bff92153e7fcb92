"""The `sparkk8s` command."""

from __future__ import annotations

import argparse
import signal
import sys
import threading


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
