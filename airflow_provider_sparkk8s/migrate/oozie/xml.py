"""Safe, namespace-aware XML reading that remembers the line of every element.

Oozie files come from users' repositories, so they are read with defusedxml: DTD entity declarations (the
"billion laughs" bomb) and external references (XXE) are refused before anything is expanded or fetched.
Each element becomes a small :class:`XmlElement` with its namespace URI, local name, attributes, text and
1-based line, which is all the parser needs to build the IR and to name places in errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .ir import Issue, MigrationError, Source

if TYPE_CHECKING:
    from xml.parsers.expat import XMLParserType


@dataclass
class XmlElement:
    namespace: str  # "" when the element has no namespace
    local: str
    attrib: dict[str, str]
    source: Source
    text: str = ""
    children: list[XmlElement] = field(default_factory=list)

    @property
    def line(self) -> int | None:
        return self.source.line

    def __iter__(self) -> Iterator[XmlElement]:
        return iter(self.children)

    def child(self, local: str) -> XmlElement | None:
        """The first child with this local name (any namespace), or None."""
        return next((c for c in self.children if c.local == local), None)

    def children_named(self, *locals_: str) -> list[XmlElement]:
        return [c for c in self.children if c.local in locals_]

    def child_text(self, local: str, default: str | None = None) -> str | None:
        """The stripped text of the first child with this local name; ``default`` when there is none."""
        found = self.child(local)
        return found.text.strip() if found is not None else default

    def texts(self, local: str) -> list[str]:
        """The stripped texts of every child with this local name, in document order."""
        return [c.text.strip() for c in self.children if c.local == local]

    def has(self, local: str) -> bool:
        return self.child(local) is not None

    def describe(self) -> str:
        name = self.attrib.get("name")
        return f"<{self.local} name=\"{name}\">" if name is not None else f"<{self.local}>"


def split_tag(tag: str) -> tuple[str, str]:
    """``{uri}local`` (ElementTree's spelling) -> (uri, local)."""
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return "", tag


class _Builder:
    """An ElementTree parser target that builds :class:`XmlElement` and reads the line from expat."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.expat: XMLParserType | None = None  # set once the parser exists
        self.stack: list[XmlElement] = []
        self.root: XmlElement | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        namespace, local = split_tag(tag)
        line = self.expat.CurrentLineNumber if self.expat is not None else None
        element = XmlElement(namespace, local, {split_tag(k)[1]: v for k, v in attrib.items()},
                             Source(self.display, line))
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, data: str) -> None:
        # Only the element's own text is kept (Oozie elements hold either text or children, not both).
        if self.stack:
            self.stack[-1].text += data

    def close(self) -> XmlElement | None:
        return self.root


def _error(display: str, line: int | None, message: str) -> MigrationError:
    return MigrationError([Issue("error", message, Source(display, line), "XML")])


def parse_xml(data: bytes, display: str) -> XmlElement:
    """Parse XML bytes; ``display`` names the file in errors. Raises :class:`MigrationError` on malformed or
    hostile input (entity declarations, external references), without expanding anything."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    builder = _Builder(display)
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    expat: XMLParserType = parser.parser
    builder.expat = expat

    def doctype(name: str, system_id: str | None, public_id: str | None, has_internal_subset: bool) -> None:
        # An external DTD is never read, so the entities it would declare silently vanish from values.
        if system_id or public_id:
            raise _error(display, expat.CurrentLineNumber, f"refused unsafe XML: external DTD "
                         f"{system_id or public_id!r}; external DTDs are not allowed in Oozie files")

    parser.parser.StartDoctypeDeclHandler = doctype
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        reason = str(exc).split(":", 1)[0]
        raise _error(display, line, f"malformed XML: {reason} (line {line}, column {column})") from None
    except DefusedXmlException as exc:
        line = expat.CurrentLineNumber
        kind = "external reference" if "External" in type(exc).__name__ else "entity declaration"
        raise _error(display, line, f"refused unsafe XML: {kind} ({exc}); DTD entities and external "
                                    "references are not allowed in Oozie files") from None
    if root is None:
        raise _error(display, None, "malformed XML: no root element")
    return root


def read_xml(path: Path, display: str) -> XmlElement:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _error(display, None, f"cannot read file: {exc.strerror}") from None
    return parse_xml(data, display)
