"""Request bodies refuse numbers the database cannot hold: a 422, never a 500 from SQL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pos_app.api import schemas


@pytest.mark.parametrize("ticket_type_id", [0, -1, 2**31, 2**70])
def test_a_sale_naming_an_impossible_ticket_type_id_is_invalid(ticket_type_id: int) -> None:
    with pytest.raises(ValidationError):
        schemas.SaleCreate.model_validate({
            "lines": [{"ticket_type_id": ticket_type_id, "quantity": 1}],
            "payment": {"method": "cash", "tendered": 100}})


def test_a_hold_naming_an_impossible_ticket_type_id_is_invalid() -> None:
    with pytest.raises(ValidationError):
        schemas.HoldCreate.model_validate({
            "kind": "checkout", "lines": [{"ticket_type_id": 2**63, "quantity": 1}]})


def test_cash_tendered_beyond_any_drawer_is_invalid() -> None:
    with pytest.raises(ValidationError):
        schemas.SaleCreate.model_validate({
            "lines": [{"ticket_type_id": 1, "quantity": 1}],
            "payment": {"method": "cash", "tendered": 2**62}})


def test_the_largest_valid_id_and_amount_are_accepted() -> None:
    body = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": schemas.MAX_ID, "quantity": 1}],
        "payment": {"method": "cash", "tendered": schemas.MAX_CASH_AMOUNT}})
    assert body.lines is not None and body.lines[0].ticket_type_id == 2**31 - 1
