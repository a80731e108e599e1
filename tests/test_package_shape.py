"""The package's shape: no import circle between dyag's modules, and no module too long to read.

The import graph is read from the source with ``ast``: every module-level ``import dyag...`` and
``from dyag... import`` (relative ones too) of every module under ``dyag/``. Imports inside functions
(deliberately late ones) and under ``if TYPE_CHECKING:`` are left out: they never run at import time.
``from package import name`` points at the submodule ``package.name`` when there is one, else at the
package itself.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "dyag"

MAX_LINES = 500
#: Modules allowed past MAX_LINES: pure data tables.
LONG_DATA_TABLES = {
    "dyag/report/i18n.py": "the report's texts in each language",
}


def _modules() -> dict[str, Path]:
    """``{dotted name: path}`` of every module under dyag/ (a package by its ``__init__``)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _module_level_imports(tree: ast.Module):
    """Import statements that run when the module is imported: module level, in ``try``/``if``
    blocks (but not ``if TYPE_CHECKING:``), never inside functions or classes."""
    stack = list(tree.body)
    while stack:
        node = stack.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            stack += ([] if _is_type_checking(node.test) else node.body) + node.orelse
        elif isinstance(node, ast.Try):
            stack += node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body]
        elif isinstance(node, (ast.With, ast.For, ast.While)):
            stack += node.body


def import_graph() -> dict[str, set[str]]:
    """``{module: {dyag modules it imports at import time}}``."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
                continue
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                targets.add(sub if sub in modules else source)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan), as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
                components.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, set(c), c[0]) for c in components]


def _cycle_in(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    """A shortest path start -> ... -> start inside one strongly connected component."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & component):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    raise AssertionError(f"{start} is not on a cycle")


def test_the_cycle_finder_finds_a_circle_and_only_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_reads_relative_and_submodule_imports():
    graph = import_graph()
    assert "dyag.evaluation.rules.registry" in graph["dyag.evaluation.rules.echo"]
    assert "dyag.evaluation.registry" in graph["dyag.evaluation.builtin_metrics"]
    # the registry loads the built-in metrics inside a function: not an import-time edge
    assert "dyag.evaluation.builtin_metrics" not in graph["dyag.evaluation.registry"]


def test_no_import_circle_between_dyag_modules():
    cycles = find_cycles(import_graph())
    assert cycles == [], "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_is_too_long():
    allowed = LONG_DATA_TABLES
    too_long = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and rel not in allowed:
            too_long[rel] = n
    assert too_long == {}, f"modules over {MAX_LINES} lines (split them): {too_long}"


def test_the_metric_registry_recovers_when_loading_the_builtin_metrics_fails():
    """A failed first import of dyag's own metrics is raised, and the next use of the registry
    loads them (it used to leave the registry empty for the rest of the process)."""
    code = """
import sys
from dyag.evaluation import registry
sys.modules["dyag.evaluation.builtin_metrics"] = None  # the import fails
try:
    registry.column("bleu")
except ImportError:
    print("raised")
del sys.modules["dyag.evaluation.builtin_metrics"]
print(registry.column("bleu").name, [c.name for c in registry.columns()][:3])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split("\n")[:2] == ["raised", "bleu ['score', 'bleu', 'corpus_bleu']"]


def test_rules_register_in_the_reports_order():
    from dyag.evaluation.rules import RULES

    assert list(RULES)[:12] == [
        "no_dialogue_turns", "no_repetition", "not_truncated", "language", "length", "required_facts",
        "no_invented_expansion", "consistent_across_answers", "not_empty", "admits_unknown", "faithful_to_kb",
        "no_prompt_echo"]
