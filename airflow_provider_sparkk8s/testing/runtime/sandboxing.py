"""The bubblewrap (``bwrap``) command line that runs one container's process in its own view of the filesystem.

A container gets a mount namespace, a PID namespace and, given a hostname, a UTS namespace with the pod's hostname
(which its ``/etc/hosts`` names), nothing else: it shares the host's network (pod IPs are on loopback) and users,
and no resource limit applies. In the mount namespace:

- the root is the host's filesystem (images run with the host's programs) or a given directory (a root
  filesystem image, bound writable: what a container writes there, outside its volumes and ``/tmp``, stays);
- ``/tmp`` is a host directory of the container's own, and ``/proc`` shows only the container's processes;
- each volumeMount is bound at its mountPath (read-only when the mount or the volume says so; ``subPath`` and
  ``subPathExpr`` bind a path inside the volume).

A mountPath missing from the root would be created by bubblewrap in the host's directory; instead its nearest
existing parent is replaced, in the namespace only, by a tmpfs holding bindings of the host's entries, so the host
is never written to.

The program is its PID namespace's PID 1, as in a container (``--as-pid-1``: bubblewrap installs no init of its
own): ``kill 1`` in the container signals the program, and like any PID 1 it gets only the signals it has a
handler for (SIGKILL aside). The PID namespace is also what guarantees that no process outlives its container: when
PID 1 ends, the kernel kills every process left in it, including those that left the process group (``setsid``).
``--die-with-parent`` ends the container if the process that started it dies.

An exec is a fresh bubblewrap with the same view that joins the container's PID namespace (``--pidns``, and the
container's user namespace with ``--userns`` when bubblewrap made one, as it does for a user without privilege):
its processes see the container's and can signal them, and end with the container.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import MountFailure
from .expansion import expand
from .volumes import Volume


@dataclass(frozen=True)
class Mount:
    source: Path  # on the host
    target: str  # in the container
    read_only: bool = False


@dataclass(frozen=True)
class ContainerView:
    """What a container's processes (and those exec'd into it) see."""

    tmp: Path  # the host directory that is the container's /tmp
    mounts: tuple[Mount, ...] = ()
    root: Path | None = None  # None: the host's filesystem
    working_dir: str = "/"
    hostname: str | None = None  # None: the host's


def volume_mounts(container: dict, volumes: Mapping[str, Volume], env: Mapping[str, str]) -> tuple[Mount, ...]:
    """The container's volumeMounts as host paths; a missing ``subPath`` directory is created, as the kubelet
    does."""
    mounts = []
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount["name"])
        if volume is None:
            raise MountFailure(mount["name"], "volume is not defined by the pod")
        sub_path = mount.get("subPath") or expand(mount.get("subPathExpr", ""), env)
        source = volume.path
        if sub_path:
            parts = PurePosixPath(sub_path).parts
            if PurePosixPath(sub_path).is_absolute() or ".." in parts:
                raise MountFailure(mount["name"], f"subpath {sub_path!r} must be a relative path inside the volume")
            source = source.joinpath(*parts)
            if not source.exists():
                source.mkdir(parents=True)
        mounts.append(Mount(source, mount["mountPath"], bool(mount.get("readOnly")) or volume.read_only))
    return tuple(mounts)


@dataclass(frozen=True)
class JoinedNamespaces:
    """Open file descriptors of a running container's namespaces, for an exec to join."""

    pid: int
    user: int | None = None  # only when the container has a user namespace of its own


def bwrap_argv(view: ContainerView, argv: Sequence[str], env: Mapping[str, str], bwrap: str = "bwrap",
               join: JoinedNamespaces | None = None, info_fd: int | None = None) -> list[str]:
    """The full command line: bwrap's options, then ``--`` and the container's argv. Every value is one argv
    element; nothing goes through a shell. ``join``: run in that container's PID namespace (an exec) rather than
    a new one; ``info_fd``: where bubblewrap writes its JSON (the program's host PID, ``child-pid``)."""
    # As a runtime does (runc's securejoin), a mountPath through a symlink of the root, such as /var/run -> /run,
    # is mounted where the link leads, inside the root.
    view = dataclasses.replace(view, mounts=tuple(dataclasses.replace(m, target=_in_root(view.root, m.target))
                                                  for m in view.mounts))
    mounts = sorted(view.mounts, key=lambda m: _depth(m.target))  # parents before what is mounted inside them
    shadows = _shadowed_dirs(view, [m.target for m in mounts] + [view.working_dir])
    args = [bwrap, "--die-with-parent"]
    if join is None:
        args += ["--unshare-pid", "--as-pid-1"]
    else:
        args += ["--pidns", str(join.pid)] + ([] if join.user is None else ["--userns", str(join.user)])
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    if view.hostname:  # an exec gets a UTS namespace of its own too, with the same name
        args += ["--unshare-uts", "--hostname", view.hostname]
    if "/" in shadows:
        args += _shadow(view.root, "/")
    else:
        args += ["--dev-bind", "/", "/"] if view.root is None else ["--bind", str(view.root), "/"]
    if view.root is not None:
        args += ["--dev", "/dev"]
    args += ["--proc", "/proc", "--bind", str(view.tmp), "/tmp"]
    for directory in shadows:
        if directory != "/":
            args += ["--tmpfs", directory, *_shadow(view.root, directory)]
    for mount in mounts:
        args += ["--ro-bind" if mount.read_only else "--bind", str(mount.source), mount.target]
    if view.working_dir != "/":
        args += ["--dir", view.working_dir]  # a runtime creates a missing workingDir
    args += ["--chdir", view.working_dir, "--clearenv"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    return [*args, "--", *argv]


def host_path(view: ContainerView, path: str) -> Path:
    """Where a container's absolute ``path`` is on the host: in the volume mounted deepest above it, in its
    ``/tmp``, else in its root (the host's own filesystem for host images)."""
    clean = posixpath.normpath(posixpath.join("/", path))
    for mount in sorted(view.mounts, key=lambda m: _depth(m.target), reverse=True):
        if _within(clean, mount.target):
            return mount.source / posixpath.relpath(clean, mount.target)
    if _within(clean, "/tmp"):
        return view.tmp / posixpath.relpath(clean, "/tmp")
    return Path(_host(view.root, clean))


def _in_root(root: Path | None, path: str) -> str:
    """``path`` with the symlinks of the root along it followed, never out of the root (at most 40, as Linux)."""
    parts = list(PurePosixPath(posixpath.normpath(posixpath.join("/", path))).parts[1:])
    resolved, links = "/", 0
    while parts:
        candidate = posixpath.join(resolved, parts.pop(0))
        host = _host(root, candidate)
        if links < 40 and os.path.islink(host):
            links += 1
            link = os.readlink(host)
            base = "/" if link.startswith("/") else resolved
            parts = list(PurePosixPath(posixpath.normpath(posixpath.join(base, link))).parts[1:]) + parts
            resolved = "/"
            continue
        resolved = candidate
    return resolved


def _depth(path: str) -> int:
    return len(PurePosixPath(path).parts)


def _host(root: Path | None, path: str) -> str:
    return path if root is None else str(root / path.lstrip("/"))


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _shadowed_dirs(view: ContainerView, targets: list[str]) -> list[str]:
    """The root's directories to replace by a tmpfs so that no missing target is created in the host's."""
    ours = ["/tmp", "/proc", *([] if view.root is None else ["/dev"]), *(m.target for m in view.mounts)]
    shadows = set()
    for target in targets:
        if any(_within(target, directory) for directory in ours if directory != target):
            continue  # created inside a directory of the container's own
        path = "/"
        for part in PurePosixPath(target).parts[1:]:
            path = posixpath.join(path, part)
            if not os.path.lexists(_host(view.root, path)):
                shadows.add(posixpath.dirname(path))
                break
    return sorted(shadows, key=_depth)


def _shadow(root: Path | None, directory: str) -> list[str]:
    """Bindings of the entries of the root's ``directory`` (symlinks as symlinks), for the tmpfs in its place."""
    args = []
    for entry in sorted(os.listdir(_host(root, directory))):
        path = posixpath.join(directory, entry)
        if path in ("/proc", "/tmp") or (root is not None and path == "/dev"):
            continue  # mounted by bwrap_argv itself
        host = _host(root, path)
        args += ["--symlink", os.readlink(host), path] if os.path.islink(host) else ["--dev-bind", host, path]
    return args
