"""Containers running for real under bubblewrap: what their processes see, their exit codes and output, and
stopping them without leaving a process behind."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from airflow_provider_sparkk8s.testing.runtime import ContainerView, LocalContainer, Mount, materialise_volumes

from .support import Logs, alive, bwrap, config_map, descendants, local_container, pod, reader, secret

READ = reader(config_map("settings", {"mode": "fast", "app.conf": "threads=4\n"}),
              secret("credentials", {"password": "s3cret"}))


def sh(name: str, script: str, **fields: object) -> dict:
    return {"name": name, "image": "busybox", "command": ["sh", "-c", script], **fields}


async def run(container: LocalContainer) -> int:
    await container.start()
    return await asyncio.wait_for(container.wait(), 30)


def test_init_container_writes_an_empty_dir_the_main_container_reads(tmp_path: Path) -> None:
    init = sh("init", "echo prepared > /work/data.txt", volumeMounts=[{"name": "work", "mountPath": "/work"}])
    main = sh("main", "cat /srv/data.txt; echo done >&2",
              volumeMounts=[{"name": "work", "mountPath": "/srv", "readOnly": True}])
    the_pod = pod([main], [{"name": "work", "emptyDir": {}}])
    the_pod["spec"]["initContainers"] = [init]
    volumes = materialise_volumes(the_pod, READ, tmp_path / "pod", tmp_path / "claims")
    logs = Logs()

    async def scenario() -> tuple[int, int]:
        first = await run(local_container(the_pod, init, volumes, tmp_path / "tmp-init"))
        second = await run(local_container(the_pod, main, volumes, tmp_path / "tmp-main", logs=logs))
        return first, second

    assert asyncio.run(scenario()) == (0, 0)
    assert logs.text("stdout") == ["prepared"] and logs.text("stderr") == ["done"]
    assert all(when.tzinfo is not None for _, when, _ in logs.lines)  # timestamps for the pod log


def test_config_map_and_secret_volumes_and_env_inside_the_container(tmp_path: Path) -> None:
    container = sh("c", "cat /etc/app/app.conf; cat /secrets/password; echo; echo $MODE $PASSWORD;"
                        " touch /etc/app/x 2>/dev/null || echo read-only",
                   env=[{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
                        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "credentials",
                                                                            "key": "password"}}}],
                   volumeMounts=[{"name": "conf", "mountPath": "/etc/app"},
                                 {"name": "creds", "mountPath": "/secrets"}])
    the_pod = pod([container], [{"name": "conf", "configMap": {"name": "settings"}},
                                {"name": "creds", "secret": {"secretName": "credentials"}}])
    volumes = materialise_volumes(the_pod, READ, tmp_path / "pod", tmp_path / "claims")
    logs = Logs()
    code = asyncio.run(run(local_container(the_pod, container, volumes, tmp_path / "tmp", READ, logs)))
    assert code == 0
    assert logs.text() == ["threads=4", "s3cret", "fast s3cret", "read-only"]


def test_each_container_has_its_own_tmp(tmp_path: Path) -> None:
    the_pod = pod([])
    write = [sh(name, f"echo {name} > /tmp/out.txt; sleep 0.2; cat /tmp/out.txt") for name in ("one", "two")]
    logs = [Logs(), Logs()]

    async def scenario() -> list[int]:
        containers = [local_container(the_pod, c, {}, tmp_path / c["name"], logs=log)
                      for c, log in zip(write, logs, strict=True)]
        for container in containers:
            await container.start()
        return [await container.wait() for container in containers]

    assert asyncio.run(scenario()) == [0, 0]
    assert [log.text() for log in logs] == [["one"], ["two"]]
    assert (tmp_path / "one" / "out.txt").read_text() == "one\n"  # the container's /tmp is its own host directory
    assert not Path("/tmp/out.txt").exists() or Path("/tmp/out.txt").read_text() not in ("one\n", "two\n")


def test_failing_command_exit_codes(tmp_path: Path) -> None:
    the_pod = pod([])

    async def scenario() -> list[int]:
        failing = local_container(the_pod, sh("c", "echo oops >&2; exit 3"), {}, tmp_path / "a")
        # A real fault: the kernel's SIGSEGV ends even a PID 1 (the program), which ignores a `kill -s SEGV 1`.
        killed = local_container(the_pod, sh("c", "python3 -c 'import ctypes; ctypes.string_at(0)'"), {},
                                 tmp_path / "b")
        # Kubernetes expands a command's $$ to $, so the shell's $$ is written $$$$.
        ignored = local_container(the_pod, sh("c", "kill -s SEGV $$$$; echo still here"), {}, tmp_path / "c")
        return [await run(failing), await run(killed), await run(ignored)]

    # a signal's exit code is 128 + its number, as Kubernetes shows it
    assert asyncio.run(scenario()) == [3, 139, 0]


def test_missing_program_is_a_start_error(tmp_path: Path) -> None:
    logs = Logs()
    container = local_container(pod([]), {"name": "c", "command": ["no-such-program"]}, {}, tmp_path / "tmp",
                                logs=logs)
    assert asyncio.run(run(container)) == 128
    assert container.start_error == 'exec: "no-such-program": executable file not found in $PATH'
    assert logs.lines == []  # the runtime's message is the container's state, not its log


def test_mounts_sub_paths_and_working_dir_never_write_to_the_host(tmp_path: Path) -> None:
    missing = Path("/opt/sparkk8s-runtime-test-mount")  # absent on the host; must stay absent
    assert not missing.exists()
    container = sh("c", "pwd; cat conf/app.conf; ls /data; echo hi > /data/new.txt",
                   workingDir=f"{missing}/work",
                   volumeMounts=[{"name": "conf", "mountPath": f"{missing}/work/conf"},
                                 {"name": "scratch", "mountPath": "/data", "subPath": "part"}])
    the_pod = pod([container], [{"name": "conf", "configMap": {"name": "settings"}},
                                {"name": "scratch", "emptyDir": {}}])
    volumes = materialise_volumes(the_pod, READ, tmp_path / "pod", tmp_path / "claims")
    logs = Logs()
    code = asyncio.run(run(local_container(the_pod, container, volumes, tmp_path / "tmp", READ, logs)))
    assert (code, logs.text()) == (0, [f"{missing}/work", "threads=4"])
    assert (volumes["scratch"].path / "part" / "new.txt").read_text() == "hi\n"
    assert not missing.exists() and (Path("/data").exists() is False or not Path("/data/new.txt").exists())


def test_root_filesystem_directory_is_the_root(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc" / "image-release").write_text("image 1.0\n")
    for directory in ("usr", "bin", "lib", "lib64", "sbin"):  # the host's programs, as the image's
        if Path(f"/{directory}").is_symlink():
            (rootfs / directory).symlink_to(Path(f"/{directory}").readlink())
        elif Path(f"/{directory}").exists():
            (rootfs / directory).mkdir()
    binds = [Mount(Path(f"/{d}"), f"/{d}", read_only=True) for d in ("usr", "lib", "lib64", "bin", "sbin")
             if Path(f"/{d}").is_dir() and not Path(f"/{d}").is_symlink()]
    view = ContainerView(tmp=tmp_path / "tmp", root=rootfs, mounts=tuple(binds))
    logs = Logs()
    container = LocalContainer(view, ["sh", "-c", "cat /etc/image-release; ls /etc"],
                               {"PATH": "/usr/bin:/bin"}, logs, bwrap=bwrap())
    assert asyncio.run(run(container)) == 0
    assert logs.text() == ["image 1.0", "image-release"]  # not the host's /etc


def test_stop_leaves_no_process_behind(tmp_path: Path) -> None:
    script = "sleep 300 & setsid sleep 301 & sleep 302"  # a background child, one in its own session, the main
    container = local_container(pod([]), sh("c", script), {}, tmp_path / "tmp")

    async def scenario() -> tuple[set[int], int]:
        await container.start()
        assert container.pid is not None
        processes: set[int] = set()
        for _ in range(100):  # until the three sleeps run
            processes = descendants(container.pid)
            commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in processes if alive(pid)]
            if sum(c.startswith(b"sleep") for c in commands) == 3:
                break
            await asyncio.sleep(0.05)
        # A process left behind would hold the output pipes open: wait() would never end.
        return processes, await asyncio.wait_for(container.stop(grace_seconds=1), 30)

    processes, code = asyncio.run(scenario())
    assert code == 137  # PID 1 (the shell, or the last sleep it exec'd) has no SIGTERM handler: killed at the end
    assert len(processes) >= 4  # bubblewrap, sh and the three sleeps (sh may exec the last one)
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in processes if alive(pid)] == []


def test_sigterm_ignored_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    container = local_container(pod([]), sh("c", "trap '' TERM; echo ready; sleep 300"), {}, tmp_path / "tmp")
    logs = Logs()
    container.on_line = logs

    async def scenario() -> tuple[int, float]:
        await container.start()
        while logs.text() != ["ready"]:
            await asyncio.sleep(0.02)
        started = time.monotonic()
        return await container.stop(grace_seconds=1), time.monotonic() - started

    code, took = asyncio.run(scenario())
    assert code == 137 and 0.9 < took < 10


def test_sigterm_handled_exits_with_the_program_code(tmp_path: Path) -> None:
    container = local_container(pod([]), sh("c", "trap 'echo bye; exit 0' TERM; echo ready; sleep 300 & wait"),
                                {}, tmp_path / "tmp")
    logs = Logs()
    container.on_line = logs

    async def scenario() -> int:
        await container.start()
        while logs.text() != ["ready"]:
            await asyncio.sleep(0.02)
        return await container.stop(grace_seconds=10)

    assert asyncio.run(scenario()) == 0
    assert logs.text() == ["ready", "bye"]


def test_exec_and_probe_see_the_container_files(tmp_path: Path) -> None:
    container_spec = sh("c", "echo state > /tmp/state; echo data > /vol/file; echo ready; sleep 300",
                        env=[{"name": "GREETING", "value": "hello"}],
                        volumeMounts=[{"name": "v", "mountPath": "/vol"}])
    the_pod = pod([container_spec], [{"name": "v", "emptyDir": {}}])
    volumes = materialise_volumes(the_pod, READ, tmp_path / "pod", tmp_path / "claims")
    logs = Logs()
    container = local_container(the_pod, container_spec, volumes, tmp_path / "tmp", logs=logs)

    async def scenario() -> tuple[bytes, int, bool, bool, bool, int]:
        await container.start()
        while logs.text() != ["ready"]:
            await asyncio.sleep(0.02)
        started = await container.exec(["sh", "-c", "cat /tmp/state /vol/file; echo $GREETING"])
        out, _ = await started.process.communicate()
        ready = await container.probe(["test", "-f", "/tmp/state"], timeout=5)
        not_ready = await container.probe(["test", "-f", "/tmp/absent"], timeout=5)
        slow = await container.probe(["sleep", "30"], timeout=0.5)
        return out, started.process.returncode or 0, ready, not_ready, slow, await container.stop(0)

    out, exec_code, ready, not_ready, slow, code = asyncio.run(scenario())
    assert (out, exec_code) == (b"state\ndata\nhello\n", 0)
    assert (ready, not_ready, slow) == (True, False, False)
    assert code == 137  # grace 0: killed at once


def test_exec_with_a_terminal(tmp_path: Path) -> None:
    container = local_container(pod([]), sh("c", "sleep 300"), {}, tmp_path / "tmp")

    async def scenario() -> bytes:
        await container.start()
        started = await container.exec(["sh", "-c", "test -t 0 && tty >/dev/null && echo on-a-terminal"], tty=True)
        assert started.terminal is not None
        await started.process.wait()
        output = os.read(started.terminal, 1024)
        os.close(started.terminal)
        await container.stop(0)
        return output

    assert asyncio.run(scenario()).strip() == b"on-a-terminal"


def test_a_container_starts_with_default_signal_actions_whatever_the_emulator_ignores(tmp_path: Path) -> None:
    """A container runtime starts a container's processes (and an exec's) with every signal's default action. An
    emulator started as a background job of a shell ignores SIGINT and SIGQUIT; a container must not inherit that,
    or KubernetesPodOperator's XCom sidecar (`trap "exit 0" INT`) would never end on the operator's `kill -2`."""
    import signal

    the_pod = pod([])
    script = sh("main", 'trap "echo got INT; exit 0" INT; echo ready; while true; do sleep 0.1; done')
    logs = Logs()

    async def scenario() -> tuple[int, str]:
        container = local_container(the_pod, script, {}, tmp_path, logs=logs)
        await container.start()
        deadline = time.monotonic() + 20
        while "ready" not in logs.text() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        probe = await container.exec(["sh", "-c", "grep SigIgn /proc/self/status"])
        ignored, _ = await probe.process.communicate()
        for pid in descendants(container.pid or 0):  # SIGINT to the container's shell, as `kill -2` would send it
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if cmdline.read().startswith(b"sh\0-c\0trap"):
                    os.kill(pid, signal.SIGINT)
        return await asyncio.wait_for(container.wait(), 20), ignored.decode()

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code, ignored = asyncio.run(scenario())
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (code, logs.text()) == (0, ["ready", "got INT"])
    # None of the standard signals (1-31) is ignored. Signal 32 is glibc's own (thread cancellation): no program can
    # handle it, Python cannot reset it, and a worker process may inherit it ignored.
    assert int(ignored.split()[1], 16) & ((1 << 31) - 1) == 0, ignored
