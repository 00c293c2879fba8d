"""Modules of market/, catalog/ and payments/ form a one-way import graph (no cycles).

Every import is read with ``ast`` — module level and inside functions (a lazy import hides a cycle, it does
not remove it). A package's ``__init__`` importing its own submodules to register tables, jobs and views is
composition, not a dependency of the submodules, so those edges are left out; a submodule importing its
package's ``__init__`` (e.g. ``from payments import ledger`` binds the submodule) counts as importing that
submodule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("market", "catalog", "payments")
# Known cycles the lead fixes elsewhere; each entry is a frozenset of module names in one cycle.
KNOWN: set[frozenset[str]] = {frozenset({"market.app", "market.core.commands"})}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        is_init = path.name == "__init__.py"
        package = name if is_init else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # "from pkg import sub" imports the submodule when there is one
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved is None or resolved == name:
                    continue
                if is_init and resolved.startswith(name + "."):
                    continue  # a package registering its own submodules
                graph.add_edge(name, resolved)
    return graph


def cycles() -> list[frozenset[str]]:
    return [frozenset(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]


def test_the_graph_sees_function_level_imports() -> None:
    graph = import_graph()
    assert graph.has_edge("payments.escrow", "payments.payouts")  # imported inside _book_release


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package: str) -> None:
    found = [sorted(c) for c in cycles() if c not in KNOWN and any(m.split(".")[0] == package for m in c)]
    assert found == [], f"import cycles: {found}"
