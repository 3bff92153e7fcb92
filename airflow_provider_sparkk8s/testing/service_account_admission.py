"""The ServiceAccount admission plugin on pod create (plugin/pkg/admission/serviceaccount/admission.go).

- ``spec.serviceAccountName`` defaults to ``default`` (the deprecated ``serviceAccount`` names it when given);
- unless ``automountServiceAccountToken`` is false on the pod, or, when the pod does not set it, on its
  ServiceAccount, every init container and container that mounts nothing at
  ``/var/run/secrets/kubernetes.io/serviceaccount`` gets a read-only mount there of the projected volume
  ``kube-api-access-<5 random characters>`` (a bound token, the cluster's CA bundle and the namespace), which is
  added to the pod when a container mounts it (a volume already named ``kube-api-access-...`` is reused);
- ``imagePullSecrets`` come from the ServiceAccount when the pod names none;
- mirror pods (annotation ``kubernetes.io/config.mirror``) are left as they are.

Unlike the real plugin, a pod whose ServiceAccount does not exist is admitted (a real API server forbids it:
``error looking up service account ns/name: serviceaccount "name" not found``), as if its account automounted:
here a namespace's ``default`` account comes from a controller a moment after the namespace, and many callers
create pods at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable

VOLUME_PREFIX = "kube-api-access-"
MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
TOKEN_SECONDS = 3607  # WarnOnlyBoundTokenExpirationSeconds: the API server extends such tokens (reviews.py)
ROOT_CA = "kube-root-ca.crt"
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # names.SimpleNameGenerator's


def token_volume_source() -> dict:
    """TokenVolumeSource(): the projected volume of the API access, with its defaultMode set explicitly."""
    return {"sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_SECONDS, "path": "token"}},
        {"configMap": {"name": ROOT_CA, "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ], "defaultMode": 0o644}


def admit_pod(pod: dict, account: Callable[[str], dict | None]) -> None:
    """Apply the plugin to a pod being created; ``account(name)`` reads a ServiceAccount of its namespace."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec")
    if not isinstance(spec, dict):
        return  # validation names it
    if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
        return
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    sa = account(spec["serviceAccountName"]) or {}
    if _automount(sa, spec):
        _mount_token(spec)
    if not spec.get("imagePullSecrets") and sa.get("imagePullSecrets"):
        spec["imagePullSecrets"] = [{"name": s.get("name", "")} for s in sa["imagePullSecrets"]]


def _automount(sa: dict, spec: dict) -> bool:
    """The pod's preference, else its ServiceAccount's, else true."""
    if spec.get("automountServiceAccountToken") is not None:
        return bool(spec["automountServiceAccountToken"])
    if sa.get("automountServiceAccountToken") is not None:
        return bool(sa["automountServiceAccountToken"])
    return True


def _mount_token(spec: dict) -> None:
    volumes = spec.get("volumes") or []
    existing = next((v["name"] for v in volumes if isinstance(v, dict)
                     and str(v.get("name", "")).startswith(VOLUME_PREFIX)), None)
    name = existing or VOLUME_PREFIX + "".join(random.choice(_ALPHABET) for _ in range(5))
    needed = False
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if not isinstance(container, dict):
            continue
        mounts = container.get("volumeMounts") or []
        if any(isinstance(m, dict) and m.get("mountPath") == MOUNT_PATH for m in mounts):
            continue
        container["volumeMounts"] = [*mounts, {"name": name, "readOnly": True, "mountPath": MOUNT_PATH}]
        needed = True
    if existing is None and needed:
        spec["volumes"] = [*volumes, {"name": name, "projected": token_volume_source()}]
