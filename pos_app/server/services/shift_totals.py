"""A shift's totals as the API answers them (``schemas.Shift``), read in bulk.

:func:`shift_reports` reads the totals of many shifts with one grouped query per kind of
total (cash sales, cash refunds, tickets by type, holds by what became of them, cash
movements, first and last sale number, the variance approval, the names of the staff and
terminal), never one query per shift; :func:`shift_out` turns one into the wire schema.

The variance approval is not a column of ``shifts``: it is the ``approved_by`` of the
shift's ``shift_close`` audit entry (written in the close's transaction), so no migration was
needed for it. Money is minor units of the shift's currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.domain import cashup
from pos_app.server.models import (
    AuditEntry,
    CashMovement,
    Hold,
    Refund,
    Sale,
    SaleLine,
    Shift,
    Staff,
    Terminal,
    TicketType,
)

__all__ = ["MONEY_FIELDS", "ShiftReport", "blind", "movement_out", "shift_out",
           "shift_reports"]

MONEY_FIELDS = ("opening_float", "sales", "refunds", "pay_ins", "pay_outs", "drops",
                "ticket_types", "cash_movements")
"""The totals of ``schemas.Shift`` that add up to the expected cash (float + cash sales -
refunds + pay-ins - pay-outs - drops; tickets by type times their prices give the sales)."""


@dataclass
class ShiftReport:
    """One shift's totals, read in bulk by :func:`shift_reports`.

    Attributes:
        sales, refunds: the shift's cash sales and cash refunds (count, minor units).
        ticket_types: tickets sold for cash, by ticket type.
        holds: hold counts by state (``active``, ``converted``, ``released``, ``expired``).
        movements: pay-ins, pay-outs and drops in the order recorded.
        first_sale, last_sale: the lowest and highest sale number of the shift (any
            payment method), ``None`` without sales.
        approved_by: staff id of the manager who approved the close's variance, or ``None``.
        names: display names of the staff named by the shift (opened, closed, approved) and
            ``terminal_name``.
    """

    sales: schemas.ShiftTotal
    refunds: schemas.ShiftTotal
    ticket_types: list[schemas.ShiftTicketTypeTotal] = field(default_factory=list)
    holds: dict[str, int] = field(default_factory=dict)
    movements: list[CashMovement] = field(default_factory=list)
    first_sale: int | None = None
    last_sale: int | None = None
    approved_by: int | None = None
    names: dict[int, str] = field(default_factory=dict)
    terminal_name: str | None = None

    def moved(self, kind: str) -> int:
        """Sum of the movements of ``kind`` (``pay_in``, ``pay_out``, ``drop``)."""
        return sum(m.amount for m in self.movements if m.kind == kind)

    def drawer(self, opening_float: int) -> cashup.DrawerTotals:
        """What went in and out of the drawer, for :func:`cashup.expected_cash`."""
        return cashup.DrawerTotals(
            opening_float=opening_float, cash_sales=self.sales.amount,
            cash_refunds=self.refunds.amount, pay_ins=self.moved("pay_in"),
            pay_outs=self.moved("pay_out"), drops=self.moved("drop"))


def shift_reports(session: Session, shifts: Sequence[Shift], now: datetime, *,
                  approved: Mapping[int, int] | None = None) -> dict[int, ShiftReport]:
    """Totals of ``shifts`` by shift id; holds still active past their expiry at ``now``
    count as expired. ``approved`` (shift id -> manager's staff id) gives approvals not yet
    in the audit log (the close being written)."""
    ids = [s.id for s in shifts]
    zero = schemas.ShiftTotal(count=0, amount=0)
    reports = {i: ShiftReport(sales=zero, refunds=zero) for i in ids}
    if not ids:
        return reports

    def at(shift_id: int | None) -> ShiftReport:  # rows are filtered by shift_id IN ids
        assert shift_id is not None
        return reports[shift_id]

    for shift_id, count, amount in session.execute(
            select(Sale.shift_id, func.count(Sale.id), func.coalesce(func.sum(Sale.total), 0))
            .where(Sale.shift_id.in_(ids), Sale.method == "cash").group_by(Sale.shift_id)):
        at(shift_id).sales = schemas.ShiftTotal(count=count, amount=int(amount))
    for shift_id, first, last in session.execute(
            select(Sale.shift_id, func.min(Sale.number), func.max(Sale.number))
            .where(Sale.shift_id.in_(ids)).group_by(Sale.shift_id)):
        at(shift_id).first_sale, at(shift_id).last_sale = first, last
    for shift_id, count, amount in session.execute(
            select(Refund.shift_id, func.count(Refund.id),
                   func.coalesce(func.sum(Refund.amount), 0))
            .where(Refund.shift_id.in_(ids), Refund.method == "cash")
            .group_by(Refund.shift_id)):
        at(shift_id).refunds = schemas.ShiftTotal(count=count, amount=int(amount))
    for shift_id, tt_id, event_id, name, tickets, amount in session.execute(
            select(Sale.shift_id, SaleLine.ticket_type_id, TicketType.event_id, TicketType.name,
                   func.sum(SaleLine.quantity), func.sum(SaleLine.amount))
            .join(SaleLine, SaleLine.sale_id == Sale.id)
            .join(TicketType, TicketType.id == SaleLine.ticket_type_id)
            .where(Sale.shift_id.in_(ids), Sale.method == "cash")
            .group_by(Sale.shift_id, SaleLine.ticket_type_id, TicketType.event_id,
                      TicketType.name)
            .order_by(Sale.shift_id, SaleLine.ticket_type_id)):
        at(shift_id).ticket_types.append(schemas.ShiftTicketTypeTotal(
            ticket_type_id=tt_id, event_id=event_id, name=name, tickets=int(tickets),
            amount=int(amount)))
    state = case((and_(Hold.status == "active", Hold.expires_at <= now), "expired"),
                 else_=Hold.status)
    for shift_id, hold_state, count in session.execute(
            select(Hold.shift_id, state, func.count(Hold.id))
            .where(Hold.shift_id.in_(ids)).group_by(Hold.shift_id, state)):
        at(shift_id).holds[str(hold_state)] = int(count)
    for movement in session.scalars(select(CashMovement).where(CashMovement.shift_id.in_(ids))
                                    .order_by(CashMovement.id)):
        reports[movement.shift_id].movements.append(movement)
    for shift_id, approver in session.execute(
            select(AuditEntry.shift_id, AuditEntry.approved_by)
            .where(AuditEntry.shift_id.in_(ids), AuditEntry.action == "shift_close",
                   AuditEntry.approved_by.is_not(None))):
        at(shift_id).approved_by = approver
    for shift_id, approver in (approved or {}).items():
        if shift_id in reports:
            reports[shift_id].approved_by = approver
    _names(session, shifts, reports)
    return reports


def _names(session: Session, shifts: Sequence[Shift], reports: dict[int, ShiftReport]) -> None:
    """Fill each report's staff and terminal names (two queries for all of them)."""
    staff_ids = {i for s in shifts for i in (s.opened_by, s.closed_by,
                                            reports[s.id].approved_by) if i is not None}
    names = {i: n for i, n in session.execute(
        select(Staff.id, Staff.display_name).where(Staff.id.in_(staff_ids)))}
    terminals = {i: n for i, n in session.execute(
        select(Terminal.id, Terminal.name).where(
            Terminal.id.in_({s.terminal_id for s in shifts})))}
    for shift in shifts:
        report = reports[shift.id]
        report.names = names
        report.terminal_name = terminals.get(shift.terminal_id)


def movement_out(movement: CashMovement, currency: str) -> schemas.CashMovement:
    """The wire form of one cash movement."""
    return schemas.CashMovement(
        id=movement.id, shift_id=movement.shift_id, kind=movement.kind,
        amount=movement.amount, currency=currency, reason=movement.reason,
        created_at=movement.created_at, staff_id=movement.staff_id)


def shift_out(shift: Shift, report: ShiftReport) -> schemas.Shift:
    """The wire form of ``shift`` with its totals ``report``."""
    holds = report.holds
    names = report.names

    def name(staff_id: int | None) -> str | None:
        return names.get(staff_id) if staff_id is not None else None

    return schemas.Shift(
        id=shift.id, terminal_id=shift.terminal_id, terminal_name=report.terminal_name,
        status=shift.status, currency=shift.currency, opening_float=shift.opening_float,
        opened_at=shift.opened_at, opened_by=shift.opened_by,
        opened_by_name=name(shift.opened_by), closed_at=shift.closed_at,
        closed_by=shift.closed_by, closed_by_name=name(shift.closed_by),
        expected_cash=shift.expected_cash, counted_cash=shift.counted_cash,
        variance=shift.variance, note=shift.note, approved_by=report.approved_by,
        approved_by_name=name(report.approved_by), sales=report.sales,
        refunds=report.refunds, pay_ins=report.moved("pay_in"),
        pay_outs=report.moved("pay_out"), drops=report.moved("drop"),
        ticket_types=report.ticket_types,
        holds=schemas.ShiftHoldCounts(
            placed=sum(holds.values()), active=holds.get("active", 0),
            converted=holds.get("converted", 0), released=holds.get("released", 0),
            expired=holds.get("expired", 0)),
        first_sale_number=report.first_sale, last_sale_number=report.last_sale,
        cash_movements=[movement_out(m, shift.currency) for m in report.movements])


def blind(shift: schemas.Shift) -> schemas.Shift:
    """``shift`` as a cashier reads it while it is open: :data:`MONEY_FIELDS` ``null`` and
    ``blind`` true, so the expected cash cannot be worked out before the count (issue 16).
    ``expected_cash``, ``counted_cash`` and ``variance`` are ``null`` while open anyway."""
    return shift.model_copy(update={**dict.fromkeys(MONEY_FIELDS), "blind": True})
