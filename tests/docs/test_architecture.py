"""The architecture docs/architecture.md describes holds in the code: no import circles between
guotu's modules, no module reaching into another's private names, private modules used only
inside their own package, and no module longer than the style guide's limit."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "guotu"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_cycle_finder_finds_a_planted_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


def test_no_import_circles() -> None:
    # Every import the code runs (function-level ones too; those under TYPE_CHECKING are
    # left out). A package's __init__ is run with each of its submodules, so a package that
    # re-exports its submodules is not a circle of the design: packages are left out.
    graph = grimp.build_graph("guotu", exclude_type_checking_imports=True, cache_dir=None)
    packages = {m for m, p in _modules().items() if p.name == "__init__.py"}
    modules = set(graph.modules) - packages
    edges = {m: set(graph.find_modules_directly_imported_by(m)) & modules for m in modules}
    assert _cycles(edges) == []


def _imports(path: Path) -> list[tuple[str, str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.extend((node.module, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.Import):
            out.extend((alias.name, "", node.lineno) for alias in node.names)
    return out


def _private_module(name: str) -> str | None:
    """The package a private module (a dotted part starting with ``_``) belongs to."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def test_no_module_takes_another_modules_private_names() -> None:
    offences = []
    for name, path in _modules().items():
        for module, imported, line in _imports(path):
            if not module.startswith("guotu"):
                continue
            rel = path.relative_to(ROOT)
            if imported.startswith("_") and not imported.startswith("__"):
                offences.append(f"{rel}:{line} takes {module}.{imported}")
            owner = _private_module(module)
            if owner is not None and not name.startswith(owner + "."):
                offences.append(f"{rel}:{line} uses the private module {module}")
    assert offences == []


@pytest.mark.parametrize("package", ["domain", "store", "services", "io", "cli", "web"])
def test_modules_stay_under_the_line_limit(package: str) -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in sorted((SRC / package).rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
