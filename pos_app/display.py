"""Whether a Qt window can be shown here, decided without importing Qt (fast, no traceback)."""

from __future__ import annotations

import os
import sys

__all__ = ["display_problem"]


def display_problem() -> str | None:
    """A sentence explaining why no window can open, or ``None`` when one can.

    On Linux a window needs ``DISPLAY`` (X11) or ``WAYLAND_DISPLAY``, unless the caller chose a
    Qt platform explicitly with ``QT_QPA_PLATFORM`` (e.g. ``offscreen`` for automation).
    """
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "No display found: the POS window needs a desktop session.\n"
        "  - On a headless machine, run it under a virtual display:  xvfb-run -a make run\n"
        "    (Debian: apt-get install xvfb)\n"
        "  - Or run it offscreen for automation (nothing is shown):  "
        "QT_QPA_PLATFORM=offscreen make run"
    )
