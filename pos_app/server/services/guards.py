"""Every move of a ticket type's counts, in one place: each is one guarded ``UPDATE
ticket_types ... WHERE id = :id AND <guard> RETURNING capacity, sold, held``.

The guard is the inventory's invariant, enforced by the database on the row it changes, so
two terminals racing for the last ticket cannot both pass (PostgreSQL re-checks the
``WHERE`` on the row version it locks; SQLite has one writer at a time):

* ``sold + held <= limit`` when tickets are held or sold (``limit`` is ``capacity`` for the
  box office, the public limit for a channel: :func:`pos_app.server.services.holds.guard_limit`);
* ``capacity + delta >= sold + held`` when capacity shrinks;
* no count below zero when tickets go back (a release, an expiry, a refund).

Every move bumps the row's ``version`` (the live inventory's change marker). What comes back
is the row's counts *after* the move (:data:`Counts`, ``(capacity, sold, held)``): the audit
log's before/after counts are these, never a separate read. A refused move that the caller
can answer (not enough tickets) returns ``None``; one that would break a count the database
already holds for a hold or a sale (a release of more than is held) raises
:class:`CountsOutOfStep`, since it means the rows disagree and nothing may be written.

Callers move several ticket types in ascending id order (concurrent moves lock rows in the
same order) inside a SAVEPOINT, rolled back on the first refusal.

The sale of lines, the hot path, sends its guard as a raw statement in a pipeline
(:mod:`pos_app.server.sql`); its text is here too (:data:`SELL_BOX_OFFICE`,
:data:`SELL_CHANNEL`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from pos_app.server import sql
from pos_app.server.models import TicketType
from pos_app.server.services.changes import Counts
from pos_app.server.services.inventory import SALE_NUMBER_SEQUENCE

__all__ = ["SELL_BOX_OFFICE", "SELL_CHANNEL", "CountsOutOfStep", "change_capacity", "edit",
           "hold", "release", "sell_held", "unsell"]


class CountsOutOfStep(RuntimeError):
    """A move back (release, expiry, payment of a hold, refund) found fewer tickets held or
    sold than the hold or sale it undoes: the rows disagree, so the transaction must not
    commit (a 500 and a log line, never a negative count)."""


_RETURNING = (TicketType.capacity, TicketType.sold, TicketType.held)


def _counts(row: Sequence[Any]) -> Counts:
    return int(row[0]), int(row[1]), int(row[2])


def _move(session: Session, ticket_type_id: int, guard: ColumnElement[bool] | None,
          *returning: Any, **values: Any) -> Sequence[Any] | None:
    statement = update(TicketType).where(TicketType.id == ticket_type_id)
    if guard is not None:
        statement = statement.where(guard)
    row = session.execute(
        statement.values(**values, version=TicketType.version + 1)
        .returning(*_RETURNING, *returning)
        .execution_options(synchronize_session=False)).first()
    return None if row is None else tuple(row)


def hold(session: Session, ticket_type_id: int, quantity: int, *,
         limit: ColumnElement[int]) -> Counts | None:
    """Hold ``quantity`` more tickets: ``held += quantity`` while ``sold + held + quantity
    <= limit``; the counts after, or ``None`` when there are not enough left."""
    row = _move(session, ticket_type_id,
                TicketType.sold + TicketType.held + quantity <= limit,
                held=TicketType.held + quantity)
    return None if row is None else _counts(row)


def release(session: Session, ticket_type_id: int, quantity: int, *, of: str) -> Counts:
    """Give back ``quantity`` held tickets (a hold released or expired; ``of`` names it for
    the error): ``held -= quantity``; the counts after.

    Raises:
        CountsOutOfStep: fewer than ``quantity`` are held.
    """
    row = _move(session, ticket_type_id, TicketType.held >= quantity,
                held=TicketType.held - quantity)
    if row is None:
        raise CountsOutOfStep(f"ticket type {ticket_type_id} holds fewer tickets than {of} "
                              f"({quantity}); refusing to go negative")
    return _counts(row)


def sell_held(session: Session, ticket_type_id: int, quantity: int, *,
              of: str) -> tuple[Counts, list[int]]:
    """Sell ``quantity`` held tickets (a hold paid; ``of`` names it): ``held -= quantity``,
    ``sold += quantity``; the counts after and the ticket type's alert ladder.

    Raises:
        CountsOutOfStep: fewer than ``quantity`` are held.
    """
    row = _move(session, ticket_type_id, TicketType.held >= quantity,
                TicketType.alert_ladder, held=TicketType.held - quantity,
                sold=TicketType.sold + quantity)
    if row is None:
        raise CountsOutOfStep(f"ticket type {ticket_type_id} holds fewer tickets than {of}; "
                              "refusing to go negative")
    return _counts(row), list(row[3] or [])


def unsell(session: Session, ticket_type_id: int, quantity: int, *, of: str) -> Counts:
    """Take back ``quantity`` sold tickets (a refund; ``of`` names the sale): ``sold -=
    quantity``; the counts after.

    Raises:
        CountsOutOfStep: fewer than ``quantity`` are sold.
    """
    row = _move(session, ticket_type_id, TicketType.sold >= quantity,
                sold=TicketType.sold - quantity)
    if row is None:
        raise CountsOutOfStep(f"ticket type {ticket_type_id} has fewer sold tickets than the "
                              f"{quantity} valid tickets of {of}; refusing to go negative")
    return _counts(row)


def change_capacity(session: Session, ticket_type_id: int, delta: int) -> Counts | None:
    """``capacity += delta``; a decrease only while ``capacity + delta >= sold + held``. The
    counts after, or ``None`` when it would fall below what is sold and held."""
    guard = (TicketType.capacity + delta >= TicketType.sold + TicketType.held
             if delta < 0 else None)
    row = _move(session, ticket_type_id, guard, capacity=TicketType.capacity + delta)
    return None if row is None else _counts(row)


def edit(session: Session, ticket_type_id: int, **values: Any) -> Counts:
    """Set fields that move no count (public limit, thresholds, ladder, price), bumping the
    version like every move; the counts as they stand (the audit entry's before and after).

    Raises:
        LookupError: there is no such ticket type.
    """
    row = _move(session, ticket_type_id, None, **values)
    if row is None:
        raise LookupError(f"ticket type {ticket_type_id} does not exist")
    return _counts(row)


# --- the sale of lines (raw statements, sent ahead in a pipeline) ---------------------------

_SELL = ("UPDATE ticket_types SET sold = sold + :q, version = version + 1 "
         "WHERE id = :id AND sold + held + :q <= {limit} RETURNING capacity, sold, held, ")
_PUBLIC_LIMIT = ("CASE WHEN public_limit IS NOT NULL AND public_limit < capacity "
                 "THEN public_limit ELSE capacity END")


def _sell(limit: str) -> tuple[sql.Statement, sql.Statement]:
    """The sale guard against ``limit``, plain and numbered: the numbered one (a sale's last
    guard) also takes the sale number on PostgreSQL (``nextval`` in ``RETURNING`` runs only
    when the row passed, so a refusal takes no number); on SQLite it returns NULL there and
    :func:`pos_app.server.services.inventory.next_sale_number` follows. Parameters ``:id``,
    ``:q``; returns ``capacity, sold, held, number``, or no row when refused."""
    text = _SELL.format(limit=limit)
    return (sql.Statement(text + "NULL"),
            sql.Statement(text + "NULL",
                          postgresql=text + f"nextval('{SALE_NUMBER_SEQUENCE}')"))


SELL_BOX_OFFICE = _sell("capacity")
"""``sold += :q`` while ``sold + held + :q <= capacity`` (plain, numbered)."""
SELL_CHANNEL = _sell(_PUBLIC_LIMIT)
"""``sold += :q`` while ``sold + held + :q`` stays within the public limit (plain, numbered;
:func:`pos_app.server.services.holds.guard_limit`, as SQL)."""
