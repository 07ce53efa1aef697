"""How a typed or scanned reference names a sale: number, ticket code or id."""

from __future__ import annotations

import pytest

from pos_app.domain.sale_refs import SaleRef, parse_sale_ref

SALE_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TICKET = "3FL3QWM2OSVWIQL7ZF4NVUSFSI"


@pytest.mark.parametrize(("typed", "expected"), [
    ("42", SaleRef("number", "42")),
    (" #0042 ", SaleRef("number", "42")),
    ("9" * 18, SaleRef("number", "9" * 18)),
    (TICKET.lower(), SaleRef("ticket", TICKET)),
    (f"  {TICKET}\n", SaleRef("ticket", TICKET)),  # a scanner's Enter
    (SALE_ID.upper(), SaleRef("id", SALE_ID)),
])
def test_a_number_a_ticket_code_and_an_id_name_a_sale(typed: str, expected: SaleRef) -> None:
    assert parse_sale_ref(typed) == expected


@pytest.mark.parametrize("typed", ["", "#", "0", "9" * 19, "-3", "4.5", "٤٢", TICKET[:-1],
                                   TICKET + "A", TICKET.replace("3", "1"), SALE_ID[:-1]])
def test_anything_else_names_no_sale(typed: str) -> None:
    assert parse_sale_ref(typed) is None


def test_only_a_number_can_be_guessed_by_walking() -> None:
    guessable = {kind: ref.guessable for kind, ref in (
        ("number", parse_sale_ref("7")), ("ticket", parse_sale_ref(TICKET)),
        ("id", parse_sale_ref(SALE_ID))) if ref is not None}
    assert guessable == {"number": True, "ticket": False, "id": False}
