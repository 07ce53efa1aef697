"""Audit log exports read back: the CSV with the csv module, the PDF with pypdf's text
extraction; what a manager filed must say what it holds and whether the chain was whole."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from pos_app.api.schemas import AuditActor, AuditCounts, AuditEntry
from pos_app.domain.audit_words import ACTION_LABELS
from pos_app.receipts.audit_export import (
    CSV_COLUMNS,
    AuditNames,
    counts_text,
    ref_text,
    write_audit_csv,
    write_audit_pdf,
)

CHICAGO = ZoneInfo("America/Chicago")
NAMES = AuditNames(actions=ACTION_LABELS, ticket_types={7: "Balcony"}, staff={2: "Morgan Lee"})
T0 = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)  # 17:30 in Chicago (CDT starts 8 March)


def entry(seq: int, action: str = "sale", *, reason: str | None = None,
          ticket_type_id: int | None = 7, staff_id: int | None = 2,
          before: tuple[int, int, int] | None = (100, 4, 0),
          after: tuple[int, int, int] | None = (100, 5, 0)) -> AuditEntry:
    def counts(c: tuple[int, int, int] | None) -> AuditCounts | None:
        return None if c is None else AuditCounts(capacity=c[0], sold=c[1], held=c[2])

    return AuditEntry(
        seq=seq, at=T0 + timedelta(seconds=seq), action=action,
        actor=AuditActor(staff_id=staff_id, terminal_id=3, channel="box_office"),
        ticket_type_id=ticket_type_id, quantity=1, before=counts(before), after=counts(after),
        ref={"sale_id": f"s-{seq:04d}"}, reason=reason, prev_hash=f"{seq - 1:064x}",
        hash=f"{seq:064x}", shift_id=11, approved_by=None)


def read_csv(path: Path) -> tuple[list[list[str]], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    blank = rows.index([])
    assert tuple(rows[blank + 1]) == CSV_COLUMNS
    return rows[:blank], [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[blank + 2:]]


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages]


def test_counts_and_references_read_as_words() -> None:
    e = entry(1)
    assert counts_text(e.before, e.after) == "cap 100 · sold 4 → 5 · held 0"
    assert counts_text(None, None) == ""
    assert counts_text(None, e.after, arrow="->") == "cap 100 · sold 5 · held 0"
    assert ref_text({"sale_id": "abc"}) == "sale abc" and ref_text(None) == ""
    assert NAMES.action("capacity_increase") == "Capacity increase"
    assert NAMES.action("seat_move") == "Seat move"
    assert (NAMES.ticket_type(7), NAMES.ticket_type(8), NAMES.ticket_type(None)) == (
        "Balcony", "#8", "")


def test_the_csv_reads_back_with_every_field_and_the_header_on_top(tmp_path: Path) -> None:
    entries = [entry(3, "capacity_increase", reason="Balcony opened",
                     before=(100, 4, 0), after=(120, 4, 0)),
               entry(2, reason="=HYPERLINK(\"http://x\")", staff_id=9),
               entry(1, "login", ticket_type_id=None, before=None, after=None)]
    path = tmp_path / "audit.csv"
    written = write_audit_csv(entries, path, filters_text="action Sale; terminal 3",
                              chain_text="Chain verified: 3 entries", names=NAMES,
                              timezone=CHICAGO, note="Capped at 3 entries.",
                              exported_at=T0)
    assert written == 3
    preamble, rows = read_csv(path)
    assert preamble == [["Audit log export"], ["Filters", "action Sale; terminal 3"],
                        ["Chain", "Chain verified: 3 entries"],
                        ["Exported", "2026-03-14T18:30:00-05:00"],
                        ["Note", "Capped at 3 entries."]]
    assert [r["seq"] for r in rows] == ["3", "2", "1"]
    first = rows[0]
    assert first["time"] == "2026-03-14T18:30:03-05:00"
    assert (first["action"], first["action_label"], first["ticket_type"]) == (
        "capacity_increase", "Capacity increase", "Balcony")
    assert (first["before_capacity"], first["after_capacity"], first["after_sold"]) == (
        "100", "120", "4")
    assert (first["staff"], first["terminal_id"], first["shift_id"], first["ref"]) == (
        "Morgan Lee", "3", "11", "sale s-0003")
    assert first["hash"] == f"{3:064x}" and first["prev_hash"] == f"{2:064x}"
    # A reason a spreadsheet would run as a formula is written as text.
    assert rows[1]["reason"] == "'=HYPERLINK(\"http://x\")" and rows[1]["staff"] == "#9"
    assert rows[2]["ticket_type"] == "" and rows[2]["before_capacity"] == ""
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_the_pdf_has_filters_chain_repeated_headers_and_page_numbers(tmp_path: Path) -> None:
    entries = [entry(seq, reason="Customer ill " * (3 if seq % 7 == 0 else 1))
               for seq in range(120, 0, -1)]
    path = tmp_path / "audit.pdf"
    pages = write_audit_pdf(entries, path, filters_text="ticket type Balcony (#7)",
                            chain_text="Chain broken at entry #100", names=NAMES,
                            timezone=CHICAGO, first_bad_seq=100, exported_at=T0)
    texts = pdf_pages(path)
    assert pages == len(texts) >= 2
    assert "Audit log" in texts[0] and "Filters: ticket type Balcony (#7)" in texts[0]
    assert "Chain broken at entry #100" in texts[0]
    assert "times in America/Chicago" in texts[0] and "120 entries" in texts[0]
    for number, text in enumerate(texts, start=1):
        assert "Ticket type" in text and "Reason / reference" in text  # the header row
        assert f"Page {number} of {pages}" in text
    everything = "\n".join(texts)
    for seq in (120, 61, 1):
        assert f"\n{seq}\n" in everything
    assert "Balcony" in everything and "cap 100 · sold 4 -> 5 · held 0" in everything
    assert "2026-03-14 18:32:00" in everything  # seq 120, Chicago time
    assert "Morgan Lee" in everything and "sale s-0041" in everything


def test_an_empty_selection_says_so(tmp_path: Path) -> None:
    path = tmp_path / "none.pdf"
    assert write_audit_pdf([], path, filters_text="text \u201cnothing\u201d",
                           chain_text="Chain verified: 9 entries") == 1
    assert "No audit entries match these filters." in pdf_pages(path)[0]
    assert write_audit_csv([], tmp_path / "none.csv", filters_text="x", chain_text="y") == 0
    assert read_csv(tmp_path / "none.csv")[1] == []


def test_an_unwritable_folder_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_audit_csv([entry(1)], tmp_path / "missing" / "a.csv", filters_text="",
                        chain_text="")
    with pytest.raises(OSError):
        write_audit_pdf([entry(1)], tmp_path / "missing" / "a.pdf", filters_text="",
                        chain_text="")
