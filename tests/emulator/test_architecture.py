"""The emulator is built as Kubernetes is: an API server over a store, and controllers that see the cluster only
through the API. Checked on the source with ast: which module imports which.

Cycles are looked for among module-level imports; imports under ``if TYPE_CHECKING:`` (never run) and inside
functions (run late, on purpose) are left out of the graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airflow_provider_sparkk8s.testing as testing_package

PACKAGE = "airflow_provider_sparkk8s.testing"
ROOT = Path(testing_package.__file__).parent
# Modules that may know the emulator object: the package's lazy entry, the pytest plugin, rotate_token (a test
# helper acting on it from outside), and the API server it wires.
MAY_IMPORT_EMULATOR = {f"{PACKAGE}", f"{PACKAGE}.pytest_plugin", f"{PACKAGE}.faults", f"{PACKAGE}.server"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The modules of this package an import statement loads."""
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    else:
        base = node.module or ""
        if node.level:
            package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        names = {f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names}
    return {n for n in names if n in MODULES}


def imports(module: str, module_level_only: bool) -> set[str]:
    """What `module` imports: everywhere, or only at module level and outside TYPE_CHECKING blocks."""
    tree = ast.parse(MODULES[module].read_text())
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(_targets(module, node))
            elif module_level_only:
                if isinstance(node, ast.If) and not _is_type_checking(node):
                    visit(node.body + node.orelse)
                elif isinstance(node, ast.Try):
                    visit(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])

    if module_level_only:
        visit(tree.body)
    else:
        visit([n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))])  # type: ignore[misc]
    found.discard(module)
    return found


def test_the_graph_is_read_from_the_source() -> None:
    # The checks below mean nothing if the parser found no edges.
    assert f"{PACKAGE}.controllers.base" in MODULES
    assert f"{PACKAGE}.store" in imports(f"{PACKAGE}.controllers.base", module_level_only=True)
    assert f"{PACKAGE}.server" in imports(f"{PACKAGE}.emulator", module_level_only=False)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(f"{PACKAGE}.controllers")))
def test_controllers_never_reach_the_emulator_or_the_server(module: str) -> None:
    # Not even for type hints or inside functions: a controller has only the API and its explicit inputs.
    reached = imports(module, module_level_only=False)
    assert not reached & {f"{PACKAGE}.emulator", f"{PACKAGE}.server", f"{PACKAGE}.argo_server"}, reached


def test_only_the_wiring_knows_the_emulator_object() -> None:
    knowing = {m for m in MODULES if m != f"{PACKAGE}.emulator"
               and f"{PACKAGE}.emulator" in imports(m, module_level_only=False)}
    assert knowing <= MAY_IMPORT_EMULATOR, sorted(knowing - MAY_IMPORT_EMULATOR)


def test_the_import_graph_has_no_cycle() -> None:
    graph = {m: imports(m, module_level_only=True) for m in MODULES}
    visiting: list[str] = []
    done: set[str] = set()

    def walk(module: str) -> None:
        if module in done:
            return
        if module in visiting:
            cycle = visiting[visiting.index(module):] + [module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        visiting.append(module)
        for target in sorted(graph[module]):
            walk(target)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        walk(module)


def test_garbage_collection_is_a_controller_not_part_of_the_store() -> None:
    # The store does what the API server does on DELETE (finalizers, deletionTimestamp); following ownerReferences
    # to dependents is the garbage collector's work, from its own watches.
    store = MODULES[f"{PACKAGE}.store"].read_text()
    assert "blockOwnerDeletion" not in store and "dependents(" not in store
    collector = f"{PACKAGE}.controllers.garbage_collector"
    assert collector in MODULES and f"{PACKAGE}.controllers.base" in imports(collector, module_level_only=True)
