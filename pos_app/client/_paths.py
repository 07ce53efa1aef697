"""Where terminal-side state lives: :class:`TerminalPaths` and :func:`terminal_paths`."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from pos_app.files import private_dir

__all__ = ["APP_NAME", "HOME_ENV", "TerminalPaths", "terminal_paths"]

APP_NAME = "pos-app"
HOME_ENV = "POS_APP_HOME"


@dataclass(frozen=True, slots=True)
class TerminalPaths:
    """The terminal's files: ``config_file`` (JSON, no secrets), ``journal_file`` (SQLite),
    ``receipts_dir`` (PDFs), ``logs_dir``; all inside ``home``."""

    home: Path
    config_file: Path
    journal_file: Path
    receipts_dir: Path
    logs_dir: Path

    @classmethod
    def under(cls, home: Path) -> TerminalPaths:
        """The standard layout below ``home`` (folders are not created)."""
        home = Path(home).expanduser().resolve()
        return cls(home=home, config_file=home / "config.json",
                   journal_file=home / "journal.sqlite3", receipts_dir=home / "receipts",
                   logs_dir=home / "logs")

    @property
    def ca_file(self) -> Path:
        """Where pairing keeps its copy of the server's CA certificate (PEM)."""
        return self.home / "ca.pem"

    @property
    def session_file(self) -> Path:
        """Who is signed in (staff, terminal, expiry; never the token), for other processes."""
        return self.home / "session.json"

    @property
    def keyring_dir(self) -> Path:
        """Where a plain-text keyring file is kept when one is allowed (tests, the demo):
        inside the home, so each terminal home keeps its own (folder 0700, file 0600)."""
        return self.home / "keyring"

    def home_id(self) -> str:
        """This terminal home's identity: 32 hex digits kept in ``home/home-id``, created on
        first use. It names the home's keyring entries, so two homes of one OS user (two
        ``POS_APP_HOME``s) never share a token; it moves with the folder.

        Creation is race-free: the id is written to a temporary file and hard-linked to its
        name, so two processes starting at once agree on the first one written.

        Raises:
            OSError: the home is not writable (or ``home-id`` is unreadable or empty).
        """
        target = self.home / "home-id"
        try:
            return _read_id(target)
        except FileNotFoundError:
            pass
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = self.home / f".home-id.{secrets.token_hex(8)}"
        temp.write_text(secrets.token_hex(16) + "\n", encoding="ascii")
        try:
            os.link(temp, target)
        except FileExistsError:
            pass  # another process won: use its id
        finally:
            temp.unlink(missing_ok=True)
        return _read_id(target)

    def ensure(self) -> TerminalPaths:
        """Create the folders owner-only, or make existing ones so
        (:func:`pos_app.files.private_dir`); returns ``self``."""
        for folder in (self.home, self.receipts_dir, self.logs_dir):
            private_dir(folder)
        return self


def _read_id(path: Path) -> str:
    text = path.read_text(encoding="ascii").strip()
    if not text:
        raise OSError(f"{path} is empty: restore it from a backup, or delete it and pair "
                      "this terminal again")
    return text


def terminal_paths() -> TerminalPaths:
    """The terminal's paths: ``$POS_APP_HOME`` when set, else the platform's user data folder
    for "pos-app" (e.g. ``~/.local/share/pos-app``). Creates the folders."""
    override = os.environ.get(HOME_ENV)
    home = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME,
                                                                            appauthor=False))
    return TerminalPaths.under(home).ensure()
