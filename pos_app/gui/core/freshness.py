"""Whether the counts on screen are current: one rule for every place that shows them (the
sell screen's tiles and event list, the manager's dashboard).

Counts are *stale* once the newest are older than :data:`STALE_AFTER_S` (30 s): a read that
answered or a live change makes them fresh, and so does a live feed that is connected (it
would have said if anything changed). With the feed down and the reads failing, nothing
makes them fresh, and 30 s later every place that shows them says so the same way: the
stock level gives way to :data:`STALE_TEXT` on a slate badge (:data:`STALE_BADGE_COLOUR`)
and the numbers are greyed (:data:`STALE_NUMBER_COLOUR`), as on the tiles
(``resources/styles/pos.qss``, ``[stale="true"]``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

__all__ = ["STALE_AFTER_S", "STALE_BADGE_COLOUR", "STALE_NUMBER_COLOUR", "STALE_TEXT",
           "CountsFreshness"]

STALE_AFTER_S = 30.0
STALE_TEXT = "Not current"
"""What replaces the stock level while the counts are stale."""
STALE_BADGE_COLOUR = "#475569"
"""Background of the :data:`STALE_TEXT` badge (white text)."""
STALE_NUMBER_COLOUR = "#94a3b8"
"""Colour of counts that are stale."""


class CountsFreshness(QObject):
    """How old the counts shown are, checked every second between :meth:`start` and
    :meth:`stop`. ``live_up()`` says whether a live feed is connected now (then the counts
    are current); ``clock`` gives seconds (``time.monotonic``; tests pass their own).

    Signals:
        stale_changed(bool): the counts became stale (``True``) or fresh again.
    """

    stale_changed = Signal(bool)

    def __init__(self, live_up: Callable[[], bool], parent: QObject | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._live_up = live_up
        self._clock = clock
        self.fresh_at = clock()
        """``clock()`` when the newest counts arrived."""
        self.stale = False
        self._timer = QTimer(self)
        self._timer.setInterval(1_000)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        """Check every second (the counts' place is on screen)."""
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def mark_fresh(self) -> None:
        """Counts just arrived (a read answered, a live change or poll came in)."""
        self.fresh_at = self._clock()
        self.check()

    def check(self) -> None:
        """Decide whether the counts are stale now; emits ``stale_changed`` when that
        changed."""
        now = self._clock()
        if self._live_up():
            self.fresh_at = now
        stale = now - self.fresh_at > STALE_AFTER_S
        if stale != self.stale:
            self.stale = stale
            self.stale_changed.emit(stale)
