"""A simulated Kubeflow spark-operator (``sparkoperator.k8s.io/v1beta2``): SparkApplications run as they
do under the real controller, which submits them with spark-submit in cluster mode.

Life of a SparkApplication (``status.applicationState.state``):

- new (no state) → the controller creates the web UI Service ``<app>-ui-svc`` (port ``spark.ui.port`` or
  4040) and submits: the driver pod ``<app>-driver`` (or ``spec.driver.podName``) appears with the labels
  spark-submit gives it (``spark-role=driver``, ``spark-app-name``, ``spark-app-selector``) plus
  ``sparkoperator.k8s.io/app-name``, ``sparkoperator.k8s.io/launched-by-spark-operator=true``,
  ``sparkoperator.k8s.io/submission-id`` and ``spec.driver.labels``; annotations from
  ``spec.driver.annotations`` (so ``emulator.sparkk8s.io/*`` annotations steer the simulated driver);
  an ownerReference to the SparkApplication; container ``spark-kubernetes-driver`` with ``spec.driver.image``
  or ``spec.image``; executor pods follow ``spec.executor.instances``. The driver's Service, ConfigMap and
  NetworkPolicy are made as by spark-submit (see ``spark_submit``). State ``SUBMITTED``,
  ``submissionAttempts`` and ``executionAttempts`` +1, ``lastSubmissionAttemptTime``, ``submissionID``,
  ``driverInfo`` (podName, webUIServiceName, webUIPort, webUIAddress).
- a spec spark-submit rejects (no ``mainApplicationFile``, no image, a JVM app without ``mainClass``) or
  an unknown ``spec.type`` → ``SUBMISSION_FAILED`` with an ``errorMessage`` naming the problem.
- driver pod Pending → ``SUBMITTED``; Running → ``RUNNING``; Succeeded → ``SUCCEEDING`` → ``COMPLETED``;
  Failed → ``FAILING`` → ``FAILED`` with ``errorMessage`` ``driver container failed with ExitCode: N,
  Reason: R``; a driver pod that disappears (deleted by someone else) → ``FAILING`` → ``FAILED`` with
  ``driver pod not found``. ``terminationTime`` is set when the driver ends; ``sparkApplicationId`` comes
  from the driver's ``spark-app-selector`` label; ``executorState`` maps executor pod names to PENDING,
  RUNNING, COMPLETED, FAILED or UNKNOWN.
- ``spec.restartPolicy``: ``Never`` (default); ``OnFailure`` reruns a failed run while
  ``executionAttempts <= onFailureRetries`` after ``onFailureRetryInterval × executionAttempts`` seconds, and
  resubmits a failed submission while ``submissionAttempts <= onSubmissionFailureRetries`` after
  ``onSubmissionFailureRetryInterval × submissionAttempts`` seconds (intervals default to 5); ``Always``
  reruns after success and failure alike. A rerun goes ``FAILING``/``SUCCEEDING`` → ``PENDING_RERUN``
  (old driver pod and UI Service deleted) → ``SUBMITTED`` with a new driver pod. A submission failure that
  will not be retried moves on to ``FAILED``.
- a change of ``spec`` after submission → ``INVALIDATING`` (resources deleted, attempts reset) →
  ``PENDING_RERUN`` → a new submission.
- ``spec.timeToLiveSeconds``: a COMPLETED or FAILED application is deleted that long after it ended.

Deleting a SparkApplication garbage-collects its driver pod (and what the driver owns) and UI Service
through ownerReferences. All status writes go through the ``status`` subresource, so watchers see each
state as a MODIFIED event. Events are recorded on the SparkApplication as the real controller does.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from .. import errors
from ..store import now_rfc3339
from .base import ApiClient, Controller, Key
from .spark_submit import SparkSubmitError, parse_spark_submit, submit
from .support import epoch_seconds

GROUP, VERSION = "sparkoperator.k8s.io", "v1beta2"
API_VERSION = f"{GROUP}/{VERSION}"
LABEL_APP_NAME = "sparkoperator.k8s.io/app-name"
LABEL_LAUNCHED = "sparkoperator.k8s.io/launched-by-spark-operator"
LABEL_SUBMISSION_ID = "sparkoperator.k8s.io/submission-id"
APP_TYPES = ("Java", "Python", "R", "Scala")
DEFAULT_RETRY_INTERVAL = 5
_RETRYING = ("FAILING", "SUCCEEDING", "SUBMISSION_FAILED")


class SparkOperator(Controller):
    """The controller: reconciles each SparkApplication after every change to it, its driver pod or its
    executor pods (and at the retry and TTL times it computes). `enabled` may be switched at run time, e.g. to
    test API semantics with no controller writing status."""

    api_version = API_VERSION
    kind = "SparkApplication"
    watches = (("v1", "Pod"),)

    def __init__(self, api: ApiClient, enabled: bool = True) -> None:
        super().__init__(api)
        self.enabled = enabled
        self._invalidated: set[Key] = set()
        self._again: float | None = None  # when the application being reconciled wants another look

    # ------------------------------------------------------------------ events → keys
    def on_event(self, event_type: str, obj: dict, old: dict | None) -> None:
        if not self.enabled:
            return
        key = Key.of(obj)
        if event_type == "DELETED":
            self._invalidated.discard(key)
        elif old is not None and old["metadata"].get("generation") != obj["metadata"].get("generation"):
            self._invalidated.add(key)  # the spec changed after submission

    def keys_for(self, api_version: str, kind: str, event_type: str, obj: dict, old: dict | None) -> Iterable[Key]:
        meta = obj["metadata"]
        ns, labels = meta.get("namespace", ""), meta.get("labels") or {}
        if not self.enabled or not labels.get("spark-role"):
            return []
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") == self.kind and ref.get("apiVersion", "").startswith(GROUP + "/"):
                return [Key(ns, ref["name"])]
        if labels.get(LABEL_APP_NAME):
            return [Key(ns, labels[LABEL_APP_NAME])]
        selector = labels.get("spark-app-selector")
        if labels.get("spark-role") == "executor" and selector:
            return [Key.of(app) for app in self.api.list(API_VERSION, self.kind, ns)
                    if (app.get("status") or {}).get("sparkApplicationId") == selector]
        return []

    def _after(self, app: dict, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self._again = seconds if self._again is None else min(self._again, seconds)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: Key) -> float | None:
        if not self.enabled:
            return None
        self._again = None
        self._reconcile(key)
        return self._again

    def _reconcile(self, key: Key) -> None:
        app = self.api.get(API_VERSION, self.kind, key.namespace, key.name)
        if app is None or app["metadata"].get("deletionTimestamp"):
            return
        status = copy.deepcopy(app.get("status") or {})
        status.setdefault("driverInfo", {})
        state = (status.get("applicationState") or {}).get("state", "")
        if key in self._invalidated:
            self._invalidated.discard(key)
            if state not in ("", "INVALIDATING"):
                status["applicationState"] = {"state": "INVALIDATING"}
                self._write(app, status)
                return
        handler = {
            "": self._submit,
            "SUBMITTED": self._follow_driver, "RUNNING": self._follow_driver, "UNKNOWN": self._follow_driver,
            "SUCCEEDING": self._succeeding, "FAILING": self._failing,
            "SUBMISSION_FAILED": self._submission_failed, "PENDING_RERUN": self._pending_rerun,
            "INVALIDATING": self._invalidating,
            "COMPLETED": self._finished, "FAILED": self._finished,
        }.get(state)
        if handler is not None:
            handler(app, status)
            self._write(app, status)

    def _write(self, app: dict, status: dict) -> None:
        if status == app.get("status"):
            return
        new = copy.deepcopy(app)
        new["status"] = status
        self.api.replace(new, subresource="status")

    # ------------------------------------------------------------------ states
    def _submit(self, app: dict, status: dict) -> None:
        """submitSparkApplication: UI service, then spark-submit; SUBMITTED or SUBMISSION_FAILED."""
        meta, spec = app["metadata"], app.get("spec") or {}
        name = meta["name"]
        driver_spec = spec.get("driver") or {}
        pod_name = driver_spec.get("podName") or f"{name}-driver"
        submission_id = str(uuid.uuid4())
        status.pop("terminationTime", None)
        status["lastSubmissionAttemptTime"] = now_rfc3339()
        status["submissionAttempts"] = int(status.get("submissionAttempts") or 0) + 1
        status["submissionID"] = submission_id
        try:
            app_type = spec.get("type")
            if app_type not in APP_TYPES:
                raise SparkSubmitError(f'spec.type: Unsupported value: "{app_type or ""}": supported values: '
                                       + ", ".join(f'"{t}"' for t in APP_TYPES))
            status["driverInfo"] = self._ui_service(app)
            args = parse_spark_submit(self._submit_argv(app, pod_name, submission_id))
            owner = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "SparkApplication", "name": name,
                     "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}
            submit(self.api, args, driver_owner_references=[owner])
        except SparkSubmitError as exc:
            cause = exc.__cause__
            message = ("driver pod already exist" if isinstance(cause, errors.ApiError) and cause.code == 409
                       and cause.reason == "AlreadyExists" else f"failed to run spark-submit: {exc.text}")
            status["applicationState"] = {"state": "SUBMISSION_FAILED", "errorMessage": message}
            self._event(app, "Warning", "SparkApplicationSubmissionFailed",
                        f"SparkApplication {name} failed submission: {message}")
            return
        except errors.ApiError as exc:
            status["applicationState"] = {"state": "SUBMISSION_FAILED",
                                          "errorMessage": f"failed to create web UI service: {exc.message}"}
            return
        status["driverInfo"]["podName"] = pod_name
        status["applicationState"] = {"state": "SUBMITTED"}
        status["executionAttempts"] = int(status.get("executionAttempts") or 0) + 1
        self._event(app, "Normal", "SparkApplicationSubmitted",
                    f"SparkApplication {name} was submitted successfully")

    def _submit_argv(self, app: dict, pod_name: str, submission_id: str) -> list[str]:
        """buildSparkSubmitArgs: the spark-submit command line the real controller runs."""
        meta, spec = app["metadata"], app.get("spec") or {}
        name, ns = meta["name"], meta["namespace"]
        driver, executor, deps = spec.get("driver") or {}, spec.get("executor") or {}, spec.get("deps") or {}
        argv = ["--master", "k8s://https://kubernetes.default.svc:443", "--deploy-mode", "cluster"]
        if spec.get("mainClass"):
            argv += ["--class", str(spec["mainClass"])]
        for option, values in (("--jars", deps.get("jars")), ("--files", deps.get("files")),
                               ("--py-files", deps.get("pyFiles")), ("--packages", deps.get("packages")),
                               ("--repositories", deps.get("repositories")),
                               ("--exclude-packages", deps.get("excludePackages")),
                               ("--archives", deps.get("archives"))):
            if values:
                argv += [option, ",".join(str(v) for v in values)]
        conf: dict[str, Any] = {"spark.app.name": name, "spark.kubernetes.namespace": ns}
        if spec.get("image"):
            conf["spark.kubernetes.container.image"] = spec["image"]
        if spec.get("imagePullPolicy"):
            conf["spark.kubernetes.container.image.pullPolicy"] = spec["imagePullPolicy"]
        if spec.get("imagePullSecrets"):
            conf["spark.kubernetes.container.image.pullSecrets"] = ",".join(spec["imagePullSecrets"])
        if spec.get("memoryOverheadFactor"):
            conf["spark.kubernetes.memoryOverheadFactor"] = spec["memoryOverheadFactor"]
        conf.update(spec.get("sparkConf") or {})
        conf.update({f"spark.hadoop.{k}": v for k, v in (spec.get("hadoopConf") or {}).items()})
        conf["spark.kubernetes.submission.waitAppCompletion"] = "false"
        conf["spark.kubernetes.driver.pod.name"] = pod_name
        for role, part, key in (("driver", driver, "spark.driver"), ("executor", executor, "spark.executor")):
            labels = {**(part.get("labels") or {}), LABEL_APP_NAME: name, LABEL_LAUNCHED: "true",
                      LABEL_SUBMISSION_ID: submission_id}
            conf.update({f"spark.kubernetes.{role}.label.{k}": v for k, v in labels.items()})
            conf.update({f"spark.kubernetes.{role}.annotation.{k}": v
                         for k, v in (part.get("annotations") or {}).items()})
            for field_name, conf_key in (("cores", f"{key}.cores"),
                                         ("coreLimit", f"spark.kubernetes.{role}.limit.cores"),
                                         ("coreRequest", f"spark.kubernetes.{role}.request.cores"),
                                         ("memory", f"{key}.memory"), ("memoryOverhead", f"{key}.memoryOverhead"),
                                         ("image", f"spark.kubernetes.{role}.container.image"),
                                         ("javaOptions", f"{key}.extraJavaOptions")):
                if part.get(field_name) not in (None, ""):
                    conf[conf_key] = part[field_name]
            conf.update({f"spark.kubernetes.node.selector.{k}": v for k, v in (part.get("nodeSelector") or {}).items()}
                        if role == "driver" else {})
        if driver.get("serviceAccount"):
            conf["spark.kubernetes.authenticate.driver.serviceAccountName"] = driver["serviceAccount"]
        conf.update({f"spark.kubernetes.driverEnv.{k}": v for k, v in (driver.get("envVars") or {}).items()})
        if executor.get("instances") is not None:
            conf["spark.executor.instances"] = executor["instances"]
        conf.update({f"spark.kubernetes.node.selector.{k}": v for k, v in (spec.get("nodeSelector") or {}).items()})
        for k, v in conf.items():
            argv += ["--conf", f"{k}={_conf_value(v)}"]
        if spec.get("mainApplicationFile"):
            argv.append(str(spec["mainApplicationFile"]))
        argv += [str(a) for a in spec.get("arguments") or []]
        return argv

    def _ui_service(self, app: dict) -> dict:
        """createWebUIService: a ClusterIP Service to the driver's UI, owned by the application."""
        meta, spec = app["metadata"], app.get("spec") or {}
        ui = spec.get("sparkUIOptions") or {}
        target = int((spec.get("sparkConf") or {}).get("spark.ui.port", 4040))
        port = int(ui.get("servicePort") or target)
        svc_name = f"{meta['name']}-ui-svc"
        body = {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": svc_name, "labels": {LABEL_APP_NAME: meta["name"], **(ui.get("serviceLabels") or {})},
                         **({"annotations": ui["serviceAnnotations"]} if ui.get("serviceAnnotations") else {}),
                         "ownerReferences": [{"apiVersion": f"{GROUP}/{VERSION}", "kind": "SparkApplication",
                                              "name": meta["name"], "uid": meta["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": {"ports": [{"name": ui.get("servicePortName") or "spark-driver-ui-port", "port": port,
                                "targetPort": target, "protocol": "TCP"}],
                     "selector": {LABEL_APP_NAME: meta["name"], "spark-role": "driver"},
                     "type": ui.get("serviceType") or "ClusterIP"},
        }
        try:
            svc = self.api.create(body, meta["namespace"])
        except errors.ApiError as exc:
            existing = self.api.get("v1", "Service", meta["namespace"], svc_name) if exc.code == 409 else None
            if existing is None:
                raise
            svc = existing
        return {"webUIServiceName": svc_name, "webUIPort": port,
                "webUIAddress": f"{svc['spec'].get('clusterIP', '')}:{port}"}

    def _follow_driver(self, app: dict, status: dict) -> None:
        """updateDriverState and updateExecutorState."""
        ns = app["metadata"]["namespace"]
        pod_name = status["driverInfo"].get("podName")
        pod = self.api.get("v1", "Pod", ns, pod_name) if pod_name else None
        old_state = (status.get("applicationState") or {}).get("state")
        if pod is None:
            status["applicationState"] = {"state": "FAILING", "errorMessage": "driver pod not found"}
            status["terminationTime"] = now_rfc3339()
            self._event(app, "Warning", "SparkDriverFailed", f"Driver {pod_name} not found: it was deleted")
            self._update_executors(app, status, None)
            return
        labels = pod["metadata"].get("labels") or {}
        if labels.get("spark-app-selector"):
            status["sparkApplicationId"] = labels["spark-app-selector"]
        phase = (pod.get("status") or {}).get("phase")
        terminated = _driver_terminated(pod)
        error = None
        if phase == "Pending":
            new_state = "SUBMITTED"
        elif phase in ("Running", "Succeeded", "Failed"):
            if phase == "Running" and terminated is None:
                new_state = "RUNNING"
            elif (terminated or {}).get("exitCode", 1 if phase == "Failed" else 0) == 0:
                new_state = "SUCCEEDING"
            else:
                new_state = "FAILING"
                error = (f"driver container failed with ExitCode: {terminated['exitCode']}, Reason: "
                         f"{terminated.get('reason', '')}" if terminated else "driver container status missing")
        else:
            new_state = "UNKNOWN"
        if new_state in ("SUCCEEDING", "FAILING") and not status.get("terminationTime"):
            status["terminationTime"] = now_rfc3339()
        status["applicationState"] = {"state": new_state, **({"errorMessage": error} if error else {})}
        if new_state != old_state:
            reason, type_ = {"RUNNING": ("SparkDriverRunning", "Normal"),
                             "SUCCEEDING": ("SparkDriverCompleted", "Normal"),
                             "FAILING": ("SparkDriverFailed", "Warning")}.get(new_state,
                                                                               ("SparkDriverPending", "Normal"))
            self._event(app, type_, reason, f"Driver {pod['metadata']['name']} is {new_state.lower()}"
                        + (f": {error}" if error else ""))
        self._update_executors(app, status, labels.get("spark-app-selector"))

    def _update_executors(self, app: dict, status: dict, app_id: str | None) -> None:
        ns = app["metadata"]["namespace"]
        states: dict[str, str] = dict(status.get("executorState") or {})
        seen = set()
        if app_id:
            selector = f"spark-role=executor,spark-app-selector={app_id}"
            for pod in self.api.list("v1", "Pod", ns, selector):
                if pod["metadata"].get("deletionTimestamp"):
                    continue  # being stopped (the driver ended): judged as gone, below
                phase = (pod.get("status") or {}).get("phase") or ""
                states[pod["metadata"]["name"]] = {"Pending": "PENDING", "Running": "RUNNING",
                                                   "Succeeded": "COMPLETED", "Failed": "FAILED"}.get(phase, "UNKNOWN")
                seen.add(pod["metadata"]["name"])
        app_state = status["applicationState"]["state"]
        for exec_name, exec_state in states.items():
            if exec_name in seen or exec_state in ("COMPLETED", "FAILED"):
                continue
            # A vanished executor: gone with a successful driver it completed; gone otherwise it failed.
            if app_state == "RUNNING":
                states[exec_name] = "UNKNOWN"
            else:
                states[exec_name] = "COMPLETED" if app_state in ("SUCCEEDING", "COMPLETED") else "FAILED"
        if states:
            status["executorState"] = states

    def _succeeding(self, app: dict, status: dict) -> None:
        if self._should_retry(app, status, "SUCCEEDING"):
            self._delete_resources(app, status)
            status["applicationState"] = {"state": "PENDING_RERUN"}
            return
        status["applicationState"] = {"state": "COMPLETED"}
        self._event(app, "Normal", "SparkApplicationCompleted",
                    f"SparkApplication {app['metadata']['name']} completed")
        self._finished(app, status)

    def _failing(self, app: dict, status: dict) -> None:
        if not self._should_retry(app, status, "FAILING"):
            status["applicationState"] = {**status["applicationState"], "state": "FAILED"}
            self._event(app, "Warning", "SparkApplicationFailed", f"SparkApplication {app['metadata']['name']} "
                        f"failed: {status['applicationState'].get('errorMessage', '')}")
            self._finished(app, status)
            return
        policy = (app.get("spec") or {}).get("restartPolicy") or {}
        wait = self._retry_wait(policy.get("onFailureRetryInterval"), status.get("executionAttempts"),
                                status.get("terminationTime"))
        if wait > 0:
            self._after(app, wait)
            return
        self._delete_resources(app, status)
        status["applicationState"] = {"state": "PENDING_RERUN"}

    def _submission_failed(self, app: dict, status: dict) -> None:
        if not self._should_retry(app, status, "SUBMISSION_FAILED"):
            status["applicationState"] = {**status["applicationState"], "state": "FAILED"}
            status["terminationTime"] = now_rfc3339()
            self._event(app, "Warning", "SparkApplicationFailed", f"SparkApplication {app['metadata']['name']} "
                        f"failed: {status['applicationState'].get('errorMessage', '')}")
            self._finished(app, status)
            return
        policy = (app.get("spec") or {}).get("restartPolicy") or {}
        wait = self._retry_wait(policy.get("onSubmissionFailureRetryInterval"), status.get("submissionAttempts"),
                                status.get("lastSubmissionAttemptTime"))
        if wait > 0:
            self._after(app, wait)
            return
        if not self._delete_resources(app, status):
            self._after(app, 0.1)  # the old driver is still stopping
            return
        self._submit(app, status)

    def _pending_rerun(self, app: dict, status: dict) -> None:
        if not self._delete_resources(app, status):
            self._after(app, 0.1)  # the old driver is still stopping
            return
        for stale in ("sparkApplicationId", "lastSubmissionAttemptTime", "executorState", "terminationTime"):
            status.pop(stale, None)
        status["submissionAttempts"] = 0
        status["driverInfo"] = {}
        self._event(app, "Normal", "SparkApplicationPendingRerun",
                    f"SparkApplication {app['metadata']['name']} is pending rerun")
        self._submit(app, status)

    def _invalidating(self, app: dict, status: dict) -> None:
        self._delete_resources(app, status)
        for stale in ("sparkApplicationId", "lastSubmissionAttemptTime", "executorState", "terminationTime"):
            status.pop(stale, None)
        status.update(submissionAttempts=0, executionAttempts=0, applicationState={"state": "PENDING_RERUN"})

    def _finished(self, app: dict, status: dict) -> None:
        ttl = (app.get("spec") or {}).get("timeToLiveSeconds")
        ended = epoch_seconds(status.get("terminationTime"))
        if ttl is None or ended is None:
            return
        left = ended + float(ttl) - datetime.now(timezone.utc).timestamp()
        if left > 0:
            self._after(app, left)
            return
        self.api.delete(API_VERSION, self.kind, app["metadata"]["namespace"], app["metadata"]["name"])

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _should_retry(app: dict, status: dict, state: str) -> bool:
        policy = (app.get("spec") or {}).get("restartPolicy") or {}
        kind = policy.get("type") or "Never"
        if kind == "Always":
            return True
        if kind != "OnFailure" or state == "SUCCEEDING":
            return False
        if state == "FAILING":
            limit, attempts = policy.get("onFailureRetries"), status.get("executionAttempts") or 0
        else:
            limit, attempts = policy.get("onSubmissionFailureRetries"), status.get("submissionAttempts") or 0
        return limit is not None and int(attempts) <= int(limit)

    @staticmethod
    def _retry_wait(interval: Any, attempts: Any, since: str | None) -> float:
        """isNextRetryDue: the wait grows with the attempts made (interval × attempts)."""
        start = epoch_seconds(since)
        if start is None:
            return 0.0
        due = start + float(interval or DEFAULT_RETRY_INTERVAL) * max(1, int(attempts or 0))
        return due - datetime.now(timezone.utc).timestamp()

    def _delete_resources(self, app: dict, status: dict) -> bool:
        """deleteSparkResources: the driver pod (with what it owns) and the UI Service. Returns whether they are
        gone (validateSparkResourceDeletion): a driver pod takes its grace period to go."""
        ns, name = app["metadata"]["namespace"], app["metadata"]["name"]
        driver = status.get("driverInfo") or {}
        pod_name = driver.get("podName") or ((app.get("spec") or {}).get("driver") or {}).get("podName") \
            or f"{name}-driver"
        gone = True
        for kind, obj_name in (("Pod", pod_name), ("Service", driver.get("webUIServiceName") or f"{name}-ui-svc")):
            current = self.api.get("v1", kind, ns, obj_name)
            # Only what this application owns: a pod of the same name made by someone else stays.
            if current is None or not any(r.get("uid") == app["metadata"]["uid"]
                                          for r in current["metadata"].get("ownerReferences") or []):
                continue
            try:
                self.api.delete("v1", kind, ns, obj_name, "Background")
            except errors.ApiError:
                pass
            if self.api.get("v1", kind, ns, obj_name) is not None:
                gone = False
        return gone

    def _event(self, app: dict, type_: str, reason: str, message: str) -> None:
        meta = app["metadata"]
        now = now_rfc3339()
        try:
            self.api.create({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": meta["namespace"]},
                "involvedObject": {"kind": "SparkApplication", "apiVersion": f"{GROUP}/{VERSION}",
                                   "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
                "reason": reason, "message": message, "type": type_, "source": {"component": "spark-operator"},
                "firstTimestamp": now, "lastTimestamp": now, "count": 1, "reportingComponent": "spark-operator",
            }, meta["namespace"])
        except errors.ApiError:
            pass  # the namespace is going away


def _conf_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _driver_terminated(pod: dict) -> dict | None:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for cs in statuses:
        if cs.get("name") == "spark-kubernetes-driver":
            return (cs.get("state") or {}).get("terminated")
    return ((statuses[0].get("state") or {}).get("terminated")) if statuses else None


