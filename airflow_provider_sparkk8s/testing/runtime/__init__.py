"""The container runtime of the sandbox's local kubelet: it runs a pod's containers as processes on this machine.

What runs on the host: each container's command, as Kubernetes resolves it (``command``), with the environment
Kubernetes gives it (``env``), as the user the emulator runs as (root in CI). Its image's programs are either the
host's own (sh, coreutils, python3: images mapped with ``run: host``) or those of a directory given as the image's
root filesystem.

How it is confined (``sandboxing``): bubblewrap gives each container a mount namespace, where its volumes
(``volumes``) appear at their mountPaths, ``/tmp`` is its own and ``/etc/hosts`` is the pod's (``hosts``), and a
PID namespace, so that stopping it leaves no process behind (``container``), and its pod's hostname. That is all:
the network, users and the rest of the host's filesystem are shared with the host, and no resource limit (CPU, memory,
ephemeral storage) is enforced. A pod can read and write whatever the emulator's user can.
"""

from .command import container_argv, program_mounts
from .container import (
    SIGKILL_EXIT,
    SIGTERM_EXIT,
    START_ERROR_EXIT,
    ExecProcess,
    ExecResult,
    LineCallback,
    LocalContainer,
    OutputListener,
    kill_group,
)
from .env import ContainerEnv, ServiceAddress, container_env, service_link_env
from .errors import ContainerConfigFailure, ContainerCreateFailure, MountFailure, RuntimeFailure
from .expansion import expand
from .hosts import managed_hosts, pod_hostname, rewrite_in_place, service_hosts, uses_cluster_dns
from .running import RunningContainers
from .sandboxing import ContainerView, Mount, bwrap_argv, volume_mounts
from .volumes import ObjectReader, Volume, materialise_volumes, remove_pod_volumes

__all__ = [
    "SIGKILL_EXIT", "SIGTERM_EXIT", "START_ERROR_EXIT", "ContainerConfigFailure", "ContainerCreateFailure",
    "ContainerEnv", "ContainerView", "ExecProcess", "ExecResult", "LineCallback", "LocalContainer", "Mount",
    "MountFailure", "ObjectReader", "OutputListener", "RunningContainers", "RuntimeFailure", "ServiceAddress",
    "Volume", "bwrap_argv", "container_argv", "container_env", "expand", "kill_group", "managed_hosts",
    "materialise_volumes", "pod_hostname", "program_mounts", "remove_pod_volumes", "rewrite_in_place",
    "service_hosts", "service_link_env", "uses_cluster_dns", "volume_mounts",
]
