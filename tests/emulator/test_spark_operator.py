"""The simulated spark-operator as a user of the kubernetes client sees it: SparkApplication states,
the driver pod it launches, retries, deletion; every status it writes must be valid for the CRD."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import kubernetes
import pytest
import yaml
from kubernetes.client import CoreV1Api, CustomObjectsApi

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import SHARED, require

GROUP, VERSION, PLURAL = "sparkoperator.k8s.io", "v1beta2", "sparkapplications"
CRD = SHARED / "schemas" / "spark-operator" / "sparkoperator.k8s.io_sparkapplications.yaml"
TERMINAL = ("COMPLETED", "FAILED")


@dataclass
class Schema:
    """The CRD's openAPIV3Schema, as validators built once (checking the large schema is slow)."""

    whole: jsonschema.Draft7Validator
    status: jsonschema.Draft7Validator


@pytest.fixture(scope="module")
def schema() -> Schema:
    require(CRD.exists(), f"{CRD} is missing")
    crd = yaml.safe_load(CRD.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == VERSION)
    root = version["schema"]["openAPIV3Schema"]
    return Schema(jsonschema.Draft7Validator(root), jsonschema.Draft7Validator(root["properties"]["status"]))


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory(pod_run_seconds=0.2, pod_pending_seconds=0.05)


@pytest.fixture
def core(kube: KubeEmulator) -> CoreV1Api:
    return CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


@pytest.fixture
def custom(kube: KubeEmulator) -> CustomObjectsApi:
    return CustomObjectsApi(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


def manifest(name: str = "pi", *, driver: dict | None = None, executor: dict | None = None, **spec: Any) -> dict:
    body: dict[str, Any] = {
        "type": "Python", "mode": "cluster", "image": "apache/spark:4.0.1", "sparkVersion": "4.0.1",
        "mainApplicationFile": "local:///opt/spark/examples/src/main/python/pi.py", "arguments": ["10"],
        "driver": {"cores": 1, "memory": "512m", **(driver or {})},
        "executor": {"cores": 1, "memory": "512m", "instances": 2, **(executor or {})},
    }
    body.update(spec)
    body = {k: v for k, v in body.items() if v is not None}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "SparkApplication", "metadata": {"name": name},
            "spec": body}


def create(custom: CustomObjectsApi, body: dict) -> str:
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    return created["metadata"]["resourceVersion"]


def observe(custom: CustomObjectsApi, schema: Schema, name: str, since: str,
            until: Callable[[dict], bool] = lambda s: s.get("applicationState", {}).get("state") in TERMINAL,
            timeout: float = 10, whole: bool = True) -> list[dict]:
    """Every status the application goes through (from a watch), each checked against the CRD: the whole
    object, or only its status where the test's spec is invalid on purpose."""
    statuses: list[dict] = []
    watch = kubernetes.watch.Watch()
    deadline = time.monotonic() + timeout
    for event in watch.stream(custom.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL,
                              field_selector=f"metadata.name={name}", resource_version=since,
                              timeout_seconds=int(timeout)):
        obj = event["object"]
        if whole:
            schema.whole.validate(obj)
        else:
            schema.status.validate(obj.get("status") or {})
        status = obj.get("status") or {}
        if status:
            statuses.append(status)
        if (status and until(status)) or time.monotonic() > deadline:
            watch.stop()
            break
    assert statuses and until(statuses[-1]), f"never reached the expected status: {statuses[-1:]}"
    return statuses


def states(statuses: list[dict]) -> list[str]:
    out: list[str] = []
    for status in statuses:
        state = status["applicationState"]["state"]
        if not out or out[-1] != state:
            out.append(state)
    return out


def wait_for(predicate: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_application_runs_to_completion(custom: CustomObjectsApi, core: CoreV1Api, schema: Schema) -> None:
    rv = create(custom, manifest(executor={"instances": 3}))
    statuses = observe(custom, schema, "pi", rv)
    assert states(statuses) == ["SUBMITTED", "RUNNING", "SUCCEEDING", "COMPLETED"]
    final = statuses[-1]
    driver = core.read_namespaced_pod("pi-driver", "default")
    ui = core.read_namespaced_service("pi-ui-svc", "default")
    assert final["driverInfo"] == {"podName": "pi-driver", "webUIServiceName": "pi-ui-svc", "webUIPort": 4040,
                                   "webUIAddress": f"{ui.spec.cluster_ip}:4040"}
    assert final["sparkApplicationId"] == driver.metadata.labels["spark-app-selector"]
    assert final["submissionID"] == driver.metadata.labels["sparkoperator.k8s.io/submission-id"]
    assert final["submissionAttempts"] == 1 and final["executionAttempts"] == 1
    assert final["lastSubmissionAttemptTime"] and final["terminationTime"]
    assert "errorMessage" not in final["applicationState"]
    assert final["executorState"] == {f"pi-exec-{i}": "COMPLETED" for i in (1, 2, 3)}
    assert driver.status.phase == "Succeeded"
    assert ui.spec.selector == {"sparkoperator.k8s.io/app-name": "pi", "spark-role": "driver"}
    assert ui.metadata.owner_references[0].kind == "SparkApplication"


def test_driver_pod_is_what_the_operator_submits(kube: KubeEmulator, custom: CustomObjectsApi, core: CoreV1Api,
                                                 schema: Schema) -> None:
    rv = create(custom, manifest(
        driver={"image": "example/spark-driver:1", "serviceAccount": "spark", "labels": {"team": "data"},
                "annotations": {"emulator.sparkk8s.io/outcome": "running", "example.com/note": "x"}},
        executor={"instances": 3}))
    statuses = observe(custom, schema, "pi", rv, until=lambda s: len(s.get("executorState") or {}) == 3
                       and set(s["executorState"].values()) == {"RUNNING"})
    assert statuses[-1]["applicationState"]["state"] == "RUNNING"
    app = custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "pi")
    pod = core.read_namespaced_pod("pi-driver", "default")
    labels = pod.metadata.labels
    assert labels["spark-role"] == "driver" and labels["spark-app-name"] == "pi"
    assert labels["spark-app-selector"].startswith("spark-")
    assert labels["sparkoperator.k8s.io/app-name"] == "pi"
    assert labels["sparkoperator.k8s.io/launched-by-spark-operator"] == "true"
    assert labels["team"] == "data"
    assert pod.metadata.annotations == {"emulator.sparkk8s.io/outcome": "running", "example.com/note": "x"}
    [owner] = pod.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.controller) == ("SparkApplication", "pi",
                                                                     app["metadata"]["uid"], True)
    [container] = pod.spec.containers
    assert container.name == "spark-kubernetes-driver"
    assert container.image == "example/spark-driver:1"
    assert container.args[:5] == ["driver", "--properties-file", "/opt/spark/conf/spark.properties", "--class",
                                  "org.apache.spark.deploy.PythonRunner"]
    assert container.args[5:] == ["local:///opt/spark/examples/src/main/python/pi.py", "10"]
    assert pod.spec.service_account_name == "spark"
    executors = core.list_namespaced_pod("default", label_selector="spark-role=executor").items
    assert len(executors) == 3
    assert set(statuses[-1]["executorState"]) == {p.metadata.name for p in executors}


def test_failed_driver_fails_the_application(custom: CustomObjectsApi, schema: Schema) -> None:
    rv = create(custom, manifest(driver={"annotations": {"emulator.sparkk8s.io/outcome": "failed",
                                                          "emulator.sparkk8s.io/exit-code": "3"}}))
    statuses = observe(custom, schema, "pi", rv)
    assert states(statuses) == ["SUBMITTED", "RUNNING", "FAILING", "FAILED"]
    final = statuses[-1]
    assert final["applicationState"]["errorMessage"] == "driver container failed with ExitCode: 3, Reason: Error"
    assert final["terminationTime"]
    assert set(final["executorState"].values()) == {"FAILED"}


@pytest.mark.parametrize(("change", "message"), [
    ({"mainApplicationFile": None, "arguments": None}, "Must specify a primary resource (JAR or Python or R file)"),
    ({"image": None}, "Must specify the driver container image"),
    ({"type": "Go"}, 'spec.type: Unsupported value: "Go"'),
    ({"type": "Scala", "mainApplicationFile": "local:///opt/app.jar"}, "Please specify a class through --class"),
])
def test_invalid_spec_fails_submission(custom: CustomObjectsApi, core: CoreV1Api, schema: Schema, change: dict,
                                       message: str) -> None:
    rv = create(custom, manifest(**change))
    statuses = observe(custom, schema, "pi", rv, whole=False)
    assert states(statuses) == ["SUBMISSION_FAILED", "FAILED"]
    assert message in statuses[0]["applicationState"]["errorMessage"]
    assert message in statuses[-1]["applicationState"]["errorMessage"]
    assert statuses[-1]["submissionAttempts"] == 1
    assert "executionAttempts" not in statuses[-1]
    assert core.list_namespaced_pod("default").items == []


def test_deleted_driver_fails_the_application(custom: CustomObjectsApi, core: CoreV1Api, schema: Schema) -> None:
    rv = create(custom, manifest(driver={"annotations": {"emulator.sparkk8s.io/outcome": "running"}}))
    observe(custom, schema, "pi", rv, until=lambda s: s["applicationState"]["state"] == "RUNNING")
    core.delete_namespaced_pod("pi-driver", "default")
    final = observe(custom, schema, "pi", rv)[-1]
    assert final["applicationState"] == {"state": "FAILED", "errorMessage": "driver pod not found"}
    assert final["terminationTime"]


def test_on_failure_policy_reruns_with_a_new_driver(custom: CustomObjectsApi, core: CoreV1Api,
                                                    schema: Schema) -> None:
    rv = create(custom, manifest(
        driver={"annotations": {"emulator.sparkk8s.io/outcome": "failed"}},
        restartPolicy={"type": "OnFailure", "onFailureRetries": 1, "onFailureRetryInterval": 1}))
    statuses = observe(custom, schema, "pi", rv, timeout=15)
    assert states(statuses) == ["SUBMITTED", "RUNNING", "FAILING", "PENDING_RERUN", "SUBMITTED", "RUNNING",
                                "FAILING", "FAILED"]
    first, final = statuses[0], statuses[-1]
    assert first["executionAttempts"] == 1 and final["executionAttempts"] == 2
    assert final["submissionAttempts"] == 1  # reset by the rerun, as the real controller does
    assert final["submissionID"] != first["submissionID"]
    second = core.read_namespaced_pod("pi-driver", "default")
    assert second.metadata.labels["sparkoperator.k8s.io/submission-id"] == final["submissionID"]
    assert len(core.list_namespaced_pod("default", label_selector="spark-role=driver").items) == 1


def test_submission_failures_are_retried(custom: CustomObjectsApi, schema: Schema) -> None:
    rv = create(custom, manifest(image=None, restartPolicy={
        "type": "OnFailure", "onSubmissionFailureRetries": 1, "onSubmissionFailureRetryInterval": 1}))
    statuses = observe(custom, schema, "pi", rv, timeout=15, whole=False)
    attempts = [s["submissionAttempts"] for s in statuses if s["applicationState"]["state"] == "SUBMISSION_FAILED"]
    assert sorted(set(attempts)) == [1, 2]
    assert statuses[-1]["applicationState"]["state"] == "FAILED"
    assert statuses[-1]["submissionAttempts"] == 2


def test_always_policy_reruns_after_success(custom: CustomObjectsApi, schema: Schema) -> None:
    rv = create(custom, manifest(restartPolicy={"type": "Always", "onFailureRetryInterval": 1}))
    statuses = observe(custom, schema, "pi", rv, until=lambda s: s.get("executionAttempts") == 2
                       and s["applicationState"]["state"] == "RUNNING")
    assert states(statuses)[:5] == ["SUBMITTED", "RUNNING", "SUCCEEDING", "PENDING_RERUN", "SUBMITTED"]
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "pi")


def test_deleting_the_application_collects_what_it_started(kube: KubeEmulator, custom: CustomObjectsApi,
                                                           core: CoreV1Api, schema: Schema) -> None:
    rv = create(custom, manifest(driver={"annotations": {"emulator.sparkk8s.io/outcome": "running"}}))
    observe(custom, schema, "pi", rv, until=lambda s: len(s.get("executorState") or {}) == 2)
    assert {s.metadata.name for s in core.list_namespaced_service("default").items} >= {"pi-ui-svc"}
    assert core.list_namespaced_config_map("default").items
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "pi")
    # The garbage collector deletes the running driver gracefully: gone once the kubelet has stopped it.
    wait_for(lambda: core.list_namespaced_pod("default").items == [], 5)
    assert [s.metadata.name for s in core.list_namespaced_service("default").items] == ["kubernetes"]  # the cluster's
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == ["kube-root-ca.crt"]
    assert kube.list("networking.k8s.io/v1", "NetworkPolicy", "default") == []


def test_spec_change_invalidates_and_resubmits(custom: CustomObjectsApi, core: CoreV1Api, schema: Schema) -> None:
    rv = create(custom, manifest(driver={"annotations": {"emulator.sparkk8s.io/outcome": "running"}}))
    observe(custom, schema, "pi", rv, until=lambda s: s["applicationState"]["state"] == "RUNNING")
    first_uid = core.read_namespaced_pod("pi-driver", "default").metadata.uid
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "pi",
                                                    {"spec": {"arguments": ["20"]}})
    statuses = observe(custom, schema, "pi", patched["metadata"]["resourceVersion"],
                       until=lambda s: s["applicationState"]["state"] == "RUNNING")
    assert states(statuses) == ["INVALIDATING", "PENDING_RERUN", "SUBMITTED", "RUNNING"]
    assert statuses[-1]["executionAttempts"] == 1
    pod = core.read_namespaced_pod("pi-driver", "default")
    assert pod.metadata.uid != first_uid
    assert pod.spec.containers[0].args[-1] == "20"


def test_time_to_live_deletes_the_finished_application(custom: CustomObjectsApi, core: CoreV1Api,
                                                       schema: Schema) -> None:
    rv = create(custom, manifest(timeToLiveSeconds=1))
    observe(custom, schema, "pi", rv)
    wait_for(lambda: not custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["items"], 5)
    assert core.list_namespaced_pod("default").items == []


def test_operator_can_be_switched_off(kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory(simulate_spark_operator=False)
    custom = CustomObjectsApi(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))
    create(custom, manifest())
    time.sleep(0.3)
    assert "status" not in custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "pi")
    assert kube.list("v1", "Pod", "default") == []
