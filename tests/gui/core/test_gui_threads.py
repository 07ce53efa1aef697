"""The GUI thread only renders: with the real window, register, journal and a live HTTPS
server, sign-in, a sale with its receipt (its Charge opening the shift), a refresh of the
counts and the journal, and sign-out send every HTTP request and write every journal entry
from worker threads.

The proof reads what the code records on every call: ``InventoryClient.request_threads`` (the
thread of each request), ``Journal.write_threads`` (of each begin / settle / touch), and, to
cover the live inventory feed's own HTTP client too, every ``httpx.Client.send`` in the
process during the test.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import Register
from tests.gui.helpers import select_event, sign_in
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def describe(records: list[tuple[threading.Thread, str, str]]) -> list[str]:
    return [f"{what} {detail}" for _thread, what, detail in records]


def test_no_http_request_and_no_journal_write_runs_on_the_gui_thread(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    win = real_window
    sell = win.sell
    event_id = live_server.small_event(capacity=10, price=2500, types=("GA", "VIP"))
    gui = threading.current_thread()
    app = QApplication.instance()
    assert app is not None and app.thread() is QThread.currentThread()  # this is the GUI thread
    register.client.request_threads.clear()
    register.journal.write_threads.clear()
    sent: list[tuple[threading.Thread, str, str]] = []
    send = httpx.Client.send

    def recording_send(client: httpx.Client, request: httpx.Request, **kwargs: Any
                       ) -> httpx.Response:
        sent.append((threading.current_thread(), request.method, request.url.path))
        return send(client, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", recording_send)

    sign_in(qtbot, win, "alex", "1234")
    win.runner.wait_idle()  # the shift check and the start-up reconciliation have answered
    select_event(qtbot, win, event_id)
    for _ in range(2):
        qtbot.mouseClick(sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(sell.panel.tendered_edit, "60")
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000), \
            qtbot.waitSignal(sell.receipt_delivered, timeout=20_000):
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: sell.shifts.float_dialog is not None
                        and sell.shifts.float_dialog.isVisible(), timeout=20_000)
        dialog = sell.shifts.float_dialog
        assert dialog is not None
        qtbot.keyClicks(dialog.amount_edit, "100")
        qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Return)
    win.runner.wait_idle()
    with qtbot.waitSignal(sell.events_loaded, timeout=20_000):
        sell.refresh_events()
    with qtbot.waitSignal(win.journal_status.reconciled, timeout=20_000):
        win.journal_status.reconcile()
    with qtbot.waitSignal(win.signed_out, timeout=20_000):
        qtbot.mouseClick(sell.header.sign_out_button, Qt.MouseButton.LeftButton)
    win.runner.wait_idle()

    requests = list(register.client.request_threads)
    writes = list(register.journal.write_threads)
    assert {"POST /v1/sessions", "POST /v1/shifts", "POST /v1/sales", "GET /v1/events",
            "DELETE /v1/sessions/current"} <= {f"{m} {p.split('?')[0]}" for _, m, p in requests}
    assert {"begin", "settle"} <= {what for _, what, _ in writes}
    assert any(path == "/v1/inventory/stream" for _, _, path in sent)  # the live feed's too
    assert describe([r for r in requests if r[0] is gui]) == []
    assert describe([w for w in writes if w[0] is gui]) == []
    assert describe([s for s in sent if s[0] is gui]) == []
