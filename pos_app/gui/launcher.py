"""Open the POS window for the terminal paired on this machine (``pos-app``)."""

from __future__ import annotations

import sys

__all__ = ["run_window"]


def run_window() -> int:
    """Open the window against the configured server; returns the process exit code.

    Exit 2 with an explanation when there is no display, 4 when this terminal is not paired
    or its keyring is not usable.
    """
    from pos_app.display import display_problem

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    # The register's modules before Qt's: once PySide6 is imported, its import hook makes
    # every later module import slower (this order saves ~0.1 s of start-up).
    from pos_app.client import InsecureKeyring, NotPaired
    from pos_app.journal import open_register

    try:
        register = open_register()
    except NotPaired:
        print("This terminal is not paired with a server. Ask a manager for a pairing code, "
              "then run: pos-app pair URL CODE --ca-file CA.pem  (or try: make run)",
              file=sys.stderr)
        return 4
    except InsecureKeyring as exc:
        print(str(exc), file=sys.stderr)
        return 4
    from pos_app.gui.app import run_app

    try:
        return run_app(register)
    finally:
        register.close()
