"""Pod logs, as a node's container runtime keeps them: lines per container, written by the kubelet and the
container programs it runs, read by the API server's ``pods/log`` (with follow) and by the Argo controller and
Argo Server. A pod's logs go when the pod goes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from aiohttp import web

from . import errors
from .controllers.base import ApiClient

PodKey = tuple[str, str]  # (namespace, name)


@dataclass
class _Entry:
    lines: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    previous: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)  # a restarted container's last run
    stderr: dict[str, set[int]] = field(default_factory=dict)  # which lines of the current run came from stderr
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class PodLogs:
    """Log lines of the pods that exist (it watches pods through `api`), on the emulator's loop."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._entries: dict[PodKey, _Entry] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.api.watch("v1", "Pod", self._on_pod, loop)

    def _on_pod(self, event_type: str, pod: dict, old: dict | None) -> None:
        key = (pod["metadata"].get("namespace", ""), pod["metadata"]["name"])
        if event_type == "ADDED":
            self._entries.setdefault(key, _Entry())
            return
        entry = self._entries.pop(key, None) if event_type == "DELETED" else self._entries.get(key)
        if entry is not None:
            entry.notify()  # a follower looks again: the container may have ended, or the pod gone

    # ------------------------------------------------------------------ writing
    def append(self, namespace: str, name: str, container: str | None, text: str, stream: str = "stdout") -> None:
        """Append lines (on the loop); `container` None is the pod's first container. The runtime's log records
        which stream each line came from (``stream``), as a CRI log file does."""
        entry = self._entries.get((namespace, name))
        if entry is None:
            return  # no such pod (any more)
        if container is None:
            pod = self.api.get("v1", "Pod", namespace, name)
            container = ((pod or {}).get("spec", {}).get("containers") or [{"name": ""}])[0]["name"]
        now = datetime.now(timezone.utc)
        lines = entry.lines.setdefault(container, [])
        for line in text.splitlines():
            if stream == "stderr":
                entry.stderr.setdefault(container, set()).add(len(lines))
            lines.append((now, line))
        entry.notify()

    def restarted(self, namespace: str, name: str, container: str) -> None:
        """The container starts again: its log so far becomes the previous one (``kubectl logs --previous``)."""
        entry = self._entries.get((namespace, name))
        if entry is not None:
            entry.previous[container] = entry.lines.pop(container, [])
            entry.stderr.pop(container, None)
            entry.notify()

    def write(self, namespace: str, name: str, text: str, container: str | None = None) -> None:
        """Append lines from any thread."""
        assert self._loop is not None, "the emulator is not running"
        self._loop.call_soon_threadsafe(self.append, namespace, name, container, text)

    # ------------------------------------------------------------------ reading
    def text(self, namespace: str, name: str, container: str | None = None, stdout_only: bool = False) -> str:
        """The log text of a pod's container (the first container by default); ``stdout_only``: without the
        lines the program wrote to stderr (what Argo's executor reads as a script's result)."""
        entry = self._entries.get((namespace, name))
        if entry is None:
            return ""
        container = container or next(iter(entry.lines), "")
        skip = entry.stderr.get(container, set()) if stdout_only else set()
        return "".join(line + "\n" for i, (_, line) in enumerate(entry.lines.get(container, [])) if i not in skip)

    async def serve(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        """GET .../pods/{name}/log: container, tailLines, sinceSeconds, sinceTime, limitBytes, timestamps,
        follow."""
        q = request.query
        pod = self.api.get("v1", "Pod", namespace, name)
        if pod is None:
            raise errors.not_found("pods", name)
        spec = pod.get("spec") or {}
        containers = [c["name"] for c in spec.get("containers") or []]
        inits = [c["name"] for c in spec.get("initContainers") or []]
        container = q.get("container")
        if not container:
            if len(containers) != 1:
                raise errors.bad_request(f"a container name must be specified for pod {name}, choose one of: "
                                         f"[{' '.join(containers)}]" + (f" or one of the init containers: "
                                                                         f"[{' '.join(inits)}]" if inits else ""))
            container = containers[0]
        if container not in containers and container not in inits:
            raise errors.bad_request(f"container {container} is not valid for pod {name}")
        state = container_state(pod, container)
        previous = q.get("previous", "").lower() in ("1", "true")
        if previous:
            entry = self._entries.get((namespace, name)) or _Entry()
            if container not in entry.previous:
                raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        elif "waiting" in state or not state:
            reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
            raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        try:
            tail = int(q["tailLines"]) if q.get("tailLines") else None
            since = None
            if q.get("sinceSeconds"):
                since = datetime.now(timezone.utc) - timedelta(seconds=int(q["sinceSeconds"]))
            elif q.get("sinceTime"):
                since = datetime.fromisoformat(q["sinceTime"].replace("Z", "+00:00"))
            limit = int(q["limitBytes"]) if q.get("limitBytes") else None
        except ValueError as exc:
            raise errors.bad_request(f"invalid log options: {exc}") from exc
        timestamps = q.get("timestamps", "").lower() in ("1", "true")
        follow = q.get("follow", "").lower() in ("1", "true")

        def render(entries: list[tuple[datetime, str]]) -> bytes:
            out = []
            for ts, line in entries:
                prefix = ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace("Z", "000Z") + " " if timestamps else ""
                out.append(prefix + line + "\n")
            return "".join(out).encode()

        entry = self._entries.get((namespace, name)) or _Entry()
        run = entry.previous[container] if previous else entry.lines.get(container, [])
        lines = [e for e in run if since is None or e[0] > since]
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        if not follow or previous:  # a previous run has ended: nothing to follow
            body = render(lines)
            return web.Response(body=body[:limit] if limit is not None else body, content_type="text/plain")
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        sent_bytes = 0
        position = len(entry.lines.get(container, []))
        try:
            chunk = render(lines)
            while True:
                if chunk:
                    if limit is not None:
                        chunk = chunk[: max(0, limit - sent_bytes)]
                    await resp.write(chunk)
                    sent_bytes += len(chunk)
                    if limit is not None and sent_bytes >= limit:
                        break
                if self._entries.get((namespace, name)) is not entry:
                    break  # the pod was deleted
                all_lines = entry.lines.get(container, [])
                if len(all_lines) > position:
                    chunk, position = render(all_lines[position:]), len(all_lines)
                    continue
                pod_now = self.api.get("v1", "Pod", namespace, name)
                if pod_now is None or "terminated" in container_state(pod_now, container):
                    break
                changed = entry.changed
                try:
                    await asyncio.wait_for(changed.wait(), timeout=30)
                except asyncio.TimeoutError:
                    pass
                chunk = b""
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp


def container_state(pod: dict, container: str) -> dict:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == container:
            return cs.get("state") or {}
    return {}
