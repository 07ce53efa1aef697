"""Pairing: turn a single-use pairing code into a configured terminal."""

from __future__ import annotations

from pathlib import Path

import httpx

from pos_app.client._config import TerminalConfig, atomic_write, save_config
from pos_app.client._credentials import Credentials
from pos_app.client._http import InventoryClient
from pos_app.client._paths import TerminalPaths, terminal_paths

__all__ = ["pair_terminal"]


def pair_terminal(server_url: str, pairing_code: str, *, ca_file: Path,
                  paths: TerminalPaths | None = None,
                  transport: httpx.BaseTransport | None = None) -> TerminalConfig:
    """Pair this terminal with the server at ``server_url`` (``https://host:port``).

    Checks the keyring first (a pairing code is single-use, so it is spent only when the token
    can be kept), calls ``POST /v1/terminals/pair`` over TLS verified against ``ca_file``, then
    copies the CA into the terminal home (``paths.ca_file``), stores the terminal token in the
    keyring (dropping any old session token of that server) and writes the configuration.

    Returns the new :class:`TerminalConfig`. Raises ``InsecureKeyring`` /
    ``KeyringUnavailable``, ``FileNotFoundError`` or ``ssl.SSLError`` for an unusable
    ``ca_file``, ``TlsVerificationFailed`` when the server's certificate is not from that CA,
    ``ServerUnreachable``, ``OutcomeUnknown``, or an ``ApiError`` for a wrong or used code.
    """
    paths = (paths or terminal_paths()).ensure()
    server_url = server_url.rstrip("/")
    credentials = Credentials(server_url)
    ca_pem = Path(ca_file).read_bytes()
    with InventoryClient(server_url, ca_file=Path(ca_file), transport=transport) as client:
        paired = client.pair(pairing_code)
    atomic_write(paths.ca_file, ca_pem)
    credentials.terminal_token = paired.terminal_token
    del credentials.session_token
    paths.session_file.unlink(missing_ok=True)
    config = TerminalConfig(server_url=server_url, ca_file=paths.ca_file,
                            terminal_id=paired.terminal_id, terminal_name=paired.name)
    save_config(paths, config)
    return config
