"""The dependency direction of CONVENTIONS.md, checked on every import (lazy ones too):
``domain`` <- ``api`` <- ``server``, ``client``, ``journal``, ``receipts`` <- ``gui`` <- ``cli``;
inside the server, persistence (:data:`PERSISTENCE`) never imports a service nor HTTP.
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


# The server's persistence: engines, units of work, the batch writer, raw statements, the
# transaction state, the audit chain and sealing. Services sit on top of it, HTTP on top of
# them: persistence names neither (the app injects what it needs, e.g. the live inventory's
# session hooks, and translates its errors, e.g. WriteConflict to 409).
PERSISTENCE = ("db.py", "db_errors.py", "group_commit.py", "sql.py", "tx_state.py",
               "audit.py", "audit_anchors.py", "chain_key.py", "sealing.py", "models.py")
PERSISTENCE_FORBIDDEN = {"fastapi", "starlette", "pos_app.server.services",
                         "pos_app.server.errors", "pos_app.server.app", "pos_app.server.deps",
                         "pos_app.server.routes", "pos_app.api.errors"}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports; ``from a.b import c`` counts as ``a.b`` and ``a.b.c``
    (``c`` may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _banned(name: str, banned: set[str]) -> bool:
    return any(name == b or name.startswith(b + ".") for b in banned)


def _violations(layer: str) -> list[str]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in sorted(_imports(path)):
            if _banned(name, FORBIDDEN[layer]):
                found.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_inwards(layer: str) -> None:
    assert (PACKAGE / layer).is_dir()
    assert _violations(layer) == []


@pytest.mark.parametrize("module", PERSISTENCE)
def test_server_persistence_imports_no_service_and_nothing_of_http(module: str) -> None:
    path = PACKAGE / "server" / module
    assert path.is_file()
    assert sorted(n for n in _imports(path) if _banned(n, PERSISTENCE_FORBIDDEN)) == []


@pytest.mark.parametrize("module", [m for m in PERSISTENCE if m != "db.py"])
def test_what_the_database_stands_on_does_not_import_it_back(module: str) -> None:
    """No cycle through ``db.py``, not even for type checking (the batch writer names what
    it needs of a database as a protocol)."""
    assert not _banned_in(PACKAGE / "server" / module, {"pos_app.server.db"})


def _banned_in(path: Path, banned: set[str]) -> bool:
    return any(_banned(name, banned) for name in _imports(path))


def test_the_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    import httpx\n    from pos_app.server import app\n"
                      "    from pos_app.server.services import live\n")
    assert {"httpx", "pos_app.server", "pos_app.server.app"} <= _imports(module)
    assert _banned("pos_app.server.services.live", PERSISTENCE_FORBIDDEN)
