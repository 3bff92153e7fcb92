"""A local pod's ``/etc/hosts``: what the kubelet writes there, and the Services' names, which stand in for the
cluster DNS (CoreDNS) that local pods do not have.

The kubelet's part (kubelet_pods.go managedHostsFileContent): the localhost lines, the pod's IP with its hostname
(``hostname.subdomain.namespace.svc.cluster.local`` first when ``spec.subdomain`` is set), and ``spec.hostAliases``.

The cluster DNS part, as CoreDNS answers a pod of the ``ClusterFirst`` DNS policy: each Service's
``svc.ns.svc.cluster.local``, ``svc.ns.svc`` and ``svc.ns`` (the short ``svc`` only for the pod's own namespace,
which glibc reaches through the ``search`` domains of a cluster's resolv.conf) name the address the Service is
reached at; a headless Service's names name each ready endpoint's pod IP, and a pod whose hostname and subdomain
match it is also ``hostname.svc.ns.svc.cluster.local``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from .env import ServiceAddress

CLUSTER_DOMAIN = "cluster.local"
_HEADER = "# Kubernetes-managed hosts file.\n"
_LOCALHOST = ("127.0.0.1\tlocalhost\n"
              "::1\tlocalhost ip6-localhost ip6-loopback\n"
              "fe00::0\tip6-localnet\n"
              "fe00::0\tip6-mcastprefix\n"
              "fe00::1\tip6-allnodes\n"
              "fe00::2\tip6-allrouters\n")
_SERVICES_HEADER = "\n# Services, as the cluster DNS resolves them.\n"


def pod_hostname(pod: dict) -> str:
    """``spec.hostname``, else the pod's name (at most 63 characters, as the kubelet truncates it)."""
    return ((pod.get("spec") or {}).get("hostname") or pod["metadata"]["name"])[:63].rstrip("-.")


def managed_hosts(pod: dict, pod_ip: str) -> str:
    """What the kubelet writes in the pod's hosts file."""
    spec = pod.get("spec") or {}
    hostname, subdomain = pod_hostname(pod), spec.get("subdomain")
    namespace = pod["metadata"].get("namespace", "default")
    if subdomain:
        own = f"{pod_ip}\t{hostname}.{subdomain}.{namespace}.svc.{CLUSTER_DOMAIN}\t{hostname}\n"
    else:
        own = f"{pod_ip}\t{hostname}\n"
    text = _HEADER + _LOCALHOST + own
    aliases = spec.get("hostAliases") or []
    if aliases:
        text += "\n# Entries added by HostAliases.\n"
        text += "".join(f"{alias.get('ip', '')}\t{chr(9).join(alias.get('hostnames') or [])}\n" for alias in aliases)
    return text


def uses_cluster_dns(pod: dict) -> bool:
    """Whether the pod's DNS policy sends its lookups to the cluster DNS (``ClusterFirst``, the default, unless
    on the host's network; ``ClusterFirstWithHostNet``)."""
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    return policy == "ClusterFirstWithHostNet" or policy == "ClusterFirst" and not spec.get("hostNetwork")


def service_hosts(namespace: str, services: Iterable[dict], endpoints: Iterable[dict],
                  pods: Callable[[str, str], dict | None], address: ServiceAddress) -> str:
    """The Services' lines for a pod in ``namespace``. ``pods(namespace, name)`` reads an endpoint's pod (for its
    hostname), ``address`` maps a ClusterIP to where it is reached."""
    by_service = {(e["metadata"]["namespace"], e["metadata"]["name"]): e for e in endpoints}
    lines = []
    for service in sorted(services, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
        meta, spec = service["metadata"], service.get("spec") or {}
        name, ns = meta["name"], meta["namespace"]
        names = [f"{name}.{ns}.svc.{CLUSTER_DOMAIN}", f"{name}.{ns}.svc", f"{name}.{ns}"]
        if ns == namespace:
            names.append(name)
        cluster_ip = spec.get("clusterIP")
        if cluster_ip and cluster_ip != "None":
            reached = address(cluster_ip)
            if reached:
                lines.append(f"{reached}\t{chr(9).join(names)}\n")
            continue
        if spec.get("type") == "ExternalName":
            continue  # a CNAME: no address to write
        for ip, target in _ready_addresses(by_service.get((ns, name))):
            lines.append(f"{ip}\t{chr(9).join(names)}\n")
            pod = pods(ns, target) if target else None
            pod_spec = (pod or {}).get("spec") or {}
            if pod_spec.get("hostname") and pod_spec.get("subdomain") == name:
                lines.append(f"{ip}\t{pod_spec['hostname']}.{name}.{ns}.svc.{CLUSTER_DOMAIN}\n")
    return _SERVICES_HEADER + "".join(lines) if lines else ""


def _ready_addresses(endpoints: dict | None) -> list[tuple[str, str]]:
    """(ip, pod name) of the Endpoints' ready addresses, each IP once."""
    seen: dict[str, str] = {}
    for subset in (endpoints or {}).get("subsets") or []:
        for address in subset.get("addresses") or []:
            ref = address.get("targetRef") or {}
            seen.setdefault(address["ip"], ref.get("name", "") if ref.get("kind") == "Pod" else "")
    return list(seen.items())


def rewrite_in_place(path: Path, text: str) -> None:
    """Replace the file's content keeping its inode: a file bind-mounted into a container stays the inode it was
    when mounted, so a new file renamed over it would not be seen there. The new content is written over the old
    one before the file is cut to its length, so a reader never finds it empty."""
    data = text.encode()
    if path.exists() and path.read_bytes() == data:
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
