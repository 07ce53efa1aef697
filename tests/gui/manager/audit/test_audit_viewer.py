"""The manager's audit log viewer against a real server: each filter shows exactly the
entries the server gives for it (fetched to the end directly), pages load as the list
scrolls, the chain status and a tampered row, exports of the filtered view, and sentences
instead of crashes for a cashier or a server that went away.

Also refreshes ``docs/screenshots/audit-viewer.png`` and ``audit-viewer-broken.png``.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from pos_app.api.schemas import AuditEntry, SaleLineIn
from pos_app.client import pair_terminal
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.manager.audit.audit_model import BROKEN_TOOLTIP, AuditTableModel
from pos_app.gui.manager.audit.audit_viewer import CHAIN_CHECKING, AuditViewer
from pos_app.journal import EntryState, Register, open_register
from pos_app.server import audit
from pos_app.server.models import AuditEntry as AuditRow
from tests.support.live_server import LiveServer, start_live_server

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"
WAIT = 20_000


@dataclass
class Story:
    """What one test did on the server, with the ids to filter by."""

    register: Register
    tag: str
    ga: int
    vip: int
    terminal_id: int
    staff_id: int
    shift_id: int
    started: datetime


def make_entries(live_server: LiveServer, register: Register) -> Story:
    """As the manager at a fresh terminal: sign in, open a shift, two sales, a capacity
    increase and decrease, a refund; reasons carry a unique tag."""
    tag = uuid.uuid4().hex[:8]
    started = datetime.now(UTC)
    event_id = live_server.small_event(capacity=20, types=("GA", "VIP"))
    session = register.sign_in("morgan", "2468")
    event = register.event(event_id)
    ga, vip = (tt.id for tt in event.ticket_types)
    opened = register.open_shift(10_000)
    assert opened.shift is not None
    sold = register.sell([SaleLineIn(ticket_type_id=ga, quantity=2)], 5000)
    assert sold.state is EntryState.CONFIRMED and sold.sale is not None
    assert register.sell([SaleLineIn(ticket_type_id=vip, quantity=1)], 2500).sale is not None
    for type_id, delta, reason in ((ga, 5, f"Balcony opened {tag}"),
                                   (vip, -2, f"Stage moved {tag}")):
        assert register.manager.change_capacity(type_id, delta, reason).state \
            is EntryState.CONFIRMED
    refund = register.refund(sold.sale.id, reason=f"Customer ill {tag}")
    assert refund.state is EntryState.CONFIRMED, refund.message
    return Story(register, tag, ga, vip, register.config.terminal_id, session.staff.id,
                 opened.shift.id, started)


def append_counts_break(server: LiveServer, story: Story) -> int:
    """Append to ``server``'s log, with a valid hash, a GA sale at ``story``'s terminal whose
    before-counts are 5 sold more than GA's last change left; its seq."""
    database = server.open_database()  # its audit key: the entry is validly chained
    try:
        with database.write() as session:
            last = session.execute(
                select(AuditRow.after_capacity, AuditRow.after_sold, AuditRow.after_held)
                .where(AuditRow.ticket_type_id == story.ga, AuditRow.action != "stock_alert")
                .order_by(AuditRow.seq.desc())).first()
            assert last is not None
            capacity, sold, held = (int(v) for v in last)
            audit.append(session, [audit.AuditRecord(
                action="sale", terminal_id=story.terminal_id, ticket_type_id=story.ga,
                quantity=1, before=(capacity, sold + 5, held),
                after=(capacity, sold + 6, held))], datetime.now(UTC))
            return int(session.scalar(select(func.max(AuditRow.seq))) or 0)
    finally:
        database.dispose()


def direct(register: Register, filters: Mapping[str, Any], order: str = "desc") -> list[int]:
    """The seqs the server gives for ``filters``, every page."""
    seqs: list[int] = []
    cursor = None
    while True:
        page = register.manager.audit_page(dict(filters), limit=50, cursor=cursor,
                                           order=order)  # type: ignore[arg-type]
        seqs.extend(e.seq for e in page.entries)
        cursor = page.next_cursor
        if cursor is None:
            return seqs


def shown(qtbot: QtBot, viewer: AuditViewer) -> list[AuditEntry]:
    """Every entry of the viewer's query, scrolling to the end as a manager would."""
    model = viewer.model
    qtbot.waitUntil(lambda: model.loaded and not model.loading, timeout=WAIT)
    while not model.at_end:
        assert model.error is None, model.error
        rows = model.rowCount()
        viewer.table.scrollToBottom()
        model.fetchMore()  # what the view does when the last row shows
        qtbot.waitUntil(lambda rows=rows: model.at_end or (model.rowCount() > rows
                                                           and not model.loading),
                        timeout=WAIT)
    return list(model.rows())


def open_viewer(qtbot: QtBot, register: Register, runner: TaskRunner, *,
                page_size: int = 100) -> AuditViewer:
    viewer = AuditViewer(register, runner, timezone="America/Chicago", page_size=page_size)
    qtbot.addWidget(viewer)
    viewer.resize(1280, 800)
    with qtbot.waitSignal(viewer.chain_checked, timeout=WAIT):
        viewer.show()
        qtbot.waitExposed(viewer)
    qtbot.waitUntil(lambda: viewer.model.loaded and not viewer.model.loading, timeout=WAIT)
    return viewer


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    assert tasks.wait_idle()


def test_each_filter_shows_exactly_the_matching_entries(
        qtbot: QtBot, styled_app: object, live_server: LiveServer, register: Register,
        runner: TaskRunner, qtmodeltester: Any) -> None:
    story = make_entries(live_server, register)
    viewer = open_viewer(qtbot, register, runner)
    qtmodeltester.check(viewer.model)
    assert viewer.chain_text.startswith("Chain verified: ")
    assert viewer.chain_label.property("state") == "ok"
    assert viewer.table.accessibleName() and viewer.filter_bar.search_edit.accessibleName()

    # (filters as the bar sets them, a check of each row, the actions known to match)
    mine = ["refund", "capacity_decrease", "capacity_increase", "sale", "sale", "shift_open",
            "login"]
    cases: list[tuple[dict[str, Any], Any, list[str] | None]] = [
        ({"terminal_id": story.terminal_id},
         lambda e: e.actor.terminal_id == story.terminal_id, mine),
        ({"ticket_type_id": story.ga}, lambda e: e.ticket_type_id == story.ga,
         ["refund", "capacity_increase", "sale", "capacity_increase"]),
        ({"action": "capacity_decrease"}, lambda e: e.action == "capacity_decrease", None),
        ({"staff_id": story.staff_id}, lambda e: e.actor.staff_id == story.staff_id, None),
        ({"shift_id": story.shift_id}, lambda e: e.shift_id == story.shift_id,
         ["refund", "sale", "sale", "shift_open"]),
        ({"q": story.tag}, lambda e: story.tag in (e.reason or ""),
         ["refund", "capacity_decrease", "capacity_increase"]),
        ({"from": story.started - timedelta(minutes=1),
          "to": datetime.now(UTC) + timedelta(minutes=2)}, None, None),
        ({"action": "sale", "terminal_id": story.terminal_id},
         lambda e: e.action == "sale" and e.actor.terminal_id == story.terminal_id,
         ["sale", "sale"]),
    ]
    for filters, check, known in cases:
        viewer.set_filters(**filters)
        entries = shown(qtbot, viewer)
        sent = viewer.model.filters  # the bar's own (dates to the minute)
        assert [e.seq for e in entries] == direct(register, sent), filters
        if check is not None:
            assert all(check(e) for e in entries), filters
        if known is not None:  # these filters isolate this test's own entries
            assert [e.action for e in entries] == known, filters
        if "from" in sent:
            start, end = sent["from"], sent["to"]
            assert all(start <= e.at < end for e in entries)
            assert {s for s in direct(register, {"terminal_id": story.terminal_id})} <= {
                e.seq for e in entries}
    assert viewer.status_label.text().startswith("All 2 matching entries shown")

    # Oldest first: the # header click flips the order; the same entries, reversed.
    viewer.set_filters(terminal_id=story.terminal_id)
    newest = [e.seq for e in shown(qtbot, viewer)]
    header = viewer.table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionPosition(AuditTableModel.SEQ) + 10, 10))
    assert viewer.model.order == "asc" and viewer.filter_bar.order == "asc"
    assert [e.seq for e in shown(qtbot, viewer)] == newest[::-1]
    viewer.filter_bar.set_order("desc")

    # Typing in the search box is debounced, then filters; no match says so.
    qtbot.keyClicks(viewer.filter_bar.search_edit, f"nothing-{story.tag}")
    assert viewer.model.filters.get("q") is None  # not yet: the user may still be typing
    qtbot.waitUntil(lambda: viewer.model.filters.get("q") == f"nothing-{story.tag}",
                    timeout=WAIT)
    shown(qtbot, viewer)
    assert viewer.model.rowCount() == 0
    assert viewer.pages.currentWidget() is viewer.placeholder
    assert viewer.placeholder.text() == "No audit entries match these filters."


def test_pages_load_as_the_list_scrolls_and_the_detail_shows_every_field(
        qtbot: QtBot, styled_app: object, live_server: LiveServer, register: Register,
        runner: TaskRunner) -> None:
    story = make_entries(live_server, register)
    viewer = open_viewer(qtbot, register, runner, page_size=3)
    total = direct(register, {})
    qtbot.wait(300)  # the view fills its height, then stops asking
    rows = viewer.model.rowCount()
    assert 3 <= rows < len(total) and viewer.model.canFetchMore()
    assert rows % 3 == 0  # whole pages only
    viewer.table.scrollToBottom()
    qtbot.waitUntil(lambda: viewer.model.rowCount() > rows, timeout=WAIT)
    assert [e.seq for e in viewer.model.rows()] == total[:viewer.model.rowCount()]

    viewer.set_filters(terminal_id=story.terminal_id)
    qtbot.waitUntil(lambda: viewer.model.at_end, timeout=WAIT)
    viewer.table.selectRow(1)  # the capacity decrease
    detail = viewer.detail.text.toPlainText()
    entry = viewer.model.entry(1)
    assert entry is not None and entry.action == "capacity_decrease"
    for text in ("Capacity decrease (capacity_decrease)", "VIP", f"Stage moved {story.tag}",
                 entry.hash, entry.prev_hash, "Morgan Lee", "capacity 20, sold 1, held 0",
                 "capacity 18, sold 1, held 0"):
        assert text in detail
    assert viewer.model.index(1, AuditTableModel.COUNTS).data() == "cap 20 → 18 · sold 1 · held 0"
    assert viewer.model.index(1, AuditTableModel.ACTION).data() == "Capacity decrease"
    assert viewer.model.index(1, AuditTableModel.TICKET_TYPE).data() == "VIP"
    assert viewer.model.index(1, AuditTableModel.STAFF).data() == "Morgan Lee"
    qtbot.wait(50)
    viewer.grab().save(str(SCREENSHOTS / "audit-viewer.png"))


class GatedDesk:
    """The register's real manager desk, holding back pages for ``action=sale`` until
    ``gate`` is set (to make a slow answer of an older query arrive late); counts calls."""

    def __init__(self, desk: Any) -> None:
        self.desk = desk
        self.gate = threading.Event()
        self.calls: list[dict[str, Any]] = []

    def audit_page(self, filters: Any = None, **options: Any) -> Any:
        self.calls.append({**(filters or {}), "cursor": options.get("cursor")})
        if (filters or {}).get("action") == "sale":
            self.gate.wait(20)
        return self.desk.audit_page(filters, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.desk, name)


def test_an_older_querys_late_page_is_dropped_and_one_request_is_in_flight(
        qtbot: QtBot, live_server: LiveServer, register: Register, runner: TaskRunner,
        qtmodeltester: Any) -> None:
    story = make_entries(live_server, register)
    desk = GatedDesk(register.manager)
    model = AuditTableModel(desk, runner, page_size=4)  # type: ignore[arg-type]
    qtmodeltester.check(model)
    model.set_query({"action": "sale"})  # held back by the gate
    qtbot.waitUntil(lambda: len(desk.calls) == 1, timeout=WAIT)
    for _ in range(5):
        model.fetchMore()  # the view asking while a page is in flight: nothing more is sent
    qtbot.wait(100)
    assert len(desk.calls) == 1 and model.loading
    with qtbot.waitSignal(model.first_page_loaded, timeout=WAIT):
        model.set_query({"terminal_id": story.terminal_id})
    desk.gate.set()  # the old query's page now arrives, late
    assert runner.wait_idle()
    expected = direct(register, {"terminal_id": story.terminal_id})[:4]
    assert [e.seq for e in model.rows()] == expected
    assert all(e.actor.terminal_id == story.terminal_id for e in model.rows())
    while model.canFetchMore():
        with qtbot.waitSignal(model.page_loaded, timeout=WAIT):
            model.fetchMore()
    assert [e.seq for e in model.rows()] == direct(register,
                                                   {"terminal_id": story.terminal_id})
    mine = [c["cursor"] for c in desk.calls if "terminal_id" in c]
    assert len(mine) == 2 and mine[0] is None  # 7 entries: two pages of 4, each asked once


def read_csv(path: Path) -> tuple[list[list[str]], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    blank = rows.index([])
    header = rows[blank + 1]
    return rows[:blank], [dict(zip(header, row, strict=True)) for row in rows[blank + 2:]]


def test_exports_hold_the_filtered_view_with_filters_and_chain_on_top(
        qtbot: QtBot, styled_app: object, live_server: LiveServer, register: Register,
        runner: TaskRunner, tmp_path: Path) -> None:
    story = make_entries(live_server, register)
    viewer = open_viewer(qtbot, register, runner)
    viewer.set_filters(terminal_id=story.terminal_id)
    expected = direct(register, {"terminal_id": story.terminal_id})

    with qtbot.waitSignal(viewer.export_finished, timeout=WAIT):
        viewer.export("csv", tmp_path / "audit.csv")
    preamble, rows = read_csv(tmp_path / "audit.csv")
    assert [int(r["seq"]) for r in rows] == expected
    assert ["Filters", f"terminal {story.terminal_id}"] in preamble
    assert ["Chain", viewer.chain_text] in preamble and "Chain verified" in viewer.chain_text
    decrease = next(r for r in rows if r["action"] == "capacity_decrease")
    assert (decrease["action_label"], decrease["ticket_type"], decrease["before_capacity"],
            decrease["after_capacity"], decrease["staff"]) == (
        "Capacity decrease", "VIP", "20", "18", "Morgan Lee")
    assert viewer.status_label.text().startswith(f"Exported {len(expected)} entries")

    with qtbot.waitSignal(viewer.export_finished, timeout=WAIT):
        viewer.export("pdf", tmp_path / "audit.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(
        io.BytesIO((tmp_path / "audit.pdf").read_bytes())).pages)
    assert f"Filters: terminal {story.terminal_id}" in text and "Chain verified" in text
    assert f"Stage moved {story.tag}" in text and "Page 1 of 1" in text

    with qtbot.waitSignal(viewer.export_finished, timeout=WAIT):
        viewer.export("csv", tmp_path / "capped.csv", cap=3)
    preamble, rows = read_csv(tmp_path / "capped.csv")
    assert [int(r["seq"]) for r in rows] == expected[:3]
    assert any(r[0] == "Note" and "Capped at 3 entries" in r[1] for r in preamble)

    with qtbot.waitSignal(viewer.export_cancelled, timeout=WAIT):
        job = viewer.export("pdf", tmp_path / "never.pdf")
        assert job is not None
        viewer.cancel_export()
    assert not (tmp_path / "never.pdf").exists()
    assert viewer.csv_button.isEnabled()


def test_a_tampered_row_breaks_the_chain_there_and_errors_are_sentences(
        qtbot: QtBot, styled_app: object, tmp_path: Path, pos_home: Path,
        runner: TaskRunner) -> None:
    (tmp_path / "srv").mkdir()
    with start_live_server(tmp_path / "srv") as server:
        pair_terminal(server.base_url, server.add_terminal("Audit desk"),
                      ca_file=server.ca_file)
        with open_register() as register:
            story = make_entries(server, register)
            changed = register.manager.audit_page({"q": f"Balcony opened {story.tag}"})
            (target,) = changed.entries
            with sqlite3.connect(server.data_dir / "pos.sqlite3") as db:
                db.execute("UPDATE audit_log SET reason = ? WHERE seq = ?",
                           ("Balcony opened (edited)", target.seq))

            viewer = AuditViewer(register, runner, timezone="America/Chicago")
            qtbot.addWidget(viewer)
            viewer.resize(1280, 800)
            assert viewer.chain_text == CHAIN_CHECKING
            with qtbot.waitSignal(viewer.chain_checked, timeout=WAIT):
                viewer.show()
            assert viewer.chain_text == f"Chain broken at entry #{target.seq}"
            assert viewer.chain_label.property("state") == "broken"
            viewer.set_filters(terminal_id=story.terminal_id)
            entries = shown(qtbot, viewer)
            model = viewer.model
            for row, entry in enumerate(entries):
                index = model.index(row, AuditTableModel.ACTION)
                broken = entry.seq >= target.seq
                assert index.data(AuditTableModel.BROKEN_ROLE) is broken
                assert (index.data(Qt.ItemDataRole.ToolTipRole) == BROKEN_TOOLTIP) is broken
            row = next(r for r, e in enumerate(entries) if e.seq == target.seq)
            viewer.table.selectRow(row)
            assert "The hash chain breaks at this entry" in viewer.detail.text.toPlainText()
            qtbot.wait(50)
            viewer.grab().save(str(SCREENSHOTS / "audit-viewer-broken.png"))

            with qtbot.waitSignal(viewer.export_finished, timeout=WAIT):
                viewer.export("csv", tmp_path / "broken.csv")
            preamble, _ = read_csv(tmp_path / "broken.csv")
            assert ["Chain", f"Chain broken at entry #{target.seq}"] in preamble

            # The row put back, and a change appended with a valid hash whose counts do not
            # start where GA's last change left them: a counts problem at that entry alone.
            with sqlite3.connect(server.data_dir / "pos.sqlite3") as db:
                db.execute("UPDATE audit_log SET reason = ? WHERE seq = ?",
                           (target.reason, target.seq))
            odd = append_counts_break(server, story)
            with qtbot.waitSignal(viewer.chain_checked, timeout=WAIT):
                viewer.verify()
            assert viewer.chain_text == f"Counts do not follow on at entry #{odd}"
            viewer.reload()
            entries = shown(qtbot, viewer)
            for row, entry in enumerate(entries):
                index = model.index(row, AuditTableModel.ACTION)
                assert index.data(AuditTableModel.BROKEN_ROLE) is (entry.seq == odd)
            viewer.table.selectRow(next(r for r, e in enumerate(entries) if e.seq == odd))
            assert "are not the counts the previous change" in viewer.detail.text.toPlainText()

            server.stop()  # the server goes away: a sentence, a Retry, no crash
            with qtbot.waitSignal(viewer.load_failed, timeout=WAIT):
                viewer.reload()
            assert viewer.placeholder.text().startswith("Cannot reach the server")
            assert viewer.retry_button.isVisible()
            with qtbot.waitSignal(viewer.chain_checked, timeout=2000, raising=False):
                viewer.verify()
            qtbot.waitUntil(lambda: viewer.verify_button.isEnabled(), timeout=WAIT)
            assert viewer.chain_text == "Chain not checked: the server cannot be reached."


def test_a_cashier_is_told_only_a_manager_may_read_it(
        qtbot: QtBot, styled_app: object, register: Register, runner: TaskRunner) -> None:
    register.sign_in("alex", "1234")
    viewer = AuditViewer(register, runner)
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.load_failed, timeout=WAIT):
        viewer.show()
    assert viewer.placeholder.text() == ("Only a manager can read the audit log. Sign in as a "
                                         "manager to review it.")
    qtbot.waitUntil(lambda: viewer.verify_button.isEnabled(), timeout=WAIT)
    assert viewer.chain_text == "Chain not checked: only a manager can check it."
