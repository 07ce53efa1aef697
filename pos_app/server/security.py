"""Secrets: staff PINs (Argon2id), bearer tokens and terminal pairing codes.

The server stores only hashes: PINs as Argon2id (``argon2-cffi``, RFC 9106; parameters
t=2, m=19 MiB, p=1 as recommended by OWASP, about 25 ms per check on a 2-core box), tokens and
pairing codes as SHA-256 hex (they carry 256 and 40 bits of randomness, so a fast hash is
enough).
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "PAIRING_ALPHABET",
    "PAIRING_CODE_LENGTH",
    "hash_pin",
    "hash_token",
    "new_pairing_code",
    "new_token",
    "normalize_pairing_code",
    "verify_pin",
]

PAIRING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I: readable aloud
PAIRING_CODE_LENGTH = 8

_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_DUMMY_HASH = _hasher.hash("not-a-pin")


def hash_pin(pin: str) -> str:
    """Argon2id hash (PHC string) of ``pin``."""
    return _hasher.hash(pin)


def verify_pin(pin_hash: str | None, pin: str) -> bool:
    """True when ``pin`` matches ``pin_hash``. With ``pin_hash=None`` (unknown user) a dummy
    hash is checked anyway so the answer takes as long either way."""
    try:
        return _hasher.verify(pin_hash or _DUMMY_HASH, pin) and pin_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A fresh bearer token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex of a token or normalized pairing code: what the database stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_pairing_code() -> str:
    """A fresh 8-character pairing code from :data:`PAIRING_ALPHABET` (40 random bits)."""
    return "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))


def normalize_pairing_code(code: str) -> str:
    """The code as typed by a person, upper-cased without spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch not in " -")
