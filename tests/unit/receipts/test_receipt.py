"""Receipt PDFs: what a customer reads on them, the paper they take, and their QR codes."""

from __future__ import annotations

import io
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
import segno
from reportlab.pdfbase.pdfmetrics import stringWidth

from pos_app.receipts import (
    PAGE_WIDTH,
    ReceiptData,
    qr_runs,
    receipt_filename,
    receipt_from_sale,
    render_receipt,
    write_receipt,
)
from pos_app.receipts.qr import qr_matrix, trace_runs
from tests.unit.receipts.samples import MM, as_lists, wire_event, wire_sale

CODES = ("GA7K-3QX9-PL2M-8HTR", "VIP2-M4ZT-9QKD-77XA", "GA7K-4MZ2-RT8N-1QWE")


def make_receipt(tickets: int = 2, **changes: Any) -> ReceiptData:
    codes = CODES[:tickets]
    data = ReceiptData(
        venue="The Grand Hall, Chicago IL",
        event_name="Harbour Lights - Live at the Grand Hall",
        event_starts_at=datetime(2026, 1, 26, 2, 0, tzinfo=UTC),
        timezone="America/Chicago",
        sale_number=42,
        sale_created_at=datetime(2026, 1, 25, 15, 0, tzinfo=UTC),
        lines=(("General Admission", tickets, 4500, 4500 * tickets),),
        total=4500 * tickets,
        currency="USD",
        tendered=10000,
        change=10000 - 4500 * tickets,
        staff_name="Maria Lopez",
        terminal_name="Box Office 1",
        tickets=tuple((code, "General Admission") for code in codes),
    )
    return replace(data, **changes)


def page_of(pdf: bytes) -> pypdf.PageObject:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0]


def text_of(pdf: bytes) -> str:
    return page_of(pdf).extract_text()


def qr_symbols_in(pdf: bytes) -> list[list[list[int]]]:
    """Module matrices rebuilt from the filled rectangles of each QR path in the PDF."""
    content = page_of(pdf).get_contents().get_data().decode("latin-1")
    symbols = []
    for path in re.findall(r" cm\s+0 g\s+n ((?:[\d.]+ [\d.]+ [\d.]+ [\d.]+ re\s*)+)f", content):
        rects = [tuple(int(v) for v in r) for r in re.findall(r"(\S+) (\S+) (\S+) (\S+) re", path)]
        size = max(x + w for x, _, w, _ in rects)
        matrix = [[0] * size for _ in range(size)]
        for x, y, w, h in rects:
            for row in range(y, y + h):
                for col in range(x, x + w):
                    matrix[row][col] = 1
        symbols.append(matrix)
    return symbols


# --- what the customer reads -------------------------------------------------------------------


def test_receipt_shows_sale_venue_event_money_staff_terminal_and_every_ticket_code() -> None:
    text = text_of(render_receipt(make_receipt(2)))

    for expected in (
        "Sale #000042",
        "The Grand Hall, Chicago IL",
        "Harbour Lights - Live at the Grand Hall",
        "$90.00",
        "Cash tendered",
        "$100.00",
        "Change due",
        "$10.00",
        "Maria Lopez",
        "Box Office 1",
        *CODES[:2],
        "Keep this receipt - each QR code admits one",
    ):
        assert expected in text
    assert "2 x General Admission @ $45.00" in text


def test_times_are_printed_in_the_venues_zone_not_utc() -> None:
    text = text_of(render_receipt(make_receipt()))

    assert "Sun 25 Jan 2026, 9:00 AM CST" in text  # the sale, 15:00 UTC
    assert "Sun 25 Jan 2026, 8:00 PM CST" in text  # the event, 02:00 UTC next day
    assert "3:00 PM" not in text


def test_summer_times_show_daylight_saving_abbreviation() -> None:
    summer = datetime(2026, 7, 4, 23, 30, tzinfo=UTC)
    text = text_of(render_receipt(make_receipt(sale_created_at=summer)))

    assert "Sat 4 Jul 2026, 6:30 PM CDT" in text


def test_reprint_banner_appears_only_on_reprints() -> None:
    assert "REPRINT" not in text_of(render_receipt(make_receipt()))
    assert "REPRINT" in text_of(render_receipt(make_receipt(reprint=True)))


def test_a_sale_paid_elsewhere_shows_no_cash_lines() -> None:
    text = text_of(render_receipt(make_receipt(tendered=None, change=None)))

    assert "Cash tendered" not in text
    assert "Change due" not in text
    assert "Paid online" in text


# --- the paper ---------------------------------------------------------------------------------


def test_page_is_80_mm_wide() -> None:
    box = page_of(render_receipt(make_receipt())).mediabox

    assert float(box.width) == pytest.approx(226.77, abs=0.01)
    assert pytest.approx(80 * MM) == PAGE_WIDTH


def test_page_grows_with_the_number_of_tickets() -> None:
    heights = [float(page_of(render_receipt(make_receipt(n))).mediabox.height) for n in (1, 2, 3)]

    assert heights[0] < heights[1] < heights[2]
    assert heights[0] < 150 * MM  # a one-ticket receipt stays short: no wasted paper


def test_every_line_of_text_fits_between_the_margins_even_for_long_names() -> None:
    data = make_receipt(
        event_name="An Extraordinarily Long Evening of Chamber Music, Poetry and Light "
        "- Twenty-Fifth Anniversary Gala Performance",
        venue="The Grand Hall and Conservatory of the Performing Arts, Chicago IL",
        lines=(("Premium Balcony Seating with Complimentary Programme", 2, 19900, 39800),),
        total=39800,
        tendered=40000,
        change=200,
        staff_name="Maximiliana Alexandra Featherstonehaugh-Worthington",
    )
    page = page_of(render_receipt(data))
    spans: list[tuple[float, float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        text = text.strip()  # pypdf adds spaces and newlines between shown strings
        if text:
            width = stringWidth(text, str(font["/BaseFont"]).lstrip("/"), size)
            spans.append((tm[4], tm[4] + width, text))

    page.extract_text(visitor_text=visit)

    assert spans
    for left, right, text in spans:
        assert left >= 4 * MM - 0.01, text
        assert right <= PAGE_WIDTH - 4 * MM + 0.01, text
    words = " ".join(text for _, _, text in spans)
    for word in ("Twenty-Fifth", "Gala", "Performance", "Featherstonehaugh-Worthington"):
        assert word in words


# --- QR codes ----------------------------------------------------------------------------------


def test_expanding_the_runs_gives_back_segnos_matrix_exactly() -> None:
    for code in (*CODES, "A", "x" * 300):
        matrix = segno.make_qr(code, error="m").matrix
        rebuilt = [[0] * len(matrix) for _ in matrix]
        for row, start, length in qr_runs(matrix):
            assert length > 0
            for col in range(start, start + length):
                assert rebuilt[row][col] == 0  # runs never overlap
                rebuilt[row][col] = 1

        assert rebuilt == as_lists(matrix)


def test_runs_are_maximal_so_each_row_segment_is_one_rectangle() -> None:
    runs = qr_runs([b"\x01\x01\x00\x01", b"\x00\x00\x00\x00", b"\x01\x01\x01\x01"])

    assert runs == [(0, 0, 2), (0, 3, 1), (2, 0, 4)]


def test_drawing_routine_rectangles_rebuild_the_codes_matrix() -> None:
    class RecordingPath:
        def __init__(self) -> None:
            self.rects: list[tuple[float, float, float, float]] = []

        def rect(self, x: float, y: float, width: float, height: float) -> None:
            self.rects.append((x, y, width, height))

    matrix = qr_matrix(CODES[0])
    path = RecordingPath()
    trace_runs(path, qr_runs(matrix))
    rebuilt = [[0] * len(matrix) for _ in matrix]
    for x, y, width, height in path.rects:
        for row in range(int(y), int(y + height)):
            for col in range(int(x), int(x + width)):
                rebuilt[row][col] = 1

    assert rebuilt == as_lists(segno.make_qr(CODES[0], error="m").matrix)


def test_each_ticket_qr_in_the_pdf_encodes_that_tickets_code() -> None:
    symbols = qr_symbols_in(render_receipt(make_receipt(3)))

    assert symbols == [as_lists(segno.make_qr(code, error="m").matrix) for code in CODES]


# --- files -------------------------------------------------------------------------------------


def test_write_receipt_saves_the_pdf_under_the_sale_number_and_returns_its_path(
    tmp_path: Path,
) -> None:
    data = make_receipt()

    path = write_receipt(data, tmp_path)

    assert path == tmp_path / "receipt-000042.pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    assert "Sale #000042" in text_of(path.read_bytes())
    assert os.listdir(tmp_path) == ["receipt-000042.pdf"]  # no temporary file left


def test_a_reprint_is_saved_beside_the_original_without_replacing_it(tmp_path: Path) -> None:
    original = write_receipt(make_receipt(), tmp_path)
    reprint = write_receipt(make_receipt(reprint=True), tmp_path)

    assert reprint == tmp_path / "receipt-000042-reprint.pdf"
    assert "REPRINT" not in text_of(original.read_bytes())
    assert "REPRINT" in text_of(reprint.read_bytes())


def test_a_failed_write_leaves_the_previous_receipt_intact_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_receipt(make_receipt(), tmp_path)
    before = path.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "link", crash)
    with pytest.raises(OSError, match="disk full"):
        write_receipt(make_receipt(staff_name="Someone Else"), tmp_path)

    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["receipt-000042.pdf"]


def test_write_receipt_goes_through_a_temporary_file_linked_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    links: list[tuple[Path, Path]] = []
    real_link = os.link

    def spy(src: str, dst: str) -> None:
        links.append((Path(src), Path(dst)))
        real_link(src, dst)

    monkeypatch.setattr(os, "link", spy)
    path = write_receipt(make_receipt(), tmp_path)

    [(src, dst)] = links
    assert dst == path
    assert src.parent == tmp_path and src != path
    assert os.listdir(tmp_path) == [path.name]


def test_the_receipts_folder_never_replaces_a_receipt(tmp_path: Path) -> None:
    first = write_receipt(make_receipt(), tmp_path)
    before = first.read_bytes()

    second = write_receipt(make_receipt(staff_name="Someone Else"), tmp_path)
    third = write_receipt(make_receipt(staff_name="A Third"), tmp_path)

    assert (second.name, third.name) == ("receipt-000042-2.pdf", "receipt-000042-3.pdf")
    assert first.read_bytes() == before
    assert "Someone Else" in text_of(second.read_bytes())
    assert sorted(os.listdir(tmp_path)) == [
        "receipt-000042-2.pdf", "receipt-000042-3.pdf", "receipt-000042.pdf"]


def test_sale_1_of_two_servers_gets_two_receipts_named_by_sale_id(tmp_path: Path) -> None:
    here = write_receipt(make_receipt(sale_number=1, sale_id="3f2a9c1e55aa"), tmp_path)
    there = write_receipt(make_receipt(sale_number=1, sale_id="b7d00e42ffff"), tmp_path)

    assert (here.name, there.name) == ("receipt-000001-3f2a9c1e.pdf",
                                       "receipt-000001-b7d00e42.pdf")
    assert receipt_filename(make_receipt(sale_id="3f2a9c1e55aa", reprint=True)) == (
        "receipt-000042-3f2a9c1e-reprint.pdf")


# --- from the wire schemas ---------------------------------------------------------------------


def test_receipt_from_sale_names_and_prices_each_valid_ticket_by_its_type() -> None:
    sale = wire_sale({"method": "cash", "tendered": 25000, "change": 4000}, codes=CODES)

    data = receipt_from_sale(
        sale, wire_event(), staff_name="Maria Lopez", terminal_name="Box Office 1"
    )

    assert data.tickets == ((CODES[0], "General Admission", 4500), (CODES[1], "VIP", 12000))
    assert data.lines[1] == ("VIP", 1, 12000, 12000)
    assert (data.sale_number, data.total, data.tendered, data.change) == (7, 21000, 25000, 4000)
    assert (data.venue, data.timezone, data.reprint) == (
        "The Grand Hall, Chicago IL",
        "America/Chicago",
        False,
    )
    text = text_of(render_receipt(data))
    assert "Sale #000007" in text and "$210.00" in text and "$40.00" in text


def test_receipt_from_sale_refuses_a_sale_of_another_event() -> None:
    sale = wire_sale({"method": "external", "reference": "shop-123"}, codes=CODES)
    event = wire_event().model_copy(update={"id": "evt-2"})

    with pytest.raises(ValueError, match="evt-2"):
        receipt_from_sale(sale, event, staff_name="A", terminal_name="B")


def test_receipt_data_refuses_naive_times_and_unknown_zones() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_receipt(sale_created_at=datetime(2026, 1, 25, 15, 0))
    with pytest.raises(ValueError, match="IANA"):
        make_receipt(timezone="Mars/Olympus_Mons")


def test_qr_modules_are_whole_thermal_printer_dots_on_the_dot_grid() -> None:
    dot = 72 / 203
    pdf = render_receipt(make_receipt(2))
    height = float(page_of(pdf).mediabox.height)
    content = page_of(pdf).get_contents().get_data().decode("latin-1")
    placements = re.findall(r"(\S+) 0 0 -(\S+) (\S+) (\S+) cm\s+0 g\s+n ", content)

    assert len(placements) == 2
    for (module, _, x, top), code in zip(placements, CODES, strict=False):
        for points in (float(module), float(x), height - float(top)):
            assert points / dot == pytest.approx(round(points / dot), abs=1e-3)
        assert 28 * MM <= float(module) * len(qr_matrix(code)) <= 32 * MM  # about 30 mm
