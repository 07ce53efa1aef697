"""The manager's capacity dialogs against the real register, journal and a live HTTPS server:
one ticket type changed after a before -> after confirmation, a decrease below what is sold
and held refused before anything is sent, a bulk change over two events applied to every
line, a bulk change with one impossible line refused by the server as a whole (the counts
read again), and the public limit and thresholds saved.

Also refreshes ``docs/screenshots/capacity-dialog.png``, ``capacity-confirm.png``,
``capacity-limits.png``, ``bulk-capacity.png`` and ``bulk-capacity-confirm.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Event, HoldLineIn, TicketType
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.manager.capacity.bulk_capacity_dialog import BulkCapacityDialog
from pos_app.gui.manager.capacity.capacity_dialog import CapacityDialog
from pos_app.journal import EntryState, Register
from tests.gui.helpers import unnamed_controls
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"
WAIT = 20_000


@dataclass
class Desk:
    """The manager morgan signed in on a real register, two fresh events and a runner."""

    register: Register
    runner: TaskRunner
    first: str  # event ids
    second: str

    def event(self, event_id: str) -> Event:
        self.register.events()  # fresh counts from the server
        return self.register.event(event_id)

    def ticket_type(self, event_id: str, name: str) -> TicketType:
        return next(tt for tt in self.event(event_id).ticket_types if tt.name == name)

    def hold(self, tt: TicketType, quantity: int) -> None:
        """Hold ``quantity`` of ``tt`` in a checkout hold (they count as held)."""
        outcome = self.register.hold([HoldLineIn(ticket_type_id=tt.id, quantity=quantity)],
                                     kind="checkout")
        assert outcome.state is EntryState.CONFIRMED, outcome.message

    def journaled(self, operation: str) -> list[Any]:
        return self.register.journal.entries(operation=operation)


@pytest.fixture
def desk(qtbot: QtBot, styled_app: object, register: Register,
         live_server: LiveServer) -> Iterator[Desk]:
    first = live_server.small_event(capacity=10, types=("GA", "VIP"))
    second = live_server.small_event(capacity=5, types=("GA",))
    register.sign_in("morgan", "2468")
    runner = TaskRunner()
    yield Desk(register, runner, first, second)
    assert runner.wait_idle()


def show(qtbot: QtBot, dialog: Any) -> None:
    qtbot.addWidget(dialog)
    dialog.resize(820, 700)
    dialog.show()
    qtbot.waitExposed(dialog)


def test_one_ticket_type_increase_shows_before_and_after_then_applies(
        qtbot: QtBot, desk: Desk) -> None:
    ga = desk.ticket_type(desk.first, "GA")
    dialog = CapacityDialog(desk.register, desk.runner, ga, desk.event(desk.first))
    show(qtbot, dialog)
    assert dialog.figures.values["Capacity"].text() == "10"
    assert dialog.figures.values["Available"].text() == "10"
    assert unnamed_controls(dialog) == []
    dialog.tabs.setCurrentIndex(1)
    assert unnamed_controls(dialog) == []
    dialog.tabs.setCurrentIndex(0)
    seats = dialog.seats_tab

    # "Set capacity to 15" computes the delta (+5).
    qtbot.mouseClick(seats.set_mode_button, Qt.MouseButton.LeftButton)
    assert seats.target_spin.isEnabled() and not seats.delta_spin.isEnabled()
    seats.target_spin.selectAll()
    qtbot.keyClicks(seats.target_spin, "15")
    assert seats.delta == 5
    assert seats.preview_label.text() == "Capacity 10 → 15 (+5 seats)"
    qtbot.keyClicks(seats.reason_edit, "Balcony opened")
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "capacity-dialog.png"))

    qtbot.keyClick(seats.reason_edit, Qt.Key.Key_Return)  # Enter reviews
    assert dialog.pages.currentIndex() == 1
    assert dialog.confirm_title.text() == "Add 5 seats to GA?"
    assert dialog.confirm_reason.text() == "Reason: Balcony opened"
    assert unnamed_controls(dialog) == []
    assert dialog.before_after.text().splitlines() == [
        "Capacity: 10 -> 15", "Available at the box office: 10 -> 15",
        "Available online: 10 -> 10",  # the public limit (10) still caps the shop
        "Stock level: In stock -> In stock"]
    assert desk.journaled("capacity_change") == []  # nothing sent before Confirm
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "capacity-confirm.png"))

    with qtbot.waitSignal(dialog.ticket_types_changed, timeout=WAIT) as changed:
        qtbot.keyClick(dialog.confirm_button, Qt.Key.Key_Return)
    [fresh] = changed.args[0]
    assert (fresh.id, fresh.capacity, fresh.available) == (ga.id, 15, 15)
    assert desk.ticket_type(desk.first, "GA").capacity == 15
    [entry] = desk.journaled("capacity_change")
    assert entry.state is EntryState.CONFIRMED and entry.body["delta"] == 5
    assert dialog.pages.currentIndex() == 0
    assert dialog.figures.values["Capacity"].text() == "15"
    assert dialog.hint_label.text().startswith("Capacity of GA is now 15.")
    assert seats.delta == 0 and seats.reason_edit.text() == ""


def test_a_decrease_below_sold_and_held_is_refused_before_anything_is_sent(
        qtbot: QtBot, desk: Desk) -> None:
    desk.hold(desk.ticket_type(desk.second, "GA"), 3)
    ga = desk.ticket_type(desk.second, "GA")
    assert (ga.capacity, ga.held) == (5, 3)
    dialog = CapacityDialog(desk.register, desk.runner, ga, desk.event(desk.second))
    show(qtbot, dialog)
    seats = dialog.seats_tab

    qtbot.keyClick(seats.delta_spin, Qt.Key.Key_Return)  # no change yet
    assert dialog.hint_label.text() == ("Enter the seats to add or remove (or the new "
                                        "capacity) first.")
    seats.delta_spin.setValue(-3)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.hint_label.text() == "Give a reason: it is kept in the audit log."
    assert dialog.focusWidget() is seats.reason_edit
    qtbot.keyClicks(seats.reason_edit, "Stage moved")
    qtbot.keyClick(seats.reason_edit, Qt.Key.Key_Return)

    assert dialog.pages.currentIndex() == 0  # no confirmation offered
    assert dialog.hint_label.text() == (
        "Capacity cannot go below the tickets already sold and held: GA has 0 sold and 3 "
        "held, so it can be reduced by at most 2.")
    assert dialog.hint_label.property("warning") is True
    assert not desk.runner.busy
    assert desk.journaled("capacity_change") == []
    assert desk.ticket_type(desk.second, "GA").capacity == 5


def test_a_bulk_change_across_two_events_applies_to_every_checked_type(
        qtbot: QtBot, desk: Desk, qtmodeltester: Any) -> None:
    first, second = desk.event(desk.first), desk.event(desk.second)
    dialog = BulkCapacityDialog(desk.register, desk.runner, desk.register.events().events)
    show(qtbot, dialog)
    dialog.resize(1000, 700)
    qtmodeltester.check(dialog.model)
    qtmodeltester.check(dialog.proxy)
    assert unnamed_controls(dialog) == []

    # Keyboard: filter by event, Down into the table, Space checks the first row.
    for event in (first, second):
        dialog.filter_edit.clear()
        qtbot.keyClicks(dialog.filter_edit, event.name)
        assert dialog.proxy.rowCount() == len(event.ticket_types)
        qtbot.keyClick(dialog.filter_edit, Qt.Key.Key_Down)
        assert dialog.focusWidget() is dialog.table
        qtbot.keyClick(dialog.table, Qt.Key.Key_Space)
    dialog.filter_edit.clear()
    checked = {(row.event.id, row.ticket_type.name) for row in dialog.model.checked_rows()}
    assert checked == {(first.id, "GA"), (second.id, "GA")}
    assert dialog.subtitle_label.text().startswith("2 of ")
    dialog.delta_spin.setValue(4)
    qtbot.keyClicks(dialog.reason_edit, "Extra chairs")
    qtbot.keyClicks(dialog.filter_edit, "Test night")  # the picture shows the checked rows
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "bulk-capacity.png"))
    dialog.filter_edit.clear()

    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    assert dialog.pages.currentIndex() == 1
    qtmodeltester.check(dialog.preview)
    assert unnamed_controls(dialog) == []
    shown = sorted([str(dialog.preview.index(row, column).data()) for column in range(5)]
                   for row in range(dialog.preview.rowCount()))
    assert shown == sorted([[first.name, "GA", "10 → 14", "10 → 14", "In stock → In stock"],
                            [second.name, "GA", "5 → 9", "5 → 9", "In stock → In stock"]])
    assert dialog.confirm_title.text() == ("Add 4 seats to each of 2 ticket types? All or "
                                           "nothing.")
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "bulk-capacity-confirm.png"))

    with qtbot.waitSignal(dialog.ticket_types_changed, timeout=WAIT) as changed:
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert sorted(tt.capacity for tt in changed.args[0]) == [9, 14]
    assert desk.ticket_type(desk.first, "GA").capacity == 14
    assert desk.ticket_type(desk.first, "VIP").capacity == 10  # not checked
    assert desk.ticket_type(desk.second, "GA").capacity == 9
    [entry] = desk.journaled("capacity_bulk")
    assert entry.state is EntryState.CONFIRMED
    assert dialog.hint_label.text() in [
        f"Capacity changed for 2 ticket types. New capacities: GA {a}, GA {b}."
        for a, b in ((14, 9), (9, 14))]
    model_row = next(row for row in dialog.model.rows() if row.event.id == first.id)
    assert model_row.ticket_type.capacity == 14  # the table shows the new counts


def test_a_bulk_change_with_one_impossible_line_changes_nothing(
        qtbot: QtBot, desk: Desk) -> None:
    dialog = BulkCapacityDialog(desk.register, desk.runner, desk.register.events().events)
    show(qtbot, dialog)
    targets = {desk.ticket_type(desk.first, "GA").id, desk.ticket_type(desk.second, "GA").id}
    dialog.model.set_checked([row for row in dialog.model.rows()
                              if row.ticket_type.id in targets], True)
    # Meanwhile 3 of the second event's 5 GA are held: the dialog's counts are stale, so
    # only the server can see that removing 3 seats there is impossible.
    desk.hold(desk.ticket_type(desk.second, "GA"), 3)
    dialog.delta_spin.setValue(-3)
    qtbot.keyClicks(dialog.reason_edit, "Fire marshal")
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 1

    with qtbot.waitSignal(dialog.counts_reloaded, timeout=WAIT):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    second_ga = desk.ticket_type(desk.second, "GA")
    text = dialog.hint_label.text()
    assert text.startswith("Capacity cannot go below the tickets already sold and held")
    assert f"GA (id {second_ga.id})" in text and "nothing was changed" in text
    assert text.endswith("The counts were read again.")
    assert dialog.pages.currentIndex() == 0
    # All or nothing: the first event's GA did not lose its 3 seats either.
    assert desk.ticket_type(desk.first, "GA").capacity == 10
    assert second_ga.capacity == 5
    [entry] = desk.journaled("capacity_bulk")
    assert entry.state is EntryState.REFUSED
    committed = {row.event.id: row.ticket_type.sold + row.ticket_type.held
                 for row in dialog.model.checked_rows()}
    assert committed == {desk.first: 0, desk.second: 3}  # the table shows the fresh counts

    # With the fresh counts the same change is refused here, before anything is sent.
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 0
    assert dialog.hint_label.text().startswith(
        "Capacity cannot go below the tickets already sold and held: GA (")
    assert len(desk.journaled("capacity_bulk")) == 1


def test_the_public_limit_and_thresholds_are_saved(qtbot: QtBot, desk: Desk) -> None:
    vip = desk.ticket_type(desk.first, "VIP")
    dialog = CapacityDialog(desk.register, desk.runner, vip, desk.event(desk.first))
    show(qtbot, dialog)
    dialog.tabs.setCurrentIndex(1)
    limits = dialog.limits_tab
    assert (limits.limit_spin.value(), limits.ladder_edit.text()) == (10, "2, 1, 0")

    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.hint_label.text().startswith("Nothing to save")
    limits.no_limit_check.setChecked(True)
    assert not limits.limit_spin.isEnabled()
    limits.critical_spin.setValue(5)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.hint_label.text() == "The critical level must not be above the low level."
    limits.low_spin.setValue(6)
    limits.critical_spin.setValue(3)
    limits.ladder_edit.setText("6, 6, 0")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.hint_label.text().startswith("List the alert levels from the highest")
    limits.ladder_edit.setText("6, 3, 0")
    qtbot.keyClicks(limits.reason_edit, "Online sells everything")
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "capacity-limits.png"))
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    assert dialog.pages.currentIndex() == 1
    assert dialog.before_after.text().splitlines() == [
        "Public limit: 10 -> No limit", "Available online: 10 -> 10",
        "Low / critical at: 2 / 1 -> 6 / 3", "Stock level: In stock -> In stock",
        "Alert levels: 2, 1, 0 -> 6, 3, 0"]
    with qtbot.waitSignal(dialog.ticket_types_changed, timeout=WAIT):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    saved = desk.ticket_type(desk.first, "VIP")
    assert saved.public_limit is None
    assert (saved.thresholds.low, saved.thresholds.critical) == (6, 3)
    assert saved.alert_ladder == [6, 3, 0]
    [entry] = desk.journaled("ticket_type_edit")
    assert entry.body["reason"] == "Online sells everything"
    assert dialog.figures.values["Public limit"].text() == "No limit"
    assert dialog.hint_label.text().startswith("VIP saved.")
