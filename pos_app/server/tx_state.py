"""What one session carries through its transactions, in one typed object: :class:`TxState`.

Every session a :class:`~pos_app.server.db.Database` opens gets one (:func:`attach`), reached
with :func:`state`. Each module owns its fields and keeps its logic; this module only holds
them, and undoes them with the database:

=========================  ==========================================  ==================
field                      owner (who writes it)                       after a savepoint
                                                                       rollback
=========================  ==========================================  ==================
``dialect``                :class:`~pos_app.server.db.Database`        (constant)
``chain``                  ``Database``; read by :mod:`.audit`         (constant)
``keys``                   ``Database``; read by the services sealing  (constant)
                           PIN hashes and webhook secrets
``connection``             :mod:`.sql` (the session's DBAPI            (checked by
                           connection for the current (sub)transaction) identity)
``chain_held``             :func:`.audit.lock_chain`                   restored
``audit_tail``             :func:`.audit.append`                       restored
``changed_ticket_types``   :func:`.services.changes.record`, read by    restored
                           the live hooks (:mod:`.services.live`)
``bumped_version``         :func:`.services.inventory.bump_counters`   restored
``committing``             the live hooks, before the outer ``COMMIT``  restored
=========================  ==========================================  ==================

One mechanism undoes them (:func:`install_session_hooks`, on every session factory of a
``Database``): when a savepoint begins, the per-transaction fields are snapshotted
(:meth:`TxState.snapshot`); when it ends without being released (``ROLLBACK TO
SAVEPOINT``), they are put back (:meth:`TxState.restore`), whoever opened it (a group-commit
unit, :mod:`pos_app.server.group_commit`, or a service's own savepoint around its guards); when
the outermost transaction ends, committed or rolled back, they are cleared
(:meth:`TxState.reset`). So the audit tail after a rolled-back savepoint is the last entry
that still stands (not one the savepoint undid), a rolled-back unit announces no ticket type
and leaves no inventory version behind, and the chain's advisory lock is remembered exactly
while PostgreSQL holds it (a savepoint's rollback releases the locks taken inside it).

The statements :func:`pos_app.server.sql.defer` queues are not here: they belong to the pool
connection (the dialect's savepoint methods, which see no session, cut them back), so they
stay in its ``info`` (:mod:`pos_app.server.sql`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from pos_app.server.chain_key import Chain
from pos_app.server.sealing import Keys

__all__ = ["Snapshot", "TxState", "attach", "install_session_hooks", "state"]

_KEY = "pos_tx_state"  # the one session.info key: the session's TxState


@dataclass(frozen=True)
class Snapshot:
    """The per-transaction fields of a :class:`TxState` as a savepoint found them."""

    chain_held: bool
    audit_tail: tuple[int, str] | None
    changed_ticket_types: frozenset[int]
    bumped_version: int | None
    committing: tuple[int, frozenset[int]] | None


@dataclass(eq=False)
class TxState:
    """A session's state (module notes: who owns each field, what a rollback does to it).

    Attributes:
        dialect: ``"sqlite"`` or ``"postgresql"``.
        chain: the audit chain's key and anchor file (:meth:`audit_chain`); None for a
            session no ``Database`` opened.
        keys: the keys sealing PIN hashes and webhook secrets (:meth:`sealing_keys`); None
            likewise.
        connection: :mod:`pos_app.server.sql`'s ``(transaction, connection)`` of the
            innermost transaction it last ran a statement in.
        chain_held: PostgreSQL: the chain's advisory lock was asked for in this transaction.
        audit_tail: ``(seq, hash)`` of the entry this transaction appended last.
        changed_ticket_types: ticket type ids this transaction changed (announced after the
            commit).
        bumped_version: the inventory version this transaction took.
        committing: ``(version, ticket type ids)`` stamped just before the outer commit,
            published after it.
    """

    dialect: str
    chain: Chain | None = None
    keys: Keys | None = None
    connection: tuple[SessionTransaction, Connection] | None = None
    chain_held: bool = False
    audit_tail: tuple[int, str] | None = None
    changed_ticket_types: set[int] = field(default_factory=set)
    bumped_version: int | None = None
    committing: tuple[int, frozenset[int]] | None = None
    _savepoints: dict[SessionTransaction, Snapshot] = field(default_factory=dict, repr=False)

    def audit_chain(self) -> Chain:
        """The audit :class:`~pos_app.server.chain_key.Chain` of this session.

        Raises:
            RuntimeError: a session no ``Database`` opened.
        """
        if self.chain is None:
            raise RuntimeError("this session has no audit chain key (open it with Database)")
        return self.chain

    def sealing_keys(self) -> Keys:
        """The sealing :class:`~pos_app.server.sealing.Keys` of this session.

        Raises:
            RuntimeError: a session no ``Database`` opened.
        """
        if self.keys is None:
            raise RuntimeError("this session has no sealing keys (open it with Database)")
        return self.keys

    def snapshot(self) -> Snapshot:
        """The per-transaction fields as they are now (for :meth:`restore`)."""
        return Snapshot(self.chain_held, self.audit_tail,
                        frozenset(self.changed_ticket_types), self.bumped_version,
                        self.committing)

    def restore(self, saved: Snapshot) -> None:
        """Put the per-transaction fields back as ``saved`` found them (a savepoint taken
        then was rolled back). ``changed_ticket_types`` stays the same set object."""
        self.chain_held = saved.chain_held
        self.audit_tail = saved.audit_tail
        self.changed_ticket_types.clear()
        self.changed_ticket_types.update(saved.changed_ticket_types)
        self.bumped_version = saved.bumped_version
        self.committing = saved.committing

    def reset(self) -> None:
        """Clear the per-transaction fields (the outermost transaction ended)."""
        self.connection = None
        self.restore(_EMPTY)
        self._savepoints.clear()


_EMPTY = Snapshot(False, None, frozenset(), None, None)


def attach(session: Session, *, dialect: str, chain: Chain | None = None,
           keys: Keys | None = None) -> TxState:
    """Give ``session`` a fresh :class:`TxState` (done by
    :class:`~pos_app.server.db.Database` for every session it opens); returns it."""
    tx = TxState(dialect=dialect, chain=chain, keys=keys)
    session.info[_KEY] = tx
    return tx


def state(session: Session) -> TxState:
    """The :class:`TxState` of ``session``; a session no ``Database`` opened gets one at the
    first call, with its bind's dialect and no chain or keys."""
    tx: TxState | None = session.info.get(_KEY)
    if tx is None:
        tx = attach(session, dialect=session.get_bind().dialect.name)
    return tx


def install_session_hooks(factory: sessionmaker[Session]) -> None:
    """Snapshot the state when a savepoint begins, restore it when the savepoint ends
    without being released, clear it when the outermost transaction ends (module notes);
    done by :class:`~pos_app.server.db.Database` for its session factories."""

    def created(session: Session, transaction: SessionTransaction) -> None:
        if transaction.nested:
            tx = state(session)
            tx._savepoints[transaction] = tx.snapshot()

    def committed(session: Session) -> None:
        released = session.get_nested_transaction()  # None: the outer COMMIT
        if released is not None:  # RELEASE SAVEPOINT: what it did stands
            state(session)._savepoints.pop(released, None)

    def ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.nested:
            saved = state(session)._savepoints.pop(transaction, None)
            if saved is not None:  # ended unreleased: rolled back to the savepoint
                state(session).restore(saved)
        elif transaction.parent is None:
            state(session).reset()

    event.listen(factory, "after_transaction_create", created)
    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_transaction_end", ended)
