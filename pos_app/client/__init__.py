"""The terminal's side of the central inventory API: HTTP client, pairing, configuration and
secrets.

Everything public is importable from here; the modules behind it are private. Errors form one
tree rooted at :class:`ClientError` (drawn in ``pos_app/client/_errors.py``). Options after the
first argument or two are keyword-only; pass ``transport=httpx.MockTransport(...)`` to test
without a network.

Pairing (``pair_terminal``: ``cryptography``) and the live feed (``InventoryFeed``, SSE) are
imported on first use, so opening a register for the window does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from pos_app.client._config import TerminalConfig, load_config, save_config
from pos_app.client._credentials import Credentials, check_keyring
from pos_app.client._errors import (
    ApiError,
    ClientError,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    IdempotencyKeyVoided,
    InsecureKeyring,
    InsufficientInventory,
    InsufficientTender,
    InvalidRequest,
    InvalidResponse,
    KeyringUnavailable,
    NotFound,
    NotPaired,
    NotSignedIn,
    OutcomeUnknown,
    RequestInProgress,
    ServerUnreachable,
    TerminalError,
    TlsVerificationFailed,
    TooManyAttempts,
    Unauthorized,
)
from pos_app.client._http import InventoryClient, KeyState, sale_json, tls_context
from pos_app.client._paths import TerminalPaths, terminal_paths

if TYPE_CHECKING:
    from pos_app.client._live import InventoryFeed, SseEvent, SseParser, backoff_delay
    from pos_app.client._pairing import pair_terminal

_LAZY = {"InventoryFeed": "_live", "SseEvent": "_live", "SseParser": "_live",
         "backoff_delay": "_live", "pair_terminal": "_pairing"}


def __getattr__(name: str) -> object:
    """Import the lazily loaded names of ``__all__`` on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value

__all__ = [
    "ApiError",
    "ClientError",
    "Conflict",
    "Credentials",
    "Forbidden",
    "IdempotencyKeyReused",
    "IdempotencyKeyVoided",
    "InsecureKeyring",
    "InsufficientInventory",
    "InsufficientTender",
    "InvalidRequest",
    "InvalidResponse",
    "InventoryClient",
    "InventoryFeed",
    "KeyState",
    "KeyringUnavailable",
    "NotFound",
    "NotPaired",
    "NotSignedIn",
    "OutcomeUnknown",
    "RequestInProgress",
    "ServerUnreachable",
    "SseEvent",
    "SseParser",
    "TerminalConfig",
    "TerminalError",
    "TerminalPaths",
    "TlsVerificationFailed",
    "TooManyAttempts",
    "Unauthorized",
    "backoff_delay",
    "check_keyring",
    "load_config",
    "pair_terminal",
    "sale_json",
    "save_config",
    "terminal_paths",
    "tls_context",
]
