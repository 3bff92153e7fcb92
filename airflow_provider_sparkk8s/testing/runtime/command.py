"""The argv a container runs, as Kubernetes combines the container's ``command``/``args`` with the image's
ENTRYPOINT/CMD ("Define a Command and Arguments for a Container"):

=============  ==========  ==========================
``command``    ``args``    runs
=============  ==========  ==========================
not given      not given   ENTRYPOINT + CMD
given          not given   ``command`` (CMD dropped)
not given      given       ENTRYPOINT + ``args``
given          given       ``command`` + ``args``
=============  ==========  ==========================

``$(NAME)`` in ``command`` and ``args`` (never in the image's) expands from the container's env. The sandbox's
image mapping then names the local program for the in-image one: ``program_mounts`` puts each mapped program
where the image has it, so that the container's own processes (a script calling ``hdfs``) run it too, and
``commands`` maps argv[0] to it there (a host path may not be visible in the container: its /tmp is its own).
"""

from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import ContainerCreateFailure
from .expansion import expand
from .sandboxing import Mount

PROGRAM_DIR = "/usr/local/bin"  # where a program the mapping names without a path appears: on the default PATH


def container_argv(container: dict, env: Mapping[str, str], entrypoint: Sequence[str] = (),
                   cmd: Sequence[str] = (), commands: Mapping[str, str] | None = None) -> list[str]:
    command = [expand(part, env) for part in container.get("command") or []]
    args = [expand(part, env) for part in container.get("args") or []]
    if command:
        argv = command + args
    else:
        argv = [*entrypoint, *(args or cmd)]
    if not argv:
        raise ContainerCreateFailure("no command specified")
    program = (commands or {}).get(argv[0])
    return [program, *argv[1:]] if program else argv


def program_mounts(commands: Mapping[str, str], path: str, root: Path | None = None) -> dict[str, Mount]:
    """Read-only bindings of the mapped local programs at their in-image places, by in-image program: an in-image
    path at that path, a name in ``/usr/local/bin``. A local program given by name is the one found on ``path``
    (the container's PATH, in ``root`` when the image has a root filesystem); one found nowhere is left out, and
    the container's command fails as a missing program does."""
    mounts = {}
    for program, local in commands.items():
        if "/" in program and not program.startswith("/"):
            continue  # a relative in-image path has no place of its own
        source = local if "/" in local else _which(local, path, root)
        if source is None:
            continue
        target = program if program.startswith("/") else posixpath.join(PROGRAM_DIR, program)
        mounts[program] = Mount(Path(source), posixpath.normpath(target), read_only=True)
    return mounts


def _which(name: str, path: str, root: Path | None) -> str | None:
    if root is None:
        return shutil.which(name, path=path)
    for directory in path.split(os.pathsep):
        candidate = root / directory.lstrip("/") / name
        if directory.startswith("/") and candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None
