"""The audit viewer's queries and the chain check against an in-process SQLite database:
every filter returns exactly the matching entries, keyset pages walk each entry once, and
an edited or deleted entry is found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pos_app import cli
from pos_app.api import schemas
from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import AuditEntry, AuditHead, StockAlert
from pos_app.server.services import audit_query
from pos_app.server.services.audit_query import AuditFilters
from pos_app.server.settings import SQLITE_FILENAME

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
ACTIONS = ["sale", "refund", "hold", "release", "capacity_increase", "shift_open"]
REFS = {"sale": "sale", "refund": "refund", "hold": "hold", "release": "hold",
        "shift_open": "shift"}
SIZE = 240


def _at(i: int) -> datetime:
    """A minute per entry, with the clock up to a minute out of order (still within the
    allowed skew): appends do not always arrive in the order their clocks were read."""
    return NOW + timedelta(minutes=i) - timedelta(seconds=30 * (i % 3))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _append_entries(session: Session) -> None:
    """``SIZE`` entries cycling through ``ACTIONS``, staff, terminals and shifts; each
    ticket type's counts follow on from entry to entry (one more sold each time)."""
    sold: dict[int, int] = {}
    for i in range(SIZE):
        action = ACTIONS[i % len(ACTIONS)]
        ref_type = REFS.get(action)
        tt = 1 + i % 7
        before = sold.get(tt, 0)
        if action != "shift_open":  # the one action here with no ticket type
            sold[tt] = before + 1
        audit.append(session, [audit.AuditRecord(
            action=action, staff_id=1 + i % 3, terminal_id=1 + i % 4,
            channel="box_office", shift_id=None if i % 5 == 0 else 1 + i % 2,
            approved_by=2 if action == "refund" else None,
            ticket_type_id=None if action == "shift_open" else tt,
            quantity=1 + i % 4, before=(100, before, 0), after=(100, before + 1, 0),
            ref_type=ref_type, ref_id=f"{ref_type}-{i:04d}" if ref_type else None,
            reason="Door sale" if i % 11 == 0 else f"note {i} 100%_done")], _at(i))


@pytest.fixture
def database(data_dir: Path, seeded: Callable[..., Database]) -> Database:
    data_dir.mkdir()
    return seeded(now=NOW, url=f"sqlite:///{data_dir / SQLITE_FILENAME}",
                  extra=_append_entries, data_dir=data_dir)


def _all(database: Database) -> list[AuditEntry]:
    with database.read() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _walk(database: Database, filters: AuditFilters, *, order: str = "asc",
          limit: int = 7) -> list[int]:
    seqs: list[int] = []
    cursor = None
    with database.read() as session:
        for _ in range(SIZE * 2):
            page = audit_query.list_entries(session, filters, limit=limit, cursor=cursor,
                                            order=order)  # type: ignore[arg-type]
            assert len(page.entries) <= limit
            seqs.extend(e.seq for e in page.entries)
            cursor = page.next_cursor
            if cursor is None:
                return seqs
    raise AssertionError("paging did not end")


FILTERS: list[tuple[AuditFilters, Callable[[AuditEntry], bool]]] = [
    (AuditFilters(), lambda e: True),
    (AuditFilters(terminal_id=2), lambda e: e.terminal_id == 2),
    (AuditFilters(staff_id=3), lambda e: e.staff_id == 3),
    (AuditFilters(shift_id=1), lambda e: e.shift_id == 1),
    (AuditFilters(action="refund"), lambda e: e.action == "refund"),
    (AuditFilters(ticket_type_id=4), lambda e: e.ticket_type_id == 4),
    (AuditFilters(from_=NOW + timedelta(minutes=50)), lambda e: e.at >= NOW + timedelta(
        minutes=50)),
    (AuditFilters(to=NOW + timedelta(minutes=100)), lambda e: e.at < NOW + timedelta(
        minutes=100)),
    (AuditFilters(from_=NOW + timedelta(minutes=30), to=NOW + timedelta(minutes=60)),
     lambda e: NOW + timedelta(minutes=30) <= e.at < NOW + timedelta(minutes=60)),
    (AuditFilters(q="door"), lambda e: "door" in (e.reason or "").lower()),
    (AuditFilters(q="sale-01"), lambda e: (e.ref_id or "").startswith("sale-01")),
    (AuditFilters(q="CAPACITY"), lambda e: e.action == "capacity_increase"),
    (AuditFilters(q="0%_"), lambda e: "0%_" in (e.reason or "")),
    (AuditFilters(q="1_0"), lambda e: False),  # _ is a literal, not a wildcard
    (AuditFilters(staff_id=1, action="sale", shift_id=2),
     lambda e: (e.staff_id, e.action, e.shift_id) == (1, "sale", 2)),
    (AuditFilters(terminal_id=9), lambda e: False),
]


@pytest.mark.parametrize(("filters", "matches"), FILTERS)
def test_each_filter_returns_exactly_the_matching_entries_in_both_orders(
        database: Database, filters: AuditFilters,
        matches: Callable[[AuditEntry], bool]) -> None:
    expected = [e.seq for e in _all(database) if matches(e)]
    assert _walk(database, filters) == expected
    assert _walk(database, filters, order="desc", limit=10) == expected[::-1]


def test_paging_walks_every_entry_exactly_once_in_both_orders(database: Database) -> None:
    every = list(range(1, SIZE + 1))
    for limit in (1, 7, 100, 1000):
        assert _walk(database, AuditFilters(), limit=limit) == every
        assert _walk(database, AuditFilters(), order="desc", limit=limit) == every[::-1]


def test_free_text_pages_scan_a_bounded_window_and_still_find_everything(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_query, "TEXT_WINDOW", 13)
    expected = [e.seq for e in _all(database) if "door" in (e.reason or "").lower()]
    assert _walk(database, AuditFilters(q="Door"), limit=3) == expected
    assert _walk(database, AuditFilters(q="door"), order="desc", limit=3) == expected[::-1]


def test_entries_have_the_contract_shape(database: Database) -> None:
    with database.read() as session:
        page = audit_query.list_entries(session, AuditFilters(action="refund"), limit=1)
    entry = page.entries[0].model_dump(mode="json")
    assert entry["actor"] == {"staff_id": 1 + 1 % 3, "terminal_id": 1 + 1 % 4,
                              "channel": "box_office"}
    assert entry["ref"] == {"refund_id": "refund-0001"}
    assert entry["before"] == {"capacity": 100, "sold": 0, "held": 0}  # its type's first
    assert entry["approved_by"] == 2
    assert len(entry["hash"]) == 64 and len(entry["prev_hash"]) == 64
    with database.read() as session:
        opened = audit_query.list_entries(session, AuditFilters(action="shift_open"), limit=1)
    assert opened.entries[0].ref == {"shift_id": "shift-0005"}


def test_a_cursor_is_only_good_for_its_own_order(database: Database) -> None:
    with database.read() as session:
        page = audit_query.list_entries(session, AuditFilters(), limit=5)
        assert page.next_cursor is not None
        with pytest.raises(ApiError) as refused:
            audit_query.list_entries(session, AuditFilters(), cursor=page.next_cursor,
                                     order="desc")
        assert refused.value.status == 422
        with pytest.raises(ApiError):
            audit_query.list_entries(session, AuditFilters(), cursor="not a cursor!")


def test_an_intact_log_verifies(database: Database) -> None:
    with database.read() as session:
        assert audit.verify(session) == (True, SIZE, None, None, 0)


def test_editing_an_entry_is_reported_at_its_seq(database: Database) -> None:
    with database.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 77)
                        .values(reason="nothing to see"))
    with database.read() as session:
        assert audit.verify(session) == (False, 77, 77, "hash", 0)


def test_deleting_an_entry_is_reported_at_the_next_seq(database: Database) -> None:
    with database.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 120))
    with database.read() as session:
        result = audit.verify(session)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 121, "hash")


def _append_moves(database: Database, *moves: tuple[str, tuple[int, int, int] | None,
                                                     tuple[int, int, int] | None]) -> int:
    """Append entries of ticket type 1 (``(action, before, after)``), each hashed properly
    into the chain; returns the seq of the first."""
    with database.write() as session:
        first = int(session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()))
                    or 0) + 1
        audit.append(session, [audit.AuditRecord(action=action, ticket_type_id=1, quantity=1,
                                                 before=before, after=after)
                               for action, before, after in moves], NOW)
    return first


def test_counts_that_do_not_follow_on_are_found_behind_an_intact_chain(
        database: Database) -> None:
    """An entry appended with a valid hash that does not start where ticket type 1's last
    change left it (the batch bug of issue 14) is reported as a counts problem."""
    cap, sold, held = _last_after(database)
    first = _append_moves(database, ("hold", (cap, sold, held), (cap, sold, held + 2)),
                          # a rung crossed by the hold repeats its counts: not a move
                          ("stock_alert", (cap, sold, held), (cap, sold, held + 2)),
                          ("sale", (cap, sold + 1, held + 2), (cap, sold + 2, held + 2)))
    with database.read() as session:
        assert audit.verify(session) == (False, SIZE + 3, first + 2, "counts", 0)


def test_count_breaks_from_before_the_check_are_counted_not_failed(
        database: Database) -> None:
    """Entries up to ``audit_head.counts_from_seq`` (the upgrade that brought the check)
    were written by a server that could break counts: reported as old breaks. A break right
    after them (the old entry left wrong counts) is old too; one among new entries fails."""
    first = _append_moves(database, ("sale", (100, 40, 0), (100, 41, 0)))
    with database.write() as session:
        session.execute(update(AuditHead).values(counts_from_seq=first))
    second = _append_moves(database, ("sale", (100, 45, 0), (100, 46, 0)),
                           ("sale", (100, 46, 0), (100, 47, 0)))
    with database.read() as session:
        assert audit.verify(session) == (True, SIZE + 3, None, None, 2)
    _append_moves(database, ("refund", (100, 40, 0), (100, 39, 0)))
    with database.read() as session:
        assert audit.verify(session) == (False, SIZE + 4, second + 2, "counts", 2)


def _last_after(database: Database) -> tuple[int, int, int]:
    with database.read() as session:
        row = session.execute(select(AuditEntry.after_capacity, AuditEntry.after_sold,
                                     AuditEntry.after_held)
                              .where(AuditEntry.ticket_type_id == 1)
                              .order_by(AuditEntry.seq.desc())).first()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _verify_cli(data_dir: Path, capsys: pytest.CaptureFixture[str],
                *extra: str) -> tuple[int, str]:
    code = cli.main(["audit", "verify", "--data-dir", str(data_dir), *extra])
    return code, capsys.readouterr().out


def test_the_verify_command_exits_0_when_intact_and_1_naming_the_bad_seq(
        database: Database, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _verify_cli(data_dir, capsys)
    assert code == 0 and f"{SIZE} entries" in out
    with database.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(quantity=99))
    code, out = _verify_cli(data_dir, capsys)
    assert code == 1 and "seq 5" in out
    code, out = _verify_cli(data_dir, capsys, "--json")
    assert code == 1
    assert out.strip() == ('{"ok": false, "entries_checked": 5, "first_bad_seq": 5, '
                           '"problem": "hash", "old_count_breaks": 0}')


def test_the_verify_command_refuses_a_missing_data_dir(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["audit", "verify", "--data-dir", str(tmp_path / "nowhere")])
    assert code == cli.EXIT_BAD_INPUT
    assert "no data folder" in capsys.readouterr().err


def test_alerts_are_listed_newest_last_since_a_seq(database: Database) -> None:
    with database.write() as session:
        session.execute(delete(AuditEntry))  # alerts need a ticket type: add one cheaply
    from pos_app.server.catalog import parse_catalog
    from pos_app.server.services import catalog_import

    with database.write() as session:
        catalog_import.import_catalog(session, parse_catalog({"events": [{
            "id": "gig", "name": "Gig", "venue": "Hall", "starts_at": "2026-03-14T19:30:00",
            "timezone": "America/Chicago", "currency": "USD",
            "ticket_types": [{"name": "GA", "price": 1, "capacity": 9}]}]}), now=NOW)
        session.add_all([StockAlert(at=NOW + timedelta(minutes=i), ticket_type_id=1,
                                    event_id="gig", level=level, available=level)
                         for i, level in enumerate([5, 2, 0])])
    with database.read() as session:
        every = audit_query.list_alerts(session, since=None)
        later = audit_query.list_alerts(session, since=every.alerts[0].seq)
        latest = audit_query.list_alerts(session, since=None, limit=2)
    assert [a.level for a in every.alerts] == [5, 2, 0]
    assert [a.level for a in later.alerts] == [2, 0]
    assert [a.level for a in latest.alerts] == [2, 0]
    assert isinstance(every, schemas.AlertsResponse)

