"""What a database chains and verifies its audit log with: the key and the anchor file.

Kept apart from :mod:`pos_app.server.audit` (which hashes, appends and verifies) so that the
transaction state (:mod:`pos_app.server.tx_state`), which carries a session's :class:`Chain`,
sits below the modules that use it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Chain", "ChainKey"]


class ChainKey:
    """The audit chain's HMAC-SHA256 key (32 bytes), with its keyed state precomputed once so
    each entry costs one ``copy()`` (the append is on every sale's path)."""

    __slots__ = ("_mac",)

    def __init__(self, key: bytes) -> None:
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    @classmethod
    def ephemeral(cls) -> ChainKey:
        """A random key known to this object only: for a database opened without a data
        folder (tests). Entries written under it verify in this process only."""
        return cls(secrets.token_bytes(32))

    def hexdigest(self, message: bytes) -> str:
        """HMAC-SHA256 of ``message`` under this key, 64 hex digits."""
        mac = self._mac.copy()
        mac.update(message)
        return mac.hexdigest()


@dataclass(frozen=True)
class Chain:
    """What a database's sessions chain and verify with: the audit ``key`` and the
    ``anchor_file`` (None: no anchors, every entry keyed: a database without a data folder)."""

    key: ChainKey = field(default_factory=ChainKey.ephemeral)
    anchor_file: Path | None = None
