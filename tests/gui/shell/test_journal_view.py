"""The terminal's whole journal, read from the local SQLite file with the server stopped:
every entry newest first, filtered by state and operation, found by reference or key, the
request and the answer shown as JSON. Opened from the status bar's "Whole journal…".

Also refreshes ``docs/screenshots/journal-view.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import SaleLineIn
from pos_app.client import pair_terminal
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.shell.journal_status import JournalStatus
from pos_app.gui.shell.journal_view import JournalModel, JournalView
from pos_app.journal import EntryState, open_register
from tests.support.live_server import start_live_server

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
WAIT = 20_000


def shown_keys(view: JournalView) -> list[str]:
    return [str(view.model.index(row, JournalModel.KEY).data())
            for row in range(view.model.rowCount())]


def test_the_whole_journal_shows_with_the_server_down(
        qtbot: QtBot, styled_app: object, tmp_path: Path, pos_home: Path,
        qtmodeltester: Any) -> None:
    (tmp_path / "srv").mkdir()
    runner = TaskRunner()
    with start_live_server(tmp_path / "srv") as server:
        pair_terminal(server.base_url, server.add_terminal("Journal till"),
                      ca_file=server.ca_file)
        with open_register() as register:
            register.sign_in("alex", "1234")
            event = register.events().events[0]
            ga = event.ticket_types[0].id
            assert register.open_shift(20_000).state is EntryState.CONFIRMED
            sold = register.sell([SaleLineIn(ticket_type_id=ga, quantity=2)], 100_000)
            assert sold.state is EntryState.CONFIRMED and sold.sale is not None
            server.stop()
            offline = register.sell([SaleLineIn(ticket_type_id=ga, quantity=1)], 100_000)
            assert offline.state is EntryState.REFUSED  # never reached the server

            status = JournalStatus(register, runner)
            qtbot.addWidget(status)
            assert status.journal_button.accessibleName()
            status.journal_button.click()
            view = status.journal_view
            assert view is not None  # owned by the status widget's window
            view.resize(1180, 720)
            with qtbot.waitSignal(view.entries_loaded, timeout=WAIT):
                qtbot.waitExposed(view)
            qtmodeltester.check(view.model)
            everything = register.journal.entries(limit=None)
            assert shown_keys(view) == [e.key for e in everything]  # all, newest 1st
            assert [e.operation for e in everything] == ["sale", "sale", "shift_open"]
            assert view.status_label.text() == "3 entries, newest first."

            view.table.selectRow(1)
            detail = view.detail.toPlainText()
            assert f"Key         {sold.key}" in detail
            assert '"quantity": 2,' in detail and '"tendered": 100000' in detail
            assert f'"number": {sold.sale.number}' in detail and "confirmed" in detail
            qtbot.wait(50)
            view.grab().save(str(SCREENSHOTS / "journal-view.png"))

            with qtbot.waitSignal(view.entries_loaded, timeout=WAIT):
                view.state_combo.setCurrentIndex(view.state_combo.findData("refused"))
            assert shown_keys(view) == [offline.key]
            assert "offline" in view.detail.toPlainText()
            with qtbot.waitSignal(view.entries_loaded, timeout=WAIT):
                view.state_combo.setCurrentIndex(0)
            with qtbot.waitSignal(view.entries_loaded, timeout=WAIT):
                view.operation_combo.setCurrentIndex(view.operation_combo.findData("shift_open"))
            assert [view.model.row_at(view.model.index(r, 0)).operation  # type: ignore[union-attr]
                    for r in range(view.model.rowCount())] == ["shift_open"]
            with qtbot.waitSignal(view.entries_loaded, timeout=WAIT):
                view.operation_combo.setCurrentIndex(0)

            # Typing searches once typing pauses: a reference's word, then a key's beginning.
            number = str(sold.sale.number)
            with qtbot.waitSignal(view.entries_loaded, timeout=WAIT):
                qtbot.keyClicks(view.search_edit, number)
            # sale 1, "shift 1", and the refused sale only if its random key begins with "1"
            assert shown_keys(view) == [e.key for e in everything
                                        if e.key in (sold.key, everything[2].key)
                                        or e.key.startswith(number)]
            view.search_edit.clear()
            with qtbot.waitSignal(view.entries_loaded, timeout=WAIT):
                qtbot.keyClicks(view.search_edit, "Shift")
            assert shown_keys(view) == [everything[2].key]
            view.search_edit.clear()
            with qtbot.waitSignal(view.entries_loaded, timeout=WAIT):
                qtbot.keyClicks(view.search_edit, offline.key[:8].upper())
            assert shown_keys(view) == [offline.key]
            with qtbot.waitSignal(view.entries_loaded, timeout=WAIT):
                qtbot.keyClicks(view.search_edit, "-no-such-key")
            assert view.model.rowCount() == 0
            assert view.status_label.text() == "No journal entries match."
            for widget in (view.state_combo, view.operation_combo, view.search_edit, view.table,
                           view.detail, view.refresh_button, view.close_button):
                assert widget.accessibleName()
            view.close()
    assert runner.wait_idle()
