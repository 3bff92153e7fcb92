"""The image-to-local mapping: what maps, what does not, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_sparkk8s.sandbox.config import ConfigError, LocalApp, SandboxConfig
from airflow_provider_sparkk8s.sandbox.history import HistoryServerSettings
from tests.sandbox.conftest import EXAMPLES


@pytest.fixture
def config(tmp_path: Path) -> SandboxConfig:
    (tmp_path / "apps" / "sub").mkdir(parents=True)
    (tmp_path / "apps" / "job.py").write_text("")
    (tmp_path / "apps" / "sub" / "deep.py").write_text("")
    (tmp_path / "secret.py").write_text("")
    return SandboxConfig.from_dict({
        "images": [{"image": "repo/spark:*", "paths": {"/opt/jobs/": "apps"},
                    "main_classes": {"com.example.Main": "apps/job.py"}}],
        "conf": {"spark.sql.shuffle.partitions": 2},
    }, base=tmp_path)


def test_paths_map_below_the_prefix_whatever_the_scheme(config: SandboxConfig, tmp_path: Path) -> None:
    for resource in ("local:///opt/jobs/job.py", "file:///opt/jobs/job.py", "/opt/jobs/job.py"):
        app = config.resolve("repo/spark:4.0.1", resource)
        assert isinstance(app, LocalApp) and app.file == (tmp_path / "apps" / "job.py").resolve()
    deep = config.resolve("repo/spark:4", "local:///opt/jobs/sub/deep.py", None)
    assert isinstance(deep, LocalApp) and deep.file.name == "deep.py"


def test_a_jvm_application_maps_through_its_main_class(config: SandboxConfig) -> None:
    app = config.resolve("repo/spark:4", "local:///opt/app.jar", "com.example.Main")
    assert isinstance(app, LocalApp) and app.stand_in_for == "com.example.Main"
    assert "main class com.other.Main of local:///opt/app.jar is not mapped" in str(
        config.resolve("repo/spark:4", "local:///opt/app.jar", "com.other.Main"))


@pytest.mark.parametrize(("image", "resource", "why"), [
    ("other/spark:4", "local:///opt/jobs/job.py", "image other/spark:4 has no entry"),
    ("repo/spark:4", "s3a://bucket/job.py", "is not a local:// or file:// path"),
    ("repo/spark:4", "local:///opt/elsewhere/job.py", "is under no mapped path"),
    ("repo/spark:4", "local:///opt/jobs/missing.py", "which does not exist"),
    ("repo/spark:4", "local:///opt/jobs/../../secret.py", "is under no mapped path"),
    ("repo/spark:4", "local:///opt/jobsx/job.py", "is under no mapped path"),
])
def test_what_does_not_map_says_why(config: SandboxConfig, image: str, resource: str, why: str) -> None:
    reason = config.resolve(image, resource)
    assert isinstance(reason, str) and why in reason


def test_a_symlink_out_of_the_mapped_directory_is_refused(config: SandboxConfig, tmp_path: Path) -> None:
    (tmp_path / "apps" / "link.py").symlink_to(tmp_path / "secret.py")
    assert "leaves the mapped directory" in str(config.resolve("repo/spark:4", "/opt/jobs/link.py"))


def test_conf_defaults_and_values(config: SandboxConfig) -> None:
    assert config.conf == {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"}
    assert config.master == "local[1]" and config.max_parallel == 2


def test_invalid_mappings_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown keys"):
        SandboxConfig.from_dict({"imagez": []}, base=tmp_path)
    with pytest.raises(ConfigError, match="must be an absolute in-image path or a remote URI"):
        SandboxConfig.from_dict({"images": [{"image": "x", "paths": {"opt/": "apps"}}]}, base=tmp_path)
    with pytest.raises(ConfigError, match="cannot read"):
        SandboxConfig.load(tmp_path / "missing.yaml")


def test_the_examples_mapping_covers_the_examples() -> None:
    config = SandboxConfig.load(EXAMPLES / "sandbox.yaml")
    pi = config.resolve("apache/spark:4.0.1", "local:///opt/spark/examples/src/main/python/pi.py")
    assert isinstance(pi, LocalApp) and pi.file == EXAMPLES.resolve() / "apps" / "pi.py"
    spark_pi = config.resolve("apache/spark:4.0.1", "local:///opt/spark/examples/jars/spark-examples.jar",
                              "org.apache.spark.examples.SparkPi")
    assert isinstance(spark_pi, LocalApp) and spark_pi.file.name == "pi.py"
    argo = config.resolve("mycompany/spark-3.0.0:prod", "/mounted/volume/spark-apps/my-spark-app.py")
    assert isinstance(argo, LocalApp) and argo.file == EXAMPLES.resolve() / "apps" / "my-spark-app.py"


def test_images_that_run_locally_and_how(tmp_path: Path) -> None:
    (tmp_path / "stand-ins").mkdir()
    (tmp_path / "stand-ins" / "argosay").write_text("#!/bin/sh\n")
    (tmp_path / "rootfs").mkdir()
    config = SandboxConfig.from_dict({"images": [
        {"image": "alpine:*", "run": "host", "entrypoint": ["/bin/sh", "-c"],
         "commands": {"python": "python3", "/argosay": "stand-ins/argosay"}},
        {"image": "alpine:3.20", "simulate": True},
        {"image": "mycompany/tool:1.0", "rootfs": "rootfs"},
        {"image": "apache/spark:4.0.1", "paths": {"/opt/jobs/": "apps"}},
    ]}, base=tmp_path)
    host = config.image("alpine:3.19")
    assert host is not None and host.runs_locally and host.entrypoint == ("/bin/sh", "-c")
    # A mapped program is the local one (a path relative to the file); others keep their name, for PATH.
    assert host.program("python") == "python3"
    assert host.program("/argosay") == str((tmp_path / "stand-ins" / "argosay").resolve())
    assert host.program("echo") == "echo"
    # The exact entry wins over the glob before it.
    exact = config.image("alpine:3.20")
    assert exact is not None and exact.simulate and not exact.runs_locally
    tool = config.image("mycompany/tool:1.0")
    assert tool is not None and tool.runs_locally and tool.rootfs == (tmp_path / "rootfs").resolve()
    spark = config.image("apache/spark:4.0.1")
    assert spark is not None and not spark.runs_locally and not spark.simulate
    assert config.image("busybox:1.36") is None


@pytest.mark.parametrize(("entry", "message"), [
    ({"image": "a", "run": "docker"}, "images[0].run: 'docker' is not supported (only `host`)"),
    ({"image": "a", "run": "host", "simulate": True}, "images[0].simulate: give at most one of run, rootfs and"),
    ({"image": "a", "rootfs": "missing"}, "images[0].rootfs: "),
    ({"image": "a", "run": "host", "entrypoint": "/bin/sh"}, "images[0].entrypoint: must be a non-empty list"),
    ({"image": "a", "run": "host", "commands": {"x": "stand-ins/none"}}, "images[0].commands.x: "),
    ({"image": "a", "commands": {"python": "python3"}}, "images[0].commands: entrypoint, commands and mounts need"),
    ({"image": "a", "mounts": {"/data": "data"}}, "images[0].mounts: entrypoint, commands and mounts need"),
    ({"image": "a", "run": "host", "mounts": {"data": "data"}}, "images[0].mounts: 'data': 'data' must map an"),
    ({"image": "a", "run": "host", "env": ["A=1"]}, "images[0].env: must map variable names to values"),
    ({"image": "a", "simulate": "yes"}, "images[0].simulate: must be true or false"),
    ({"image": "a", "rnu": "host"}, "images[0]: unknown keys rnu"),
])
def test_invalid_image_entries_name_the_key(tmp_path: Path, entry: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SandboxConfig.from_dict({"images": [entry]}, base=tmp_path)
    assert str(caught.value).startswith(message)


def test_a_bad_mapping_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.yaml"
    path.write_text("master: local[1]\nimages:\n  - image: apache/spark:4.0.1\n  - image: alpine:*\n"
                    "    run: podman\n")
    with pytest.raises(ConfigError) as caught:
        SandboxConfig.load(path)
    assert str(caught.value) == f"{path}:5: images[1].run: 'podman' is not supported (only `host`)"
    path.write_text("images: []\nmax_parallel: 0\n")
    with pytest.raises(ConfigError, match=r"sandbox.yaml:2: max_parallel must be at least 1"):
        SandboxConfig.load(path)


def test_a_remote_uri_prefix_maps_applications_stored_there(tmp_path: Path) -> None:
    """Spark downloads a remote application (hdfs://, s3a://) to the driver; the mapping's local directory stands
    for that storage. A JVM application under the prefix maps through its main class."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "ingest.py").write_text("")
    (tmp_path / "score.py").write_text("")
    config = SandboxConfig.from_dict({"images": [{
        "image": "apache/spark:4.0.1", "paths": {"hdfs://namenode:8020/apps/jobs": "jobs"},
        "main_classes": {"com.example.Score": "score.py"}}]}, base=tmp_path)
    ingest = config.resolve("apache/spark:4.0.1", "hdfs://namenode:8020/apps/jobs/ingest.py")
    assert isinstance(ingest, LocalApp) and ingest.file == (tmp_path / "jobs" / "ingest.py").resolve()
    score = config.resolve("apache/spark:4.0.1", "hdfs://namenode:8020/apps/jobs/score.jar", "com.example.Score")
    assert isinstance(score, LocalApp) and score.stand_in_for == "com.example.Score"
    assert config.resolve("apache/spark:4.0.1", "hdfs://namenode:8020/apps/jobs/missing.py").endswith(
        "does not exist")
    assert config.resolve("apache/spark:4.0.1", "hdfs://namenode:8020/apps/jobs/../../etc/x.py").endswith(
        f"leaves the mapped directory {(tmp_path / 'jobs').resolve()}")
    assert config.resolve("apache/spark:4.0.1", "hdfs://other:8020/apps/jobs/ingest.py") == (
        "hdfs://other:8020/apps/jobs/ingest.py is not a local:// or file:// path in the image")


def test_an_image_env_and_mounts_may_name_the_sandbox_directory(tmp_path: Path) -> None:
    config = SandboxConfig.from_dict({"images": [{
        "image": "tools:1", "run": "host", "env": {"ROOT": "$(SANDBOX_DIR)/hdfs", "N": 3},
        "mounts": {"/hdfs/": "$(SANDBOX_DIR)/hdfs", "/conf": "conf"}}]}, base=tmp_path)
    entry = config.in_sandbox(tmp_path / "box").image("tools:1")
    assert entry is not None
    assert entry.env == {"ROOT": str(tmp_path / "box" / "hdfs"), "N": "3"}
    assert entry.mounts == {"/hdfs": str(tmp_path / "box" / "hdfs"), "/conf": str((tmp_path / "conf").resolve())}


def test_the_examples_mapping_runs_the_migrated_oozie_example() -> None:
    config = SandboxConfig.load(EXAMPLES / "sandbox.yaml")
    root = "hdfs://namenode:8020/user/etl/apps/spark-etl/jobs/"
    for job in ("ingest.py", "aggregate.py"):
        app = config.resolve("apache/spark:4.0.1", root + job)
        assert isinstance(app, LocalApp) and app.file == EXAMPLES.resolve() / "apps" / "spark-etl" / job
    score = config.resolve("apache/spark:4.0.1", root + "score.jar", "com.example.etl.Score")
    assert isinstance(score, LocalApp) and score.file.name == "score.py"
    for image in ("apache/hadoop:3.3.6", "alpine:3.24.2"):  # the shell steps and KubernetesPodOperator's sidecar
        entry = config.image(image)
        assert entry is not None and entry.runs_locally, image
    assert config.image("unknown/image:1") is None  # not simulated: it fails to pull, as on a cluster


def test_the_history_server_is_on_unless_the_mapping_turns_it_off(tmp_path: Path) -> None:
    assert SandboxConfig.load(EXAMPLES / "sandbox.yaml").history_server == HistoryServerSettings(True, 0)
    assert SandboxConfig.from_dict({"images": []}, base=tmp_path).history_server.enabled
    off = SandboxConfig.from_dict({"history_server": {"enabled": False}}, base=tmp_path)
    assert off.history_server == HistoryServerSettings(False, 0)
    path = tmp_path / "sandbox.yaml"
    path.write_text("images: []\nhistory_server:\n  enabled: true\n  port: 70000\n")
    with pytest.raises(ConfigError, match=r"sandbox.yaml:4: must be a port number"):
        SandboxConfig.load(path)
    with pytest.raises(ConfigError, match="history_server takes `enabled`"):
        SandboxConfig.from_dict({"history_server": {"ui": True}}, base=tmp_path)
