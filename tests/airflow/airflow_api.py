"""What Airflow itself reports about a finished `dag.test()` run, per map index: task instance states, XCom, and
the extra links its API server returns (the route the UI calls)."""

from __future__ import annotations

from typing import Any

from tests.airflow.conftest import DagResult


def states(result: DagResult, task_id: str) -> dict[int, str | None]:
    """{map index: state} of one task (-1 for an unmapped one)."""
    return {ti.map_index: getattr(ti.state, "value", ti.state) for ti in result.dag_run.get_task_instances()
            if ti.task_id == task_id}


def xcom(result: DagResult, task_id: str, map_index: int = -1, key: str = "return_value") -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(XComModel.get_many(run_id=result.dag_run.run_id, key=key, dag_ids=result.dag_id,
                                                 task_ids=task_id, map_indexes=map_index)).first()
        return XComModel.deserialize_value(row) if row is not None else None


def extra_links(result: DagResult, task_id: str, map_index: int = -1) -> dict[str, str | None]:
    """The body's ``extra_links`` of ``GET /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/links``: the UI
    shows the "Extra Links" heading when it has any key, and a button for each non-null URL."""
    from airflow.api_fastapi.common.dagbag import create_dag_bag
    from airflow.api_fastapi.core_api.routes.public.extra_links import get_extra_links
    from airflow.utils.session import create_session

    with create_session() as session:
        response = get_extra_links(dag_id=result.dag_id, dag_run_id=result.dag_run.run_id, task_id=task_id,
                                   session=session, dag_bag=create_dag_bag(), map_index=map_index)
    return response.extra_links
