"""Kept for importers of the old path: the Argo workflow controller now lives in ``controllers/argo_workflows.py``."""

from .controllers.argo_workflows import ArgoError, ArgoWorkflowController, fnv32a, node_id, pod_name, substitute

__all__ = ["ArgoError", "ArgoWorkflowController", "fnv32a", "node_id", "pod_name", "substitute"]
