"""Hold slips and refund slips: what the customer and the box office read on them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import segno

from pos_app.receipts import (
    PAGE_WIDTH,
    hold_slip_from_hold,
    refund_slip_from_refund,
    render_hold_slip,
    render_refund_slip,
    write_hold_slip,
    write_refund_slip,
)
from pos_app.receipts.slip_data import refund_lines
from pos_app.receipts.text import group_code, spell_code
from tests.unit.receipts.samples import (
    GA_CODE,
    GA_CODE_2,
    HOLD_CODE,
    MM,
    as_lists,
    hold_slip,
    pages_of,
    qr_symbols_on,
    refund_slip,
    text_spans,
    texts_of,
    wire_event,
    wire_hold,
    wire_refund,
    wire_sale,
)


def only_text(pdf: bytes) -> str:
    [text] = texts_of(pdf)
    return text


# --- codes read aloud --------------------------------------------------------------------------


def test_codes_are_grouped_in_threes_for_reading_aloud() -> None:
    assert group_code("k7qx3m") == "K7Q X3M"
    assert group_code("K7Q-X3M") == "K7Q X3M"
    assert group_code("ABCDEFGH") == "ABC DEF GH"


def test_codes_are_spelled_in_the_icao_alphabet_group_by_group() -> None:
    assert spell_code("K7QX3M") == "Kilo Seven Quebec - X-ray Three Mike"
    assert spell_code("a2") == "Alfa Two"


# --- hold slip ---------------------------------------------------------------------------------


def test_hold_slip_shows_code_customer_lines_total_and_pay_by_time_in_the_venues_zone() -> None:
    text = only_text(render_hold_slip(hold_slip()))

    for expected in (
        "K7Q X3M",
        "Kilo Seven Quebec - X-ray Three Mike",
        "Jordan Smith",
        "+1 312 555 0147",
        "2 x General Admission @ $45.00",
        "$90.00",
        "1 x VIP @ $120.00",
        "TOTAL TO PAY",
        "$210.00",
        "Pay by Sun 25 Jan 2026, 1:00 PM CST",  # 19:00 UTC, four hours after placing
        "Sun 25 Jan 2026, 8:00 PM CST",  # the event
        "Maria Lopez",
        "This slip is not a ticket",
    ):
        assert expected in text
    assert "7:00 PM" not in text  # never UTC


def test_hold_code_is_the_largest_text_on_the_slip() -> None:
    [page] = pages_of(render_hold_slip(hold_slip()))
    sizes = {text: size for _, _, size, text in text_spans(page)}

    assert sizes["K7Q X3M"] == max(sizes.values())
    assert sizes["K7Q X3M"] >= 24  # about 6 mm capitals


def test_hold_slips_qr_code_encodes_the_hold_code() -> None:
    [page] = pages_of(render_hold_slip(hold_slip()))

    assert qr_symbols_on(page) == [as_lists(segno.make_qr(HOLD_CODE, error="m").matrix)]


def test_a_hold_without_phone_prints_no_phone_row() -> None:
    assert "Phone" not in only_text(render_hold_slip(hold_slip(customer_phone=None)))


def test_hold_slip_is_80_mm_wide_and_its_text_fits_even_for_long_names() -> None:
    data = hold_slip(
        customer_name="Maximiliana Alexandra Featherstonehaugh-Worthington",
        lines=(("Premium Balcony Seating with Complimentary Programme", 2, 19900, 39800),),
        total=39800,
    )
    [page] = pages_of(render_hold_slip(data))

    assert float(page.mediabox.width) == pytest.approx(PAGE_WIDTH)
    for left, right, _, text in text_spans(page):
        assert left >= 4 * MM - 0.01, text
        assert right <= PAGE_WIDTH - 4 * MM + 0.01, text


def test_hold_slip_from_a_wire_hold_keeps_code_customer_lines_and_expiry() -> None:
    data = hold_slip_from_hold(
        wire_hold(), wire_event(), staff_name="Maria Lopez", terminal_name="Box Office 1"
    )

    assert (data.hold_code, data.customer_name, data.customer_phone) == (
        HOLD_CODE,
        "Jordan Smith",
        None,
    )
    assert data.lines[1] == ("VIP", 1, 12000, 12000)
    assert data.total == 21000
    assert "Pay by Sun 25 Jan 2026, 1:00 PM CST" in only_text(render_hold_slip(data))


def test_a_checkout_hold_or_a_hold_of_another_event_gets_no_slip() -> None:
    checkout = wire_hold(kind="checkout", customer=None)
    with pytest.raises(ValueError, match="cash holds"):
        hold_slip_from_hold(checkout, wire_event(), staff_name="A", terminal_name="B")
    with pytest.raises(ValueError, match="evt-2"):
        hold_slip_from_hold(wire_hold(), wire_event("evt-2"), staff_name="A", terminal_name="B")


def test_a_blank_customer_name_or_a_naive_expiry_is_refused() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="customer"):
        hold_slip(customer_name="  ")
    with pytest.raises(ValueError, match="timezone-aware"):
        hold_slip(expires_at=datetime(2026, 1, 25, 19, 0))


# --- refund slip -------------------------------------------------------------------------------


def test_refund_slip_shows_sale_tickets_cash_amount_approver_time_and_reason() -> None:
    text = only_text(render_refund_slip(refund_slip()))

    for expected in (
        "REFUND",
        "Sale #000042",
        "2 x General Admission @ $45.00",
        GA_CODE,
        GA_CODE_2,
        "REFUNDED IN CASH",
        "$90.00",
        "Approved by",
        "Sam Patel",
        "Sun 25 Jan 2026, 3:15 PM CST",  # 21:15 UTC
        "Customer cannot attend - family emergency",
        "Customer signature",
        "The refunded tickets no longer admit anyone",
    ):
        assert expected in text


def test_a_refund_to_the_original_payment_does_not_say_cash() -> None:
    text = only_text(render_refund_slip(refund_slip(method="external")))

    assert "REFUNDED IN CASH" not in text
    assert "REFUNDED TO PAYMENT" in text and "not from the drawer" in text


def test_refunded_tickets_are_grouped_by_type_and_amount() -> None:
    data = refund_slip(
        tickets=(("A1", "GA", 4500), ("V1", "VIP", 12000), ("A2", "GA", 4500)), amount=21000
    )

    assert refund_lines(data) == [
        ("GA", 2, 4500, 9000, ("A1", "A2")),
        ("VIP", 1, 12000, 12000, ("V1",)),
    ]


def test_refund_slip_from_the_wire_names_the_ticket_type_and_the_approver() -> None:
    data = refund_slip_from_refund(
        wire_refund(),
        wire_sale(),
        wire_event(),
        approver_name="Sam Patel",
        staff_name="Maria Lopez",
        terminal_name="Box Office 1",
    )

    assert data.tickets == ((GA_CODE_2, "General Admission", 4500),)
    assert (data.sale_number, data.amount, data.method) == (7, 4500, "cash")
    text = only_text(render_refund_slip(data))
    assert "Sale #000007" in text and "Sam Patel" in text and "Double booking" in text


def test_a_refund_of_another_sale_is_refused() -> None:
    with pytest.raises(ValueError, match="other-sale"):
        refund_slip_from_refund(
            wire_refund(sale_id="other-sale"),
            wire_sale(),
            wire_event(),
            approver_name="A",
            staff_name="B",
            terminal_name="C",
        )


def test_a_refund_slip_needs_a_ticket() -> None:
    with pytest.raises(ValueError, match="ticket"):
        refund_slip(tickets=())


# --- reprints and files ------------------------------------------------------------------------


def test_only_reprinted_slips_are_marked_reprint() -> None:
    assert "REPRINT" not in only_text(render_hold_slip(hold_slip()))
    assert "REPRINT" not in only_text(render_refund_slip(refund_slip()))
    assert "REPRINT" in only_text(render_hold_slip(hold_slip(reprint=True)))
    assert "REPRINT" in only_text(render_refund_slip(refund_slip(reprint=True)))


def test_slips_are_saved_under_the_hold_code_and_the_sale_and_refund(tmp_path: Path) -> None:
    hold = write_hold_slip(hold_slip(), tmp_path)
    hold_again = write_hold_slip(hold_slip(reprint=True), tmp_path)
    refund = write_refund_slip(refund_slip(), tmp_path)

    assert hold == tmp_path / "hold-K7QX3M.pdf"
    assert hold_again == tmp_path / "hold-K7QX3M-reprint.pdf"
    assert refund == tmp_path / "refund-000042-9b2f61c4.pdf"
    assert "Sam Patel" in only_text(refund.read_bytes())
    assert len(os.listdir(tmp_path)) == 3  # no temporary file left
