"""Fixtures for the POS window's tests: a styled app, a fake register and its window, and a
real paired register (live HTTPS server, journal under ``pos_home``) and its window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from pos_app.client import pair_terminal
from pos_app.gui import TaskRunner, create_main_window
from pos_app.gui.app import apply_style
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import Register, open_register
from tests.fakes import FakeRegister
from tests.support.live_server import LiveServer


@pytest.fixture
def styled_app(qapp: object) -> object:
    """The test ``QApplication`` with the POS stylesheet, as shipped."""
    apply_style(qapp)  # type: ignore[arg-type]
    return qapp


@pytest.fixture
def fake_register(tmp_path: Path) -> FakeRegister:
    """A fake register: event ``fake-night`` with GA (id 1) and VIP (id 2), 5 each at $25."""
    return FakeRegister(tmp_path / "receipts")


@pytest.fixture
def window(qtbot: QtBot, styled_app: object, fake_register: FakeRegister) -> Iterator[MainWindow]:
    """The POS window on the fake register, shown at 1280x800, not signed in."""
    win = create_main_window(fake_register, runner=TaskRunner())
    qtbot.addWidget(win)
    win.show()
    yield win
    win.runner.wait_idle()



@pytest.fixture
def register(live_server: LiveServer, pos_home: Path) -> Iterator[Register]:
    """A freshly paired terminal's real register (no shift open yet); its journal and
    receipts live under ``pos_home``."""
    code = live_server.add_terminal("Front desk 1")
    pair_terminal(live_server.base_url, code, ca_file=live_server.ca_file)
    with open_register() as reg:
        yield reg


@pytest.fixture
def real_window(qtbot: QtBot, styled_app: object, register: Register) -> Iterator[MainWindow]:
    """The POS window on the real register, shown at 1280x800, not signed in."""
    win = create_main_window(register, runner=TaskRunner())
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    win.runner.wait_idle()
