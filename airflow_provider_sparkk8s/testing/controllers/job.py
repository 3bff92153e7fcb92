"""The job controller: runs a batch/v1 Job's pods to completion, as kube-controller-manager's does in 1.32.

Pods carry the `batch.kubernetes.io/job-tracking` finalizer until the Job has counted them. A Job ends in two
steps: first `SuccessCriteriaMet` or `FailureTarget`, then, once none of its pods still runs, `Complete` or
`Failed` with the same reason. Failed pods count against `backoffLimit`; a replacement waits 10 s, 20 s, ...
(capped at 6 minutes) after a failure.
"""

from __future__ import annotations

import copy
import time

from .. import errors
from ..strategies.batch import CONTROLLER_UID, JOB_NAME
from .base import ApiClient, Controller, Key
from .events import record
from .support import controller_of, is_pod_ready, is_terminal, now_rfc3339, owner_reference, seconds_since

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
COMPONENT = "job-controller"
MAX_BACKOFF = 360.0
COMPLETE_MESSAGE = "Reached expected number of succeeded pods"
FAILURES = {"BackoffLimitExceeded": "Job has reached the specified backoff limit",
            "DeadlineExceeded": "Job was active longer than specified deadline"}


def condition(job: dict, kind: str) -> dict | None:
    return next((c for c in (job.get("status") or {}).get("conditions") or []
                 if c.get("type") == kind and c.get("status") == "True"), None)


def is_finished(job: dict) -> bool:
    return condition(job, "Complete") is not None or condition(job, "Failed") is not None


def _new_condition(kind: str, reason: str, message: str, status: str = "True") -> dict:
    now = now_rfc3339()
    return {"type": kind, "status": status, "lastProbeTime": now, "lastTransitionTime": now, "reason": reason,
            "message": message}


def _index_of(pod: dict) -> int | None:
    raw = (pod["metadata"].get("annotations") or {}).get(INDEX_ANNOTATION)
    return int(raw) if raw is not None and raw.isdigit() else None


def _format_indexes(indexes: set[int]) -> str:
    """"0-2,5": runs of consecutive indexes, as status.completedIndexes shows them."""
    out: list[str] = []
    ordered = sorted(indexes)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


def _parse_indexes(text: str) -> set[int]:
    out: set[int] = set()
    for part in filter(None, (text or "").split(",")):
        low, _, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out


class JobController(Controller):
    api_version = "batch/v1"
    kind = "Job"
    owns = (("v1", "Pod"),)

    def __init__(self, api: ApiClient, pod_backoff_seconds: float = 10.0) -> None:
        super().__init__(api)
        self.pod_backoff_seconds = pod_backoff_seconds
        self._counted: set[str] = set()  # uids of finished pods already in a Job's status
        self._last_failure: dict[str, float] = {}  # Job uid -> when a failure was last counted (monotonic)

    async def reconcile(self, key: Key) -> float | None:
        job = self.api.get("batch/v1", "Job", key.namespace, key.name)
        uid = job["metadata"]["uid"] if job else None
        mine = []
        for pod in self.api.list("v1", "Pod", key.namespace):
            ref = controller_of(pod) or {}
            if ref.get("kind") != "Job" or ref.get("name") != key.name:
                continue
            if ref.get("uid") == uid:
                mine.append(pod)
            else:
                self._release(pod)  # its Job is gone: nothing will count it
        if job is None:
            return None
        if is_finished(job) or job["metadata"].get("deletionTimestamp"):
            # Nothing more to run: a Job being deleted (foreground) only lets its pods go.
            for pod in mine:
                self._release(pod)
            return None
        return self._sync(job, mine)

    # ------------------------------------------------------------------ one step
    def _sync(self, job: dict, pods: list[dict]) -> float | None:
        spec, meta = job["spec"], job["metadata"]
        status = copy.deepcopy(job.get("status") or {})
        conditions: list[dict] = status.setdefault("conditions", [])
        replace_failed_only = spec.get("podReplacementPolicy") == "Failed"
        indexed = spec.get("completionMode") == "Indexed"
        completed = _parse_indexes(status.get("completedIndexes", ""))

        # Count pods that finished (or, unless only failed pods are replaced, are being deleted).
        newly_failed = 0
        counted = set()
        for pod in pods:
            if TRACKING_FINALIZER not in (pod["metadata"].get("finalizers") or []) or (
                    pod["metadata"]["uid"] in self._counted):
                continue
            phase = (pod.get("status") or {}).get("phase")
            deleted = pod["metadata"].get("deletionTimestamp") is not None
            if phase == "Succeeded":
                status["succeeded"] = status.get("succeeded", 0) + 1
                if indexed and _index_of(pod) is not None:
                    completed.add(_index_of(pod))  # type: ignore[arg-type]
            elif phase == "Failed" or (deleted and not replace_failed_only):
                status["failed"] = status.get("failed", 0) + 1
                newly_failed += 1
            else:
                continue
            counted.add(pod["metadata"]["uid"])
        if newly_failed:
            self._last_failure[meta["uid"]] = time.monotonic()
        counted |= self._counted
        if indexed:
            status["completedIndexes"] = _format_indexes(completed)

        running = [p for p in pods if not is_terminal(p) and p["metadata"]["uid"] not in counted]
        active = [p for p in running if not p["metadata"].get("deletionTimestamp")]
        terminating = [p for p in pods if p["metadata"].get("deletionTimestamp") and not is_terminal(p)]
        succeeded, failed = status.get("succeeded", 0), status.get("failed", 0)
        completions = spec.get("completions")
        requeue: float | None = None

        finishing = condition(job, "FailureTarget") or condition(job, "SuccessCriteriaMet")
        if finishing is None:
            if failed > spec.get("backoffLimit", 6):
                finishing = _new_condition("FailureTarget", "BackoffLimitExceeded", FAILURES["BackoffLimitExceeded"])
            elif (spec.get("activeDeadlineSeconds") is not None and status.get("startTime")
                  and seconds_since(status["startTime"]) >= spec["activeDeadlineSeconds"]):
                finishing = _new_condition("FailureTarget", "DeadlineExceeded", FAILURES["DeadlineExceeded"])
            elif (len(completed) >= completions if indexed else
                  succeeded >= completions if completions is not None else succeeded > 0 and not active):
                finishing = _new_condition("SuccessCriteriaMet", "CompletionsReached", COMPLETE_MESSAGE)
            if finishing is not None:
                conditions.append(finishing)

        if finishing is not None:
            for pod in active:
                self._delete_pod(job, pod)
            if not running:
                success = finishing["type"] == "SuccessCriteriaMet"
                final = _new_condition("Complete" if success else "Failed", finishing["reason"],
                                       finishing["message"])
                conditions.append(final)
                if success:
                    status["completionTime"] = final["lastTransitionTime"]
                    record(self.api, job, "Completed", "Job completed", COMPONENT)
                else:
                    record(self.api, job, finishing["reason"], finishing["message"], COMPONENT, "Warning")
                active = []
        elif spec.get("suspend"):
            for pod in active:
                self._delete_pod(job, pod)
            active = []
            if self._set_suspended(conditions, True):
                record(self.api, job, "Suspended", "Job suspended", COMPONENT)
        else:
            if self._set_suspended(conditions, False):
                status["startTime"] = now_rfc3339()
                record(self.api, job, "Resumed", "Job resumed", COMPONENT)
            status.setdefault("startTime", now_rfc3339())
            requeue, created = self._scale(job, active, terminating, succeeded, completed, replace_failed_only)
            active = active + created
            deadline = spec.get("activeDeadlineSeconds")
            if deadline is not None:
                left = max(0.05, deadline - seconds_since(status["startTime"]))
                requeue = left if requeue is None else min(requeue, left)

        if active:
            status["active"] = len(active)
        else:
            status.pop("active", None)
        status["ready"] = sum(1 for p in active if is_pod_ready(p))
        status["terminating"] = len(terminating)
        status.setdefault("uncountedTerminatedPods", {})
        for zero in ("succeeded", "failed"):
            if not status.get(zero):
                status.pop(zero, None)
        if not conditions:
            status.pop("conditions")
        if status != job.get("status"):
            self.api.replace({**job, "status": status}, subresource="status")
        self._counted |= counted  # in the Job's status now: only then may the pods go
        for pod in pods:
            if pod["metadata"]["uid"] in counted:
                self._release(pod)
        return requeue

    def _set_suspended(self, conditions: list[dict], suspended: bool) -> bool:
        """Record a change of suspension in the Suspended condition; True when it changed."""
        current = next((c for c in conditions if c["type"] == "Suspended"), None)
        if suspended and (current is None or current["status"] != "True"):
            new = _new_condition("Suspended", "JobSuspended", "Job suspended")
        elif not suspended and current is not None and current["status"] == "True":
            new = _new_condition("Suspended", "JobResumed", "Job resumed", "False")
        else:
            return False
        conditions[:] = [c for c in conditions if c["type"] != "Suspended"] + [new]
        return True

    def _scale(self, job: dict, active: list[dict], terminating: list[dict], succeeded: int, completed: set[int],
               replace_failed_only: bool) -> tuple[float | None, list[dict]]:
        """Create or delete pods towards `parallelism`; returns (seconds to wait for a back-off, created pods)."""
        spec = job["spec"]
        parallelism, completions = spec.get("parallelism", 1), spec.get("completions")
        if spec.get("completionMode") == "Indexed":
            busy = {_index_of(p) for p in active}
            todo = [i for i in range(completions) if i not in completed and i not in busy]
            want = min(parallelism, len(todo) + len(active))
        else:
            todo = []
            remaining = (completions - succeeded) if completions is not None else (0 if succeeded else parallelism)
            want = max(0, min(parallelism, remaining))
        if replace_failed_only:
            want = max(0, want - len(terminating))
        for pod in sorted(active, key=lambda p: p["metadata"]["creationTimestamp"], reverse=True)[:max(0, len(
                active) - want)]:
            self._delete_pod(job, pod)
        missing = want - len(active)
        if missing <= 0:
            return None, []
        failed = (job.get("status") or {}).get("failed", 0)
        last = self._last_failure.get(job["metadata"]["uid"])
        if failed and last is not None:
            delay = min(self.pod_backoff_seconds * 2 ** (failed - 1), MAX_BACKOFF)
            wait = last + delay - time.monotonic()
            if wait > 0:
                return wait, []
        created = []
        for n in range(missing):
            created.append(self._create_pod(job, todo[n] if todo else None))
        return None, created

    # ------------------------------------------------------------------ pods
    def _create_pod(self, job: dict, index: int | None) -> dict:
        template = copy.deepcopy(job["spec"]["template"])
        meta = template.get("metadata") or {}
        name = job["metadata"]["name"]
        labels = dict(meta.get("labels") or {})
        annotations = dict(meta.get("annotations") or {})
        spec = template["spec"]
        if index is not None:
            labels[INDEX_ANNOTATION] = annotations[INDEX_ANNOTATION] = str(index)
            spec.setdefault("hostname", f"{name}-{index}")
        labels.setdefault(CONTROLLER_UID, job["metadata"]["uid"])
        labels.setdefault(JOB_NAME, name)
        pod = self.api.create({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": f"{name}-{index}-" if index is not None else f"{name}-",
                         "namespace": job["metadata"]["namespace"], "labels": labels,
                         **({"annotations": annotations} if annotations else {}),
                         "finalizers": [TRACKING_FINALIZER], "ownerReferences": [owner_reference(job)]},
            "spec": spec,
        })
        record(self.api, job, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", COMPONENT)
        return pod

    def _delete_pod(self, job: dict, pod: dict) -> None:
        if self.api.delete("v1", "Pod", pod["metadata"]["namespace"], pod["metadata"]["name"]) is not None:
            record(self.api, job, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", COMPONENT)

    def _release(self, pod: dict) -> None:
        """Drop the tracking finalizer (a pod being deleted then goes)."""
        finalizers = pod["metadata"].get("finalizers") or []
        if TRACKING_FINALIZER in finalizers:
            rest = [f for f in finalizers if f != TRACKING_FINALIZER]
            try:
                self.api.patch("v1", "Pod", pod["metadata"]["namespace"], pod["metadata"]["name"],
                               {"metadata": {"finalizers": rest or None,
                                             "resourceVersion": pod["metadata"]["resourceVersion"]}})
            except errors.ApiError as exc:
                if exc.code != 404:
                    raise
        self._counted.discard(pod["metadata"]["uid"])
