"""The docker-compose stack (docker-compose.yaml, deploy/).

Docker cannot run here, so the stack is checked from its files: `docker-compose config` (when the binary is
installed; it needs no engine), the wiring between services read with PyYAML (images, shared volumes, start
order, connections), the Dockerfile against the lock file, and deploy/bootstrap.sh run for real against the
Kubernetes API emulator with its upstream installs switched off.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from graphlib import CycleError, TopologicalSorter
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from airflow_provider_sparkk8s.kube_api import KubeApiError
from tests.conftest import require, require_tool

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yaml"
DEPLOY = REPO / "deploy"
BOOTSTRAP = DEPLOY / "bootstrap.sh"
DOCKERFILE = DEPLOY / "Dockerfile"
EXAMPLE_MANIFESTS = REPO / "dags_examples" / "manifests"

AIRFLOW_COMPONENTS = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
AIRFLOW_SERVICES = ("airflow-init", *AIRFLOW_COMPONENTS)
ONE_SHOT = ("airflow-init", "k3s-bootstrap")
EXPECTED_SERVICES = {"postgres", "k3s", "k3s-bootstrap", *AIRFLOW_SERVICES}
BASE_IMAGE = "apache/airflow:3.3.2-python3.11"
FLOATING_TAGS = {"latest", "stable", "edge", "main", "master", "nightly", "dev"}


# ---------------------------------------------------------------------------------------------- helpers
def interpolate(value: str) -> str:
    """Compose's variable substitution as a user without a .env file gets it: `${VAR:-default}` gives the
    default, `${VAR}` nothing, `$$` a literal `$`."""

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return match.group("default") or ""

    return re.sub(r"\$\$|\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}", sub, value)


def env_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: interpolate(str(value)) for key, value in environment.items()}


def mounts_of(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) for each short-syntax volume."""
    mounts = []
    for spec in service.get("volumes") or []:
        parts = interpolate(spec).split(":")
        mounts.append((parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")))
    return mounts


def resolve(service: dict[str, Any], container_path: str) -> tuple[str, PurePosixPath] | None:
    """Which volume (or host directory, `./...`) a container path lives on, and where in it."""
    path = PurePosixPath(container_path)
    best = None
    for source, target, _ in mounts_of(service):
        if path == PurePosixPath(target) or PurePosixPath(target) in path.parents:
            if best is None or len(target) > len(best[1]):
                best = (source, target)
    if best is None:
        return None
    return best[0], path.relative_to(best[1])


def host_path(service: dict[str, Any], container_path: str) -> Path:
    located = resolve(service, container_path)
    assert located is not None, f"{container_path} is on no volume of the service"
    source, relative = located
    assert source.startswith("./"), f"{container_path} is on volume {source!r}, not on a repository directory"
    return REPO / source / relative


def is_pinned(image: str) -> bool:
    """A version tag (with a digit, not a floating name), optionally with a digest."""
    name, _, digest = image.partition("@")
    if digest and not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        return False
    repository, _, tag = name.rpartition(":")
    if not repository or "/" in tag:
        return bool(digest)
    return tag not in FLOATING_TAGS and bool(re.search(r"\d", tag))


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or one of its parents decides."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = re.escape(pattern.strip("/")).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        return re.compile(out.replace(r"\*", "[^/]*").replace(r"\?", "[^/]"))

    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        compiled = regex(pattern[1:] if negated else pattern)
        if any(compiled.fullmatch(candidate) for candidate in candidates):
            ignored = not negated
    return ignored


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    return None


# ---------------------------------------------------------------------------------------------- tests
def test_docker_compose_config_accepts_the_file() -> None:
    command = compose_command()
    require(command is not None, "docker-compose (or the docker compose plugin) is not installed")
    assert command is not None
    # No .env and none of the stack's variables from the caller: the defaults are what is checked.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "INSTALL_", "COMPOSE_"))}
    result = subprocess.run([*command, "-f", str(COMPOSE_FILE), "config"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    assert set(resolved) == EXPECTED_SERVICES
    # Compose itself expands the anchors: every Airflow component gets the same image and settings.
    first = resolved[AIRFLOW_COMPONENTS[0]]
    for name in AIRFLOW_COMPONENTS[1:]:
        assert resolved[name]["image"] == first["image"]
        assert resolved[name]["environment"] == first["environment"], name


def test_expected_services_exist(services: dict[str, Any]) -> None:
    assert set(services) == EXPECTED_SERVICES
    assert services["k3s"]["privileged"] is True
    assert "8080:8080" in services["airflow-apiserver"]["ports"]
    commands = {name: services[name]["command"] for name in AIRFLOW_COMPONENTS}
    assert commands == {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                        "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer"}


def test_every_image_is_pinned(services: dict[str, Any]) -> None:
    for name, service in services.items():
        image = interpolate(service.get("image", ""))
        assert image, f"{name} has no image name (a built image needs a versioned tag too)"
        assert is_pinned(image), f"{name}: {image} is not pinned to a version"
    assert is_pinned("postgres:16.4") and not is_pinned("postgres") and not is_pinned("rancher/k3s:latest")


def test_airflow_services_share_image_and_database(services: dict[str, Any]) -> None:
    reference = services[AIRFLOW_COMPONENTS[0]]
    for name in AIRFLOW_SERVICES:
        assert services[name]["image"] == reference["image"], name
        assert services[name]["build"] == reference["build"], name
        assert services[name]["user"] == reference["user"], name
    urls = {env_of(services[name])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] for name in AIRFLOW_SERVICES}
    assert len(urls) == 1, urls
    url = urlsplit(urls.pop())
    postgres = env_of(services["postgres"])
    assert url.scheme.startswith("postgresql") and url.hostname in services
    assert (url.username, url.password, url.path.lstrip("/")) == (
        postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])
    # Tasks reach the execution API on the api-server's container port.
    for name in AIRFLOW_SERVICES:
        execution_api = urlsplit(env_of(services[name])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert execution_api.hostname == "airflow-apiserver" and execution_api.port == 8080
    # Every process signs and checks execution-API tokens with the same secret.
    secrets = {env_of(services[name]).get("AIRFLOW__API_AUTH__JWT_SECRET") for name in AIRFLOW_SERVICES}
    assert len(secrets) == 1 and None not in secrets


def test_dags_examples_is_the_dags_folder(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        dags_folder = env_of(services[name]).get("AIRFLOW__CORE__DAGS_FOLDER", "/opt/airflow/dags")
        assert host_path(services[name], dags_folder) == REPO / "dags_examples", name
        assert (host_path(services[name], dags_folder) / "manifests" / "calendar-source.yaml").exists()


def test_kubeconfig_goes_from_k3s_through_the_bootstrap_to_airflow(services: dict[str, Any],
                                                                   compose: dict[str, Any]) -> None:
    k3s, bootstrap = services["k3s"], services["k3s-bootstrap"]
    boot_env = env_of(bootstrap)
    # k3s writes its kubeconfig on a volume the bootstrap reads at K3S_KUBECONFIG.
    written = resolve(k3s, env_of(k3s)["K3S_KUBECONFIG_OUTPUT"])
    read = resolve(bootstrap, boot_env["K3S_KUBECONFIG"])
    assert written is not None and written == read
    assert written[0] in compose["volumes"]
    # The bootstrap writes Airflow's kubeconfig on a volume it mounts read-write ...
    handed = resolve(bootstrap, boot_env["AIRFLOW_KUBECONFIG"])
    assert handed is not None and handed[0] in compose["volumes"]
    assert (handed[0], False) in {(source, ro) for source, _, ro in mounts_of(bootstrap)}
    # ... at the path the kubernetes_default connection and KUBECONFIG name in every Airflow component.
    for name in AIRFLOW_COMPONENTS:
        env = env_of(services[name])
        connection = json.loads(env["AIRFLOW_CONN_KUBERNETES_DEFAULT"])
        assert resolve(services[name], connection["extra"]["kube_config_path"]) == handed, name
        assert resolve(services[name], env["KUBECONFIG"]) == handed, name
    # The rewritten server is the k3s service by its compose hostname, and its certificate names it.
    api = urlsplit(boot_env["K3S_API_URL"])
    assert api.scheme == "https" and api.hostname in services and api.hostname == k3s["hostname"]
    assert f"--tls-san={api.hostname}" in k3s["command"].split()


def test_long_running_services_have_health_checks(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert str(service.get("restart", "no")) == "no", f"{name} runs once; it must not be restarted"
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service.get("restart") in ("always", "unless-stopped"), name


def test_start_order(services: dict[str, Any]) -> None:
    graph: dict[str, dict[str, str]] = {}
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        graph[name] = {target: spec["condition"] for target, spec in depends.items()}
    try:
        order = list(TopologicalSorter({name: set(deps) for name, deps in graph.items()}).static_order())
    except CycleError as exc:
        pytest.fail(f"depends_on has a cycle: {exc.args[1]}")
    for name, deps in graph.items():
        for target, condition in deps.items():
            assert target in services, f"{name} depends on unknown {target}"
            expected = "service_completed_successfully" if target in ONE_SHOT else "service_healthy"
            assert condition == expected, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{target} has no health check to wait for"

    def upstream(name: str) -> set[str]:
        found = set(graph[name])
        for target in graph[name]:
            found |= upstream(target)
        return found

    for name in ("airflow-scheduler", "airflow-triggerer"):
        assert graph[name].get("k3s-bootstrap") == "service_completed_successfully", name
    for name in AIRFLOW_COMPONENTS:
        assert "airflow-init" in upstream(name) and "postgres" in upstream(name), name
    assert graph["airflow-init"] == {"postgres": "service_healthy"}
    assert graph["k3s-bootstrap"] == {"k3s": "service_healthy"}
    assert order.index("k3s-bootstrap") < order.index("airflow-scheduler")


def test_init_migrates_the_database_and_creates_an_admin(services: dict[str, Any]) -> None:
    script = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in script
    assert re.search(r"airflow users create --role Admin", script)
    env = env_of(services["airflow-init"])
    assert env["AIRFLOW_ADMIN_USERNAME"] and env["AIRFLOW_ADMIN_PASSWORD"]


def test_connections_parse_and_point_at_the_cluster(services: dict[str, Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import Connection

    from airflow_provider_sparkk8s.hooks.argo import ArgoWorkflowsHook
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook

    env = env_of(services["airflow-scheduler"])
    for name in AIRFLOW_COMPONENTS:
        assert {k: v for k, v in env_of(services[name]).items() if k.startswith("AIRFLOW_CONN_")} == \
            {k: v for k, v in env.items() if k.startswith("AIRFLOW_CONN_")}, name
    for key in ("AIRFLOW_CONN_KUBERNETES_DEFAULT", "AIRFLOW_CONN_ARGO_WORKFLOWS_DEFAULT"):
        value = env[key]
        conn_id = key.removeprefix("AIRFLOW_CONN_").lower()
        # Airflow takes either form: JSON, or a URI.
        conn = Connection.from_json(value, conn_id=conn_id) if value.lstrip().startswith("{") \
            else Connection(conn_id=conn_id, uri=value)
        assert conn.conn_type in ("kubernetes", "argo_workflows")
        monkeypatch.setenv(key, value)

    kube = SparkK8sHook("kubernetes_default")
    assert kube.get_namespace() == "spark-jobs"
    assert kube.connection_extra("kube_config_path") == env["KUBECONFIG"]

    settings = ArgoWorkflowsHook(argo_conn_id="argo_workflows_default")._argo_settings()
    server = urlsplit(settings["url"])
    assert server.hostname == services["k3s"]["hostname"]
    nodeport = yaml.safe_load((DEPLOY / "manifests" / "argo-server-nodeport.yaml").read_text())
    assert server.port == nodeport["spec"]["ports"][0]["nodePort"]
    # The patch makes the Argo Server speak plain HTTP and act as itself: an http URL and no token.
    patch = json.loads((DEPLOY / "manifests" / "argo-server-patch.json").read_text())
    args = next(op["value"] for op in patch if op["path"].endswith("/args"))
    assert "--secure=false" in args and "--auth-mode=server" in args
    assert server.scheme == "http" and not settings["token"]
    assert settings["namespace"] == "argo"
    # The UI link is the host port k3s publishes for that NodePort.
    ui_port = urlsplit(settings["ui_url"]).port
    assert f"127.0.0.1:{ui_port}:{server.port}" in services["k3s"]["ports"]


def test_dockerfile_builds_on_the_pinned_image_with_the_lock(services: dict[str, Any]) -> None:
    build = services["airflow-scheduler"]["build"]
    assert (REPO / build["context"]).resolve() == REPO
    assert (REPO / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    instructions = dockerfile_instructions(DOCKERFILE.read_text())
    stages: set[str] = set()
    bases = []
    for keyword, rest in instructions:
        if keyword == "FROM":
            words = rest.split()
            image = next(w for w in words if not w.startswith("--"))
            if image not in stages:
                assert is_pinned(image), f"FROM {image} is not pinned"
                bases.append(image)
            if len(words) >= 3 and words[-2].upper() == "AS":
                stages.add(words[-1])
    assert bases and set(bases) == {BASE_IMAGE}
    # The base image's Airflow and Python are the ones the lock was resolved for.
    lock = (REPO / "requirements" / "lock.txt").read_text()
    airflow_pin = re.search(r"^apache-airflow==(\S+)", lock, re.M)
    python_pin = re.search(r"--python-version (\S+)", lock)
    assert airflow_pin and python_pin
    assert BASE_IMAGE == f"apache/airflow:{airflow_pin.group(1)}-python{python_pin.group(1)}"
    assert airflow_pin.group(1) in services["airflow-scheduler"]["image"]
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert re.search(r"pip install [^&]*--require-hashes -r \S*lock\.txt", runs)

    # Every COPY source from the context exists and survives the Dockerfile's .dockerignore.
    ignore = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    copied = []
    for keyword, rest in instructions:
        words = rest.split()
        if keyword != "COPY" or any(w.startswith("--from=") for w in words):
            continue
        for source in [w for w in words if not w.startswith("--")][:-1]:
            path = REPO / source
            assert path.exists(), f"COPY {source}: missing"
            files = [path] if path.is_file() else [p for p in path.rglob("*.py") if "__pycache__" not in p.parts]
            assert files, source
            for file in files:
                relative = file.relative_to(REPO).as_posix()
                assert not dockerignored(relative, ignore), f"{relative} is excluded from the build context"
                copied.append(relative)
    assert dockerignored(".venv/bin/python", ignore) and dockerignored("dags_examples/spark_etl_daily.py", ignore)
    assert dockerignored("airflow_provider_sparkk8s/__pycache__/cli.cpython-311.pyc", ignore)
    # The wheel build needs the readme pyproject.toml names.
    readme = re.search(r'^readme\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert readme and readme.group(1) in copied
    assert "deploy/build-requirements.txt" in copied
    for line in (DEPLOY / "build-requirements.txt").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            assert re.fullmatch(r"[\w.-]+==[\w.]+ \\", line), line


def test_bootstrap_applies_files_that_exist(services: dict[str, Any]) -> None:
    bootstrap = services["k3s-bootstrap"]
    env = env_of(bootstrap)
    script = BOOTSTRAP.read_text()
    assert bootstrap["entrypoint"][-1] == "/deploy/bootstrap.sh"
    assert host_path(bootstrap, bootstrap["entrypoint"][-1]) == BOOTSTRAP
    referenced = re.findall(r'(?:-f|--patch-file)\s+"\$(\w+)/([^"\s]+)"', script)
    assert len(referenced) >= 7
    applied_examples = set()
    for variable, relative in referenced:
        assert variable in env, f"${variable} is not set in the k3s-bootstrap service"
        path = host_path(bootstrap, f"{env[variable]}/{relative}")
        assert path.is_file(), f"the bootstrap applies {path}, which does not exist"
        if path.parent == EXAMPLE_MANIFESTS:
            applied_examples.add(path.name)
    assert applied_examples == {p.name for p in EXAMPLE_MANIFESTS.glob("*.yaml")}
    # Upstream manifests come from release tags named by pinned version variables.
    urls = re.findall(r'"(https://[^"]+)"', script)
    assert urls
    for url in urls:
        versions = re.findall(r"\$(\w+_VERSION)", url)
        assert versions, f"{url} is not pinned to a version"
        for variable in versions:
            assert re.fullmatch(r"v?\d+\.\d+\.\d+", env[variable]), f"{variable}={env.get(variable)}"
    assert re.search(r'--version "\$SPARK_OPERATOR_CHART_VERSION"', script)
    assert re.fullmatch(r"\d+\.\d+\.\d+", env["SPARK_OPERATOR_CHART_VERSION"])
    # Every namespace a manifest or example DAG uses is created (or comes with its install).
    declared = re.search(r"NAMESPACES=\(([^)]*)\)", script)
    assert declared, "the bootstrap declares no NAMESPACES=(...)"
    namespaces = set(declared.group(1).split())
    used = set()
    for manifest in EXAMPLE_MANIFESTS.glob("*.yaml"):
        for doc in yaml.safe_load_all(manifest.read_text()):
            if doc:
                used.add(doc["metadata"].get("namespace"))
                used |= {s.get("namespace") for s in doc.get("subjects") or []}
    for dag in (REPO / "dags_examples").glob("*.py"):
        used |= set(re.findall(r"namespace=['\"]([\w-]+)['\"]", dag.read_text()))
    assert used - {None} <= namespaces


def test_bootstrap_script_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n", str(BOOTSTRAP)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert os.access(BOOTSTRAP, os.X_OK)


def run_bootstrap(env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(BOOTSTRAP)], env=env, capture_output=True, text=True, timeout=timeout)


def test_bootstrap_against_the_emulator(kube_emulator_factory: Any, tmp_path: Path,
                                        services: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The script for real (kubectl, namespaces, the example manifests, the kubeconfig hand-off) against an
    HTTPS API server with a token, reached under another hostname than its kubeconfig says, as k3s is."""
    require_tool("kubectl")
    kube = kube_emulator_factory(tls=True, token="bootstrap-token")
    assert "127.0.0.1" in kube.url
    api_url = kube.url.replace("127.0.0.1", "localhost")  # in the server certificate, like --tls-san=k3s
    handed = tmp_path / "airflow-kube" / "kubeconfig.yaml"
    env = {**os.environ, "K3S_KUBECONFIG": str(kube.kubeconfig_path), "K3S_API_URL": api_url,
           "AIRFLOW_KUBECONFIG": str(handed), "EXAMPLES_DIR": str(EXAMPLE_MANIFESTS),
           "DEPLOY_DIR": str(DEPLOY / "manifests"), "INSTALL_ARGO": "false", "INSTALL_SPARK_OPERATOR": "false",
           "WAIT_SECONDS": "60"}
    env.pop("KUBECONFIG", None)
    for attempt in (1, 2):  # a second `docker compose up` runs it again on the same cluster
        result = run_bootstrap(env)
        assert result.returncode == 0, f"run {attempt}:\n{result.stdout}\n{result.stderr}"

    for namespace in ("airflow", "argo", "argo-events", "spark-jobs"):
        assert kube.get("v1", "Namespace", namespace, None) is not None, namespace
    assert kube.get("argoproj.io/v1alpha1", "WorkflowTemplate", "spark-app-workflow-template", "argo")
    assert kube.get("argoproj.io/v1alpha1", "EventSource", "calendar-source", "argo-events")
    assert kube.get("rbac.authorization.k8s.io/v1", "RoleBinding", "airflow-spark", "spark-jobs")
    assert kube.get("rbac.authorization.k8s.io/v1", "RoleBinding", "airflow-argo-workflows", "argo")
    assert kube.get("v1", "ServiceAccount", "spark", "spark-jobs")

    config = yaml.safe_load(handed.read_text())
    assert [c["cluster"]["server"] for c in config["clusters"]] == [api_url]
    # Airflow gets the least-privilege airflow-worker identity, not the admin credentials k3s wrote.
    [user] = config["users"]
    assert user["name"] == "airflow-worker" and user["user"]["token"] != "bootstrap-token"
    assert "airflow/airflow-worker" in result.stdout
    assert stat.S_IMODE(handed.stat().st_mode) == 0o640
    assert not list(handed.parent.glob("*.tmp"))

    # Airflow's own path: the kubernetes_default connection of the compose file, at the handed-off file.
    connection = json.loads(env_of(services["airflow-scheduler"])["AIRFLOW_CONN_KUBERNETES_DEFAULT"])
    connection["extra"]["kube_config_path"] = str(handed)
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", json.dumps(connection))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook

    hook = SparkK8sHook("kubernetes_default")
    template = hook.run(lambda api: api.request(
        "GET", "/apis/argoproj.io/v1alpha1/namespaces/argo/workflowtemplates/spark-app-workflow-template"))
    assert template["spec"]["entrypoint"] == "spark-submit"  # over TLS with the token: the emulator demands it
    with pytest.raises(KubeApiError, match="403") as denied:  # what the example Roles do not grant
        hook.run(lambda api: api.request("GET", "/api/v1/namespaces/argo/secrets"))
    assert 'cannot list resource "secrets"' in str(denied.value)


def test_bootstrap_fails_when_k3s_never_writes_its_kubeconfig(tmp_path: Path) -> None:
    env = {**os.environ, "K3S_KUBECONFIG": str(tmp_path / "missing.yaml"), "WAIT_SECONDS": "2",
           "AIRFLOW_KUBECONFIG": str(tmp_path / "out" / "kubeconfig.yaml")}
    result = run_bootstrap(env, timeout=60)
    assert result.returncode != 0
    assert "timed out after 2s waiting for the k3s kubeconfig" in result.stdout
    assert not (tmp_path / "out").exists()
