"""The lifecycle hooks of a local container, run as the kubelet's handler runner runs them (pkg/kubelet/lifecycle):

- ``exec``: the command in the container, with no time limit of its own; it fails when it exits non-zero;
- ``httpGet``: a GET as a probe's (``User-Agent: kube-lifecycle/1.32``), with no time limit of its own; it fails
  only when no response comes (the kubelet does not look at the status code);
- ``sleep``: waits ``seconds``;
- ``tcpSocket`` is accepted by the API but not run by the kubelet: the hook fails.

The kubelet's messages say why a hook failed; its Events do not carry them (``PostStartHook failed``,
``PreStopHook failed``), but a restarting container waits with reason ``PostStartHookError`` and the message.
"""

from __future__ import annotations

import asyncio
import json

from ..runtime import LocalContainer
from .local_actions import ActionError, HttpError, action_headers, action_url, get


async def run_hook(handler: dict, container: LocalContainer, spec: dict, pod_ip: str, pod_ref: str) -> str | None:
    """Run the lifecycle ``handler`` of the container ``spec`` (running as ``container``); None when it succeeded,
    else the kubelet's message. ``pod_ref`` names the pod as the kubelet does (``name_namespace(uid)``)."""
    name = spec["name"]
    if (exec_action := handler.get("exec")) is not None:
        command = list(exec_action.get("command") or [])
        done = await container.exec_sync(command)
        if done.code == 0:
            return None
        stderr = done.stderr.decode(errors="replace")
        error = f"command '{' '.join(command)}' exited with {done.code}: {stderr}"
        output = (done.stdout + done.stderr).decode(errors="replace")
        return (f'Exec lifecycle hook ([{" ".join(command)}]) for Container "{name}" in Pod "{pod_ref}" failed - '
                f"error: {error}, message: {json.dumps(output)}")
    if (http := handler.get("httpGet")) is not None:
        try:
            await get(action_url(http, spec, pod_ip), action_headers(http, "lifecycle"), None)
        except (HttpError, ActionError) as exc:
            return (f'HTTP lifecycle hook ({http.get("path", "")}) for Container "{name}" in Pod "{pod_ref}" '
                    f"failed - error: {exc}")
        return None
    if (sleep := handler.get("sleep")) is not None:
        await asyncio.sleep(float(sleep.get("seconds") or 0))
        return None
    return f"Cannot run handler: invalid handler: {json.dumps(handler)}"
