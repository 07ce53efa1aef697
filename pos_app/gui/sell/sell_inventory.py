"""Keeping the sell screen's events and counts current, and saying when they cannot be.

- **Reads**: ``register.events`` on a worker when the screen asks, every
  ``refresh_interval_ms`` while signed in, and every 3 s while the server is unreachable (so
  the outage banner clears by itself). One read at a time; asked during a read, another runs
  right after it.
- **Live updates**: a :class:`~pos_app.gui.core.live_inventory.LiveInventory`, started after a
  read from its ``inventory_version``, delivers fresh ticket types; they are applied to the
  event list, the tiles and the basket at once.
- **Stale**: the tiles and the event list's bars say their counts are stale once the newest
  are older than ``STALE_AFTER_S`` (:mod:`pos_app.gui.core.freshness`, the rule the dashboard
  follows too; a live feed that is up keeps them fresh).
- **Outage**: while the server is unreachable, a red banner (and the screen disables Charge).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from pos_app.api.schemas import EventsResponse
from pos_app.gui.core.banner import MessageBanner
from pos_app.gui.core.freshness import CountsFreshness
from pos_app.gui.core.live_inventory import LiveInventory
from pos_app.gui.core.ports import RegisterPort
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named
from pos_app.gui.sell.basket_model import BasketModel
from pos_app.gui.sell.event_list import EventList, EventListModel
from pos_app.gui.sell.ticket_tiles import TicketTileGrid

__all__ = ["OUTAGE", "PROBE_INTERVAL_MS", "SellInventory"]

OUTAGE = "Server unreachable - no sales until the connection is back"
PROBE_INTERVAL_MS = 3_000
"""While unreachable: how often the server is asked again."""


class SellInventory(QObject):
    """Reads, live updates, staleness and the outage banner (module docstring) for the
    screen's ``events_model`` (with ``event_list``), ``tiles`` and ``basket``. A read shows
    the events, keeps the event shown (else the basket's, else the first) selected and
    updates the basket's availability.

    ``signed_in()`` says whether a cashier is signed in (the live feed starts only then).
    :attr:`outage_banner` is for the screen to lay out.

    Signals:
        events_read(object): a read answered and was shown (``EventsResponse``).
        read_failed(object): a read raised this exception.
        connection_changed(bool): ``False`` when the outage banner appeared, ``True`` when
            it went (the server answers again).
        inventory_applied(object): live ticket-type updates were shown
            (``list[TicketType]``).
    """

    events_read = Signal(object)
    read_failed = Signal(object)
    connection_changed = Signal(bool)
    inventory_applied = Signal(object)

    def __init__(self, register: RegisterPort, runner: TaskRunner, events_model: EventListModel,
                 event_list: EventList, tiles: TicketTileGrid, basket: BasketModel, *,
                 live: LiveInventory | None,
                 signed_in: Callable[[], bool], refresh_interval_ms: int,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._register = register
        self._runner = runner
        self._events_model = events_model
        self._event_list = event_list
        self._tiles = tiles
        self._basket = basket
        self._signed_in = signed_in
        self._task: Task | None = None
        self._again = False
        self.live = live
        self.unreachable = False
        self.freshness = CountsFreshness(self._live_up, self)
        self.freshness.stale_changed.connect(self.on_freshness_stale_changed)
        self.outage_banner = named(MessageBanner(), "outageBanner")
        self.outage_banner.close_button.hide()
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(refresh_interval_ms)
        self.refresh_timer.timeout.connect(self.refresh)
        self._probe_timer = QTimer(self)
        self._probe_timer.setInterval(PROBE_INTERVAL_MS)
        self._probe_timer.timeout.connect(self.refresh)
        if live is not None:
            live.inventory_changed.connect(self.on_live_inventory_changed)
            live.connection_changed.connect(self.on_live_connection_changed)

    def start(self) -> None:
        """A cashier signed in: periodic reads (unless the interval is 0), staleness checks."""
        if self.refresh_timer.interval() > 0:
            self.refresh_timer.start()
        self.freshness.start()

    def stop(self) -> None:
        """Stop reading, checking and following the live feed (the session ended)."""
        self.refresh_timer.stop()
        self._probe_timer.stop()
        self.freshness.stop()
        if self.live is not None:
            self.live.stop()

    # --- reads --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read events and counts on a worker (coalesced while one read is running)."""
        if self._task is not None:
            self._again = True
            return
        self._task = self._runner.read(self._register.events)
        self._task.finished.connect(self.on_events_task_finished)
        self._task.failed.connect(self.on_events_task_failed)

    def on_events_task_finished(self, response: EventsResponse) -> None:
        self._task = None
        self.set_unreachable(False)
        if self.live is not None and self._signed_in():
            self.live.start(response.inventory_version)
        self.freshness.mark_fresh()
        shown = self._tiles.shown_event
        current = shown.id if shown is not None else None
        self._events_model.set_events(response.events)
        wanted = current or self._basket.event_id
        if wanted is None and response.events:
            wanted = response.events[0].id
        fresh = next((e for e in response.events if e.id == wanted), None)
        if fresh is not None:
            if self._event_list.currentIndex().row() != self._events_model.row_of(fresh.id):
                self._event_list.select_event(fresh.id)
            self._tiles.show_event(fresh)
        for event in response.events:
            self._basket.update_availability(event.ticket_types)
        self.events_read.emit(response)
        self._after_read()

    def on_events_task_failed(self, exc: BaseException) -> None:
        self._task = None
        self.read_failed.emit(exc)
        self._after_read()

    def _after_read(self) -> None:
        if self._again:
            self._again = False
            self.refresh()

    # --- live updates, staleness, outage ------------------------------------------------------

    def on_live_inventory_changed(self, _version: object, ticket_types: object) -> None:
        """Apply the server's fresh ticket types to the events, tiles and basket."""
        self.set_unreachable(False)
        fresh = {t.id: t for t in ticket_types} if isinstance(ticket_types, list) else {}
        if fresh:
            events = []
            for event in self._events_model.events:
                types = [fresh[t.id] if t.id in fresh and fresh[t.id].version >= t.version
                         else t for t in event.ticket_types]
                events.append(event.model_copy(update={"ticket_types": types}))
            self._events_model.set_events(events)
            shown = self._tiles.shown_event
            if shown is not None:
                updated = next((e for e in events if e.id == shown.id), None)
                if updated is not None:
                    self._tiles.show_event(updated)
            self._basket.update_availability(list(fresh.values()))
        self.freshness.mark_fresh()
        self.inventory_applied.emit(list(fresh.values()))

    def on_live_connection_changed(self, connected: bool) -> None:
        if connected:
            self.freshness.mark_fresh()
            self.refresh()  # re-read in full; the banner clears when it answers
        else:
            self.set_unreachable(True)

    @property
    def fresh_at(self) -> float:
        """``time.monotonic()`` when the newest counts arrived (tests age them)."""
        return self.freshness.fresh_at

    @fresh_at.setter
    def fresh_at(self, when: float) -> None:
        self.freshness.fresh_at = when

    @property
    def stale(self) -> bool:
        """``True`` while the tiles and the event list show their counts as stale."""
        return self.freshness.stale

    def _live_up(self) -> bool:
        return self.live is not None and self.live.connected is True and not self.unreachable

    def check_stale(self) -> None:
        """Mark the tiles and the event list stale when the newest counts are older than
        ``STALE_AFTER_S``."""
        self.freshness.check()

    def on_freshness_stale_changed(self, stale: bool) -> None:
        self._tiles.set_stale(stale)
        self._events_model.set_stale(stale)

    def set_unreachable(self, unreachable: bool) -> None:
        """Show or clear the outage banner (and probe the server while it shows); emits
        ``connection_changed`` when that changed."""
        if unreachable == self.unreachable:
            return
        self.unreachable = unreachable
        if unreachable:
            self.outage_banner.show_message(OUTAGE, "error")
            self._probe_timer.start()
        else:
            self.outage_banner.clear()
            self._probe_timer.stop()
        self.connection_changed.emit(not unreachable)
