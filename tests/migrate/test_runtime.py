"""The ``oozie`` macro namespace that migrated DAGs call at run time."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from airflow_provider_sparkk8s.migrate import runtime
from airflow_provider_sparkk8s.migrate.runtime import MACROS, OOZIE_MACROS

oozie = OOZIE_MACROS


def test_macros_is_the_namespace_dags_pass_as_user_defined_macros() -> None:
    assert MACROS == {"oozie": OOZIE_MACROS}


def test_module_imports_only_the_standard_library() -> None:
    code = ("import sys; import airflow_provider_sparkk8s.migrate.runtime; "
            "print(sorted(m for m in ('airflow', 'yaml', 'jinja2', 'defusedxml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(("pattern", "expected"), [
    ("yyyyMMdd", "20260305"),
    ("yyyy-MM-dd'T'HH:mm'Z'", "2026-03-05T14:07Z"),
    ("yy/M/d H:m:s", "26/3/5 14:7:9"),
    ("EEE EEEE MMM MMMM", "Thu Thursday Mar March"),
    ("hh:mm a", "02:07 PM"),
    ("HH:mm:ss.SSS z Z", "14:07:09.123 UTC +0000"),
    ("DDD u", "064 4"),
    ("'week' w, ''yy''", "week 10, '26'"),
])
def test_format_time_follows_java_simple_date_format(pattern: str, expected: str) -> None:
    moment = datetime(2026, 3, 5, 14, 7, 9, 123456, tzinfo=UTC)
    assert oozie.format_time(moment, pattern) == expected


def test_format_time_rejects_illegal_letters_like_java() -> None:
    with pytest.raises(ValueError, match="illegal pattern character 'o'"):
        oozie.format_time("2026-01-01T00:00Z", "o'clock")
    with pytest.raises(ValueError, match="unterminated quote"):
        oozie.format_time("2026-01-01T00:00Z", "yyyy'T")


@pytest.mark.parametrize(("offset", "unit", "expected"), [
    (-1, "DAY", "2026-01-30T10:00Z"), (3, "hour", "2026-01-31T13:00Z"), (-30, "MINUTE", "2026-01-31T09:30Z"),
    (1, "MONTH", "2026-02-28T10:00Z"), (1, "YEAR", "2027-01-31T10:00Z"), (2, "WEEK", "2026-02-14T10:00Z"),
])
def test_date_offset(offset: int, unit: str, expected: str) -> None:
    assert oozie.date_offset("2026-01-31T10:00Z", offset, unit) == expected


def test_date_offset_unknown_unit() -> None:
    with pytest.raises(ValueError, match="unknown unit 'FORTNIGHT'"):
        oozie.date_offset("2026-01-31T10:00Z", 1, "FORTNIGHT")


def test_time_values_accept_oozie_formats_and_datetimes() -> None:
    assert oozie.oozie_time("2026-01-01T05:30+0530") == "2026-01-01T00:00Z"
    assert oozie.nominal_time(datetime(2026, 12, 25)) == "2026-12-25T00:00Z"
    assert oozie.date_tz_offset("2026-07-01T10:00Z", "America/New_York") == "2026-07-01T06:00Z"
    assert oozie.epoch_time("1970-01-01T00:01Z", False) == "60"


def test_dataset_instance_aligns_to_initial_instance_and_keeps_local_time_across_dst() -> None:
    # daily dataset at 00:00 Amsterdam; the spring change is on 2026-03-29
    assert oozie.dataset_instance("2026-03-30T10:17Z", 0, "2025-12-31T23:00Z", 1440, "minutes",
                                  "Europe/Amsterdam") == "2026-03-29T22:00Z"
    assert oozie.dataset_instance("2026-03-30T10:17Z", -2, "2025-12-31T23:00Z", 1440, "minutes",
                                  "Europe/Amsterdam") == "2026-03-27T23:00Z"
    assert oozie.dataset_instance("2026-05-20T00:00Z", -1, "2026-01-01T00:00Z", 1, "months", "UTC") \
        == "2026-04-01T00:00Z"


def test_el_coercions() -> None:
    assert (oozie.num("3"), oozie.num("2.5"), oozie.num(None), oozie.num("")) == (3, 2.5, 0, 0)
    assert (oozie.to_bool("TRUE"), oozie.to_bool("yes"), oozie.to_bool(None)) == (True, False, False)
    assert (oozie.to_str(None), oozie.to_str(False), oozie.to_str(1.5)) == ("", "false", "1.5")
    assert oozie.empty("") and oozie.empty(None) and oozie.empty({}) and not oozie.empty("0")


def test_string_functions() -> None:
    assert oozie.concat(None, "b") == "b"
    assert oozie.trim("  x\t") == "x"
    assert oozie.replace_all("a1b22", r"(\d+)", "<$1>") == "a<1>b<22>"
    assert oozie.replace_all("a$b", r"\$", r"\$\\") == "a$\\b"
    assert oozie.replace_all(None, "x", "y") is None
    assert oozie.append_all("/a,/b", "/part", ",") == "/a/part,/b/part"
    assert oozie.first_not_null(None, "x") == "x" and oozie.first_not_null("", "x") == ""
    assert oozie.url_encode("a b/ü*~") == "a+b%2F%C3%BC*%7E"


def test_map_serialisations() -> None:
    data = {"a": "1", "b=c": "x:y"}
    assert json.loads(oozie.to_json_str(data)) == data
    assert oozie.to_properties_str(data) == "a=1\nb\\=c=x\\:y\n"
    assert oozie.parse_capture_output(oozie.to_properties_str(data)) == data
    assert oozie.to_configuration_str({"k": "<v>"}) == \
        "<configuration><property><name>k</name><value>&lt;v&gt;</value></property></configuration>"


def test_parse_capture_output_reads_java_properties() -> None:
    text = "# comment\n! also\nkey=value\nspaced : v w\ncont=a\\\n   b\nuni=\\u00e9\nempty\n"
    assert runtime.parse_capture_output(text) == {"key": "value", "spaced": "v w", "cont": "ab", "uni": "é",
                                                  "empty": ""}


def test_parse_capture_output_enforces_oozies_2kb_limit() -> None:
    runtime.parse_capture_output("k=" + "x" * 2000)
    with pytest.raises(ValueError, match="at most 2048"):
        runtime.parse_capture_output("k=" + "x" * 2050)


def test_timestamp_is_utc_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0, second=0)
    stamp = oozie.timestamp()
    assert stamp.endswith("Z") and len(stamp) == len("2026-01-01T00:00:00.000Z")
    assert oozie.parse_time(stamp) >= before


# ------------------------------------------------------------------------------------------ workflow state


class AirflowThreeTI:
    """What a task sees in Airflow 3: no DB access, task states via the execution API."""

    dag_id, run_id = "d", "r"

    def __init__(self, states: dict[str, str], order: list[str]) -> None:
        self.states = states
        self.task = SimpleNamespace(dag=SimpleNamespace(task_ids=order))

    def get_task_states(self, dag_id: str, run_ids: list[str]) -> dict[str, dict[str, str]]:
        assert (dag_id, run_ids) == ("d", ["r"])
        return {"r": self.states}


def test_last_error_node_in_airflow_3_is_the_most_downstream_failed_task() -> None:
    ti = AirflowThreeTI({"a": "failed", "b": "success", "c": "failed", "kill": "running"}, ["a", "b", "c", "kill"])
    assert oozie.last_error_node(None, ti) == "c"
    assert oozie.error_message(None, "c", ti) == "task c failed (see its log)"
    assert oozie.error_message(None, "b", ti) == ""
    assert (oozie.error_code(None, "a", ti), oozie.error_code(None, "b", ti)) == ("FAILED", "")
    assert oozie.task_state(None, "b", ti) == "SUCCESS"


def test_last_error_node_uses_end_dates_when_the_dag_run_has_them() -> None:
    def ti(task_id: str, state: str, minute: int) -> SimpleNamespace:
        return SimpleNamespace(task_id=task_id, state=state, end_date=datetime(2026, 1, 1, 0, minute, tzinfo=UTC))

    dag_run = SimpleNamespace(get_task_instances=lambda: [ti("late", "failed", 9), ti("early", "failed", 1),
                                                          ti("ok", "success", 10)])
    assert oozie.last_error_node(dag_run) == "late"


def test_no_failure_gives_empty_strings() -> None:
    ti = AirflowThreeTI({"a": "success"}, ["a"])
    assert oozie.last_error_node(None, ti) == "" and oozie.error_message(None, "", ti) == ""


def test_workflow_state_without_task_instance_says_what_is_missing() -> None:
    with pytest.raises(ValueError, match="pass `ti`"):
        oozie.last_error_node(SimpleNamespace())
