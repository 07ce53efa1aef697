"""The import rules of CONVENTIONS.md, checked on every import (function-level and
TYPE_CHECKING ones too):

- the contracts in ``pyproject.toml``'s ``[tool.importlinter]``: ``domain`` <- ``api`` <-
  ``server``, ``client``, ``journal``, ``receipts`` <- ``gui`` <- ``cli``, each layer's
  forbidden imports (Qt, SQL, HTTP, ...), the server's persistence importing no service and
  nothing of HTTP, and the window's feature packages in layers;
- no import cycle anywhere in ``pos_app``: a cycle is a strongly connected component of
  grimp's module graph (the graph import-linter checks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]

# Cycles that another piece of work removes; each must still exist (else drop it here).
KNOWN_CYCLES: dict[frozenset[str], str] = {
    frozenset({"pos_app.server.services.live", "pos_app.server.services.live_streams"}):
        "live builds the StreamRegistry of live_streams, which names live's Broadcaster and "
        "Subscription under TYPE_CHECKING: to break by giving those two a module of their own",
}


def cycles(imports: Mapping[str, Iterable[str]]) -> list[frozenset[str]]:
    """The import cycles of a module graph (``module -> modules it imports``): its strongly
    connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    for start in sorted(imports):
        if start in index:
            continue
        work = [(start, iter(sorted(imports.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_the_import_contracts_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    report = capsys.readouterr().out
    assert code == 0, report


def test_no_module_of_pos_app_takes_part_in_an_import_cycle() -> None:
    graph = grimp.build_graph("pos_app", cache_dir=None)
    imports = {module: graph.find_modules_directly_imported_by(module)
               for module in graph.modules}
    found = set(cycles(imports))
    assert sorted(sorted(c) for c in found - set(KNOWN_CYCLES)) == []
    assert [KNOWN_CYCLES[c] for c in set(KNOWN_CYCLES) - found] == []  # gone: drop it above


def test_the_cycle_finder_finds_lazy_and_nested_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e2"}, "e2": {"e"}}
    assert set(cycles(graph)) == {frozenset("abc"), frozenset({"e", "e2"})}
    assert cycles({"a": {"b"}, "b": set()}) == []
