"""The terminal's configuration: which server, which CA, which terminal. Never a token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pos_app.client._errors import NotPaired
from pos_app.client._paths import TerminalPaths
from pos_app.files import atomic_write

__all__ = ["TerminalConfig", "load_config", "save_config"]

_PAIR_HINT = "run: pos-app pair URL CODE --ca-file F"


@dataclass(frozen=True, slots=True)
class TerminalConfig:
    """What pairing established: ``server_url`` (``https://host:port``), ``ca_file`` (the
    pinned CA's PEM, copied into the terminal home), ``terminal_id`` and ``terminal_name`` as
    the server knows them."""

    server_url: str
    ca_file: Path
    terminal_id: int
    terminal_name: str


def load_config(paths: TerminalPaths) -> TerminalConfig:
    """Read ``paths.config_file``.

    Raises:
        NotPaired: the file is missing or unreadable (pair the terminal again).
    """
    try:
        raw = json.loads(paths.config_file.read_text(encoding="utf-8"))
        ca_file = Path(raw["ca_file"])
        return TerminalConfig(
            server_url=str(raw["server_url"]),
            ca_file=ca_file if ca_file.is_absolute() else paths.home / ca_file,
            terminal_id=int(raw["terminal_id"]), terminal_name=str(raw["terminal_name"]))
    except FileNotFoundError:
        raise NotPaired(f"This terminal is not paired - {_PAIR_HINT}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NotPaired(f"The terminal configuration {paths.config_file} is unreadable ({exc})"
                        f" - {_PAIR_HINT}") from exc


def save_config(paths: TerminalPaths, config: TerminalConfig) -> None:
    """Write ``config`` to ``paths.config_file`` as JSON, atomically. A ``ca_file`` inside the
    terminal home is stored relative to it, so the home folder can be moved."""
    ca_file = config.ca_file
    if ca_file.is_relative_to(paths.home):
        ca_file = ca_file.relative_to(paths.home)
    document = {"server_url": config.server_url, "ca_file": str(ca_file),
                "terminal_id": config.terminal_id, "terminal_name": config.terminal_name}
    atomic_write(paths.config_file, (json.dumps(document, indent=2) + "\n").encode())
