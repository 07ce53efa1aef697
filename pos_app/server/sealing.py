"""Values the database keeps sealed under keys it does not hold: staff PIN hashes and
webhook signing secrets.

A copy of the database alone must not give away a PIN (a 4-digit PIN falls to an offline
Argon2 search in minutes) nor a webhook's secret (it would let the copier forge deliveries).
So each is stored encrypted with AES-256-GCM (NIST SP 800-38D; ``cryptography``'s
:class:`~cryptography.hazmat.primitives.ciphers.aead.AESGCM`) under a 32-byte key from the
data folder's secrets (:mod:`pos_app.server.secrets_dir`): ``pin.key`` for PIN hashes (a
"pepper"), ``webhook.key`` for webhook secrets.

Stored form, in the value's own column (text)::

    <prefix>$<base64url, no padding, of nonce (12 random bytes) || ciphertext || tag (16)>

``pepper1$`` for a PIN hash (the plaintext is the Argon2id PHC string of
:func:`pos_app.server.security.hash_pin`), ``sealed1$`` for a webhook secret. The associated
data binds a value to its use and its row: ``b"pos-app pin v1\\0" + username`` and
``b"pos-app webhook secret v1\\0" + webhook id``; a value copied into another row (a
cashier's own PIN hash pasted over the manager's) or another column does not open. The
prefix's digit is the scheme's version: another scheme gets another prefix.

A value that does not open (the wrong key, an edited row, a plain value written around the
server) is refused, never an error: a PIN check is False (after the same Argon2 work as any
other refusal) and the first such refusal per row is logged.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pos_app.server import security

__all__ = ["NONCE_BYTES", "PIN_PREFIX", "WEBHOOK_PREFIX", "Keys", "PinPepper", "SealError",
           "Sealer", "throwaway_keys"]

log = logging.getLogger("pos_app.server.sealing")

PIN_PREFIX = "pepper1$"
WEBHOOK_PREFIX = "sealed1$"
NONCE_BYTES = 12


class SealError(ValueError):
    """A stored value that does not open: not in this sealer's form, or not sealed under
    this key for this row (the message names which, never the value)."""


class Sealer:
    """Seals text under one 32-byte key for one use (``label``), stored as ``prefix`` and
    base64url (module docstring)."""

    __slots__ = ("_aead", "_label", "prefix")

    def __init__(self, key: bytes, *, label: bytes, prefix: str) -> None:
        self._aead = AESGCM(key)  # raises ValueError unless 16, 24 or 32 bytes
        self._label = label + b"\0"
        self.prefix = prefix

    def is_sealed(self, stored: str) -> bool:
        """True when ``stored`` is in this sealer's form (opened or not)."""
        return stored.startswith(self.prefix)

    def seal(self, text: str, context: str) -> str:
        """``text`` sealed for the row ``context`` (a username, a webhook id), with a fresh
        random nonce: the same text sealed twice differs."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), self._aad(context))
        return self.prefix + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()

    def open(self, stored: str, context: str) -> str:
        """The text :meth:`seal` sealed in ``stored`` for ``context``.

        Raises:
            SealError: ``stored`` is not sealed (a plain value), is malformed, or was sealed
                under another key, for another row or another use, or edited since.
        """
        if not self.is_sealed(stored):
            raise SealError(f"not sealed (no {self.prefix} prefix)")
        body = stored[len(self.prefix):]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise SealError("malformed (not base64url)") from None
        if len(raw) < NONCE_BYTES + 16:
            raise SealError("malformed (too short)")
        try:
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                       self._aad(context))
        except InvalidTag:
            raise SealError("does not open with this key for this row") from None
        return plain.decode("utf-8")

    def opens(self, stored: str, context: str) -> bool:
        """True when :meth:`open` would succeed."""
        try:
            self.open(stored, context)
        except SealError:
            return False
        return True

    def _aad(self, context: str) -> bytes:
        return self._label + context.encode("utf-8")


class PinPepper:
    """Staff PIN hashes sealed under the pepper key ``pin.key``: Argon2id first
    (:mod:`pos_app.server.security`), then AES-256-GCM bound to the username."""

    __slots__ = ("_lock", "_reported", "sealer")

    def __init__(self, key: bytes) -> None:
        self.sealer = Sealer(key, label=b"pos-app pin v1", prefix=PIN_PREFIX)
        self._reported: set[str] = set()
        self._lock = threading.Lock()

    def hash(self, pin: str, username: str) -> str:
        """What the ``staff.pin_hash`` of ``username`` stores for ``pin``."""
        return self.wrap(security.hash_pin(pin), username)

    def wrap(self, phc: str, username: str) -> str:
        """The Argon2 PHC string ``phc`` (an unwrapped hash) sealed for ``username``."""
        return self.sealer.seal(phc, username)

    def unwrap(self, stored: str, username: str) -> str | None:
        """The Argon2 PHC string sealed in ``stored`` for ``username``; None when it does not
        open (logged the first time for that username in this process: the wrong
        ``pin.key``, an edited row, or a plain hash written around the server)."""
        try:
            return self.sealer.open(stored, username)
        except SealError as exc:
            with self._lock:
                first = username not in self._reported
                self._reported.add(username)
            if first:
                log.error("the PIN hash of staff %r %s: its sign-ins and approvals are "
                          "refused. Is pin.key (DATA_DIR/secrets, or POS_APP_PIN_KEY_FILE) "
                          "the one this database was sealed with? Otherwise the row was "
                          "written around the server: set the PIN again", username, exc)
            return None

    def verify(self, stored: str | None, username: str, pin: str) -> bool:
        """True when ``pin`` is the PIN of ``username``, whose ``pin_hash`` is ``stored``.
        Every answer costs one Argon2 check: with ``stored`` None (an unknown or inactive
        user) or a hash that does not open, :func:`pos_app.server.security.verify_pin`
        checks a dummy hash."""
        phc = self.unwrap(stored, username) if stored is not None else None
        return security.verify_pin(phc, pin)


@dataclass(frozen=True)
class Keys:
    """The sealing keys of a database's sessions (each session's
    :meth:`~pos_app.server.tx_state.TxState.sealing_keys`).

    Attributes:
        pins: seals staff PIN hashes (``pin.key``).
        webhooks: seals webhook signing secrets (``webhook.key``), bound to the webhook's
            id.
        pin_file / webhook_file: the files the keys were read from (None: made in memory),
            for the sentences that name them.
        generated: key files made when these keys were loaded (there were none): a start
            refused because the database's values do not open with them removes them again
            (:func:`pos_app.server.services.sealing_keys.prepare_keys`).
    """

    pins: PinPepper
    webhooks: Sealer
    pin_file: Path | None = None
    webhook_file: Path | None = None
    generated: tuple[Path, ...] = ()

    @classmethod
    def of(cls, *, pin_key: bytes, webhook_key: bytes, pin_file: Path | None = None,
           webhook_file: Path | None = None, generated: tuple[Path, ...] = ()) -> Keys:
        """Keys from the 32-byte ``pin_key`` and ``webhook_key`` (read from ``pin_file`` and
        ``webhook_file``, when they were)."""
        return cls(pins=PinPepper(pin_key),
                   webhooks=Sealer(webhook_key, label=b"pos-app webhook secret v1",
                                   prefix=WEBHOOK_PREFIX),
                   pin_file=pin_file, webhook_file=webhook_file, generated=generated)


@functools.cache
def throwaway_keys() -> Keys:
    """Random keys shared by every :class:`~pos_app.server.db.Database` of this process that
    was given none (no data folder: tests). What they seal opens in this process only."""
    return Keys.of(pin_key=secrets.token_bytes(32), webhook_key=secrets.token_bytes(32))
