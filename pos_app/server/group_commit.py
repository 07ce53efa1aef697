"""Group commit: one writer thread runs queued units of work, many to a transaction.

Under load every sale used to be its own thread, its own ``BEGIN IMMEDIATE`` and its own
commit (an ``fsync`` on SQLite with ``synchronous=FULL``), with 32 request threads queueing
on the writer lock and fighting over the GIL while the lock holder waited for the disk
(py-spy under ``wrk``: a third of the server's samples were lock waits and commits). The
:class:`GroupCommitWriter` instead takes whatever units are queued when it becomes free
(at most ``batch_limit``) and runs them in ONE write transaction
(:meth:`pos_app.server.db.Database.write`), each inside its own ``SAVEPOINT``:

* a unit that returns is released into the transaction; a unit that raises is rolled back
  to its savepoint alone (its caller gets the exception, the others are unaffected), and
  the savepoint's rollback puts the transaction's state back as the unit found it
  (:mod:`pos_app.server.tx_state`: audit tail, changed ticket types, inventory version), so
  a rolled-back unit announces nothing, leaves no inventory version behind and the next
  unit's audit entry follows the last one that stands;
* a unit that raises a database error instead aborts the batch, and every unit of it then
  runs alone (:meth:`~pos_app.server.db.Database.run_write`): on PostgreSQL a unit's
  deferred INSERTs and its ``RELEASE`` travel with the next unit's first statement
  (:mod:`pos_app.server.sql`), so the error may be an earlier unit's, and the transaction
  may be past saving; alone, each error lands on the unit that caused it;
* every caller learns its result only after the one commit succeeded: a sale is confirmed
  only once it is durable, exactly as before ("no confirmation, no sale");
* when the commit fails, no unit of the batch happened: a PostgreSQL serialization failure
  or deadlock re-runs the units one by one through
  :meth:`~pos_app.server.db.Database.run_write` with its bounded retries, any other
  failure is given to every caller of the batch.

Units must therefore be what :meth:`~pos_app.server.db.Database.run_write` already asks for:
all effects through the session, safe to run again, and no ``commit``/``rollback`` of their
own. The writer takes a unit of one of two kinds (:data:`Unit`), and no other:

* :class:`RunsInTurn`: it reads and changes what it needs as it runs. No later unit of the
  batch sends anything ahead of it, so it sees exactly what the units before it left
  (a hold's payment, whose ``UPDATE ... RETURNING`` counts and lapsed-hold expiry are the
  audit entry's before/after).
* :class:`SendsGuardsAhead`: on PostgreSQL it sends its count changes (a sale's guards)
  ahead in the batch's round trip (:meth:`~SendsGuardsAhead.send_ahead`), in the order of
  the units, and stands on their answers when it runs; or, when it cannot use them, the
  batch is rolled back and run again with nothing sent ahead (:exc:`SpeculationMissed`).

Before running the first unit, the batch asks every unit for its reads
(:meth:`BatchUnit.read_ahead`: keys, ticket types' names and prices, shifts, which no unit
changes), and sends the guards of the units up to the first :class:`RunsInTurn` one; after
that one has run, the guards of the units up to the next, and so on. So while every unit
uses what it sent ahead, the database goes through exactly the states it would one unit at a
time, and every audit entry's counts follow on from the one before (``audit verify`` checks
that). On SQLite nothing is sent ahead: a statement there runs at once, so ahead would be
out of order (and there are no round trips to save).

Results come back as :class:`concurrent.futures.Future`; await one on an event loop with
:func:`asyncio.wrap_future`.
"""

from __future__ import annotations

import logging
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from sqlalchemy.orm import Session

from pos_app.server import sql
from pos_app.server.db_errors import is_database_error, is_retryable

__all__ = ["BatchUnit", "GroupCommitWriter", "RunsInTurn", "SendsGuardsAhead",
           "SpeculationMissed", "Transactions", "Unit", "in_turn"]

log = logging.getLogger("pos_app.server.group_commit")

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class BatchUnit(ABC, Generic[T_co]):
    """What the writer runs: ``unit(session)`` does the work in the batch's transaction and
    returns the caller's result. Subclass one of its two kinds (:data:`Unit`)."""

    def read_ahead(self, session: Session) -> None:
        """Queue this unit's first reads (:func:`pos_app.server.sql.read_ahead`) in
        ``session``'s transaction, before any unit of the batch has run: reads only, of what
        no unit changes. The default reads nothing ahead."""

    @abstractmethod
    def __call__(self, session: Session) -> T_co:
        """Run in ``session``'s transaction (inside the unit's savepoint in a batch)."""


class RunsInTurn(BatchUnit[T_co]):
    """A unit that sends nothing ahead but its reads: whatever it changes, it changes as it
    runs, and the batch sends no later unit's guard before it has run."""


class SendsGuardsAhead(BatchUnit[T_co]):
    """A unit whose count changes are guards it can send ahead of the batch
    (:meth:`send_ahead`, PostgreSQL only), each unit's after the guards of the units before
    it. ``unit(session)`` must also work when nothing was sent ahead (the rerun after
    :exc:`SpeculationMissed`, SQLite, and :meth:`~pos_app.server.db.Database.run_write`)."""

    @abstractmethod
    def send_ahead(self, session: Session) -> None:
        """Queue this unit's guards (:func:`pos_app.server.sql.send_ahead`); called after
        :meth:`read_ahead`, before the unit runs, only on PostgreSQL."""

    @abstractmethod
    def settle(self, session: Session, *, failed: bool) -> None:
        """Called after the unit ran in a batch (``failed``: it raised and its savepoint
        was rolled back).

        Raises:
            SpeculationMissed: guards were sent ahead and the unit does not stand on them.
        """


Unit: TypeAlias = RunsInTurn[T] | SendsGuardsAhead[T]
"""A unit of work the writer takes: one of its two kinds, nothing else."""


class _InTurn(RunsInTurn[T_co]):
    def __init__(self, work: Callable[[Session], T_co]) -> None:
        self._work = work

    def __call__(self, session: Session) -> T_co:
        return self._work(session)


def in_turn(work: Callable[[Session], T]) -> RunsInTurn[T]:
    """``work(session)`` as a :class:`RunsInTurn` unit: nothing goes ahead of it."""
    return _InTurn(work)


@dataclass(eq=False)
class _Job:
    unit: Unit[Any]
    future: Future[Any]


class Transactions(Protocol):
    """What the writer needs of its database (:class:`pos_app.server.db.Database`)."""

    @property
    def is_sqlite(self) -> bool:
        """True on SQLite, where nothing is sent ahead."""

    def write(self) -> AbstractContextManager[Session]:
        """A write transaction: commits when the block ends, rolls back on an exception."""

    def run_write(self, unit: Callable[[Session], T]) -> T:
        """``unit`` alone in its own write transaction, retried on a write conflict."""


_STOP = object()


class SpeculationMissed(Exception):
    """A unit of a batch could not use the guards it sent ahead
    (:meth:`SendsGuardsAhead.send_ahead`): the writer rolls the batch back and runs it
    again with nothing sent ahead. Never reaches a caller."""


class _BatchAborted(Exception):
    """A unit raised a database error: the batch's transaction is rolled back (the error is
    the ``__cause__``)."""


class GroupCommitWriter:
    """A daemon thread committing queued units of work of ``database`` in batches of at most
    ``batch_limit`` (1: one transaction per unit). Start it with :meth:`start` (done by
    :meth:`submit` when needed), stop it with :meth:`stop` (queued units still run)."""

    def __init__(self, database: Transactions, *, batch_limit: int = 64) -> None:
        self._database = database
        self._batch_limit = max(1, batch_limit)
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pos-group-commit",
                                                daemon=True)
                self._thread.start()

    def submit(self, unit: Unit[T]) -> Future[T]:
        """Queue ``unit``; the future holds what it returned once its batch committed, or the
        exception it (or the commit) raised."""
        future: Future[T] = Future()
        if self._thread is None:
            self.start()
        self._queue.put(_Job(unit, future))
        return future

    def stop(self, timeout: float = 30.0) -> None:
        """Run what is queued, then end the thread (waits at most ``timeout`` seconds)."""
        thread = self._thread
        if thread is None:
            return
        self._queue.put(_STOP)
        thread.join(timeout)
        self._thread = None

    # --- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Job] = [first]  # type: ignore[list-item]
            stop = False
            while len(batch) < self._batch_limit:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)  # type: ignore[arg-type]
            try:
                self._run_batch([job for job in batch
                                 if job.future.set_running_or_notify_cancel()])
            except BaseException as exc:  # never let the writer die with callers waiting
                log.exception("group commit batch failed")
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
            if stop:
                return

    def _run_batch(self, batch: list[_Job], *, speculate: bool = True) -> None:
        if not batch:
            return
        speculate = speculate and not self._database.is_sqlite
        results: list[tuple[_Job, bool, Any]] = []
        try:
            with self._database.write() as session:
                for job in batch:  # every unit's first reads: one round trip for the batch
                    job.unit.read_ahead(session)
                sent_to = 0  # the guards of the units before this index went ahead
                for index, job in enumerate(batch):
                    if speculate and index >= sent_to:
                        sent_to = _send_guards(session, batch, index)
                    # Its savepoint: beginning it snapshots the transaction's state, a
                    # rollback restores it (pos_app.server.tx_state).
                    savepoint = session.begin_nested()
                    unit = job.unit
                    try:
                        value = unit(session)
                        savepoint.commit()
                        if isinstance(unit, SendsGuardsAhead):
                            unit.settle(session, failed=False)
                    except Exception as exc:
                        if is_database_error(exc) or isinstance(exc, SpeculationMissed):
                            raise _BatchAborted() from exc
                        if savepoint.is_active or session.get_nested_transaction() is savepoint:
                            savepoint.rollback()  # (inactive but open: a flush failed in it)
                        if isinstance(unit, SendsGuardsAhead):
                            try:
                                unit.settle(session, failed=True)
                            except SpeculationMissed as missed:
                                raise _BatchAborted() from missed
                        results.append((job, False, exc))
                        continue
                    results.append((job, True, value))
                try:  # the last unit's deferred statements: their error is a unit's too
                    sql.flush_deferred(session)
                except Exception as exc:
                    if is_database_error(exc):
                        raise _BatchAborted() from exc
                    raise
        except _BatchAborted as aborted:
            if isinstance(aborted.__cause__, SpeculationMissed) and speculate:
                self._run_batch(batch, speculate=False)  # each guard in its turn this time
                return
            # rolled back: each unit alone, where its error is its own
            log.info("group commit batch of %d aborted by %r; running each alone",
                     len(batch), aborted.__cause__)
            self._run_alone(batch)
            return
        except Exception as exc:  # BEGIN or COMMIT failed: nothing of this batch happened
            if is_retryable(exc) or is_retryable(exc.__cause__ or exc):
                self._run_alone(batch)
                return
            for job in batch:
                job.future.set_exception(exc)
            return
        for job, ok, value in results:
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def _run_alone(self, jobs: list[_Job]) -> None:
        """Each of ``jobs`` in its own retried transaction (after a write conflict)."""
        for job in jobs:
            try:
                job.future.set_result(self._database.run_write(job.unit))
            except Exception as exc:
                job.future.set_exception(exc)


def _send_guards(session: Session, batch: list[_Job], start: int) -> int:
    """Send ahead the guards of ``batch[start:]`` up to the first unit that runs in turn;
    returns the index from which nothing was sent (the unit after ``batch[start]`` when that
    one runs in turn itself: it runs now, and the next unit sends again)."""
    for index in range(start, len(batch)):
        unit = batch[index].unit
        if isinstance(unit, RunsInTurn):
            return max(index, start + 1)
        unit.send_ahead(session)
    return len(batch)
