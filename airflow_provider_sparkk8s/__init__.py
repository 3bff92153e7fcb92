"""airflow-provider-sparkk8s: Spark on Kubernetes, Argo Workflows and Argo Events calendars for Airflow 3.

Importing this package must stay cheap: the DAG processor imports provider modules on every parse.
"""

from __future__ import annotations

__version__ = "0.1.0"


def get_provider_info() -> dict:
    """The provider description Airflow discovers through the `apache_airflow_provider` entry point."""
    return {
        "package-name": "airflow-provider-sparkk8s",
        "name": "Spark on Kubernetes and Argo",
        "description": "Launch Spark applications in cluster mode on Kubernetes, submit Argo Workflows, follow "
                       "Argo Events calendars, and migrate Oozie applications.",
        "versions": [__version__],
    }
