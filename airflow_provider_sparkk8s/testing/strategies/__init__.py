"""What the API server does per kind on top of the generic rules: defaulting and validation, as each built-in
type's registry strategy does in Kubernetes (`pkg/registry/<group>/<kind>/strategy.go` and the defaulters).

The store asks `strategy_for(rt)` on every create and update; kinds without one get `Strategy()`, which does
nothing.
"""

from __future__ import annotations

from ..resources import ResourceType
from .apps import STRATEGIES as APPS
from .base import Cause, Strategy
from .batch import STRATEGIES as BATCH

STRATEGIES: dict[tuple[str, str], Strategy] = {**APPS, **BATCH}
GENERIC = Strategy()

__all__ = ["Cause", "Strategy", "strategy_for"]


def strategy_for(rt: ResourceType) -> Strategy:
    return STRATEGIES.get((rt.group, rt.plural), GENERIC)
