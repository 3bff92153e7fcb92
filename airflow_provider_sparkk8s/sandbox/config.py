"""The sandbox's image-to-local mapping: how the containers of each image run on this machine, and which Spark
applications named inside container images run from which local files.

    # sandbox.yaml (paths are relative to this file)
    master: local[1]                 # what locally-run applications get instead of the cluster; `cluster`:
                                     # drivers run in their pods against the sandbox's API server, with
                                     # executor pods (spark_images.py)
    max_parallel: 2                  # local[N]: local applications running at once; the others wait
    max_executors: 2                 # cluster: executor pods an application gets at most (each is a JVM)
    timeout_seconds: 600             # a local application running longer is killed (exit code 137)
    spark_submit: null               # default: the spark-submit pyspark installs beside this Python
    conf:                            # --conf for every locally-run application
      spark.ui.enabled: "false"
    history_server:                  # pyspark's Spark History Server over the local applications' event logs
      enabled: true                  # the default; `sparkk8s sandbox --no-history-server` turns it off
      port: 0                        # 0: a free one
    images:
      - image: apache/spark:4.0.1    # exact, or a glob such as apache/spark:*
        paths:                       # in-image directory (or remote URI) prefix -> local directory
          /opt/spark/examples/src/main/python/: apps/
          hdfs://namenode:8020/jobs/: apps/jobs/
        main_classes:                # JVM main class -> a local Python stand-in
          org.apache.spark.examples.SparkPi: apps/pi.py
      - image: "alpine:*"
        run: host                    # its containers run this machine's programs (sh, coreutils, python3)
        entrypoint: [/bin/sh, -c]    # the image's ENTRYPOINT, for containers that give no `command`
        commands:                    # in-image program -> local program (a path is relative to this file)
          python: python3
          /argosay: stand-ins/argosay
        mounts:                      # in-container directory -> local directory (created if missing)
          /data: $(SANDBOX_DIR)/data # $(SANDBOX_DIR): the sandbox's working directory
        env:                         # the image's ENV (the pod's env overrides it)
          DATA_DIR: /data
      - image: mycompany/tool:1.0
        rootfs: images/tool/         # or: a local directory is the image's root filesystem
      - image: "legacy/*"
        simulate: true               # or: its pods are simulated (they exit 0 after a timer)

An image matches an entry exactly or by glob; an exact entry wins over globs, then the first glob in the file. How
an entry runs is at most one of ``run: host``, ``rootfs`` and ``simulate``; an entry with none of them only maps
Spark applications (its other pods are simulated).

A resource maps when the pod's image matches an entry and the resource (``local://``, ``file://`` or a plain
path) starts with one of its prefixes: the rest of the path is looked up under the local directory, and must
exist there and stay inside it. A prefix may also be a remote URI (``hdfs://namenode:8020/jobs/``): Spark would
download such a resource to the driver; here the local directory stands for that storage. A JVM application maps
through its main class instead. Anything else (other images, remote resources under no prefix, files that are not
there) is not run locally: such pods follow the emulator's simulated rules.

``env`` is the image's environment (its ENV): a container starts with it, below the pod's own ``env``, and a
locally-run Spark application gets it too. ``mounts`` are local directories the image's containers see at the
given paths (as if the image had them; created when missing). ``$(SANDBOX_DIR)`` in an ``env`` value or a mount's
local directory is the sandbox's working directory: a place for data that lives as long as the sandbox, such as a
local directory standing for HDFS.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .history import HistoryServerSettings

DEFAULT_CONF = {"spark.ui.enabled": "false"}


class ConfigError(ValueError):
    """The mapping file is not valid; the message names the problem (and `load` the file and line)."""

    def __init__(self, message: str, where: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.where = where  # the keys down to the offending value, e.g. ("images", 2, "run")


IMAGE_KEYS = {"image", "paths", "main_classes", "run", "rootfs", "entrypoint", "commands", "env", "mounts",
              "simulate"}
SANDBOX_DIR = "$(SANDBOX_DIR)"  # in an image's env: the sandbox's working directory


@dataclass(frozen=True)
class ImageMapping:
    image: str
    paths: dict[str, Path] = field(default_factory=dict)
    main_classes: dict[str, Path] = field(default_factory=dict)
    run: str | None = None  # "host": the containers run this machine's programs
    rootfs: Path | None = None  # a local directory that is the image's root filesystem
    entrypoint: tuple[str, ...] | None = None  # the image's ENTRYPOINT
    commands: dict[str, str] = field(default_factory=dict)  # in-image program -> local program
    simulate: bool = False
    env: dict[str, str] = field(default_factory=dict)  # the image's ENV
    mounts: dict[str, str] = field(default_factory=dict)  # in-container directory -> local directory
    working_dir: str | None = None  # the image's WORKDIR (None: /)

    def matches(self, image: str) -> bool:
        return self.image == image or fnmatch.fnmatchcase(image, self.image)

    @property
    def runs_locally(self) -> bool:
        """Its containers run as local processes (rather than simulated)."""
        return self.run == "host" or self.rootfs is not None

    def program(self, name: str) -> str:
        """The local program that stands for an in-image program (argv[0]); unlisted ones keep their name, which
        is looked up on PATH (or in the rootfs)."""
        return self.commands.get(name, name)


@dataclass(frozen=True)
class LocalApp:
    """A resource of an image that runs from a local file."""

    file: Path
    resource: str
    image: str
    stand_in_for: str | None = None  # the JVM main class a Python stand-in replaces


@dataclass
class SandboxConfig:
    images: list[ImageMapping] = field(default_factory=list)
    master: str = "local[1]"
    max_parallel: int = 2
    max_executors: int | None = None  # master: cluster: executor pods an application may have at once
    timeout_seconds: float = 600.0
    spark_submit: str | None = None
    conf: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CONF))
    history_server: HistoryServerSettings = field(default_factory=HistoryServerSettings)
    source: Path | None = None

    @classmethod
    def load(cls, path: str | Path) -> SandboxConfig:
        import yaml

        path = Path(path)
        try:
            text = path.read_text()
            data = yaml.safe_load(text) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the sandbox mapping {path}: {exc}") from exc
        try:
            return cls.from_dict(data, base=path.resolve().parent, source=path)
        except ConfigError as exc:
            raise ConfigError(f"{path}:{_line_of(text, exc.where)}: {exc}", exc.where) from None

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Path, source: Path | None = None) -> SandboxConfig:
        if not isinstance(data, dict):
            raise ConfigError("the sandbox mapping must be a mapping with an `images` list")
        unknown = set(data) - {"images", "master", "max_parallel", "max_executors", "timeout_seconds",
                               "spark_submit", "conf", "history_server"}
        if unknown:
            raise ConfigError(f"unknown keys in the sandbox mapping: {', '.join(sorted(unknown))}",
                              (sorted(unknown)[0],))
        images = [_image_mapping(entry, i, base) for i, entry in enumerate(data.get("images") or [])]
        conf = {**DEFAULT_CONF, **{str(k): str(v) for k, v in (data.get("conf") or {}).items()}}
        max_parallel = int(data.get("max_parallel", 2))
        if max_parallel < 1:
            raise ConfigError("max_parallel must be at least 1", ("max_parallel",))
        max_executors = data.get("max_executors")
        if max_executors is not None and (not isinstance(max_executors, int) or isinstance(max_executors, bool)
                                          or max_executors < 1):
            raise ConfigError("max_executors must be a whole number, at least 1", ("max_executors",))
        spark_submit = data.get("spark_submit")
        return cls(images=images, master=str(data.get("master", "local[1]")), max_parallel=max_parallel,
                   max_executors=max_executors,
                   timeout_seconds=float(data.get("timeout_seconds", 600)),
                   spark_submit=str((base / spark_submit).resolve()) if spark_submit else None,
                   conf=conf, history_server=_history_server(data.get("history_server")), source=source)

    def in_sandbox(self, workdir: Path) -> SandboxConfig:
        """This mapping for a sandbox working in ``workdir``: ``$(SANDBOX_DIR)`` in the images' env and mounts is
        that directory."""
        def expand(values: dict[str, str]) -> dict[str, str]:
            return {k: v.replace(SANDBOX_DIR, str(workdir)) for k, v in values.items()}
        images = [replace(m, env=expand(m.env), mounts=expand(m.mounts)) for m in self.images]
        return replace(self, images=images)

    def image(self, image: str) -> ImageMapping | None:
        """The entry for `image`: the one naming it exactly, else the first glob that matches it."""
        exact = next((m for m in self.images if m.image == image), None)
        return exact or next((m for m in self.images if m.matches(image)), None)

    def resolve(self, image: str, resource: str | None, main_class: str | None = None) -> LocalApp | str:
        """The local file for `resource` in `image`, or why there is none (a sentence for the logs). Only entries
        that map Spark applications (``paths``, ``main_classes``) count: a catch-all ``simulate`` or ``run: host``
        glob does not hide that an image's Spark applications are not mapped."""
        exact = next((m for m in self.images if m.image == image and (m.paths or m.main_classes)), None)
        mapping = exact or next((m for m in self.images if m.matches(image) and (m.paths or m.main_classes)), None)
        if mapping is None:
            return f"image {image} has no entry in the sandbox mapping"
        if not resource:
            return "no application resource"
        in_image = _in_image_path(resource)
        if in_image is None and not any(resource.startswith(prefix) for prefix in mapping.paths if "://" in prefix):
            return f"{resource} is not a local:// or file:// path in the image"
        if (in_image or resource).endswith(".py"):
            return self._by_path(mapping, resource, in_image or resource)
        if main_class and main_class in mapping.main_classes:
            local = mapping.main_classes[main_class]
            if not local.is_file():
                return f"the stand-in for {main_class} ({local}) does not exist"
            return LocalApp(local, resource, image, stand_in_for=main_class)
        what = f"main class {main_class} of {resource}" if main_class else resource
        return f"{what} is not mapped for image {mapping.image}"

    def _by_path(self, mapping: ImageMapping, resource: str, in_image: str) -> LocalApp | str:
        for prefix in sorted(mapping.paths, key=len, reverse=True):
            if in_image != prefix and not in_image.startswith(prefix.rstrip("/") + "/"):
                continue
            root = mapping.paths[prefix]
            rest = in_image[len(prefix.rstrip("/")):].lstrip("/")
            local = (root / posixpath.normpath(rest or ".")).resolve()
            if not local.is_relative_to(root):
                return f"{resource} leaves the mapped directory {root}"
            if not local.is_file():
                return f"{resource} maps to {local}, which does not exist"
            return LocalApp(local, resource, mapping.image)
        return f"{resource} is under no mapped path of image {mapping.image}"


def _line_of(text: str, where: tuple[str | int, ...]) -> int:
    """The line (1-based) of the deepest node on the path `where` in a YAML document."""
    import yaml

    node = yaml.compose(text)
    line = node.start_mark.line if node is not None else 0
    for step in where:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == step), None)
            if found is None:
                break
            line, node = found[0].start_mark.line, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _history_server(value: Any) -> HistoryServerSettings:
    if value is None:
        return HistoryServerSettings()
    if not isinstance(value, dict) or set(value) - {"enabled", "port"}:
        raise ConfigError("history_server takes `enabled` (true or false) and `port` (0: a free one)",
                          ("history_server",))
    enabled, port = value.get("enabled", True), value.get("port", 0)
    if not isinstance(enabled, bool):
        raise ConfigError("must be true or false", ("history_server", "enabled"))
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < 65536:
        raise ConfigError("must be a port number (0: a free one)", ("history_server", "port"))
    return HistoryServerSettings(enabled, port)


def _image_mapping(entry: Any, i: int, base: Path) -> ImageMapping:
    where = f"images[{i}]"

    def bad(message: str, *key: str) -> ConfigError:
        return ConfigError(f"{where}{''.join('.' + k for k in key)}: {message}", ("images", i, *key))

    if not isinstance(entry, dict) or not entry.get("image"):
        raise ConfigError(f"{where} needs an `image`", ("images", i))
    unknown = set(entry) - IMAGE_KEYS
    if unknown:
        raise bad(f"unknown keys {', '.join(sorted(map(str, unknown)))} (known: {', '.join(sorted(IMAGE_KEYS))})")
    paths = {}
    for prefix, local in (entry.get("paths") or {}).items():
        scheme, _, rest = str(prefix).partition("://")
        if rest and scheme not in ("local", "file"):  # remote storage the driver would download from
            if not scheme.isalnum() or not rest.strip("/"):
                raise bad(f"{prefix!r} must be a URI with a host or path", "paths")
            paths[str(prefix).rstrip("/") + "/"] = (base / str(local)).resolve()
            continue
        if not str(prefix).startswith("/"):
            raise bad(f"{prefix!r} must be an absolute in-image path or a remote URI", "paths")
        paths[posixpath.normpath(str(prefix))] = (base / str(local)).resolve()
    classes = {str(k): (base / str(v)).resolve() for k, v in (entry.get("main_classes") or {}).items()}
    ways = [key for key in ("run", "rootfs", "simulate") if entry.get(key) not in (None, False)]
    if len(ways) > 1:
        raise bad(f"give at most one of run, rootfs and simulate (it has {' and '.join(ways)})", ways[1])
    run = entry.get("run")
    if run is not None and run != "host":
        raise bad(f"{run!r} is not supported (only `host`)", "run")
    rootfs = None
    if entry.get("rootfs") is not None:
        rootfs = (base / str(entry["rootfs"])).resolve()
        if not rootfs.is_dir():
            raise bad(f"{rootfs} is not a directory", "rootfs")
    simulate = entry.get("simulate", False)
    if not isinstance(simulate, bool):
        raise bad("must be true or false", "simulate")
    entrypoint = entry.get("entrypoint")
    if entrypoint is not None and (not isinstance(entrypoint, list) or not entrypoint
                                   or not all(isinstance(a, str) for a in entrypoint)):
        raise bad("must be a non-empty list of strings, as an image's ENTRYPOINT", "entrypoint")
    commands_in = entry.get("commands") or {}
    if not isinstance(commands_in, dict):
        raise bad("must map in-image programs to local programs", "commands")
    commands = {}
    for program, local in commands_in.items():
        if not isinstance(program, str) or not isinstance(local, str) or not program or not local:
            raise bad(f"{program!r}: {local!r} must map a program name to a program name", "commands")
        if "/" in local:  # a path, relative to the config file; a bare name is looked up on PATH when it runs
            path = (base / local).resolve()
            if not path.is_file():
                raise bad(f"{path} does not exist", "commands", program)
            local = str(path)
        commands[program] = local
    env = entry.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and k and isinstance(v, (str, int, float))
                                            for k, v in env.items()):
        raise bad("must map variable names to values", "env")
    mounts = {}
    for target, local in (entry.get("mounts") or {}).items():
        if not isinstance(target, str) or not target.startswith("/") or not isinstance(local, str) or not local:
            raise bad(f"{target!r}: {local!r} must map an absolute in-container path to a local directory", "mounts")
        mounts[posixpath.normpath(target)] = local if local.startswith(SANDBOX_DIR) else str((base / local).resolve())
    if (commands or mounts or entrypoint is not None) and not (run or rootfs):
        key = "entrypoint" if entrypoint is not None else "commands" if commands else "mounts"
        raise bad("entrypoint, commands and mounts need `run: host` or `rootfs`", key)
    return ImageMapping(str(entry["image"]), paths, classes, run=run, rootfs=rootfs,
                        entrypoint=tuple(entrypoint) if entrypoint is not None else None, commands=commands,
                        simulate=simulate, env={k: str(v) for k, v in env.items()}, mounts=mounts)


def _in_image_path(resource: str) -> str | None:
    """The absolute in-image path of a local:// or file:// URI or a plain path, normalised; None otherwise."""
    for scheme in ("local://", "file://"):
        if resource.startswith(scheme):
            resource = resource[len(scheme):]
            break
    else:
        if "://" in resource:
            return None
    if not resource.startswith("/"):
        return None
    return posixpath.normpath(resource)


def shown(path: Path) -> str:
    """A path as logs and banners show it: relative to the working directory when it is below it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)
