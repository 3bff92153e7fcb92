"""YAML text for manifests we generate: the same bytes whatever else the process has imported.

Hera changes PyYAML's global SafeRepresenter when it is imported, so plain ``yaml.safe_dump`` output depends on
import order. This dumper has its own representer for strings, with the choices Argo needs: multi-line strings
as ``|`` blocks, and ``y``/``n`` quoted because Kubernetes' YAML 1.1 parser reads them as booleans.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_YAML_1_1_BOOLEANS = frozenset({"y", "Y", "n", "N"})
_dumper: Any = None


def _get_dumper() -> Any:
    global _dumper
    if _dumper is None:
        import yaml

        def represent_str(dumper: Any, data: str) -> Any:
            style = "|" if "\n" in data else "'" if data in _YAML_1_1_BOOLEANS else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

        class ManifestDumper(yaml.SafeDumper):
            pass

        # A table of its own, so later changes to SafeDumper's (Hera's) do not reach it.
        ManifestDumper.yaml_representers = {**yaml.SafeDumper.yaml_representers, str: represent_str}
        _dumper = ManifestDumper
    return _dumper


def dump(document: Any, **options: Any) -> str:
    """One YAML document; ``options`` as for ``yaml.dump`` (e.g. ``sort_keys=False``, ``width=120``)."""
    import yaml

    return yaml.dump(document, Dumper=_get_dumper(), **options)


def dump_all(documents: Iterable[Any], **options: Any) -> str:
    import yaml

    return yaml.dump_all(documents, Dumper=_get_dumper(), **options)
