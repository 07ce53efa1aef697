"""The Qt side of live inventory: :class:`LiveInventory` re-emits an
:class:`~pos_app.client.InventoryFeed`'s callbacks as signals on the GUI thread."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot

from pos_app.api.schemas import TicketType

__all__ = ["FeedFactory", "FeedLike", "LiveInventory"]


class FeedLike(Protocol):
    """What the adapter needs of a feed (``pos_app.client.InventoryFeed``)."""

    def start(self) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...


#: ``factory(on_changes, on_state, since)`` -> a not yet started feed.
FeedFactory = Callable[[Callable[[int, list[TicketType]], None], Callable[[bool], None],
                        int | None], FeedLike]


class LiveInventory(QObject):
    """Owns at most one feed; the feed's thread never touches a widget.

    Signals:
        inventory_changed(object, object): ``(inventory_version, list[TicketType])`` as the
            server published them (an empty list: a poll found the counts current).
        connection_changed(bool): ``True`` when the server answers again, ``False`` when it
            cannot be reached.
    """

    inventory_changed = Signal(object, object)
    connection_changed = Signal(bool)
    _feed_changed = Signal(object, object)  # emitted on the feed's thread, queued here
    _feed_state = Signal(bool)

    def __init__(self, factory: FeedFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._feed: FeedLike | None = None
        self.connected: bool | None = None
        self._feed_changed.connect(self._on_feed_changed, Qt.ConnectionType.QueuedConnection)
        self._feed_state.connect(self._on_feed_state, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self._feed is not None

    def start(self, since: int | None) -> None:
        """Start following changes after inventory version ``since`` (no-op when running)."""
        if self._feed is not None:
            return
        self._feed = self._factory(self._emit_changed, self._emit_state, since)
        self._feed.start()

    def stop(self) -> None:
        """Stop the feed (it closes its stream at once)."""
        feed, self._feed = self._feed, None
        self.connected = None
        if feed is not None:
            feed.stop(2.0)

    # The feed's thread calls these; the window (and this object) may close meanwhile, which
    # makes emitting raise RuntimeError ("Signal source has been deleted"): nothing to tell.
    def _emit_changed(self, version: int, ticket_types: list[TicketType]) -> None:
        with contextlib.suppress(RuntimeError):
            self._feed_changed.emit(version, ticket_types)

    def _emit_state(self, connected: bool) -> None:
        with contextlib.suppress(RuntimeError):
            self._feed_state.emit(connected)

    @Slot(object, object)
    def _on_feed_changed(self, version: object, ticket_types: object) -> None:
        if self._feed is not None:
            self.inventory_changed.emit(version, ticket_types)

    @Slot(bool)
    def _on_feed_state(self, connected: bool) -> None:
        if self._feed is not None and connected is not self.connected:
            self.connected = connected
            self.connection_changed.emit(connected)
