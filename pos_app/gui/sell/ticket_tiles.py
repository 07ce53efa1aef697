"""Touch-size buttons, one per ticket type of the selected event.

Each tile shows its key (F1..F12) and the name, the price and how many the basket holds, how
many are left at the box office and a coloured stock level (green in stock, amber low, red
critical, grey sold out). A tile is disabled when the type is sold out, when the basket
already holds every ticket left, or while a charge is in flight.

Nothing on a tile is cut off: the name takes the top row's width on up to two lines (what
does not fit is elided with "…"; the whole name is the tooltip), and the "N in basket"
badge sits beside the price at its full width. (Squeezed beside the name it used to lose
its left edge: "2 in basket" read "! in basket", and the name "General Admissic".)
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Event, TicketType
from pos_app.domain.inventory import StockLevel
from pos_app.domain.money import format_money
from pos_app.gui.core.freshness import STALE_TEXT
from pos_app.gui.core.stock_styles import LEVEL_TEXT
from pos_app.gui.core.widgets import named, restyle, two_lines
from pos_app.gui.sell.basket_model import BasketModel

__all__ = ["FUNCTION_KEYS", "TicketTile", "TicketTileGrid", "tile_key_name"]

FUNCTION_KEYS = [getattr(Qt.Key, f"Key_F{n}") for n in range(1, 13)]
"""F1 .. F12: the keys of the first twelve tiles (:mod:`pos_app.gui.sell.sell_keys`)."""


def tile_key_name(position: int) -> str | None:
    """The key shown on the tile at ``position`` (0-based): ``"F1"`` .. ``"F12"``, else None."""
    return f"F{position + 1}" if 0 <= position < len(FUNCTION_KEYS) else None

class _NameLabel(QLabel):
    """A name on at most two lines of the width the layout gives it (:func:`two_lines`):
    the label asks for no width of its own, so the text follows the width, not the other
    way round."""

    def __init__(self) -> None:
        super().__init__()
        self._name = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_name(self, name: str) -> None:
        self._name = name
        self.setToolTip(name)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width()
        shown = "\n".join(two_lines(self.fontMetrics(), self._name, width) if width > 0
                          else [self._name])
        if shown != self.text():
            self.setText(shown)


class TicketTile(QPushButton):
    """One ticket type as a big button. Click adds one to the basket."""

    def __init__(self, ticket_type: TicketType, parent: QWidget | None = None, *,
                 key: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ticketTile")
        self.key = key
        self._key = named(QLabel(key or ""), "tileKey")
        if key is None:
            self._key.hide()  # (not setVisible(True): a label without a parent yet is a window)
        self.setMinimumSize(160, 128)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._name = named(_NameLabel(), "tileName")
        self._price = named(QLabel(), "tilePrice")
        self._left = named(QLabel(), "tileLeft")
        self._level = named(QLabel(), "tileLevel")
        self._in_basket = named(QLabel(), "tileInBasket")
        self._in_basket.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._in_basket.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        for label in (self._key, self._name, self._price, self._left, self._level,
                      self._in_basket):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        top = QHBoxLayout()
        top.addWidget(self._key, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self._name, 1)
        middle = QHBoxLayout()
        middle.addWidget(self._price)
        middle.addStretch(1)
        middle.addWidget(self._in_basket, 0, Qt.AlignmentFlag.AlignVCenter)
        bottom = QHBoxLayout()
        bottom.addWidget(self._level)
        bottom.addStretch(1)
        bottom.addWidget(self._left)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(middle)
        layout.addStretch(1)
        layout.addLayout(bottom)
        self.ticket_type = ticket_type
        self.in_basket = 0
        self.stale = False
        self.set_ticket_type(ticket_type)

    @property
    def left_text(self) -> str:
        """The "N left" text as shown."""
        return self._left.text()

    @property
    def name_text(self) -> str:
        """The name as shown (lines joined by a newline; "…" where it was elided)."""
        return self._name.text()

    @property
    def basket_badge(self) -> QLabel:
        """The "N in basket" badge (hidden while the basket holds none)."""
        return self._in_basket

    def set_ticket_type(self, ticket_type: TicketType) -> None:
        """Show fresh counts for this tile's ticket type."""
        self.ticket_type = ticket_type
        level = StockLevel(ticket_type.stock_level)
        self._name.set_name(ticket_type.name)
        self._price.setText(format_money(ticket_type.price, ticket_type.currency))
        self._left.setText("Sold out" if ticket_type.available <= 0
                           else f"{ticket_type.available} left")
        self._level.setText(STALE_TEXT if self.stale else LEVEL_TEXT[level])
        for widget in (self, self._level, self._left):
            widget.setProperty("level", level.value)
            restyle(widget)
        self._update_accessible()

    def set_stale(self, stale: bool) -> None:
        """Show that the counts are older than 30 s (the badge replaces the stock level)."""
        self.stale = stale
        level = StockLevel(self.ticket_type.stock_level)
        self._level.setText(STALE_TEXT if stale else LEVEL_TEXT[level])
        for widget in (self, self._level, self._left):
            widget.setProperty("stale", stale)
            restyle(widget)
        self._update_accessible()

    def set_in_basket(self, quantity: int) -> None:
        """Show how many of this type the basket holds."""
        self.in_basket = quantity
        self._in_basket.setText(f"{quantity} in basket" if quantity else "")
        self._in_basket.setVisible(bool(quantity))
        self._update_accessible()

    def _update_accessible(self) -> None:
        ticket_type = self.ticket_type
        self.setAccessibleName(f"Add {ticket_type.name}"
                               + (f" ({self.key})" if self.key else ""))
        self.setAccessibleDescription(
            f"{format_money(ticket_type.price, ticket_type.currency)}, {self._left.text()}, "
            f"{self.in_basket} in basket" + (", counts not current" if self.stale else ""))


class TicketTileGrid(QScrollArea):
    """The tiles of one event, three to a row.

    Signals:
        ticket_type_chosen(object): a tile was clicked; carries its ``TicketType``.
    """

    ticket_type_chosen = Signal(object)

    COLUMNS = 2

    def __init__(self, basket: BasketModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ticketGrid")
        self.setAccessibleName("Ticket types: F1 to F12 add one")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._basket = basket
        self._tiles: dict[int, TicketTile] = {}
        self._event: Event | None = None
        self._stale = False
        body = named(QWidget(), "ticketGridBody")
        self._outer = QVBoxLayout(body)
        self._outer.setContentsMargins(0, 0, 0, 0)
        self._title = named(QLabel("Select an event"), "sectionTitle")
        self._subtitle = named(QLabel(""), "sectionSubtitle")
        self._subtitle.setWordWrap(True)
        self._grid = QGridLayout()
        self._grid.setSpacing(14)
        self._outer.addWidget(self._title)
        self._outer.addWidget(self._subtitle)
        self._outer.addSpacing(8)
        self._outer.addLayout(self._grid)
        self._outer.addStretch(1)
        self.setWidget(body)
        basket.total_changed.connect(self.on_basket_total_changed)
        basket.locked_changed.connect(self.on_basket_locked_changed)

    @property
    def shown_event(self) -> Event | None:
        """The event whose tiles are shown."""
        return self._event

    def tile(self, ticket_type_id: int) -> TicketTile:
        """The tile of ``ticket_type_id`` (``KeyError`` when not shown)."""
        return self._tiles[ticket_type_id]

    def tile_named(self, name: str) -> TicketTile:
        """The tile whose ticket type is called ``name`` (``KeyError`` when not shown)."""
        for tile in self._tiles.values():
            if tile.ticket_type.name == name:
                return tile
        raise KeyError(name)

    def tiles(self) -> list[TicketTile]:
        """The tiles in the order shown (F1 first)."""
        return list(self._tiles.values())

    def tile_at(self, position: int) -> TicketTile | None:
        """The tile at ``position`` (0-based, F1 is 0), or None."""
        tiles = self.tiles()
        return tiles[position] if 0 <= position < len(tiles) else None

    @property
    def stale(self) -> bool:
        return self._stale

    def set_stale(self, stale: bool) -> None:
        """Mark every tile's numbers as out of date (dimmed, "Not current" badge)."""
        self._stale = stale
        for tile in self._tiles.values():
            tile.set_stale(stale)

    def show_event(self, event: Event | None) -> None:
        """Show ``event``'s ticket types; refreshes in place when it is the same event."""
        same = (event is not None and self._event is not None and event.id == self._event.id
                and set(self._tiles) == {t.id for t in event.ticket_types})
        self._event = event
        if same and event is not None:
            for ticket_type in event.ticket_types:
                self._tiles[ticket_type.id].set_ticket_type(ticket_type)
            self._refresh_enabled()
            return
        for tile in self._tiles.values():
            self._grid.removeWidget(tile)
            tile.deleteLater()
        self._tiles.clear()
        if event is None:
            self._title.setText("Select an event")
            self._subtitle.setText("")
            return
        self._title.setText(event.name)
        for position, ticket_type in enumerate(event.ticket_types):
            tile = TicketTile(ticket_type, key=tile_key_name(position))
            tile.set_stale(self._stale)
            tile.clicked.connect(lambda _checked=False, t=tile: self.on_tile_clicked(t))
            self._tiles[ticket_type.id] = tile
            self._grid.addWidget(tile, *divmod(position, self.COLUMNS))
        for column in range(self.COLUMNS):
            self._grid.setColumnStretch(column, 1)
        self._refresh_enabled()

    def on_tile_clicked(self, tile: TicketTile) -> None:
        if tile.isEnabled():
            self.ticket_type_chosen.emit(tile.ticket_type)

    def on_basket_total_changed(self, _total: int) -> None:
        self._refresh_enabled()

    def on_basket_locked_changed(self, _locked: bool) -> None:
        self._refresh_enabled()

    def _refresh_enabled(self) -> None:
        event = self._event
        if event is not None:
            other = self._basket.event_id not in (None, event.id)
            self._subtitle.setProperty("warning", other)
            restyle(self._subtitle)
            self._subtitle.setText(
                "The basket holds tickets for another event: charge or clear it first."
                if other else f"{event.venue} · tap a ticket to add it to the basket")
        for tile in self._tiles.values():
            tile.set_in_basket(self._basket.quantity_of(tile.ticket_type.id))
            tile.setEnabled(self._basket.can_add(tile.ticket_type))
