"""OpenAPI schemas of the built-in Kubernetes types, read from the `kubernetes` Python client's generated models
(their `openapi_types`, `attribute_map`, property descriptions and required-field checks).

The model sources are parsed, not imported: importing the client's ~800 models takes seconds, and a schema needs
only the few dozen models a kind refers to. Any served kind whose model exists gets its schema.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from pathlib import Path

from .managed_fields import BUILTIN_LIST_KEYS, BUILTIN_SETS
from .patching import MERGE_KEYS

_PRIMITIVES = {
    "str": {"type": "string"},
    "int": {"type": "integer", "format": "int32"},
    "float": {"type": "number", "format": "double"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "object": {},
}
_REQUIRED = re.compile(r"Invalid value for `(\w+)`, must not be `None`")


@functools.cache
def _models_dir() -> Path | None:
    spec = importlib.util.find_spec("kubernetes")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "client" / "models"
    return path if path.is_dir() else None


@functools.cache
def _model_modules() -> dict[str, str]:
    """Model class name -> module file stem, from the models package's imports."""
    models = _models_dir()
    if models is None:
        return {}
    text = (models / "__init__.py").read_text()
    return {cls: mod for mod, cls in re.findall(r"from kubernetes\.client\.models\.(\w+) import (\w+)", text)}


@functools.cache
def model(name: str) -> tuple[dict[str, str], dict[str, str], dict[str, str], frozenset[str]] | None:
    """(openapi_types, attribute_map, descriptions by attribute, required attributes) of a model class."""
    module = _model_modules().get(name)
    models = _models_dir()
    if module is None or models is None:
        return None
    source = (models / f"{module}.py").read_text()
    tree = ast.parse(source)
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    if cls is None:
        return None
    types: dict[str, str] = {}
    attrs: dict[str, str] = {}
    docs: dict[str, str] = {}
    for node in cls.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target in ("openapi_types", "attribute_map"):
                (types if target == "openapi_types" else attrs).update(ast.literal_eval(node.value))
        elif isinstance(node, ast.FunctionDef) and any(isinstance(d, ast.Name) and d.id == "property"
                                                       for d in node.decorator_list):
            docs[node.name] = _description(ast.get_docstring(node) or "")
    return types, attrs, docs, frozenset(_REQUIRED.findall(source))


def _description(doc: str) -> str:
    """The text between a generated property docstring's "Gets the x of y." line and its `:return:` lines."""
    lines = [line.replace("# noqa: E501", "").strip() for line in doc.splitlines()]
    body = [line for line in lines[1:] if line and not line.startswith((":return:", ":rtype:"))]
    return " ".join(body).strip()


def schema_name(model_name: str) -> str:
    """A component name for a model (V1PodSpec -> io.k8s.api.v1.PodSpec; meta types keep their real names)."""
    match = re.match(r"^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)(\w+)$", model_name)
    if not match:
        return f"io.k8s.api.{model_name}"
    group, version, kind = match.groups()
    if kind in {"ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement", "OwnerReference",
                "ManagedFieldsEntry", "Status", "StatusDetails", "StatusCause", "Condition", "DeleteOptions",
                "Preconditions", "APIResource", "APIResourceList"}:
        return f"io.k8s.apimachinery.pkg.apis.meta.{version.lower()}.{kind}"
    return f"io.k8s.api.{(group or 'core').lower()}.{version.lower()}.{kind}"


def _property(type_name: str, field: str, refs: set[str]) -> dict:
    if type_name.startswith("list["):
        out: dict = {"type": "array", "items": _property(type_name[5:-1], "", refs)}
        keys = BUILTIN_LIST_KEYS.get(field)
        if keys:
            out.update({"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)})
        elif field in BUILTIN_SETS:
            out["x-kubernetes-list-type"] = "set"
        if field in MERGE_KEYS and field != "ports":  # ports merge by containerPort or port, by context
            out.update({"x-kubernetes-patch-merge-key": MERGE_KEYS[field], "x-kubernetes-patch-strategy": "merge"})
        return out
    if type_name.startswith(("dict(", "dict[")):
        value = type_name[type_name.index(",") + 1:-1].strip()
        return {"type": "object", "additionalProperties": _property(value, "", refs)}
    if type_name in _PRIMITIVES:
        return dict(_PRIMITIVES[type_name])
    refs.add(type_name)
    return {"allOf": [{"$ref": f"#/components/schemas/{schema_name(type_name)}"}]}


def model_schema(name: str, refs: set[str]) -> dict | None:
    """The schema of one model; the models it refers to are added to `refs`."""
    found = model(name)
    if found is None:
        return None
    types, attrs, docs, required = found
    properties = {}
    for attr, type_name in types.items():
        prop = _property(type_name, attrs[attr], refs)
        if docs.get(attr):
            prop["description"] = docs[attr]
        properties[attrs[attr]] = prop
    out: dict = {"type": "object", "properties": properties}
    wanted = sorted(attrs[a] for a in required if a in attrs)
    if wanted:
        out["required"] = wanted
    return out


def kind_model(group: str, version: str, kind: str) -> str | None:
    """The client's model class of a served kind, if it has one (V1Pod, CoreV1Event, V1Deployment, ...)."""
    cap = version[:1].upper() + version[1:]
    group_word = (group.split(".")[0] if group else "core").capitalize()
    for candidate in (f"{cap}{kind}", f"{group_word}{cap}{kind}"):
        if candidate in _model_modules():
            return candidate
    return None


@functools.cache
def schemas_for(model_names: tuple[str, ...]) -> dict[str, dict]:
    """Component schemas of models and everything they refer to, by component name (do not modify them)."""
    out: dict[str, dict] = {}
    pending = list(model_names)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        refs: set[str] = set()
        schema = model_schema(name, refs)
        if schema is not None:
            out[schema_name(name)] = schema
        pending.extend(refs - seen)
    return out


__all__ = ["kind_model", "model_schema", "schema_name", "schemas_for"]
