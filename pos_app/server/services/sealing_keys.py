"""The keys that seal PIN hashes and webhook secrets (:mod:`pos_app.server.sealing`): where
they come from, and sealing what an older version stored plain.

* :func:`load_keys`: ``pin.key`` and ``webhook.key`` of a data folder's secrets
  (:mod:`pos_app.server.secrets_dir`), for a :class:`~pos_app.server.db.Database`. The
  pepper may live outside the folder instead, in the file :data:`ENV_PIN_KEY_FILE` names
  (a deployment secret mounted where the data folder is not; never created by the server).
* :func:`prepare_keys`: at every start of a server or admin command, after the migrations
  (beside :func:`pos_app.server.services.anchoring.prepare_chain`). In one transaction it
  seals every PIN hash still stored as a plain Argon2 PHC string and every webhook secret
  still stored plain (the first start after the upgrade: nobody enrolls again, no webhook
  is added again), logging how many. A database whose sealed values exist but none of
  which opens with the keys is refused: its secrets were lost (or the wrong ``--data-dir``
  or :data:`ENV_PIN_KEY_FILE` was given), and serving it would lock every member of staff
  out, or sign with nothing. A key file this very start generated is removed again then,
  so the folder keeps saying the key is missing rather than holding a new, wrong one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pos_app.server.db import Database
from pos_app.server.models import Staff, Webhook
from pos_app.server.sealing import Keys, Sealer
from pos_app.server.secrets_dir import (
    PIN_KEY,
    SECRETS_DIRNAME,
    WEBHOOK_KEY,
    SecretsError,
    read_key,
    read_key_file,
    read_or_create_key,
    secrets_folder,
)

__all__ = ["ENV_PIN_KEY_FILE", "load_keys", "prepare_keys"]

log = logging.getLogger("pos_app.server.sealing")

ENV_PIN_KEY_FILE = "POS_APP_PIN_KEY_FILE"
"""An absolute path to the pepper key file to use instead of ``DATA_DIR/secrets/pin.key``
(64 hex digits and a newline, mode 0600 or 0400): read by every server process and admin
command, so set it for all of them alike."""

_PHC_PREFIX = "$argon2"


def _pin_key_file() -> Path | None:
    """The file :data:`ENV_PIN_KEY_FILE` names, or None when it is unset or empty.

    Raises:
        SecretsError: a relative path.
    """
    value = os.environ.get(ENV_PIN_KEY_FILE, "").strip()
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute():
        raise SecretsError(f"{ENV_PIN_KEY_FILE} must be an absolute path, not {value!r}")
    return path


def load_keys(data_dir: Path, *, create: bool) -> Keys:
    """The sealing keys of ``data_dir/secrets``: ``pin.key`` (or the file
    :data:`ENV_PIN_KEY_FILE` names) and ``webhook.key``. With ``create`` (a server or admin
    command starting) the folder is made owner-only and a missing key in it is generated
    (:func:`prepare_keys` refuses it if the database's values were sealed with another);
    a file named by :data:`ENV_PIN_KEY_FILE` must exist.

    Raises:
        SecretsError: a key is missing (and may not be created) or is not a key.
        OSError: the folder cannot be created.
    """
    folder = secrets_folder(data_dir) if create else data_dir / SECRETS_DIRNAME
    generated: list[Path] = []

    def key(name: str) -> bytes:
        path = folder / name
        if create and not path.exists():
            generated.append(path)
            return read_or_create_key(folder, name)
        return read_key(folder, name)

    pin_file = _pin_key_file()
    pin_key = read_key_file(pin_file) if pin_file is not None else key(PIN_KEY)
    return Keys.of(pin_key=pin_key, webhook_key=key(WEBHOOK_KEY),
                   pin_file=pin_file or folder / PIN_KEY, webhook_file=folder / WEBHOOK_KEY,
                   generated=tuple(generated))


def prepare_keys(db: Database) -> None:
    """Seal what ``db`` still stores plain and check that its sealed values open (module
    docstring); nothing is changed when it refuses.

    Raises:
        SecretsError: sealed PIN hashes or webhook secrets exist and none opens with
            ``db.keys`` (a sentence naming the key file and what to do).
    """
    keys = db.keys
    with db.write() as session:
        wrapped = _wrap_pin_hashes(session, keys)
        sealed = _seal_webhook_secrets(session, keys)
    if wrapped:
        log.info("wrapped %d PIN hashes with the pepper key (pin.key): a copy of the "
                 "database alone no longer reveals a PIN", wrapped)
    if sealed:
        log.info("sealed %d webhook secrets with webhook.key", sealed)


def _refuse(keys: Keys, name: str, what: str) -> SecretsError:
    """The refusal of a start whose ``name`` key opens none of ``what``; removes that key
    file when this start generated it."""
    path = keys.pin_file if name == PIN_KEY else keys.webhook_file
    made = path is not None and path in keys.generated
    if made and path is not None:
        path.unlink(missing_ok=True)
    where = str(path) if path is not None else f"{name} (in memory)"
    if name == PIN_KEY and os.environ.get(ENV_PIN_KEY_FILE, "").strip():
        where += f" ({ENV_PIN_KEY_FILE})"
    state = ("there is none (the secrets folder was lost, or this is not the --data-dir "
             "the server uses)" if made else
             "it is not the key they were sealed with")
    return SecretsError(
        f"this database's {what} are sealed, but none opens with {where}: {state}. Restore "
        f"{name} from the backup that belongs to this database (the same secrets folder on "
        "every host of the venue); a new key would lock them all out")


def _check_opened(keys: Keys, sealer: Sealer, name: str, what: str,
                  sealed: list[tuple[str, str]]) -> None:
    """Refuse (:func:`_refuse`) when ``sealed`` (``(value, context)`` pairs) is not empty
    and none opens; log the contexts of the ones that do not, when some do."""
    closed = [context for value, context in sealed if not sealer.opens(value, context)]
    if sealed and len(closed) == len(sealed):
        raise _refuse(keys, name, what)
    if closed:
        log.error("%d of this database's %s do not open with %s and will be refused "
                  "(rows edited outside the server?): %s", len(closed), what, name,
                  ", ".join(closed))


def _wrap_pin_hashes(session: Session, keys: Keys) -> int:
    rows = session.execute(select(Staff.id, Staff.username, Staff.pin_hash)
                           .order_by(Staff.id)).all()
    sealer = keys.pins.sealer
    _check_opened(keys, sealer, PIN_KEY, "PIN hashes",
                  [(str(r.pin_hash), str(r.username)) for r in rows
                   if sealer.is_sealed(r.pin_hash)])
    wrapped = 0
    for staff_id, username, pin_hash in rows:
        if sealer.is_sealed(pin_hash):
            continue
        if not pin_hash.startswith(_PHC_PREFIX):
            log.error("the PIN hash of staff %r is not an Argon2 hash; left as it is (its "
                      "sign-ins are refused): set the PIN again", username)
            continue
        done = session.execute(
            update(Staff).where(Staff.id == staff_id, Staff.pin_hash == pin_hash)
            .values(pin_hash=keys.pins.wrap(pin_hash, username))
            .execution_options(synchronize_session=False))
        wrapped += int(getattr(done, "rowcount", 0) or 0)
    return wrapped


def _seal_webhook_secrets(session: Session, keys: Keys) -> int:
    rows = session.execute(select(Webhook.id, Webhook.secret)
                           .where(Webhook.secret.is_not(None)).order_by(Webhook.id)).all()
    sealer = keys.webhooks
    _check_opened(keys, sealer, WEBHOOK_KEY, "webhook secrets",
                  [(r.secret, str(r.id)) for r in rows
                   if r.secret is not None and sealer.is_sealed(r.secret)])
    sealed = 0
    for webhook_id, secret in rows:
        if secret is None or sealer.is_sealed(secret):
            continue
        done = session.execute(
            update(Webhook).where(Webhook.id == webhook_id, Webhook.secret == secret)
            .values(secret=sealer.seal(secret, str(webhook_id)))
            .execution_options(synchronize_session=False))
        sealed += int(getattr(done, "rowcount", 0) or 0)
    return sealed
