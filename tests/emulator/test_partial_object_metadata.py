"""Reads in the representation the Accept header asks for: PartialObjectMetadata(List), Table, or the object.

A 1.32 API server takes the Accept header's media ranges by quality, then in order, and serves the first it can:
``application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`` (the python clients' metadata-only reads,
client-go's metadata informers) answers kind PartialObjectMetadataList with items holding only apiVersion, kind and
metadata; ``as=PartialObjectMetadata`` does the same for one object and for each event of a watch; ``as=Table``
(kubectl get) gives a Table, in the meta.k8s.io version asked for, and a watch of Tables carries the column
definitions in its first event only. A range for a kind the server cannot produce is passed over, and when none is
left the answer is 406 NotAcceptable; PartialObjectMetadata for a list (or PartialObjectMetadataList for one object)
is 406 too.
"""

from __future__ import annotations

import json
import subprocess

from kubernetes.client import api_client
from kubernetes.dynamic import DynamicClient

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.conftest import require_tool
from tests.emulator.cluster_clients import kubectl
from tests.emulator.test_aggregated_discovery import get

POM_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
POM = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


def dynamic(kube: KubeEmulator) -> DynamicClient:
    from tests.emulator.cluster_clients import client

    return DynamicClient(api_client.ApiClient(configuration=client(kube).configuration))


def watch_events(kube: KubeEmulator, path: str, accept: str) -> list[dict]:
    """The events of a one-second watch (the server ends it), one JSON object a line."""
    status, _, body = get(kube, path + ("&" if "?" in path else "?") + "watch=1&timeoutSeconds=1", Accept=accept)
    assert status == 200, body
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def test_dynamic_client_lists_and_gets_nodes_as_partial_object_metadata(kube_emulator: KubeEmulator) -> None:
    nodes = dynamic(kube_emulator).resources.get(api_version="v1", kind="Node")

    listed = nodes.get(header_params={"Accept": POM_LIST}).to_dict()
    assert (listed["kind"], listed["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    assert listed["metadata"]["resourceVersion"]
    assert listed["items"] and all(set(item) == {"apiVersion", "kind", "metadata"} for item in listed["items"])
    assert {(i["kind"], i["apiVersion"]) for i in listed["items"]} == {("PartialObjectMetadata", "meta.k8s.io/v1")}

    name = listed["items"][0]["metadata"]["name"]
    one = nodes.get(name=name, header_params={"aCcePt": POM}).to_dict()
    assert (one["kind"], one["apiVersion"], one["metadata"]["name"]) == ("PartialObjectMetadata", "meta.k8s.io/v1",
                                                                          name)
    assert one["metadata"]["labels"] and "status" not in one and "spec" not in one


def test_a_write_answers_in_the_negotiated_representation(kube_emulator: KubeEmulator) -> None:
    configmaps = dynamic(kube_emulator).resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "written"}, "data": {"key": "value"}}

    created = configmaps.create(body=body, namespace="default", header_params={"Accept": POM}).to_dict()
    patched = configmaps.patch(name="written", namespace="default", body={"data": {"key": "changed"}},
                               content_type="application/merge-patch+json", header_params={"Accept": POM}).to_dict()

    assert (created["kind"], created["metadata"]["name"]) == ("PartialObjectMetadata", "written")
    assert patched["kind"] == "PartialObjectMetadata" and "data" not in patched
    assert configmaps.get(name="written", namespace="default").data.key == "changed"


def test_a_watch_streams_partial_object_metadata(kube_emulator: KubeEmulator) -> None:
    kubectl(kube_emulator, "create", "configmap", "watched", "--from-literal=key=value")
    events = watch_events(kube_emulator, "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name=watched",
                          POM)
    assert [e["type"] for e in events] == ["ADDED"]
    assert events[0]["object"]["kind"] == "PartialObjectMetadata"
    assert events[0]["object"]["metadata"]["name"] == "watched" and "data" not in events[0]["object"]


def test_table_in_the_version_asked_for_and_its_watch_has_columns_once(kube_emulator: KubeEmulator) -> None:
    for name in ("first", "second"):
        kubectl(kube_emulator, "create", "configmap", name)
    status, _, body = get(kube_emulator, "/api/v1/namespaces/default/configmaps",
                          Accept="application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
    assert status == 200 and json.loads(body)["apiVersion"] == "meta.k8s.io/v1beta1"

    events = watch_events(kube_emulator, "/api/v1/namespaces/default/configmaps",
                          "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    assert len(events) >= 2 and {e["object"]["kind"] for e in events} == {"Table"}
    assert events[0]["object"]["columnDefinitions"]
    assert all(e["object"]["columnDefinitions"] is None for e in events[1:])


def test_kubectl_get_watch_prints_the_servers_columns(kube_emulator: KubeEmulator) -> None:
    # kubectl get -w asks its watch for Tables too; given plain objects it falls back to NAME and AGE for the events.
    watching = subprocess.Popen([require_tool("kubectl"), "--kubeconfig", str(kube_emulator.kubeconfig_path), "get",
                                 "nodes", "--watch", "--request-timeout=3s"], stdout=subprocess.PIPE, text=True)
    assert watching.stdout is not None
    printed = [watching.stdout.readline(), watching.stdout.readline()]  # the list's header and row: now it watches
    kubectl(kube_emulator, "label", "node", "emulator-node", "watched=yes")
    output = "".join(printed) + watching.communicate(timeout=30)[0]
    header, _, event = (line.split() for line in output.strip().splitlines())
    assert header == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], output
    assert [event[i] for i in (0, 1, 2, 4)] == ["emulator-node", "Ready", "control-plane", "v1.32.0"], output


def test_kinds_the_server_cannot_produce_are_not_acceptable(kube_emulator: KubeEmulator) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    for accept in ("application/json;as=Deployment;g=meta.k8s.io;v=v1", "application/json;as=Table",
                   "application/vnd.kubernetes.protobuf;as=Table;g=meta.k8s.io;v=v1", "text/html"):
        status, _, body = get(kube_emulator, path, Accept=accept)
        assert (status, json.loads(body)["reason"]) == (406, "NotAcceptable"), accept
    # ... but a later range the server can serve is taken.
    status, _, body = get(kube_emulator, path, Accept="application/json;as=Deployment;g=meta.k8s.io;v=v1, */*")
    assert status == 200 and json.loads(body)["kind"] == "ConfigMapList"

    # The list and single-object kinds are acceptable for any read, and refused when they do not fit the answer.
    status, _, body = get(kube_emulator, path, Accept=POM)
    assert (status, json.loads(body)["reason"]) == (406, "NotAcceptable")
    status, _, body = get(kube_emulator, path + "/kube-root-ca.crt", Accept=POM_LIST)
    assert (status, json.loads(body)["reason"]) == (406, "NotAcceptable")
