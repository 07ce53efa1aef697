"""The append-only audit log, chained with HMAC-SHA256 under a key kept outside the database.

Each entry's ``hash = HMAC-SHA256(audit key, prev_hash + canonical_json(entry))`` (hex) where
the canonical JSON has sorted keys, no spaces, ``at`` as RFC 3339 UTC with microseconds, and
every column except ``hash`` (``seq`` and ``prev_hash`` included, so reordering or deleting an
entry breaks the chain). The first entry's ``prev_hash`` is :data:`GENESIS_HASH`. The key is
``DATA_DIR/secrets/audit.key`` (:mod:`pos_app.server.secrets_dir`), so a chain recomputed from
a copy of the database alone (plain SHA-256, or HMAC under another key) does not verify.
Entries written before the upgrade that brought the key keep their plain
``sha256(prev_hash + canonical_json(entry))``: the anchor file's ``upgrade`` line says up to
which ``seq`` (:mod:`pos_app.server.audit_anchors`), and the upgrade's own entry
(``audit_rekeyed``) says so in the log.

The head ``(seq, hash)`` is anchored outside the database as it moves (the anchor file,
at least every minute and at every shift close: :mod:`pos_app.server.services.anchoring`).
:func:`verify` reports (:data:`PROBLEMS`):

* ``hash``: an entry whose ``seq`` or ``prev_hash`` does not follow on (inserted, deleted,
  reordered), or whose stored hash does not match its content while the entry after it
  (under the key) does, or it is the newest entry: an edit in place;
* ``rewritten``: an entry whose stored hash is not valid under the key and is either the
  plain SHA-256 of its content or followed by an entry that is not valid under the key
  either (the hashes from there on were recomputed without the key); or an anchored
  ``(seq, hash)`` that the chain holds with another hash;
* ``truncated``: the chain ends before its recorded head, or before the newest anchor;
* ``counts``: see :func:`verify`.

What is appended after the newest anchor (at most a minute of entries, less after a shift
close) may be cut off unnoticed by someone who can write the database: the anchor bounds it.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.server import sql
from pos_app.server.audit_anchors import read_anchors
from pos_app.server.chain_key import Chain, ChainKey
from pos_app.server.models import AuditEntry, AuditHead
from pos_app.server.tx_state import state

__all__ = ["CHAIN_LOCK", "COUNT_ECHOES", "GENESIS_HASH", "PROBLEMS", "REKEYED", "Anchors",
           "AuditRecord", "VerifyResult", "append", "entry_hash", "lock_chain", "verify"]

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


PROBLEMS = ("hash", "counts", "truncated", "rewritten")
"""What :func:`verify` may find wrong (:attr:`VerifyResult.problem`): ``hash``, an entry
edited in place, inserted, reordered or deleted (its ``seq``, ``prev_hash`` or ``hash`` is
not what the chain says); ``counts``, an entry moving a ticket type's counts that does not
start from the counts the previous such entry left; ``truncated``, the walk does not end at
the recorded head or ends before the newest anchor (the newest entries, or the head, were
deleted); ``rewritten``, hashes recomputed without the audit key, or an anchored head the
chain no longer holds (module docstring)."""

REKEYED = "audit_rekeyed"
"""The action of the entry written at the upgrade that keyed the chain (its ``reason`` says
up to which ``seq`` the entries are plain SHA-256)."""

@dataclass(frozen=True)
class Anchors:
    """What :func:`verify` checks the chain against: entries up to ``keyed_after`` are plain
    SHA-256 (None: every entry is, a chain never upgraded), later ones keyed; ``hashes``
    maps each anchored ``seq`` to its hash."""

    keyed_after: int | None = 0
    hashes: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, chain: Chain) -> Anchors:
        """The anchors in ``chain.anchor_file``; with no file (or no anchor file at all)
        every entry is keyed and nothing is anchored.

        Raises:
            pos_app.server.audit_anchors.AnchorFileError: the file is not an anchor file.
        """
        anchors = read_anchors(chain.anchor_file) if chain.anchor_file is not None else None
        if not anchors:
            return cls()
        return cls(keyed_after=anchors[0].seq, hashes={a.seq: a.hash for a in anchors})


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


def _message(data: Mapping[str, Any]) -> bytes:
    """``prev_hash + canonical JSON`` of an entry's fields (``data`` holds at least
    :data:`_FIELDS`), UTF-8."""
    # Keys in sorted order (the canonical form sorts them) so json needs no sort; the time
    # as "%Y-%m-%dT%H:%M:%S.%fZ", written without strftime (the hot part of a verify).
    canonical: dict[str, Any] = {name: data[name] for name in _SORTED_FIELDS}
    at: datetime = canonical["at"]
    canonical["at"] = at.astimezone(UTC).replace(tzinfo=None).isoformat(
        timespec="microseconds") + "Z"
    text_ = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
    return (str(data["prev_hash"]) + text_).encode("utf-8")


def _hash_of(data: Mapping[str, Any], key: ChainKey | None) -> str:
    """The entry hash of ``data`` (:func:`_message`): HMAC-SHA256 under ``key``, or plain
    SHA-256 without one (entries from before the upgrade), hex."""
    message = _message(data)
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return key.hexdigest(message)


def entry_hash(entry: AuditEntry, key: ChainKey | None) -> str:
    """Hex hash of ``entry.prev_hash + canonical_json(entry)``: HMAC-SHA256 under ``key``,
    plain SHA-256 with None (the form of entries written before the chain was keyed)."""
    return _hash_of({name: getattr(entry, name) for name in _FIELDS}, key)


_LOCK_CHAIN = sql.Statement("SELECT 1", postgresql=f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")
_TAIL = sql.Statement("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
_INSERT = sql.Statement(
    f"INSERT INTO audit_log ({', '.join((*_FIELDS, 'hash'))}) "
    f"VALUES ({', '.join(':' + name for name in (*_FIELDS, 'hash'))})")
_HEAD = sql.Statement("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1")


def lock_chain(session: Session) -> None:
    """PostgreSQL: take the chain's advisory lock :data:`CHAIN_LOCK` in ``session``'s
    transaction (waits for the current holder's commit; held to the end of this transaction).
    It is remembered (:attr:`~pos_app.server.tx_state.TxState.chain_held`) and not asked for
    again in this transaction; a savepoint rollback, which releases locks taken inside it,
    puts the remembered flag back as the savepoint found it (:mod:`pos_app.server.tx_state`).
    :meth:`pos_app.server.db.Database.write` takes it first thing in every write
    transaction on PostgreSQL, so every writer locks the chain before any row: one lock
    order, no deadlock between a group-commit batch (chain held, next unit guarding a row)
    and another writer (row locked, waiting for the chain). No-op on SQLite, whose writers
    are already serial."""
    tx = state(session)
    if tx.dialect != "postgresql" or tx.chain_held:
        return
    # Deferred: sent first in this transaction's next round trip (nothing reads its result,
    # and statements keep their order, so it is still taken before any row lock).
    sql.defer(session, _LOCK_CHAIN, {})
    tx.chain_held = True


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
    tx = state(session)
    key = tx.audit_chain().key
    lock_chain(session)
    # What this transaction appended last and still stands (a savepoint's rollback puts it
    # back as the savepoint found it: pos_app.server.tx_state), else the stored tail.
    tail: Any = tx.audit_tail
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
        row["hash"] = prev = _hash_of(row, key)
        row["at"] = stored_at
        rows.append(row)
    sql.defer(session, _INSERT, rows)
    sql.defer(session, _HEAD, {"seq": seq, "hash": prev})
    tx.audit_tail = (seq, prev)


def verify(session: Session, *, anchors: Anchors | None = None, batch: int = 5000,
           counts_from: int | None = None) -> VerifyResult:
    """Walk the chain in ``seq`` order up to its recorded head, recompute every hash, check
    it against the anchors and check that the counts follow on.

    ``anchors`` defaults to those of the session's chain (:meth:`Anchors.of`); read them
    before this session reads anything (only committed heads are anchored, so anchors read
    first never run ahead of the head read here). Returns ``ok=False`` at the first entry,
    in ``seq`` order, that is wrong (:data:`PROBLEMS`):

    * ``hash``: its ``seq`` is not the next number, its ``prev_hash`` is not the previous
      entry's hash, or its ``hash`` does not match while the next entry's does (or it is the
      newest entry, and its hash is not plain SHA-256): an edit in place;
    * ``rewritten``: its hash is not valid under the key (plain SHA-256 up to
      ``anchors.keyed_after``) and is the plain SHA-256 of its content, or the next entry's
      is not valid either; or it is anchored with another hash;
    * ``counts``: it moves a ticket type's counts (an entry with a ticket type and
      before/after counts: sale, hold, release, expire, refund, capacity change, edit;
      not the :data:`COUNT_ECHOES`) and its before ``(capacity, sold, held)`` is not the
      after of the previous entry moving that ticket type. A break where the entry, or the
      one before it, was written before ``audit_head.counts_from_seq`` (the upgrade that
      brought this check) is counted in ``old_count_breaks`` instead;
    * ``truncated``: the walk does not end exactly at the head (:class:`AuditHead`), or the
      head is before the newest anchor: the newest entries were deleted, or the head was
      removed or moved back (``first_bad_seq``: the first missing seq).

    Entries appended while the walk runs (beyond the head read at its start) are left for
    the next verification. Rows are read as plain column tuples, ``batch`` at a time: ORM
    objects cost three times as much on a long log. ``counts_from`` stands in for
    ``audit_head.counts_from_seq`` on a database not yet migrated to have it.

    Raises:
        pos_app.server.audit_anchors.AnchorFileError: the chain's anchor file is not one.
    """
    chain = state(session).audit_chain()
    key = chain.key
    if anchors is None:
        anchors = Anchors.of(chain)
    keyed_after = anchors.keyed_after
    plain_to = keyed_after if keyed_after is not None else 2 ** 62
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
            newest = max(anchors.hashes, default=0)
            if newest > head_seq:  # the head moved back below an anchored one
                return VerifyResult(False, checked, head_seq + 1, "truncated", old_breaks)
            return VerifyResult(True, checked, None, None, old_breaks)
        for index, row in enumerate(rows):
            checked += 1
            fields = dict(zip(_FIELDS, row, strict=False))
            seq, stored_hash = fields["seq"], row[-1]
            if seq != expected_seq or fields["prev_hash"] != prev:
                return VerifyResult(False, checked, seq, "hash", old_breaks)
            anchored = anchors.hashes.get(seq)
            if anchored is not None and anchored != stored_hash:
                return VerifyResult(False, checked, seq, "rewritten", old_breaks)
            entry_key = key if seq > plain_to else None
            if stored_hash != _hash_of(fields, entry_key):
                following = rows[index + 1] if index + 1 < len(rows) else _entry_after(
                    session, seq, head_seq)
                problem = _what_broke(fields, stored_hash, following, key, plain_to)
                return VerifyResult(False, checked, seq, problem, old_breaks)
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


def _entry_after(session: Session, seq: int, head_seq: int) -> Any:
    """The row (columns :data:`_FIELDS` and ``hash``) of entry ``seq + 1`` up to the head,
    or None."""
    columns = [getattr(AuditEntry, name) for name in _FIELDS]
    return session.execute(select(*columns, AuditEntry.hash)
                           .where(AuditEntry.seq == seq + 1, AuditEntry.seq <= head_seq)
                           ).first()


def _what_broke(fields: Mapping[str, Any], stored_hash: str, following: Any,
                key: ChainKey, plain_to: int) -> str:
    """``hash`` or ``rewritten`` for an entry (``fields``) whose ``stored_hash`` does not
    match (:func:`verify`). Entries before the upgrade (seq up to ``plain_to``) were plain
    SHA-256 anyway: a bad one there is an edit (a recomputation is caught by the anchors)."""
    if fields["seq"] <= plain_to:
        return "hash"
    if stored_hash == _hash_of(fields, None):
        return "rewritten"  # recomputed with plain SHA-256
    if following is None:
        return "hash"  # the newest entry: an edit in place as far as can be told
    after = dict(zip(_FIELDS, following, strict=False))
    if after["prev_hash"] == stored_hash and following[-1] == _hash_of(after, key):
        return "hash"  # the rest of the chain still holds under the key: edited in place
    return "rewritten"
