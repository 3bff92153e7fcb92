"""The logs of the pods the local kubelet runs, as kubectl reads them from a kubelet (pods/log): what the container
really printed, followed while it runs, and cut by --tail, --limit-bytes, --since-time and --timestamps."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl, try_kubectl, wait_for
from tests.sandbox.local_kubelet import create, finished, pod, state_dir


def test_kubectl_logs_follow_shows_lines_as_the_container_prints_them(kube: KubeEmulator, core, tmp_path: Path
                                                                      ) -> None:
    """`kubectl logs -f` prints what is there, waits for more while the container runs, and exits 0 when it ends."""
    create(kube, state_dir(pod("talker", "echo first; while [ ! -e /state/go ]; do sleep 0.05; done; echo second"),
                           tmp_path))
    # Until the container has started, kubectl logs fails ("is waiting to start: ContainerCreating").
    wait_for(lambda: try_kubectl(kube, "logs", "talker").stdout == "first\n", timeout=20, what="the first line")
    follow = subprocess.Popen(["kubectl", "--kubeconfig", str(kube.kubeconfig_path), "logs", "-f", "talker"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline() == "first\n"
        assert follow.poll() is None  # still following: the container runs on
        (tmp_path / "go").touch()
        assert follow.stdout.readline() == "second\n"
        assert follow.wait(20) == 0
    finally:
        follow.kill()
    assert finished(core, "talker").status.phase == "Succeeded"


def test_kubectl_logs_options_cut_the_real_log(kube: KubeEmulator, core) -> None:
    """--tail, --limit-bytes and --timestamps as the kubelet applies them; --since-time keeps the lines written at
    or after that second (sinceTime has a second's precision), here the one printed 1.5 s later."""
    create(kube, pod("counter", "for i in 1 2 3 4; do echo line $i; done; sleep 1.5; echo late"))
    finished(core, "counter")
    assert kubectl(kube, "logs", "counter").stdout == "line 1\nline 2\nline 3\nline 4\nlate\n"
    assert kubectl(kube, "logs", "counter", "--tail=2").stdout == "line 4\nlate\n"
    assert kubectl(kube, "logs", "counter", "--limit-bytes=9").stdout == "line 1\nli"
    stamped = kubectl(kube, "logs", "counter", "--timestamps").stdout.splitlines()
    times = [datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00")[:26] + "+00:00") for line in stamped]
    assert [line.split(" ", 1)[1] for line in stamped] == ["line 1", "line 2", "line 3", "line 4", "late"]
    assert times == sorted(times) and (times[-1] - times[-2]).total_seconds() > 1
    since = times[-1].replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert kubectl(kube, "logs", "counter", f"--since-time={since}").stdout == "late\n"
