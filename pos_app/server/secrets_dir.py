"""The server's secrets folder, ``DATA_DIR/secrets/``: keys kept outside the database.

A copy of the database alone must not be enough to forge what the server signs, so its keys
live in files beside it, never in it: the folder is owner-only (0700) and every file in it
0600 (:mod:`pos_app.files`). One file per key, named after its use, holding 32 random
bytes (``secrets.token_bytes(32)``) as 64 hex digits and a newline, generated the first time
a server process or admin command of the venue needs it:

* ``audit.key``: the audit chain's HMAC key (:mod:`pos_app.server.audit`);
* ``pin.key``: the pepper that seals every staff PIN hash (AES-256-GCM,
  :mod:`pos_app.server.sealing`), so a copied database alone cannot be cracked; it may
  live elsewhere instead, in the file ``POS_APP_PIN_KEY_FILE`` names
  (:mod:`pos_app.server.services.sealing_keys`);
* ``webhook.key``: seals the webhooks' signing secrets the same way.
 Every server process and admin command
of a venue reads the same folder (with ``--database-url`` they are given ``--data-dir`` too);
several hosts share it as deployment secrets.

The folder also holds the audit chain's anchor file (:mod:`pos_app.server.audit_anchors`). It
is part of every backup: a database restored without its secrets folder cannot be verified
nor appended to, its staff cannot sign in and its webhooks cannot be signed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from pos_app.files import PRIVATE_FILE, private_dir

__all__ = ["AUDIT_KEY", "KEY_BYTES", "PIN_KEY", "SECRETS_DIRNAME", "WEBHOOK_KEY", "SecretsError",
           "fsync_folder", "read_key", "read_key_file", "read_or_create_key",
           "secrets_folder"]

SECRETS_DIRNAME = "secrets"
AUDIT_KEY = "audit.key"
PIN_KEY = "pin.key"
WEBHOOK_KEY = "webhook.key"
KEY_BYTES = 32


class SecretsError(ValueError):
    """A key that cannot be read or is not a key (a sentence saying which file and what to
    do)."""


def secrets_folder(data_dir: Path) -> Path:
    """``data_dir/secrets``, created owner-only (or made so when it exists); returns it.

    Raises:
        OSError: it cannot be created or changed.
    """
    return private_dir(data_dir / SECRETS_DIRNAME)


def _parse(path: Path, text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise SecretsError(f"{path} is not a key ({KEY_BYTES * 2} hex digits): restore it "
                           "from the backup of the secrets folder")
    return key


def read_key(folder: Path, name: str) -> bytes:
    """The key in ``folder/name`` (32 bytes).

    Raises:
        SecretsError: the file is missing, unreadable or not a key.
    """
    path = folder / name
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise SecretsError(f"there is no key {path}: give the --data-dir the server uses "
                           "(its secrets folder holds the keys)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsError(f"cannot read {path} ({exc.__class__.__name__})") from None
    if os.name == "posix" and path.stat().st_mode & 0o777 != PRIVATE_FILE:
        os.chmod(path, PRIVATE_FILE)
    return _parse(path, text)


def read_key_file(path: Path) -> bytes:
    """The key in ``path``, a file kept outside the secrets folder (a deployment secret the
    server never creates): 64 hex digits, readable by its owner only. A file that others
    may read is made 0600, or refused when that is not possible (a read-only mount).

    Raises:
        SecretsError: the file is missing, unreadable, open to others or not a key.
    """
    try:
        text = path.read_text(encoding="ascii")
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        raise SecretsError(f"there is no key {path}: give the file its deployment "
                           "secret was written to") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsError(f"cannot read {path} ({exc.__class__.__name__})") from None
    if os.name == "posix" and mode & 0o077:
        try:
            os.chmod(path, PRIVATE_FILE)
        except OSError:
            raise SecretsError(f"{path} may be read by other accounts (mode {mode:o}) and "
                               "cannot be made 0600: give it mode 0600 or 0400") from None
    return _parse(path, text)


def read_or_create_key(folder: Path, name: str) -> bytes:
    """The key in ``folder/name``, generated (32 random bytes, file 0600, fsync'd) when the
    file does not exist yet. Two processes starting together end with the same key: the
    file appears complete or not at all (written aside, then hard-linked into place; the
    loser reads the winner's).

    Raises:
        SecretsError: an existing file is not a key.
        OSError: the folder cannot be written.
    """
    path = folder / name
    if path.exists():
        return read_key(folder, name)
    temp = folder / f".{name}.{secrets.token_hex(8)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    fsync_folder(folder)
    return read_key(folder, name)


def fsync_folder(folder: Path) -> None:
    """Make a file created in ``folder`` survive a crash (POSIX; a no-op elsewhere)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
