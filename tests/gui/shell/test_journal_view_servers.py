"""A home paired with one server and then another: the journal view names each entry's
server, so the two servers' "sale 1" are told apart (a home that has seen one server shows
no server). Also saves ``docs/screenshots/journal-view-servers.png``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.shell.journal_view import JournalModel, JournalView
from pos_app.journal import EntryState, Journal

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
FIRST = "https://127.0.0.1:8443 CA 11:22:33:44"
SECOND = "https://10.0.0.5:8443 CA 55:66:77:88"


class JournalOnly:
    """What the view reads of a register: its journal."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "journal.sqlite3", server=FIRST) as opened:
        yield opened


def sale_1(journal: Journal, server: str) -> None:
    journal.server = server
    entry = journal.begin("sale", {"lines": [{"ticket_type_id": 1, "quantity": 1}]},
                          staff_id=1, terminal_id=1)
    journal.settle(entry.key, EntryState.CONFIRMED, reference="1")


def references(view: JournalView) -> list[str]:
    return [str(view.model.index(row, JournalModel.REFERENCE).data())
            for row in range(view.model.rowCount())]


def open_view(qtbot: QtBot, journal: Journal) -> JournalView:
    view = JournalView(JournalOnly(journal), TaskRunner())
    qtbot.addWidget(view)
    view.resize(1180, 420)
    with qtbot.waitSignal(view.entries_loaded, timeout=10_000):
        view.show()
        qtbot.waitExposed(view)
    return view


def test_one_server_shows_no_server(qtbot: QtBot, journal: Journal) -> None:
    sale_1(journal, FIRST)
    assert references(open_view(qtbot, journal)) == ["1"]


def test_two_servers_sale_1_each_names_its_server(
        qtbot: QtBot, styled_app: object, journal: Journal) -> None:
    sale_1(journal, FIRST)
    sale_1(journal, SECOND)

    view = open_view(qtbot, journal)

    assert references(view) == [f"1 on {SECOND}", f"1 on {FIRST}"]
    view.table.selectRow(1)
    assert f"Server      {FIRST}" in view.detail.toPlainText()
    qtbot.wait(50)
    view.grab().save(str(SCREENSHOTS / "journal-view-servers.png"))
