"""``pos-app`` terminal commands run in-process (``pos_app.cli.main``), in a chosen terminal
home, with standard input given and the output captured: no process per command."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pos_app.cli import main


@dataclass(frozen=True)
class CliRun:
    """One finished command: its exit ``code`` and what it wrote to ``stdout`` / ``stderr``."""

    code: int
    stdout: str
    stderr: str


class TerminalCli:
    """``cli(home, "login", "alex", stdin="1234\\n")`` runs ``pos-app login alex`` with
    ``POS_APP_HOME=home``; the environment and ``sys.stdin`` are restored by ``monkeypatch``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self._monkeypatch = monkeypatch
        self._capsys = capsys

    def __call__(self, home: Path, *args: str, stdin: str = "") -> CliRun:
        self._monkeypatch.setenv("POS_APP_HOME", str(home))
        self._monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        self._capsys.readouterr()  # drop anything printed before
        code = main(list(args))
        out = self._capsys.readouterr()
        return CliRun(code, out.out, out.err)
