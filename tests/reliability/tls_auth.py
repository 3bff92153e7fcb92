"""TLS and authentication campaign: every client path of the provider against the emulator serving HTTPS with
its own self-signed CA and a bearer token.

Paths: SparkK8sHook on the worker and in SparkK8sTrigger (kubernetes_asyncio, shared watches), the Argo hook over
the Kubernetes API and over the Argo Server (worker and ArgoWorkflowTrigger), and spark-submit's k8s:// master
(full size only: a JVM per trial). Invariants, per path and connection:

- a connection that does not name the CA (or names another CA) fails with a certificate verification error, at
  once (no retries of what cannot succeed) and without a warning-free success;
- naming the CA succeeds, with no warning about TLS;
- verification is only off with an explicit connection setting (``disable_verify_ssl`` or the kubeconfig's
  ``insecure-skip-tls-verify`` for a kubernetes connection, ``verify_ssl: false`` for an argo_workflows one),
  and then a warning says so;
- a wrong or missing token fails with an error that says 401 Unauthorized.

The seed picks the wrong tokens (a near miss of the right one, another cluster's, empty) and the order of trials.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.reliability import support
from tests.reliability.campaign import Result
from tests.reliability.rbac_support import MANIFESTS
from tests.reliability.support import environment

RIGHT_TOKEN = "tls-campaign-token-0123456789"
K8S_CONN, ARGO_CONN = "tls_campaign_kubernetes", "tls_campaign_argo"
WORKFLOW_TEMPLATE = "spark-app-workflow-template"
TLS_WARNING = "TLS verification is disabled"
CERTIFICATE_ERROR = "certificate verify failed"
SPARK_CERTIFICATE_ERROR = ("PKIX path building failed", "unable to find valid certification path")
TRIAL_TIMEOUT = 60.0

# (case, what the connection does) -> expected outcome: ok, ok-warned, certificate, unauthorized
CASES = {
    "ca": "ok",
    "no-ca": "certificate",
    "wrong-ca": "certificate",
    "insecure-flag": "ok-warned",  # disable_verify_ssl / verify_ssl: false
    "insecure-kubeconfig": "ok-warned",  # kubernetes connections only
    "wrong-token": "unauthorized",
    "no-token": "unauthorized",
}
PATHS = ("spark-hook", "spark-trigger", "argo-k8s", "argo-k8s-trigger", "argo-server", "argo-server-trigger")
ARGO_SERVER_PATHS = ("argo-server", "argo-server-trigger")


@dataclass
class Setup:
    kube: Any
    workdir: Path
    other_ca: Path  # a CA that did not sign the emulator's certificate
    driver_pod: str
    workflow: str


@contextlib.contextmanager
def warnings_logged() -> Iterator[list[str]]:
    """The warnings the provider logs meanwhile (Airflow's loggers are structlog's; stdlib ones are caught too)."""
    import structlog

    messages: list[str] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Handler(logging.WARNING)
    logging.getLogger().addHandler(handler)
    try:
        with structlog.testing.capture_logs() as captured:
            yield messages
    finally:
        logging.getLogger().removeHandler(handler)
        messages.extend(str(e.get("event")) for e in captured if e.get("log_level") in ("warning", "error"))


def wrong_tokens(rng: random.Random) -> list[str]:
    flipped = list(RIGHT_TOKEN)
    i = rng.randrange(len(flipped))
    flipped[i] = "x" if flipped[i] != "x" else "y"
    return ["".join(flipped), RIGHT_TOKEN[:-1], RIGHT_TOKEN + rng.choice("abc123"), f"other-cluster-{rng.random()}"]


def connections(setup: Setup, case: str, token: str) -> dict[str, str]:
    """AIRFLOW_CONN_* for the kubernetes and argo_workflows connections of one case."""
    kube = setup.kube
    config = kube.kubeconfig(token=token)
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    k8s_extra: dict[str, Any] = {}
    argo_extra: dict[str, Any] = {"namespace": "argo", "ca_bundle": str(kube.ca_path)}
    if case == "no-token":
        user.pop("token", None)
    if case in ("no-ca", "insecure-flag", "insecure-kubeconfig"):
        del cluster["certificate-authority-data"]
        argo_extra.pop("ca_bundle")
    if case == "wrong-ca":
        import base64

        cluster["certificate-authority-data"] = base64.b64encode(setup.other_ca.read_bytes()).decode()
        argo_extra["ca_bundle"] = str(setup.other_ca)
    if case == "insecure-flag":
        k8s_extra["disable_verify_ssl"] = True
        argo_extra["verify_ssl"] = False
    if case == "insecure-kubeconfig":
        cluster["insecure-skip-tls-verify"] = True
    path = setup.workdir / f"kubeconfig-{case}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(config, fh)
    k8s_extra["kube_config_path"] = str(path)
    return {
        f"AIRFLOW_CONN_{K8S_CONN.upper()}": json.dumps({"conn_type": "kubernetes", "extra": k8s_extra}),
        f"AIRFLOW_CONN_{ARGO_CONN.upper()}": json.dumps({
            "conn_type": "argo_workflows", "host": kube.argo_server_url,
            "password": "" if case == "no-token" else token, "extra": argo_extra}),
    }


async def call(path: str, setup: Setup) -> str:
    """One request (or one wait) through `path`; returns the error text, "" on success."""
    from airflow_provider_sparkk8s.hooks.argo import ArgoWorkflowsHook
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook
    from airflow_provider_sparkk8s.kube_api import PODS
    from airflow_provider_sparkk8s.triggers.argo import ArgoWorkflowTrigger
    from airflow_provider_sparkk8s.triggers.spark import SparkK8sTrigger

    try:
        if path == "spark-hook":
            hook = SparkK8sHook(K8S_CONN)
            async with hook.api() as api:
                await hook.list(api, PODS, "spark-jobs", "spark-role=driver")
            return ""
        if path in ("argo-k8s", "argo-server"):
            hook = ArgoWorkflowsHook(ARGO_CONN if path == "argo-server" else None, K8S_CONN)
            async with hook.transport() as transport:
                template = await transport.get_template("WorkflowTemplate", "argo", WORKFLOW_TEMPLATE)
            return "" if template else "the WorkflowTemplate was not found"
        if path == "spark-trigger":
            run = {"launcher": "pod", "namespace": "spark-jobs", "driver_pod": setup.driver_pod}
            trigger: Any = SparkK8sTrigger(run, K8S_CONN, startup_timeout=30)
        else:
            trigger = ArgoWorkflowTrigger({"namespace": "argo", "name": setup.workflow},
                                          ARGO_CONN if path == "argo-server-trigger" else None, K8S_CONN,
                                          timeout=30, kill_action=None)
        async for event in trigger.run():
            payload = event.payload
            return "" if payload.get("status") == "success" else payload.get("message") or str(payload)
        return "the trigger ended without an event"
    except Exception as exc:  # noqa: BLE001 - the error text is what is checked
        return f"{type(exc).__name__}: {exc}"


def spark_submit_call(setup: Setup) -> str:
    """spark-submit's k8s:// master with the connection's TLS settings (the hook's _submission_credentials)."""
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook, SparkRun, SparkSubmitError
    from airflow_provider_sparkk8s.identity import TaskIdentity
    from airflow_provider_sparkk8s.spark_app import SparkApp

    hook = SparkK8sHook(K8S_CONN)
    identity = TaskIdentity("tls_campaign", "submit", f"run-{time.monotonic_ns()}")
    run = SparkRun("spark-submit", "spark-jobs", identity.name("tls", "driver"))
    app = SparkApp("local:///opt/spark/examples/src/main/python/pi.py", name="tls", image="apache/spark:4.0.1")
    lines: list[str] = []
    try:
        hook.submit_with_spark_submit(app, run, identity, hook.spark_submit_binary(), timeout=120,
                                      emit=lines.append)
    except SparkSubmitError as exc:
        return f"{exc}\n" + "\n".join(lines[-60:])
    return ""


def verdict(expected: str, error: str, warned: bool) -> str:
    """What is wrong with an outcome ("" when it is as expected)."""
    spark = any(s in error for s in SPARK_CERTIFICATE_ERROR)
    if expected == "ok" and (error or warned):
        return f"expected success without a TLS warning; got error={error[:300]!r}, warned={warned}"
    if expected == "ok-warned" and (error or not warned):
        return f"expected success with a TLS warning; got error={error[:300]!r}, warned={warned}"
    if expected == "certificate" and not (CERTIFICATE_ERROR in error or spark):
        return f"expected a certificate verification error; got {error[:300]!r}"
    if expected == "unauthorized" and not ("401" in error and "Unauthorized" in error):
        return f"expected an error saying 401 Unauthorized; got {error[:300]!r}"
    return ""


def prepare(workdir: Path) -> Setup:
    # Imported first, so that a trial's time is its own (a cold Airflow import takes many seconds).
    from airflow.providers.cncf.kubernetes.hooks import kubernetes  # noqa: F401

    import airflow_provider_sparkk8s.hooks.argo  # noqa: F401
    import airflow_provider_sparkk8s.hooks.spark  # noqa: F401
    import airflow_provider_sparkk8s.triggers.argo  # noqa: F401
    import airflow_provider_sparkk8s.triggers.spark  # noqa: F401
    from airflow_provider_sparkk8s.testing import KubeEmulator
    from airflow_provider_sparkk8s.testing.tls import make_certificates

    kube = KubeEmulator(tls=True, token=RIGHT_TOKEN, workdir=workdir / "kube", namespaces=["spark-jobs", "argo"],
                        pod_run_seconds=0.05, pod_pending_seconds=0.01).start()
    (workdir / "other").mkdir()
    other_ca, _, _ = make_certificates(workdir / "other", "127.0.0.1")
    kube.apply((MANIFESTS / "spark-app-workflow-template.yaml").read_text(), "argo")
    kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "tls-driver", "namespace": "spark-jobs", "labels": {"spark-role": "driver"}},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "apache/spark:4.0.1"}]}})
    [wf] = kube.apply({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                       "metadata": {"generateName": "tls-", "namespace": "argo"},
                       "spec": {"workflowTemplateRef": {"name": WORKFLOW_TEMPLATE}, "arguments": {"parameters": [
                           {"name": "sparkJobFilePath", "value": "/mounted/volume/spark-apps/app.py"}]}}})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the simulated controllers finish both before the trials wait on them
        pod = kube.get("v1", "Pod", "tls-driver", "spark-jobs")
        flow = kube.get("argoproj.io/v1alpha1", "Workflow", wf["metadata"]["name"], "argo")
        if pod["status"].get("phase") == "Succeeded" and (flow.get("status") or {}).get("phase") == "Succeeded":
            break
        time.sleep(0.05)
    return Setup(kube, workdir, other_ca, "tls-driver", wf["metadata"]["name"])




def trials(size: str, rng: random.Random) -> list[tuple[str, str, str]]:
    """(path, case, token) for every trial: each path and case once (short), with every wrong token and
    twice over in a random order (full), plus spark-submit (full)."""
    plan = []
    rounds = 1 if size == "short" else 2
    for _ in range(rounds):
        for path in PATHS:
            for case in CASES:
                if case == "insecure-kubeconfig" and path in ARGO_SERVER_PATHS:
                    continue
                tokens = wrong_tokens(rng) if case == "wrong-token" else [RIGHT_TOKEN]
                if size == "short":
                    tokens = tokens[:1]
                plan.extend((path, case, token) for token in tokens)
    rng.shuffle(plan)
    if size == "full":
        plan += [("spark-submit", case, RIGHT_TOKEN) for case in ("ca", "no-ca", "insecure-flag", "wrong-token")]
    return plan


def run(size: str, seed: int) -> Result:
    support.airflow_home()  # the session's, or a private one removed at exit
    result = Result("tls_auth")
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="sparkk8s-tls-campaign-"))
    setup = prepare(workdir)
    failed_in: list[tuple[float, str]] = []
    try:
        plan = trials(size, rng)
        if size == "full" and not support.spark_submit_available():
            plan = [t for t in plan if t[0] != "spark-submit"]
            result.figures["spark-submit"] = "skipped (no java or spark-submit)"
        for n, (path, case, token) in enumerate(plan):
            if case == "wrong-token" and path == "spark-submit":
                token = wrong_tokens(rng)[0]
            expected = CASES[case]
            began = time.monotonic()
            with environment(connections(setup, case, token)), warnings_logged() as warnings:
                if path == "spark-submit":
                    error = spark_submit_call(setup)
                else:
                    try:
                        error = asyncio.run(asyncio.wait_for(call(path, setup), TRIAL_TIMEOUT))
                    except asyncio.TimeoutError:
                        error = f"no outcome within {TRIAL_TIMEOUT:.0f}s"
            if expected in ("certificate", "unauthorized"):
                failed_in.append((time.monotonic() - began, f"{path} {case}"))
            warned = any(TLS_WARNING in m for m in warnings)
            wrong = verdict(expected, error, warned)
            result.trials += 1
            if wrong:
                result.violate(f"trial {n} (seed {seed}): {path} with connection case {case!r}: {wrong}")
    finally:
        setup.kube.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if failed_in:
        seconds, which = max(failed_in)
        result.figures["slowest refusal"] = f"{seconds:.1f}s ({which})"
    return result


__all__ = ["run"]


def _main() -> None:  # python -m tests.reliability.tls_auth [full]
    outcome = run(sys.argv[1] if len(sys.argv) > 1 else "short", 20261126)
    print(outcome.trials, "trials", len(outcome.violations), "violations", outcome.figures)
    print("\n".join(outcome.violations))


if __name__ == "__main__":
    _main()

