"""The local kubelet's pod workers: a pod whose images the sandbox's image mapping runs on this machine has its
containers run as local processes by the container runtime (``testing/runtime``) instead of being simulated.

The simulated kubelet (``kubelet.py``) decides which pods come here (``LocalPods.plan``), schedules them, and
hands over to ``LocalPod.run`` once the pod is bound; it calls ``LocalPod.stop`` for a deletion or a pod past its
``activeDeadlineSeconds``. A worker sees only what a node's kubelet sees: the API (``ApiClient``), the pod log
store (``PodLogs``), the registry of running containers (for pods/exec), the image mapping and its own directory.

What a pod goes through, as on a kubelet:

- an image the mapping does not list cannot be pulled: its container waits with ``ErrImagePull``, then
  ``ImagePullBackOff``, with the kubelet's Events, and the pod stays Pending;
- its volumes are set up (``FailedMount`` Events, retried with back-off, while one cannot be);
- the init containers run one after the other, each to success; then the containers start, one after the other
  as the kubelet starts them: each once the one before has started and its postStart hook is done;
- a container's postStart hook (``local_hooks``) runs right after it starts, and it is reported running only
  once the hook is done; a failing hook kills it (``FailedPostStartHook``). Its probes (``local_probes``), of
  every kind, set its ``started`` (startup) and ``ready`` (readiness), or kill it (startup, liveness). A kill, a
  deletion and a deadline run its preStop hook first, within the grace period;
- a container whose env cannot be resolved waits with ``CreateContainerConfigError`` (and an Event), retried;
- ``restartPolicy``: ``Never`` runs each container once; ``OnFailure`` restarts a failed one and ``Always`` any
  that ends, after a back-off that doubles from ``restart_backoff_seconds`` to 5 minutes (the container waits
  with ``CrashLoopBackOff`` meanwhile; ``restartCount`` and ``lastState`` tell what happened);
- the pod ends Succeeded when every container ended with 0 and none restarts, else Failed;
- its IP is a loopback address of its own (127.P.0.2 and up, in its emulator's block), and its logs are its
  containers' real output;
- its containers' ``/etc/hosts`` is the file the kubelet writes for the pod (its hostname, its hostAliases), where
  the Services' names stand in for the cluster DNS (``runtime/hosts.py``); it is rewritten as Services and their
  endpoints change (``refresh_hosts``), and the Services are reached through ``service_proxy``;
- its volumes and its ended containers' files stay until the pod is removed (``LocalPod.remove``), as on a node.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .. import errors
from ..pod_logs import PodLogs
from ..runtime import (
    ContainerView,
    LocalContainer,
    Mount,
    RunningContainers,
    RuntimeFailure,
    Volume,
    container_argv,
    container_env,
    managed_hosts,
    materialise_volumes,
    pod_hostname,
    program_mounts,
    rewrite_in_place,
    service_hosts,
    uses_cluster_dns,
    volume_mounts,
)
from ..store import now_rfc3339
from .base import ApiClient
from .local_hooks import run_hook
from .local_probes import LIVENESS, READINESS, STARTUP, Probe, keep_probing, try_probe
from .node_pods import NODE_IP, NodePods, condition
from .service_proxy import ServiceAddresses, proxy_address

MAX_BACKOFF = 300.0  # the kubelet's cap on the restart and pull back-offs
MIN_GRACE = 2.0  # what the kubelet leaves a container after its preStop hook, at the least
DEADLINE_REASON = "DeadlineExceeded"
ETC_HOSTS = "/etc/hosts"


class LocalImage(Protocol):
    """An entry of the sandbox's image mapping (``sandbox/config.py``'s ImageMapping), as the kubelet reads it."""

    @property
    def simulate(self) -> bool: ...

    @property
    def rootfs(self) -> Path | None: ...

    @property
    def entrypoint(self) -> tuple[str, ...] | None: ...

    @property
    def commands(self) -> dict[str, str]: ...

    @property
    def runs_locally(self) -> bool: ...

    @property
    def env(self) -> dict[str, str]: ...

    @property
    def mounts(self) -> dict[str, str]: ...

    @property
    def working_dir(self) -> str | None: ...


ImageLookup = Callable[[str], "LocalImage | None"]


@dataclass(frozen=True)
class Plan:
    """How the kubelet runs a pod: ``local`` (here), ``simulate``, or ``unpullable`` (``image`` is not mapped)."""

    how: str
    image: str = ""


def pod_images(pod: dict) -> list[str]:
    spec = pod.get("spec") or {}
    return [c.get("image", "") for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]]


class LocalPods:
    """The local kubelet's runtime side: decides which pods run here and makes their workers."""

    def __init__(self, api: ApiClient, logs: PodLogs, containers: RunningContainers, images: ImageLookup,
                 workdir: Path, node_name: str, bwrap: str = "bwrap", restart_backoff_seconds: float = 10.0,
                 pull_backoff_seconds: float = 10.0, service_addresses: ServiceAddresses = proxy_address) -> None:
        self.api, self.logs, self.containers, self.images = api, logs, containers, images
        self.addresses = service_addresses  # where a ClusterIP is reached (the proxy), and the pod IP block
        self.workdir, self.bwrap = workdir, bwrap
        self.node = NodePods(api, node_name)
        self.restart_backoff, self.pull_backoff = restart_backoff_seconds, pull_backoff_seconds
        self._ips: set[str] = set()
        self._with_hosts: dict[str, LocalPod] = {}  # by uid: the pods whose hosts file is kept current

    def plan(self, pod: dict) -> Plan:
        """A pod runs here when every image of it maps to an entry that runs locally; an entry that does not
        (``simulate: true``, or one that only maps Spark applications) leaves it simulated."""
        mappings = []
        for image in pod_images(pod):
            mapping = self.images(image)
            if mapping is None:
                return Plan("unpullable", image)
            mappings.append(mapping)
        if mappings and all(m.runs_locally and not m.simulate for m in mappings):
            return Plan("local")
        return Plan("simulate")

    def worker(self, pod: dict, plan: Plan) -> LocalPod:
        return LocalPod(self, pod, plan)

    def take_ip(self) -> str:
        """A loopback address no running local pod has, in this emulator's block (127.P.0.2 to 127.P.255.254)."""
        block = self.addresses.pod_block
        for n in range(2, 1 << 16):
            ip = f"127.{block}.{n >> 8 & 255}.{n & 255}"
            if ip not in self._ips and not ip.endswith(".255") and not ip.endswith(".0"):
                self._ips.add(ip)
                return ip
        raise RuntimeError("no loopback address left for a pod")

    def release_ip(self, ip: str) -> None:
        self._ips.discard(ip)

    def refresh_hosts(self) -> None:
        """Rewrite the running pods' hosts files: a Service or its endpoints changed."""
        if not self._with_hosts:
            return
        services, endpoints = self.api.list("v1", "Service"), self.api.list("v1", "Endpoints")
        for pod in list(self._with_hosts.values()):
            pod.write_hosts(services, endpoints)

    def hosts_text(self, pod: dict, ip: str, services: list[dict] | None = None,
                   endpoints: list[dict] | None = None) -> str:
        """The pod's hosts file: the kubelet's lines, then the Services' names when its DNS policy is the
        cluster's."""
        text = managed_hosts(pod, ip)
        if not uses_cluster_dns(pod):
            return text
        services = self.api.list("v1", "Service") if services is None else services
        endpoints = self.api.list("v1", "Endpoints") if endpoints is None else endpoints
        namespace = pod["metadata"].get("namespace", "default")
        return text + service_hosts(namespace, services, endpoints,
                                    lambda ns, name: self.api.get("v1", "Pod", ns, name), self.addresses)

    def keep_hosts(self, pod: LocalPod, keep: bool = True) -> None:
        if keep:
            self._with_hosts[pod.uid] = pod
        else:
            self._with_hosts.pop(pod.uid, None)


class LocalPod:
    """One pod's worker (see the module docstring)."""

    def __init__(self, runtime: LocalPods, pod: dict, plan: Plan) -> None:
        self.runtime, self.pod, self.plan = runtime, pod, plan
        self.node = runtime.node
        meta, spec = pod["metadata"], pod.get("spec") or {}
        self.namespace, self.name, self.uid = meta.get("namespace", "default"), meta["name"], meta["uid"]
        self.policy = spec.get("restartPolicy", "Always")
        self.inits: list[dict] = list(spec.get("initContainers") or [])
        self.mains: list[dict] = list(spec.get("containers") or [])
        self.specs = {c["name"]: c for c in [*self.inits, *self.mains]}
        self.ref = f"{self.name}_{self.namespace}({self.uid})"  # how the kubelet names the pod in its messages
        self.dir = runtime.workdir / "pods" / self.uid
        self.hosts = self.dir / "etc-hosts"  # where the kubelet keeps it
        self.ip = ""
        self.started = ""
        self.statuses: dict[str, dict] = {c["name"]: _status(c, {"waiting": {"reason": "PodInitializing"}})
                                          for c in self.inits}
        first = "PodInitializing" if self.inits else "ContainerCreating"  # what the main containers wait for
        self.statuses.update({c["name"]: _status(c, {"waiting": {"reason": first}}) for c in self.mains})
        self.initialized = not self.inits
        self.phase: str | None = None  # set when the pod is done
        self.failure: tuple[str, str] | None = None  # (reason, message) of a pod stopped past its deadline
        self.running: dict[str, LocalContainer] = {}
        self._stopping = asyncio.Event()
        self._sidecars_end = asyncio.Event()  # the containers ended: the sidecars stop
        self._started: dict[str, asyncio.Event] = {}  # by sidecar, set when it first starts
        self._starting = asyncio.Lock()  # the kubelet starts one container at a time, its postStart hook included
        self._hook_failures: dict[str, str] = {}  # by container: why its postStart hook failed, for its restart
        self._pre_stopped: set[LocalContainer] = set()  # those whose preStop hook ran (it runs once)

    # ------------------------------------------------------------------ the life of the pod
    async def run(self) -> None:
        """From a bound pod to its end (or until ``stop``); cleans up what it set up."""
        try:
            await self._live()
            if self.failure is not None and self.phase is None:  # stopped past its deadline
                self._finish("Failed")
        finally:
            await self._clean_up()

    async def _live(self) -> None:
        if self.plan.how == "unpullable":
            await self._cannot_pull(self.plan.image)
            return
        self._publish()
        self.ip = self.runtime.take_ip()  # downwardAPI volumes may show it
        volumes = await self._mount()
        if volumes is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self.write_hosts()
        self.runtime.keep_hosts(self)
        self.started = now_rfc3339()  # the pod sandbox (and its IP) once its volumes are there
        self._publish()
        sidecars: list[asyncio.Future] = []
        try:
            for container in self.inits:
                if _is_sidecar(container):  # started in its turn, it runs beside the next ones
                    sidecars.append(asyncio.ensure_future(self._keep(container, volumes, init=True)))
                    await self._first_start(container["name"], sidecars[-1])
                elif await self._keep(container, volumes, init=True) != 0:
                    await self._end_sidecars(sidecars)
                    if not self._stopping.is_set():
                        self._finish("Failed")
                    return
            self.initialized = True
            self._publish()
            codes = await asyncio.gather(*(self._keep(c, volumes) for c in self.mains))
        except asyncio.CancelledError:  # the pod is gone: the sidecars go too (their containers are killed)
            self._sidecars_end.set()
            for sidecar in sidecars:
                sidecar.cancel()
            raise
        await self._end_sidecars(sidecars)
        if not self._stopping.is_set():
            self._finish("Succeeded" if all(code == 0 for code in codes) else "Failed")

    async def _first_start(self, name: str, keeping: asyncio.Future) -> None:
        """Until the sidecar ``name`` has started once (or will not: the pod is stopping)."""
        started = asyncio.ensure_future(self._started.setdefault(name, asyncio.Event()).wait())
        await asyncio.wait({keeping, started}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()

    async def _end_sidecars(self, sidecars: list[asyncio.Future]) -> None:
        """Once the containers have ended, the sidecars are stopped (and not restarted)."""
        self._sidecars_end.set()
        if not self._stopping.is_set():  # a deletion stops them itself, after the containers (``stop``)
            await self._kill_sidecars(self._grace())
        await asyncio.gather(*sidecars, return_exceptions=True)

    async def stop(self, grace: float, failure: tuple[str, str] | None = None) -> None:
        """The preStop hooks, SIGTERM, SIGKILL when ``grace`` seconds are over, and no restart: for a deletion, or
        with ``failure`` (reason, message) for a pod past its deadline, which then ends Failed with them. The
        containers go first, then the sidecars (``_kill_sidecars``), all within ``grace``."""
        self.failure = self.failure or failure
        self._stopping.set()
        began = asyncio.get_running_loop().time()
        sidecars = {c["name"] for c in self.inits if _is_sidecar(c)}
        await asyncio.gather(*(self._kill(self.specs[name], container, grace)
                               for name, container in list(self.running.items()) if name not in sidecars),
                             return_exceptions=True)
        await self._kill_sidecars(grace - (asyncio.get_running_loop().time() - began) if grace > 0 else 0)

    async def _kill_sidecars(self, grace: float) -> None:
        """The sidecars that still run, one after the other in the reverse of their order in the spec, within
        ``grace`` seconds (each gets 2 s at least), as the kubelet stops them once a pod's containers have ended
        (Kubernetes 1.29 and later)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        for spec in reversed([c for c in self.inits if _is_sidecar(c)]):
            container = self.running.get(spec["name"])
            if container is not None:
                left = max(deadline - loop.time(), MIN_GRACE) if grace > 0 else 0
                await asyncio.gather(self._kill(spec, container, left), return_exceptions=True)

    async def _kill(self, spec: dict, container: LocalContainer, grace: float, message: str | None = None) -> int:
        """The kubelet's killContainer: a ``Killing`` Event with ``message``, the preStop hook within the grace
        period, then SIGTERM, and SIGKILL when what is left of the grace period (2 s at least after a hook) ends."""
        if message:
            self.node.event(self.pod, "Killing", message)
        hook = (spec.get("lifecycle") or {}).get("preStop")
        running_hook: asyncio.Future | None = None
        try:
            if hook and grace > 0 and container.exit_code is None and container not in self._pre_stopped:
                self._pre_stopped.add(container)
                loop = asyncio.get_running_loop()
                began = loop.time()
                running_hook = asyncio.ensure_future(run_hook(hook, container, spec, self.ip, self.ref))
                await asyncio.wait({running_hook}, timeout=grace)
                if running_hook.done() and (running_hook.exception() or running_hook.result() is not None):
                    self.node.event(self.pod, "FailedPreStopHook", "PreStopHook failed", "Warning")
                grace = max(grace - int(loop.time() - began), MIN_GRACE)  # the kubelet counts whole seconds
            return await container.stop(grace)
        finally:
            if running_hook is not None and not running_hook.done():  # still running when the time was up
                running_hook.cancel()
                await asyncio.gather(running_hook, return_exceptions=True)

    async def _clean_up(self) -> None:
        for name, container in list(self.running.items()):  # cancelled (the pod is gone, or the emulator stops)
            with contextlib.suppress(Exception):
                await asyncio.shield(container.stop(0))
            self.runtime.containers.discard(self.namespace, self.name, name, container)
        self.running.clear()
        self.runtime.keep_hosts(self, False)
        if self.ip:
            self.runtime.release_ip(self.ip)

    def write_hosts(self, services: list[dict] | None = None, endpoints: list[dict] | None = None) -> None:
        with contextlib.suppress(FileNotFoundError):  # the pod has just been removed
            rewrite_in_place(self.hosts, self.runtime.hosts_text(self.pod, self.ip, services, endpoints))

    def remove(self) -> None:
        """The pod is gone: its volumes and its ended containers' files go too."""
        self.runtime.containers.forget_pod(self.namespace, self.name, self.uid)
        shutil.rmtree(self.dir, ignore_errors=True)

    async def _cannot_pull(self, image: str) -> None:
        """The pull fails, then backs off, again and again: the pod stays Pending until it is deleted."""
        delay = self.runtime.pull_backoff
        while not self._stopping.is_set():
            self._wait_all(image, "ErrImagePull", self.node.image_pull_failed(self.pod, image))
            await asyncio.sleep(0.05)
            self._wait_all(image, "ImagePullBackOff", self.node.image_pull_backing_off(self.pod, image))
            if await self._sleep(delay):
                return
            delay = min(delay * 2, MAX_BACKOFF)

    def _wait_all(self, image: str, reason: str, message: str) -> None:
        """The containers of ``image`` wait with ``reason``; the others wait for them (init ones) or are
        created (main ones)."""
        for container in [*self.inits, *self.mains]:
            if container.get("image") == image:
                self.statuses[container["name"]]["state"] = {"waiting": {"reason": reason, "message": message}}
        self._publish()

    async def _mount(self) -> dict[str, Volume] | None:
        delay = 1.0
        while not self._stopping.is_set():
            try:
                read = self.runtime.api.get
                return materialise_volumes(self.pod, read, self.dir, self.runtime.workdir / "claims",
                                           (self.ip,), self._token)
            except RuntimeFailure as failure:
                self.node.event(self.pod, failure.reason, failure.message, "Warning")
            if await self._sleep(delay):
                return None
            delay = min(delay * 2, MAX_BACKOFF)
        return None

    def _token(self, audience: str | None, seconds: int) -> str:
        """A projected serviceAccountToken: a TokenRequest for the pod's ServiceAccount bound to the pod, as the
        kubelet's token manager asks for it (the API server's audiences when the source names none)."""
        meta = self.pod["metadata"]
        spec: dict = {"expirationSeconds": seconds,
                      "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]}}
        if audience:
            spec["audiences"] = [audience]
        account = (self.pod.get("spec") or {}).get("serviceAccountName") or "default"
        try:
            return self.runtime.api.create_token(meta.get("namespace", "default"), account, spec)["status"]["token"]
        except errors.ApiError as exc:
            raise ValueError(str(exc)) from exc

    async def _keep(self, spec: dict, volumes: dict[str, Volume], init: bool = False) -> int:
        """Run one container, restarting it as the restartPolicy says; its last exit code."""
        name, sidecar = spec["name"], _is_sidecar(spec)
        restarts, delay, code = 0, self.runtime.restart_backoff, 1
        while not self._ending(sidecar):
            try:
                container = self._create(spec, volumes)
            except RuntimeFailure as failure:
                self._waiting(name, failure.reason, failure.message)
                self.node.event(self.pod, "Failed", f"Error: {failure.message}", "Warning")
                if await self._sleep(delay, sidecar):
                    break
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            if restarts:
                self.runtime.logs.restarted(self.namespace, self.name, name)
            code = await self._run_once(spec, container, restarts)
            again = sidecar or self.policy == "Always" and not init or self.policy != "Never" and code != 0
            if self._ending(sidecar) or not again:
                return code
            status = self.statuses[name]
            status["lastState"] = status["state"]
            hook_failure = self._hook_failures.pop(name, None)
            if hook_failure is not None:  # the kubelet's reason until it next tries to start the container
                self._waiting(name, "PostStartHookError", hook_failure)
            else:
                self._waiting(name, "CrashLoopBackOff",
                              f"back-off {int(delay)}s restarting failed container={name} pod={self.ref}")
                self.node.event(self.pod, "BackOff", f"Back-off restarting failed container {name} in pod "
                                                     f"{self.ref}", "Warning")
            if await self._sleep(delay, sidecar):
                break
            delay = min(delay * 2, MAX_BACKOFF)
            restarts += 1
            status["restartCount"] = restarts
        return code

    def _create(self, spec: dict, volumes: dict[str, Volume]) -> LocalContainer:
        """The container as the runtime will run it: env, argv, volumes, view. Raises RuntimeFailure."""
        mapping = self.runtime.images(spec.get("image", ""))
        assert mapping is not None  # the plan saw every image mapped
        env = container_env(self.pod, spec, self.runtime.api.get, self.runtime.api.list("v1", "Service"),
                            image_env=mapping.env, pod_ips=(self.ip,), host_ips=(NODE_IP,),
                            service_address=self.runtime.addresses).variables
        programs = program_mounts(mapping.commands, env.get("PATH", ""), mapping.rootfs)
        commands = {**mapping.commands, **{name: mount.target for name, mount in programs.items()}}
        argv = container_argv(spec, env, mapping.entrypoint or (), commands=commands)
        mounts = (*volume_mounts(spec, volumes, env), *image_mounts(mapping.mounts), *programs.values())
        if not any(m.target.rstrip("/") == ETC_HOSTS for m in mounts):  # a volume there wins, as on a kubelet
            # Read-only where the kubelet mounts it writable: it is rewritten here as Services change.
            mounts += (Mount(self.hosts, ETC_HOSTS, read_only=True),)
        host_network = (self.pod.get("spec") or {}).get("hostNetwork")
        view = ContainerView(tmp=self.dir / "tmp" / spec["name"], mounts=mounts, root=mapping.rootfs,
                             working_dir=spec.get("workingDir") or mapping.working_dir or "/",
                             hostname=None if host_network else pod_hostname(self.pod))
        name = spec["name"]

        def log(stream: str, when: object, line: str) -> None:
            self.runtime.logs.append(self.namespace, self.name, name, line + "\n", stream)  # an empty line too
        return LocalContainer(view, argv, env, log, bwrap=self.runtime.bwrap)

    async def _run_once(self, spec: dict, container: LocalContainer, restarts: int) -> int:
        name, image, sidecar = spec["name"], spec.get("image", ""), _is_sidecar(spec)
        async with self._starting:  # until its postStart hook is done, the container is not reported running
            self.node.event(self.pod, "Pulled", f'Container image "{image}" already present on machine')
            self.node.event(self.pod, "Created", f"Created container {name}")
            container_id = f"containerd://{uuid.uuid4().hex}"
            started = now_rfc3339()
            try:
                await container.start()
            except OSError as exc:  # bubblewrap itself could not be started
                return self._terminated(name, container_id, started, 128, "StartError", str(exc))
            started_at = asyncio.get_running_loop().time()
            self.running[name] = container
            self.runtime.containers.add(self.namespace, self.name, name, container)
            self.node.event(self.pod, "Started", f"Started container {name}")
            hook_failure = None
            if self._ending(sidecar):  # stopped while it was starting: it is not to run
                await container.stop(0)
            else:
                hook_failure = await self._post_start(spec, container)
            if hook_failure is not None:  # the container is killed, and restarts as the restartPolicy says
                self.node.event(self.pod, "FailedPostStartHook", "PostStartHook failed", "Warning")
                await self._kill(spec, container, self._grace(), "FailedPostStartHook")
                self._hook_failures[name] = hook_failure
                return self._ended(name, container, container_id, started, await container.wait())
        status = self.statuses[name]
        run_once = not sidecar and name not in {c["name"] for c in self.mains}  # a plain init container
        startup = None if run_once else Probe.of(STARTUP, spec.get("startupProbe"))
        readiness = None if run_once else Probe.of(READINESS, spec.get("readinessProbe"))
        status.update(containerID=container_id, started=startup is None,
                      ready=startup is None and readiness is None and not run_once,
                      state={"running": {"startedAt": started}})
        self._publish()
        if startup is None:
            self._started.setdefault(name, asyncio.Event()).set()
        probes, kills = ([], []) if run_once else self._probe(spec, container, started_at, startup, readiness)
        try:
            code = await container.wait()
        finally:
            for probe in probes:
                probe.cancel()
        await asyncio.gather(*kills, return_exceptions=True)
        return self._ended(name, container, container_id, started, code)

    async def _post_start(self, spec: dict, container: LocalContainer) -> str | None:
        """Run the container's postStart hook, if it has one, unless the pod stops meanwhile; why it failed."""
        hook = (spec.get("lifecycle") or {}).get("postStart")
        if not hook:
            return None
        running = asyncio.ensure_future(run_hook(hook, container, spec, self.ip, self.ref))
        ending = [asyncio.ensure_future(self._stopping.wait())]
        if _is_sidecar(spec):
            ending.append(asyncio.ensure_future(self._sidecars_end.wait()))
        await asyncio.wait({running, *ending}, return_when=asyncio.FIRST_COMPLETED)
        for end in ending:
            end.cancel()
        if not running.done():  # the pod is stopping: the container is killed anyway
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            return None
        return running.result()

    def _ended(self, name: str, container: LocalContainer, container_id: str, started: str, code: int) -> int:
        """The container has ended with ``code``: it is no longer running; its terminated state."""
        self.running.pop(name, None)
        self.runtime.containers.discard(self.namespace, self.name, name, container)  # no exec into an ended one
        self.runtime.containers.ended(self.namespace, self.name, self.uid, name, container.view)
        if container.start_error is not None:
            self.node.event(self.pod, "Failed", f"Error: {container.start_error}", "Warning")
            return self._terminated(name, container_id, started, code, "StartError", container.start_error)
        return self._terminated(name, container_id, started, code, "Completed" if code == 0 else "Error")

    def _probe(self, spec: dict, container: LocalContainer, started_at: float, startup: Probe | None,
               readiness: Probe | None) -> tuple[list[asyncio.Future], list[asyncio.Future]]:
        """The container's probes (``local_probes``): the startup probe sets its ``started``, the readiness probe
        its ``ready``; a failing startup or liveness probe kills it (then it restarts as the restartPolicy says).
        The probes' tasks, and the kills they started."""
        name = spec["name"]
        status = self.statuses[name]
        tasks: list[asyncio.Future] = []
        kills: list[asyncio.Future] = []
        started = asyncio.Event()

        def warn(reason: str, message: str) -> None:
            self.node.event(self.pod, reason, message, "Warning")

        def probing(probe: Probe, changed: Callable[[bool], None]) -> None:
            attempt = lambda: try_probe(probe, container, spec, self.ip)  # noqa: E731
            tasks.append(asyncio.ensure_future(keep_probing(probe, attempt, started_at, started, warn, changed)))

        def killing(probe: Probe, what: str) -> Callable[[bool], None]:
            def changed(ok: bool) -> None:
                if ok or self._ending(_is_sidecar(spec)):
                    return
                again = ", will be restarted" if _is_sidecar(spec) or self.policy != "Never" else ""
                grace = self._grace() if probe.termination_grace is None else probe.termination_grace
                kills.append(asyncio.ensure_future(
                    self._kill(spec, container, grace, f"Container {name} failed {what} probe{again}")))
            return changed

        def ready(ok: bool) -> None:
            if "running" in status["state"] and status["started"] and status["ready"] != ok:
                status["ready"] = ok
                self._publish()

        if startup is None:
            started.set()
        else:
            kill_on_startup_failure = killing(startup, "startup")

            def on_startup(ok: bool) -> None:
                if not ok:
                    kill_on_startup_failure(ok)
                elif "running" in status["state"]:
                    status.update(started=True, ready=readiness is None)
                    self._publish()
                    started.set()
                    self._started.setdefault(name, asyncio.Event()).set()
            probing(startup, on_startup)
        if readiness is not None:
            probing(readiness, ready)
        liveness = Probe.of(LIVENESS, spec.get("livenessProbe"))
        if liveness is not None:
            probing(liveness, killing(liveness, "liveness"))
        return tasks, kills

    def _terminated(self, name: str, container_id: str, started: str, code: int, reason: str,
                    message: str | None = None) -> int:
        state = {"exitCode": code, "reason": reason, **({"message": message} if message else {}),
                 "startedAt": started, "finishedAt": now_rfc3339(), "containerID": container_id}
        self.statuses[name].update(ready=False, started=False, state={"terminated": state})
        self._publish()
        return code

    def _waiting(self, name: str, reason: str, message: str) -> None:
        self.statuses[name].update(ready=False, started=False,
                                   state={"waiting": {"reason": reason, "message": message}})
        self._publish()

    def _grace(self) -> float:
        """The pod's terminationGracePeriodSeconds (30 by default)."""
        grace = (self.pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        return 30.0 if grace is None else float(grace)

    def _ending(self, sidecar: bool = False) -> bool:
        """Whether the pod is stopping (or, for a sidecar, its containers have ended)."""
        return self._stopping.is_set() or sidecar and self._sidecars_end.is_set()

    async def _sleep(self, seconds: float, sidecar: bool = False) -> bool:
        """Wait ``seconds``; True when the pod is being stopped meanwhile (a sidecar: or its containers ended)."""
        ends = [asyncio.ensure_future(self._stopping.wait())]
        if sidecar:
            ends.append(asyncio.ensure_future(self._sidecars_end.wait()))
        await asyncio.wait(ends, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for end in ends:
            end.cancel()
        return self._ending(sidecar)

    # ------------------------------------------------------------------ status
    def _finish(self, phase: str) -> None:
        self.phase = phase
        self._publish()

    def _publish(self) -> None:
        """Write the pod's status as this worker knows it."""
        mains = [self.statuses[c["name"]] for c in self.mains]
        ready = self.phase is None and all("running" in s["state"] and s["ready"] for s in mains)
        done_reason = "PodCompleted" if self.phase else None
        phase = self.phase or ("Running" if self.initialized and any(
            "waiting" not in s["state"] or s.get("restartCount") for s in mains) else "Pending")
        failure = self.failure if self.phase else None

        def update(status: dict) -> None:
            status.update(
                phase=phase, hostIP=NODE_IP, hostIPs=[{"ip": NODE_IP}],
                conditions=[condition("PodScheduled"), condition("Initialized", _bool(self.initialized)),
                            condition("ContainersReady", _bool(ready), None if ready else done_reason),
                            condition("Ready", _bool(ready), None if ready else done_reason)],
                containerStatuses=mains)
            if self.started:
                status.update(podIP=self.ip, podIPs=[{"ip": self.ip}], startTime=self.started)
            if self.inits:
                status["initContainerStatuses"] = [self.statuses[c["name"]] for c in self.inits]
            if failure:
                status.update(reason=failure[0], message=failure[1])
        self.node.write_status(self.pod, update)


def image_mounts(mounts: dict[str, str]) -> list[Mount]:
    """The local directories the image mapping shows in the image's containers (created when missing)."""
    for local in mounts.values():
        Path(local).mkdir(parents=True, exist_ok=True)
    return [Mount(Path(local), target) for target, local in mounts.items()]


def _status(container: dict, state: dict) -> dict:
    return {"name": container["name"], "image": container.get("image", ""),
            "imageID": f"docker.io/{container.get('image', '')}@sha256:" + "0" * 64, "ready": False,
            "started": False, "restartCount": 0, "state": state}


def _is_sidecar(container: dict) -> bool:
    """A restartable init container (``restartPolicy: Always`` on an init container)."""
    return container.get("restartPolicy") == "Always"


def _bool(value: bool) -> str:
    return "True" if value else "False"
