"""Tie Kubernetes objects to the Airflow task instance that created them.

Every object the provider creates carries labels (for selection: sanitised, at most 63 characters) and
annotations (the exact values: run ids are not valid label values). A deterministic name per try lets a
restarted worker find what it already created before creating anything.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

PREFIX = "sparkk8s.io/"
TASK_KEY = PREFIX + "task-key"  # one label that selects every try of one task instance
TRY_NUMBER = PREFIX + "try-number"
ROLE = PREFIX + "role"  # driver, launcher, application, workflow

_INVALID = re.compile(r"[^A-Za-z0-9_.-]+")


def label_value(value: str) -> str:
    """A valid label value for any string: invalid characters become '-', at most 63 characters."""
    cleaned = _INVALID.sub("-", value)[:63]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", cleaned)


def dns_label(value: str, max_len: int = 63) -> str:
    """A lowercase RFC 1123 label (letters first so it is also a valid DNS-1035 service name)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "app-" + cleaned
    return cleaned[:max_len].rstrip("-")


def _digest(*parts: Any, length: int = 10) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class TaskIdentity:
    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1
    try_number: int = 1

    @classmethod
    def from_context(cls, context: Any) -> TaskIdentity:
        ti = context["ti"]
        map_index = getattr(ti, "map_index", None)  # 0 is the first index of a mapped task, not "unmapped"
        return cls(ti.dag_id, ti.task_id, ti.run_id, -1 if map_index is None else int(map_index),
                   getattr(ti, "try_number", 1) or 1)

    @property
    def task_key(self) -> str:
        """Stable across tries of one task instance."""
        return _digest(self.dag_id, self.task_id, self.run_id, self.map_index, length=20)

    def name(self, base: str, suffix: str = "", max_len: int = 63) -> str:
        """A deterministic object name for this try: <base>-<hash of the try>[-suffix]."""
        digest = _digest(self.dag_id, self.task_id, self.run_id, self.map_index, self.try_number)
        tail = f"-{digest}" + (f"-{suffix}" if suffix else "")
        return dns_label(base, max_len - len(tail)) + tail

    def labels(self, role: str) -> dict[str, str]:
        return {
            PREFIX + "dag-id": label_value(self.dag_id),
            PREFIX + "task-id": label_value(self.task_id),
            PREFIX + "map-index": str(self.map_index) if self.map_index >= 0 else "none",
            TRY_NUMBER: str(self.try_number),
            TASK_KEY: self.task_key,
            ROLE: role,
        }

    def annotations(self) -> dict[str, str]:
        return {
            PREFIX + "dag-id": self.dag_id,
            PREFIX + "task-id": self.task_id,
            PREFIX + "run-id": self.run_id,
            PREFIX + "map-index": str(self.map_index),
            PREFIX + "try-number": str(self.try_number),
        }

    def selector(self, role: str | None = None) -> str:
        """Label selector for every try of this task instance (optionally one role)."""
        return f"{TASK_KEY}={self.task_key}" + (f",{ROLE}={role}" if role else "")
