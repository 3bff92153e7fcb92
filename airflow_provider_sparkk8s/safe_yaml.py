"""Read YAML from users' files safely: PyYAML's safe loader, plus a limit on what aliases expand to.

``yaml.safe_load`` builds nothing dangerous, but nine lines of nested aliases (the YAML "billion laughs")
describe hundreds of millions of values; anything that later walks or copies the result (rendering,
``json.dumps``, ``deepcopy``) never finishes. The node graph is measured before anything is built.
"""

from __future__ import annotations

from typing import Any

# Values that aliases may add beyond those written in the file.
ALIAS_EXPANSION_LIMIT = 100_000


def safe_load_all(text: str) -> list[Any]:
    """Every document of ``text``, as ``yaml.safe_load_all``; raises ``yaml.YAMLError`` for a document whose
    aliases expand beyond :data:`ALIAS_EXPANSION_LIMIT` values or refer to themselves."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            _check_expansion(node)
            documents.append(loader.construct_document(node))
        return documents
    finally:
        loader.dispose()


def safe_load(text: str) -> Any:
    """The single document of ``text`` (None when empty), as ``yaml.safe_load`` with the alias limit."""
    documents = safe_load_all(text)
    if len(documents) > 1:
        import yaml

        raise yaml.YAMLError(f"expected a single document, found {len(documents)}")
    return documents[0] if documents else None


def _check_expansion(root: Any) -> None:
    import yaml

    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise yaml.YAMLError(f"a YAML alias refers to its own anchor (line {node.start_mark.line + 1}); "
                                 "recursive documents are not allowed")
        visiting.add(key)
        children = node.value if isinstance(node, yaml.SequenceNode) else \
            [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else []
        total = 1 + sum(size(child) for child in children)
        visiting.discard(key)
        sizes[key] = total
        return total

    expanded = size(root)
    if expanded > len(sizes) + ALIAS_EXPANSION_LIMIT:
        raise yaml.YAMLError(f"its aliases expand to {expanded:,} values (more than {ALIAS_EXPANSION_LIMIT:,} "
                             f"beyond the {len(sizes):,} written): refused as a YAML bomb")
