"""The demo catalog (``serve --demo``, ``make run``) is dated from the day the demo starts:
its events always lie in the coming weeks, soonest first, under the ids scripts use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pos_app.domain.clock import FixedClock
from pos_app.server import admin
from pos_app.server.models import Event, TicketType

DEMO_IDS = ["grand-hall-2026-03-14", "dallas-jan-2026", "atlanta-feb-2026"]


def starts(data_dir: Path) -> dict[str, datetime]:
    """Each demo event's start in its venue's local time, by id."""
    with admin.open_database(str(data_dir)) as db, db.read() as session:
        return {e.id: e.starts_at.astimezone(ZoneInfo(e.timezone))
                for e in session.scalars(select(Event))}


def test_the_demo_events_come_in_the_three_weeks_after_the_demo_starts_grand_hall_first(
        tmp_path: Path) -> None:
    now = datetime(2031, 7, 9, 15, 0, tzinfo=UTC)  # a Wednesday
    assert admin.load_demo(str(tmp_path), clock=FixedClock(now)) is True

    shown = starts(tmp_path)
    assert sorted(shown, key=shown.__getitem__) == DEMO_IDS  # the window opens on the first
    assert all(now < at < now + timedelta(days=22) for at in shown.values())
    hall, dallas, atlanta = (shown[i] for i in DEMO_IDS)
    # Each keeps the weekday and local time of day the catalog gives it, a week apart.
    assert (hall.date().isoformat(), hall.strftime("%a %H:%M")) == ("2031-07-12", "Sat 19:30")
    assert (dallas.date().isoformat(), dallas.strftime("%a %H:%M")) == ("2031-07-20",
                                                                         "Sun 09:00")
    assert (atlanta.date().isoformat(), atlanta.strftime("%a %H:%M")) == ("2031-07-27",
                                                                           "Sun 09:00")


def test_an_event_is_never_dated_on_the_day_the_demo_starts(tmp_path: Path) -> None:
    saturday_morning = datetime(2031, 7, 12, 14, 0, tzinfo=UTC)
    admin.load_demo(str(tmp_path), clock=FixedClock(saturday_morning))
    assert starts(tmp_path)["grand-hall-2026-03-14"].date().isoformat() == "2031-07-19"


def test_a_demo_started_again_weeks_later_moves_its_past_events_and_keeps_the_counts(
        tmp_path: Path) -> None:
    clock = FixedClock(datetime(2031, 7, 9, 15, 0, tzinfo=UTC))
    admin.load_demo(str(tmp_path), clock=clock)
    with admin.open_database(str(tmp_path)) as db, db.write() as session:
        ga = session.scalars(select(TicketType).where(TicketType.name == "General Admission")
                             ).one()
        ga.sold = 3  # as sales would have left it
    clock.advance(timedelta(days=15))  # the Grand Hall and Dallas have been, Atlanta has not
    atlanta_before = starts(tmp_path)["atlanta-feb-2026"]

    assert admin.load_demo(str(tmp_path), clock=clock) is False  # nothing loaded again
    shown = starts(tmp_path)
    assert all(at > clock.now() for at in shown.values())
    assert shown["atlanta-feb-2026"] == atlanta_before
    assert shown["grand-hall-2026-03-14"].strftime("%a %H:%M") == "Sat 19:30"
    with admin.open_database(str(tmp_path)) as db, db.read() as session:
        assert session.scalars(select(TicketType.sold).where(
            TicketType.name == "General Admission")).one() == 3
        assert session.scalar(select(Event).where(Event.id == "dallas-jan-2026")) is not None
