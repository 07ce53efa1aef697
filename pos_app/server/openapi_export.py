"""The server's OpenAPI document, as committed in ``docs/openapi.json``.

``python -m pos_app.server.openapi_export [PATH]`` (``make openapi``) writes it (default
``docs/openapi.json``); ``tests/unit/server/test_server_openapi_export.py`` checks that the
committed file is what the app serves at ``/openapi.json``, so a change to a route or a schema
must come with the file regenerated.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from pos_app.server.app import create_app
from pos_app.server.settings import ServerSettings

__all__ = ["DEFAULT_PATH", "main", "openapi_document", "render"]

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def openapi_document() -> dict[str, Any]:
    """The app's ``app.openapi()``; builds the app on a database file it never opens."""
    with tempfile.TemporaryDirectory(prefix="pos-openapi-") as folder:
        app = create_app(ServerSettings(database_url=f"sqlite:///{folder}/unused.sqlite3"))
        try:
            return app.openapi()
        finally:
            app.state.database.dispose()


def render(document: dict[str, Any]) -> str:
    """``document`` as the committed file holds it: indented, keys in the app's order, one
    trailing newline (stable, so a diff shows what changed)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document to ``argv[0]`` (default :data:`DEFAULT_PATH`); returns 0."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    path.write_text(render(openapi_document()), encoding="utf-8")
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
