"""
The modules of snomprov import one another without a cycle: read with
L{ast}, every import inside the package (at module level or inside a
function, relative or absolute) is an edge, and the graph has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import snomprov

PACKAGE = Path(snomprov.__file__).parent


def moduleName(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def importsOf(source: str, name: str, isPackage: bool, known: set[str]) -> set[str]:
    """
    The modules of C{known} that the module C{name} (of text C{source})
    imports: C{from a import b} is C{a.b} when that is a module, else C{a}.
    """
    package = name if isPackage else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                child = f"{source}.{alias.name}"
                found.add(child if child in known else source)
    return {m for m in found if m in known and m != name}


def importGraph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {moduleName(p) for p in paths}
    return {moduleName(p): importsOf(p.read_text(), moduleName(p), p.name == "__init__.py", known) for p in paths}


def findCycle(graph: dict[str, set[str]]) -> list[str] | None:
    """
    A cycle of C{graph} as the list of its modules (the first repeated at
    the end), or C{None}.  A package's C{__init__} importing its own
    submodules is not an edge back to it from them.
    """
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for child in sorted(graph[node]):
            if node.startswith(child + "."):
                # A submodule importing its package's __init__: Python runs
                # that __init__ first anyway; not counted.
                continue
            if colour[child] == GREY:
                return stack[stack.index(child):] + [child]
            if colour[child] == WHITE:
                cycle = visit(child)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_findCycleFindsOne():
    """
    The check can fail: a cycle of three modules is found.
    """
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert findCycle(graph) == ["a", "b", "c", "a"]
    assert findCycle({"a": {"b"}, "b": set()}) is None


def test_relativeImportsResolved():
    """
    A function-level C{from ..cli import X} in a command is an edge to
    L{snomprov.cli} (what this test exists to catch), C{from . import b}
    an edge to the submodule.
    """
    known = {"snomprov.cli", "snomprov.commands", "snomprov.commands.a", "snomprov.commands.b"}
    source = "def f():\n    from ..cli import UsageProblem\nfrom . import b\n"
    assert importsOf(source, "snomprov.commands.a", False, known) == {"snomprov.cli", "snomprov.commands.b"}
    assert importsOf("from . import a\n", "snomprov.commands", True, known) == {"snomprov.commands.a"}


def test_noImportCycle():
    """
    No module of snomprov imports, directly or not, one that imports it.
    """
    graph = importGraph()
    assert "snomprov.cli" in graph and "snomprov.commands.base" in graph
    assert findCycle(graph) is None


def test_commandsDoNotImportCLI():
    graph = importGraph()
    assert all("snomprov.cli" not in graph[m] for m in graph if m.startswith("snomprov.commands"))
