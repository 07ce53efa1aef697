"""``docs/openapi.json`` is the document the app serves: regenerate it with ``make openapi``
after changing a route or a schema."""

from __future__ import annotations

import json

from pos_app.server.openapi_export import DEFAULT_PATH, openapi_document, render


def test_the_committed_openapi_document_is_the_one_the_app_serves() -> None:
    committed = DEFAULT_PATH.read_text(encoding="utf-8")
    assert json.loads(committed) == openapi_document(), "run: make openapi"
    assert committed == render(openapi_document())
