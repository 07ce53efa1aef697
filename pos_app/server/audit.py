"""The append-only audit log with a SHA-256 hash chain.

Each entry's ``hash = sha256(prev_hash + canonical_json(entry))`` where the canonical JSON
has sorted keys, no spaces, ``at`` as RFC 3339 UTC with microseconds, and every column except
``hash`` (``seq`` and ``prev_hash`` included, so reordering or deleting an entry breaks the
chain). The first entry's ``prev_hash`` is :data:`GENESIS_HASH`.

Appends must be serial: on SQLite they run inside :meth:`Database.write` (writer lock); on
PostgreSQL :func:`append` first takes the transaction-level advisory lock :data:`CHAIN_LOCK`
(:func:`lock_chain`, ``pg_advisory_xact_lock``, released only by commit or rollback) and only
then reads the tail. Under READ COMMITTED that read sees the previous holder's committed
entries (its commit is visible before its locks are released), so concurrent transactions
never fork the chain nor collide on ``seq``. Append last, just before commit: every other
appender waits from here to this transaction's commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from pos_app.server import sql
from pos_app.server.models import AuditEntry, AuditHead

__all__ = ["CHAIN_LOCK", "COUNT_ECHOES", "GENESIS_HASH", "PROBLEMS", "AuditRecord",
           "VerifyResult", "append", "entry_hash", "install_session_hooks", "lock_chain",
           "verify"]

GENESIS_HASH = "0" * 64

CHAIN_LOCK = 0x706F_7301
"""PostgreSQL advisory lock key (bigint) serialising appends to the chain (and, through
:func:`pos_app.server.services.inventory.bump_counters`, inventory versions)."""

_FIELDS = ("seq", "at", "action", "staff_id", "terminal_id", "channel", "shift_id",
           "approved_by", "ticket_type_id", "quantity", "before_capacity", "before_sold",
           "before_held", "after_capacity", "after_sold", "after_held", "ref_type", "ref_id",
           "reason", "prev_hash")
_SORTED_FIELDS = tuple(sorted(_FIELDS))


@dataclass(frozen=True)
class AuditRecord:
    """What happened, as given by the caller of :func:`append` (counts are ticket counts)."""

    action: str
    staff_id: int | None = None
    terminal_id: int | None = None
    channel: str | None = None
    shift_id: int | None = None
    approved_by: int | None = None  # the manager who authorised it (refunds, variances)
    ticket_type_id: int | None = None
    quantity: int | None = None
    before: tuple[int, int, int] | None = None  # (capacity, sold, held)
    after: tuple[int, int, int] | None = None
    ref_type: str | None = None  # sale | hold | refund | shift | ticket_type
    ref_id: str | None = None
    reason: str | None = None


PROBLEMS = ("hash", "counts", "truncated")
"""What :func:`verify` may find wrong (:attr:`VerifyResult.problem`): ``hash``, an entry
edited, inserted, reordered or deleted (its ``seq``, ``prev_hash`` or ``hash`` is not what
the chain says); ``counts``, an entry moving a ticket type's counts that does not start
from the counts the previous such entry left; ``truncated``, the walk does not end at the
recorded head (the newest entries, or the head, were deleted)."""

COUNT_ECHOES = frozenset({"stock_alert"})
"""Actions whose entries repeat the counts of the change they belong to (a rung crossed by
a sale names the sale's before/after): not moves of their own, so not in the count check."""


class VerifyResult(NamedTuple):
    """Outcome of :func:`verify`: ``ok``, how many entries were checked, the ``seq`` of the
    first bad entry and what was wrong with it (:data:`PROBLEMS`), both None when ``ok``;
    ``old_count_breaks``: count breaks among entries written before the count check came
    in (``audit_head.counts_from_seq``), reported, not failed."""

    ok: bool
    entries_checked: int
    first_bad_seq: int | None
    problem: str | None = None
    old_count_breaks: int = 0


def _hash_of(data: Mapping[str, Any]) -> str:
    """SHA-256 hex of ``prev_hash + canonical JSON`` of an entry's fields (``data`` holds
    at least :data:`_FIELDS`)."""
    # Keys in sorted order (the canonical form sorts them) so json needs no sort; the time
    # as "%Y-%m-%dT%H:%M:%S.%fZ", written without strftime (the hot part of a verify).
    canonical: dict[str, Any] = {name: data[name] for name in _SORTED_FIELDS}
    at: datetime = canonical["at"]
    canonical["at"] = at.astimezone(UTC).replace(tzinfo=None).isoformat(
        timespec="microseconds") + "Z"
    text_ = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((str(data["prev_hash"]) + text_).encode("utf-8")).hexdigest()


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 hex of ``entry.prev_hash + canonical_json(entry)``."""
    return _hash_of({name: getattr(entry, name) for name in _FIELDS})


_LOCK_CHAIN = sql.Statement("SELECT 1", postgresql=f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")
_TAIL = sql.Statement("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
_INSERT = sql.Statement(
    f"INSERT INTO audit_log ({', '.join((*_FIELDS, 'hash'))}) "
    f"VALUES ({', '.join(':' + name for name in (*_FIELDS, 'hash'))})")
_HEAD = sql.Statement("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1")


_CHAIN_HELD = "pos_audit_chain_held"  # session.info: the lock was taken outside savepoints
_TAIL_INFO = "pos_audit_tail"  # session.info: (seq, hash) this transaction last appended


def lock_chain(session: Session) -> None:
    """PostgreSQL: take the chain's advisory lock :data:`CHAIN_LOCK` in ``session``'s
    transaction (waits for the current holder's commit; held to the end of this transaction).
    Taken outside any savepoint, it is remembered and not asked for again in this
    transaction (a savepoint rollback releases locks taken inside it, so those are asked for
    each time). :meth:`pos_app.server.db.Database.write` takes it first thing in every write
    transaction on PostgreSQL, so every writer locks the chain before any row: one lock
    order, no deadlock between a group-commit batch (chain held, next unit guarding a row)
    and another writer (row locked, waiting for the chain). No-op on SQLite, whose writers
    are already serial."""
    if sql.dialect(session) != "postgresql" or session.info.get(_CHAIN_HELD):
        return
    # Deferred: sent first in this transaction's next round trip (nothing reads its result,
    # and statements keep their order, so it is still taken before any row lock).
    sql.defer(session, _LOCK_CHAIN, {})
    if not session.in_nested_transaction():
        session.info[_CHAIN_HELD] = True


def install_session_hooks(factory: sessionmaker[Session]) -> None:
    """Forget the remembered chain lock and tail when a transaction ends, and the tail when
    a savepoint rolls back (its append may be undone); done by
    :class:`pos_app.server.db.Database` for its write sessions."""

    def committed(session: Session) -> None:
        if not session.in_transaction():  # the outer COMMIT, not a RELEASE SAVEPOINT
            session.info.pop(_CHAIN_HELD, None)
            session.info.pop(_TAIL_INFO, None)

    def rolled_back(session: Session, previous: SessionTransaction) -> None:
        session.info.pop(_TAIL_INFO, None)
        if not previous.nested:
            session.info.pop(_CHAIN_HELD, None)

    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_soft_rollback", rolled_back)


def append(session: Session, records: list[AuditRecord], at: datetime) -> None:
    """Append ``records`` (in order) to the chain inside ``session``'s transaction, in one
    INSERT.

    ``at`` is the server-clock time of the change (timezone-aware). On PostgreSQL this
    serialises with every other appender until this transaction ends (:func:`lock_chain`):
    call it last, just before commit. Runs as raw statements (:mod:`pos_app.server.sql`):
    it is on every sale's path.
    """
    if not records:
        return
    lock_chain(session)
    tail = session.info.get(_TAIL_INFO)  # what this transaction appended last, if anything
    if tail is None:
        tail = sql.execute(session, _TAIL).fetchone()
    seq, prev = (int(tail[0]), str(tail[1])) if tail is not None else (0, GENESIS_HASH)
    at = at.astimezone(UTC)
    stored_at = sql.db_time(session, at)
    rows: list[dict[str, Any]] = []
    for record in records:
        seq += 1
        before = record.before or (None, None, None)
        after = record.after or (None, None, None)
        row: dict[str, Any] = {
            "seq": seq, "at": at, "action": record.action, "staff_id": record.staff_id,
            "terminal_id": record.terminal_id, "channel": record.channel,
            "shift_id": record.shift_id, "approved_by": record.approved_by,
            "ticket_type_id": record.ticket_type_id, "quantity": record.quantity,
            "before_capacity": before[0], "before_sold": before[1], "before_held": before[2],
            "after_capacity": after[0], "after_sold": after[1], "after_held": after[2],
            "ref_type": record.ref_type, "ref_id": record.ref_id, "reason": record.reason,
            "prev_hash": prev,
        }
        row["hash"] = prev = _hash_of(row)
        row["at"] = stored_at
        rows.append(row)
    sql.defer(session, _INSERT, rows)
    sql.defer(session, _HEAD, {"seq": seq, "hash": prev})
    session.info[_TAIL_INFO] = (seq, prev)


def verify(session: Session, *, batch: int = 5000,
           counts_from: int | None = None) -> VerifyResult:
    """Walk the chain in ``seq`` order up to its recorded head, recompute every hash and
    check that the counts follow on.

    Returns ``ok=False`` at the first entry, in ``seq`` order, that is wrong
    (:data:`PROBLEMS`):

    * ``hash``: its ``seq`` is not the next number, its ``prev_hash`` is not the previous
      entry's hash, or its ``hash`` does not match;
    * ``counts``: it moves a ticket type's counts (an entry with a ticket type and
      before/after counts: sale, hold, release, expire, refund, capacity change, edit;
      not the :data:`COUNT_ECHOES`) and its before ``(capacity, sold, held)`` is not the
      after of the previous entry moving that ticket type. A break where the entry, or the
      one before it, was written before ``audit_head.counts_from_seq`` (the upgrade that
      brought this check) is counted in ``old_count_breaks`` instead;
    * ``truncated``: the walk does not end exactly at the head (:class:`AuditHead`): the
      newest entries were deleted, or the head was removed (``first_bad_seq``: the first
      missing seq).

    Entries appended while the walk runs (beyond the head read at its start) are left for
    the next verification. Rows are read as plain column tuples, ``batch`` at a time: ORM
    objects cost three times as much on a long log. ``counts_from`` stands in for
    ``audit_head.counts_from_seq`` on a database not yet migrated to have it.
    """
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
                           ).first()
    if head is None:
        return VerifyResult(ok=False, entries_checked=0, first_bad_seq=1, problem="truncated")
    head_seq, head_hash = int(head[0]), str(head[1])
    if counts_from is None:
        counts_from = int(session.scalar(select(AuditHead.counts_from_seq)
                                         .where(AuditHead.id == 1)) or 0)
    prev, expected_seq, checked, old_breaks = GENESIS_HASH, 1, 0, 0
    last_seq = 0
    # ticket type id -> (its last move's after counts, that entry's seq)
    moved: dict[int, tuple[tuple[Any, Any, Any], int]] = {}
    columns = [getattr(AuditEntry, name) for name in _FIELDS]
    while True:
        rows = session.execute(
            select(*columns, AuditEntry.hash)
            .where(AuditEntry.seq > last_seq, AuditEntry.seq <= head_seq)
            .order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            if last_seq != head_seq or prev != head_hash:
                return VerifyResult(False, checked, last_seq + 1, "truncated", old_breaks)
            return VerifyResult(True, checked, None, None, old_breaks)
        for row in rows:
            checked += 1
            fields = dict(zip(_FIELDS, row, strict=False))
            seq, stored_hash = fields["seq"], row[-1]
            if seq != expected_seq or fields["prev_hash"] != prev \
                    or stored_hash != _hash_of(fields):
                return VerifyResult(False, checked, seq, "hash", old_breaks)
            prev, expected_seq, last_seq = stored_hash, seq + 1, seq
            tt = fields["ticket_type_id"]
            if tt is None or fields["after_sold"] is None or fields["before_sold"] is None \
                    or fields["action"] in COUNT_ECHOES:
                continue
            before = (fields["before_capacity"], fields["before_sold"], fields["before_held"])
            last = moved.get(tt)
            if last is not None and last[0] != before:
                if last[1] <= counts_from:  # written before the check, or right across it
                    old_breaks += 1
                else:
                    return VerifyResult(False, checked, seq, "counts", old_breaks)
            moved[tt] = ((fields["after_capacity"], fields["after_sold"],
                          fields["after_held"]), seq)
