"""Admission tickets: one cut piece of 80 mm paper per ticket, and the sale's whole print job."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import segno

from pos_app.receipts import (
    PAGE_WIDTH,
    render_receipt,
    render_sale_documents,
    render_tickets,
    write_sale_documents,
    write_tickets,
)
from tests.unit.receipts.samples import (
    GA_CODE,
    MM,
    VIP_CODE,
    as_lists,
    pages_of,
    qr_symbols_on,
    sale,
    text_spans,
    texts_of,
)


def test_each_ticket_is_its_own_page_with_event_time_venue_type_price_and_code() -> None:
    ga, vip = texts_of(render_tickets(sale()))

    for text in (ga, vip):
        assert "Harbour Lights - Live at the" in text
        assert "Sun 25 Jan 2026, 8:00 PM CST" in text  # the event, in the venue's zone
        assert "The Grand Hall, Chicago IL" in text
        assert "Sale #000042" in text
    assert "General Admission" in ga and "$45.00" in ga and GA_CODE in ga
    assert "Ticket 1 of 2" in ga
    assert "VIP" in vip and "$120.00" in vip and VIP_CODE in vip
    assert "Ticket 2 of 2" in vip
    assert VIP_CODE not in ga and GA_CODE not in vip


def test_each_tickets_qr_code_encodes_that_tickets_code_and_nothing_else() -> None:
    pages = pages_of(render_tickets(sale()))

    assert [qr_symbols_on(page) for page in pages] == [
        [as_lists(segno.make_qr(GA_CODE, error="m").matrix)],
        [as_lists(segno.make_qr(VIP_CODE, error="m").matrix)],
    ]


def test_ticket_pages_are_80_mm_wide_and_short() -> None:
    for page in pages_of(render_tickets(sale())):
        assert float(page.mediabox.width) == pytest.approx(PAGE_WIDTH)
        assert float(page.mediabox.height) < 120 * MM  # about a hand-held ticket's length


def test_the_ticket_type_is_the_largest_text_on_the_ticket() -> None:
    spans = text_spans(pages_of(render_tickets(sale()))[1])
    sizes = {text: size for _, _, size, text in spans}

    assert sizes["VIP"] == max(sizes.values())


def test_price_comes_from_the_sale_line_when_the_ticket_does_not_carry_one() -> None:
    data = sale(tickets=((GA_CODE, "General Admission"), (VIP_CODE, "VIP")))

    ga, vip = texts_of(render_tickets(data))

    assert "$45.00" in ga and "$120.00" in vip


def test_a_lost_ticket_can_be_reprinted_alone_keeping_its_number() -> None:
    [text] = texts_of(render_tickets(sale(reprint=True), codes=[VIP_CODE]))

    assert VIP_CODE in text and "Ticket 2 of 2" in text
    assert "REPRINT" in text


def test_reprinting_a_code_of_another_sale_is_refused() -> None:
    with pytest.raises(ValueError, match="NOT-OURS"):
        render_tickets(sale(), codes=["NOT-OURS"])


def test_a_sale_without_tickets_has_no_ticket_pages() -> None:
    with pytest.raises(ValueError, match="no ticket"):
        render_tickets(sale(tickets=()))

    [receipt] = texts_of(render_sale_documents(sale(tickets=())))
    assert "Sale #000042" in receipt


def test_only_reprints_are_marked_reprint_on_every_ticket() -> None:
    assert not any("REPRINT" in text for text in texts_of(render_tickets(sale())))
    assert all("REPRINT" in text for text in texts_of(render_tickets(sale(reprint=True))))


def test_sale_documents_are_the_receipt_then_one_page_per_ticket() -> None:
    pdf = render_sale_documents(sale())
    receipt, ga, vip = texts_of(pdf)
    pages = pages_of(pdf)

    assert "TOTAL" in receipt and "$165.00" in receipt and "Change due" in receipt
    assert GA_CODE in receipt and VIP_CODE in receipt  # listed, so staff can look them up
    assert "your tickets are printed separately" in receipt
    assert qr_symbols_on(pages[0]) == []  # only the tickets admit
    assert GA_CODE in ga and VIP_CODE in vip
    assert [len(qr_symbols_on(page)) for page in pages[1:]] == [1, 1]


def test_the_plain_receipt_still_carries_every_qr_code() -> None:
    [page] = pages_of(render_receipt(sale()))

    assert len(qr_symbols_on(page)) == 2


def test_long_names_stay_between_the_margins_of_a_ticket() -> None:
    data = sale(
        event_name="An Extraordinarily Long Evening of Chamber Music, Poetry and Light "
        "- Twenty-Fifth Anniversary Gala Performance",
        venue="The Grand Hall and Conservatory of the Performing Arts, Chicago IL",
        tickets=((GA_CODE, "Premium Balcony Seating with Complimentary Programme", 19900),),
    )
    [page] = pages_of(render_tickets(data))
    spans = text_spans(page)

    for left, right, _, text in spans:
        assert left >= 4 * MM - 0.01, text
        assert right <= PAGE_WIDTH - 4 * MM + 0.01, text
    words = " ".join(text for *_, text in spans)
    assert "Performance" in words and "Complimentary" in words and "$199.00" in words


def test_tickets_and_sale_documents_are_saved_under_the_sale_number(tmp_path: Path) -> None:
    tickets = write_tickets(sale(), tmp_path)
    documents = write_sale_documents(sale(), tmp_path)
    reprint = write_sale_documents(sale(reprint=True), tmp_path)

    assert tickets == tmp_path / "tickets-000042.pdf"
    assert documents == tmp_path / "sale-000042.pdf"
    assert reprint == tmp_path / "sale-000042-reprint.pdf"
    assert len(texts_of(documents.read_bytes())) == 3
    assert sorted(os.listdir(tmp_path)) == [
        "sale-000042-reprint.pdf",
        "sale-000042.pdf",
        "tickets-000042.pdf",
    ]
