"""``pos-app ...`` run in this process: :func:`run_cli` is :func:`tests.support.live_server.pos_app`
(a new Python process, 1.5-2 s each here) without the process. The command is the same code
(:func:`pos_app.cli.main`); what a subprocess adds (its start-up, ``python -m``, an exit
status from ``sys.exit``) is tested once, in ``tests/integration/test_cli_errors.py``.

The terminal's home is the test's ``POS_APP_HOME`` (the ``pos_home`` fixture), as for a
subprocess.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from pos_app.cli import main

__all__ = ["Ran", "run_cli"]


@dataclass(frozen=True)
class Ran:
    """What a run gave: as :class:`subprocess.CompletedProcess` names it."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, stdin: str | None = None, check: bool = True) -> Ran:
    """Run ``pos-app ARGS`` in this process with ``stdin`` (default: empty) and its standard
    output and error captured; an argparse usage error (``SystemExit``) is its exit code.

    Raises:
        AssertionError: with ``check``, a non-zero exit (saying what it printed).
    """
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = saved_stdin
    ran = Ran(args, code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"pos-app {' '.join(args)} exited {code}\n"
                             f"stdout:\n{ran.stdout}\nstderr:\n{ran.stderr}")
    return ran
