"""Reading users' YAML (manifests, pod templates, EventSources): aliases may not expand into a bomb."""

from __future__ import annotations

import pytest
import yaml

from airflow_provider_sparkk8s.safe_yaml import safe_load, safe_load_all
from tests.reliability.hostile_input import YAML_BOMB


def test_a_billion_laughs_document_is_refused_before_it_is_built() -> None:
    expected = r"aliases expand to 490,329,064 values \(more than 100,000 beyond the 28 written\): refused"
    with pytest.raises(yaml.YAMLError, match=expected):
        safe_load(YAML_BOMB)


def test_ordinary_aliases_still_load() -> None:
    text = "defaults: &d {image: busybox, pull: Always}\na: *d\nb: *d\n"
    assert safe_load(text) == {"defaults": {"image": "busybox", "pull": "Always"},
                               "a": {"image": "busybox", "pull": "Always"}, "b": {"image": "busybox", "pull": "Always"}}


def test_several_documents_and_python_tags() -> None:
    assert safe_load_all("a: 1\n---\n---\nb: 2\n") == [{"a": 1}, None, {"b": 2}]
    with pytest.raises(yaml.YAMLError, match="python/object"):
        safe_load("!!python/object/apply:os.system ['true']")
    with pytest.raises(yaml.YAMLError, match="expected a single document, found 2"):
        safe_load("a: 1\n---\nb: 2\n")
