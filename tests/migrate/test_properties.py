"""job.properties syntax, config-default.xml, Oozie's precedence and ${name} substitution."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_sparkk8s.migrate.oozie.ir import MigrationError, Source
from airflow_provider_sparkk8s.migrate.oozie.properties import (
    PropertySet,
    load_properties,
    read_configuration_xml,
    read_properties,
    resolve,
    substitute,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_java_properties_separators_comments_and_dotted_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "job.properties", "\n".join([
        "# comment",
        "! also a comment",
        "   ",
        "nameNode=hdfs://nn:8020",
        "jobTracker : rm:8032",
        "queue default",
        "user.name = etl",
        "empty=",
        "url=jdbc:mysql://db?a=b",
    ]))
    assert load_properties(path) == {
        "nameNode": "hdfs://nn:8020", "jobTracker": "rm:8032", "queue": "default", "user.name": "etl",
        "empty": "", "url": "jdbc:mysql://db?a=b",
    }


def test_line_continuations_and_escapes(tmp_path: Path) -> None:
    path = write(tmp_path, "job.properties", "\n".join([
        "list=a,\\",
        "     b,\\",
        "     c",
        "tabbed=x\\ty",
        "newline=1\\n2",
        "unicode=caf\\u00e9",
        "key\\ with\\ space=v",
        "path=C:\\\\temp",
        "last=end",
    ]))
    values = load_properties(path)
    assert values["list"] == "a,b,c"
    assert values["tabbed"] == "x\ty"
    assert values["newline"] == "1\n2"
    assert values["unicode"] == "café"
    assert values["key with space"] == "v"
    assert values["path"] == "C:\\temp"
    assert values["last"] == "end"


def test_lines_are_remembered_for_reports(tmp_path: Path) -> None:
    path = write(tmp_path, "job.properties", "# header\n\na=1\nb=\\\n  2\nc=3\n")
    props = read_properties(path, "job.properties")
    assert props.sources == {"a": Source("job.properties", 3), "b": Source("job.properties", 4),
                             "c": Source("job.properties", 6)}


def test_malformed_unicode_escape_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "job.properties", "ok=1\nbad=\\u12\n")
    with pytest.raises(MigrationError) as caught:
        load_properties(path)
    assert "job.properties:2" in str(caught.value)
    assert "\\u12" in str(caught.value)


def test_config_default_xml(tmp_path: Path) -> None:
    path = write(tmp_path, "config-default.xml", """<?xml version="1.0"?>
<configuration>
  <property><name>queueName</name><value>default</value></property>
  <property>
    <name>empty</name>
  </property>
</configuration>""")
    props = read_configuration_xml(path, "config-default.xml")
    assert props.values == {"queueName": "default", "empty": ""}
    assert props.sources["empty"] == Source("config-default.xml", 4)


def test_config_default_with_wrong_root_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "config-default.xml", "<conf/>")
    with pytest.raises(MigrationError, match="config-default.xml:1.*expected a <configuration> root"):
        read_configuration_xml(path, "config-default.xml")


def layer(**values: str) -> PropertySet:
    return PropertySet(dict(values), {k: Source("f", i) for i, k in enumerate(values, start=1)})


def test_precedence_job_over_config_default_over_parameters() -> None:
    resolved, unresolved = resolve(layer(a="job"), layer(a="default", b="default"),
                                   layer(a="param", b="param", c="param"))
    assert resolved.values == {"a": "job", "b": "default", "c": "param"}
    assert unresolved == {}


def test_references_between_properties_resolve_in_any_order() -> None:
    resolved, unresolved = resolve(layer(appRoot="${nameNode}/user/${user.name}/apps", nameNode="hdfs://nn",
                                         **{"user.name": "etl"}))
    assert resolved.values["appRoot"] == "hdfs://nn/user/etl/apps"
    assert unresolved == {}


def test_reference_to_a_lower_layer_resolves() -> None:
    resolved, _ = resolve(layer(out="${base}/out"), layer(base="/data"))
    assert resolved.values["out"] == "/data/out"


def test_unresolved_references_are_reported_with_the_defining_place() -> None:
    resolved, unresolved = resolve(layer(a="x", b="${missing}/y"))
    assert resolved.values["b"] == "${missing}/y"
    assert unresolved == {"missing": Source("f", 2)}


def test_reference_cycle_is_an_error_naming_the_keys() -> None:
    with pytest.raises(MigrationError) as caught:
        resolve(layer(a="${b}", b="${c}", c="${a}"))
    assert "a -> b -> c -> a" in str(caught.value)
    assert "f:1" in str(caught.value)


def test_self_reference_is_a_cycle() -> None:
    with pytest.raises(MigrationError, match="x -> x"):
        resolve(layer(x="${x}/more"))


def test_el_functions_are_left_untouched() -> None:
    resolved, unresolved = resolve(layer(when="${coord:formatTime(coord:nominalTime(), 'yyyy')}",
                                         id="${wf:id()}", expr="${a eq b}", size="${10 * MB}"))
    assert resolved.values["when"] == "${coord:formatTime(coord:nominalTime(), 'yyyy')}"
    assert resolved.values["id"] == "${wf:id()}"
    assert unresolved == {}


def test_substitute_replaces_only_known_plain_references() -> None:
    text, unresolved = substitute("${nameNode}/u/${user.name}/${wf:id()}/${other}/${YEAR}/${x gt 1}",
                                  {"nameNode": "hdfs://nn", "user.name": "etl"})
    assert text == "hdfs://nn/u/etl/${wf:id()}/${other}/${YEAR}/${x gt 1}"
    assert unresolved == ["other"]


def test_substitute_does_not_rescan_substituted_values() -> None:
    text, unresolved = substitute("${a}", {"a": "${b}", "b": "no"})
    assert text == "${b}"
    assert unresolved == []
