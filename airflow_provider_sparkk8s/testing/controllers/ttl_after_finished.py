"""The TTL-after-finished controller: deletes a finished Job `ttlSecondsAfterFinished` seconds after it ended
(foreground deletion, so its pods go first)."""

from __future__ import annotations

from .base import Controller, Key
from .job import condition
from .support import seconds_since


class TTLAfterFinishedController(Controller):
    api_version = "batch/v1"
    kind = "Job"

    async def reconcile(self, key: Key) -> float | None:
        job = self.api.get("batch/v1", "Job", key.namespace, key.name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return None
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        ended = condition(job, "Complete") or condition(job, "Failed")
        if ttl is None or ended is None:
            return None
        left = ttl - seconds_since((job.get("status") or {}).get("completionTime") or ended["lastTransitionTime"])
        if left > 0:
            return left
        self.api.delete("batch/v1", "Job", key.namespace, key.name, propagation="Foreground")
        return None
