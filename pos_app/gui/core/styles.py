"""The window's stylesheets: the application's (``resources/styles/pos.qss``, applied by
:func:`pos_app.gui.app.apply_style`) and each screen's or dialog's own, set on it
(``resources/styles/<name>.qss``). No style is written inline in Python."""

from __future__ import annotations

from pathlib import Path

__all__ = ["STYLES_DIR", "style_sheet"]

STYLES_DIR = Path(__file__).resolve().parents[3] / "resources" / "styles"


def style_sheet(name: str) -> str:
    """The text of ``resources/styles/<name>.qss`` (``""`` when the file is missing: the
    widget keeps the application's style, as the window does without ``pos.qss``). Read from
    disk: called once per module, at import."""
    path = STYLES_DIR / f"{name}.qss"
    return path.read_text(encoding="utf-8") if path.is_file() else ""
