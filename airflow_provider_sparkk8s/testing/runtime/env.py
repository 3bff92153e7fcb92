"""A container's environment as the kubelet and the container runtime build it (kubelet_pods.go
makeEnvironmentVariables): the image's env, then the service link variables, ``envFrom``, then ``env`` in order,
where a ``value`` may refer to variables defined before it as ``$(NAME)``."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .errors import ContainerConfigFailure
from .expansion import expand
from .pod_fields import pod_field, resource_field
from .volumes import ObjectReader

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # a runtime's PATH without image ENV
MASTER_NAMESPACE = "default"  # where the ``kubernetes`` Service lives
ServiceAddress = Callable[[str], "str | None"]  # a Service's ClusterIP -> where it is reached (None: there)


@dataclass
class ContainerEnv:
    variables: dict[str, str]
    # envFrom keys that are not valid variable names, skipped; the kubelet writes an Event
    # (InvalidEnvironmentVariableNames) for them.
    skipped_keys: list[str] = field(default_factory=list)


def container_env(pod: dict, container: dict, read: ObjectReader, services: Iterable[dict] = (),
                  image_env: Mapping[str, str] | None = None, pod_ips: Sequence[str] = (),
                  host_ips: Sequence[str] = (), service_address: ServiceAddress | None = None) -> ContainerEnv:
    """The env ``container`` of ``pod`` starts with. ``services`` are the Services the kubelet sees (the
    ``kubernetes`` one in ``default`` always gives its variables; the pod's namespace's ones do unless
    ``enableServiceLinks`` is false); ``service_address`` maps a ClusterIP to the address the pod reaches the
    Service at, where that differs. Raises ContainerConfigFailure with the kubelet's message."""
    namespace = pod["metadata"].get("namespace", "default")
    service_env = service_link_env(namespace, services, (pod.get("spec") or {}).get("enableServiceLinks", True),
                                   service_address)
    defined: dict[str, str] = {}
    skipped: list[str] = []
    for source in container.get("envFrom") or []:
        data = _env_from_data(source, namespace, read)
        for key, value in data.items():
            name = source.get("prefix", "") + key
            if _valid_name(name):
                defined[name] = value
            else:
                skipped.append(name)
    for var in container.get("env") or []:
        value = var.get("value", "")
        if value:
            defined[var["name"]] = expand(value, defined, service_env)
        elif "valueFrom" in var:
            resolved = _value_from(var["valueFrom"], pod, container, namespace, read, pod_ips, host_ips)
            if resolved is not None:
                defined[var["name"]] = resolved
        else:
            defined[var["name"]] = ""
    runtime = {"PATH": DEFAULT_PATH, **(image_env or {})}
    runtime.setdefault("HOME", "/root")
    runtime["HOSTNAME"] = (pod.get("spec") or {}).get("hostname") or pod["metadata"]["name"]
    return ContainerEnv({**runtime, **service_env, **defined}, skipped)


def service_link_env(namespace: str, services: Iterable[dict], enable_service_links: bool = True,
                     service_address: ServiceAddress | None = None) -> dict[str, str]:
    """The Docker-link-style variables for Services with a cluster IP (``KUBERNETES_SERVICE_HOST``, ...), with
    the address ``service_address`` gives for it, if any."""
    env: dict[str, str] = {}
    for service in services:
        metadata, spec = service["metadata"], service.get("spec") or {}
        in_pod_namespace = metadata.get("namespace") == namespace and enable_service_links
        is_master = metadata.get("namespace") == MASTER_NAMESPACE and metadata["name"] == "kubernetes"
        ip = spec.get("clusterIP")
        if not (in_pod_namespace or is_master) or ip in (None, "", "None") or not spec.get("ports"):
            continue
        env.update(_service_variables(metadata["name"], service_address and service_address(ip) or ip,
                                      spec["ports"]))
    return env


def _service_variables(name: str, ip: str, ports: list[dict]) -> dict[str, str]:
    prefix = name.upper().replace("-", "_")
    first = ports[0]
    env = {f"{prefix}_SERVICE_HOST": ip, f"{prefix}_SERVICE_PORT": str(first["port"]),
           f"{prefix}_PORT": f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"}
    for port in ports:
        if port.get("name"):
            env[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(port["port"])
        protocol = port.get("protocol", "TCP")
        base = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
        env[base] = f"{protocol.lower()}://{ip}:{port['port']}"
        env[f"{base}_PROTO"] = protocol.lower()
        env[f"{base}_PORT"] = str(port["port"])
        env[f"{base}_ADDR"] = ip
    return env


def _valid_name(name: str) -> bool:
    """Kubernetes 1.32's relaxed rule (RelaxedEnvironmentVariableValidation, on by default): printable ASCII but
    ``=``."""
    return bool(name) and all(" " <= ch <= "~" for ch in name) and "=" not in name


def _env_from_data(source: dict, namespace: str, read: ObjectReader) -> dict[str, str]:
    kind = "ConfigMap" if "configMapRef" in source else "Secret"
    ref = source.get("configMapRef") or source.get("secretRef") or {}
    obj = read("v1", kind, namespace, ref.get("name", ""))
    if obj is None:
        if ref.get("optional"):
            return {}
        raise ContainerConfigFailure(f'{kind.lower()} "{ref.get("name", "")}" not found')
    return _string_data(kind, obj)


def _string_data(kind: str, obj: dict) -> dict[str, str]:
    data = obj.get("data") or {}
    if kind == "Secret":
        return {key: base64.b64decode(value).decode(errors="replace") for key, value in data.items()}
    return dict(data)


def _value_from(source: dict, pod: dict, container: dict, namespace: str, read: ObjectReader,
                pod_ips: Sequence[str], host_ips: Sequence[str]) -> str | None:
    """A ``valueFrom``'s value, or None when an optional reference is missing (the variable is then not set)."""
    if "fieldRef" in source:
        return pod_field(pod, source["fieldRef"]["fieldPath"], pod_ips, host_ips)
    if "resourceFieldRef" in source:
        ref = source["resourceFieldRef"]
        name = ref.get("containerName") or container["name"]
        spec = pod.get("spec") or {}
        target = next((c for c in [*spec.get("initContainers", []), *spec.get("containers", [])]
                       if c["name"] == name), container)
        return resource_field(target, ref["resource"], ref.get("divisor"))
    kind = "ConfigMap" if "configMapKeyRef" in source else "Secret"
    ref = source.get("configMapKeyRef") or source.get("secretKeyRef") or {}
    name, key, optional = ref.get("name", ""), ref.get("key", ""), bool(ref.get("optional"))
    obj = read("v1", kind, namespace, name)
    if obj is None:
        if optional:
            return None
        raise ContainerConfigFailure(f'{kind.lower()} "{name}" not found')
    data = _string_data(kind, obj)
    if key not in data:
        if optional:
            return None
        raise ContainerConfigFailure(f"couldn't find key {key} in {kind} {namespace}/{name}")
    return data[key]
