"""Why a container cannot be set up, in the words a kubelet reports it."""

from __future__ import annotations


class RuntimeFailure(Exception):
    """A failure the kubelet reports with ``reason`` (a waiting reason or an Event reason) and the message."""

    reason = "RuntimeFailure"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MountFailure(RuntimeFailure):
    """A volume cannot be set up: the pod stays ContainerCreating, with a FailedMount Event of this message."""

    reason = "FailedMount"

    def __init__(self, volume: str, cause: str) -> None:
        super().__init__(f'MountVolume.SetUp failed for volume "{volume}" : {cause}')


class ContainerConfigFailure(RuntimeFailure):
    """The container's env cannot be resolved: it waits with reason CreateContainerConfigError."""

    reason = "CreateContainerConfigError"


class ContainerCreateFailure(RuntimeFailure):
    """The runtime cannot create the container (no command to run): it waits with reason CreateContainerError."""

    reason = "CreateContainerError"
