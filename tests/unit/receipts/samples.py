"""Sample documents for the receipt tests: one sale, its cash hold, a refund of two tickets."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pypdf

from pos_app.api.schemas import Event, Hold, Refund, Sale
from pos_app.receipts import (
    HoldSlipData,
    ReceiptData,
    ReceiptLine,
    ReceiptTicket,
    RefundSlipData,
    RefundSlipTicket,
)

MM = 72 / 25.4
GA_CODE = "GA7K3QX9PL2M8HTRVWXYZ23456"  # 26 characters of base32, like the server's codes
VIP_CODE = "VIP2M4ZT9QKD77XAB3CDE4FGHJ"
GA_CODE_2 = "GA7K4MZ2RT8N1QWEABCDEF2345"
HOLD_CODE = "K7QX3M"
EVENT_STARTS = datetime(2026, 1, 26, 2, 0, tzinfo=UTC)  # Sun 25 Jan 2026, 8:00 PM CST


def sale(**changes: Any) -> ReceiptData:
    """Sale #42: one General Admission ($45.00) and one VIP ($120.00), paid $200.00 cash."""
    data = ReceiptData(
        venue="The Grand Hall, Chicago IL",
        event_name="Harbour Lights - Live at the Grand Hall",
        event_starts_at=EVENT_STARTS,
        timezone="America/Chicago",
        sale_number=42,
        sale_created_at=datetime(2026, 1, 25, 15, 0, tzinfo=UTC),
        lines=(
            ReceiptLine("General Admission", 1, 4500, 4500),
            ReceiptLine("VIP", 1, 12000, 12000),
        ),
        total=16500,
        currency="USD",
        tendered=20000,
        change=3500,
        staff_name="Maria Lopez",
        terminal_name="Box Office 1",
        tickets=(
            ReceiptTicket(GA_CODE, "General Admission", 4500),
            ReceiptTicket(VIP_CODE, "VIP", 12000),
        ),
    )
    return replace(data, **changes)


def hold_slip(**changes: Any) -> HoldSlipData:
    """Hold K7QX3M for Jordan Smith, placed 9:00 AM CST, to pay $210.00 by 1:00 PM CST."""
    data = HoldSlipData(
        venue="The Grand Hall, Chicago IL",
        event_name="Harbour Lights - Live at the Grand Hall",
        event_starts_at=EVENT_STARTS,
        timezone="America/Chicago",
        hold_code=HOLD_CODE,
        customer_name="Jordan Smith",
        customer_phone="+1 312 555 0147",
        lines=(
            ReceiptLine("General Admission", 2, 4500, 9000),
            ReceiptLine("VIP", 1, 12000, 12000),
        ),
        total=21000,
        currency="USD",
        created_at=datetime(2026, 1, 25, 15, 0, tzinfo=UTC),
        expires_at=datetime(2026, 1, 25, 19, 0, tzinfo=UTC),
        staff_name="Maria Lopez",
        terminal_name="Box Office 1",
    )
    return replace(data, **changes)


def refund_slip(**changes: Any) -> RefundSlipData:
    """Two General Admission tickets of sale #42 refunded in cash at 3:15 PM CST."""
    data = RefundSlipData(
        venue="The Grand Hall, Chicago IL",
        event_name="Harbour Lights - Live at the Grand Hall",
        event_starts_at=EVENT_STARTS,
        timezone="America/Chicago",
        sale_number=42,
        refund_id="9b2f61c4-7d0e-4a8e-b1f3-2c5d8e9a0b11",
        tickets=(
            RefundSlipTicket(GA_CODE, "General Admission", 4500),
            RefundSlipTicket(GA_CODE_2, "General Admission", 4500),
        ),
        amount=9000,
        currency="USD",
        method="cash",
        reason="Customer cannot attend - family emergency",
        approver_name="Sam Patel",
        staff_name="Maria Lopez",
        terminal_name="Box Office 1",
        refunded_at=datetime(2026, 1, 25, 21, 15, tzinfo=UTC),
    )
    return replace(data, **changes)


# --- reading PDFs back -------------------------------------------------------------------------


def pages_of(pdf: bytes) -> list[pypdf.PageObject]:
    return list(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def texts_of(pdf: bytes) -> list[str]:
    """The text of each page, in order."""
    return [page.extract_text() for page in pages_of(pdf)]


def qr_symbols_on(page: pypdf.PageObject) -> list[list[list[int]]]:
    """Module matrices rebuilt from the filled rectangles of each QR path on ``page``."""
    contents = page.get_contents()
    assert contents is not None
    content = contents.get_data().decode("latin-1")
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


def as_lists(matrix: Any) -> list[list[int]]:
    return [[int(bool(module)) for module in row] for row in matrix]


def text_spans(page: pypdf.PageObject) -> list[tuple[float, float, float, str]]:
    """``(left, right, font size, text)`` of every string shown on ``page``, in points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    spans: list[tuple[float, float, float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        text = text.strip()  # pypdf adds spaces and newlines between shown strings
        if text:
            width = stringWidth(text, str(font["/BaseFont"]).lstrip("/"), size)
            spans.append((tm[4], tm[4] + width, size * tm[0], text))

    page.extract_text(visitor_text=visit)
    return spans


# --- wire schemas ------------------------------------------------------------------------------


def wire_event(event_id: str = "evt-1") -> Event:
    """The event of the samples as the server sends it: General Admission (1), VIP (2)."""
    ticket_type = {
        "event_id": event_id,
        "currency": "USD",
        "capacity": 500,
        "public_limit": None,
        "sold": 3,
        "held": 0,
        "available": 497,
        "public_available": 497,
        "stock_level": "in_stock",
        "thresholds": {"low": 50, "critical": 10},
        "alert_ladder": [],
        "version": 1,
    }
    return Event.model_validate(
        {
            "id": event_id,
            "name": "Harbour Lights - Live at the Grand Hall",
            "venue": "The Grand Hall, Chicago IL",
            "starts_at": "2026-01-26T02:00:00Z",
            "timezone": "America/Chicago",
            "currency": "USD",
            "ticket_types": [
                {**ticket_type, "id": 1, "name": "General Admission", "price": 4500},
                {**ticket_type, "id": 2, "name": "VIP", "price": 12000},
            ],
        }
    )


def wire_hold(**changes: Any) -> Hold:
    """Cash hold K7QX3M of two General Admission and one VIP, as the server sends it."""
    body = {
        "id": "hold-uuid",
        "code": HOLD_CODE,
        "kind": "cash",
        "status": "active",
        "event_id": "evt-1",
        "lines": [
            {
                "ticket_type_id": 1,
                "name": "General Admission",
                "quantity": 2,
                "unit_price": 4500,
                "amount": 9000,
            },
            {
                "ticket_type_id": 2,
                "name": "VIP",
                "quantity": 1,
                "unit_price": 12000,
                "amount": 12000,
            },
        ],
        "total": 21000,
        "currency": "USD",
        "customer": {"name": "Jordan Smith", "phone": None, "email": None},
        "created_at": "2026-01-25T15:00:00Z",
        "expires_at": "2026-01-25T19:00:00Z",
        "terminal_id": 3,
        "staff_id": 5,
        "channel": "box_office",
    }
    return Hold.model_validate({**body, **changes})


def wire_sale(payment: dict[str, Any] | None = None,
              codes: tuple[str, str, str] = (GA_CODE, VIP_CODE, GA_CODE_2)) -> Sale:
    """Sale #7: two General Admission and one VIP; the second GA ticket is refunded.
    ``payment`` defaults to $250.00 cash tendered, $40.00 change; ``codes`` are the tickets'
    codes (GA, VIP, refunded GA)."""
    if payment is None:
        payment = {"method": "cash", "tendered": 25000, "change": 4000}
    return Sale.model_validate(
        {
            "id": "sale-uuid",
            "number": 7,
            "status": "partially_refunded",
            "channel": "box_office",
            "event_id": "evt-1",
            "lines": [
                {
                    "ticket_type_id": 1,
                    "name": "General Admission",
                    "quantity": 2,
                    "unit_price": 4500,
                    "amount": 9000,
                },
                {
                    "ticket_type_id": 2,
                    "name": "VIP",
                    "quantity": 1,
                    "unit_price": 12000,
                    "amount": 12000,
                },
            ],
            "total": 21000,
            "currency": "USD",
            "payment": payment,
            "tickets": [
                {"code": codes[0], "ticket_type_id": 1, "status": "valid"},
                {"code": codes[1], "ticket_type_id": 2, "status": "valid"},
                {"code": codes[2], "ticket_type_id": 1, "status": "refunded"},
            ],
            "created_at": "2026-01-25T15:00:00Z",
            "terminal_id": 3,
            "staff_id": 5,
            "shift_id": 11,
        }
    )


def wire_refund(**changes: Any) -> Refund:
    """The cash refund of sale #7's second General Admission ticket, approved by staff 9."""
    body = {
        "id": "9b2f61c4-7d0e-4a8e-b1f3-2c5d8e9a0b11",
        "sale_id": "sale-uuid",
        "sale_number": 7,
        "sale_status": "partially_refunded",
        "tickets": [{"code": GA_CODE_2, "ticket_type_id": 1, "amount": 4500}],
        "amount": 4500,
        "currency": "USD",
        "method": "cash",
        "reason": "Double booking",
        "approved_by": 9,
        "staff_id": 5,
        "terminal_id": 3,
        "shift_id": 11,
        "created_at": "2026-01-25T21:15:00Z",
    }
    return Refund.model_validate({**body, **changes})
