"""The Kubernetes clients' own end-to-end tests, run against the emulator: how many pass.

The installed `kubernetes` and `kubernetes_asyncio` distributions ship the end-to-end tests of their dynamic
clients (kubernetes/dynamic/test_client.py and test_discovery.py; kubernetes_asyncio/dynamic/client_test.py and
discovery_test.py) but not the `e2e_test` package they import, whose `base.get_e2e_configuration()` loads the
kubeconfig of the cluster under test. This script provides that function for the emulator's kubeconfig and runs
those tests with unittest. (Neither distribution ships the rest of its repository's e2e_test directory.)

Some of these tests fail against a real 1.32 cluster too:
- kubernetes' dynamic tests still create apiextensions.k8s.io/v1beta1 CRDs, removed in 1.22 (three tests);
- kubernetes' test_cache_decoder_resource_and_subresource compares two Resource objects decoded by two clients with
  `==`, and Resource has no __eq__, so it is an identity check that no server can satisfy (the kubernetes_asyncio
  copy of the test compares their to_dict(), which passes);
- kubernetes_asyncio's test_server_side_apply_api applies an apps/v1 Deployment to the pods endpoint: the API server
  answers 400 (the applied object's kind must be the endpoint's), which this dynamic client returns instead of
  raising, and the test then reads managedFields from the Status.

Run:  .venv/bin/python benchmarks/client_e2e.py [--verbose] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import json
import logging
import os
import sys
import tempfile
import time
import types
import unittest
from pathlib import Path

SUITES = {
    "kubernetes": ["kubernetes.dynamic.test_client", "kubernetes.dynamic.test_discovery"],
    "kubernetes_asyncio": ["kubernetes_asyncio.dynamic.client_test", "kubernetes_asyncio.dynamic.discovery_test"],
}


def install_e2e_base(package: str, kubeconfig: Path) -> None:
    """Register `<package>.e2e_test.base` with the upstream get_e2e_configuration(), for this kubeconfig."""
    client = importlib.import_module(f"{package}.client")
    config = importlib.import_module(f"{package}.config")

    def get_e2e_configuration():  # noqa: ANN202 - the upstream signature
        configuration = client.Configuration()
        loaded = config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
        if asyncio.iscoroutine(loaded):
            asyncio.run(loaded)
        configuration.assert_hostname = False
        return configuration

    parent = types.ModuleType(f"{package}.e2e_test")
    base = types.ModuleType(f"{package}.e2e_test.base")
    base.get_e2e_configuration = get_e2e_configuration  # type: ignore[attr-defined]
    parent.base = base  # type: ignore[attr-defined]
    sys.modules[parent.__name__] = parent
    sys.modules[base.__name__] = base


def run_suite(modules: list[str], verbose: bool) -> dict:
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromModule(importlib.import_module(m)) for m in modules)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=2 if verbose else 0).run(suite)
    failed = [(str(test), text.strip().splitlines()[-1]) for test, text in result.failures + result.errors]
    skipped = [str(test) for test, _ in result.skipped]
    if verbose:
        print(stream.getvalue())
    return {"total": result.testsRun, "passed": result.testsRun - len(failed) - len(skipped),
            "failed": failed, "skipped": skipped}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="print every test and each failure's last line")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    logging.getLogger("asyncio").setLevel(logging.ERROR)  # IsolatedAsyncioTestCase runs in debug mode: slow-task noise
    from airflow_provider_sparkk8s.testing import KubeEmulator

    report = {}
    with tempfile.TemporaryDirectory(prefix="client-e2e-") as tmp, KubeEmulator(workdir=tmp) as kube:
        assert kube.kubeconfig_path is not None
        os.environ["KUBECONFIG"] = str(kube.kubeconfig_path)
        for package, modules in SUITES.items():
            install_e2e_base(package, kube.kubeconfig_path)
            started = time.monotonic()
            report[package] = run_suite(modules, args.verbose)
            report[package]["seconds"] = round(time.monotonic() - started, 1)
    for package, result in report.items():
        print(f"{package}: {result['passed']} of {result['total']} pass ({result['seconds']}s)")
        for test, last_line in result["failed"]:
            print(f"  FAIL {test}: {last_line[:200]}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
