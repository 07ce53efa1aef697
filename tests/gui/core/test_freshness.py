"""The one rule for stale counts (pos_app.gui.core.freshness): older than 30 s with no live feed
connected; a read or a live change makes them fresh."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from pos_app.gui.core.freshness import STALE_AFTER_S, CountsFreshness


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_counts_go_stale_after_30_seconds_without_news_and_fresh_with_a_read(
        qtbot: QtBot) -> None:
    clock = FakeClock()
    live = {"up": False}
    freshness = CountsFreshness(lambda: live["up"], clock=clock)
    changes: list[bool] = []
    freshness.stale_changed.connect(changes.append)

    clock.now += STALE_AFTER_S
    freshness.check()
    assert not freshness.stale  # 30 s old: still current
    clock.now += 0.5
    freshness.check()
    freshness.check()
    assert freshness.stale and changes == [True]  # said once

    freshness.mark_fresh()  # a read answered
    assert not freshness.stale and changes == [True, False]


def test_a_connected_live_feed_keeps_the_counts_current(qtbot: QtBot) -> None:
    clock = FakeClock()
    live = {"up": True}
    freshness = CountsFreshness(lambda: live["up"], clock=clock)
    clock.now += 120  # nothing changed for two minutes: the feed would have said
    freshness.check()
    assert not freshness.stale
    live["up"] = False  # the feed dropped: the counts are as old as its last word
    clock.now += STALE_AFTER_S + 1
    freshness.check()
    assert freshness.stale
