"""A reprinted receipt of a partly refunded sale: each refunded ticket is marked REFUNDED, says
it is not valid for entry, and carries neither its QR code nor its full code, on the PDF and
on the ESC/POS printer; no admission ticket is printed for it.

Also refreshes ``docs/screenshots/receipt-refunded.png`` (poppler's ``pdftoppm``, skipped
where it is not installed).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pos_app.receipts import ReceiptData, receipt_from_sale, render_receipt, render_sale_documents
from pos_app.receipts.qr import qr_matrix
from pos_app.receipts.refunded import NOT_VALID, REFUNDED
from pos_app.receipts.thermal import receipt_commands, sale_commands
from tests.unit.receipts.escpos_reader import read_job
from tests.unit.receipts.samples import (
    GA_CODE,
    GA_CODE_2,
    VIP_CODE,
    as_lists,
    pages_of,
    qr_symbols_on,
    texts_of,
    wire_event,
    wire_sale,
)

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def reprint() -> ReceiptData:
    """Sale #7 reprinted: GA and VIP valid, the second GA (``GA_CODE_2``) refunded."""
    return receipt_from_sale(wire_sale(), wire_event(), staff_name="Maria Lopez",
                             terminal_name="Box Office 1", reprint=True)


def flat(text: str) -> str:
    return text.replace("\n", "").replace(" ", "")


def test_the_refunded_ticket_goes_to_refunded_never_to_the_admissions() -> None:
    data = receipt_from_sale(wire_sale(), wire_event(), staff_name="A", terminal_name="B")

    assert [ticket.code for ticket in data.tickets] == [GA_CODE, VIP_CODE]
    assert data.refunded == ((GA_CODE_2, "General Admission", 4500),)


def test_the_receipt_pdf_marks_the_refunded_ticket_and_draws_no_qr_code_for_it() -> None:
    pdf = render_receipt(reprint())

    [text] = texts_of(pdf)
    assert "REPRINT" in text
    assert REFUNDED in text and NOT_VALID in text
    assert f"Code ending {GA_CODE_2[-6:]}" in text
    assert GA_CODE_2 not in flat(text)  # nothing on the paper to key in at the door
    assert GA_CODE in flat(text) and VIP_CODE in flat(text)
    # One QR symbol per valid ticket, none for the refunded one.
    [page] = pages_of(pdf)
    symbols = qr_symbols_on(page)
    assert symbols == [as_lists(qr_matrix(GA_CODE)), as_lists(qr_matrix(VIP_CODE))]
    assert as_lists(qr_matrix(GA_CODE_2)) not in symbols
    # The REFUNDED block comes after the valid tickets, before the footer.
    assert text.index(VIP_CODE[:10]) < text.index(REFUNDED) < text.index("Keep this receipt")


def test_printed_apart_the_receipt_lists_it_as_refunded_and_no_ticket_page_is_made() -> None:
    pdf = render_sale_documents(reprint())

    texts = texts_of(pdf)
    assert len(texts) == 3  # the receipt, then one page per valid ticket
    assert f"General Admission - {REFUNDED}" in texts[0]
    assert GA_CODE_2 not in flat("".join(texts))
    assert [qr_symbols_on(page) for page in pages_of(pdf)[1:]] == [
        [as_lists(qr_matrix(GA_CODE))], [as_lists(qr_matrix(VIP_CODE))]]


def test_the_thermal_receipt_prints_refunded_inverted_and_no_qr_code_for_it() -> None:
    job = read_job(receipt_commands(reprint()))

    assert job.qr_contents() == [GA_CODE, VIP_CODE]
    assert f" {REFUNDED} " in job.lines and NOT_VALID in job.text
    assert f"Code ending {GA_CODE_2[-6:]}" in job.text
    assert GA_CODE_2 not in job.text
    assert b"\x01" in job.named("GS B")  # white on black: REPRINT and REFUNDED


def test_the_thermal_sale_prints_the_receipt_and_a_ticket_per_valid_admission_only() -> None:
    job = read_job(sale_commands(reprint()))

    pieces = job.pieces()
    assert len(pieces) == 3
    assert f"General Admission - {REFUNDED}" in pieces[0]
    assert job.qr_contents() == [GA_CODE, VIP_CODE]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm")
def test_the_refunded_reprint_as_a_picture(tmp_path: Path) -> None:
    source = tmp_path / "receipt.pdf"
    source.write_bytes(render_receipt(reprint()))
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(source),
                    str(tmp_path / "receipt-refunded")], check=True, capture_output=True,
                   timeout=60)
    png = (tmp_path / "receipt-refunded.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "receipt-refunded.png").write_bytes(png)
