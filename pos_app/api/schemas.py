"""Pydantic models of request and response bodies (``shared/API.md``, version 1).

Requests forbid unknown fields (the contract answers them with 422 ``invalid_request``);
responses ignore unknown fields so an older terminal keeps working against a newer server.
Money is integer minor units next to an ISO 4217 ``currency``; times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from pos_app.domain.text import unsafe_character

__all__ = [
    "MAX_REPORT_BUCKET_SECONDS",
    "MAX_REPORT_POINTS",
    "AlertsResponse",
    "AuditActor",
    "AuditCounts",
    "AuditEntry",
    "AuditPage",
    "AuditVerify",
    "BulkCapacityChange",
    "BulkCapacityLine",
    "CapacityChange",
    "CashMovement",
    "CashMovementCreate",
    "CashPayment",
    "ChannelSeries",
    "Customer",
    "CustomerOut",
    "ErrorBody",
    "Event",
    "EventsResponse",
    "ExternalPayment",
    "Health",
    "Hold",
    "HoldCreate",
    "HoldLine",
    "HoldLineIn",
    "HoldList",
    "HoldRelease",
    "InsufficientLine",
    "ManagerApproval",
    "PairRequest",
    "PairResponse",
    "Payment",
    "PaymentOut",
    "Refund",
    "RefundCreate",
    "RefundTicketOut",
    "Sale",
    "SaleCreate",
    "SaleLine",
    "SaleLineIn",
    "SalesPage",
    "SalesPoint",
    "SalesReport",
    "SessionCreate",
    "SessionResponse",
    "Shift",
    "ShiftClose",
    "ShiftHoldCounts",
    "ShiftList",
    "ShiftOpen",
    "ShiftTicketTypeTotal",
    "ShiftTotal",
    "StaffOut",
    "StockAlertOut",
    "StockAlertWebhook",
    "TerminalCreate",
    "TerminalCreated",
    "TerminalOut",
    "Thresholds",
    "ThresholdsIn",
    "Ticket",
    "TicketType",
    "TicketTypeChannels",
    "TicketTypePatch",
    "TicketTypesResponse",
    "WebhookCreated",
    "WebhookDeliveryOut",
    "WebhookDeliveryPage",
    "WebhookEventRef",
    "WebhookList",
    "WebhookOut",
    "WebhookTicketTypeRef",
]

MAX_QUANTITY_PER_LINE = 50
MAX_LINES = 20
MAX_ID = 2**31 - 1
"""Largest id a request may name: ids are 32-bit integer columns (PostgreSQL ``integer``);
anything larger is refused as invalid_request instead of failing in the database."""
MAX_CASH_AMOUNT = 1_000_000_000  # minor units; a typo guard, and within a 32-bit column
MAX_TTL_SECONDS = 7 * 24 * 3600  # no hold outlives a week; the server's defaults are shorter


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error; types are strict (a number is a
    JSON number, never ``"1"`` or ``true``); no text holds NUL or a bidirectional control
    (:mod:`pos_app.domain.text`). All three answer 422 ``invalid_request``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="after")
    def _clean_text(self) -> Self:
        for name, value in self.__dict__.items():
            for text in (value if isinstance(value, list) else (value,)):
                if isinstance(text, str) and (bad := unsafe_character(text)) is not None:
                    raise ValueError(f"{name} may not contain the character {bad}")
        return self


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
    """``GET /v1/health``: ``status`` ``ok``; ``version``, ``database`` and ``server_time``
    only for a caller with a valid session or channel token (absent otherwise)."""

    status: str
    version: str | None = None
    database: str | None = None
    server_time: AwareDatetime | None = None


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
    ticket_type_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY_PER_LINE)]


class CashPayment(Request):
    """Cash at the door: ``tendered`` minor units handed over by the customer."""

    method: Literal["cash"]
    tendered: Annotated[int, Field(ge=0, le=MAX_CASH_AMOUNT)]


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


# --- shifts (cash-up) -------------------------------------------------------------------------



class ShiftOpen(Request):
    """``POST /v1/shifts``: open a shift at the caller's terminal with ``opening_float``
    minor units of the venue's currency in the drawer."""

    opening_float: Annotated[int, Field(ge=0, le=MAX_CASH_AMOUNT)]


class CashMovementCreate(Request):
    """``POST /v1/shifts/{id}/cash-movements``: cash into (``pay_in``) or out of
    (``pay_out``, ``drop`` to the safe) the drawer that is not a sale; ``amount`` > 0."""

    kind: Literal["pay_in", "pay_out", "drop"]
    amount: Annotated[int, Field(gt=0, le=MAX_CASH_AMOUNT)]
    reason: Annotated[str, Field(min_length=1, max_length=500,
                                 pattern=r"^[^\x00]*[^\s\x00][^\x00]*$")]


class ShiftClose(Request):
    """``POST /v1/shifts/{id}/close``: the cash counted in the drawer (minor units).

    When the count is off by more than the server's variance threshold (either way), the
    close needs ``manager`` (a manager's username and PIN; a manager closing approves
    themselves) and a non-blank ``note``; without them the server answers 409
    ``variance_needs_approval`` and changes nothing. The PIN is checked and never stored.
    """

    counted_cash: Annotated[int, Field(ge=0, le=MAX_CASH_AMOUNT)]
    note: Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")] | None = None
    manager: ManagerApproval | None = None


class CashMovement(Response):
    id: int
    shift_id: int
    kind: Literal["pay_in", "pay_out", "drop"]
    amount: int
    currency: str
    reason: str
    created_at: AwareDatetime
    staff_id: int | None


class ShiftTotal(Response):
    """How many and how much (minor units)."""

    count: int
    amount: int


class ShiftTicketTypeTotal(Response):
    """Tickets of one ticket type sold in the shift and their amount (minor units)."""

    ticket_type_id: int
    event_id: str
    name: str
    tickets: int
    amount: int


class ShiftHoldCounts(Response):
    """Holds placed at the terminal during the shift, by what became of them (an active hold
    past its expiry counts as expired)."""

    placed: int
    active: int
    converted: int
    released: int
    expired: int


class Shift(Response):
    """A shift at one terminal and its cash-up.

    ``expected_cash`` (float + cash sales - cash refunds + pay-ins - pay-outs - drops),
    ``counted_cash`` and ``variance`` (counted - expected) are set when the shift closes and
    ``null`` while it is open, so a count can be blind. ``sales`` are the shift's cash sales,
    ``refunds`` its cash refunds; ``ticket_types`` the tickets sold by type.

    For the Z-report: ``terminal_name`` and the staff's display names (``opened_by_name``,
    ``closed_by_name``), ``first_sale_number`` / ``last_sale_number`` (every sale of the
    shift, any payment; ``null`` without sales) and ``approved_by`` / ``approved_by_name``,
    the manager who approved a variance beyond the threshold (``null`` when none was
    needed). These default to ``null`` so older servers' answers still parse.

    Blind count (issue 16): while the shift is open, a cashier reads it with ``blind``
    true and every money total ``null`` (``opening_float``, ``sales``, ``refunds``,
    ``pay_ins``, ``pay_outs``, ``drops``, ``ticket_types``, ``cash_movements``), since
    they add up to the expected cash. Managers, and everyone once the shift is closed, get
    them all (``blind`` false).
    """

    id: int
    terminal_id: int
    terminal_name: str | None = None
    status: Literal["open", "closed"]
    currency: str
    opening_float: int | None
    opened_at: AwareDatetime
    opened_by: int
    opened_by_name: str | None = None
    closed_at: AwareDatetime | None
    closed_by: int | None
    closed_by_name: str | None = None
    expected_cash: int | None
    counted_cash: int | None
    variance: int | None
    note: str | None
    approved_by: int | None = None
    approved_by_name: str | None = None
    first_sale_number: int | None = None
    last_sale_number: int | None = None
    sales: ShiftTotal | None
    refunds: ShiftTotal | None
    pay_ins: int | None
    pay_outs: int | None
    drops: int | None
    ticket_types: list[ShiftTicketTypeTotal] | None
    holds: ShiftHoldCounts
    cash_movements: list[CashMovement] | None
    blind: bool = False


class ShiftList(Response):
    """``GET /v1/shifts``: newest first; ``next_cursor`` pages on (``null`` at the end)."""

    shifts: list[Shift]
    next_cursor: str | None


# --- refunds, capacity, alerts, audit, sale lists ----------------------------------------------

MAX_CAPACITY_DELTA = 1_000_000
MAX_PRICE = 100_000_000
MAX_LADDER_RUNGS = 20
MAX_REASON_LENGTH = 500


class ManagerApproval(Request):
    """A manager's username and PIN, given by a cashier to authorise a refund. The PIN is
    checked and never stored (not even in the idempotency key's request hash)."""

    username: Annotated[str, Field(min_length=1, max_length=64)]
    pin: Annotated[str, Field(min_length=1, max_length=64)]


class RefundCreate(Request):
    """``POST /v1/sales/{id or number}/refunds``: ``ticket_codes`` of that sale (default: all
    its still-valid tickets), a ``reason``, and ``manager`` when the caller is a cashier."""

    ticket_codes: Annotated[list[Annotated[str, Field(min_length=1, max_length=32)]],
                            Field(min_length=1, max_length=1000)] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_LENGTH)]
    manager: ManagerApproval | None = None

    @model_validator(mode="after")
    def _clean(self) -> RefundCreate:
        if not self.reason.strip():
            raise ValueError("reason must not be blank")
        if self.ticket_codes is not None and len(set(self.ticket_codes)) != len(
                self.ticket_codes):
            raise ValueError("each ticket code may appear once")
        return self


class RefundTicketOut(Response):
    code: str
    ticket_type_id: int
    amount: int


class Refund(Response):
    """A refund: ``amount`` (minor units of ``currency``) is the sum of the refunded tickets'
    unit prices, paid back by ``method`` (the sale's); ``approved_by`` is the manager's id."""

    id: str
    sale_id: str
    sale_number: int | None = None
    sale_status: Literal["confirmed", "partially_refunded", "refunded"] | None = None
    tickets: list[RefundTicketOut]
    amount: int
    currency: str
    method: Literal["cash", "external"]
    reason: str
    approved_by: int
    staff_id: int | None
    terminal_id: int | None
    shift_id: int | None
    created_at: datetime


class CapacityChange(Request):
    """``POST /v1/ticket-types/{id}/capacity``: a non-zero ``delta`` and a ``reason``."""

    delta: Annotated[int, Field(ge=-MAX_CAPACITY_DELTA, le=MAX_CAPACITY_DELTA)]
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_LENGTH)]

    @model_validator(mode="after")
    def _clean(self) -> CapacityChange:
        if self.delta == 0:
            raise ValueError("delta must not be zero")
        if not self.reason.strip():
            raise ValueError("reason must not be blank")
        return self


class BulkCapacityLine(Request):
    ticket_type_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    delta: Annotated[int, Field(ge=-MAX_CAPACITY_DELTA, le=MAX_CAPACITY_DELTA)]

    @model_validator(mode="after")
    def _non_zero(self) -> BulkCapacityLine:
        if self.delta == 0:
            raise ValueError("delta must not be zero")
        return self


class BulkCapacityChange(Request):
    """``POST /v1/capacity/bulk``: several capacity changes (distinct ticket types, any
    events), applied all or nothing."""

    changes: Annotated[list[BulkCapacityLine], Field(min_length=1, max_length=200)]
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_LENGTH)]

    @model_validator(mode="after")
    def _clean(self) -> BulkCapacityChange:
        ids = [c.ticket_type_id for c in self.changes]
        if len(set(ids)) != len(ids):
            raise ValueError("each ticket type may appear once")
        if not self.reason.strip():
            raise ValueError("reason must not be blank")
        return self


class TicketTypesResponse(Response):
    ticket_types: list[TicketType]


class ThresholdsIn(Request):
    low: Annotated[int, Field(ge=0, le=MAX_CAPACITY_DELTA)]
    critical: Annotated[int, Field(ge=0, le=MAX_CAPACITY_DELTA)]

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdsIn:
        if self.critical > self.low:
            raise ValueError("thresholds need 0 <= critical <= low")
        return self


class TicketTypePatch(Request):
    """``PATCH /v1/ticket-types/{id}``: only the fields given change. ``public_limit: null``
    removes the public limit (online sells the whole capacity). ``alert_ladder`` is strictly
    descending non-negative counts. ``reason`` (optional) is kept in the audit log."""

    public_limit: Annotated[int, Field(ge=0, le=2_000_000_000)] | None = None
    thresholds: ThresholdsIn | None = None
    alert_ladder: Annotated[list[Annotated[int, Field(ge=0, le=2_000_000_000)]],
                            Field(max_length=MAX_LADDER_RUNGS)] | None = None
    price: Annotated[int, Field(ge=0, le=MAX_PRICE)] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_LENGTH)] | None = None

    @model_validator(mode="after")
    def _clean(self) -> TicketTypePatch:
        changing = self.model_fields_set - {"reason"}
        if not changing:
            raise ValueError("give at least one of public_limit, thresholds, alert_ladder, "
                             "price")
        for name in ("thresholds", "alert_ladder", "price"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        ladder = self.alert_ladder or []
        if any(a <= b for a, b in pairwise(ladder)):
            raise ValueError("alert_ladder must be strictly descending")
        return self


class StockAlertOut(Response):
    seq: int
    at: AwareDatetime
    ticket_type_id: int
    event_id: str
    level: int
    available: int


class AlertsResponse(Response):
    alerts: list[StockAlertOut]


class SecurityAlertOut(Response):
    """A burst of failed PINs for one username (the audit log's ``security_alert`` entry:
    ``seq`` is its audit ``seq``); ``reason`` says the username, how many, within how long,
    and the latest attempt's kind and client address; ``terminal_id`` the latest attempt's
    terminal (null: none)."""

    seq: int
    at: AwareDatetime
    reason: str
    terminal_id: int | None


class SecurityAlertsResponse(Response):
    alerts: list[SecurityAlertOut]


class AuditCounts(Response):
    capacity: int | None
    sold: int | None
    held: int | None


class AuditActor(Response):
    staff_id: int | None
    terminal_id: int | None
    channel: str | None


class AuditEntry(Response):
    """One audit entry; ``ref`` is e.g. ``{"sale_id": "..."}`` or null."""

    seq: int
    at: AwareDatetime
    action: str
    actor: AuditActor
    ticket_type_id: int | None
    quantity: int | None
    before: AuditCounts | None
    after: AuditCounts | None
    ref: dict[str, str] | None
    reason: str | None
    prev_hash: str
    hash: str
    shift_id: int | None
    approved_by: int | None


class AuditPage(Response):
    entries: list[AuditEntry]
    next_cursor: str | None


class AuditVerify(Response):
    """``GET /v1/audit/verify``: the whole log checked. ``problem`` (our extension) says what
    is wrong at ``first_bad_seq``: ``hash`` (an entry edited, inserted, reordered or
    deleted), ``counts`` (an entry moving a ticket type's counts does not start where the
    previous one left them), ``truncated`` (the newest entries or the head were deleted, or
    the chain ends before a head anchored outside the database), ``rewritten`` (hashes
    recomputed without the audit key, or an anchored head the chain no longer holds); null
    when ``ok``. ``old_count_breaks``: count breaks in entries written before the
    server checked counts, reported and not failed."""

    ok: bool
    entries_checked: int
    first_bad_seq: int | None
    problem: Literal["hash", "counts", "truncated", "rewritten"] | None = None
    old_count_breaks: int = 0


class SalesPage(Response):
    sales: list[Sale]
    next_cursor: str | None


# --- holds ------------------------------------------------------------------------------------

MAX_HOLD_LINES = MAX_LINES


class HoldLineIn(SaleLineIn):
    """One ticket type to hold: ``quantity`` 1..=50."""


class Customer(Request):
    """Who the tickets are held for; ``name`` is required for a ``cash`` hold."""

    name: Annotated[str, Field(min_length=1, max_length=120, pattern=r"\S")]
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None


class HoldCreate(Request):
    """``POST /v1/holds``: hold ``lines`` (distinct ticket types of one event) for a while.

    ``kind`` ``checkout`` (a basket being paid now, 15 minutes by default) or ``cash``
    (pay-later at the box office, 4 hours by default, ``customer`` with a name required).
    ``ttl_seconds`` may shorten the kind's default (1 ..= default), never lengthen it; the
    server refuses a longer one with 422 ``invalid_request``.

    ``replaces`` (an extension of ``shared/API.md``, for a basket that grows or shrinks while
    the customer pays, or a basket's checkout hold becoming a cash hold): the id or code of an
    active hold placed at this terminal (a manager: any; a channel token: its own), released
    in the same transaction as the new hold is placed; when the new hold is refused, the old
    one stands.
    """

    kind: Literal["checkout", "cash"]
    lines: Annotated[list[HoldLineIn], Field(min_length=1, max_length=MAX_HOLD_LINES)]
    customer: Customer | None = None
    ttl_seconds: Annotated[int, Field(ge=1, le=MAX_TTL_SECONDS)] | None = None
    replaces: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$")] \
        | None = None

    @model_validator(mode="after")
    def _valid(self) -> HoldCreate:
        ids = [line.ticket_type_id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise ValueError("each ticket type may appear on one line only")
        if self.kind == "cash" and self.customer is None:
            raise ValueError("a cash hold needs customer.name")
        return self


class HoldRelease(Request):
    """``POST /v1/holds/{id or code}/release``: why the tickets go back (optional)."""

    reason: Annotated[str, Field(max_length=500)] | None = None


class HoldLine(Response):
    ticket_type_id: int
    name: str
    quantity: int
    unit_price: int
    amount: int


class CustomerOut(Response):
    name: str
    phone: str | None
    email: str | None


class Hold(Response):
    """A hold. ``status`` reads ``expired`` from the instant ``expires_at`` passes (server
    clock), whether or not the sweeper has run; ``ended_at`` is when it was converted,
    released or expired; ``sale_id`` the sale it became (``converted`` only)."""

    id: str
    code: str
    kind: Literal["checkout", "cash"]
    status: Literal["active", "converted", "released", "expired"]
    event_id: str
    lines: list[HoldLine]
    total: int
    currency: str
    customer: CustomerOut | None
    created_at: AwareDatetime
    expires_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    terminal_id: int | None
    staff_id: int | None
    shift_id: int | None = None
    channel: str
    release_reason: str | None = None
    sale_id: str | None = None


class HoldList(Response):
    """``GET /v1/holds``: newest first; ``next_cursor`` pages on (``null`` at the end)."""

    holds: list[Hold]
    next_cursor: str | None


# --- webhooks (issue 6) -----------------------------------------------------------------------


class WebhookOut(Response):
    """A webhook as ``GET /v1/webhooks`` shows it, never with its secret, and with its
    URL's path and query cut to ``/...`` (they are often the receiver's own credential;
    ``pos-app admin list-webhooks`` on the server shows them whole).

    ``last_seq`` is the newest stock alert it is done with (delivered, or failed for good);
    ``pending`` the alerts after it still to post (0 once removed); ``attempts`` the failed
    tries of the next alert and ``next_attempt_at`` when it is tried again (null when it is
    not backing off)."""

    id: int
    url: str
    active: bool
    created_at: AwareDatetime
    removed_at: AwareDatetime | None
    last_seq: int
    pending: int
    attempts: int
    next_attempt_at: AwareDatetime | None


class WebhookList(Response):
    """``GET /v1/webhooks``: every webhook, removed ones included, oldest first."""

    webhooks: list[WebhookOut]


class WebhookCreated(Response):
    """``pos-app admin add-webhook``: the new webhook and its signing ``secret``, shown only
    this once. Alerts after ``last_seq`` (the newest when it was added) are posted to it."""

    id: int
    url: str
    secret: str
    created_at: AwareDatetime
    last_seq: int


class WebhookDeliveryOut(Response):
    """One attempt to post one stock alert (``alert_seq``) to a webhook. ``delivery_id`` is
    the ``X-POS-Delivery`` header, the same for every attempt of that alert to that webhook;
    ``status_code`` is null when no answer came (then ``error`` says why)."""

    id: int
    webhook_id: int
    alert_seq: int
    delivery_id: str
    attempt: int
    at: AwareDatetime
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: Literal["delivered", "retrying", "failed"]


class WebhookDeliveryPage(Response):
    """``GET /v1/webhooks/{id}/deliveries``: newest first; ``next_cursor`` pages on."""

    deliveries: list[WebhookDeliveryOut]
    next_cursor: str | None


class WebhookEventRef(Response):
    """The event of a posted stock alert."""

    id: str
    name: str
    venue: str
    starts_at: AwareDatetime


class WebhookTicketTypeRef(Response):
    """The ticket type of a posted stock alert."""

    id: int
    name: str


class StockAlertWebhook(Response):
    """The JSON body a webhook receives for one stock alert (header ``X-POS-Event:
    stock_alert``): the crossing of rung ``level`` of the ticket type's ``alert_ladder``,
    ``available`` tickets left right after it, and ``capacity``, ``sold`` and ``held`` at
    that moment. ``text`` says the same in one line for chat or SMS relays."""

    type: Literal["stock_alert"] = "stock_alert"
    seq: int
    at: AwareDatetime
    event: WebhookEventRef
    ticket_type: WebhookTicketTypeRef
    level: int
    available: int
    capacity: int
    sold: int
    held: int
    text: str


# --- reports (issue 6) ------------------------------------------------------------------------

MAX_REPORT_POINTS = 500
"""Most buckets a sales report spans (``GET /v1/reports/sales``): a wider window or a smaller
bucket is refused as invalid_request, so one report stays a small answer and a short query."""
MAX_REPORT_BUCKET_SECONDS = 366 * 86400  # one bucket of a year at most


class SalesPoint(Response):
    """One bucket of one channel's sales: ``at`` is the bucket's start (UTC); ``tickets`` and
    ``amount`` (minor units of the report's ``currency``) are net of refunds made in that
    bucket, so either may be negative."""

    at: AwareDatetime
    tickets: int
    amount: int


class ChannelSeries(Response):
    """One channel's buckets, oldest first; buckets without a sale or refund are left out."""

    channel: str
    points: list[SalesPoint]


class TicketTypeChannels(Response):
    """Net tickets of one ticket type by the channel that sold them (every channel of the
    report, 0 included)."""

    ticket_type_id: int
    by_channel: dict[str, int]


class SalesReport(Response):
    """``GET /v1/reports/sales`` (manager): an event's sales by channel, per ticket type and
    over time, in the window ``[start, end)``.

    Tickets are net of refunds: a sale counts in its bucket and channel when it was made, a
    refunded ticket is taken off the original sale's channel in the bucket of the refund.
    Without ``from`` / ``to`` the window runs from the event's first sale to now, so
    ``by_channel`` then equals the ticket types' ``sold`` (box office + online + ...).
    Buckets are ``bucket_seconds`` wide, aligned to multiples of it since the Unix epoch."""

    event_id: str
    currency: str
    bucket_seconds: int
    start: AwareDatetime
    end: AwareDatetime
    channels: list[str]
    ticket_types: list[TicketTypeChannels]
    series: list[ChannelSeries]
