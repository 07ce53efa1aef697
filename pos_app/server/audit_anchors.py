"""The audit chain's anchor file, ``DATA_DIR/secrets/audit-anchors``: its head, kept outside
the database.

An append-only text file, one line per anchor, ``TIME SEQ HASH KIND``: ``TIME`` when it was
written (RFC 3339 UTC), ``SEQ`` and ``HASH`` the chain's committed head then, ``KIND``
``anchor`` or ``upgrade``. The first line is always the ``upgrade`` line, written when the
chain was first keyed (:mod:`pos_app.server.services.anchoring`): entries up to its ``SEQ``
were written before the upgrade and are hashed with plain SHA-256, every later one with
HMAC-SHA256 under the audit key (``SEQ`` 0, hash all zeros, for a database that started keyed).
Each line is written whole with one ``write`` on an ``O_APPEND`` descriptor and fsync'd; a
torn last line (a crash while writing, no newline) is ignored. Only committed heads are
anchored, so every anchor must still be found in the chain: :func:`pos_app.server.audit.verify`
reports one missing or different as ``rewritten``, a chain ending before the newest anchor as
``truncated``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pos_app.files import PRIVATE_FILE
from pos_app.server.secrets_dir import fsync_folder

__all__ = ["ANCHOR_FILE", "Anchor", "AnchorFileError", "append_anchor", "last_anchor",
           "read_anchors"]

ANCHOR_FILE = "audit-anchors"

Kind = Literal["anchor", "upgrade"]

_LINE = re.compile(r"(\S+) (\d{1,18}) ([0-9a-f]{64}) (anchor|upgrade)")


class AnchorFileError(ValueError):
    """The anchor file cannot be read, or holds a line that is not an anchor."""


@dataclass(frozen=True)
class Anchor:
    """One line of the anchor file: the head ``(seq, hash)`` at ``at`` (UTC)."""

    at: datetime
    seq: int
    hash: str
    kind: Kind = "anchor"

    def line(self) -> str:
        """The line as written (with its newline)."""
        stamp = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return f"{stamp} {self.seq} {self.hash} {self.kind}\n"


def _parse(path: Path, number: int, line: str) -> Anchor:
    match = _LINE.fullmatch(line)
    if match is None:
        raise AnchorFileError(f"{path} line {number} is not an anchor: restore the secrets "
                              "folder from the backup")
    try:
        at = datetime.fromisoformat(match[1])
    except ValueError:
        raise AnchorFileError(f"{path} line {number} has no valid time") from None
    kind: Kind = "upgrade" if match[4] == "upgrade" else "anchor"
    return Anchor(at=at, seq=int(match[2]), hash=match[3], kind=kind)


def read_anchors(path: Path) -> list[Anchor] | None:
    """Every anchor in ``path``, in file order; None when the file does not exist.

    Raises:
        AnchorFileError: it cannot be read, a line (other than a torn last one) is not an
            anchor, or the first line is not the ``upgrade`` line.
    """
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorFileError(f"cannot read {path} ({exc.__class__.__name__})") from None
    lines = text.split("\n")
    lines.pop()  # the part after the last newline: empty, or a torn line
    anchors = [_parse(path, number, line) for number, line in enumerate(lines, 1)]
    if anchors and anchors[0].kind != "upgrade":
        raise AnchorFileError(f"{path} does not start with its upgrade line")
    if any(a.kind == "upgrade" for a in anchors[1:]):
        raise AnchorFileError(f"{path} has more than one upgrade line")
    return anchors


def last_anchor(path: Path) -> Anchor | None:
    """The newest whole line of ``path`` (read from its end), or None without any.

    Raises:
        AnchorFileError: as :func:`read_anchors`, for that line.
    """
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 4096))
            tail = handle.read().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    lines = tail.split("\n")
    lines.pop()
    return _parse(path, 0, lines[-1]) if lines and lines[-1] else None


def append_anchor(path: Path, anchor: Anchor) -> None:
    """Append ``anchor`` to ``path`` (created 0600 when missing) and fsync it; a new file's
    folder is fsync'd too. The caller serialises writers (one process, one lock).

    Raises:
        OSError: the file cannot be written.
    """
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    try:
        os.write(fd, anchor.line().encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_folder(path.parent)
