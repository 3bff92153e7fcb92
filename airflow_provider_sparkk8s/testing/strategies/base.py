"""What a kind's strategy provides: defaulting on create, validation on create and update."""

from __future__ import annotations

from typing import Any, Protocol

Cause = tuple[str, str, Any, str]  # (field, reason type, bad value or None, detail), as errors.invalid takes


class Strategy(Protocol):
    def default(self, obj: dict) -> None:
        """Fill in defaults on create (metadata.uid is already set)."""

    def validate(self, obj: dict) -> list[Cause]:
        """Problems with an object about to be created or stored."""

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        """Problems with an update (immutable fields), on top of `validate`."""
