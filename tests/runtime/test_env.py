"""A container's environment as the kubelet resolves it: values with ``$(VAR)``, ``valueFrom``, ``envFrom`` and
the variables every container gets."""

from __future__ import annotations

import pytest

from airflow_provider_sparkk8s.testing.runtime import ContainerConfigFailure, container_env

from .support import config_map, pod, reader, secret

SETTINGS = config_map("settings", {"mode": "fast", "level": "3", "bad=key": "x"})
CREDENTIALS = secret("credentials", {"user": "ada", "password": "s3cret"})
KUBERNETES = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"},
              "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}}


def env_of(container: dict, the_pod: dict | None = None, **options: object) -> dict[str, str]:
    the_pod = the_pod or pod([container], labels={"app": "web"}, annotations={"team": "data"})
    return container_env(the_pod, container, reader(SETTINGS, CREDENTIALS), **options).variables  # type: ignore[arg-type]


def test_values_expand_earlier_variables_and_escape_with_double_dollar() -> None:
    env = env_of({"name": "c", "env": [
        {"name": "A", "value": "a"},
        {"name": "B", "value": "$(A)-b"},
        {"name": "C", "value": "$$(A) $(LATER) $(A)$(B)"},
        {"name": "LATER", "value": "late"},
        {"name": "EMPTY", "value": ""},
    ]})
    # $(LATER) is defined after C: Kubernetes leaves it as written.
    assert (env["A"], env["B"], env["C"], env["EMPTY"]) == ("a", "a-b", "$(A) $(LATER) aa-b", "")


def test_value_from_field_refs() -> None:
    refs = {"POD": "metadata.name", "NS": "metadata.namespace", "UID": "metadata.uid",
            "APP": "metadata.labels['app']", "TEAM": "metadata.annotations['team']",
            "NOLABEL": "metadata.labels['absent']", "NODE": "spec.nodeName", "SA": "spec.serviceAccountName",
            "HOST_IP": "status.hostIP", "POD_IP": "status.podIP", "POD_IPS": "status.podIPs"}
    env = env_of({"name": "c", "env": [{"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}
                                       for name, path in refs.items()]})
    assert {name: env[name] for name in refs} == {
        "POD": "p", "NS": "default", "UID": "uid-1", "APP": "web", "TEAM": "data", "NOLABEL": "",
        "NODE": "emulator-node", "SA": "default", "HOST_IP": "127.0.0.1", "POD_IP": "127.0.0.1",
        "POD_IPS": "127.0.0.1"}


def test_pod_ips_given_by_the_kubelet_win_over_the_status() -> None:
    container = {"name": "c", "env": [{"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]}
    assert env_of(container, pod_ips=["127.0.0.7"])["IP"] == "127.0.0.7"


def test_value_from_config_map_and_secret_keys() -> None:
    env = env_of({"name": "c", "env": [
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "credentials", "key": "password"}}},
        {"name": "OPTIONAL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "x", "optional": True}}},
        {"name": "GONE", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "x", "optional": True}}},
    ]})
    assert (env["MODE"], env["PASSWORD"]) == ("fast", "s3cret")
    assert "OPTIONAL" not in env and "GONE" not in env  # a missing optional reference sets nothing


@pytest.mark.parametrize(("ref", "message"), [
    ({"configMapKeyRef": {"name": "settings", "key": "k"}}, "couldn't find key k in ConfigMap default/settings"),
    ({"secretKeyRef": {"name": "credentials", "key": "k"}}, "couldn't find key k in Secret default/credentials"),
    ({"configMapKeyRef": {"name": "absent", "key": "k"}}, 'configmap "absent" not found'),
    ({"secretKeyRef": {"name": "absent", "key": "k"}}, 'secret "absent" not found'),
])
def test_missing_reference_is_a_create_container_config_error(ref: dict, message: str) -> None:
    with pytest.raises(ContainerConfigFailure) as failure:
        env_of({"name": "c", "env": [{"name": "X", "valueFrom": ref}]})
    assert (failure.value.reason, failure.value.message) == ("CreateContainerConfigError", message)


def test_env_from_with_prefix_skips_invalid_names_and_env_wins() -> None:
    result = container_env(pod([]), {"name": "c", "envFrom": [
        {"configMapRef": {"name": "settings"}, "prefix": "CFG_"},
        {"secretRef": {"name": "credentials"}},
        {"configMapRef": {"name": "absent", "optional": True}},
    ], "env": [{"name": "user", "value": "grace"}]}, reader(SETTINGS, CREDENTIALS))
    env = result.variables
    assert (env["CFG_mode"], env["CFG_level"], env["password"], env["user"]) == ("fast", "3", "s3cret", "grace")
    assert result.skipped_keys == ["CFG_bad=key"]
    with pytest.raises(ContainerConfigFailure, match='configmap "absent" not found'):
        env_of({"name": "c", "envFrom": [{"configMapRef": {"name": "absent"}}]})


def test_resource_field_refs_round_up_and_default_limits_to_the_node() -> None:
    container = {"name": "c", "resources": {"limits": {"cpu": "250m", "memory": "64Mi"}},
                 "env": [{"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                         {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                                "divisor": "1Mi"}}},
                         {"name": "REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu",
                                                                             "divisor": "1m"}}}]}
    env = env_of(container)
    assert (env["CPU"], env["MEM_MI"], env["REQ"]) == ("1", "64", "0")


def test_kubelet_adds_hostname_path_and_the_kubernetes_service_variables() -> None:
    other_namespace = {**KUBERNETES, "metadata": {"name": "db", "namespace": "elsewhere"}}
    env = env_of({"name": "c", "env": [{"name": "URL", "value": "https://$(KUBERNETES_SERVICE_HOST)"}]},
                 services=[KUBERNETES, other_namespace])
    assert env["HOSTNAME"] == "p" and env["PATH"].endswith("/usr/bin:/sbin:/bin") and env["HOME"] == "/root"
    assert {key: value for key, value in env.items() if key.startswith("KUBERNETES_")} == {
        "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443", "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443", "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443", "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1"}
    assert env["URL"] == "https://10.96.0.1"  # service variables are known to $(VAR) expansion
    assert not any(key.startswith("DB_") for key in env)  # another namespace's Service gives nothing


def test_service_links_of_the_pod_namespace_unless_disabled() -> None:
    db = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "my-db", "namespace": "default"},
          "spec": {"clusterIP": "10.96.0.9", "ports": [{"port": 5432}]}}
    container = {"name": "c"}
    assert env_of(container, services=[KUBERNETES, db])["MY_DB_SERVICE_HOST"] == "10.96.0.9"
    no_links = pod([container])
    no_links["spec"]["enableServiceLinks"] = False
    env = env_of(container, no_links, services=[KUBERNETES, db])
    assert "MY_DB_SERVICE_HOST" not in env and env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
