"""dags_examples/spark_argo_params.py in a real Airflow 3 deployment: a run triggered with a conf (as the
UI's trigger form posts it) defers both tasks to the triggerer, succeeds, and the values reach the Spark
driver (arguments, labels, Spark properties, executor count) and the Argo workflow's parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import REPO
from tests.stack import TERMINAL_TI_STATES, AirflowStack, StackError

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(360)]

EXAMPLES = REPO / "dags_examples"
DAG_ID = "spark_argo_params"
SPARK_TASK, ARGO_TASK = "spark_pi", "argo_spark_app"
SPARK_NS, ARGO_NS = "spark-jobs", "argo"
WF = ("argoproj.io/v1alpha1", "Workflow")
DAG_LABEL = f"sparkk8s.io/dag-id={DAG_ID}"
# Drivers and workflow pods run this long, so the deferred state and the executors can be observed.
RUN_SECONDS = 6.0


def install_params_example(stack: AirflowStack, kube: KubeEmulator) -> None:
    """What a deployment of the example needs in the cluster, then the DAG file itself."""
    kube.apply((EXAMPLES / "manifests" / "spark-rbac.yaml").read_text())
    kube.apply((EXAMPLES / "manifests" / "argo-rbac.yaml").read_text())
    kube.apply((EXAMPLES / "manifests" / "spark-app-workflow-template.yaml").read_text(), ARGO_NS)
    stack.add_dag(DAG_ID, (EXAMPLES / f"{DAG_ID}.py").read_text())


@pytest.fixture
def slow_pods(e2e_kube: KubeEmulator) -> Iterator[None]:
    """Spark drivers and Argo workflow pods of the example's namespaces run RUN_SECONDS during the test."""
    active = True

    def during_test(_pod: dict) -> bool:
        return active

    e2e_kube.pods.behave(namespace=SPARK_NS, labels={"spark-role": "driver"}, match=during_test,
                         run_seconds=RUN_SECONDS)
    e2e_kube.pods.behave(namespace=ARGO_NS, match=during_test, run_seconds=RUN_SECONDS)
    yield
    active = False


def driver_of_run(kube: KubeEmulator, run_id: str) -> dict | None:
    drivers = [p for p in kube.list("v1", "Pod", SPARK_NS, f"{DAG_LABEL},spark-role=driver")
               if (p["metadata"].get("annotations") or {}).get("sparkk8s.io/run-id") == run_id]
    return drivers[0] if drivers else None


def workflow_of_run(kube: KubeEmulator, run_id: str) -> dict | None:
    wfs = [w for w in kube.list(*WF, ARGO_NS, DAG_LABEL)
           if (w["metadata"].get("annotations") or {}).get("sparkk8s.io/run-id") == run_id]
    return wfs[0] if wfs else None


def spark_properties(kube: KubeEmulator, driver: dict) -> dict[str, str]:
    """The Spark conf the driver runs with: spark.properties of the ConfigMap its submission created."""
    maps = [m for m in kube.list("v1", "ConfigMap", SPARK_NS)
            if any(o.get("uid") == driver["metadata"]["uid"] for o in m["metadata"].get("ownerReferences") or [])]
    assert maps, f"no Spark conf ConfigMap owned by {driver['metadata']['name']}"
    properties = {}
    for line in maps[0]["data"]["spark.properties"].splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            properties[key.strip()] = value.strip()
    return properties


class RunWatch:
    """Polls both task instances of one run until they end, remembering every state each went through (a
    deferral can be short) and the Spark executor pods seen while the driver ran."""

    def __init__(self, stack: AirflowStack, kube: KubeEmulator, run_id: str) -> None:
        self.stack, self.kube, self.run_id = stack, kube, run_id
        self.states: dict[str, list[str]] = {SPARK_TASK: [], ARGO_TASK: []}
        self.executors: set[str] = set()

    def poll(self) -> bool:
        for task, seen in self.states.items():
            state = self.stack.ti_state(DAG_ID, self.run_id, task)
            if state and (not seen or seen[-1] != state):
                seen.append(state)
            if state in TERMINAL_TI_STATES and state != "success":
                raise StackError(f"{task} ended {state}:\n"
                                 f"{self.stack.task_log(DAG_ID, self.run_id, task)[-4000:]}")
        driver = driver_of_run(self.kube, self.run_id)
        if driver is not None:
            selector = f"spark-app-selector={driver['metadata']['labels']['spark-app-selector']},spark-role=executor"
            self.executors.update(p["metadata"]["name"] for p in self.kube.list("v1", "Pod", SPARK_NS, selector))
        return all(seen and seen[-1] == "success" for seen in self.states.values())


def test_conf_values_reach_the_spark_driver_and_the_argo_workflow(airflow_stack: AirflowStack,
                                                                  e2e_kube: KubeEmulator, slow_pods: None) -> None:
    install_params_example(airflow_stack, e2e_kube)
    conf: dict[str, Any] = {"partitions": 7, "executor_instances": 3, "environment": "staging",
                            "job_file": "/data/apps/etl.py"}  # shuffle_partitions keeps its default
    run_id = airflow_stack.trigger(DAG_ID, conf)

    watch = RunWatch(airflow_stack, e2e_kube, run_id)
    airflow_stack.wait(watch.poll, 180, f"both tasks of {run_id} to succeed", interval=0.2)
    airflow_stack.wait(lambda: airflow_stack.dag_run_state(DAG_ID, run_id) == "success", 30, "the run to succeed")
    for task, seen in watch.states.items():
        # Deferred, then resumed after the trigger fired: in the same try, with the triggerer's log to show.
        assert "deferred" in seen, f"{task} went through {seen}"
        assert seen.index("deferred") < seen.index("success"), seen
        assert airflow_stack.ti(DAG_ID, run_id, task)["try_number"] == 1
        assert "Waiting for" in airflow_stack.trigger_log(DAG_ID, run_id, task)
    driver = driver_of_run(e2e_kube, run_id)
    assert driver is not None

    # Spark: the argument of pi.py, the driver label and the properties from the conf; the default stays.
    container = driver["spec"]["containers"][0]
    assert container["args"][-2:] == ["local:///opt/spark/examples/src/main/python/pi.py", "7"]
    assert driver["metadata"]["labels"]["environment"] == "staging"
    properties = spark_properties(e2e_kube, driver)
    assert properties["spark.executor.instances"] == "3"
    assert properties["spark.sql.shuffle.partitions"] == "64"
    assert len(watch.executors) == 3, watch.executors
    assert e2e_kube.get("v1", "Pod", driver["metadata"]["name"], SPARK_NS)["status"]["phase"] == "Succeeded"

    # Argo: the workflow's argument, and the step's container that received it.
    wf = workflow_of_run(e2e_kube, run_id)
    assert wf is not None and wf["status"]["phase"] == "Succeeded"
    assert wf["spec"]["arguments"]["parameters"] == [{"name": "sparkJobFilePath", "value": "/data/apps/etl.py"}]
    [pod] = e2e_kube.list("v1", "Pod", ARGO_NS, f"workflows.argoproj.io/workflow={wf['metadata']['name']}")
    assert pod["spec"]["containers"][0]["args"] == ["/data/apps/etl.py"]

    # What the UI shows as "Rendered Templates".
    rendered = airflow_stack.ti(DAG_ID, run_id, SPARK_TASK)["rendered_fields"]
    assert rendered["application_args"] == ["7"]
    assert rendered["conf"]["spark.kubernetes.driver.label.environment"] == "staging"


@pytest.mark.parametrize("conf", [{"partitions": 0}, {"environment": "qa"}, {"partitions": "many"}],
                         ids=["below-minimum", "not-in-enum", "not-an-integer"])
def test_invalid_conf_is_refused_before_a_run_exists(airflow_stack: AirflowStack, e2e_kube: KubeEmulator,
                                                     conf: dict[str, Any]) -> None:
    install_params_example(airflow_stack, e2e_kube)
    before = airflow_stack.api("GET", f"/dags/{DAG_ID}/dagRuns")["total_entries"]
    with pytest.raises(StackError, match=r"-> 400"):
        airflow_stack.trigger(DAG_ID, conf)
    assert airflow_stack.api("GET", f"/dags/{DAG_ID}/dagRuns")["total_entries"] == before
