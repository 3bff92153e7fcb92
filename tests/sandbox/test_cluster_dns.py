"""Cluster DNS and Service routing for the local kubelet's pods, as a pod on a cluster sees them.

What a cluster gives a pod, which these tests assume:

- the kubelet writes the pod's /etc/hosts: the localhost lines, the pod's IP with its hostname (with
  ``hostname.subdomain.namespace.svc.cluster.local`` first when spec.subdomain is set), and spec.hostAliases;
- the cluster DNS (CoreDNS) resolves ``svc.ns.svc.cluster.local`` (and ``svc``, ``svc.ns``, ``svc.ns.svc``
  through the search domains of the pod's resolv.conf, ``svc`` alone only in the pod's own namespace) to the
  Service's ClusterIP, and a headless Service's names to its ready endpoints' pod IPs, and
  ``hostname.svc.ns.svc.cluster.local`` to a pod whose hostname and subdomain match the headless Service;
- kube-proxy forwards a connection to a ClusterIP's port to one of the Service's ready endpoints, on the
  endpoints' port of the same name (a named targetPort is resolved against the pod's containerPorts); a Service
  without a ready endpoint refuses connections (kube-proxy's REJECT rule); a deleted Service's name no longer
  resolves;
- the kubelet gives each container ``<SVC>_SERVICE_HOST``/``<SVC>_SERVICE_PORT`` for the Services of its
  namespace that exist when it starts (enableServiceLinks defaults to true), and they reach the Service.

Pods here share the host's network, so the servers listen on their pod IP and on free ports.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from kubernetes.client import CoreV1Api

from airflow_provider_sparkk8s.testing import KubeEmulator
from tests.emulator.cluster_clients import kubectl, pod_phase, wait_for
from tests.sandbox.local_kubelet import create, finished, free_port

PYTHON = "python:3.12"
FQDN = "default.svc.cluster.local"


def python_pod(name: str, script: str, labels: dict[str, str] | None = None, **spec: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "main", "image": PYTHON, "command": ["python3", "-c", script]}],
                     **spec}}


def service(name: str, port: int, target: int | str, selector: dict[str, str], **spec: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": selector, "ports": [{"name": "http", "port": port, "targetPort": target}], **spec}}


def serve_web(kube: KubeEmulator, core: CoreV1Api) -> int:
    """A pod serving HTTP on its IP (its containerPort named "http"), ready once it listens, behind the Service
    ``web`` whose targetPort is that name; the Service's port."""
    container_port, service_port = free_port(), free_port()
    web = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
           "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
               "name": "web", "image": PYTHON,
               "command": ["python3", "-m", "http.server", str(container_port), "--bind", "$(POD_IP)"],
               "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
               "ports": [{"name": "http", "containerPort": container_port}],
               "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 1}}]}}
    create(kube, web)
    create(kube, service("web", service_port, "http", {"app": "web"}))
    wait_for(lambda: ready_addresses(core, "web"), timeout=30, what="web to be ready behind its Service")
    return service_port


def ready_addresses(core: CoreV1Api, name: str) -> list[str]:
    endpoints = core.read_namespaced_endpoints(name, "default")
    return [a.ip for subset in endpoints.subsets or [] for a in subset.addresses or []]


def output_of(kube: KubeEmulator, core: CoreV1Api, manifest: dict) -> list[str]:
    """Run the pod to its end; its log lines (it must succeed)."""
    create(kube, manifest)
    name = manifest["metadata"]["name"]
    done = finished(core, name, timeout=30)
    logs = kubectl(kube, "logs", name).stdout
    assert done.status.phase == "Succeeded", logs
    return logs.splitlines()


FETCH = """
import os, urllib.request
def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, 'Directory listing' in response.read().decode()
print(get('http://web:{port}/'))
print(get('http://web.{fqdn}:{port}/'))
print(get('http://%s:%s/' % (os.environ['WEB_SERVICE_HOST'], os.environ['WEB_SERVICE_PORT'])))
print(os.environ['WEB_SERVICE_PORT'], os.environ['WEB_PORT_{port}_TCP_PORT'])
"""


def test_a_pod_reaches_a_cluster_ip_service_by_name_and_by_its_link_variables(kube: KubeEmulator,
                                                                              core: CoreV1Api) -> None:
    port = serve_web(kube, core)
    lines = output_of(kube, core, python_pod("client", FETCH.format(port=port, fqdn=FQDN)))
    assert lines == ["(200, True)", "(200, True)", "(200, True)", f"{port} {port}"]
    cluster_ip = core.read_namespaced_service("web", "default").spec.cluster_ip
    assert cluster_ip.startswith("10.96.")  # what kubectl shows stays a cluster's ClusterIP


RESOLVE = """
import socket, sys
for name in sys.argv[1:]:
    try:
        print(name, socket.gethostbyname(name))
    except socket.gaierror:
        print(name, 'unknown')
"""


def resolver_pod(name: str, *names: str) -> dict:
    manifest = python_pod(name, RESOLVE)
    manifest["spec"]["containers"][0]["command"] += ["resolve", *names]
    return manifest


def test_a_headless_service_resolves_to_its_ready_pods(kube: KubeEmulator, core: CoreV1Api) -> None:
    create(kube, python_pod("db-0", "import time; time.sleep(60)", {"app": "db"}, hostname="db-0", subdomain="db"))
    create(kube, python_pod("db-1", "import time; time.sleep(60)", {"app": "db"}))
    create(kube, service("db", 5432, 5432, {"app": "db"}, clusterIP="None"))
    wait_for(lambda: len(ready_addresses(core, "db")) == 2, timeout=30, what="both db pods behind db")
    ips = {p: core.read_namespaced_pod(p, "default").status.pod_ip for p in ("db-0", "db-1")}
    lines = output_of(kube, core, resolver_pod("client", "db", f"db.{FQDN}", f"db-0.db.{FQDN}", f"db-1.db.{FQDN}"))
    resolved = dict(line.split(" ") for line in lines)
    assert resolved["db"] in ips.values() and resolved[f"db.{FQDN}"] in ips.values()
    assert resolved[f"db-0.db.{FQDN}"] == ips["db-0"]  # its hostname and subdomain match the Service
    assert resolved[f"db-1.db.{FQDN}"] == "unknown"  # no hostname of its own


def test_a_pods_hosts_file_is_the_kubelets(kube: KubeEmulator, core: CoreV1Api) -> None:
    """The kubelet's lines come first, as it writes them (tab-separated), then the Services'. The container's
    hostname is the pod's (spec.hostname), and it resolves to the pod's IP, as programs that look up their own
    host name (Java's InetAddress.getLocalHost) expect."""
    aliases = [{"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]}]
    create(kube, python_pod("named", "import time; time.sleep(60)", hostname="box", subdomain="group",
                            hostAliases=aliases))
    wait_for(lambda: pod_phase(core, "named") == "Running", timeout=30)
    ip = core.read_namespaced_pod("named", "default").status.pod_ip
    hosts = kubectl(kube, "exec", "named", "--", "cat", "/etc/hosts").stdout
    assert hosts.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
                            "::1\tlocalhost ip6-localhost ip6-loopback\n")
    assert f"{ip}\tbox.group.{FQDN}\tbox\n" in hosts
    assert "\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n" in hosts
    own = kubectl(kube, "exec", "named", "--", "python3", "-c",
                  "import socket; name = socket.gethostname(); print(name, socket.gethostbyname(name))").stdout
    assert own == f"box {ip}\n"
    written = kubectl(kube, "exec", "named", "--", "sh", "-c", "echo x >> /etc/hosts", check=False)
    assert written.returncode != 0  # read-only here (it is rewritten as Services change)


REFUSED = """
import socket, sys
print(socket.gethostbyname('lonely') != '')
try:
    socket.create_connection(('lonely', int(sys.argv[1])), timeout=10)
    print('connected')
except ConnectionRefusedError:
    print('refused')
for name in ('other-svc.other', 'other-svc.other.svc.cluster.local', 'other-svc'):
    try:
        socket.gethostbyname(name)
        print(name, 'resolves')
    except socket.gaierror:
        print(name, 'unknown')
"""


def test_a_service_without_a_ready_endpoint_refuses_and_short_names_stay_in_the_namespace(
        kube: KubeEmulator, core: CoreV1Api) -> None:
    port = free_port()
    create(kube, service("lonely", port, port, {"app": "nobody"}))
    kube.create_namespace("other")
    kubectl(kube, "create", "-n", "other", "-f", "-",
            stdin=json.dumps(service("other-svc", free_port(), 80, {"app": "x"})))
    manifest = python_pod("client", REFUSED)
    manifest["spec"]["containers"][0]["command"] += [str(port)]
    assert output_of(kube, core, manifest) == [
        "True", "refused", "other-svc.other resolves", "other-svc.other.svc.cluster.local resolves",
        "other-svc unknown"]


def test_a_deleted_service_no_longer_resolves_nor_answers(kube: KubeEmulator, core: CoreV1Api) -> None:
    """The hosts file of a running pod follows the Services (CoreDNS answers from the current ones)."""
    port = serve_web(kube, core)
    create(kube, python_pod("client", "import time; time.sleep(60)"))
    wait_for(lambda: pod_phase(core, "client") == "Running", timeout=30)
    resolve = ["exec", "client", "--", "python3", "-c", RESOLVE, "web"]
    [line] = kubectl(kube, *resolve).stdout.splitlines()
    address = line.split(" ")[1]
    with socket.create_connection((address, port), timeout=10):
        pass  # the Service answers
    kubectl(kube, "delete", "service", "web")
    wait_for(lambda: kubectl(kube, *resolve).stdout == "web unknown\n", timeout=20, what="web to be unknown")
    wait_for(lambda: _refused(address, port), timeout=20, what="the Service's address to refuse")


def _refused(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_connections_to_a_service_go_to_its_ready_endpoints_in_turn(kube: KubeEmulator, core: CoreV1Api) -> None:
    """kube-proxy spreads connections over the ready endpoints (here in turn, as its userspace mode did; its
    iptables mode picks at random): two connections reach both pods."""
    container_port, service_port = free_port(), free_port()
    serve = (f"mkdir -p /tmp/www && echo $HOSTNAME > /tmp/www/index.html && "
             f"exec python3 -m http.server {container_port} --bind $POD_IP --directory /tmp/www")
    for name in ("web-a", "web-b"):
        create(kube, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
                      "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                          "name": "web", "image": PYTHON, "command": ["sh", "-c", serve],
                          "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
                          "readinessProbe": {"tcpSocket": {"port": container_port}, "periodSeconds": 1}}]}})
    create(kube, service("web", service_port, container_port, {"app": "web"}))
    wait_for(lambda: len(ready_addresses(core, "web")) == 2, timeout=30, what="both pods behind web")
    script = ("import urllib.request\nfor _ in range(2):\n"
              f"    print(urllib.request.urlopen('http://web:{service_port}/', timeout=10).read().decode().strip())")
    assert sorted(output_of(kube, core, python_pod("client", script))) == ["web-a", "web-b"]


def test_a_pod_reaches_the_api_server_through_the_kubernetes_service(kube: KubeEmulator, core: CoreV1Api) -> None:
    """In-cluster clients find the API server from KUBERNETES_SERVICE_HOST/PORT (or kubernetes.default.svc), which
    the kubelet sets in every container from the `kubernetes` Service in `default`, and verify its certificate with
    the CA bundle of the pod's kube-api-access volume (the API server serves HTTPS there even when the emulator's
    own port is plain HTTP)."""
    script = ("import os, ssl, urllib.request\n"
              "host, port = os.environ['KUBERNETES_SERVICE_HOST'], os.environ['KUBERNETES_SERVICE_PORT']\n"
              "ca = ssl.create_default_context(cafile='/var/run/secrets/kubernetes.io/serviceaccount/ca.crt')\n"
              "for where in (f'{host}:{port}', 'kubernetes.default.svc:443'):\n"
              "    print(where.split(':')[1], urllib.request.urlopen(f'https://{where}/version', context=ca).status)\n")
    create(kube, python_pod("in-cluster", script))
    done = finished(core, "in-cluster", timeout=30)
    logs = kubectl(kube, "logs", "in-cluster").stdout
    assert done.status.phase == "Succeeded", logs
    assert logs.split("\n")[:2] == ["443 200", "443 200"]
