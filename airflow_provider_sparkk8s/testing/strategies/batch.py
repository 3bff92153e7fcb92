"""batch/v1 Job and CronJob: defaults and validation as a 1.32 API server applies them."""

from __future__ import annotations

from typing import Any

from ..workloads import go_map_text, selector_matches
from .base import Cause, Strategy
from .pods import default_pod_spec, not_supported, required, validate_pod_template

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"
MAX_INT32 = 2**31 - 1
JOB_RESTART_POLICIES = ("OnFailure", "Never")
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
# A CronJob's Jobs are named <cronjob>-<minutes since the epoch>: the name leaves 11 characters for that.
CRONJOB_NAME_MAX = 52
CRON_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def nonnegative(spec: dict, key: str, path: str) -> list[Cause]:
    value = spec.get(key)
    if isinstance(value, int) and value < 0:
        return [(f"{path}.{key}", "FieldValueInvalid", value, "must be greater than or equal to 0")]
    return []


def default_job_spec(spec: dict) -> None:
    """SetDefaults_Job for a Job's spec (and the pod defaults of its template)."""
    default_pod_spec(spec.setdefault("template", {}).setdefault("spec", {}))
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("completionMode", "NonIndexed")
    if spec.get("backoffLimit") is None:
        per_index = spec["completionMode"] == "Indexed" and spec.get("backoffLimitPerIndex") is not None
        spec["backoffLimit"] = MAX_INT32 if per_index else 6
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed")


def validate_job_spec(spec: dict, path: str, generated_selector: bool) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        causes.extend(nonnegative(spec, key, path))
    mode = spec.get("completionMode", "NonIndexed")
    if mode not in ("NonIndexed", "Indexed"):
        causes.append(not_supported(f"{path}.completionMode", mode, ("NonIndexed", "Indexed")))
    if mode == "Indexed" and spec.get("completions") is None:
        causes.append((f"{path}.completions", "FieldValueRequired", None,
                       "Required value: when completion mode is Indexed"))
    policy = spec.get("podReplacementPolicy")
    if policy is not None and policy not in ("TerminatingOrFailed", "Failed"):
        causes.append(not_supported(f"{path}.podReplacementPolicy", policy, ("Failed", "TerminatingOrFailed")))
    template = spec.get("template") or {}
    selector = spec.get("selector")
    if not generated_selector:
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not selector:
            causes.append(required(f"{path}.selector"))
        elif not selector_matches(selector, labels):
            causes.append((f"{path}.template.metadata.labels", "FieldValueInvalid", None,
                           f"Invalid value: {go_map_text(labels)}: `selector` does not match template `labels`"))
    causes.extend(validate_pod_template(template, f"{path}.template", JOB_RESTART_POLICIES))
    return causes


class JobStrategy(Strategy):
    default_propagation = "Orphan"  # batch/v1 keeps a deleted Job's pods unless asked, for compatibility
    def default(self, obj: dict) -> None:
        default_job_spec(obj.setdefault("spec", {}))

    def prepare_for_create(self, obj: dict) -> None:
        spec, meta = obj["spec"], obj["metadata"]
        if not spec.get("manualSelector"):
            # generateSelector: the Job's uid ties it to its pods.
            uid, name = meta["uid"], meta["name"]
            labels = spec["template"].setdefault("metadata", {}).setdefault("labels", {})
            labels.update({CONTROLLER_UID: uid, JOB_NAME: name, LEGACY_CONTROLLER_UID: uid, LEGACY_JOB_NAME: name})
            spec["selector"] = {"matchLabels": {CONTROLLER_UID: uid}}
        if not meta.get("labels"):
            labels = (spec["template"].get("metadata") or {}).get("labels")
            if labels:
                meta["labels"] = dict(labels)

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        return validate_job_spec(spec, "spec", generated_selector=False)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        causes: list[Cause] = []
        new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        immutable = {"selector": "v1.LabelSelector", "completionMode": "batch.CompletionMode",
                     "podFailurePolicy": "batch.PodFailurePolicy"}
        if not old_spec.get("suspend"):  # a suspended Job's template may change (mutable scheduling directives)
            immutable["template"] = "core.PodTemplateSpec"
        if old_spec.get("completionMode") != "Indexed":
            immutable["completions"] = "int32"
        for key, go_type in immutable.items():
            if new_spec.get(key) != old_spec.get(key):
                causes.append((f"spec.{key}", "FieldValueInvalid", None,
                               f"Invalid value: {go_type}{{...}}: field is immutable"))
        return causes


def parse_schedule(schedule: str) -> Any:
    """A schedule as the CronJob controller reads it (robfig/cron's standard parser); ValueError if it is not one.
    Returns a CronSpec, or a number of seconds for `@every <duration>`."""
    from ...calendar import CronSpec, parse_go_duration

    text = schedule.strip()
    if text.startswith(("TZ=", "CRON_TZ=")):
        raise ValueError("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    if text.startswith("@every "):
        seconds = parse_go_duration(text[len("@every "):].strip()) / 1e9
        if seconds < 1:
            raise ValueError("@every duration must be at least 1 second")
        return seconds
    if text.startswith("@"):
        if text not in CRON_DESCRIPTORS:
            raise ValueError(f"unrecognized descriptor: {text}")
        text = CRON_DESCRIPTORS[text]
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    try:
        return CronSpec.parse(text)
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("schedule: ")) from exc


class CronJobStrategy(Strategy):
    def default(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        job_spec = spec.setdefault("jobTemplate", {}).setdefault("spec", {})
        default_pod_spec(job_spec.setdefault("template", {}).setdefault("spec", {}))

    def validate(self, obj: dict) -> list[Cause]:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        causes: list[Cause] = []
        name = obj["metadata"].get("name", "")
        if len(name) > CRONJOB_NAME_MAX:
            causes.append(("metadata.name", "FieldValueInvalid", name,
                           f"must be no more than {CRONJOB_NAME_MAX} characters"))
        spec = obj.get("spec") or {}
        schedule = spec.get("schedule")
        if not schedule:
            causes.append(required("spec.schedule"))
        else:
            try:
                parse_schedule(schedule)
            except ValueError as exc:
                causes.append(("spec.schedule", "FieldValueInvalid", schedule, str(exc)))
        zone = spec.get("timeZone")
        if zone is not None:
            try:
                if not zone or zone != zone.strip():
                    raise ValueError(zone)
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                causes.append(("spec.timeZone", "FieldValueInvalid", zone, f"unknown time zone {zone}"))
        policy = spec.get("concurrencyPolicy")
        if policy not in CONCURRENCY_POLICIES:
            causes.append(not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
        for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
            causes.extend(nonnegative(spec, key, "spec"))
        job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        generated = not job_spec.get("manualSelector")
        causes.extend(validate_job_spec(job_spec, "spec.jobTemplate.spec", generated_selector=generated))
        return causes


STRATEGIES: dict[tuple[str, str], Strategy] = {
    ("batch", "jobs"): JobStrategy(),
    ("batch", "cronjobs"): CronJobStrategy(),
}
