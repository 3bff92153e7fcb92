"""What our operators record about their application in Airflow's task state store (Airflow 3.3+).

The store survives retries (XCom does not), so a retry after a lost worker can find what the lost try
submitted. Besides the application itself the record says whether its success was already reported: a
successful application that no try reported belongs to a try that was lost (its worker died, or it lost
the API) after the application ended, and the retry takes that success instead of running the application
a second time. A reported one (the user cleared a finished task to run it again) is run again.
"""

from __future__ import annotations

from typing import Any

REPORTED = "reported"


def recall(context: Any, key: str, log: Any) -> dict[str, Any] | None:
    """The record under `key`, or None (no store, nothing recorded, or the store could not be read)."""
    store = context.get("task_state_store")
    if store is None:
        return None
    try:
        data = store.get(key)
    except Exception as exc:  # noqa: BLE001 - the label search still finds the application
        log.warning("Could not read the task state store: %s", exc)
        return None
    return data if isinstance(data, dict) else None


def record(context: Any, key: str, value: dict[str, Any], log: Any, reported: bool = False) -> None:
    """Record `value` under `key`; `reported`: this try has seen the application succeed and reports it now."""
    store = context.get("task_state_store")
    if store is None:
        return
    try:
        store.set(key, {**value, REPORTED: reported})
    except Exception as exc:  # noqa: BLE001 - labels keep adoption working without it
        log.warning("Could not record the application in the task state store: %s", exc)


def unreported_success(data: dict[str, Any] | None, try_number: int) -> bool:
    """Whether a success of the recorded application would be one an earlier try never reported."""
    return bool(data and not data.get(REPORTED) and int(data.get("try_number", try_number)) < try_number)
