"""airflow-provider-sparkk8s: Spark on Kubernetes, Argo Workflows and Argo Events calendars for Airflow 3.

Importing this package must stay cheap: the DAG processor imports provider modules on every parse.
"""

from __future__ import annotations

__version__ = "0.1.0"

_PACKAGE = "airflow_provider_sparkk8s"
# integration name -> (documentation URL, the module name used under hooks/, operators/, sensors/, triggers/)
_INTEGRATIONS = {
    "Spark on Kubernetes": ("https://spark.apache.org/docs/latest/running-on-kubernetes.html", "spark"),
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
        # The Spark hook uses the cncf.kubernetes provider's `kubernetes` connection type and its form.
        "extra-links": [f"{_PACKAGE}.links.SparkHistoryServerLink", f"{_PACKAGE}.links.SparkDriverUILink"],
    }
