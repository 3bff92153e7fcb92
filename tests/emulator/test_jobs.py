"""batch/v1 Jobs as a 1.32 cluster serves and runs them: discovery, defaults, validation, and the job controller
(pods, completions, backoffLimit, deadlines, suspension, TTL), seen through kubectl and the kubernetes clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from kubernetes.client import BatchV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import client, kubectl, table, wait_for

NS = "default"


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    # A real job controller waits 10 s before replacing a failed pod; the tests shorten that.
    return kube_emulator_factory(job_pod_backoff_seconds=0.1)


@pytest.fixture
def batch(kube: KubeEmulator) -> BatchV1Api:
    return BatchV1Api(client(kube))


@pytest.fixture
def core(kube: KubeEmulator) -> CoreV1Api:
    return CoreV1Api(client(kube))


def job(name: str, restart_policy: str | None = "Never", annotations: dict[str, str] | None = None,
        **spec: object) -> dict:
    pod_spec: dict = {"containers": [{"name": "main", "image": "busybox:1.36", "command": ["true"]}]}
    if restart_policy:
        pod_spec["restartPolicy"] = restart_policy
    template: dict = {"spec": pod_spec}
    if annotations:
        template["metadata"] = {"annotations": annotations}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": {"template": template,
                                                                                          **spec}}


def conditions(batch: BatchV1Api, name: str) -> list[tuple[str, str, str | None]]:
    status = batch.read_namespaced_job_status(name, NS).status
    return [(c.type, c.status, c.reason) for c in status.conditions or []]


def job_pods(core: CoreV1Api, name: str) -> list:
    return core.list_namespaced_pod(NS, label_selector=f"batch.kubernetes.io/job-name={name}").items


def test_discovery_serves_jobs_and_cronjobs_in_the_all_category(kube: KubeEmulator) -> None:
    out = kubectl(kube, "api-resources", "--api-group=batch", "-o", "wide").stdout
    rows = {r[0]: r for r in table(out)[1:]}
    # NAME SHORTNAMES APIVERSION NAMESPACED KIND VERBS CATEGORIES
    assert rows["cronjobs"][1:5] == ["cj", "batch/v1", "true", "CronJob"]
    assert rows["cronjobs"][-1] == "all"
    assert rows["jobs"][1:4] == ["batch/v1", "true", "Job"]
    assert rows["jobs"][-1] == "all"
    kubectl(kube, "apply", "-f", "-", stdin=json.dumps(job("listed")))
    assert "job.batch/listed" in kubectl(kube, "get", "all").stdout


def test_a_new_job_gets_the_defaults_and_generated_selector_of_a_real_api_server(batch: BatchV1Api) -> None:
    created = batch.create_namespaced_job(NS, job("pi"))
    uid, spec = created.metadata.uid, created.spec
    assert (spec.backoff_limit, spec.completions, spec.parallelism) == (6, 1, 1)
    assert (spec.completion_mode, spec.suspend, spec.pod_replacement_policy) == ("NonIndexed", False,
                                                                                 "TerminatingOrFailed")
    assert spec.manual_selector is None
    assert spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    generated = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
                 "controller-uid": uid, "job-name": "pi"}
    assert spec.template.metadata.labels == generated
    assert created.metadata.labels == generated  # a Job without labels takes its template's
    assert spec.template.spec.termination_grace_period_seconds == 30
    # completions stays unset for a work queue (parallelism without completions)
    queue = batch.create_namespaced_job(NS, job("queue", parallelism=2)).spec
    assert (queue.completions, queue.parallelism) == (None, 2)


def test_restart_policy_always_is_rejected_naming_the_field(kube: KubeEmulator) -> None:
    for policy in ("Always", None):  # an unset restartPolicy defaults to Always, which a Job refuses
        result = kubectl(kube, "apply", "-f", "-", stdin=json.dumps(job("bad", restart_policy=policy)), check=False)
        assert result.returncode == 1
        assert result.stderr.strip() == (
            'The Job "bad" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": '
            'supported values: "OnFailure", "Never"')


def test_invalid_numbers_and_immutable_template_get_422(batch: BatchV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        batch.create_namespaced_job(NS, job("neg", backoffLimit=-1))
    assert exc.value.status == 422
    body = json.loads(exc.value.body)
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "spec.backoffLimit",
                                          "message": "Invalid value: -1: must be greater than or equal to 0"}]
    batch.create_namespaced_job(NS, job("fixed"))
    with pytest.raises(ApiException) as exc:
        batch.patch_namespaced_job("fixed", NS, {"spec": {"template": {"spec": {"containers": [
            {"name": "main", "image": "busybox:1.37"}]}}}})
    assert exc.value.status == 422
    assert "spec.template: Invalid value" in json.loads(exc.value.body)["message"]
    assert "field is immutable" in json.loads(exc.value.body)["message"]


def test_kubectl_wait_for_complete_and_logs_of_the_job(kube: KubeEmulator, core: CoreV1Api,
                                                      batch: BatchV1Api) -> None:
    kube.pods.behave(name="hello-*", log="hello from the job")
    kubectl(kube, "apply", "-f", "-", stdin=json.dumps(job("hello")))
    assert kubectl(kube, "wait", "--for=condition=complete", "job/hello", "--timeout=20s").stdout.strip() == \
        "job.batch/hello condition met"
    assert kubectl(kube, "logs", "job/hello").stdout == "hello from the job\n"
    status = batch.read_namespaced_job_status("hello", NS).status
    assert (status.succeeded, status.failed, status.active, status.ready, status.terminating) == (1, None, None, 0, 0)
    assert status.start_time is not None and status.completion_time is not None
    # 1.32 writes the interim condition first, with the same reason and message as the final one
    assert [(c.type, c.status, c.reason, c.message) for c in status.conditions] == [
        ("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
        ("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods")]
    [pod] = job_pods(core, "hello")
    [ref] = pod.metadata.owner_references
    assert (ref.api_version, ref.kind, ref.name, ref.controller, ref.block_owner_deletion) == (
        "batch/v1", "Job", "hello", True, True)
    assert pod.metadata.generate_name == "hello-"
    assert pod.metadata.finalizers is None  # batch.kubernetes.io/job-tracking goes once the Job counted the pod
    assert pod.spec.node_name == "emulator-node" and pod.status.host_ip == "127.0.0.1"
    rows = table(kubectl(kube, "get", "jobs").stdout)
    assert rows[0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert rows[1][:3] == ["hello", "Complete", "1/1"]


def test_failed_pods_count_against_backoff_limit(kube: KubeEmulator, core: CoreV1Api, batch: BatchV1Api) -> None:
    kube.pods.behave(name="flaky-*", outcome="failed", exit_code=3)
    kubectl(kube, "apply", "-f", "-", stdin=json.dumps(job("flaky", backoffLimit=2)))
    kubectl(kube, "wait", "--for=condition=failed", "job/flaky", "--timeout=20s")
    status = batch.read_namespaced_job_status("flaky", NS).status
    assert status.failed == 3 and status.succeeded is None  # backoffLimit 2: the third failure ends it
    assert [(c.type, c.reason, c.message) for c in status.conditions] == [
        ("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
        ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]
    assert status.completion_time is None
    assert len(job_pods(core, "flaky")) == 3
    assert table(kubectl(kube, "get", "job", "flaky").stdout)[1][:3] == ["flaky", "Failed", "0/1"]
    reasons = [e.reason for e in core.list_namespaced_event(NS, field_selector="involvedObject.name=flaky").items]
    assert reasons.count("SuccessfulCreate") == 3 and "BackoffLimitExceeded" in reasons


def test_parallelism_bounds_the_running_pods_until_completions(kube: KubeEmulator, core: CoreV1Api,
                                                                batch: BatchV1Api) -> None:
    kube.pods.behave(name="wide-*", run_seconds=0.4)
    batch.create_namespaced_job(NS, job("wide", completions=5, parallelism=2))
    most = 0
    def done() -> bool:
        nonlocal most
        status = batch.read_namespaced_job_status("wide", NS).status
        most = max(most, status.active or 0)
        return any(c.type == "Complete" for c in status.conditions or [])
    wait_for(done, timeout=20, interval=0.02)
    assert most == 2
    assert batch.read_namespaced_job_status("wide", NS).status.succeeded == 5
    assert len(job_pods(core, "wide")) == 5


def test_indexed_job_runs_each_index_once(core: CoreV1Api, batch: BatchV1Api) -> None:
    batch.create_namespaced_job(NS, job("idx", completions=3, parallelism=3, completionMode="Indexed"))
    wait_for(lambda: ("Complete", "True", "CompletionsReached") in conditions(batch, "idx"), timeout=20)
    assert batch.read_namespaced_job_status("idx", NS).status.completed_indexes == "0-2"
    pods = job_pods(core, "idx")
    indexes = sorted(p.metadata.annotations["batch.kubernetes.io/job-completion-index"] for p in pods)
    assert indexes == ["0", "1", "2"]
    assert {p.spec.hostname for p in pods} == {"idx-0", "idx-1", "idx-2"}


def test_active_deadline_fails_the_job_and_stops_its_pods(kube: KubeEmulator, core: CoreV1Api,
                                                          batch: BatchV1Api) -> None:
    kube.pods.behave(name="slow-*", outcome="running")
    batch.create_namespaced_job(NS, job("slow", activeDeadlineSeconds=1))
    kubectl(kube, "wait", "--for=condition=failed", "job/slow", "--timeout=20s")
    assert [(t, r) for t, _, r in conditions(batch, "slow")] == [("FailureTarget", "DeadlineExceeded"),
                                                                 ("Failed", "DeadlineExceeded")]
    assert batch.read_namespaced_job_status("slow", NS).status.active is None
    wait_for(lambda: job_pods(core, "slow") == [])  # deleted, and released by the job controller


def test_a_suspended_job_starts_no_pod_until_resumed(core: CoreV1Api, batch: BatchV1Api) -> None:
    batch.create_namespaced_job(NS, job("later", suspend=True))
    wait_for(lambda: ("Suspended", "True", "JobSuspended") in conditions(batch, "later"))
    assert job_pods(core, "later") == []
    batch.patch_namespaced_job("later", NS, {"spec": {"suspend": False}})
    wait_for(lambda: ("Complete", "True", "CompletionsReached") in conditions(batch, "later"), timeout=20)
    assert ("Suspended", "False", "JobResumed") in conditions(batch, "later")


def test_ttl_after_finished_deletes_the_job_and_its_pods(kube: KubeEmulator, core: CoreV1Api,
                                                         batch: BatchV1Api) -> None:
    batch.create_namespaced_job(NS, job("brief", ttlSecondsAfterFinished=0))
    wait_for(lambda: batch.list_namespaced_job(NS, field_selector="metadata.name=brief").items == []
             and job_pods(core, "brief") == [], timeout=20)


@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_deleting_a_running_job_removes_its_pods(kube: KubeEmulator, core: CoreV1Api, cascade: str) -> None:
    kube.pods.behave(name="busy-*", outcome="running")
    kubectl(kube, "apply", "-f", "-", stdin=json.dumps(job("busy", parallelism=2, completions=2)))
    wait_for(lambda: len([p for p in job_pods(core, "busy") if p.status.phase == "Running"]) == 2, timeout=20)
    # kubectl waits until the Job is gone; in the foreground, its pods go first (none is replaced meanwhile).
    result = kubectl(kube, "delete", "job", "busy", f"--cascade={cascade}", "--timeout=20s")
    assert result.stdout.strip() == 'job.batch "busy" deleted'
    wait_for(lambda: job_pods(core, "busy") == [], timeout=20)
    assert kube.get("batch/v1", "Job", "busy") is None


def test_asyncio_client_watches_a_job_to_completion(kube: KubeEmulator) -> None:
    from kubernetes_asyncio import config as kconfig
    from kubernetes_asyncio import watch
    from kubernetes_asyncio.client import ApiClient, Configuration
    from kubernetes_asyncio.client import BatchV1Api as AsyncBatch

    async def scenario() -> list[str]:
        configuration = Configuration()
        await kconfig.load_kube_config(config_file=str(kube.kubeconfig_path), client_configuration=configuration)
        async with ApiClient(configuration=configuration) as api:
            jobs = AsyncBatch(api)
            created = await jobs.create_namespaced_job(NS, job("watched"))
            seen: list[str] = []
            async with watch.Watch().stream(jobs.list_namespaced_job, NS, field_selector="metadata.name=watched",
                                            resource_version=created.metadata.resource_version,
                                            timeout_seconds=20) as stream:
                async for event in stream:
                    seen = [c.type for c in event["object"].status.conditions or []]
                    if "Complete" in seen:
                        break
            return seen

    assert asyncio.run(scenario()) == ["SuccessCriteriaMet", "Complete"]
