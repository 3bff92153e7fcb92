"""A container running as local processes: one bubblewrap process tree in its own process group.

Stopping follows the kubelet: SIGTERM to the container's PID 1 (the program), then SIGKILL to the whole group when
the grace period ends; the PID namespace takes down whatever left the group. As in a cluster, a PID 1 without a
SIGTERM handler (``sleep``, a shell without ``trap``) ignores the SIGTERM and is killed when the grace period
ends (exit code 137). SIGTERM never goes to bubblewrap's own process: bubblewrap ends its namespace with SIGKILL as
soon as that process dies, which would deny the program its grace period.

A container's processes start with every signal's default action, as a container runtime starts them, whatever the
emulator's process ignores (started as a shell's background job, it ignores SIGINT and SIGQUIT): otherwise a
program that traps SIGINT, as KubernetesPodOperator's XCom sidecar does, would never get it.

``--die-with-parent`` ties a container to the thread that started it (the kernel's parent-death signal follows the
thread): start containers from the event loop's thread, which lives as long as the kubelet.

``exec`` runs a fresh bubblewrap with the container's view (same root, volumes, ``/tmp`` and working directory)
in the running container's PID namespace, rather than entering its mount namespace with nsenter: it needs no
privilege beyond what starting the container needs. Its processes see the container's (``ps``, ``kill 1``) and
end with it; there is no exec into a container that has ended, as with a container runtime.

``listen`` and ``stdin`` are what pods/attach reaches: the program's output as it comes, besides its lines, and its
stdin when the container was started with ``stdin=True`` (the container's ``stdin: true``; otherwise it reads
/dev/null, as a container without stdin reads nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import signal
import termios
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .sandboxing import ContainerView, JoinedNamespaces, bwrap_argv

SIGTERM_EXIT, SIGKILL_EXIT = 128 + signal.SIGTERM, 128 + signal.SIGKILL
START_ERROR_EXIT = 128  # what Kubernetes reports for a container whose program could not be started
_BWRAP_ERROR = "bwrap: "  # how bubblewrap's own failures start (before the program runs, on its stderr)
_CHUNK = 65536
STOPPED_MESSAGE = "cannot exec in a stopped container"  # what runc answers an exec into an ended container

# (stream, when, line): stream is "stdout" or "stderr", the line has no newline; the kubelet writes the pod log.
LineCallback = Callable[[str, datetime, str], None]
# (stream, chunk): the program's output as it is read, for those attached to the container.
OutputListener = Callable[[str, bytes], None]


@dataclass(frozen=True)
class ExecResult:
    code: int | None  # None: killed when its time was up
    stdout: bytes
    stderr: bytes


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
        self.init_pid: int | None = None  # the program, the container's PID 1, as the host numbers it
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
        info_read, info_write = os.pipe()
        try:
            self.process = await asyncio.create_subprocess_exec(
                *bwrap_argv(self.view, self.argv, self.env, self.bwrap, info_fd=info_write),
                stdin=asyncio.subprocess.PIPE if self.stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
                pass_fds=(info_write,), preexec_fn=_default_signals)
        finally:
            os.close(info_write)
        try:
            self.init_pid = await asyncio.to_thread(_child_pid, info_read)
        finally:
            os.close(info_read)
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
            if self.init_pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.init_pid, signal.SIGTERM)
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
        join = self._namespaces()
        fds = tuple(fd for fd in (join.pid, join.user) if fd is not None)
        try:
            command = bwrap_argv(self.view, argv, self.env if env is None else env, self.bwrap, join=join)
            self._execs = [process for process in self._execs if process.returncode is None]  # only those to stop
            self.view.tmp.mkdir(parents=True, exist_ok=True)
            if not tty:
                pipe = asyncio.subprocess.PIPE
                process = await asyncio.create_subprocess_exec(
                    *command, stdin=options.pop("stdin", pipe), stdout=options.pop("stdout", pipe),
                    stderr=options.pop("stderr", pipe), start_new_session=True, pass_fds=fds,
                    preexec_fn=_default_signals, **options)
                self._execs.append(process)
                return ExecProcess(process)
            controller, terminal = pty.openpty()
            try:
                process = await asyncio.create_subprocess_exec(
                    *command, stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
                    preexec_fn=_take_terminal, pass_fds=fds, **options)  # which resets the signals too
            except BaseException:
                os.close(controller)
                raise
            finally:
                os.close(terminal)
            self._execs.append(process)
            return ExecProcess(process, controller)
        finally:
            for fd in fds:
                os.close(fd)

    def _namespaces(self) -> JoinedNamespaces:
        """The running program's PID namespace (and user namespace, when not ours), opened; OSError once it
        ended."""
        if self.init_pid is None or self.process is None or self.process.returncode is not None:
            raise OSError(STOPPED_MESSAGE)
        try:
            pid = os.open(f"/proc/{self.init_pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise OSError(STOPPED_MESSAGE) from exc
        try:
            theirs = os.stat(f"/proc/{self.init_pid}/ns/user")
            ours = os.stat("/proc/self/ns/user")
            same = (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)
            user = None if same else os.open(f"/proc/{self.init_pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            os.close(pid)
            raise OSError(STOPPED_MESSAGE) from exc
        return JoinedNamespaces(pid, user)

    async def exec_sync(self, argv: Sequence[str], timeout: float | None = None) -> ExecResult:
        """Run ``argv`` in the container to its end, as a runtime's ExecSync does for the kubelet's exec probes and
        hooks: its exit code and output; killed, with no code, when it outlasts ``timeout`` seconds (or when the
        caller is cancelled). A container that has just ended answers as runc does (exit code 126)."""
        try:
            started = await self.exec(argv, stdin=asyncio.subprocess.DEVNULL)
        except OSError:
            return ExecResult(126, b"", STOPPED_MESSAGE.encode())
        process = started.process
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except (asyncio.TimeoutError, asyncio.CancelledError) as stopped:
            kill_group(process.pid)
            await asyncio.shield(process.wait())
            if isinstance(stopped, asyncio.CancelledError):
                raise
            return ExecResult(None, b"", b"")
        finally:
            if process in self._execs:  # another exec may have dropped it once ended
                self._execs.remove(process)
        code = process.returncode or 0
        return ExecResult(128 - code if code < 0 else code, stdout, stderr)

    async def probe(self, argv: Sequence[str], timeout: float) -> bool:
        """Whether ``argv`` exits 0 within ``timeout`` seconds (killed when it does not)."""
        return (await self.exec_sync(argv, timeout)).code == 0

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


def _child_pid(fd: int) -> int | None:
    """The ``child-pid`` bubblewrap writes on its info fd (read to its end: bubblewrap closes it once written);
    None when bubblewrap ended before starting the program."""
    data = b""
    while chunk := os.read(fd, _CHUNK):
        data += chunk
    try:
        return int(json.loads(data)["child-pid"])
    except (ValueError, KeyError, TypeError):
        return None
