"""The event picker: each event's card carries an availability bar per ticket type, in the
stock level's colour and filled to the share left, said in words to screen readers; greyed
and marked "Not current" while the counts are stale."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Event
from pos_app.gui.core.freshness import STALE_BADGE_COLOUR, STALE_NUMBER_COLOUR
from pos_app.gui.core.stock_styles import LEVEL_COLOURS
from pos_app.gui.sell.event_list import STALE_ROLE, EventList, EventListModel, availability_text
from tests.fakes import FakeRegister


def with_counts(event: Event, event_id: str, counts: dict[str, tuple[int, str]]) -> Event:
    """``event`` as ``event_id`` with each named type's ``(available, stock_level)``."""
    types = [tt.model_copy(update={"event_id": event_id, "available": counts[tt.name][0],
                                   "stock_level": counts[tt.name][1]})
             for tt in event.ticket_types]
    return event.model_copy(update={"id": event_id, "name": f"Night {event_id}",
                                    "ticket_types": types})


def colours_in(image: QImage, top: int, bottom: int) -> set[str]:
    found = set()
    for y in range(max(0, top), min(image.height(), bottom)):
        for x in range(0, image.width(), 2):
            found.add(QColor(image.pixel(x, y)).name())
    return found


def test_each_event_shows_a_bar_per_ticket_type_in_its_stock_colour(
        qtbot: QtBot, styled_app: object, tmp_path: Path) -> None:
    [base] = FakeRegister(tmp_path).events().events  # GA and VIP, capacity 5 each
    events = [with_counts(base, "a", {"GA": (5, "in_stock"), "VIP": (2, "low")}),
              with_counts(base, "b", {"GA": (1, "critical"), "VIP": (0, "sold_out")})]
    model = EventListModel()
    model.set_events(events)
    view = EventList(model)
    qtbot.addWidget(view)
    view.resize(272, 400)
    view.show()
    view.clearSelection()
    view.setCurrentIndex(model.index(-1))

    assert model.index(0).data(Qt.ItemDataRole.AccessibleTextRole).endswith(
        "GA 5 of 5 left, VIP 2 of 5 left")
    assert model.index(1).data(Qt.ItemDataRole.ToolTipRole) == "GA 1 of 5 left, VIP sold out"
    image = view.viewport().grab().toImage()
    first, second = view.visualRect(model.index(0)), view.visualRect(model.index(1))
    assert {LEVEL_COLOURS["in_stock"], LEVEL_COLOURS["low"]} <= colours_in(
        image, first.top(), first.bottom())
    assert LEVEL_COLOURS["critical"] in colours_in(image, second.top(), second.bottom())
    # Sold out: an empty track, no fill of any level's colour but the critical GA's.
    assert LEVEL_COLOURS["sold_out"] not in colours_in(image, second.top(), second.bottom())
    view.grab().save("docs/screenshots/event-picker.png")

    model.set_events([with_counts(base, "a", {"GA": (0, "sold_out"), "VIP": (0, "sold_out")}),
                      events[1]])
    image = view.viewport().grab().toImage()
    assert not {LEVEL_COLOURS["in_stock"], LEVEL_COLOURS["low"]} & colours_in(
        image, first.top(), first.bottom())


def test_the_event_model_passes_qtmodeltester(qtmodeltester: object, tmp_path: Path) -> None:
    [base] = FakeRegister(tmp_path).events().events
    model = EventListModel()
    model.set_events([with_counts(base, "a", {"GA": (5, "in_stock"), "VIP": (2, "low")})])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert availability_text([]) == ""


def test_stale_counts_grey_the_bars_and_say_not_current(
        qtbot: QtBot, styled_app: object, tmp_path: Path) -> None:
    [base] = FakeRegister(tmp_path).events().events
    model = EventListModel()
    model.set_events([with_counts(base, "a", {"GA": (5, "in_stock"), "VIP": (1, "critical")})])
    view = EventList(model)
    qtbot.addWidget(view)
    view.resize(272, 300)
    view.show()
    card = view.visualRect(model.index(0))

    with qtbot.waitSignal(model.dataChanged):
        model.set_stale(True)
    assert model.index(0).data(STALE_ROLE) is True
    assert model.index(0).data(Qt.ItemDataRole.AccessibleTextRole).endswith(
        "GA 5 of 5 left, VIP 1 of 5 left, counts not current")
    assert model.index(0).data(Qt.ItemDataRole.ToolTipRole).endswith("counts not current")
    seen = colours_in(view.viewport().grab().toImage(), card.top(), card.bottom())
    assert not {LEVEL_COLOURS["in_stock"], LEVEL_COLOURS["critical"]} & seen  # not as live
    assert {STALE_BADGE_COLOUR, STALE_NUMBER_COLOUR} <= seen
    view.grab().save(str(tmp_path / "event-list-stale.png"))

    model.set_stale(False)
    seen = colours_in(view.viewport().grab().toImage(), card.top(), card.bottom())
    assert {LEVEL_COLOURS["in_stock"], LEVEL_COLOURS["critical"]} <= seen
    assert STALE_BADGE_COLOUR not in seen
