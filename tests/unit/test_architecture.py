"""The dependency direction of CONVENTIONS.md, checked on every import (lazy ones too):
``domain`` <- ``api`` <- ``server``, ``client``, ``journal``, ``receipts`` <- ``gui`` <- ``cli``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pos_app"

# For each layer: top-level modules (first dotted part, or pos_app.<sub>) it must not import.
FORBIDDEN: dict[str, set[str]] = {
    "domain": {"PySide6", "sqlalchemy", "httpx", "pydantic", "reportlab", "fastapi", "alembic",
               "pos_app.api", "pos_app.server", "pos_app.client", "pos_app.journal",
               "pos_app.receipts", "pos_app.gui", "pos_app.cli"},
    "api": {"PySide6", "sqlalchemy", "httpx", "reportlab", "fastapi", "pos_app.server",
            "pos_app.client", "pos_app.journal", "pos_app.receipts", "pos_app.gui",
            "pos_app.cli"},
    "server": {"PySide6", "httpx", "pos_app.client", "pos_app.journal", "pos_app.receipts",
               "pos_app.gui", "pos_app.cli", "pos_app.terminal_commands"},
    "client": {"PySide6", "fastapi", "pos_app.server", "pos_app.journal", "pos_app.gui",
               "pos_app.cli"},
    "journal": {"PySide6", "fastapi", "pos_app.server", "pos_app.gui", "pos_app.cli"},
    "receipts": {"PySide6", "httpx", "sqlalchemy", "fastapi", "pos_app.server",
                 "pos_app.client", "pos_app.journal", "pos_app.gui", "pos_app.cli"},
    "gui": {"httpx", "sqlalchemy", "fastapi", "uvicorn", "pos_app.server", "pos_app.cli"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(layer: str) -> list[str]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            for banned in FORBIDDEN[layer]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_inwards(layer: str) -> None:
    assert (PACKAGE / layer).is_dir()
    assert _violations(layer) == []


def test_the_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    import httpx\n    from pos_app.server import app\n")
    assert {"httpx", "pos_app.server"} <= _imports(module)
