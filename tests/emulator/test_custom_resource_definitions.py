"""CustomResourceDefinitions as a Kubernetes 1.32 API server serves them: the naming and establishing
controllers' conditions, custom resources pruned, defaulted and validated against the version's openAPIV3Schema
(422 naming each field, in kube-openapi's words), field validation (`fieldValidation=Strict|Warn|Ignore`), and the
status and scale subresources. Driven with kubectl, kubernetes and kubernetes_asyncio."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import REPO, SHARED, require
from tests.emulator.cluster_clients import try_kubectl

GROUP, VERSION, PLURAL = "stable.example.com", "v1", "crontabs"
CRD_NAME = f"{PLURAL}.{GROUP}"


def crd(name: str = CRD_NAME, plural: str = PLURAL, kind: str = "CronTab", short: tuple[str, ...] = ("ct",)) -> dict:
    schema = {
        "type": "object",
        "description": "A schedule that runs an image.",
        "properties": {
            "spec": {
                "type": "object",
                "description": "What to run and when.",
                "required": ["cronSpec"],
                "properties": {
                    "cronSpec": {"type": "string", "pattern": r"^(\S+\s+){4}\S+$", "description": "The schedule."},
                    "image": {"type": "string", "minLength": 3, "maxLength": 20},
                    "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                    "color": {"type": "string", "enum": ["red", "green"]},
                    "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
                    "startAt": {"type": "string", "format": "date-time"},
                    "port": {"x-kubernetes-int-or-string": True},
                    "note": {"type": "string", "nullable": True},
                    "paused": {"type": "boolean", "default": False},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                                 "x-kubernetes-preserve-unknown-fields": True},
                },
            },
            "status": {"type": "object", "properties": {"replicas": {"type": "integer"},
                                                        "selector": {"type": "string"}}},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": name},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"plural": plural, "singular": plural[:-1], "kind": kind, "shortNames": list(short)},
                 "versions": [{"name": VERSION, "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": schema},
                               "subresources": {"status": {}, "scale": {
                                   "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                                   "labelSelectorPath": ".status.selector"}}}]},
    }


def cron(name: str = "nightly", **spec: object) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "CronTab", "metadata": {"name": name},
            "spec": {"cronSpec": "0 3 * * *", "image": "busybox", **spec}}


def custom_api(kube: KubeEmulator) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(config.new_client_from_config(config_file=str(kube.kubeconfig_path)))


def wait_established(kube: KubeEmulator, name: str = CRD_NAME) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        obj = kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name, None) or {}
        conditions = {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}
        if conditions.get("Established", {}).get("status") == "True":
            return obj
        time.sleep(0.02)
    raise AssertionError(f"{name} was not established")


@pytest.fixture
def kube(kube_emulator: KubeEmulator) -> KubeEmulator:
    kube_emulator.apply(crd())
    wait_established(kube_emulator)
    return kube_emulator


def invalid(kube: KubeEmulator, body: dict) -> dict:
    with pytest.raises(client.ApiException) as exc:
        custom_api(kube).create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    assert exc.value.status == 422, exc.value.body
    return json.loads(exc.value.body)


# ---------------------------------------------------------------------------------------------- establishing

def test_kubectl_wait_for_established_returns_and_the_status_carries_the_accepted_names(kube_emulator) -> None:
    created = try_kubectl(kube_emulator, "create", "-f", "-", stdin=json.dumps(crd()))
    assert created.returncode == 0, created.stderr
    waited = try_kubectl(kube_emulator, "wait", "--for", "condition=Established", f"crd/{CRD_NAME}", "--timeout=10s")
    assert waited.returncode == 0, waited.stderr
    assert f"customresourcedefinition.apiextensions.k8s.io/{CRD_NAME} condition met" in waited.stdout
    status = json.loads(try_kubectl(kube_emulator, "get", "crd", CRD_NAME, "-o", "json").stdout)["status"]
    assert status["acceptedNames"] == {"kind": "CronTab", "listKind": "CronTabList", "plural": "crontabs",
                                       "shortNames": ["ct"], "singular": "crontab"}
    assert status["storedVersions"] == ["v1"]
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in status["conditions"]] == [
        ("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
        ("Established", "True", "InitialNamesAccepted", "the initial names have been accepted")]
    # The resource is served under its short name.
    assert try_kubectl(kube_emulator, "get", "ct").returncode == 0


def test_a_kind_another_crd_of_the_group_has_is_not_accepted(kube) -> None:
    other = crd(name=f"crontables.{GROUP}", plural="crontables", short=())
    other["spec"]["names"]["listKind"] = "CronTableList"  # else the list kind conflicts too, and is reported last
    kube.apply(other)
    deadline = time.monotonic() + 10
    conditions: dict = {}
    while time.monotonic() < deadline and conditions.get("NamesAccepted", {}).get("status") != "False":
        obj = kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", other["metadata"]["name"], None)
        conditions = {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}
        time.sleep(0.02)
    assert conditions["NamesAccepted"]["reason"] == "KindConflict"
    assert conditions["NamesAccepted"]["message"] == '"CronTab" is already in use'
    assert (conditions["Established"]["status"], conditions["Established"]["reason"]) == ("False", "NotAccepted")
    # Not established, so not served.
    with pytest.raises(client.ApiException) as exc:
        custom_api(kube).list_namespaced_custom_object(GROUP, VERSION, "default", "crontables")
    assert exc.value.status == 404


def test_a_crd_whose_name_is_not_plural_dot_group_or_without_a_schema_is_invalid(kube_emulator) -> None:
    ext = client.ApiextensionsV1Api(config.new_client_from_config(config_file=str(kube_emulator.kubeconfig_path)))
    body = crd(name="crontabs")
    del body["spec"]["versions"][0]["schema"]
    with pytest.raises(client.ApiException) as exc:
        ext.create_custom_resource_definition(body)
    assert exc.value.status == 422
    assert json.loads(exc.value.body)["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "field": "metadata.name",
         "message": 'Invalid value: "crontabs": must be spec.names.plural+"."+spec.group'},
        {"reason": "FieldValueRequired", "field": "spec.versions[0].schema.openAPIV3Schema",
         "message": "Required value: schemas are required"}]


# ---------------------------------------------------------------------------------------------- validation

def test_a_wrong_type_is_422_naming_the_field(kube) -> None:
    body = invalid(kube, cron(replicas="three"))
    assert body["reason"] == "Invalid"
    assert body["message"] == ('CronTab.stable.example.com "nightly" is invalid: spec.replicas: Invalid value: '
                               '"string": spec.replicas in body must be of type integer: "string"')
    assert body["details"] == {"name": "nightly", "group": GROUP, "kind": "CronTab", "causes": [
        {"reason": "FieldValueTypeInvalid", "field": "spec.replicas",
         "message": 'Invalid value: "string": spec.replicas in body must be of type integer: "string"'}]}


def test_every_violated_keyword_is_reported_in_the_api_servers_words(kube) -> None:
    body = cron(image="ab", replicas=11, color="pink", tags=["a", "b", "c"], startAt="yesterday", port=1.5)
    body["spec"]["cronSpec"] = "daily"
    causes = {(c["field"], c["message"]) for c in invalid(kube, body)["details"]["causes"]}
    assert causes == {
        ("spec.cronSpec", "Invalid value: \"daily\": spec.cronSpec in body should match '^(\\S+\\s+){4}\\S+$'"),
        ("spec.image", 'Invalid value: "ab": spec.image in body should be at least 3 chars long'),
        ("spec.replicas", "Invalid value: 11: spec.replicas in body should be less than or equal to 10"),
        ("spec.color", 'Unsupported value: "pink": supported values: "red", "green"'),
        ("spec.tags", "Too many: 3: must have at most 2 items"),
        ("spec.startAt", 'Invalid value: "yesterday": spec.startAt in body must be of type date-time: "yesterday"'),
        ("spec.port", 'Invalid value: "number": spec.port in body must be of type integer,string: "number"'),
    }


def test_required_minimum_min_items_and_max_length(kube) -> None:
    body = cron(replicas=0, tags=[], image="x" * 21)
    del body["spec"]["cronSpec"]
    causes = {(c["reason"], c["field"], c["message"]) for c in invalid(kube, body)["details"]["causes"]}
    assert causes == {
        ("FieldValueRequired", "spec.cronSpec", "Required value"),
        ("FieldValueInvalid", "spec.replicas",
         "Invalid value: 0: spec.replicas in body should be greater than or equal to 1"),
        ("FieldValueInvalid", "spec.tags", "Invalid value: []interface {}{}: spec.tags in body should have at least "
                                           "1 items"),
        # 1.32 words maxLength as field.TooLong, without the value.
        ("FieldValueTooLong", "spec.image", "Too long: may not be more than 20 bytes"),
    }


def test_an_embedded_resource_needs_api_version_and_kind(kube) -> None:
    causes = invalid(kube, cron(template={"metadata": {"name": "x"}}))["details"]["causes"]
    assert {(c["field"], c["message"]) for c in causes} == {
        ("spec.template.apiVersion", "Required value: must not be empty"),
        ("spec.template.kind", "Required value: must not be empty")}


def test_defaults_nulls_unknown_fields_and_preserved_fields(kube) -> None:
    body = cron(note=None, port="http", extra={"anything": {"goes": [1, 2]}}, unknown="dropped")
    body["spec"]["paused"] = None  # not nullable: pruned, then defaulted
    body["metadata"]["bogus"] = "x"
    created = custom_api(kube).create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    assert created["spec"] == {"cronSpec": "0 3 * * *", "image": "busybox", "note": None, "port": "http",
                               "extra": {"anything": {"goes": [1, 2]}}, "replicas": 1, "paused": False}
    assert "bogus" not in created["metadata"]
    assert kube.get(f"{GROUP}/{VERSION}", "CronTab", "nightly")["spec"] == created["spec"]


def test_updates_and_patches_are_validated_too(kube) -> None:
    api = custom_api(kube)
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, cron())
    with pytest.raises(client.ApiException) as exc:
        api.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "nightly", {"spec": {"replicas": -1}})
    assert exc.value.status == 422
    assert json.loads(exc.value.body)["details"]["causes"][0]["field"] == "spec.replicas"
    current = api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "nightly")
    current["spec"]["color"] = "blue"
    with pytest.raises(client.ApiException) as exc:
        api.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "nightly", current)
    assert exc.value.status == 422
    assert json.loads(exc.value.body)["details"]["causes"][0]["field"] == "spec.color"


def test_the_asyncio_client_sees_the_same_422(kube) -> None:
    async def create() -> aclient.ApiException:
        async with await aconfig.new_client_from_config(config_file=str(kube.kubeconfig_path)) as api_client:
            with pytest.raises(aclient.ApiException) as exc:
                await aclient.CustomObjectsApi(api_client).create_namespaced_custom_object(
                    GROUP, VERSION, "default", PLURAL, cron(replicas=True))
            return exc.value

    exc = asyncio.run(create())
    assert exc.status == 422
    assert json.loads(exc.body)["details"]["causes"] == [
        {"reason": "FieldValueTypeInvalid", "field": "spec.replicas",
         "message": 'Invalid value: "boolean": spec.replicas in body must be of type integer: "boolean"'}]


# ---------------------------------------------------------------------------------------------- field validation

def test_kubectl_rejects_unknown_fields_strictly_by_default(kube, tmp_path: Path) -> None:
    manifest = tmp_path / "cron.yaml"
    manifest.write_text(yaml.safe_dump(cron(bogus=1)))
    result = try_kubectl(kube, "apply", "-f", str(manifest))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'Error from server (BadRequest): error when creating "{manifest}": CronTab in version "v1" cannot be '
        'handled as a CronTab: strict decoding error: unknown field "spec.bogus"')
    assert kube.get(f"{GROUP}/{VERSION}", "CronTab", "nightly") is None


def test_kubectl_validate_warn_prunes_with_a_warning_and_ignore_prunes_silently(kube, tmp_path: Path) -> None:
    manifest = tmp_path / "cron.yaml"
    manifest.write_text(yaml.safe_dump(cron(bogus=1)))
    warned = try_kubectl(kube, "create", "--validate=warn", "-f", str(manifest))
    assert warned.returncode == 0, warned.stderr
    assert 'Warning: unknown field "spec.bogus"' in warned.stderr
    assert "bogus" not in kube.get(f"{GROUP}/{VERSION}", "CronTab", "nightly")["spec"]
    manifest.write_text(yaml.safe_dump(cron("other", bogus=1)))
    ignored = try_kubectl(kube, "create", "--validate=false", "-f", str(manifest))
    assert ignored.returncode == 0 and "Warning" not in ignored.stderr, ignored.stderr


# ---------------------------------------------------------------------------------------------- subresources

def test_status_and_spec_are_written_through_their_own_endpoints(kube) -> None:
    api = custom_api(kube)
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, {**cron(), "status": {"replicas": 9}})
    assert "status" not in api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "nightly")
    api.patch_namespaced_custom_object_status(GROUP, VERSION, "default", PLURAL, "nightly",
                                              {"status": {"replicas": 2}, "spec": {"replicas": 5}})
    obj = api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "nightly")
    assert (obj["spec"]["replicas"], obj["status"]["replicas"]) == (1, 2)
    with pytest.raises(client.ApiException) as exc:
        api.patch_namespaced_custom_object_status(GROUP, VERSION, "default", PLURAL, "nightly",
                                                  {"status": {"replicas": "two"}})
    assert exc.value.status == 422


def test_kubectl_scale_goes_through_the_scale_subresource(kube) -> None:
    api = custom_api(kube)
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, cron())
    api.patch_namespaced_custom_object_status(GROUP, VERSION, "default", PLURAL, "nightly",
                                              {"status": {"replicas": 1, "selector": "app=cron"}})
    result = try_kubectl(kube, "scale", "ct", "nightly", "--replicas=4")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "crontab.stable.example.com/nightly scaled"
    scale = api.get_namespaced_custom_object_scale(GROUP, VERSION, "default", PLURAL, "nightly")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 4}
    assert scale["status"] == {"replicas": 1, "selector": "app=cron"}
    too_many = try_kubectl(kube, "scale", "ct", "nightly", "--replicas=11")
    assert too_many.returncode == 1  # the object's own schema still holds (maximum: 10)
    assert "spec.replicas in body should be less than or equal to 10" in too_many.stderr


# ---------------------------------------------------------------------------------------------- the project's CRDs

SPARK_CRD = SHARED / "schemas" / "spark-operator" / "sparkoperator.k8s.io_sparkapplications.yaml"


def test_the_projects_spark_applications_are_valid_under_the_real_crd(kube_emulator) -> None:
    require(SPARK_CRD.exists(), f"{SPARK_CRD} is absent")
    created = try_kubectl(kube_emulator, "create", "-f", str(SPARK_CRD))
    assert created.returncode == 0, created.stderr
    wait_established(kube_emulator, "sparkapplications.sparkoperator.k8s.io")
    manifest = REPO / "tests" / "contract" / "manifests" / "mixed.yaml"
    apps = [d for d in yaml.safe_load_all(manifest.read_text()) if d and d.get("kind") == "SparkApplication"]
    assert apps
    applied = try_kubectl(kube_emulator, "apply", "-f", "-", stdin=yaml.safe_dump_all(apps))
    assert applied.returncode == 0, applied.stderr
    # The real schema is enforced: a driver's cores must be an integer.
    broken = {**apps[0], "metadata": {"name": "broken"}, "spec": {**apps[0]["spec"], "driver": {"cores": "one"}}}
    rejected = try_kubectl(kube_emulator, "apply", "-f", "-", stdin=json.dumps(broken))
    assert rejected.returncode == 1
    assert 'spec.driver.cores: Invalid value: "string": spec.driver.cores in body must be of type integer: "string"' \
        in rejected.stderr


def test_deleting_the_crd_deletes_its_custom_resources_and_stops_serving_them(kube) -> None:
    api = custom_api(kube)
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, cron())
    ext = client.ApiextensionsV1Api(config.new_client_from_config(config_file=str(kube.kubeconfig_path)))
    ext.delete_custom_resource_definition(CRD_NAME)
    with pytest.raises(client.ApiException) as exc:
        api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    assert exc.value.status == 404
    kube.apply(crd())
    wait_established(kube)
    assert api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["items"] == []
