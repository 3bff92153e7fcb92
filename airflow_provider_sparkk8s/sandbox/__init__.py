"""The sandbox: the Kubernetes API emulator with Spark applications that run for real on this machine.

- ``config.py``: the image-to-local mapping (``dags_examples/sandbox.yaml`` is the examples' one);
- ``local_spark.py``: runs mapped driver pods and client-mode spark-submit steps with pyspark's spark-submit;
- ``history.py``: pyspark's Spark History Server over the local applications' event logs, and the redirector
  that leads the operators' links from a driver pod's ``spark-app-selector`` to its local application's page;
- ``sandbox.py``: ``Sandbox``, the emulator plus that controller (``sparkk8s sandbox`` runs it);
- ``demo.py``: ``make demo``: the example DAGs in real Airflow against a sandbox, with a summary;
- ``dag_runner.py``: the Airflow side of the demo (one process, a forked child per DAG run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import SandboxConfig
    from .sandbox import Sandbox

__all__ = ["Sandbox", "SandboxConfig"]


def __getattr__(name: str) -> Any:
    if name == "Sandbox":
        from .sandbox import Sandbox

        return Sandbox
    if name == "SandboxConfig":
        from .config import SandboxConfig

        return SandboxConfig
    raise AttributeError(name)
