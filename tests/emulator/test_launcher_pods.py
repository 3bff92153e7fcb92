"""Launcher pods (a container running spark-submit) as a user of the kubernetes client sees them: what
the submission creates, the launcher's log and exit status, and the errors real spark-submit hits."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import kubernetes
import pytest
from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException

from airflow_provider_sparkk8s.testing import KubeEmulator

IMAGE = "apache/spark:4.0.1"
PI = "local:///opt/spark/examples/src/main/python/pi.py"
TERMINAL = ("Succeeded", "Failed")


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    kube = kube_emulator_factory(pod_run_seconds=0.2, pod_pending_seconds=0.05)
    kube.create_namespace("team")
    return kube


@pytest.fixture
def core(kube: KubeEmulator) -> CoreV1Api:
    return CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))


def submit_args(*, wait: bool | None = False, image: str | None = IMAGE, driver: str | None = "pi-driver",
                master: str = "k8s://https://kubernetes.default.svc", name: str = "pi", extra: tuple[str, ...] = (),
                resource: tuple[str, ...] = (PI, "100"), **annotations: str) -> list[str]:
    conf = {"spark.kubernetes.container.image": image, "spark.kubernetes.driver.pod.name": driver,
            "spark.kubernetes.submission.waitAppCompletion": None if wait is None else str(wait).lower()}
    conf.update({f"spark.kubernetes.driver.annotation.emulator.sparkk8s.io/{k.replace('_', '-')}": v
                 for k, v in annotations.items()})
    args = ["--master", master, "--deploy-mode", "cluster", "--name", name]
    args += [a for k, v in conf.items() if v is not None for a in ("--conf", f"{k}={v}")]
    return [*args, *extra, *resource]


def launch(core: CoreV1Api, args: list[str], name: str = "launcher", namespace: str = "default",
           annotations: dict[str, str] | None = None, args_only: bool = False) -> None:
    container: dict[str, Any] = {"name": "spark-submit", "image": IMAGE}
    if args_only:
        container["args"] = ["/opt/spark/bin/spark-submit", *args]
    else:
        container.update(command=["/opt/spark/bin/spark-submit"], args=args)
    core.create_namespaced_pod(namespace, {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"restartPolicy": "Never", "serviceAccountName": "default", "containers": [container]}})


def wait_for(predicate: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def finished(core: CoreV1Api, name: str = "launcher", namespace: str = "default") -> Any:
    return wait_for(lambda: (p := core.read_namespaced_pod(name, namespace)).status.phase in TERMINAL and p)


def phase(core: CoreV1Api, name: str, namespace: str = "default") -> str | None:
    try:
        return core.read_namespaced_pod(name, namespace).status.phase
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def exit_code(pod: Any) -> int:
    return pod.status.container_statuses[0].state.terminated.exit_code


def logs(core: CoreV1Api, name: str = "launcher", namespace: str = "default") -> str:
    # Raw bytes: the client's own decoding mangles text that holds quotes.
    return core.read_namespaced_pod_log(name, namespace, _preload_content=False).data.decode()


def test_submission_creates_the_driver_and_what_it_owns(core: CoreV1Api) -> None:
    launch(core, submit_args(outcome="running", extra=(
        "--num-executors", "3", "--driver-memory", "2g", "--driver-cores", "2", "--py-files", "local:///opt/dep.py",
        "--conf", "spark.kubernetes.driver.label.team=data",
        "--conf", "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
        "--conf", "spark.kubernetes.driverEnv.MODE=test")))
    launcher = finished(core)
    assert launcher.status.phase == "Succeeded" and exit_code(launcher) == 0
    driver = core.read_namespaced_pod("pi-driver", "default")
    app_id = driver.metadata.labels["spark-app-selector"]
    assert re.fullmatch(r"spark-[0-9a-f]{32}", app_id)
    assert driver.metadata.labels == {"spark-app-selector": app_id, "spark-app-name": "pi", "spark-role": "driver",
                                      "spark-version": "4.0.1", "team": "data"}
    assert driver.metadata.annotations == {"emulator.sparkk8s.io/outcome": "running"}
    assert driver.metadata.owner_references is None
    [container] = driver.spec.containers
    assert (container.name, container.image) == ("spark-kubernetes-driver", IMAGE)
    assert container.args == ["driver", "--properties-file", "/opt/spark/conf/spark.properties", "--class",
                              "org.apache.spark.deploy.PythonRunner", PI, "100"]
    env = {e.name: e.value for e in container.env}
    assert env["SPARK_APPLICATION_ID"] == app_id and env["MODE"] == "test"
    assert container.resources.requests == {"cpu": "2", "memory": "2867Mi"}  # 2g + 40% overhead for Python
    assert driver.spec.service_account_name == "spark"
    assert driver.spec.restart_policy == "Never"
    conf_volume = next(v for v in driver.spec.volumes if v.config_map)
    cm = core.read_namespaced_config_map(conf_volume.config_map.name, "default")
    assert re.fullmatch(r"spark-drv-[0-9a-f]{16}-conf-map", cm.metadata.name)
    properties = cm.data["spark.properties"]
    for line in ("spark.executor.instances=3", "spark.driver.memory=2g", f"spark.app.id={app_id}",
                 "spark.submit.pyFiles=local\\:///opt/dep.py", "spark.kubernetes.resource.type=python",
                 "spark.kubernetes.driver.pod.name=pi-driver"):
        assert line in properties.splitlines()
    # Besides the cluster's own `kubernetes` Service in default, the driver's headless one.
    [svc] = core.list_namespaced_service("default", field_selector="metadata.name!=kubernetes").items
    assert re.fullmatch(r"pi-[0-9a-f]{16}-driver-svc", svc.metadata.name)
    assert svc.spec.cluster_ip == "None"
    assert svc.spec.selector == driver.metadata.labels
    netpols = kubernetes.client.NetworkingV1Api(core.api_client).list_namespaced_network_policy("default").items
    for owned in (svc.metadata.owner_references, cm.metadata.owner_references, netpols[0].metadata.owner_references):
        assert [(r.kind, r.name, r.uid) for r in owned] == [("Pod", "pi-driver", driver.metadata.uid)]
    wait_for(lambda: len(core.list_namespaced_pod("default", label_selector="spark-role=executor").items) == 3)
    text = logs(core)
    assert (f"INFO Client: Deployed Spark application pi with application ID {app_id} and submission ID "
            "default:pi-driver into Kubernetes") in text


def test_generated_names_and_java_application(core: CoreV1Api) -> None:
    # The args-only form (the image's entrypoint runs args[0]) and the --opt=value spelling.
    launch(core, submit_args(driver=None, name="Pi App", extra=("--class=org.example.Main", "--jars",
                                                                "local:///opt/a.jar"),
                             resource=("local:///opt/app.jar", "x")), args_only=True)
    assert exit_code(finished(core)) == 0
    [driver] = core.list_namespaced_pod("default", label_selector="spark-role=driver").items
    assert re.fullmatch(r"pi-app-[0-9a-f]{16}-driver", driver.metadata.name)
    assert driver.metadata.labels["spark-app-name"] == "pi-app"
    assert driver.spec.containers[0].args[3:] == ["--class", "org.example.Main", "local:///opt/app.jar", "x"]
    cm = core.read_namespaced_config_map(next(v for v in driver.spec.volumes if v.config_map).config_map.name,
                                         "default")
    assert "spark.jars=local\\:///opt/a.jar,local\\:///opt/app.jar" in cm.data["spark.properties"].splitlines()
    assert f"submission ID default:{driver.metadata.name} into Kubernetes" in logs(core)


def test_waiting_launcher_runs_until_the_driver_ends(core: CoreV1Api) -> None:
    launch(core, submit_args(wait=None, run_seconds="1"))
    wait_for(lambda: phase(core, "pi-driver") == "Running")
    assert core.read_namespaced_pod("launcher", "default").status.phase == "Running"
    launcher = finished(core)
    assert exit_code(launcher) == 0
    assert core.read_namespaced_pod("pi-driver", "default").status.phase == "Succeeded"
    text = logs(core)
    assert "Waiting for application pi with application ID spark-" in text
    assert "phase: Succeeded" in text and "termination reason: Completed" in text
    assert "and submission ID default:pi-driver finished" in text
    assert "Deployed Spark application" not in text


def test_waiting_launcher_exits_zero_when_the_driver_fails(core: CoreV1Api) -> None:
    # Real spark-submit 4 reports the driver's failure but does not propagate it.
    launch(core, submit_args(wait=True, outcome="failed", exit_code="3"))
    assert exit_code(finished(core)) == 0
    assert core.read_namespaced_pod("pi-driver", "default").status.phase == "Failed"
    text = logs(core)
    assert "phase: Failed" in text and "exit code: 3" in text and "termination reason: Error" in text


def test_waiting_launcher_ends_when_the_driver_is_deleted(core: CoreV1Api) -> None:
    launch(core, submit_args(wait=True, outcome="running"))
    wait_for(lambda: phase(core, "pi-driver") == "Running")
    core.delete_namespaced_pod("pi-driver", "default")
    assert exit_code(finished(core)) == 0
    assert "and submission ID default:pi-driver finished" in logs(core)


@pytest.mark.parametrize(("change", "message"), [
    ({"image": None}, "org.apache.spark.SparkException: Must specify the driver container image"),
    ({"master": "yarn"}, "When running with master 'yarn' either HADOOP_CONF_DIR or YARN_CONF_DIR must be set"),
    ({"master": "local[*]"}, 'Cluster deploy mode is not compatible with master "local[*]"'),
    ({"master": "mesos://m:5050"}, "Master must either be yarn or start with spark, k8s, or local"),
    ({"resource": ()}, "Must specify a primary resource (JAR or Python or R file)"),
    ({"extra": ("--conf", "novalue")}, "Spark config without '=': novalue"),
])
def test_submission_errors_fail_the_launcher(core: CoreV1Api, change: dict, message: str) -> None:
    launch(core, submit_args(**change))
    launcher = finished(core)
    assert launcher.status.phase == "Failed" and exit_code(launcher) == 1
    assert message in logs(core)
    assert core.list_namespaced_pod("default", label_selector="spark-role=driver").items == []


def test_existing_driver_pod_fails_the_submission(core: CoreV1Api) -> None:
    launch(core, submit_args(outcome="running"), name="first")
    finished(core, "first")
    original = core.read_namespaced_pod("pi-driver", "default").metadata.uid
    launch(core, submit_args(outcome="running"), name="second")
    launcher = finished(core, "second")
    assert exit_code(launcher) == 1
    text = logs(core, "second")
    assert "io.fabric8.kubernetes.client.KubernetesClientException: Failure executing: POST at: " \
           "https://kubernetes.default.svc/api/v1/namespaces/default/pods" in text
    assert 'Message: pods "pi-driver" already exists' in text and "reason=AlreadyExists" in text
    [driver] = core.list_namespaced_pod("default", label_selector="spark-role=driver").items
    assert driver.metadata.uid == original
    # The first submission's config map, beside the namespace's kube-root-ca.crt.
    assert len(core.list_namespaced_config_map("default").items) == 2


def test_launcher_outcome_annotation_wins(core: CoreV1Api) -> None:
    launch(core, submit_args(), annotations={"emulator.sparkk8s.io/outcome": "imagepullbackoff"})
    wait_for(lambda: (core.read_namespaced_pod("launcher", "default").status.container_statuses or [None])[0]
             and core.read_namespaced_pod("launcher", "default").status.container_statuses[0].state.waiting
             and core.read_namespaced_pod("launcher", "default").status.container_statuses[0].state.waiting.reason
             == "ImagePullBackOff")
    time.sleep(0.3)
    assert core.list_namespaced_pod("default", label_selector="spark-role=driver").items == []


def test_driver_namespace_comes_from_the_conf_not_the_launcher(core: CoreV1Api) -> None:
    # As with real spark-submit, spark.kubernetes.namespace defaults to "default" wherever the launcher runs.
    launch(core, submit_args(driver="a-driver"), namespace="team", name="a")
    launch(core, submit_args(driver="b-driver", extra=("--conf", "spark.kubernetes.namespace=team")),
           namespace="team", name="b")
    finished(core, "a", "team")
    finished(core, "b", "team")
    assert core.read_namespaced_pod("a-driver", "default").metadata.namespace == "default"
    assert core.read_namespaced_pod("b-driver", "team").metadata.namespace == "team"
    assert "submission ID team:b-driver into Kubernetes" in logs(core, "b", "team")


def test_spark_submit_can_be_switched_off(kube_emulator_factory: Callable[..., KubeEmulator]) -> None:
    kube = kube_emulator_factory(simulate_spark_submit=False, pod_run_seconds=0.1)
    core = CoreV1Api(kubernetes.config.new_client_from_config(str(kube.kubeconfig_path)))
    launch(core, submit_args())
    assert finished(core).status.phase == "Succeeded"
    assert core.list_namespaced_pod("default", label_selector="spark-role=driver").items == []
