"""A Kubernetes API emulator that real clients accept, with simulated controllers and fault injection.

`KubeEmulator` is imported lazily so that loading the pytest plugin costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .emulator import KubeEmulator
    from .faults import Fault

__all__ = ["Fault", "KubeEmulator"]


def __getattr__(name: str) -> Any:
    if name == "KubeEmulator":
        from .emulator import KubeEmulator

        return KubeEmulator
    if name == "Fault":
        from .faults import Fault

        return Fault
    raise AttributeError(name)
