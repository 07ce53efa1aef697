"""Keying and anchoring the audit chain (:mod:`pos_app.server.audit`).

* :func:`load_chain`: the audit key and anchor file of a data folder, for a
  :class:`~pos_app.server.db.Database`.
* :func:`prepare_chain`: at every start of a server or admin command, after the migrations.
  The first time (a new database, or the first start after the upgrade that keyed the
  chain) it writes the anchor file's ``upgrade`` line with the chain's head as it stands
  (those entries stay plain SHA-256), records that ``seq`` in ``audit_head.keyed_from_seq``
  and, when there were entries, appends an ``audit_rekeyed`` entry saying so. A database
  that was keyed before but whose anchor file is missing is refused: its secrets folder was
  lost (or the wrong ``--data-dir`` was given), and keying it afresh would bless whatever
  the database now holds.
* :func:`anchor_head`: appends the committed head to the anchor file when it moved since the
  last anchor; run every :attr:`ServerSettings.anchor_interval` (one minute) by
  :func:`start_anchoring` and after every shift close. On PostgreSQL each write holds the
  transaction-level advisory lock :data:`ANCHOR_LOCK`, so however many processes serve, one
  writes at a time and a head is anchored once; in one process a thread lock does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from datetime import datetime
from pathlib import Path

import anyio
from sqlalchemy import select, update

from pos_app.server import audit
from pos_app.server.audit_anchors import (
    ANCHOR_FILE,
    Anchor,
    append_anchor,
    last_anchor,
    read_anchors,
)
from pos_app.server.chain_key import Chain, ChainKey
from pos_app.server.db import Database
from pos_app.server.models import AuditHead
from pos_app.server.secrets_dir import (
    AUDIT_KEY,
    SECRETS_DIRNAME,
    SecretsError,
    read_key,
    read_or_create_key,
    secrets_folder,
)
from pos_app.server.settings import ServerSettings

__all__ = ["ANCHOR_LOCK", "anchor_head", "load_chain", "prepare_chain", "start_anchoring",
           "stop_anchoring"]

log = logging.getLogger("pos_app.server.audit")

ANCHOR_LOCK = 0x706F_7303
"""PostgreSQL advisory lock key (bigint) serialising anchor writes across processes; next to
the chain's ``0x706F7301`` and the webhook dispatcher's ``0x706F7302``."""

_WRITING = threading.Lock()  # anchor writes of this process, one at a time


def load_chain(data_dir: Path, *, create: bool) -> Chain:
    """The audit chain's key and anchor file in ``data_dir/secrets``. With ``create`` (a
    server or admin command starting) the folder is made owner-only and a missing key is
    generated, unless the anchor file exists already (a key is never replaced under a chain
    anchored with another).

    Raises:
        SecretsError: the key is missing (and may not be created) or is not a key.
        OSError: the folder cannot be created.
    """
    folder = secrets_folder(data_dir) if create else data_dir / SECRETS_DIRNAME
    anchor_file = folder / ANCHOR_FILE
    if create and not anchor_file.exists():
        key = read_or_create_key(folder, AUDIT_KEY)
    else:
        key = read_key(folder, AUDIT_KEY)
    return Chain(key=ChainKey(key), anchor_file=anchor_file)


def prepare_chain(db: Database, now: datetime) -> None:
    """Key and anchor ``db``'s chain the first time (module docstring); a no-op afterwards
    and for a database without an anchor file (``db.chain.anchor_file`` None: tests).

    Raises:
        SecretsError: the database's chain was keyed but the anchor file is missing.
        pos_app.server.audit_anchors.AnchorFileError: the anchor file is not one.
    """
    path = db.chain.anchor_file
    if path is None:
        return
    anchors = read_anchors(path)
    with db.write() as session:
        head = session.execute(select(AuditHead.seq, AuditHead.hash, AuditHead.keyed_from_seq)
                               .where(AuditHead.id == 1)).one()
        seq, hash_, keyed_from = int(head[0]), str(head[1]), head[2]
        if anchors:
            boundary = anchors[0].seq
        elif keyed_from is not None:
            raise SecretsError(
                f"{path} is missing, but this database's audit chain was keyed at seq "
                f"{keyed_from}: restore the secrets folder that belongs to this database "
                "(from the same backup), or give the --data-dir its server uses")
        else:
            # Written before the commit: a crash after it leaves the line and a NULL
            # keyed_from_seq, and the next start completes the database's side.
            append_anchor(path, Anchor(at=now, seq=seq, hash=hash_, kind="upgrade"))
            boundary = seq
            log.info("audit chain keyed: entries up to seq %d stay plain SHA-256", seq)
        if keyed_from is not None:
            return
        session.execute(update(AuditHead).where(AuditHead.id == 1)
                        .values(keyed_from_seq=boundary))
        if boundary > 0:
            audit.append(session, [audit.AuditRecord(
                action=audit.REKEYED, ref_type="audit", ref_id=str(boundary),
                reason=f"audit chain re-anchored at the upgrade: entries 1 to {boundary} "
                       "are hashed with plain SHA-256 (head anchored outside the database), "
                       "later ones with HMAC-SHA256 under the key in DATA_DIR/secrets")], now)
    anchor_head(db, now)


def anchor_head(db: Database, now: datetime) -> Anchor | None:
    """Append ``db``'s committed chain head to its anchor file, stamped ``now``, unless it is
    the newest anchor already; returns the anchor written, or None (nothing new, no anchor
    file, or a chain not prepared yet: :func:`prepare_chain` writes the first line).

    Raises:
        OSError: the anchor file cannot be written.
        sqlalchemy.exc.SQLAlchemyError: the head cannot be read.
    """
    path = db.chain.anchor_file
    if path is None:
        return None
    with _WRITING, db.engine.connect() as connection, connection.begin():
        if not db.is_sqlite:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ANCHOR_LOCK})")
        head = connection.execute(select(AuditHead.seq, AuditHead.hash)
                                  .where(AuditHead.id == 1)).first()
        last = last_anchor(path)
        if head is None or last is None or (last.seq, last.hash) == (head[0], head[1]):
            return None
        anchor = Anchor(at=now, seq=int(head[0]), hash=str(head[1]))
        append_anchor(path, anchor)
        return anchor


async def _run_anchoring(db: Database, settings: ServerSettings) -> None:
    while True:
        await asyncio.sleep(settings.anchor_interval.total_seconds())
        try:
            await anyio.to_thread.run_sync(lambda: anchor_head(db, settings.clock.now()))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("anchoring the audit chain failed; retrying at the next interval")


def start_anchoring(db: Database, settings: ServerSettings) -> asyncio.Task[None] | None:
    """Start anchoring the head every ``settings.anchor_interval`` on the running event
    loop (None, and nothing started, for a database without an anchor file); stop it with
    :func:`stop_anchoring`."""
    if db.chain.anchor_file is None:
        return None
    return asyncio.get_running_loop().create_task(_run_anchoring(db, settings),
                                                  name="audit-anchoring")


async def stop_anchoring(task: asyncio.Task[None] | None, db: Database,
                         settings: ServerSettings) -> None:
    """Cancel the anchoring task and anchor the head a last time (a clean stop leaves the
    newest entries anchored)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    try:
        await anyio.to_thread.run_sync(lambda: anchor_head(db, settings.clock.now()))
    except Exception:
        log.exception("anchoring the audit chain at shutdown failed")
