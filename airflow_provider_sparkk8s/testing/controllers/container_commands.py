"""How long a simulated container runs, read from its command where the simulator can read it.

``sleep N`` (also ``1m``, ``2h``, several operands summed) runs N seconds; ``sleep infinity``, ``tail -f ...``,
``/pause`` and shell loops such as ``while true; do ...; done`` run until the pod is deleted. A shell script
(``sh -c '...'``) runs as long as its sleeps add up to, the other commands taking no time. Anything else is
unknown (None): the kubelet then uses its default run time.
"""

from __future__ import annotations

import math
import os
import re
import shlex

FOREVER = math.inf
_SHELLS = ("sh", "bash", "ash", "dash", "zsh", "ksh", "busybox")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_ENDLESS_LOOP = re.compile(r"\b(?:while\s+(?:true|:|\[\s*1\s*\]|\[\s*1\s*-eq\s*1\s*\])|until\s+false)\s*[;\n]\s*do\b"
                           r"|\bfor\s*\(\(\s*;\s*;\s*\)\)")
_SEPARATORS = re.compile(r"&&|\|\||[;&|\n]")


def run_seconds(container: dict) -> float | None:
    """Seconds the container runs (FOREVER: until stopped), or None when its command says nothing readable.

    With no ``command`` the image's entrypoint runs ``args``; for the images such pods use (busybox, alpine)
    there is no entrypoint, so ``args`` are read as the command line."""
    argv = [str(a) for a in (container.get("command") or [])] + [str(a) for a in (container.get("args") or [])]
    return _argv_seconds(argv) if argv else None


def _argv_seconds(argv: list[str]) -> float | None:
    program = os.path.basename(argv[0])
    if program in _SHELLS:
        rest = argv[1:]
        if program == "busybox" and rest and os.path.basename(rest[0]) not in _SHELLS:
            return _argv_seconds(rest)
        for i, arg in enumerate(rest):
            if arg.startswith("-") and "c" in arg.lstrip("-") and not arg.startswith("--") and i + 1 < len(rest):
                return script_seconds(rest[i + 1])
        return None
    return _command_seconds(argv)


def _command_seconds(argv: list[str]) -> float | None:
    while argv and argv[0] in ("exec", "nohup", "command"):
        argv = argv[1:]
    if not argv:
        return None
    program, operands = os.path.basename(argv[0]), argv[1:]
    if program == "sleep":
        return _sleep_seconds(operands)
    if program == "tail" and any(o in ("-f", "-F", "--follow") or o.startswith("--follow=") for o in operands):
        return FOREVER
    if program == "pause" and not operands:
        return FOREVER
    return None


def _sleep_seconds(operands: list[str]) -> float | None:
    total = 0.0
    for operand in operands:
        if operand.lower() in ("infinity", "inf"):
            return FOREVER
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", operand)
        if not m:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
    return total if operands else None


def script_seconds(script: str) -> float | None:
    """A shell script's run time: an endless loop runs forever, else the sum of its sleeps (None: none)."""
    if _ENDLESS_LOOP.search(script):
        return FOREVER
    total: float | None = None
    for part in _SEPARATORS.split(script):
        try:
            words = shlex.split(part, comments=True)
        except ValueError:
            continue
        seconds = _command_seconds(words) if words else None
        if seconds is not None:
            total = (total or 0.0) + seconds
    return total
