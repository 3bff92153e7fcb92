"""Simulated pods: a kubelet-like controller that moves pods through a realistic life, writes their logs
and Events, and lets Spark driver pods start executor pods they own.

What a pod does is chosen per pod by annotations (or by rules set from Python, which win):

  emulator.sparkk8s.io/outcome          succeeded (default) | failed | oomkilled | unschedulable |
                                        imagepullbackoff | running (never finishes)
  emulator.sparkk8s.io/exit-code        exit code of a failed container (default 1)
  emulator.sparkk8s.io/run-seconds      how long the containers run (default: the emulator's pod_run_seconds)
  emulator.sparkk8s.io/pending-seconds  how long the pod waits before it is scheduled
  emulator.sparkk8s.io/log              log text the containers write while they run
  emulator.sparkk8s.io/executors        executor pods a `spark-role=driver` pod starts (default:
                                        spark.executor.instances from its Spark conf map, else 2)

Pods end Succeeded or Failed whatever their restartPolicy: the simulator runs each container once.

A registered container program (`PodSimulator.add_program`) can take over what a running pod's container
does, e.g. spark-submit in a launcher pod: it writes the log and its exit code ends the pod. An outcome set
explicitly (annotation or `behave`) still wins: such a pod runs its timer and the program never starts.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from . import errors
from .store import now_rfc3339

if TYPE_CHECKING:
    from .emulator import KubeEmulator
    from .resources import ResourceType

ANNOTATION_PREFIX = "emulator.sparkk8s.io/"
OUTCOMES = ("succeeded", "failed", "oomkilled", "unschedulable", "imagepullbackoff", "running")
NODE_NAME = "emulator-node"
NODE_IP = "127.0.0.1"  # the node's InternalIP, which is every pod's hostIP


@dataclass
class PodBehaviour:
    outcome: str = "succeeded"
    exit_code: int | None = None
    run_seconds: float | None = None
    pending_seconds: float | None = None
    log: str | None = None
    executors: int | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {self.outcome!r}")

    @classmethod
    def from_annotations(cls, annotations: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(cls):
            raw = annotations.get(ANNOTATION_PREFIX + f.name.replace("_", "-"))
            if raw is None:
                continue
            try:
                if f.name in ("exit_code", "executors"):
                    out[f.name] = int(raw)
                elif f.name in ("run_seconds", "pending_seconds"):
                    out[f.name] = float(raw)
                else:
                    out[f.name] = raw.strip().lower() if f.name == "outcome" else raw
            except ValueError:
                continue  # a malformed annotation falls back to the default, as unknown annotations do
        return out


@dataclass
class _Rule:
    name: str | None
    namespace: str | None
    labels: dict[str, str]
    match: Callable[[dict], bool] | None
    behaviour: dict[str, Any]

    def applies(self, pod: dict) -> bool:
        meta = pod["metadata"]
        if self.name and not fnmatch.fnmatchcase(meta["name"], self.name):
            return False
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        labels = meta.get("labels") or {}
        if any(labels.get(k) != v for k, v in self.labels.items()):
            return False
        return self.match is None or bool(self.match(pod))


@dataclass
class _PodLogs:
    lines: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class ContainerProgram(Protocol):
    """What a pod's container runs when it is more than a timer.

    `claims` sees a pod when it starts running; the first program that claims it gets `run`, which
    writes the container's log through `log` and returns its exit code (None: the program never exits,
    e.g. its pod was deleted). `behaviour` is the pod's simulated behaviour (run_seconds, log, ...).
    """

    def claims(self, pod: dict) -> bool: ...

    async def run(self, pod: dict, log: Callable[[str], None], behaviour: PodBehaviour) -> int | None: ...


class PodSimulator:
    def __init__(self, emulator: KubeEmulator, enabled: bool = True) -> None:
        self.emu = emulator
        self.enabled = enabled
        self._rules: list[_Rule] = []
        self._logs: dict[tuple[str, str], _PodLogs] = {}
        self._tasks: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._programs: list[ContainerProgram] = []

    # ------------------------------------------------------------------ public Python API
    def behave(self, name: str | None = None, namespace: str | None = None, labels: dict[str, str] | None = None,
               match: Callable[[dict], bool] | None = None, **behaviour: Any) -> None:
        """Make pods created from now on that match (name glob, namespace, labels, predicate) behave so."""
        PodBehaviour(**behaviour)  # validate now, at the caller
        self._rules.insert(0, _Rule(name, namespace, labels or {}, match, behaviour))

    def clear_behaviours(self) -> None:
        self._rules.clear()

    def add_program(self, program: ContainerProgram) -> None:
        """Let `program` run the containers of the pods it claims (see ContainerProgram)."""
        self._programs.append(program)

    def _program_for(self, pod: dict) -> ContainerProgram | None:
        annotations = pod["metadata"].get("annotations") or {}
        if ANNOTATION_PREFIX + "outcome" in annotations:
            return None
        rule = next((r for r in self._rules if r.applies(pod)), None)
        if rule is not None and "outcome" in rule.behaviour:
            return None
        return next((p for p in self._programs if p.claims(pod)), None)

    def logs(self, namespace: str, name: str, container: str | None = None) -> str:
        """The log text the emulator holds for a pod's container (the first container by default)."""
        entry = self._logs.get((namespace, name))
        if entry is None:
            return ""
        container = container or next(iter(entry.lines), "")
        return "".join(line + "\n" for _, line in entry.lines.get(container, []))

    def write_log(self, namespace: str, name: str, text: str, container: str | None = None) -> None:
        """Append log lines to a pod's container from any thread."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._append, namespace, name, container, text)

    # ------------------------------------------------------------------ wiring
    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.emu.store.add_listener(self._on_change)

    @property
    def _pods_rt(self) -> ResourceType:
        return self.emu.store.registry.core("pods")

    def _on_change(self, event_type: str, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if rt.plural != "pods" or self._loop is None:
            return
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if event_type == "ADDED":
            self._loop.call_soon_threadsafe(self._on_added, obj)
        elif event_type == "DELETED":
            self._loop.call_soon_threadsafe(self._on_deleted, key)
        else:
            self._loop.call_soon_threadsafe(self._wake, key)

    def _on_added(self, pod: dict) -> None:
        key = (pod["metadata"].get("namespace", ""), pod["metadata"]["name"])
        self._logs[key] = _PodLogs()
        if self.enabled:
            task = asyncio.ensure_future(self._simulate(pod))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _on_deleted(self, key: tuple[str, str]) -> None:
        entry = self._logs.pop(key, None)
        if entry is not None:
            entry.notify()

    def _wake(self, key: tuple[str, str]) -> None:
        entry = self._logs.get(key)
        if entry is not None:
            entry.notify()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------ the life of a pod
    def _behaviour(self, pod: dict) -> PodBehaviour:
        settings = PodBehaviour.from_annotations(pod["metadata"].get("annotations") or {})
        for rule in self._rules:
            if rule.applies(pod):
                settings.update(rule.behaviour)
                break
        try:
            behaviour = PodBehaviour(**settings)
        except ValueError:
            settings.pop("outcome", None)
            behaviour = PodBehaviour(**settings)
        if behaviour.run_seconds is None:
            behaviour.run_seconds = self.emu.pod_run_seconds
        if behaviour.pending_seconds is None:
            behaviour.pending_seconds = self.emu.pod_pending_seconds
        return behaviour

    def _current(self, pod: dict) -> dict | None:
        meta = pod["metadata"]
        current = self.emu.store.try_get(self._pods_rt, meta.get("namespace"), meta["name"])
        if current is None or current["metadata"]["uid"] != meta["uid"]:
            return None
        return current

    def _write_status(self, pod: dict, mutate: Callable[[dict], None]) -> dict | None:
        current = self._current(pod)
        if current is None:
            return None
        status = current.get("status") or {}
        mutate(status)
        current["status"] = status
        try:
            return self.emu.store.replace(self._pods_rt, current["metadata"].get("namespace"),
                                          current["metadata"]["name"], current, subresource="status")
        except errors.ApiError:
            return None

    def _event(self, pod: dict, reason: str, message: str, type_: str = "Normal", component: str = "kubelet") -> None:
        meta = pod["metadata"]
        now = now_rfc3339()
        ev_rt = self.emu.store.registry.core("events")
        try:
            self.emu.store.create(ev_rt, meta.get("namespace"), {
                "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": meta.get("namespace")},
                "involvedObject": {"kind": "Pod", "apiVersion": "v1", "namespace": meta.get("namespace"),
                                   "name": meta["name"], "uid": meta["uid"]},
                "reason": reason, "message": message, "type": type_,
                "source": {"component": component, **({"host": NODE_NAME} if component == "kubelet" else {})},
                "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                "reportingComponent": component, "reportingInstance": NODE_NAME,
            })
        except errors.ApiError:
            pass  # the namespace is going away

    async def _simulate(self, pod: dict) -> None:
        b = self._behaviour(pod)
        containers = [c["name"] for c in pod["spec"].get("containers") or []]
        images = {c["name"]: c.get("image", "") for c in pod["spec"].get("containers") or []}
        inits = [c["name"] for c in pod["spec"].get("initContainers") or []]
        await asyncio.sleep(b.pending_seconds or 0)
        if self._current(pod) is None:
            return
        if b.outcome == "unschedulable":
            message = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No " \
                      "preemption victims found for incoming pod."
            self._write_status(pod, lambda s: s.update(conditions=[{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
                "lastTransitionTime": now_rfc3339(), "lastProbeTime": None}]))
            self._event(pod, "FailedScheduling", message, "Warning", "default-scheduler")
            return
        current = self._current(pod)
        if current is None:
            return
        try:
            self.emu.store.bind(current["metadata"].get("namespace", ""), current["metadata"]["name"],
                                {"target": {"kind": "Node", "name": NODE_NAME}})
        except errors.ApiError:
            return
        self._event(pod, "Scheduled", f"Successfully assigned {pod['metadata'].get('namespace')}/"
                                      f"{pod['metadata']['name']} to {NODE_NAME}", component="default-scheduler")

        def waiting(reason: str, message: str | None = None) -> list[dict]:
            return [{"name": c, "image": images[c], "imageID": "", "ready": False, "restartCount": 0,
                     "started": False, "state": {"waiting": {"reason": reason, **({"message": message} if message
                                                                                   else {})}}}
                    for c in containers]

        self._write_status(pod, lambda s: s.update(
            hostIP=NODE_IP, hostIPs=[{"ip": NODE_IP}],
            conditions=[_cond("PodScheduled"), _cond("Initialized", "True" if not inits else "False"),
                        _cond("ContainersReady", "False"), _cond("Ready", "False")],
            containerStatuses=waiting("ContainerCreating"),
            **({"initContainerStatuses": [{"name": c, "ready": False, "restartCount": 0, "image": "",
                                            "imageID": "", "state": {"waiting": {"reason": "PodInitializing"}}}
                                           for c in inits]} if inits else {})))
        if b.outcome == "imagepullbackoff":
            image = images[containers[0]] if containers else ""
            self._event(pod, "Pulling", f'Pulling image "{image}"')
            self._event(pod, "Failed", f'Failed to pull image "{image}": rpc error: code = NotFound desc = '
                                       f'failed to pull and unpack image "{image}": not found', "Warning")
            self._event(pod, "Failed", "Error: ErrImagePull", "Warning")
            self._write_status(pod, lambda s: s.update(containerStatuses=waiting(
                "ErrImagePull", f'failed to pull and unpack image "{image}": not found')))
            await asyncio.sleep(0.05)
            self._event(pod, "BackOff", f'Back-off pulling image "{image}"', "Warning")
            self._event(pod, "Failed", "Error: ImagePullBackOff", "Warning")
            self._write_status(pod, lambda s: s.update(containerStatuses=waiting(
                "ImagePullBackOff", f'Back-off pulling image "{image}"')))
            return
        started = now_rfc3339()
        for c in containers:
            self._event(pod, "Pulled", f'Container image "{images[c]}" already present on machine')
            self._event(pod, "Created", f"Created container {c}")
            self._event(pod, "Started", f"Started container {c}")
        pod_ip = f"10.244.0.{(hash(pod['metadata']['uid']) % 250) + 2}"
        self._write_status(pod, lambda s: s.update(
            phase="Running", podIP=pod_ip, podIPs=[{"ip": pod_ip}], startTime=started,
            conditions=[_cond("PodScheduled"), _cond("Initialized"), _cond("ContainersReady"), _cond("Ready")],
            containerStatuses=[{"name": c, "image": images[c], "imageID": f"docker.io/{images[c]}@sha256:" + "0" * 64,
                                "containerID": f"containerd://{uuid.uuid4().hex}", "ready": True, "started": True,
                                "restartCount": 0, "state": {"running": {"startedAt": started}}}
                               for c in containers],
            **({"initContainerStatuses": [{"name": c, "ready": True, "restartCount": 0, "image": "", "imageID": "",
                                            "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                                     "startedAt": started, "finishedAt": started}}}
                                           for c in inits]} if inits else {})))
        executors = await self._start_executors(pod, b)
        program = self._program_for(pod)
        if program is not None:
            # The program writes the log and decides when the container ends; its exit code is the outcome.
            ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
            code = await program.run(pod, lambda text: self._append(ns, name, None, text), b)
            if code is None:
                return
            b = replace(b, outcome="succeeded" if code == 0 else "failed", exit_code=code, log="", run_seconds=0)
        lines = (b.log if b.log is not None else self._default_log(pod, b)).splitlines()
        run = float(b.run_seconds or 0)
        step = run / (len(lines) + 1) if lines else run
        for line in lines:
            await asyncio.sleep(step)
            if self._current(pod) is None:
                return
            for c in containers:
                self._append(pod["metadata"].get("namespace", ""), pod["metadata"]["name"], c, line)
        await asyncio.sleep(step if lines else run)
        if b.outcome == "running" or self._current(pod) is None:
            return
        code, reason = {"succeeded": (0, "Completed"), "oomkilled": (137, "OOMKilled")}.get(
            b.outcome, (b.exit_code if b.exit_code is not None else 1, "Error"))
        if b.outcome == "failed" and code == 0:
            code = 1
        finished = now_rfc3339()
        phase = "Succeeded" if code == 0 else "Failed"
        self._write_status(pod, lambda s: s.update(
            phase=phase,
            conditions=[_cond("PodScheduled"), _cond("Initialized"),
                        _cond("ContainersReady", "False", "PodCompleted"), _cond("Ready", "False", "PodCompleted")],
            containerStatuses=[{**cs, "ready": False, "started": False, "state": {"terminated": {
                "exitCode": code, "reason": reason, "startedAt": started, "finishedAt": finished,
                "containerID": cs.get("containerID", "")}}} for cs in s.get("containerStatuses") or []]))
        for name in executors:
            try:
                self.emu.store.delete(self._pods_rt, pod["metadata"].get("namespace"), name)
            except errors.ApiError:
                pass

    def _default_log(self, pod: dict, b: PodBehaviour) -> str:
        name = pod["metadata"]["name"]
        if (pod["metadata"].get("labels") or {}).get("spark-role") == "driver":
            app = (pod["metadata"].get("labels") or {}).get("spark-app-selector", name)
            end = ("INFO SparkContext: Successfully stopped SparkContext" if b.outcome == "succeeded" else
                   "ERROR SparkContext: Error initializing SparkContext.")
            return (f"INFO SparkContext: Running Spark version 4.0.1\n"
                    f"INFO SparkContext: Submitted application: {app}\n"
                    f"INFO KubernetesClusterSchedulerBackend: emulated driver {name}\n{end}")
        return f"emulated container started in pod {name}\nemulated container finished ({b.outcome})"

    async def _start_executors(self, driver: dict, b: PodBehaviour) -> list[str]:
        labels = driver["metadata"].get("labels") or {}
        if labels.get("spark-role") != "driver":
            return []
        count = b.executors if b.executors is not None else self._conf_executors(driver)
        ns, name = driver["metadata"].get("namespace"), driver["metadata"]["name"]
        prefix = re.sub(r"-driver$", "", name)
        image = (driver["spec"].get("containers") or [{}])[0].get("image", "")
        created = []
        for i in range(1, count + 1):
            exec_name = f"{prefix}-exec-{i}"[:253]
            try:
                self.emu.store.create(self._pods_rt, ns, {
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {
                        "name": exec_name,
                        "labels": {"spark-app-selector": labels.get("spark-app-selector", ""),
                                   "spark-app-name": labels.get("spark-app-name", ""),
                                   "spark-role": "executor", "spark-exec-id": str(i)},
                        "annotations": {ANNOTATION_PREFIX + "outcome": "running"},
                        "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": name,
                                             "uid": driver["metadata"]["uid"], "controller": True}],
                    },
                    "spec": {"restartPolicy": "Never",
                             "containers": [{"name": "spark-kubernetes-executor", "image": image,
                                             "args": ["executor"]}]},
                })
                created.append(exec_name)
            except errors.ApiError:
                continue
        return created

    def _conf_executors(self, driver: dict) -> int:
        cm_rt = self.emu.store.registry.core("configmaps")
        for vol in driver["spec"].get("volumes") or []:
            cm_name = (vol.get("configMap") or {}).get("name")
            if not cm_name:
                continue
            cm = self.emu.store.try_get(cm_rt, driver["metadata"].get("namespace"), cm_name)
            for text in ((cm or {}).get("data") or {}).values():
                m = re.search(r"^spark\.executor\.instances\s*[=:]\s*(\d+)", str(text), re.M)
                if m:
                    return int(m.group(1))
        return 2

    # ------------------------------------------------------------------ logs
    def _append(self, namespace: str, name: str, container: str | None, text: str) -> None:
        entry = self._logs.get((namespace, name))
        if entry is None:
            return
        if container is None:
            pod = self.emu.store.try_get(self._pods_rt, namespace, name)
            container = ((pod or {}).get("spec", {}).get("containers") or [{"name": ""}])[0]["name"]
        now = datetime.now(timezone.utc)
        for line in text.splitlines():
            entry.lines.setdefault(container, []).append((now, line))
        entry.notify()

    async def serve_log(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        q = request.query
        pod = self.emu.store.get(self._pods_rt, namespace, name)
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
        state = _container_state(pod, container)
        if "waiting" in state or not state:
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

        entry = self._logs.get((namespace, name)) or _PodLogs()
        lines = [e for e in entry.lines.get(container, []) if since is None or e[0] > since]
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        if not follow:
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
                current = self._logs.get((namespace, name))
                if current is not entry:
                    break  # the pod was deleted
                all_lines = entry.lines.get(container, [])
                if len(all_lines) > position:
                    chunk, position = render(all_lines[position:]), len(all_lines)
                    continue
                pod_now = self.emu.store.try_get(self._pods_rt, namespace, name)
                if pod_now is None or "terminated" in _container_state(pod_now, container):
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


def _cond(kind: str, status: str = "True", reason: str | None = None) -> dict:
    cond = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": now_rfc3339()}
    if reason:
        cond["reason"] = reason
    return cond


def _container_state(pod: dict, container: str) -> dict:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == container:
            return cs.get("state") or {}
    return {}
