"""What a kind's strategy does, in the order the API server applies it (pkg/registry/<group>/<kind>/strategy.go
and the defaulters): defaults on every write, what only a create sets, then validation."""

from __future__ import annotations

from typing import Any

Cause = tuple[str, str, Any, str]  # (field, reason type, bad value or None, detail), as errors.invalid takes


class Strategy:
    # DefaultGarbageCollectionPolicy: what a DELETE without a propagationPolicy does to the dependents.
    default_propagation = "Background"

    def default(self, obj: dict) -> None:
        """SetDefaults_*: run on every decoded body, create and update alike."""

    def prepare_for_create(self, obj: dict) -> None:
        """What only a create sets (metadata.uid is already set): e.g. a fresh status, a generated selector."""

    def validate(self, obj: dict) -> list[Cause]:
        """Problems with an object about to be created or stored."""
        return []

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        """Problems with an update (immutable fields), on top of `validate`."""
        return []
