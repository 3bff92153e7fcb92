"""Argo script steps whose pods the local kubelet runs: the step's ``result`` and its output parameters come from
what the program really printed and wrote.

What Argo does, as assumed here (workflow/controller/workflowpod.go, workflow/executor/executor.go):
- a ``script`` template's main container runs its ``command`` with ``/argo/staging/script`` appended, the source
  written there beforehand (by the pod's init container);
- the executor reads the main container's stdout (not its stderr) as ``outputs.result`` and trims a single
  trailing newline "for user convenience" (``CaptureScriptResult``); an output parameter with ``valueFrom.path``
  is the file's content, a single trailing newline trimmed too (``SaveParameters``);
- ``{{steps.<name>.outputs.result}}`` in a later step's arguments is that text;
- a main container that exits 1 fails its node with ``main: Error (exit code 1)``, its step group and the
  workflow (``child '<node id>' failed``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_sparkk8s.sandbox import SandboxConfig
from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl, kubectl_json, wait_for
from tests.runtime.support import bwrap

MAPPING = {"images": [{"image": "alpine:*", "run": "host"},
                      {"image": "python:3.12", "run": "host", "entrypoint": ["python3"],
                       "commands": {"python": "python3"}}]}
DONE = ("Succeeded", "Failed", "Error")


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator], tmp_path: Path) -> KubeEmulator:
    bwrap()
    config = SandboxConfig.from_dict(MAPPING, base=tmp_path)
    return kube_emulator_factory(run_images=config.image, pod_pending_seconds=0.05, argo_server=False)


def workflow(name: str, gen: dict, consume: bool = True) -> dict:
    steps: list[list[dict]] = [[{"name": "gen", "template": "gen"}]]
    if consume:
        steps.append([{"name": "consume", "template": "echo", "arguments": {"parameters": [
            {"name": "value", "value": "{{steps.gen.outputs.result}}"},
            {"name": "answer", "value": "{{steps.gen.outputs.parameters.answer}}"}]}}])
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": name},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "steps": steps},
                {"name": "gen", **gen},
                {"name": "echo", "inputs": {"parameters": [{"name": "value"}, {"name": "answer"}]},
                 "container": {"image": "alpine:3.20", "command": ["sh", "-c"],
                               "args": ["echo consumed {{inputs.parameters.value}} and "
                                        "{{inputs.parameters.answer}}"]}}]}}


def run(kube: KubeEmulator, manifest: dict) -> dict:
    kubectl(kube, "create", "-f", "-", stdin=json.dumps(manifest))
    name = manifest["metadata"]["name"]
    return wait_for(lambda: (wf := kubectl_json(kube, "get", "workflow", name)).get("status", {}).get("phase")
                    in DONE and wf, timeout=60, interval=0.2, what=f"workflow {name} to end")


def step(wf: dict, display: str) -> dict[str, Any]:
    return next(n for n in wf["status"]["nodes"].values() if n["displayName"] == display)


def pod_of(wf: dict, display: str) -> str:
    """Argo's pod name for a step's node: <workflow>-<template>-<fnv32a(node name)>."""
    node = step(wf, display)
    return f"{wf['metadata']['name']}-{node['templateName']}-{node['id'].rsplit('-', 1)[1]}"


GENERATE = {
    "script": {"image": "python:3.12", "command": ["python"],
               "source": "import sys\n"
                         "print('a warning', file=sys.stderr)\n"
                         "open('/tmp/answer.txt', 'w').write('forty-two\\n')\n"
                         "print(6 * 7)\n"},
    "outputs": {"parameters": [{"name": "answer", "valueFrom": {"path": "/tmp/answer.txt"}}]},
}


def test_a_script_steps_result_is_what_it_printed_and_the_next_step_gets_it(kube: KubeEmulator) -> None:
    wf = run(kube, workflow("script-result", GENERATE))
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    gen = step(wf, "gen")
    # stdout only (the stderr line is not part of it), the single trailing newline trimmed
    assert gen["outputs"]["result"] == "42"
    assert gen["outputs"]["parameters"][0]["value"] == "forty-two"  # the file the program wrote
    assert gen["outputs"]["exitCode"] == "0"
    # The script pod's log has both streams, as kubectl shows a container's log.
    assert kubectl(kube, "logs", pod_of(wf, "gen"), "-c", "main").stdout == "a warning\n42\n"
    assert kubectl(kube, "logs", pod_of(wf, "consume"), "-c", "main").stdout == "consumed 42 and forty-two\n"
    script_pod = kubectl_json(kube, "get", "pod", pod_of(wf, "gen"))
    main = script_pod["spec"]["containers"][0]
    assert main["command"] == ["python"] and main["args"] == ["/argo/staging/script"]
    assert {"name": "argo-staging", "mountPath": "/argo/staging"} in main["volumeMounts"]


def test_a_result_keeps_all_but_its_last_newline(kube: KubeEmulator) -> None:
    gen = {"script": {"image": "alpine:3.20", "command": ["sh"],
                      "source": "echo first line\necho second line\necho\n"}}
    wf = run(kube, workflow("multi-line", gen, consume=False))
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    assert step(wf, "gen")["outputs"]["result"] == "first line\nsecond line\n"


def test_a_script_that_exits_1_fails_its_node_and_the_workflow(kube: KubeEmulator) -> None:
    gen = {"script": {"image": "python:3.12", "command": ["python"],
                      "source": "import sys\nprint('giving up')\nsys.exit(1)\n"}}
    wf = run(kube, workflow("script-fails", gen))
    assert wf["status"]["phase"] == "Failed"
    failed = step(wf, "gen")
    assert (failed["phase"], failed["message"]) == ("Failed", "main: Error (exit code 1)")
    assert failed["outputs"]["exitCode"] == "1"
    assert wf["status"]["message"] == f"child '{failed['id']}' failed"
    assert not any(n["displayName"] == "consume" for n in wf["status"]["nodes"].values())
    assert kubectl(kube, "logs", pod_of(wf, "gen"), "-c", "main").stdout == "giving up\n"


def test_an_output_file_the_program_did_not_write_is_an_error(kube: KubeEmulator) -> None:
    gen = {"script": {"image": "alpine:3.20", "command": ["sh"], "source": "echo no file written\n"},
           "outputs": {"parameters": [{"name": "answer", "valueFrom": {"path": "/tmp/answer.txt"}}]}}
    wf = run(kube, workflow("no-file", gen))
    node = step(wf, "gen")
    assert node["phase"] == "Error"
    assert node["message"].endswith("open /tmp/answer.txt: no such file or directory")
    assert wf["status"]["phase"] in ("Failed", "Error")
