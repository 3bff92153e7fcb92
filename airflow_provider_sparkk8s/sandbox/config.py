"""The sandbox's image-to-local mapping: which Spark applications named inside container images run on this
machine, and from which local files.

    # sandbox.yaml (paths are relative to this file)
    master: local[1]                 # what locally-run applications get instead of the cluster
    max_parallel: 2                  # local applications running at once; the others wait
    timeout_seconds: 600             # a local application running longer is killed (exit code 137)
    spark_submit: null               # default: the spark-submit pyspark installs beside this Python
    conf:                            # --conf for every locally-run application
      spark.ui.enabled: "false"
    images:
      - image: apache/spark:4.0.1    # exact, or a glob such as apache/spark:*
        paths:                       # in-image directory prefix -> local directory
          /opt/spark/examples/src/main/python/: apps/
        main_classes:                # JVM main class -> a local Python stand-in
          org.apache.spark.examples.SparkPi: apps/pi.py

A resource maps when the pod's image matches an entry and the resource (``local://``, ``file://`` or a plain
path) starts with one of its prefixes: the rest of the path is looked up under the local directory, and must
exist there and stay inside it. A JVM application maps through its main class instead. Anything else (other
images, ``s3a://``/``hdfs://`` resources, files that are not there) is not run locally: such pods follow the
emulator's simulated rules.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CONF = {"spark.ui.enabled": "false"}


class ConfigError(ValueError):
    """The mapping file is not valid; the message names the problem."""


@dataclass(frozen=True)
class ImageMapping:
    image: str
    paths: dict[str, Path] = field(default_factory=dict)
    main_classes: dict[str, Path] = field(default_factory=dict)

    def matches(self, image: str) -> bool:
        return self.image == image or fnmatch.fnmatchcase(image, self.image)


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
    timeout_seconds: float = 600.0
    spark_submit: str | None = None
    conf: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CONF))
    source: Path | None = None

    @classmethod
    def load(cls, path: str | Path) -> SandboxConfig:
        import yaml

        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the sandbox mapping {path}: {exc}") from exc
        return cls.from_dict(data, base=path.resolve().parent, source=path)

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Path, source: Path | None = None) -> SandboxConfig:
        if not isinstance(data, dict):
            raise ConfigError("the sandbox mapping must be a mapping with an `images` list")
        unknown = set(data) - {"images", "master", "max_parallel", "timeout_seconds", "spark_submit", "conf"}
        if unknown:
            raise ConfigError(f"unknown keys in the sandbox mapping: {', '.join(sorted(unknown))}")
        images = []
        for i, entry in enumerate(data.get("images") or []):
            if not isinstance(entry, dict) or not entry.get("image"):
                raise ConfigError(f"images[{i}] needs an `image`")
            paths = {}
            for prefix, local in (entry.get("paths") or {}).items():
                if not str(prefix).startswith("/"):
                    raise ConfigError(f"images[{i}].paths: {prefix!r} must be an absolute in-image path")
                paths[posixpath.normpath(str(prefix))] = (base / str(local)).resolve()
            classes = {str(k): (base / str(v)).resolve() for k, v in (entry.get("main_classes") or {}).items()}
            images.append(ImageMapping(str(entry["image"]), paths, classes))
        conf = {**DEFAULT_CONF, **{str(k): str(v) for k, v in (data.get("conf") or {}).items()}}
        max_parallel = int(data.get("max_parallel", 2))
        if max_parallel < 1:
            raise ConfigError("max_parallel must be at least 1")
        spark_submit = data.get("spark_submit")
        return cls(images=images, master=str(data.get("master", "local[1]")), max_parallel=max_parallel,
                   timeout_seconds=float(data.get("timeout_seconds", 600)),
                   spark_submit=str((base / spark_submit).resolve()) if spark_submit else None,
                   conf=conf, source=source)

    def resolve(self, image: str, resource: str | None, main_class: str | None = None) -> LocalApp | str:
        """The local file for `resource` in `image`, or why there is none (a sentence for the logs)."""
        mapping = next((m for m in self.images if m.matches(image)), None)
        if mapping is None:
            return f"image {image} has no entry in the sandbox mapping"
        if not resource:
            return "no application resource"
        in_image = _in_image_path(resource)
        if in_image is None:
            return f"{resource} is not a local:// or file:// path in the image"
        if in_image.endswith(".py"):
            return self._by_path(mapping, resource, in_image)
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
            local = (root / posixpath.relpath(in_image, prefix)).resolve()
            if not local.is_relative_to(root):
                return f"{resource} leaves the mapped directory {root}"
            if not local.is_file():
                return f"{resource} maps to {local}, which does not exist"
            return LocalApp(local, resource, mapping.image)
        return f"{resource} is under no mapped path of image {mapping.image}"


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
