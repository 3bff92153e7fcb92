"""ArgoWorkflowOperator in real Airflow running a WorkflowTemplate whose steps the local kubelet runs for real: a
``script`` step prints a value, the next step gets it as ``{{steps.gen.outputs.result}}``, and the template's
output parameter (``valueFrom.parameter`` of that result, as Argo resolves it once the steps are done) is in the
operator's XCom. Argo's behaviour assumed for results is written in tests/sandbox/test_local_argo.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_sparkk8s.sandbox import SandboxConfig
from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.airflow.argo_support import NS, OPERATOR_IMPORTS, operator
from tests.airflow.conftest import DagResult
from tests.runtime.support import bwrap
from tests.sandbox.test_local_argo import GENERATE, MAPPING, workflow


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator], tmp_path: Path) -> KubeEmulator:
    bwrap()
    config = SandboxConfig.from_dict(MAPPING, base=tmp_path)
    kube = kube_emulator_factory(run_images=config.image, pod_pending_seconds=0.05)
    template = workflow("generate-and-consume", GENERATE)
    template["kind"] = "WorkflowTemplate"
    template["spec"]["templates"][0]["outputs"] = {"parameters": [
        {"name": "printed", "valueFrom": {"parameter": "{{steps.gen.outputs.result}}"}}]}
    kube.apply(template, NS)
    return kube


def test_the_operator_gets_the_result_a_script_step_printed(kube: KubeEmulator,
                                                            run_dag: Callable[..., DagResult]) -> None:
    result = run_dag(operator(False, None, workflow_template="generate-and-consume"), OPERATOR_IMPORTS)
    assert result.states == {"wf": "success"}, result.output[-3000:]
    value = result.xcom("wf")
    assert value["phase"] == "Succeeded" and value["progress"] == "2/2"
    assert value["outputs"] == {"printed": "42"}
    assert "consumed 42 and forty-two" in result.output  # the consumer step's log, in the task's log
