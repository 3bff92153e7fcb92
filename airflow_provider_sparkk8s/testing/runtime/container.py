"""A container running as local processes: one bubblewrap process tree in its own process group.

Stopping follows the kubelet: SIGTERM, then SIGKILL when the grace period ends. SIGTERM goes to every process of
the container's group but bubblewrap's outer process, since bubblewrap ends its namespace with SIGKILL as soon as
that process dies, which would deny the program its grace period. (Bubblewrap's init, the namespace's PID 1,
ignores the SIGTERM as every namespace init does; it ends when the program does.) SIGKILL goes to the whole
group, and the PID namespace takes down whatever left the group. One difference from a cluster: the program is
not its namespace's PID 1 (bubblewrap's init is), so a shell that would ignore SIGTERM as PID 1 stops at once.

A container's processes start with every signal's default action, as a container runtime starts them, whatever the
emulator's process ignores (started as a shell's background job, it ignores SIGINT and SIGQUIT): otherwise a
program that traps SIGINT, as KubernetesPodOperator's XCom sidecar does, would never get it.

``--die-with-parent`` ties a container to the thread that started it (the kernel's parent-death signal follows the
thread): start containers from the event loop's thread, which lives as long as the kubelet.

``exec`` runs a fresh bubblewrap with the container's view (same root, volumes, ``/tmp`` and working directory)
rather than entering the running container's namespaces with nsenter: it needs no privilege beyond what starting
the container needs, and it works the same whether the container still runs or not. It does not share the
container's PID namespace, so ``ps`` in an exec shows the exec's own processes only. The container kills the
processes exec'd into it when it stops.

``listen`` and ``stdin`` are what pods/attach reaches: the program's output as it comes, besides its lines, and its
stdin when the container was started with ``stdin=True`` (the container's ``stdin: true``; otherwise it reads
/dev/null, as a container without stdin reads nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import termios
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .sandboxing import ContainerView, bwrap_argv

SIGTERM_EXIT, SIGKILL_EXIT = 128 + signal.SIGTERM, 128 + signal.SIGKILL
START_ERROR_EXIT = 128  # what Kubernetes reports for a container whose program could not be started
_BWRAP_ERROR = "bwrap: "  # how bubblewrap's own failures start (before the program runs, on its stderr)
_CHUNK = 65536

# (stream, when, line): stream is "stdout" or "stderr", the line has no newline; the kubelet writes the pod log.
LineCallback = Callable[[str, datetime, str], None]
# (stream, chunk): the program's output as it is read, for those attached to the container.
OutputListener = Callable[[str, bytes], None]


@dataclass
class ExecProcess:
    process: asyncio.subprocess.Process
    terminal: int | None = None  # the pty's controller side with tty=True (stdin, stdout and stderr go through it)


class LocalContainer:
    def __init__(self, view: ContainerView, argv: Sequence[str], env: Mapping[str, str],
                 on_line: LineCallback | None = None, bwrap: str = "bwrap", stdin: bool = False) -> None:
        self.view, self.argv, self.env = view, list(argv), dict(env)
        self.on_line, self.bwrap, self.stdin = on_line, bwrap, stdin
        self._listeners: list[OutputListener] = []
        self.process: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task] = []
        self._execs: list[asyncio.subprocess.Process] = []
        self._exit_code: int | None = None
        self.start_error: str | None = None  # why the program could not be started (reason StartError)

    @property
    def pid(self) -> int | None:
        """bubblewrap's outer process, the leader of the container's process group."""
        return self.process.pid if self.process else None

    @property
    def exit_code(self) -> int | None:
        return self._exit_code

    async def start(self) -> None:
        """Start the container's process; raises OSError when bubblewrap cannot be started."""
        self.view.tmp.mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            *bwrap_argv(self.view, self.argv, self.env, self.bwrap),
            stdin=asyncio.subprocess.PIPE if self.stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
            preexec_fn=_default_signals)
        assert self.process.stdout and self.process.stderr
        self._readers = [asyncio.ensure_future(self._read_lines("stdout", self.process.stdout)),
                         asyncio.ensure_future(self._read_lines("stderr", self.process.stderr))]

    def listen(self, listener: OutputListener) -> Callable[[], None]:
        """Call ``listener`` with each chunk of output from now on; returns what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def write_stdin(self, data: bytes) -> None:
        """Write to the program's stdin (nothing happens for a container started without stdin, or ended)."""
        if self.process is None or self.process.stdin is None or self.process.stdin.is_closing():
            return
        self.process.stdin.write(data)
        with contextlib.suppress(ConnectionError):
            await self.process.stdin.drain()

    async def wait(self) -> int:
        """The exit code as Kubernetes reports it: the program's own, 128 + the signal that ended it, or 128 when
        the program could not be started (``start_error`` then says why, as the container's message)."""
        if self.process is None:
            raise RuntimeError("the container was not started")
        code = await self.process.wait()
        await asyncio.gather(*self._readers)
        if self.start_error is not None and code == 1:
            self._exit_code = START_ERROR_EXIT
        else:
            self.start_error = None  # the program ran (and wrote what looked like bubblewrap's message)
            self._exit_code = 128 - code if code < 0 else code
        return self._exit_code

    async def stop(self, grace_seconds: float) -> int:
        """SIGTERM to the container's processes, SIGKILL to all that remain after ``grace_seconds`` (at once when
        it is 0); the exit code (143 when SIGTERM ended it, 137 when SIGKILL did)."""
        if self.process is None:
            raise RuntimeError("the container was not started")
        if self.process.returncode is None and grace_seconds > 0:  # as containerd: no grace, no SIGTERM
            for pid in _group_members(self.process.pid):
                if pid != self.process.pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.process.wait()), grace_seconds)
        if self.process.returncode is None:
            kill_group(self.process.pid)
        for process in self._execs:
            if process.returncode is None:
                kill_group(process.pid)
        code = await self.wait()
        await asyncio.gather(*(process.wait() for process in self._execs))
        return code

    async def exec(self, argv: Sequence[str], env: Mapping[str, str] | None = None, tty: bool = False,
                   **options: Any) -> ExecProcess:
        """A process in the container's view (its env unless ``env`` is given), with pipes for stdin, stdout and
        stderr, or all three on a new pseudo-terminal with ``tty``. ``options`` go to create_subprocess_exec."""
        command = bwrap_argv(self.view, argv, self.env if env is None else env, self.bwrap)
        self._execs = [process for process in self._execs if process.returncode is None]  # only those to stop
        self.view.tmp.mkdir(parents=True, exist_ok=True)
        if not tty:
            pipe = asyncio.subprocess.PIPE
            process = await asyncio.create_subprocess_exec(
                *command, stdin=options.pop("stdin", pipe), stdout=options.pop("stdout", pipe),
                stderr=options.pop("stderr", pipe), start_new_session=True, preexec_fn=_default_signals, **options)
            self._execs.append(process)
            return ExecProcess(process)
        controller, terminal = pty.openpty()
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
                preexec_fn=_take_terminal, **options)  # which resets the signals too
        except BaseException:
            os.close(controller)
            raise
        finally:
            os.close(terminal)
        self._execs.append(process)
        return ExecProcess(process, controller)

    async def probe(self, argv: Sequence[str], timeout: float) -> bool:
        """An exec probe: whether ``argv`` exits 0 within ``timeout`` seconds (killed when it does not)."""
        started = await self.exec(argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                                  stderr=asyncio.subprocess.DEVNULL)
        try:
            return await asyncio.wait_for(started.process.wait(), timeout) == 0
        except asyncio.TimeoutError:
            kill_group(started.process.pid)
            await started.process.wait()
            return False
        finally:
            if started.process in self._execs:  # another exec may have dropped it once ended
                self._execs.remove(started.process)

    async def _read_lines(self, stream: str, reader: asyncio.StreamReader) -> None:
        pending = b""
        while chunk := await reader.read(_CHUNK):
            for listener in list(self._listeners):
                listener(stream, chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                self._deliver(stream, line)
        if pending:  # a last line without its newline
            self._deliver(stream, pending)

    def _deliver(self, stream: str, line: bytes) -> None:
        text = line.decode(errors="replace")
        if stream == "stderr" and text.startswith(_BWRAP_ERROR) and self.start_error is None:
            self.start_error = _start_error(text.removeprefix(_BWRAP_ERROR))  # the runtime's, not the pod log's
            return
        if self.on_line:
            self.on_line(stream, datetime.now(timezone.utc), text)


def _start_error(message: str) -> str:
    """bubblewrap's failure in the words of runc, which a kubelet shows in the container's state."""
    program, _, cause = message.removeprefix("execvp ").partition(": ")
    if message.startswith("execvp ") and cause == "No such file or directory":
        return f'exec: "{program}": executable file not found in $PATH'
    return message


def _default_signals() -> None:
    """In the child: the default action for every signal the emulator's process may ignore or handle (an ignored
    signal stays ignored across exec; SIGPIPE and SIGXFSZ are restored by subprocess itself)."""
    for sig in _RESET_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


_RESET_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2,
                  signal.SIGALRM, signal.SIGCHLD)


def _take_terminal() -> None:
    """In the child, a session leader already: reset the signals and make the pty on stdin its controlling
    terminal."""
    _default_signals()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def kill_group(pgid: int) -> None:
    """SIGKILL to every process of group ``pgid`` (none left is fine)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _group_members(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (from /proc)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == pgid:  # after the command: state, ppid, pgrp
            members.append(int(entry))
    return members
