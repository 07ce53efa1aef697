"""Z-report and X-report: what the manager reads on a shift's report, read back from the PDF.

Also refreshes ``docs/screenshots/z-report.png`` and ``docs/screenshots/x-report.png`` when
poppler's ``pdftoppm`` is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pos_app.api.schemas import Shift
from pos_app.receipts.layout import PAGE_WIDTH
from pos_app.receipts.shift_report import (
    X_TITLE,
    Z_TITLE,
    render_shift_report,
    shift_report_filename,
    shift_report_from_shift,
    write_shift_report,
)
from tests.unit.receipts.samples import pages_of

OPENED = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # 5:00 PM in Chicago
CLOSED = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)  # 11:30 PM
PRINTED = datetime(2026, 3, 2, 5, 31, tzinfo=UTC)
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def wire_shift(**changes: Any) -> Shift:
    shift: dict[str, Any] = {
        "id": 12, "terminal_id": 3, "terminal_name": "Front desk 1", "status": "closed",
        "currency": "USD", "opening_float": 20_000, "opened_at": OPENED.isoformat(),
        "opened_by": 1, "opened_by_name": "Alex Rivera", "closed_at": CLOSED.isoformat(),
        "closed_by": 1, "closed_by_name": "Alex Rivera", "expected_cash": 31_250,
        "counted_cash": 30_000, "variance": -1_250, "note": "paid the courier from the drawer",
        "approved_by": 2, "approved_by_name": "Morgan Lee",
        "sales": {"count": 5, "amount": 17_500}, "refunds": {"count": 1, "amount": 2_500},
        "pay_ins": 1_000, "pay_outs": 750, "drops": 4_000,
        "ticket_types": [
            {"ticket_type_id": 1, "event_id": "e", "name": "GA", "tickets": 5, "amount": 12_500},
            {"ticket_type_id": 2, "event_id": "e", "name": "VIP", "tickets": 1,
             "amount": 5_000}],
        "holds": {"placed": 4, "active": 0, "converted": 2, "released": 1, "expired": 1},
        "first_sale_number": 41, "last_sale_number": 47,
        "cash_movements": [
            {"id": 1, "shift_id": 12, "kind": "pay_in", "amount": 1_000, "currency": "USD",
             "reason": "change from the safe", "created_at": OPENED.isoformat(),
             "staff_id": 1},
            {"id": 2, "shift_id": 12, "kind": "pay_out", "amount": 750, "currency": "USD",
             "reason": "courier", "created_at": OPENED.isoformat(), "staff_id": 1},
            {"id": 3, "shift_id": 12, "kind": "drop", "amount": 4_000, "currency": "USD",
             "reason": "to the safe", "created_at": OPENED.isoformat(), "staff_id": 1}]}
    return Shift.model_validate({**shift, **changes})


def rows_of(pdf: bytes) -> list[str]:
    """Each printed row top-down: the strings sharing a baseline, left to right, joined by
    one space (a row's label and its value come out as one line)."""
    [page] = pages_of(pdf)
    spans: dict[float, list[tuple[float, str]]] = {}

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            spans.setdefault(round(float(tm[5]), 1), []).append((float(tm[4]), text.strip()))

    page.extract_text(visitor_text=visit)
    return [" ".join(t for _, t in sorted(spans[y])) for y in sorted(spans, reverse=True)]


def report_rows(shift: Shift, zone: str = "America/Chicago") -> list[str]:
    data = shift_report_from_shift(shift, timezone=zone, printed_at=PRINTED)
    return rows_of(render_shift_report(data))


def test_a_z_report_shows_the_cash_up_and_every_section() -> None:
    lines = report_rows(wire_shift())
    assert lines[0] == Z_TITLE
    for expected in (
            "Shift 12", "Front desk 1",
            "Opened Sun 1 Mar 2026, 5:00 PM CST", "Opened by Alex Rivera",
            "Closed Sun 1 Mar 2026, 11:30 PM CST", "Closed by Alex Rivera",
            "Variance approved by Morgan Lee",
            "Opening float $200.00", "Cash sales (5) $175.00", "Cash refunds (1) -$25.00",
            "Pay-ins $10.00", "Pay-outs -$7.50", "Drops to safe -$40.00",
            "EXPECTED $312.50", "COUNTED $300.00", "VARIANCE (short) -$12.50",
            "Note: paid the courier from the drawer",
            "5 x GA $125.00", "1 x VIP $50.00",
            "Placed 4", "Converted to sales 2", "Released 1", "Expired 1",
            "First sale #000041", "Last sale #000047",
            "Pay-out Sun 1 Mar 2026, 5:00 PM CST $7.50", "courier",
            "Printed Sun 1 Mar 2026, 11:31 PM CST"):
        assert expected in lines, expected
    assert not [line for line in lines if line.startswith("Still active")]


def test_an_x_report_of_an_open_shift_never_shows_an_expected_amount() -> None:
    shift = wire_shift(status="open", closed_at=None, closed_by=None, closed_by_name=None,
                       expected_cash=None, counted_cash=None, variance=None, note=None,
                       approved_by=None, approved_by_name=None,
                       holds={"placed": 3, "active": 2, "converted": 1, "released": 0,
                              "expired": 0})
    lines = report_rows(shift)
    assert lines[0] == X_TITLE
    assert "Cash sales (5) $175.00" in lines and "Still active 2" in lines
    assert not [line for line in lines if line.startswith(("EXPECTED", "COUNTED", "VARIANCE",
                                                           "Closed"))]
    assert "Expected cash is shown at the close (blind count)." in lines


def test_a_blind_shift_as_a_cashier_reads_it_makes_no_report_rather_than_zeros() -> None:
    blind = wire_shift(status="open", closed_at=None, closed_by=None, expected_cash=None,
                       counted_cash=None, variance=None, blind=True, opening_float=None,
                       sales=None, refunds=None, pay_ins=None, pay_outs=None, drops=None,
                       ticket_types=None, cash_movements=None)
    with pytest.raises(ValueError, match="withheld while it is open"):
        shift_report_from_shift(blind, timezone="UTC", printed_at=PRINTED)


def test_a_shift_without_sales_says_so_and_times_follow_the_venue_zone() -> None:
    shift = wire_shift(first_sale_number=None, last_sale_number=None, ticket_types=[],
                       sales={"count": 0, "amount": 0}, cash_movements=[], variance=0,
                       counted_cash=31_250, approved_by=None, approved_by_name=None)
    lines = report_rows(shift, "Europe/London")
    assert "First sale none" in lines and "No tickets sold for cash." in lines
    assert "VARIANCE (balanced) $0.00" in lines
    assert "Opened Sun 1 Mar 2026, 11:00 PM GMT" in lines
    assert "CASH MOVEMENTS" not in lines


def test_the_report_is_one_roll_wide_page_saved_under_its_shift(tmp_path: Path) -> None:
    data = shift_report_from_shift(wire_shift(), timezone="America/Chicago",
                                   printed_at=PRINTED)
    [page] = pages_of(render_shift_report(data))
    assert float(page.mediabox.width) == pytest.approx(PAGE_WIDTH)
    path = write_shift_report(data, tmp_path)
    assert path.name == "z-report-shift-12.pdf" and path.read_bytes().startswith(b"%PDF")
    opened = shift_report_from_shift(wire_shift(status="open"), timezone="UTC",
                                     printed_at=PRINTED)
    assert shift_report_filename(opened) == "x-report-shift-12-20260302-053100.pdf"


def test_naive_times_and_unknown_zones_are_refused() -> None:
    with pytest.raises(ValueError, match="IANA"):
        shift_report_from_shift(wire_shift(), timezone="Mars/Olympus", printed_at=PRINTED)
    with pytest.raises(ValueError, match="aware"):
        shift_report_from_shift(wire_shift(), timezone="UTC",
                                printed_at=datetime(2026, 3, 2, 5, 31))


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm")
@pytest.mark.parametrize("status", ["closed", "open"])
def test_pictures_of_the_reports(status: str, tmp_path: Path) -> None:
    changes: dict[str, Any] = {} if status == "closed" else {
        "status": "open", "expected_cash": None, "counted_cash": None, "variance": None,
        "closed_at": None, "approved_by_name": None, "note": None}
    data = shift_report_from_shift(wire_shift(**changes), timezone="America/Chicago",
                                   printed_at=PRINTED)
    name = "z-report" if status == "closed" else "x-report"
    source = write_shift_report(data, tmp_path)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(source),
                    str(tmp_path / name)], check=True, capture_output=True, timeout=60)
    png = (tmp_path / f"{name}.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}.png").write_bytes(png)
