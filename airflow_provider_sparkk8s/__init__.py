"""airflow-provider-sparkk8s: Spark on Kubernetes, Argo Workflows and Argo Events calendars for Airflow 3.

Importing this package must stay cheap: the DAG processor imports provider modules on every parse.
"""

from __future__ import annotations

__all__ = ["get_provider_info"]
__version__ = "0.1.0"

_PACKAGE = "airflow_provider_sparkk8s"
# integration name -> (documentation URL, the module name used under hooks/, operators/, sensors/, triggers/)
_INTEGRATIONS = {
    "Spark on Kubernetes": ("https://spark.apache.org/docs/latest/running-on-kubernetes.html", "spark"),
    "Argo Workflows": ("https://argo-workflows.readthedocs.io/", "argo"),
}

# The Argo Server connection form (the Spark hook reuses the cncf.kubernetes `kubernetes` connection).
_ARGO_CONNECTION = {
    "hook-class-name": f"{_PACKAGE}.hooks.argo.ArgoWorkflowsHook",
    "hook-name": "Argo Workflows",
    "connection-type": "argo_workflows",
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "login", "port", "extra"],
        "relabeling": {"host": "Argo Server URL", "password": "Bearer token"},
        "placeholders": {"host": "https://argo-server.argo.svc:2746",
                         "password": "a ServiceAccount token (masked); empty when the server runs in server auth mode"},
    },
    "conn-fields": {
        "namespace": {"label": "Namespace", "schema": {"type": ["string", "null"]}},
        "verify_ssl": {"label": "Verify TLS certificate", "schema": {"type": ["boolean", "null"], "default": True}},
        "ca_bundle": {"label": "CA bundle path", "schema": {"type": ["string", "null"]}},
        "ui_base_url": {"label": "Argo UI base URL (default: the server URL)", "schema": {"type": ["string", "null"]}},
    },
}


def _modules(kind: str) -> list[dict]:
    return [{"integration-name": name, "python-modules": [f"{_PACKAGE}.{kind}.{module}"]}
            for name, (_, module) in _INTEGRATIONS.items()]


def get_provider_info() -> dict:
    """The provider description Airflow discovers through the `apache_airflow_provider` entry point."""
    return {
        "package-name": "airflow-provider-sparkk8s",
        "name": "Spark on Kubernetes and Argo",
        "description": "Launch Spark applications in cluster mode on Kubernetes, submit Argo Workflows, follow "
                       "Argo Events calendars, and migrate Oozie applications.",
        "versions": [__version__],
        "integrations": [{"integration-name": name, "external-doc-url": url, "tags": ["software"]}
                         for name, (url, _) in _INTEGRATIONS.items()],
        "operators": _modules("operators"),
        "sensors": _modules("sensors"),
        "hooks": _modules("hooks"),
        "triggers": _modules("triggers"),
        "connection-types": [_ARGO_CONNECTION],
        "extra-links": [f"{_PACKAGE}.links.{name}" for name in
                        ("SparkHistoryServerLink", "SparkDriverUILink", "ArgoWorkflowsUILink")],
        "plugins": [{"name": "sparkk8s", "plugin-class": f"{_PACKAGE}.timetables.ArgoCalendarPlugin"}],
    }
