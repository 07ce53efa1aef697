"""What a ticket tile shows is whole: its name (elided with "…" when too long, never cut
off) and its "N in basket" badge, read from the labels as painted."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from pos_app.gui import TaskRunner, create_main_window
from pos_app.gui.sell.ticket_tiles import TicketTile
from pos_app.gui.shell.main_window import MainWindow
from tests.fakes import FakeRegister
from tests.gui.helpers import press, sign_in


def shown_lines(label: QLabel) -> list[str]:
    return label.text().split("\n")


def fits(label: QLabel) -> bool:
    """Every line of ``label``'s text fits its width (a label cuts off what does not)."""
    width = label.contentsRect().width()
    return all(label.fontMetrics().horizontalAdvance(line) <= width
               for line in shown_lines(label))


def inside(tile: TicketTile, label: QLabel) -> bool:
    area = tile.contentsRect()
    return area.contains(QRect(label.mapTo(tile, label.rect().topLeft()), label.size()))


def test_a_tile_in_the_basket_shows_its_whole_name_and_badge(
        qtbot: QtBot, styled_app: object, tmp_path: Path) -> None:
    register = FakeRegister(tmp_path / "receipts", types=("General Admission", "VIP Lounge"),
                            capacity=800)
    win: MainWindow = create_main_window(register, runner=TaskRunner())
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5_000)
    sign_in(qtbot, win)
    tile = win.sell.tiles.tile_named("General Admission")
    press(qtbot, win, Qt.Key.Key_F1)
    press(qtbot, win, Qt.Key.Key_F1)
    press(qtbot, win, Qt.Key.Key_F2)
    qtbot.wait(20)  # one layout pass
    win.grab().save(str(tmp_path / "tiles.png"))

    name = tile.findChild(QLabel, "tileName")
    badge = tile.findChild(QLabel, "tileInBasket")
    assert name is not None and badge is not None
    assert badge.isVisible() and badge.text() == "2 in basket"
    assert badge.width() >= badge.sizeHint().width()  # nothing of "2" cut off
    assert inside(tile, badge)
    assert " ".join(shown_lines(name)) == "General Admission"  # wrapped, not elided
    assert fits(name) and inside(tile, name)
    assert not badge.geometry().intersects(name.geometry())
    vip = win.sell.tiles.tile_named("VIP Lounge").findChild(QLabel, "tileInBasket")
    assert vip is not None and vip.text() == "1 in basket"
    assert vip.width() >= vip.sizeHint().width()
    win.runner.wait_idle()


def test_a_name_too_long_for_two_lines_is_elided_not_cut(
        qtbot: QtBot, styled_app: object, tmp_path: Path) -> None:
    long_name = "Early Bird Student Standing Concession With Programme"
    register = FakeRegister(tmp_path / "receipts", types=(long_name,))
    [event] = register.events().events
    tile = TicketTile(event.ticket_types[0], key="F1")
    qtbot.addWidget(tile)
    tile.set_in_basket(12)
    tile.resize(266, 128)
    tile.show()
    qtbot.wait(20)

    name = tile.findChild(QLabel, "tileName")
    assert name is not None
    lines = shown_lines(name)
    assert len(lines) == 2 and lines[1].endswith("…")
    assert long_name.startswith(" ".join(lines)[:-1])
    assert fits(name) and name.toolTip() == long_name
    badge = tile.findChild(QLabel, "tileInBasket")
    assert badge is not None and badge.text() == "12 in basket"
    assert badge.width() >= badge.sizeHint().width()
