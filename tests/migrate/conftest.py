"""Shared by the migration tests: Argo's JSON Schema as a validator, per kind."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import SHARED, require

SCHEMA = SHARED / "schemas" / "argo" / "schema.json"
KINDS = {
    "WorkflowTemplate": "io.argoproj.workflow.v1alpha1.WorkflowTemplate",
    "CronWorkflow": "io.argoproj.workflow.v1alpha1.CronWorkflow",
    "Workflow": "io.argoproj.workflow.v1alpha1.Workflow",
    "EventSource": "github.com.argoproj.argo_events.pkg.apis.events.v1alpha1.EventSource",
    "Sensor": "github.com.argoproj.argo_events.pkg.apis.events.v1alpha1.Sensor",
}


@pytest.fixture(scope="session")
def validate() -> Callable[[dict], None]:
    """Validate a manifest against Argo's JSON Schema, for its kind (as tests/emulator does for Workflows)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    require(SCHEMA.exists(), f"{SCHEMA} is missing")
    schema = json.loads(SCHEMA.read_text())
    # swagger 2.0 cannot say int-or-string: the generated JSON Schema says string; YAML gives integers.
    schema["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {
        "anyOf": [{"type": "string"}, {"type": "integer"}]}
    registry = Registry().with_resource("urn:argo", Resource.from_contents(schema, default_specification=DRAFT202012))
    validators = {kind: jsonschema.Draft202012Validator({"$ref": f"urn:argo#/definitions/{ref}"}, registry=registry)
                  for kind, ref in KINDS.items()}

    def check(manifest: dict) -> None:
        errors = list(validators[manifest["kind"]].iter_errors(manifest))
        assert not errors, f"{manifest['kind']} {manifest['metadata'].get('name')}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])

    return check
