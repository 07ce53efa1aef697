"""What names a sale: its id, a ticket code on it, or its sequential number.

A customer at the window brings a receipt (sale number, or the sale's id in the refund
slip's small print) or a ticket (its QR code holds the ticket code, read by a scanner that
types it). The server accepts all three wherever a sale is named (``GET /v1/sales/{ref}``,
``POST /v1/sales/{ref}/refunds``), within the caller's scope (docs/api.md, Scopes): numbers are
sequential, so a cashier reaches another till's sale only by its id or a ticket code.

Shapes, as the server makes them: a sale id is ``uuid4().hex`` (32 lowercase hex digits), a
ticket code 26 characters of RFC 4648 base32 (``A``-``Z``, ``2``-``7``: 128 random bits), a
number a positive integer of at most 18 digits (below 2**63, safe in every database).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["MAX_NUMBER_DIGITS", "SaleRef", "parse_sale_ref"]

MAX_NUMBER_DIGITS = 18
_SALE_ID = re.compile(r"[0-9a-f]{32}")
_TICKET_CODE = re.compile(r"[A-Z2-7]{26}")

RefKind = Literal["id", "ticket", "number"]


@dataclass(frozen=True)
class SaleRef:
    """A parsed sale reference: ``kind`` and its canonical ``value`` (id lowercase, ticket
    code uppercase, number without leading ``#`` or zeros)."""

    kind: RefKind
    value: str

    @property
    def guessable(self) -> bool:
        """True for a sequential number: walking numbers must not reach others' sales."""
        return self.kind == "number"


def parse_sale_ref(text: str) -> SaleRef | None:
    """``text`` as typed or scanned (spaces around it, a leading ``#``, any case) as a
    :class:`SaleRef`, or ``None`` when it names no sale in any of the three shapes (zero and
    numbers of more than :data:`MAX_NUMBER_DIGITS` digits included)."""
    ref = text.strip()
    if _SALE_ID.fullmatch(ref.lower()):
        return SaleRef("id", ref.lower())
    if _TICKET_CODE.fullmatch(ref.upper()):
        return SaleRef("ticket", ref.upper())
    digits = ref.removeprefix("#").strip()
    if digits.isascii() and digits.isdigit() and len(digits) <= MAX_NUMBER_DIGITS \
            and int(digits) > 0:
        return SaleRef("number", str(int(digits)))
    return None
