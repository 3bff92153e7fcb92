"""KubeEmulator: a Kubernetes API server on 127.0.0.1 that real clients accept, for tests, demos and offline
DAG development. It runs in a background thread with its own event loop, so blocking clients (kubectl,
spark-submit, the sync kubernetes client) and asyncio clients can all talk to it from the caller's thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .authn import Authenticator, TokenIssuer, service_account_user
from .bootstrap_rbac import ensure_bootstrap_policy
from .controllers.argo_workflows import ArgoWorkflowController
from .controllers.base import ApiClient, Controller
from .controllers.kubelet import Kubelet, KubeletSettings
from .controllers.kubernetes_service import CLUSTER_IP as KUBERNETES_CLUSTER_IP
from .controllers.local_pods import ImageLookup, LocalPods
from .controllers.pod_behaviour import ContainerPrograms, PodBehaviours
from .controllers.service_account_tokens import ServiceAccountTokenController
from .controllers.service_proxy import ServiceAddresses, ServiceProxy
from .controllers.spark_operator import SparkOperator
from .controllers.spark_submit import SparkSubmitProgram
from .faults import Faults, RequestLog
from .pod_logs import PodLogs
from .pods import Pods
from .rbac import Authorizer
from .resources import ResourceType
from .reviews import Reviews
from .runtime.running import RunningContainers
from .store import Store


class KubeEmulator:
    """A Kubernetes API emulator.

    >>> with KubeEmulator() as kube:
    ...     os.environ["KUBECONFIG"] = str(kube.kubeconfig_path)

    Args:
        host, port: where to listen (port 0 picks a free port).
        tls: serve HTTPS with a self-signed CA written beside the kubeconfig (``ca.crt``).
        token: require ``Authorization: Bearer <token>`` (401 otherwise). ``tokens`` maps more tokens to
            user names. Every user but ``admin`` (the user of ``token``, group ``system:masters``) is authorised
            by the RBAC objects in the store (``rbac.py``); ``service_account_token`` adds a token for a
            ServiceAccount, as do a ``kubernetes.io/service-account-token`` Secret
            (``controllers/service_account_tokens.py``) and a TokenRequest (``reviews.py``). Without ``token``
            and ``tokens``, a request without credentials acts as ``admin``; which of the two holds is fixed
            here, never changed by the objects applied later (``authn.py``).
        workdir: where the kubeconfig and certificates go (a private temporary directory by default,
            removed on stop).
        kubeconfig: an explicit path for the kubeconfig file.
        watch_window: how many changes the store keeps for watches to resume from; older resourceVersions
            get 410 Gone.
        bookmark_interval: seconds between BOOKMARK events on watches that allow them.
        watch_timeout: server-side limit of a watch without timeoutSeconds.
        simulate_pods: run the simulated kubelet (``controllers/kubelet.py``; on by default).
        pod_run_seconds, pod_pending_seconds: the default life of a simulated pod (a container whose command
            says how long it runs, such as ``sleep 3600``, runs that long).
        simulate_spark_operator: run the simulated spark-operator controller for SparkApplications
            (``controllers/spark_operator.py``; on by default).
        simulate_spark_submit: pods whose container runs spark-submit submit their application in cluster
            mode (``controllers/spark_submit.py``; on by default).
        simulate_argo: run the simulated Argo workflow controller for Workflows
            (``controllers/argo_workflows.py``; on by default).
        argo_server, argo_server_port: serve the Argo Server REST API (``argo_server.py``) on its own port
            (0 picks a free one), same TLS and tokens; its URL is ``argo_server_url``.
        namespaces: namespaces to create at start (besides default, kube-system, ...).
        job_pod_backoff_seconds: how long the job controller waits before replacing a Job's first failed pod
            (doubling with each failure, as on a real cluster: 10 s).
        run_images: the sandbox's image mapping lookup (image -> entry or None). Given, the kubelet runs the
            containers of pods whose images all map to entries that run locally as processes on this machine
            (``controllers/local_pods.py``), and pods with an image it does not list fail to pull it; those pods
            reach Services by name, through a proxy on loopback addresses (``controllers/service_proxy.py``).
            Their in-cluster clients reach the API server as on a cluster: through the ``kubernetes`` Service,
            over TLS (without ``tls``, the emulator then also serves HTTPS on a port of 127.0.0.1,
            ``secure_port``), with the kube-api-access volume's bound token and CA.
            None (the default): every pod is simulated, nothing runs on the host.
        restart_backoff_seconds: the first back-off before a local container restarts (doubling, as on a real
            cluster: 10 s); also the first back-off between pulls of an image that is not mapped.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: bool = False,
        token: str | None = None,
        tokens: dict[str, str] | None = None,
        workdir: str | os.PathLike | None = None,
        kubeconfig: str | os.PathLike | None = None,
        watch_window: int = 10_000,
        bookmark_interval: float = 1.0,
        watch_timeout: float = 1800.0,
        simulate_pods: bool = True,
        pod_run_seconds: float = 0.5,
        pod_pending_seconds: float = 0.1,
        simulate_spark_operator: bool = True,
        simulate_spark_submit: bool = True,
        simulate_argo: bool = True,
        argo_server: bool = True,
        argo_server_port: int = 0,
        namespaces: tuple[str, ...] | list[str] = (),
        job_pod_backoff_seconds: float = 10.0,
        run_images: ImageLookup | None = None,
        restart_backoff_seconds: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.tokens: dict[str, str] = dict(tokens or {})
        if token:
            self.tokens[token] = "admin"
        self.token = token
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else None
        self._kubeconfig_arg = Path(kubeconfig) if kubeconfig else None
        self.bookmark_interval = bookmark_interval
        self.watch_timeout = watch_timeout
        self.pod_run_seconds = pod_run_seconds
        self.pod_pending_seconds = pod_pending_seconds
        self.store = Store(watch_window=watch_window)
        self.faults = Faults()
        self.requests = RequestLog()
        self.rbac = Authorizer(self.store)
        self.token_issuer = TokenIssuer()
        self.authenticator = Authenticator(self.store, self.tokens, self.token_issuer,
                                           anonymous_is_admin=not self.tokens)
        self.reviews = Reviews(self.store, self.rbac, self.authenticator, self.token_issuer)
        # The controllers, each seeing the cluster only through its own API client.
        self.pod_logs = PodLogs(ApiClient(self.store))
        self.containers = RunningContainers()  # what runs locally: the kubelet fills it, pods/exec reaches it
        self.container_programs = ContainerPrograms()
        self.kubelet = Kubelet(ApiClient(self.store), self.pod_logs, PodBehaviours(), self.container_programs,
                               KubeletSettings(pod_run_seconds, pod_pending_seconds), enabled=simulate_pods)
        self.pods = Pods(self.kubelet.behaviours, self.container_programs, self.pod_logs, self.kubelet)
        self.spark_operator = SparkOperator(ApiClient(self.store), enabled=simulate_spark_operator)
        self.spark_submit = SparkSubmitProgram(ApiClient(self.store)) if simulate_spark_submit else None
        self.argo = ArgoWorkflowController(ApiClient(self.store), self.pod_logs, enabled=simulate_argo,
                                           files=self.containers.read_file)
        self.service_account_tokens = ServiceAccountTokenController(
            ApiClient(self.store), self.token_issuer, lambda: self._ca_pem)
        self.controllers: list[Controller] = [self.kubelet, self.spark_operator, self.argo,
                                              self.service_account_tokens]
        self.argo_server = argo_server
        self.argo_server_port = argo_server_port
        self._argo_runner: Any = None
        self._initial_namespaces = list(namespaces)
        self.job_pod_backoff_seconds = job_pod_backoff_seconds
        self._run_images = run_images
        self._restart_backoff_seconds = restart_backoff_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.kubeconfig_path: Path | None = None
        self.ca_path: Path | None = None  # the cluster's CA certificate, when the emulator serves TLS
        self._ca_pem: str | None = None  # what each namespace's kube-root-ca.crt holds
        self._addresses: ServiceAddresses | None = None  # the loopback addresses of its Services and local pods
        self.secure_port: int | None = None  # where the API is served over TLS (the `kubernetes` Service's target)

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def argo_server_url(self) -> str:
        """The Argo Server emulation's base URL (for Hera: ``WorkflowsService(host=...)``)."""
        if not self.argo_server:
            raise RuntimeError("the emulator was started with argo_server=False")
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.argo_server_port}"

    def start(self) -> KubeEmulator:
        if self._thread is not None:
            return self
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="sparkk8s-emulator-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._certificate_names: list[str] = []  # the API server certificate's, besides a kube-apiserver's
        if self._run_images is not None:
            # Its client can also ask for tokens (the serviceaccounts/token subresource), as a kubelet does.
            kubelet_api = ApiClient(self.store, self.reviews.token_request)
            addresses = self._addresses = ServiceAddresses.free()  # its own: others may run on this machine
            self.kubelet.local = LocalPods(kubelet_api, self.pod_logs, self.containers, self._run_images,
                                           self.workdir / "kubelet", self.kubelet.settings.node_name,
                                           restart_backoff_seconds=self._restart_backoff_seconds,
                                           pull_backoff_seconds=self._restart_backoff_seconds,
                                           service_addresses=addresses)
            # kube-proxy for the local pods; each change it applies rewrites their hosts files.
            self.controllers.append(ServiceProxy(ApiClient(self.store), self.kubelet.local.refresh_hosts, addresses))
            self._certificate_names.append(addresses(KUBERNETES_CLUSTER_IP) or "")
        ssl_context = None
        if self.tls or self._run_images is not None:  # local pods' in-cluster clients need TLS
            from .tls import make_certificates

            self.ca_path, cert, key = make_certificates(self.workdir, self.host, self._certificate_names)
            self._ca_pem = self.ca_path.read_text()
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(cert, key)
        else:
            from .tls import make_ca_pem

            self._ca_pem = make_ca_pem()  # nothing verifies it: a process-wide one spares a key per emulator
        ensure_bootstrap_policy(self.store)  # as the API server's rbac/bootstrap-roles post-start hook
        for ns in self._initial_namespaces:
            self.create_namespace(ns)
        self._thread = threading.Thread(target=self._run, args=(ssl_context,), name="kube-emulator", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"the Kubernetes API emulator did not start: {self._error}") from self._error
        self.kubeconfig_path = self.write_kubeconfig(self._kubeconfig_arg or self.workdir / "kubeconfig")
        return self

    def _run(self, ssl_context: ssl.SSLContext | None) -> None:
        from aiohttp import web

        from .server import Server

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self.pod_logs.start(loop)
            if self.spark_submit is not None:  # after the programs added before the start: they are asked first
                self.container_programs.add(self.spark_submit)
            self.controllers += self._control_plane()
            for controller in self.controllers:
                controller.start(loop)
            # Clients find what a cluster holds from the start (the node, each namespace's kube-root-ca.crt, ...).
            loop.run_until_complete(self._settle())
            # handler_cancellation: a watch or log follow ends when its client goes away, as on a real
            # API server, instead of holding its watcher until the server-side timeout.
            self._runner = web.AppRunner(Server(self).app, access_log=None, handle_signals=False,
                                         shutdown_timeout=0.5, handler_cancellation=True)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.host, self.port, ssl_context=ssl_context if self.tls else None,
                               backlog=1024, reuse_address=True)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            if self.tls:
                self.secure_port = self.port
            elif ssl_context is not None:  # as kube-apiserver's secure port, beside the plain one
                from .controllers.kubernetes_service import ADDRESS

                secure = web.TCPSite(self._runner, ADDRESS, 0, ssl_context=ssl_context, backlog=1024,
                                     reuse_address=True)
                loop.run_until_complete(secure.start())
                self.secure_port = secure._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            # Now that the port is known: the `kubernetes` Service and its endpoints, before clients come.
            loop.run_until_complete(self._publish_api_server())
            if self.argo_server:
                from .argo_server import ArgoServer

                argo = ArgoServer(self.store, authenticator=self.authenticator, authorizer=self.rbac,
                                  faults=self.faults, requests=self.requests, logs=self.pod_logs,
                                  watch_timeout=self.watch_timeout)
                self._argo_runner = web.AppRunner(argo.app, access_log=None, handle_signals=False,
                                                  shutdown_timeout=0.5, handler_cancellation=True)
                loop.run_until_complete(self._argo_runner.setup())
                argo_site = web.TCPSite(self._argo_runner, self.host, self.argo_server_port,
                                        ssl_context=ssl_context if self.tls else None, backlog=1024,
                                        reuse_address=True)
                loop.run_until_complete(argo_site.start())
                self.argo_server_port = argo_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        for controller in self.controllers:
            loop.run_until_complete(controller.stop())
        if self._argo_runner is not None:
            loop.run_until_complete(self._argo_runner.cleanup())
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    async def _publish_api_server(self) -> None:
        from .controllers.kubernetes_service import KEY, KubernetesServiceController

        for controller in self.controllers:
            if isinstance(controller, KubernetesServiceController):
                await controller.reconcile(KEY)
        await self._settle()

    async def _settle(self, timeout: float = 5.0) -> None:
        """Let the controllers work off what they found at start (the watches' first events arrive first)."""
        deadline = asyncio.get_running_loop().time() + timeout
        await asyncio.sleep(0)
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.005)
            if all(c.idle for c in self.controllers):
                return

    def _control_plane(self) -> list[Controller]:
        """The controllers of kube-controller-manager (and the kubelet's node registration) the emulator runs."""
        from .controllers.apiservices import APIServiceController
        from .controllers.clusterrole_aggregation import ClusterRoleAggregationController
        from .controllers.crd_establishing import CrdEstablishing
        from .controllers.cronjob import CronJobController
        from .controllers.daemonset import DaemonSetController
        from .controllers.deployment import DeploymentController
        from .controllers.endpoints import EndpointsController
        from .controllers.endpointslices import EndpointSliceController
        from .controllers.garbage_collector import GarbageCollector
        from .controllers.job import JobController
        from .controllers.kubelet import NODE_IP, NODE_NAME
        from .controllers.kubernetes_service import KubernetesServiceController
        from .controllers.namespace import NamespaceController
        from .controllers.namespace_defaults import RootCAPublisher, ServiceAccountsController
        from .controllers.node import NodeController
        from .controllers.replicaset import ReplicaSetController, ReplicationControllerController
        from .controllers.statefulset import StatefulSetController
        from .controllers.ttl_after_finished import TTLAfterFinishedController
        api = ApiClient(self.store)
        registry = self.store.registry

        def namespaced_kinds() -> list[tuple[str, str, str]]:
            return [(rt.api_version, rt.kind, f"{rt.plural}.{rt.group}" if rt.group else rt.plural)
                    for rt in list(registry.types.values()) if rt.namespaced]

        return [
            CrdEstablishing(api),
            ClusterRoleAggregationController(api),
            GarbageCollector(api),
            JobController(api, pod_backoff_seconds=self.job_pod_backoff_seconds),
            TTLAfterFinishedController(api),
            CronJobController(api),
            NodeController(api, NODE_NAME, NODE_IP),
            EndpointsController(api),
            EndpointSliceController(api),
            NamespaceController(api, namespaced_kinds),
            ServiceAccountsController(api),
            RootCAPublisher(api, self._ca_pem or ""),
            APIServiceController(api, registry.groups),
            DeploymentController(api),
            ReplicaSetController(api),
            ReplicationControllerController(api),
            StatefulSetController(api),
            DaemonSetController(api, default_node=NODE_NAME),
            KubernetesServiceController(api, lambda: self.secure_port or self.port),
        ]

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)
        self._thread = None
        if self._addresses is not None:
            self._addresses.release()
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> KubeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> KubeEmulator:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # ------------------------------------------------------------------ configuration for clients
    def service_account_token(self, namespace: str, name: str) -> str:
        """A new bearer token for ServiceAccount namespace/name: its requests are authorised by RBAC."""
        import secrets

        token = secrets.token_urlsafe(24)
        self.tokens[token] = service_account_user(namespace, name)
        return token

    def kubeconfig(self, namespace: str = "default", token: str | None = None) -> dict[str, Any]:
        import base64

        cluster: dict[str, Any] = {"server": self.url}
        if self.tls and self.ca_path is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_path.read_bytes()).decode()
        token = token or self.token
        user: dict[str, Any] = {"token": token} if token else {}
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sparkk8s-emulator", "cluster": cluster}],
            "users": [{"name": "sparkk8s-emulator", "user": user}],
            "contexts": [{"name": "sparkk8s-emulator", "context": {"cluster": "sparkk8s-emulator",
                                                                   "user": "sparkk8s-emulator",
                                                                   "namespace": namespace}}],
            "current-context": "sparkk8s-emulator",
            "preferences": {},
        }

    def write_kubeconfig(self, path: str | os.PathLike, namespace: str = "default", token: str | None = None
                         ) -> Path:
        """Write a kubeconfig for this server (mode 0600, it may hold a token; `token` instead of the admin's)."""
        import yaml

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            yaml.safe_dump(self.kubeconfig(namespace, token), fh, sort_keys=False)
        return path

    def airflow_connection(self, namespace: str = "default") -> dict[str, Any]:
        """An Airflow `kubernetes` connection (JSON form) pointing at this server."""
        return {"conn_type": "kubernetes",
                "extra": {"kube_config_path": str(self.kubeconfig_path), "namespace": namespace}}

    def argo_connection(self, namespace: str = "default", token: str | None = None) -> dict[str, Any]:
        """An Airflow `argo_workflows` connection (JSON form) pointing at the Argo Server emulation."""
        # The Argo Server emulation serves the UI's workflow page (argo_ui.py), as a real Argo Server does.
        extra: dict[str, Any] = {"namespace": namespace, "ui_base_url": self.argo_server_url}
        if self.tls and self.ca_path is not None:
            extra["ca_bundle"] = str(self.ca_path)
        return {"conn_type": "argo_workflows", "host": self.argo_server_url, "password": token or self.token or "",
                "extra": extra}

    def airflow_env(self, conn_id: str = "kubernetes_default", namespace: str = "default") -> dict[str, str]:
        """Environment variables that make Airflow's `conn_id` connection (and KUBECONFIG) use this server,
        and `argo_workflows_default` its Argo Server emulation."""
        env = {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(self.airflow_connection(namespace)),
               "KUBECONFIG": str(self.kubeconfig_path)}
        if self.argo_server:
            env["AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT"] = json.dumps(self.argo_connection(namespace))
        return env

    # ------------------------------------------------------------------ conveniences for tests
    def create_namespace(self, name: str, timeout: float = 5.0) -> dict:
        """The namespace, created if need be; once the emulator runs, it returns when the serviceaccounts
        controller has given it its default ServiceAccount (as `kubectl create namespace` and a wait would)."""
        ns_rt = self.store.registry.core("namespaces")
        namespace = self.store.try_get(ns_rt, None, name) or \
            self.store.create(ns_rt, None, {"metadata": {"name": name}})
        if self._thread is not None and not namespace["metadata"].get("deletionTimestamp"):
            sa_rt = self.store.registry.core("serviceaccounts")
            deadline = time.monotonic() + timeout
            while self.store.try_get(sa_rt, name, "default") is None and time.monotonic() < deadline:
                time.sleep(0.002)
        return namespace

    def register(self, rt: ResourceType) -> ResourceType:
        """Serve another resource type (a custom resource)."""
        return self.store.registry.register(rt)

    def apply(self, manifests: str | dict | list[dict], namespace: str | None = None) -> list[dict]:
        """Create (or replace) objects from dicts or multi-document YAML text, as `kubectl apply` would."""
        import yaml

        from .errors import ApiError

        if isinstance(manifests, str):
            docs = [d for d in yaml.safe_load_all(manifests) if d]
        elif isinstance(manifests, dict):
            docs = [manifests]
        else:
            docs = list(manifests)
        out = []
        for doc in docs:
            rt = self.store.rt(doc.get("apiVersion", ""), doc.get("kind", ""))
            ns = (doc.get("metadata") or {}).get("namespace") or namespace
            name = (doc.get("metadata") or {}).get("name")
            try:
                out.append(self.store.create(rt, ns, doc))
            except ApiError as exc:
                if exc.code != 409 or not name:
                    raise
                out.append(self.store.replace(rt, ns or "default", name, doc))
        return out

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = "default") -> dict | None:
        """The stored object, or None."""
        rt = self.store.rt(api_version, kind)
        return self.store.try_get(rt, namespace if rt.namespaced else None, name)

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
             ) -> list[dict]:
        return self.store.list(self.store.rt(api_version, kind), namespace, label_selector)["items"]

    def counters(self) -> dict[str, int]:
        return self.requests.counters()
