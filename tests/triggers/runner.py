"""Run a trigger as the triggerer does: serialize it, re-create it from its classpath and JSON kwargs in
another process, and collect the first event it yields."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

_TRIGGERER = textwrap.dedent("""
    import asyncio, importlib, json, sys

    classpath, kwargs = sys.argv[1], json.loads(sys.argv[2])
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**kwargs)

    async def main():
        async for event in trigger.run():
            print("EVENT " + json.dumps(event.payload), flush=True)
            return

    asyncio.run(main())
""")


def run_in_triggerer(trigger: Any, timeout: float = 60) -> dict:
    classpath, kwargs = trigger.serialize()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", _TRIGGERER, classpath, json.dumps(kwargs)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    events = [line.removeprefix("EVENT ") for line in proc.stdout.splitlines() if line.startswith("EVENT ")]
    assert proc.returncode == 0 and len(events) == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(events[0])


def recreate(trigger: Any) -> Any:
    """The trigger as the triggerer re-creates it from what the worker serialized (through JSON)."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
