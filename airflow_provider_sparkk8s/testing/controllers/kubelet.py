"""A simulated kubelet (and scheduler) for one node: it moves pods through a realistic life, writes their logs
and Events, and lets Spark driver pods start executor pods they own.

Each pod gets a worker (a task, as the kubelet's pod workers): Pending for pending-seconds, bound to the node,
containers created and Running, then Succeeded or Failed after the run time (see ``pod_behaviour`` for the knobs
and ``container_commands`` for the run time read from the first container's command: the containers of a pod
share one timeline). Pods end Succeeded or Failed whatever their restartPolicy: each container runs once.

- ``spec.activeDeadlineSeconds``: a pod still running that long after it started is stopped and Failed with
  reason ``DeadlineExceeded``.
- Deletion: the API server only marks a pod that may run (``deletionTimestamp``); the kubelet then stops its
  containers (SIGTERM: a timer container stops at once, or after its stop-seconds; a container program stops
  when it sees the mark; whatever still runs when the grace period ends is killed) and then deletes the pod with
  a grace period of 0.

Given a ``LocalPods`` (the sandbox's image mapping), a pod whose images all run locally is scheduled here and then
run by its local worker (``local_pods``): real processes, real exit codes, restarts; a pod with an image the
mapping does not list fails to pull it. Deletion and the deadline stop such a pod through its worker.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from .. import errors
from ..pod_logs import PodLogs
from ..store import now_rfc3339
from .base import ApiClient, Controller, Key
from .container_commands import FOREVER, run_seconds
from .local_pods import LocalPod, LocalPods
from .node_pods import NODE_IP, NODE_NAME, NodePods, condition
from .pod_behaviour import ANNOTATION_PREFIX, ContainerProgram, ContainerPrograms, PodBehaviour, PodBehaviours

SIGTERM_EXIT, SIGKILL_EXIT = 143, 137
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


@dataclass
class KubeletSettings:
    run_seconds: float = 0.5  # a container whose command says nothing readable runs this long
    pending_seconds: float = 0.1
    stop_seconds: float = 0.0  # how long a timer container takes to stop on SIGTERM (stop-seconds overrides)
    node_name: str = NODE_NAME


class _PodWorker:
    """What the kubelet runs for one pod (by uid)."""

    def __init__(self, uid: str) -> None:
        self.uid = uid
        self.behaviour = PodBehaviour()
        self.life: asyncio.Task | None = None
        self.program_running = False
        self.program_code: int | None = None
        self.stopping: asyncio.Task | None = None  # past its deadline
        self.deleting: asyncio.Task | None = None  # marked for deletion
        self.grace: float = 0.0  # the grace period the deletion works with
        self.deadline: asyncio.TimerHandle | None = None
        self.local: LocalPod | None = None  # its containers run on this machine (``local_pods``)

    def kill(self) -> None:
        """The pod is gone (or the kubelet stops): stop what runs for it and remove what it left."""
        for task in (self.life, self.stopping, self.deleting):
            if task is not None:
                task.cancel()
        if self.deadline is not None:
            self.deadline.cancel()
        local = self.local
        if local is not None:
            if self.life is None or self.life.done():
                local.remove()
            else:  # once its containers are stopped
                self.life.add_done_callback(lambda _: local.remove())


class Kubelet(Controller):
    api_version = "v1"
    kind = "Pod"

    def __init__(self, api: ApiClient, logs: PodLogs, behaviours: PodBehaviours, programs: ContainerPrograms,
                 settings: KubeletSettings | None = None, enabled: bool = True) -> None:
        super().__init__(api)
        self.logs = logs
        self.behaviours = behaviours
        self.programs = programs
        self.settings = settings or KubeletSettings()
        self.enabled = enabled
        self.local: LocalPods | None = None  # given: pods whose images run locally are run, not simulated
        self._workers: dict[Key, _PodWorker] = {}
        self.node = NodePods(api, self.settings.node_name)

    async def stop(self) -> None:
        workers = list(self._workers.values())
        for worker in workers:
            worker.kill()
        tasks = [t for w in workers for t in (w.life, w.stopping, w.deleting) if t is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        await super().stop()

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: Key) -> float | None:
        pod = self.api.get("v1", "Pod", key.namespace, key.name)
        worker = self._workers.get(key)
        if worker is not None and (pod is None or pod["metadata"]["uid"] != worker.uid):
            worker.kill()  # gone (or replaced by a pod of the same name): its containers go with it
            del self._workers[key]
            worker = None
        if pod is None or not self.enabled:
            return None
        meta = pod["metadata"]
        if worker is None:
            if meta.get("deletionTimestamp"):
                self._finish_deletion(pod)  # marked before this kubelet ever ran it
                return None
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return None
            worker = self._workers[key] = _PodWorker(meta["uid"])
            worker.local = self._local_worker(pod)
            worker.life = asyncio.ensure_future(self._live(pod, worker))
        grace = float(meta.get("deletionGracePeriodSeconds") or 0)
        if meta.get("deletionTimestamp") and (worker.deleting is None or grace < worker.grace):
            if worker.deleting is not None:
                worker.deleting.cancel()  # a later DELETE shortened the grace period: stop sooner
            worker.grace = grace
            worker.deleting = asyncio.ensure_future(self._terminate(pod, worker))
        return None

    def _local_worker(self, pod: dict) -> LocalPod | None:
        """The local worker of a pod that runs (or fails to pull its images) on this machine; None: simulated.
        A pod with an explicit simulated outcome stays simulated."""
        if self.local is None or "outcome" in self.behaviours.explicit(pod):
            return None
        plan = self.local.plan(pod)
        return None if plan.how == "simulate" else self.local.worker(pod, plan)

    # ------------------------------------------------------------------ stopping
    async def _stop_containers(self, worker: _PodWorker, grace: float) -> int:
        """SIGTERM, then SIGKILL when the grace period ends; the exit code the containers end with."""
        life = worker.life
        if worker.local is not None and life is not None and not life.done():
            await worker.local.stop(grace)
            await asyncio.wait({life}, timeout=5)  # it writes the containers' ends
        if life is None or life.done():
            return worker.program_code if worker.program_code is not None else SIGTERM_EXIT
        if worker.program_running:  # a program stops by itself when it sees the deletion
            if grace > 0:
                await asyncio.wait({life}, timeout=grace)
            killed = not life.done()
        else:  # a timer container stops after its stop-seconds
            stop = float(self.settings.stop_seconds if worker.behaviour.stop_seconds is None
                         else worker.behaviour.stop_seconds)
            if min(stop, grace) > 0:
                await asyncio.wait({life}, timeout=min(stop, grace))
            killed = stop > grace
        life.cancel()
        await asyncio.gather(life, return_exceptions=True)
        if killed:
            return SIGKILL_EXIT
        return worker.program_code if worker.program_code is not None else SIGTERM_EXIT

    async def _terminate(self, pod: dict, worker: _PodWorker) -> None:
        if worker.deadline is not None:
            worker.deadline.cancel()
        if worker.stopping is not None:  # already stopping, past its deadline: then the pod goes
            await asyncio.gather(worker.stopping, return_exceptions=True)
        current = self._current(pod)
        if current is not None and (current.get("status") or {}).get("phase") == "Running":
            for c in current["spec"].get("containers") or []:
                self._event(pod, "Killing", f"Stopping container {c['name']}")
        await self._stop_containers(worker, worker.grace)
        self._finish_deletion(pod)

    def _finish_deletion(self, pod: dict) -> None:
        """Delete the pod for good, once its containers have stopped: watchers see the deletion mark (MODIFIED)
        and then DELETED, never a terminal phase of a pod someone deleted."""
        if self._current(pod) is None:
            return
        try:
            self.api.delete("v1", "Pod", pod["metadata"].get("namespace"), pod["metadata"]["name"],
                            grace_period_seconds=0, uid=pod["metadata"]["uid"])
        except errors.ApiError:  # replaced meanwhile (uid precondition): not ours to delete
            pass

    def _start_deadline(self, pod: dict, worker: _PodWorker) -> None:
        seconds = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        if seconds is None:
            return
        loop = asyncio.get_running_loop()
        worker.deadline = loop.call_later(max(0.0, float(seconds)), self._deadline_exceeded, pod, worker)

    def _deadline_exceeded(self, pod: dict, worker: _PodWorker) -> None:
        current = self._current(pod)
        if current is None or current["metadata"].get("deletionTimestamp") or worker.deleting is not None:
            return
        if (current.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return

        async def stop() -> None:
            self._event(pod, "DeadlineExceeded", DEADLINE_MESSAGE, "Warning")
            grace = float((pod.get("spec") or {}).get("terminationGracePeriodSeconds") or 30)
            if worker.local is not None:  # it writes the pod's end itself, from the containers' real ones
                await worker.local.stop(grace, ("DeadlineExceeded", DEADLINE_MESSAGE))
                return
            code = await self._stop_containers(worker, grace)
            self._write_status(pod, lambda s: _terminated(s, code, "Error" if code else "Completed", phase="Failed",
                                                          reason="DeadlineExceeded", message=DEADLINE_MESSAGE))

        worker.stopping = asyncio.ensure_future(stop())

    # ------------------------------------------------------------------ the life of a pod
    def _behaviour(self, pod: dict) -> tuple[PodBehaviour, bool, bool]:
        """The pod's behaviour with defaults filled in, whether its containers run until stopped, and whether
        their run time was read from their command."""
        b, explicit = self.behaviours.resolve(pod)
        forever = from_command = False
        if b.run_seconds is None:
            b.run_seconds = self.settings.run_seconds
            containers = pod["spec"].get("containers") or []
            # Explicit knobs win over the command. The pod lives as long as its first (main) container: later
            # ones are taken as sidecars that stop with it, e.g. the XCom sidecar KubernetesPodOperator adds,
            # which loops until killed.
            read = run_seconds(containers[0]) if containers and not explicit & {"outcome", "run_seconds"} else None
            from_command = read is not None
            if read == FOREVER:
                forever = True
            elif read is not None:
                b.run_seconds = read
        if b.pending_seconds is None:
            b.pending_seconds = self.settings.pending_seconds
        return b, forever or b.outcome == "running", from_command

    def _program_for(self, pod: dict) -> ContainerProgram | None:
        if "outcome" in self.behaviours.explicit(pod):
            return None
        return self.programs.for_pod(pod)

    def _current(self, pod: dict) -> dict | None:
        return self.node.current(pod)

    def _write_status(self, pod: dict, mutate: Callable[[dict], None]) -> dict | None:
        return self.node.write_status(pod, mutate)

    def _event(self, pod: dict, reason: str, message: str, type_: str = "Normal", component: str = "kubelet") -> None:
        self.node.event(pod, reason, message, type_, component)

    async def _live(self, pod: dict, worker: _PodWorker) -> None:
        b, forever, from_command = self._behaviour(pod)
        worker.behaviour = b
        node = self.settings.node_name
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
        if self._current(pod) is None:
            return
        try:  # as the scheduler does: pods/binding (an update may not change spec.nodeName)
            self.api.bind(pod["metadata"].get("namespace", ""), pod["metadata"]["name"], node)
        except errors.ApiError:  # deleted meanwhile
            return
        self._event(pod, "Scheduled", f"Successfully assigned {pod['metadata'].get('namespace')}/"
                                      f"{pod['metadata']['name']} to {node}", component="default-scheduler")
        self._start_deadline(pod, worker)
        if worker.local is not None:
            await worker.local.run()
            if worker.deadline is not None:
                worker.deadline.cancel()
            return

        def waiting(reason: str, message: str | None = None) -> list[dict]:
            return [{"name": c, "image": images[c], "imageID": "", "ready": False, "restartCount": 0,
                     "started": False, "state": {"waiting": {"reason": reason, **({"message": message} if message
                                                                                   else {})}}}
                    for c in containers]

        self._write_status(pod, lambda s: s.update(
            hostIP=NODE_IP, hostIPs=[{"ip": NODE_IP}],
            conditions=[condition("PodScheduled"), condition("Initialized", "True" if not inits else "False"),
                        condition("ContainersReady", "False"), condition("Ready", "False")],
            containerStatuses=waiting("ContainerCreating"),
            **({"initContainerStatuses": [{"name": c, "ready": False, "restartCount": 0, "image": "",
                                            "imageID": "", "state": {"waiting": {"reason": "PodInitializing"}}}
                                           for c in inits]} if inits else {})))
        if b.outcome == "imagepullbackoff":
            image = images[containers[0]] if containers else ""
            message = self.node.image_pull_failed(pod, image)
            self._write_status(pod, lambda s: s.update(containerStatuses=waiting("ErrImagePull", message)))
            await asyncio.sleep(0.05)
            message = self.node.image_pull_backing_off(pod, image)
            self._write_status(pod, lambda s: s.update(containerStatuses=waiting("ImagePullBackOff", message)))
            await asyncio.Future()  # pulls again and again, until deleted or past its deadline
        started = now_rfc3339()
        for c in containers:
            self._event(pod, "Pulled", f'Container image "{images[c]}" already present on machine')
            self._event(pod, "Created", f"Created container {c}")
            self._event(pod, "Started", f"Started container {c}")
        pod_ip = f"10.244.0.{(hash(pod['metadata']['uid']) % 250) + 2}"
        self._write_status(pod, lambda s: s.update(
            phase="Running", podIP=pod_ip, podIPs=[{"ip": pod_ip}], startTime=started,
            conditions=[condition("PodScheduled"), condition("Initialized"), condition("ContainersReady"),
                        condition("Ready")],
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
        ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
        if program is not None:
            # The program writes the log and decides when the container ends; its exit code is the outcome.
            worker.program_running = True
            code = await program.run(pod, lambda text: self.logs.append(ns, name, None, text), b)
            worker.program_running, worker.program_code = False, code
            if code is None or self._stopping(pod):
                return
            b, forever, from_command = replace(b, outcome="succeeded" if code == 0 else "failed", exit_code=code,
                                               log="", run_seconds=0), False, False
        run = float(b.run_seconds or 0)
        lines = (b.log if b.log is not None else self._default_log(
            pod, b, from_command and (forever or run > self.settings.run_seconds))).splitlines()
        # A command's long run shows its log at the start, as such a program would, not spread over hours.
        span = min(run, self.settings.run_seconds) if from_command else run
        step = span / (len(lines) + 1) if lines else span
        for line in lines:
            await asyncio.sleep(step)
            if self._current(pod) is None:
                return
            for c in containers:
                self.logs.append(ns, name, c, line)
        if forever:
            await asyncio.Future()  # until deleted or past its deadline
        await asyncio.sleep(max(0.0, run - step * len(lines)))
        if self._current(pod) is None or self._stopping(pod):
            return
        code, reason = {"succeeded": (0, "Completed"), "oomkilled": (137, "OOMKilled")}.get(
            b.outcome, (b.exit_code if b.exit_code is not None else 1, "Error"))
        if b.outcome == "failed" and code == 0:
            code = 1
        if worker.deadline is not None:
            worker.deadline.cancel()
        self._write_status(pod, lambda s: _terminated(s, code, reason))
        for executor in executors:
            self.api.delete("v1", "Pod", ns, executor)

    def _stopping(self, pod: dict) -> bool:
        """Whether the pod is being deleted: its worker's end is the termination's to report."""
        current = self._current(pod)
        return current is None or bool(current["metadata"].get("deletionTimestamp"))

    def _default_log(self, pod: dict, b: PodBehaviour, long_running: bool) -> str:
        name = pod["metadata"]["name"]
        if (pod["metadata"].get("labels") or {}).get("spark-role") == "driver":
            app = (pod["metadata"].get("labels") or {}).get("spark-app-selector", name)
            end = ("INFO SparkContext: Successfully stopped SparkContext" if b.outcome == "succeeded" else
                   "ERROR SparkContext: Error initializing SparkContext.")
            return (f"INFO SparkContext: Running Spark version 4.0.1\n"
                    f"INFO SparkContext: Submitted application: {app}\n"
                    f"INFO KubernetesClusterSchedulerBackend: emulated driver {name}\n{end}")
        if long_running:
            return f"emulated container started in pod {name}"
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
                self.api.create({
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
                }, ns)
                created.append(exec_name)
            except errors.ApiError:  # e.g. a pod of that name exists: that executor is not started
                continue
        return created

    def _conf_executors(self, driver: dict) -> int:
        for vol in driver["spec"].get("volumes") or []:
            cm_name = (vol.get("configMap") or {}).get("name")
            if not cm_name:
                continue
            cm = self.api.get("v1", "ConfigMap", driver["metadata"].get("namespace"), cm_name)
            for text in ((cm or {}).get("data") or {}).values():
                m = re.search(r"^spark\.executor\.instances\s*[=:]\s*(\d+)", str(text), re.M)
                if m:
                    return int(m.group(1))
        return 2


def _terminated(status: dict, code: int, container_reason: str, phase: str | None = None, **pod_reason: str) -> None:
    """The containers ended with `code`: the pod is done (Succeeded on 0, else Failed)."""
    finished = now_rfc3339()
    status.update(
        phase=phase or ("Succeeded" if code == 0 else "Failed"), **pod_reason,
        conditions=[condition("PodScheduled"), condition("Initialized"),
                    condition("ContainersReady", "False", "PodCompleted"), condition("Ready", "False", "PodCompleted")],
        containerStatuses=[{**cs, "ready": False, "started": False, "state": {"terminated": {
            "exitCode": code, "reason": container_reason,
            "startedAt": ((cs.get("state") or {}).get("running") or {}).get("startedAt", finished),
            "finishedAt": finished, "containerID": cs.get("containerID", "")}}}
            for cs in status.get("containerStatuses") or []])
