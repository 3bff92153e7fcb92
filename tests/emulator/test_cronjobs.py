"""batch/v1 CronJobs: defaults, schedule validation, Jobs created at schedule times, `kubectl create job --from`,
and the history limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from kubernetes.client import BatchV1Api
from kubernetes.client.exceptions import ApiException

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import client, kubectl, table, wait_for

NS = "default"


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory()


@pytest.fixture
def batch(kube: KubeEmulator) -> BatchV1Api:
    return BatchV1Api(client(kube))


def cronjob(name: str, schedule: str = "*/5 * * * *", **spec: object) -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": schedule, "jobTemplate": {"metadata": {"labels": {"app": name}}, "spec": {
                "template": {"spec": {"restartPolicy": "OnFailure",
                                      "containers": [{"name": "main", "image": "busybox:1.36"}]}}}}, **spec}}


def invalid(batch: BatchV1Api, body: dict) -> dict:
    with pytest.raises(ApiException) as exc:
        batch.create_namespaced_cron_job(NS, body)
    assert exc.value.status == 422
    return json.loads(exc.value.body)


def test_a_new_cronjob_gets_the_defaults(batch: BatchV1Api) -> None:
    spec = batch.create_namespaced_cron_job(NS, cronjob("nightly")).spec
    assert (spec.concurrency_policy, spec.suspend) == ("Allow", False)
    assert (spec.successful_jobs_history_limit, spec.failed_jobs_history_limit) == (3, 1)
    assert spec.starting_deadline_seconds is None and spec.time_zone is None


def test_bad_schedules_time_zones_and_names_get_422_naming_the_field(batch: BatchV1Api) -> None:
    body = invalid(batch, cronjob("bad", schedule="every day"))
    assert body["message"] == ('CronJob.batch "bad" is invalid: spec.schedule: Invalid value: "every day": '
                               "expected exactly 5 fields, found 2: [every day]")
    body = invalid(batch, cronjob("bad", schedule="61 * * * *"))
    assert [c["field"] for c in body["details"]["causes"]] == ["spec.schedule"]
    body = invalid(batch, cronjob("bad", schedule="TZ=UTC 0 * * * *"))
    assert "cannot use TZ or CRON_TZ in schedule, use timeZone field instead" in body["message"]
    body = invalid(batch, cronjob("bad", timeZone="Mars/Olympus"))
    assert body["details"]["causes"][0]["field"] == "spec.timeZone"
    body = invalid(batch, cronjob("bad", concurrencyPolicy="Sometimes"))
    assert body["details"]["causes"][0]["message"] == (
        'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"')
    body = invalid(batch, cronjob("x" * 53))
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    assert "must be no more than 52 characters" in body["message"]
    for fine in ("@hourly", "0 3 * * 1-5", "*/15 * * * *"):
        batch.create_namespaced_cron_job(NS, cronjob(f"ok-{len(fine)}-{fine.count('*')}", schedule=fine))


def test_a_missed_schedule_time_creates_its_job(kube: KubeEmulator, batch: BatchV1Api) -> None:
    # Daily at a minute that passed two minutes ago, last run (as its status says) the minute before:
    # the controller runs the missed time at once, and nothing else for a day.
    minute = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=2)
    batch.create_namespaced_cron_job(NS, cronjob("daily", schedule=f"{minute.minute} {minute.hour} * * *"))
    earlier = (minute - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    batch.patch_namespaced_cron_job_status("daily", NS, {"status": {"lastScheduleTime": earlier}})
    [created] = wait_for(lambda: batch.list_namespaced_job(NS, label_selector="app=daily").items)
    assert created.metadata.name == f"daily-{int(minute.timestamp()) // 60}"
    assert created.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        minute.strftime("%Y-%m-%dT%H:%M:%SZ")
    [ref] = created.metadata.owner_references
    assert (ref.kind, ref.name, ref.controller) == ("CronJob", "daily", True)
    assert created.spec.backoff_limit == 6  # defaulted as any Job
    status = wait_for(lambda: (s := batch.read_namespaced_cron_job("daily", NS).status).last_successful_time
                      and s, timeout=20)
    assert status.last_schedule_time == minute
    assert not status.active
    assert len(batch.list_namespaced_job(NS).items) == 1
    rows = table(kubectl(kube, "get", "cronjobs").stdout)
    assert rows[0] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"]
    assert rows[1][:5] == ["daily", f"{minute.minute} {minute.hour} * * *", "<none>", "False", "0"]


def test_kubectl_create_job_from_cronjob_runs_it_now(kube: KubeEmulator, batch: BatchV1Api) -> None:
    kubectl(kube, "apply", "-f", "-", stdin=json.dumps(cronjob("report")))
    made = kubectl(kube, "create", "job", "report-now", "--from=cronjob/report", "--dry-run=client", "-o", "json")
    assert kubectl(kube, "create", "-f", "-", stdin=made.stdout).stdout.strip() == "job.batch/report-now created"
    kubectl(kube, "wait", "--for=condition=complete", "job/report-now", "--timeout=20s")
    created = batch.read_namespaced_job("report-now", NS)
    assert created.metadata.annotations["cronjob.kubernetes.io/instantiate"] == "manual"
    assert created.metadata.owner_references[0].name == "report"


def test_history_limit_keeps_only_the_newest_finished_jobs(kube: KubeEmulator, batch: BatchV1Api) -> None:
    kubectl(kube, "apply", "-f", "-", stdin=json.dumps(cronjob("tidy", successfulJobsHistoryLimit=1)))
    for i in range(3):
        made = kubectl(kube, "create", "job", f"tidy-{i}", "--from=cronjob/tidy", "--dry-run=client", "-o", "json")
        kubectl(kube, "create", "-f", "-", stdin=made.stdout)
        kubectl(kube, "wait", "--for=condition=complete", f"job/tidy-{i}", "--timeout=20s")
    wait_for(lambda: [j.metadata.name for j in batch.list_namespaced_job(NS).items] == ["tidy-2"], timeout=20)
