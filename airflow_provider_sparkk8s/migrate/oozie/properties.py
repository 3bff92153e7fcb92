"""Job properties: ``job.properties`` (Java .properties syntax), ``config-default.xml`` (Hadoop configuration XML),
their precedence, and substitution of ``${name}`` references.

Oozie resolves a workflow's parameters from the submitted job properties first, then ``config-default.xml`` in the
application directory, then the defaults declared in ``<parameters>``. Property values may reference each other
(``appRoot=${nameNode}/apps``); those references are resolved here. EL functions (``${wf:id()}``,
``${coord:days(1)}``) and expressions are left as written for the emitters to translate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .ir import Issue, MigrationError, Source
from .xml import XmlElement, read_xml

# A plain property reference: ${name} where name is a Java-ish identifier, dots allowed (${user.name}).
# Anything else inside ${...} (a function call, an operator, a quote) is EL and is not touched.
_REFERENCE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}")

# Names that are EL constants or coordinator URI-template variables, never missing properties.
EL_NAMES = frozenset({"true", "false", "null", "empty", "KB", "MB", "GB", "TB", "PB", "MINUTES", "HOURS", "DAYS",
                      "RECORDS", "MAP_IN", "MAP_OUT", "REDUCE_IN", "REDUCE_OUT", "GROUPS",
                      "YEAR", "MONTH", "DAY", "HOUR", "MINUTE"})

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


@dataclass
class PropertySet:
    """Property values with the place each one was defined."""

    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ job.properties


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join ``\\``-continued lines (an odd number of trailing backslashes); skip blanks and comments.
    Returns (first physical line number, logical line)."""
    result: list[tuple[int, str]] = []
    pending: str | None = None
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip(" \t\f")
        if pending is None:
            if not line or line[0] in "#!":
                continue
            start, pending = number, ""
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            pending += line[:-1]
            continue
        result.append((start, pending + line))
        pending = None
    if pending is not None:
        result.append((start, pending))
    return result


def _unescape(text: str, display: str, line: int) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\" or index + 1 == len(text):
            out.append(char)
            index += 1
            continue
        nxt = text[index + 1]
        if nxt == "u":
            digits = text[index + 2 : index + 6]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise MigrationError([Issue("error", f"malformed \\uXXXX escape '\\u{digits}'",
                                            Source(display, line), "job properties")])
            out.append(chr(int(digits, 16)))
            index += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        index += 2
    return "".join(out)


def _split_key_value(line: str) -> tuple[str, str]:
    """Split at the first unescaped ``=``, ``:`` or whitespace; whitespace around the separator is dropped."""
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\":
            index += 2
            continue
        if char in "=: \t\f":
            break
        index += 1
    key, rest = line[:index], line[index:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return key, rest


def read_properties(path: Path, display: str | None = None) -> PropertySet:
    """Read a Java .properties file, keeping the line of every key (the last definition wins, as in Java)."""
    display = display or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MigrationError([Issue("error", f"cannot read properties file: {exc.strerror}", Source(display),
                                    "job properties")]) from None
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")  # Java's historical default for .properties
    result = PropertySet()
    for number, line in _logical_lines(text):
        raw_key, raw_value = _split_key_value(line)
        key = _unescape(raw_key, display, number)
        result.values[key] = _unescape(raw_value, display, number)
        result.sources[key] = Source(display, number)
    return result


def load_properties(path: str | Path) -> dict[str, str]:
    """Read a Java .properties file into a dict (errors name the file and line)."""
    return read_properties(Path(path)).values


# ------------------------------------------------------------------------------------------ config-default.xml


def configuration_properties(element: XmlElement) -> PropertySet:
    """``<property><name/><value/></property>`` children of a Hadoop ``<configuration>`` element."""
    result = PropertySet()
    for prop in element.children_named("property"):
        name = prop.child_text("name")
        if not name:
            raise MigrationError([Issue("error", "<property> without a <name>", prop.source, "configuration")])
        result.values[name] = prop.child_text("value", "") or ""
        result.sources[name] = prop.source
    return result


def read_configuration_xml(path: Path, display: str) -> PropertySet:
    """Read a Hadoop configuration file (``config-default.xml``, a ``job-xml`` file)."""
    root = read_xml(path, display)
    if root.local != "configuration":
        raise MigrationError([Issue("error", f"expected a <configuration> root element, found <{root.local}>",
                                    root.source, "configuration")])
    return configuration_properties(root)


# ------------------------------------------------------------------------------------------ substitution


def references(text: str) -> list[str]:
    """The plain property names referenced as ``${name}`` in ``text``, in order."""
    return [match.group(1) for match in _REFERENCE.finditer(text)]


def substitute(text: str, properties: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace each plain ``${name}`` whose name is known; return the new text and the plain names that are not
    known (left as written). EL functions and expressions are never touched."""
    unresolved: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in properties:
            return properties[name]
        if name not in unresolved and name not in EL_NAMES:
            unresolved.append(name)
        return match.group(0)

    return _REFERENCE.sub(replace, text), unresolved


def merge(*layers: PropertySet) -> PropertySet:
    """Layers from lowest to highest precedence."""
    result = PropertySet()
    for layer in layers:
        result.values.update(layer.values)
        result.sources.update(layer.sources)
    return result


def parameter_defaults(parameters: Mapping[str, str | None], source: Source) -> PropertySet:
    """``<parameters>`` defaults as a layer (parameters without a default add nothing)."""
    values = {name: value for name, value in parameters.items() if value is not None}
    return PropertySet(values, dict.fromkeys(values, source))


def resolve(job: PropertySet, defaults: PropertySet | None = None,
            parameters: PropertySet | None = None) -> tuple[PropertySet, dict[str, Source]]:
    """Apply Oozie's precedence (``job`` > ``defaults`` (config-default.xml) > ``parameters`` defaults) and
    resolve references between properties. Returns the resolved set and the unresolved names with the place
    that referenced them. A reference cycle is an error naming its keys."""
    merged = merge(parameters or PropertySet(), defaults or PropertySet(), job)
    resolved: dict[str, str] = {}
    unresolved: dict[str, Source] = {}
    cycles: list[Issue] = []

    def visit(key: str, chain: list[str]) -> str:
        if key in resolved:
            return resolved[key]
        if key in chain:
            loop = chain[chain.index(key):] + [key]
            issue = Issue("error", "property reference cycle: " + " -> ".join(loop), merged.sources[loop[0]],
                          f"property {loop[0]}")
            if not any(existing.message == issue.message for existing in cycles):
                cycles.append(issue)
            return merged.values[key]
        known: dict[str, str] = {}
        for name in references(merged.values[key]):
            if name in merged.values:
                known[name] = visit(name, [*chain, key])
            elif name not in EL_NAMES:
                unresolved.setdefault(name, merged.sources[key])
        value, _ = substitute(merged.values[key], known)
        resolved[key] = value
        return value

    for key in merged.values:
        visit(key, [])
    if cycles:
        raise MigrationError(cycles)
    return PropertySet(resolved, merged.sources), unresolved
