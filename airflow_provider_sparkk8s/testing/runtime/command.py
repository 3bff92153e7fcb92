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
image mapping then names the local program for the in-image one: ``commands`` maps argv[0].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .errors import ContainerCreateFailure
from .expansion import expand


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
