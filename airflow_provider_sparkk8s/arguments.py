"""Argument checks shared by every operator and sensor.

A literal value is checked when the DAG file is parsed; a value only known when the task runs (a Jinja string, an
XComArg) is checked once Airflow has rendered it, at the start of ``execute``, before anything is created. Both
errors name the task and the argument.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["INTEGER", "MANIFEST", "MANIFEST_SUFFIXES", "MAPPING", "MAPPINGS", "NUMBER", "STRING", "STRINGS",
           "STRINGS_OR_CSV", "Kind", "check_arguments", "check_rendered", "describe", "is_templated",
           "read_template_file", "renamed"]
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
NATIVE_HINT = "a Jinja template renders to a string unless the DAG sets render_template_as_native_obj=True"


@dataclass(frozen=True)
class Kind:
    """What an argument must be: `accepts` tells, `description` says it in an error; `convert` turns a rendered
    string into the value (numbers), raising ValueError when it cannot."""

    description: str
    accepts: Callable[[Any], bool]
    convert: Callable[[str], Any] | None = None


def _number(value: Any, types: tuple[type, ...]) -> bool:
    return isinstance(value, types) and not isinstance(value, bool)


STRING = Kind("a string", lambda v: isinstance(v, str))
STRINGS = Kind("a list of strings", lambda v: isinstance(v, (list, tuple)))
STRINGS_OR_CSV = Kind("a list of strings or a comma-separated string", lambda v: isinstance(v, (list, tuple, str)))
MAPPING = Kind("a dict", lambda v: isinstance(v, Mapping))
MAPPINGS = Kind("a list of dicts", lambda v: isinstance(v, (list, tuple)) and all(isinstance(i, Mapping) for i in v))
INTEGER = Kind("an integer", lambda v: _number(v, (int,)), int)
NUMBER = Kind("a number", lambda v: _number(v, (int, float)), lambda s: int(s) if s.isdigit() else float(s))
MANIFEST = Kind(f"a dict, or the path of a {'/'.join(MANIFEST_SUFFIXES)} file",
                lambda v: isinstance(v, (Mapping, str)))


def is_templated(value: Any, deep: bool = False) -> bool:
    """Known only when the task runs: a string with Jinja in it, or anything Airflow resolves when it renders
    (an XComArg), at the top level or, with `deep`, anywhere inside lists and dict values."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if deep and isinstance(value, (list, tuple, set)):
        return any(is_templated(v, deep) for v in value)
    if deep and isinstance(value, Mapping):
        return any(is_templated(v, deep) for v in value.values())
    # What Airflow's templater resolves instead of rendering (XComArg, LiteralValue ...): see render_template.
    return not isinstance(value, os.PathLike) and callable(getattr(value, "resolve", None))


def describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:80] + '...' if len(text) > 80 else text}"


def check_arguments(task: Any, kinds: Mapping[str, Kind]) -> None:
    """At parse time: every literal argument of `kinds` has its kind. Templated ones wait for check_rendered."""
    for arg, kind in kinds.items():
        value = getattr(task, arg)
        if value is not None and not is_templated(value) and not kind.accepts(value):
            raise TypeError(f"Task {task.task_id}: {arg}: expected {kind.description}, got {describe(value)}")


def check_rendered(task: Any, kinds: Mapping[str, Kind]) -> None:
    """In execute, after Airflow rendered the templated fields: every argument of `kinds` has its kind. A string
    rendered for a number becomes the number."""
    from airflow.providers.common.compat.sdk import AirflowFailException

    for arg, kind in kinds.items():
        value = getattr(task, arg)
        if value is None or kind.accepts(value):
            continue
        if isinstance(value, str) and kind.convert is not None:
            try:
                setattr(task, arg, kind.convert(value.strip()))
                continue
            except ValueError:
                pass
        hint = f" ({NATIVE_HINT})" if isinstance(value, str) and kind is not STRING else ""
        raise AirflowFailException(f"Task {task.task_id}: {arg}: expected {kind.description} after rendering, got "
                                   f"{describe(value)}{hint}")


def read_template_file(task: Any, arg: str, path: str, jinja_env: Any) -> str:
    """The text of a template file, found as Airflow finds the files of `template_ext`: in the DAG folder and the
    DAG's template_searchpath; an absolute path is read as it is (Jinja's loader would look for it below the
    search path)."""
    import jinja2
    from airflow.providers.common.compat.sdk import AirflowFailException

    if os.path.isabs(path):
        try:
            with open(path, encoding="utf-8") as file:
                return file.read()
        except OSError as exc:
            raise AirflowFailException(f"Task {task.task_id}: {arg}: cannot read {path}: {exc.strerror}") from None
    try:
        if jinja_env.loader is None:
            raise jinja2.TemplateNotFound(path)
        return jinja_env.loader.get_source(jinja_env, path)[0]
    except jinja2.TemplateNotFound:
        dag = getattr(task, "dag", None)
        folders = [dag.folder, *(dag.template_searchpath or [])] if dag is not None else []
        raise AirflowFailException(f"Task {task.task_id}: {arg}: {path} not found in the DAG folder or "
                                   f"template_searchpath ({', '.join(map(str, folders)) or 'no DAG'})") from None


def renamed(task_id: str, old: str, new: str, old_value: Any, new_value: Any, default: Any = None,
            stacklevel: int = 4) -> Any:
    """The value of an argument that has a new name, warning when the deprecated name is used."""
    if old_value is None:
        return new_value
    if new_value != default:
        raise ValueError(f"Task {task_id}: {old}: deprecated name of {new}; set only {new}")
    warnings.warn(f"{old} is deprecated; use {new} (task {task_id})", _deprecation_warning(), stacklevel=stacklevel)
    return old_value


def _deprecation_warning() -> type[DeprecationWarning]:
    try:  # imported only when a deprecated name is used
        from airflow.exceptions import AirflowProviderDeprecationWarning
    except ImportError:  # pragma: no cover - every supported Airflow has it
        return DeprecationWarning
    return AirflowProviderDeprecationWarning
