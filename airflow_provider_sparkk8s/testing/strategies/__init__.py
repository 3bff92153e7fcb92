"""What the API server does per kind on top of the generic rules: defaulting and validation, as each built-in
type's registry strategy does in Kubernetes (`pkg/registry/<group>/<kind>/strategy.go` and the defaulters).

The store asks `strategy_for(rt)` on every create and update.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..resources import ResourceType

Cause = tuple[str, str, Any, str]  # (field, reason type, bad value or None, detail), as errors.invalid takes


class Strategy(Protocol):
    def default(self, obj: dict) -> None:
        """Fill in defaults on create (metadata.uid is already set)."""

    def validate(self, obj: dict) -> list[Cause]:
        """Problems with an object about to be created or stored."""

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        """Problems with an update (immutable fields), on top of `validate`."""


def strategy_for(rt: ResourceType) -> Strategy | None:
    from .batch import STRATEGIES as BATCH

    return BATCH.get((rt.group, rt.plural))
