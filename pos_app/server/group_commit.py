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
  the live-inventory bookkeeping it left in ``session.info`` is restored, so a rolled-back
  unit announces nothing and leaves no inventory version behind;
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
own. A unit may have a ``read_ahead(session)`` method: the batch calls it for every unit
before running the first, so that on PostgreSQL all their first reads
(:func:`pos_app.server.sql.read_ahead`) travel in one round trip. Those reads see the
database as the batch began, so no unit may change what another unit reads ahead (today the
only units are sales, which read keys, ticket types' names and prices, and shifts, and
change none of them). ``read_ahead(session, speculate=True)`` may also send changes
ahead (a sale's guard); a unit's ``settle(session, failed=...)`` method, called after it
(after the rollback when it raised), or the unit itself raises :exc:`SpeculationMissed`
when it could not use them: the batch is then rolled back and run again with
``speculate=False``. Results come back as
:class:`concurrent.futures.Future`; await one on an event loop with
:func:`asyncio.wrap_future`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from pos_app.server import sql

if TYPE_CHECKING:
    from pos_app.server.db import Database

__all__ = ["GroupCommitWriter", "SpeculationMissed"]

log = logging.getLogger("pos_app.server.group_commit")

Unit = Callable[[Session], Any]


@dataclass(eq=False)
class _Job:
    unit: Unit
    future: Future[Any]


_STOP = object()


class SpeculationMissed(Exception):
    """A unit of a batch could not use what it sent ahead speculatively
    (``read_ahead(session, speculate=True)``): the writer rolls the batch back and runs it
    again without speculation. Never reaches a caller."""


class _BatchAborted(Exception):
    """A unit raised a database error: the batch's transaction is rolled back (the error is
    the ``__cause__``)."""


class GroupCommitWriter:
    """A daemon thread committing queued units of work of ``database`` in batches of at most
    ``batch_limit`` (1: one transaction per unit). Start it with :meth:`start` (done by
    :meth:`submit` when needed), stop it with :meth:`stop` (queued units still run)."""

    def __init__(self, database: Database, *, batch_limit: int = 64,
                 info_keys: tuple[str, ...] = ()) -> None:
        self._database = database
        self._batch_limit = max(1, batch_limit)
        self._info_keys = info_keys
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

    def submit(self, unit: Unit) -> Future[Any]:
        """Queue ``unit``; the future holds what it returned once its batch committed, or the
        exception it (or the commit) raised."""
        future: Future[Any] = Future()
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

    def _snapshot(self, session: Session) -> dict[str, Any]:
        saved: dict[str, Any] = {}
        for key in self._info_keys:
            value = session.info.get(key)
            saved[key] = value.copy() if isinstance(value, set | dict) else value
        return saved

    def _restore(self, session: Session, saved: dict[str, Any]) -> None:
        for key, value in saved.items():
            if value is None:
                session.info.pop(key, None)
            else:
                session.info[key] = value

    def _run_batch(self, batch: list[_Job], *, speculate: bool = True) -> None:
        from pos_app.server.db import is_database_error, is_retryable

        if not batch:
            return
        results: list[tuple[_Job, bool, Any]] = []
        try:
            with self._database.write() as session:
                for job in batch:  # every unit's first reads: one round trip for the batch
                    read_ahead = getattr(job.unit, "read_ahead", None)
                    if read_ahead is not None:
                        read_ahead(session, speculate=speculate)
                for job in batch:
                    saved = self._snapshot(session)
                    savepoint = session.begin_nested()
                    settle = getattr(job.unit, "settle", None)
                    try:
                        value = job.unit(session)
                        savepoint.commit()
                        if settle is not None:
                            settle(session, failed=False)
                    except Exception as exc:
                        if is_database_error(exc) or isinstance(exc, SpeculationMissed):
                            raise _BatchAborted() from exc
                        if savepoint.is_active:
                            savepoint.rollback()
                        self._restore(session, saved)
                        if settle is not None:
                            try:
                                settle(session, failed=True)
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
