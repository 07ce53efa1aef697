"""How a stock level looks and reads everywhere it is shown (the sell screen's tiles and event
list, the manager's dashboard): one colour and one phrase per
:class:`~pos_app.domain.inventory.StockLevel`."""

from __future__ import annotations

from pos_app.domain.inventory import StockLevel

__all__ = ["LEVEL_COLOURS", "LEVEL_TEXT"]

LEVEL_COLOURS = {StockLevel.IN_STOCK: "#16a34a", StockLevel.LOW: "#d97706",
                 StockLevel.CRITICAL: "#dc2626", StockLevel.SOLD_OUT: "#94a3b8"}
"""Fill colour of a ticket type's bar segment by stock level (the tiles' badge colours)."""
LEVEL_TEXT = {
    StockLevel.IN_STOCK: "In stock",
    StockLevel.LOW: "Selling fast",
    StockLevel.CRITICAL: "Almost gone",
    StockLevel.SOLD_OUT: "Sold out",
}
