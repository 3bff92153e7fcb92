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

    def create(classpath, kwargs):
        module, _, name = classpath.rpartition(".")
        return getattr(importlib.import_module(module), name)(**kwargs)

    async def first_event(trigger):
        async for event in trigger.run():
            return event.payload

    async def main():
        # Every trigger in one event loop, as the triggerer runs them.
        triggers = [create(classpath, kwargs) for classpath, kwargs in json.loads(sys.argv[1])]
        for payload in await asyncio.gather(*(first_event(t) for t in triggers)):
            print("EVENT " + json.dumps(payload), flush=True)

    asyncio.run(main())
""")


def start_in_triggerer(triggers: list[Any]) -> subprocess.Popen[str]:
    """Run the triggers concurrently in one event loop of another process; `events()` collects what they fire."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-c", _TRIGGERER, json.dumps([t.serialize() for t in triggers])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def events(proc: subprocess.Popen[str], count: int, timeout: float = 60) -> list[dict]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    found = [line.removeprefix("EVENT ") for line in out.splitlines() if line.startswith("EVENT ")]
    assert proc.returncode == 0 and len(found) == count, out[-3000:] + err[-3000:]
    return [json.loads(e) for e in found]


def run_in_triggerer(trigger: Any, timeout: float = 60) -> dict:
    [event] = events(start_in_triggerer([trigger]), 1, timeout)
    return event


def recreate(trigger: Any) -> Any:
    """The trigger as the triggerer re-creates it from what the worker serialized (through JSON)."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
