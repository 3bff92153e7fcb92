"""The whole corpus, as generated (the golden files): every DAG loads in a real Airflow DagBag, and every Argo
manifest validates against Argo's JSON Schema and is accepted by the Kubernetes API emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from airflow_provider_sparkk8s.testing import KubeEmulator

GOLDEN = Path(__file__).parent / "golden"
EXAMPLE = Path(__file__).parents[2] / "dags_examples" / "oozie" / "spark-etl-argo"  # the migrated example
APPS = sorted(p.name for p in (GOLDEN / "airflow").iterdir())


@pytest.mark.parametrize("app", APPS)
def test_every_generated_dag_loads_without_import_errors(app: str, airflow_db: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    folder = GOLDEN / "airflow" / app
    files = sorted(folder.glob("*.py"))
    assert files, f"no DAG generated for {app}"
    bag = DagBag(dag_folder=str(folder))
    assert bag.import_errors == {}
    assert len(bag.dag_ids) == len(files)
    for dag in bag.dags.values():
        assert "oozie" in dag.tags


def test_every_argo_manifest_validates_and_is_accepted_by_the_api(validate: Callable[[dict], None],
                                                                  kube_emulator: KubeEmulator) -> None:
    kube_emulator.create_namespace("argo")
    checked = 0
    for path in sorted([*(GOLDEN / "argo").rglob("*.yaml"), *EXAMPLE.glob("*.yaml")]):
        for manifest in yaml.safe_load_all(path.read_text()):
            validate(manifest)
            kube_emulator.apply(manifest, "argo")
            checked += 1
    assert checked >= len(APPS)
