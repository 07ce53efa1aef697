"""The terminal's side of the central inventory API: HTTP client, pairing, configuration and
secrets.

Everything public is importable from here; the modules behind it are private. Errors form one
tree rooted at :class:`ClientError` (drawn in ``pos_app/client/_errors.py``). Options after the
first argument or two are keyword-only; pass ``transport=httpx.MockTransport(...)`` to test
without a network.
"""

from __future__ import annotations

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
from pos_app.client._live import InventoryFeed, SseEvent, SseParser, backoff_delay
from pos_app.client._pairing import pair_terminal
from pos_app.client._paths import TerminalPaths, terminal_paths

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
