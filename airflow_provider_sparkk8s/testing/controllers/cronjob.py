"""The CronJob controller: creates a CronJob's Jobs at its schedule times, as kube-controller-manager's does.

A Job for the time T is named `<cronjob>-<T in minutes since the epoch>`, so a time is never run twice. Only the
latest missed time is run (within `startingDeadlineSeconds` when set); `concurrencyPolicy` decides what happens
while an earlier Job still runs; finished Jobs beyond the history limits are deleted, oldest first.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone, tzinfo

from .. import errors
from ..strategies.batch import parse_schedule
from .base import Controller, Key
from .events import record
from .job import condition, is_finished
from .support import controller_of, owner_reference, parse_time

COMPONENT = "cronjob-controller"
SCHEDULED_AT = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_MISSED = 100  # the real controller also gives up counting there


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(cronjob: dict) -> tzinfo:
    from zoneinfo import ZoneInfo

    name = cronjob["spec"].get("timeZone")
    return ZoneInfo(name) if name else timezone.utc


def next_time(cronjob: dict, after: datetime) -> datetime | None:
    schedule = parse_schedule(cronjob["spec"]["schedule"])
    if isinstance(schedule, float):  # @every: a constant delay, on whole seconds
        return after.replace(microsecond=0) + timedelta(seconds=max(1, round(schedule)))
    return schedule.next_after(after, _zone(cronjob))


def most_recent_time(cronjob: dict, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(the latest schedule time in (earliest, now], the next one after now)."""
    status = cronjob.get("status") or {}
    earliest = parse_time(status.get("lastScheduleTime") or cronjob["metadata"]["creationTimestamp"])
    deadline = cronjob["spec"].get("startingDeadlineSeconds")
    if deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=deadline))
    latest = None
    moment = next_time(cronjob, earliest)
    for _ in range(MAX_MISSED * 100):
        if moment is None or moment > now:
            return latest, moment
        latest = moment
        moment = next_time(cronjob, moment)
    return latest, next_time(cronjob, now)


class CronJobController(Controller):
    api_version = "batch/v1"
    kind = "CronJob"
    owns = (("batch/v1", "Job"),)

    async def reconcile(self, key: Key) -> float | None:
        cronjob = self.api.get("batch/v1", "CronJob", key.namespace, key.name)
        if cronjob is None or cronjob["metadata"].get("deletionTimestamp"):
            return None
        jobs = [j for j in self.api.list("batch/v1", "Job", key.namespace)
                if (controller_of(j) or {}).get("uid") == cronjob["metadata"]["uid"]]
        status = copy.deepcopy(cronjob.get("status") or {})
        self._track(status, jobs)
        now = datetime.now(timezone.utc)
        try:
            scheduled, upcoming = most_recent_time(cronjob, now)
        except ValueError:
            return None  # validation keeps bad schedules out; an old object may still hold one
        if scheduled is not None and not cronjob["spec"].get("suspend"):
            self._run(cronjob, status, jobs, scheduled)
        self._clean_history(cronjob, jobs)
        status.setdefault("active", [])
        if not status["active"]:
            status.pop("active")
        if status != (cronjob.get("status") or {}):
            self.api.replace({**cronjob, "status": status}, subresource="status")
        return None if upcoming is None else max(0.05, (upcoming - now).total_seconds() + 0.01)

    def _track(self, status: dict, jobs: list[dict]) -> None:
        """status.active lists the running Jobs; lastSuccessfulTime follows the latest completion."""
        running = [j for j in jobs if not is_finished(j)]
        status["active"] = [{"kind": "Job", "namespace": j["metadata"]["namespace"], "name": j["metadata"]["name"],
                             "uid": j["metadata"]["uid"], "apiVersion": "batch/v1",
                             "resourceVersion": j["metadata"]["resourceVersion"]} for j in running]
        for job in jobs:
            done = (job.get("status") or {}).get("completionTime")
            if condition(job, "Complete") and done and done > status.get("lastSuccessfulTime", ""):
                status["lastSuccessfulTime"] = done

    def _run(self, cronjob: dict, status: dict, jobs: list[dict], scheduled: datetime) -> None:
        meta = cronjob["metadata"]
        name = f"{meta['name']}-{int(scheduled.timestamp()) // 60}"
        if any(j["metadata"]["name"] == name for j in jobs):
            return  # this time has run
        policy = cronjob["spec"].get("concurrencyPolicy", "Allow")
        if status.get("active") and policy == "Forbid":
            return
        if status.get("active") and policy == "Replace":
            for ref in status["active"]:
                if self.api.delete("batch/v1", "Job", ref["namespace"], ref["name"], propagation="Background"):
                    record(self.api, cronjob, "SuccessfulDelete", f"Deleted job {ref['name']}", COMPONENT)
            status["active"] = []
        template = copy.deepcopy(cronjob["spec"].get("jobTemplate") or {})
        template_meta = template.get("metadata") or {}
        try:
            job = self.api.create({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "namespace": meta["namespace"],
                             "labels": dict(template_meta.get("labels") or {}),
                             "annotations": {**(template_meta.get("annotations") or {}),
                                             SCHEDULED_AT: _rfc3339(scheduled)},
                             "ownerReferences": [owner_reference(cronjob)]},
                "spec": template.get("spec") or {},
            })
        except errors.ApiError as exc:
            if exc.code != 409:
                record(self.api, cronjob, "FailedCreate", f"Error creating job: {exc.message}", COMPONENT,
                             "Warning")
                raise
            return
        record(self.api, cronjob, "SuccessfulCreate", f"Created job {name}", COMPONENT)
        status["active"].append({"kind": "Job", "namespace": meta["namespace"], "name": name,
                                 "uid": job["metadata"]["uid"], "apiVersion": "batch/v1",
                                 "resourceVersion": job["metadata"]["resourceVersion"]})
        status["lastScheduleTime"] = _rfc3339(scheduled)

    def _clean_history(self, cronjob: dict, jobs: list[dict]) -> None:
        spec = cronjob["spec"]
        for kind, limit in (("Complete", spec.get("successfulJobsHistoryLimit")),
                            ("Failed", spec.get("failedJobsHistoryLimit"))):
            if limit is None:
                continue
            done = sorted((j for j in jobs if condition(j, kind)),
                          key=lambda j: (j["status"].get("startTime") or j["metadata"]["creationTimestamp"],
                                         j["metadata"]["name"]))
            for job in done[:max(0, len(done) - limit)]:
                if self.api.delete("batch/v1", "Job", job["metadata"]["namespace"], job["metadata"]["name"],
                                   propagation="Background"):
                    record(self.api, cronjob, "SuccessfulDelete", f"Deleted job {job['metadata']['name']}",
                                 COMPONENT)


__all__ = ["CronJobController", "most_recent_time"]
