"""Pydantic models of request and response bodies (``shared/API.md``, version 1).

Requests forbid unknown fields (the contract answers them with 422 ``invalid_request``);
responses ignore unknown fields so an older terminal keeps working against a newer server.
Money is integer minor units next to an ISO 4217 ``currency``; times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CashPayment",
    "ErrorBody",
    "Event",
    "EventsResponse",
    "ExternalPayment",
    "Health",
    "InsufficientLine",
    "PairRequest",
    "PairResponse",
    "Payment",
    "PaymentOut",
    "Sale",
    "SaleCreate",
    "SaleLine",
    "SaleLineIn",
    "SessionCreate",
    "SessionResponse",
    "StaffOut",
    "TerminalCreate",
    "TerminalCreated",
    "TerminalOut",
    "Thresholds",
    "Ticket",
    "TicketType",
]

MAX_QUANTITY_PER_LINE = 50
MAX_LINES = 20


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    """Base of response bodies: unknown fields are ignored (forward compatible)."""

    model_config = ConfigDict(extra="ignore")


# --- errors -----------------------------------------------------------------------------------


class InsufficientLine(Response):
    """One line that could not be served: ``available`` is what the caller's channel may buy."""

    ticket_type_id: int
    requested: int
    available: int


class ErrorBody(Response):
    """Every error response: ``{"error": code, "message": sentence, ...details}``."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str
    lines: list[InsufficientLine] | None = None


# --- health and identity ----------------------------------------------------------------------


class Health(Response):
    status: str
    version: str
    database: str
    server_time: AwareDatetime


class TerminalCreate(Request):
    name: Annotated[str, Field(min_length=1, max_length=80)]


class TerminalCreated(Response):
    terminal_id: int
    pairing_code: str
    expires_at: AwareDatetime


class PairRequest(Request):
    pairing_code: Annotated[str, Field(min_length=1, max_length=64)]


class PairResponse(Response):
    terminal_id: int
    name: str
    terminal_token: str


class SessionCreate(Request):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    pin: Annotated[str, Field(min_length=1, max_length=64)]


class StaffOut(Response):
    id: int
    username: str
    display_name: str
    role: Literal["cashier", "manager", "admin"]


class TerminalOut(Response):
    id: int
    name: str


class SessionResponse(Response):
    token: str
    expires_at: AwareDatetime
    staff: StaffOut
    terminal: TerminalOut


# --- inventory --------------------------------------------------------------------------------


class Thresholds(Response):
    low: int
    critical: int


class TicketType(Response):
    """A ticket type's counts as the server sees them now (held = unexpired holds only)."""

    id: int
    event_id: str
    name: str
    price: int
    currency: str
    capacity: int
    public_limit: int | None
    sold: int
    held: int
    available: int
    public_available: int
    stock_level: Literal["in_stock", "low", "critical", "sold_out"]
    thresholds: Thresholds
    alert_ladder: list[int]
    version: int


class Event(Response):
    id: str
    name: str
    venue: str
    starts_at: AwareDatetime
    timezone: str
    currency: str
    ticket_types: list[TicketType]


class EventsResponse(Response):
    inventory_version: int
    events: list[Event]


# --- sales ------------------------------------------------------------------------------------


class SaleLineIn(Request):
    ticket_type_id: int
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY_PER_LINE)]


class CashPayment(Request):
    """Cash at the door: ``tendered`` minor units handed over by the customer."""

    method: Literal["cash"]
    tendered: Annotated[int, Field(ge=0)]


class ExternalPayment(Request):
    """Paid elsewhere (the web shop took the money): ``reference`` is the shop's payment id."""

    method: Literal["external"]
    reference: Annotated[str, Field(min_length=1, max_length=128)]


Payment = Annotated[CashPayment | ExternalPayment, Field(discriminator="method")]


class SaleCreate(Request):
    """``POST /v1/sales``: either ``hold_id`` (convert a hold) or ``lines``, plus ``payment``.

    Lines must name distinct ticket types of one event.
    """

    hold_id: str | None = None
    lines: Annotated[list[SaleLineIn], Field(min_length=1, max_length=MAX_LINES)] | None = None
    payment: Payment

    @model_validator(mode="after")
    def _one_source(self) -> SaleCreate:
        if (self.hold_id is None) == (self.lines is None):
            raise ValueError("give either hold_id or lines, not both")
        if self.lines is not None:
            ids = [line.ticket_type_id for line in self.lines]
            if len(set(ids)) != len(ids):
                raise ValueError("each ticket type may appear on one line only")
        return self


class SaleLine(Response):
    ticket_type_id: int
    name: str
    quantity: int
    unit_price: int
    amount: int


class PaymentOut(Response):
    method: Literal["cash", "external"]
    tendered: int | None = None
    change: int | None = None
    reference: str | None = None


class Ticket(Response):
    code: str
    ticket_type_id: int
    status: Literal["valid", "refunded"]


class Sale(Response):
    id: str
    number: int
    status: Literal["confirmed", "partially_refunded", "refunded"]
    channel: str
    event_id: str
    lines: list[SaleLine]
    total: int
    currency: str
    payment: PaymentOut
    tickets: list[Ticket]
    created_at: datetime
    terminal_id: int | None
    staff_id: int | None
    shift_id: int | None
