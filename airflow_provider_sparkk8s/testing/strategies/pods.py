"""Pod spec defaults (SetDefaults_PodSpec and friends), for pods and for the pod templates of workloads."""

from __future__ import annotations


def default_pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and SetDefaults_Container (what a pod gets from admission is not here)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if not isinstance(c, dict):
            continue  # validation names it
        image = str(c.get("image", ""))
        untagged = ":" not in image.rsplit("/", 1)[-1] and "@" not in image
        c.setdefault("imagePullPolicy", "Always" if image.endswith(":latest") or untagged else "IfNotPresent")
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
        for port in c.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def default_pod_template(template: dict) -> None:
    """A workload's pod template: the pod spec's defaults, and the null creationTimestamp a template shows."""
    template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    default_pod_spec(template.setdefault("spec", {}))


def required(path: str) -> tuple[str, str, None, str]:
    return (path, "FieldValueRequired", None, "Required value")


def not_supported(path: str, value: object, supported: tuple[str, ...]) -> tuple[str, str, None, str]:
    choices = ", ".join(f'"{s}"' for s in supported)
    return (path, "FieldValueNotSupported", None, f'Unsupported value: "{value}": supported values: {choices}')


def validate_pod_template(template: dict, path: str, restart_policies: tuple[str, ...] | None = None
                          ) -> list[tuple[str, str, object, str]]:
    """The essentials of a pod template: containers with names and images, an allowed restartPolicy."""
    causes: list[tuple[str, str, object, str]] = []
    spec = template.get("spec") or {}
    containers = spec.get("containers")
    if not containers:
        causes.append(required(f"{path}.spec.containers"))
    for i, c in enumerate(containers or []):
        if not c.get("name"):
            causes.append(required(f"{path}.spec.containers[{i}].name"))
        if not c.get("image"):
            causes.append(required(f"{path}.spec.containers[{i}].image"))
    if restart_policies is not None and spec.get("restartPolicy") not in restart_policies:
        causes.append(not_supported(f"{path}.spec.restartPolicy", spec.get("restartPolicy"), restart_policies))
    return causes
