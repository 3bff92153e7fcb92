"""A pod's volumes as host directories, set up as the kubelet's volume plugins do before the containers start.

Each volume of the pod becomes a directory under the pod's own directory, except hostPath (the host path itself)
and persistentVolumeClaim (one directory per claim under a data directory, so it outlives the pod as a claim
does). configMap, secret, downwardAPI and projected volumes hold one file per key and are mounted read-only, as a
kubelet always mounts them. A projected ``serviceAccountToken`` source holds a token the kubelet asks the API
server for (a TokenRequest bound to the pod, ``TokenSource``); ``clusterTrustBundle`` sources write nothing.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import MountFailure
from .pod_fields import pod_field, resource_field

# Reads an object (api_version, kind, namespace, name) -> the object or None: controllers/base.py's ApiClient.get.
ObjectReader = Callable[[str, str, "str | None", str], "dict | None"]
# A projected serviceAccountToken source's token: (audience or None for the API server's, expirationSeconds) ->
# the token; raises MountFailure's cause as ValueError.
TokenSource = Callable[["str | None", int], str]

DEFAULT_MODE = 0o644  # configMap, secret, downwardAPI and projected files when no defaultMode is given


@dataclass(frozen=True)
class Volume:
    name: str
    path: Path  # on the host
    read_only: bool = False  # the volume's own setting (containers may still mount a writable volume read-only)


def materialise_volumes(pod: dict, read: ObjectReader, pod_dir: Path, claims_dir: Path,
                        pod_ips: tuple[str, ...] = (), tokens: TokenSource | None = None) -> dict[str, Volume]:
    """Every volume of ``pod``, by name (``tokens`` None: serviceAccountToken sources write nothing). Raises
    MountFailure as the kubelet's FailedMount Event says it."""
    namespace = pod["metadata"].get("namespace", "default")
    volumes: dict[str, Volume] = {}
    for spec in (pod.get("spec") or {}).get("volumes") or []:
        name = spec["name"]
        target = pod_dir / "volumes" / name
        if "hostPath" in spec:
            volumes[name] = Volume(name, _host_path(name, spec["hostPath"]))
        elif "persistentVolumeClaim" in spec:
            claim = spec["persistentVolumeClaim"]
            path = claims_dir / namespace / claim["claimName"]
            path.mkdir(parents=True, exist_ok=True)
            volumes[name] = Volume(name, path, bool(claim.get("readOnly")))
        elif "emptyDir" in spec:
            target.mkdir(parents=True, exist_ok=True)
            volumes[name] = Volume(name, target)
        else:
            files = _files_of(name, spec, pod, namespace, read, pod_ips, tokens)
            _write_files(target, files)
            volumes[name] = Volume(name, target, read_only=True)
    return volumes


def remove_pod_volumes(pod_dir: Path) -> None:
    """What the kubelet cleans up when the pod is gone: its own volumes (never hostPath or claim directories)."""
    shutil.rmtree(pod_dir / "volumes", ignore_errors=True)


_File = tuple[str, bytes, int]  # relative path, content, mode


def _files_of(name: str, spec: dict, pod: dict, namespace: str, read: ObjectReader,
              pod_ips: tuple[str, ...], tokens: TokenSource | None = None) -> list[_File]:
    if "configMap" in spec or "secret" in spec:
        source = spec.get("configMap") or spec.get("secret") or {}
        mode = source.get("defaultMode", DEFAULT_MODE)
        return _keyed_files(name, "configMap" if "configMap" in spec else "secret", source, namespace, read, mode)
    if "downwardAPI" in spec:
        source = spec["downwardAPI"]
        return _downward_files(source.get("items") or [], pod, source.get("defaultMode", DEFAULT_MODE), pod_ips)
    if "projected" in spec:
        projected = spec["projected"]
        mode = projected.get("defaultMode", DEFAULT_MODE)
        files: list[_File] = []
        for source in projected.get("sources") or []:
            if "configMap" in source:
                files += _keyed_files(name, "configMap", source["configMap"], namespace, read, mode)
            elif "secret" in source:
                files += _keyed_files(name, "secret", source["secret"], namespace, read, mode)
            elif "downwardAPI" in source:
                files += _downward_files(source["downwardAPI"].get("items") or [], pod, mode, pod_ips)
            elif "serviceAccountToken" in source and tokens is not None:
                files.append(_token_file(name, source["serviceAccountToken"], tokens, mode))
        return files
    raise MountFailure(name, "volume type not supported by the local runtime")


def _keyed_files(volume: str, kind: str, source: dict, namespace: str, read: ObjectReader,
                 mode: int) -> list[_File]:
    """A configMap's or secret's keys as files; ``items`` picks keys and names their files."""
    object_name = source.get("name") if kind == "configMap" else source.get("secretName", source.get("name"))
    optional = bool(source.get("optional"))
    obj = read("v1", "ConfigMap" if kind == "configMap" else "Secret", namespace, object_name or "")
    if obj is None:
        if optional:
            return []
        raise MountFailure(volume, f'{kind.lower()} "{object_name}" not found')
    data = _decoded_data(kind, obj)
    items = source.get("items")
    if not items:
        return [(key, value, mode) for key, value in sorted(data.items())]
    files = []
    for item in items:
        if item["key"] not in data:
            if optional:
                continue
            raise MountFailure(volume, f"{kind.lower()} references non-existent config key: {item['key']}")
        files.append((item["path"], data[item["key"]], item.get("mode", mode)))
    return files


def _decoded_data(kind: str, obj: dict) -> dict[str, bytes]:
    """A Secret's ``data`` is base64, as is a ConfigMap's ``binaryData``; a ConfigMap's ``data`` is text."""
    if kind == "secret":
        return {key: base64.b64decode(value) for key, value in (obj.get("data") or {}).items()}
    data = {key: value.encode() for key, value in (obj.get("data") or {}).items()}
    data.update({key: base64.b64decode(value) for key, value in (obj.get("binaryData") or {}).items()})
    return data


def _downward_files(items: list[dict], pod: dict, mode: int, pod_ips: tuple[str, ...]) -> list[_File]:
    files = []
    containers = {c["name"]: c for c in (pod.get("spec") or {}).get("containers") or []}
    for item in items:
        if "fieldRef" in item:
            value = pod_field(pod, item["fieldRef"]["fieldPath"], pod_ips)
        else:
            ref = item["resourceFieldRef"]
            container = containers.get(ref.get("containerName", ""), {})
            value = resource_field(container, ref["resource"], ref.get("divisor"))
        files.append((item["path"], value.encode(), item.get("mode", mode)))
    return files


def _token_file(volume: str, source: dict, tokens: TokenSource, mode: int) -> _File:
    try:
        token = tokens(source.get("audience") or None, int(source.get("expirationSeconds") or 3600))
    except ValueError as exc:
        raise MountFailure(volume, f"failed to fetch token: {exc}") from exc
    return (source.get("path", "token"), token.encode(), mode)


def _write_files(target: Path, files: list[_File]) -> None:
    """The volume's directory holding exactly these files (a fresh set each time the pod's volumes are set up)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for relative, content, mode in files:
        parts = PurePosixPath(relative).parts
        if PurePosixPath(relative).is_absolute() or ".." in parts:  # the API rejects these; never write outside
            continue
        path = target.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.chmod(path, mode)


def _host_path(volume: str, source: Mapping[str, str]) -> Path:
    """hostPath with its ``type`` check; the ...OrCreate types create what is missing, as the kubelet does."""
    path, kind = Path(source["path"]), source.get("type", "")
    if kind == "DirectoryOrCreate":
        path.mkdir(parents=True, exist_ok=True)
    elif kind == "FileOrCreate" and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o644)
    elif kind == "Directory" and not path.is_dir():
        raise MountFailure(volume, f"hostPath type check failed: {path} is not a directory")
    elif kind == "File" and not path.is_file():
        raise MountFailure(volume, f"hostPath type check failed: {path} is not a file")
    return path
