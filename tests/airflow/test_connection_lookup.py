"""A connection that cannot be read is an error naming it: only a connection that is not defined means the
defaults (in-cluster or ~/.kube/config), as the cncf.kubernetes provider treats it."""

from __future__ import annotations

import pytest

from airflow_provider_sparkk8s.hooks.argo import ArgoWorkflowsHook
from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook

# The Task SDK's secrets backends (Airflow 3.1+). The lowest-version pass (Airflow 3.0) collects this module
# without selecting its tests: there it is skipped as a whole instead of failing to import.
BaseSecretsBackend = pytest.importorskip("airflow.sdk.bases.secrets_backend").BaseSecretsBackend
from airflow.sdk.exceptions import AirflowSecretsBackendAccessDenied  # noqa: E402


class DenyingSecretsBackend(BaseSecretsBackend):
    """A secrets backend that refuses to say anything about `kubernetes_denied`."""

    def get_conn_value(self, conn_id: str) -> str | None:
        if conn_id == "kubernetes_denied":
            raise AirflowSecretsBackendAccessDenied(f"access to connection {conn_id} denied by policy")
        return None


@pytest.fixture
def denying_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow.sdk.configuration as sdk_configuration

    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", f"{__name__}.DenyingSecretsBackend")
    monkeypatch.setattr(sdk_configuration, "_secrets_backend_cache", {})  # backends are built once per process


def test_a_connection_the_secrets_backend_denies_is_an_error_naming_it(kube_emulator, denying_backend) -> None:
    with pytest.raises(RuntimeError, match="Could not read connection 'kubernetes_denied': access to connection "
                                           "kubernetes_denied denied by policy"):
        SparkK8sHook("kubernetes_denied").get_namespace()
    with pytest.raises(RuntimeError, match="Could not read connection 'kubernetes_denied'"):
        ArgoWorkflowsHook(kubernetes_conn_id="kubernetes_denied").get_namespace()


def test_a_connection_that_is_not_defined_means_the_defaults(kube_emulator, denying_backend) -> None:
    assert SparkK8sHook("kubernetes_not_defined").get_namespace() == "default"
