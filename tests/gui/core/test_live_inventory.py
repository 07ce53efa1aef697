"""Live inventory in the window, against a real server of its own (stopped and restarted):
outage banner, live tile counts, session expiry keeping the basket; and, on a fake register,
an unknown sale blocking its basket until Retry / Abandon.

Refreshes ``docs/screenshots/outage-banner.png`` and ``docs/screenshots/unknown-sale.png``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.client import pair_terminal
from pos_app.gui import TaskRunner, create_main_window
from pos_app.gui.sell.event_list import STALE_ROLE
from pos_app.gui.sell.sell_inventory import OUTAGE
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import EntryState, Register, open_register
from tests.fakes import FakeRegister, FakeSettlingRegister
from tests.gui.helpers import sign_in
from tests.support.api import staff_client
from tests.support.live_server import LiveServer, start_live_server

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server only this test uses (it gets stopped and restarted)."""
    (tmp_path / "server").mkdir()
    with start_live_server(tmp_path / "server") as live:
        yield live


@pytest.fixture
def register(own_server: LiveServer, pos_home: Path) -> Iterator[Register]:
    code = own_server.add_terminal("Front desk 1")
    pair_terminal(own_server.base_url, code, ca_file=own_server.ca_file)
    with open_register() as reg:
        yield reg


@pytest.fixture
def live_window(qtbot: QtBot, styled_app: object, register: Register) -> Iterator[MainWindow]:
    win = create_main_window(register, runner=TaskRunner())
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    if win.live is not None:
        win.live.stop()
    win.runner.wait_idle()


def open_event(qtbot: QtBot, win: MainWindow, register: Register, event_id: str) -> None:
    """Sign in, open a shift, wait for the live feed and show ``event_id``."""
    sign_in(qtbot, win)
    win.runner.wait_idle()
    assert register.open_shift(0).state is EntryState.CONFIRMED
    with qtbot.waitSignal(win.sell.shifts.shift_changed, timeout=10_000):
        win.sell.shifts.refresh()
    with qtbot.waitSignal(win.sell.events_loaded, timeout=10_000):
        win.sell.refresh_events()
    assert win.sell.event_list.select_event(event_id)
    assert win.live is not None
    qtbot.waitUntil(lambda: win.live is not None and win.live.connected is True, timeout=10_000)


def test_a_sale_on_another_terminal_updates_the_tile_without_a_click(
        qtbot: QtBot, live_window: MainWindow, register: Register,
        own_server: LiveServer) -> None:
    win = live_window
    event_id = own_server.small_event(capacity=10, types=("GA", "VIP"))
    open_event(qtbot, win, register, event_id)
    tile = win.sell.tiles.tile_named("GA")
    assert tile.left_text == "10 left"
    other = staff_client(own_server)
    try:
        started = time.monotonic()
        assert other.sell({tile.ticket_type.id: 8}, 20_000).status_code == 201
        qtbot.waitUntil(lambda: win.sell.tiles.tile_named("GA").left_text == "2 left",
                        timeout=2_000)
        print(f"\ntile updated {1000 * (time.monotonic() - started):.0f} ms after the sale")
    finally:
        other.close()
    assert win.sell.tiles.tile_named("GA").ticket_type.stock_level == "low"
    assert win.sell.tiles.tile_named("GA").property("level") == "low"


def test_server_outage_shows_the_banner_disables_charge_and_clears_by_itself(
        qtbot: QtBot, live_window: MainWindow, register: Register,
        own_server: LiveServer) -> None:
    win = live_window
    sell = win.sell
    event_id = own_server.small_event(capacity=10, types=("GA", "VIP"))
    open_event(qtbot, win, register, event_id)
    qtbot.mouseClick(sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(sell.panel.tendered_edit, "30")
    assert sell.panel.charge_button.isEnabled()

    own_server.stop()
    qtbot.waitUntil(lambda: sell.outage_banner.isVisible(), timeout=10_000)
    assert sell.outage_banner.text() == OUTAGE
    assert not sell.panel.charge_button.isEnabled()
    assert sell.panel.charge_button.toolTip() == OUTAGE
    with qtbot.assertNotEmitted(sell.charge_started, wait=100):
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
    qtbot.wait(100)
    win.grab().save(str(SCREENSHOTS / "outage-banner.png"))

    own_server.start()
    qtbot.waitUntil(lambda: not sell.outage_banner.isVisible(), timeout=15_000)
    assert sell.panel.charge_button.isEnabled()
    assert [(line.name, line.quantity) for line in sell.basket.lines] == [("GA", 1)]


def test_an_expired_session_goes_to_sign_in_and_keeps_the_basket(
        qtbot: QtBot, live_window: MainWindow, register: Register,
        own_server: LiveServer) -> None:
    win = live_window
    sell = win.sell
    event_id = own_server.small_event(capacity=10, types=("GA", "VIP"))
    open_event(qtbot, win, register, event_id)
    for name in ("GA", "GA", "VIP"):
        qtbot.mouseClick(sell.tiles.tile_named(name), Qt.MouseButton.LeftButton)
    before = [(line.name, line.quantity) for line in sell.basket.lines]
    register.client.delete_session()  # the server forgets the session (as on expiry)

    with qtbot.waitSignal(win.signed_out, timeout=10_000):
        sell.refresh_events()
    assert win.stack.currentWidget() is win.signin
    assert "basket is kept" in win.signin.error_label.text()
    win.signin.username_edit.clear()  # the last cashier's name stays typed in
    sign_in(qtbot, win)
    assert [(line.name, line.quantity) for line in sell.basket.lines] == before


@pytest.fixture
def settling_register(tmp_path: Path) -> FakeSettlingRegister:
    return FakeSettlingRegister(tmp_path / f"receipts-{uuid.uuid4().hex[:4]}")


@pytest.fixture
def fake_window(qtbot: QtBot, styled_app: object,
                settling_register: FakeSettlingRegister) -> Iterator[MainWindow]:
    win = create_main_window(settling_register, runner=TaskRunner())
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    win.runner.wait_idle()


def charge_unknown(qtbot: QtBot, win: MainWindow, register: FakeRegister) -> Any:
    sell = win.sell
    sign_in(qtbot, win)
    qtbot.mouseClick(sell.tiles.tile_named("VIP"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(sell.panel.tendered_edit, "30")
    register.unknowns = 1
    with qtbot.waitSignal(sell.sale_unknown, timeout=10_000) as unknown:
        qtbot.mouseClick(sell.panel.charge_button, Qt.MouseButton.LeftButton)
    return unknown.args[0]


def test_an_unknown_sale_shows_retry_and_abandon_and_blocks_charge(
        qtbot: QtBot, fake_window: MainWindow,
        settling_register: FakeSettlingRegister) -> None:
    win, sell = fake_window, fake_window.sell
    outcome = charge_unknown(qtbot, win, settling_register)
    assert sell.unknown_card.isVisible()
    assert sell.retry_button.isEnabled() and sell.abandon_button.isEnabled()
    assert sell.unsettled_key == outcome.key
    assert not sell.panel.charge_button.isEnabled()
    assert sell.basket.locked
    with qtbot.assertNotEmitted(sell.charge_started, wait=100):
        sell.on_panel_charge_requested(3000)  # even a programmatic charge is refused
    qtbot.wait(50)
    win.grab().save(str(SCREENSHOTS / "unknown-sale.png"))

    with qtbot.waitSignal(sell.sale_settled, timeout=10_000) as settled:
        qtbot.mouseClick(sell.retry_button, Qt.MouseButton.LeftButton)
    assert settling_register.settled == [("retry", outcome.key)]
    assert str(settled.args[0].state) == "confirmed"
    assert not sell.unknown_card.isVisible()
    assert sell.result_card.isVisible()
    assert sell.unsettled_key is None


def test_abandon_settles_the_unknown_sale_and_unblocks_the_basket(
        qtbot: QtBot, fake_window: MainWindow,
        settling_register: FakeSettlingRegister) -> None:
    win, sell = fake_window, fake_window.sell
    outcome = charge_unknown(qtbot, win, settling_register)
    with qtbot.waitSignal(sell.sale_settled, timeout=10_000):
        qtbot.mouseClick(sell.abandon_button, Qt.MouseButton.LeftButton)
    assert settling_register.settled == [("abandon", outcome.key)]
    assert not sell.unknown_card.isVisible()
    assert [(line.name, line.quantity) for line in sell.basket.lines] == [("VIP", 1)]
    assert sell.panel.charge_button.isEnabled()


def test_without_abandon_the_button_is_disabled_with_a_reason(
        qtbot: QtBot, styled_app: object, tmp_path: Path) -> None:
    register = FakeSettlingRegister(tmp_path / "r", abandon=False)
    win = create_main_window(register, runner=TaskRunner())
    qtbot.addWidget(win)
    win.show()
    charge_unknown(qtbot, win, register)
    assert win.sell.retry_button.isEnabled()
    assert not win.sell.abandon_button.isEnabled()
    assert "not available" in win.sell.abandon_button.toolTip()
    win.runner.wait_idle()


def test_counts_older_than_30_seconds_are_marked_stale(
        qtbot: QtBot, fake_window: MainWindow) -> None:
    sell = fake_window.sell
    sign_in(qtbot, fake_window)
    assert not sell.stale
    sell._fresh_at = time.monotonic() - 31
    sell.check_stale()
    tile = sell.tiles.tile_named("GA")
    assert sell.stale and tile.stale and tile.property("stale") is True
    assert tile._level.text() == "Not current"
    event_row = sell.events_model.index(0)
    assert event_row.data(STALE_ROLE) is True  # the event list's bars too
    assert event_row.data(Qt.ItemDataRole.AccessibleTextRole).endswith("counts not current")
    with qtbot.waitSignal(sell.events_loaded, timeout=10_000):
        sell.refresh_events()
    assert not sell.tiles.tile_named("GA").stale
    assert sell.events_model.index(0).data(STALE_ROLE) is False


def test_the_unresolved_list_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from pos_app.gui.shell.journal_status import UnresolvedModel

    model = UnresolvedModel()
    entry = SimpleNamespace(key="k1", operation="sale", state=EntryState.UNKNOWN,
                            reference=None, error_code="outcome_unknown",
                            created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    model.set_entries([entry, entry])
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert model.data(model.index(0, 2)) == "unknown"
    assert model.data(model.index(0, 3)) == "outcome_unknown"


def test_the_status_bar_counts_unresolved_journal_entries(
        qtbot: QtBot, live_window: MainWindow, register: Register,
        own_server: LiveServer) -> None:
    win = live_window
    with qtbot.waitSignal(win.journal_status.reconciled, timeout=15_000):
        sign_in(qtbot, win)  # the start-up reconciliation runs first; then a new entry
    register.journal.begin("sale", {"lines": []}, staff_id=1, terminal_id=1)  # left pending
    with qtbot.waitSignal(win.journal_status.count_changed, timeout=10_000) as counted:
        win.journal_status.refresh()
    assert counted.args[0] == 1
    assert win.journal_status.label.text() == "1 unresolved"
    qtbot.mouseClick(win.journal_status.button, Qt.MouseButton.LeftButton)
    assert win.journal_status.dialog is not None and win.journal_status.dialog.isVisible()
    assert win.journal_status.dialog.table.model().rowCount() == 1
    win.journal_status.dialog.close()


def test_a_sale_left_pending_by_a_crash_is_settled_when_the_window_opens(
        qtbot: QtBot, styled_app: object, register: Register, own_server: LiveServer) -> None:
    register.sign_in("alex", "1234")  # a session kept from the run that crashed
    crashed = register.journal.begin(
        "sale", {"lines": [{"ticket_type_id": 1, "quantity": 1}],
                 "payment": {"method": "cash", "tendered": 100_000}},
        staff_id=1, terminal_id=1)  # committed pending, never sent
    win = create_main_window(register, runner=TaskRunner())
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: register.journal.get(crashed.key).state is EntryState.VOIDED,
                        timeout=15_000)
        qtbot.waitUntil(lambda: win.journal_status.label.text() == "No unresolved sales",
                        timeout=10_000)
    finally:
        if win.live is not None:
            win.live.stop()
        win.runner.wait_idle()
    # Voided on the server too: the request can never execute late.
    state = register.client.lookup_key(crashed.key)
    assert state is not None and state.status == "voided"
