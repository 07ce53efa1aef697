"""Every error the terminal's client layer raises, as one tree rooted at :class:`ClientError`.

::

    ClientError
    ├── ServerUnreachable        the request was never written; the server never saw it
    │   └── TlsVerificationFailed    certificate not chained to the pinned CA / wrong host
    ├── OutcomeUnknown           written, but no usable answer (read timeout, reset, 5xx)
    │   └── InvalidResponse          an answer that does not match the contract
    ├── ApiError                 the server answered with an error body (``shared/API.md``)
    │   ├── Unauthorized             401 unauthorized
    │   ├── Forbidden                403 forbidden, approval_refused (a manager's PIN)
    │   ├── NotFound                 404 not_found
    │   ├── InvalidRequest           422 invalid_request
    │   ├── InsufficientInventory    409 insufficient_inventory (``.lines``)
    │   ├── InsufficientTender       422 insufficient_tender
    │   ├── IdempotencyKeyReused     422 idempotency_key_reused
    │   ├── IdempotencyKeyVoided     409 idempotency_key_voided
    │   ├── RequestInProgress        409 request_in_progress (``.retry_after``)
    │   ├── TooManyAttempts          429 too_many_attempts (``.retry_after``)
    │   └── Conflict                 any other 409 (hold_expired, shift_not_open, ...)
    └── TerminalError            local terminal state; raised before any network traffic
        ├── NotPaired                no configuration or no terminal token
        ├── NotSignedIn              no session token for a call that needs one
        └── KeyringUnavailable       the OS keyring cannot be used
            └── InsecureKeyring          it would store secrets unencrypted (or nowhere)

The split between :class:`ServerUnreachable` and :class:`OutcomeUnknown` is what makes the
sale path honest (``shared/DESIGN.md``): the first means "nothing happened", the second "it may
have happened".
"""

from __future__ import annotations

from pos_app.api.errors import ErrorCode
from pos_app.api.schemas import ErrorBody, InsufficientLine

__all__ = [
    "ApiError",
    "ClientError",
    "Conflict",
    "Forbidden",
    "IdempotencyKeyReused",
    "IdempotencyKeyVoided",
    "InsecureKeyring",
    "InsufficientInventory",
    "InsufficientTender",
    "InvalidRequest",
    "InvalidResponse",
    "KeyringUnavailable",
    "NotFound",
    "NotPaired",
    "NotSignedIn",
    "OutcomeUnknown",
    "RequestInProgress",
    "ServerUnreachable",
    "TerminalError",
    "TlsVerificationFailed",
    "TooManyAttempts",
    "Unauthorized",
    "api_error_from",
]


class ClientError(Exception):
    """Base of every error raised by :mod:`pos_app.client` (and the journal's register)."""


class ServerUnreachable(ClientError):
    """The request was never written: connection refused, DNS, TLS handshake, connect or pool
    timeout. The server never saw it, so nothing happened and a new attempt is safe."""


class TlsVerificationFailed(ServerUnreachable):
    """The server's certificate is not signed by the pinned CA, has expired, or names another
    host; or, while pairing by fingerprint, the server's CA does not have the given SHA-256
    fingerprint (nothing is stored and the pairing code is not spent)."""


class OutcomeUnknown(ClientError):
    """The request was written but no answer came back (read timeout, connection reset,
    protocol error) or the answer was a 5xx: the change may or may not have happened.

    Attributes:
        status: the HTTP status for a 5xx answer, else ``None``.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InvalidResponse(OutcomeUnknown):
    """The server answered, but the answer does not match the contract (bad JSON or shape).
    Treated as an unknown outcome: a 201 we cannot read may still be a sale."""


class ApiError(ClientError):
    """The server refused the request with a contract error body.

    Attributes:
        status: HTTP status (4xx).
        code: the body's ``error`` field (an :class:`~pos_app.api.errors.ErrorCode` value, or
            an unknown string from a newer server).
        message: the body's plain-sentence ``message``.
        body: the whole validated :class:`~pos_app.api.schemas.ErrorBody`.
    """

    def __init__(self, status: int, code: str, message: str, body: ErrorBody) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.body = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r})"


class Unauthorized(ApiError):
    """401: missing, wrong or expired token, or a wrong username / PIN."""


class Forbidden(ApiError):
    """403: the signed-in role may not do this."""


class NotFound(ApiError):
    """404: no such resource."""


class InvalidRequest(ApiError):
    """422 ``invalid_request``: the body breaks the schema (a programming error, usually)."""


class InsufficientInventory(ApiError):
    """409: not enough tickets; ``lines`` lists each short line with what is ``available``."""

    @property
    def lines(self) -> list[InsufficientLine]:
        return list(self.body.lines or [])


class InsufficientTender(ApiError):
    """422: cash tendered is less than the total."""


class IdempotencyKeyReused(ApiError):
    """422: this idempotency key was used before with a different body; nothing was done."""


class IdempotencyKeyVoided(ApiError):
    """409: this idempotency key was voided; the request never executes."""


class _RetryAfter(ApiError):
    """An error that says when to try again: ``retry_after`` seconds, or ``None``."""

    def __init__(self, status: int, code: str, message: str, body: ErrorBody, *,
                 retry_after: float | None = None) -> None:
        super().__init__(status, code, message, body)
        self.retry_after = retry_after


class RequestInProgress(_RetryAfter):
    """409: the first request with this key is still running; retry after ``retry_after`` s."""


class TooManyAttempts(_RetryAfter):
    """429: too many failed sign-ins; locked for ``retry_after`` seconds."""


class Conflict(ApiError):
    """Any other 409 (``hold_expired``, ``shift_not_open``, ``capacity_below_committed``...)."""


class TerminalError(ClientError):
    """Local terminal state stops the call before any network traffic."""


class NotPaired(TerminalError):
    """No configuration or no terminal token: run ``pos-app pair URL CODE --ca-file F`` (or
    ``--ca-fingerprint SHA256``, the fingerprint ``pos-app serve`` prints at start)."""


class NotSignedIn(TerminalError):
    """No session: sign in (``pos-app login USERNAME``) first."""


class KeyringUnavailable(TerminalError):
    """The OS keyring refused to read or store a secret (locked, no backend...)."""


class InsecureKeyring(KeyringUnavailable):
    """The keyring backend would keep secrets in plain text, or not at all."""


_BY_CODE: dict[str, type[ApiError]] = {
    ErrorCode.UNAUTHORIZED: Unauthorized,
    ErrorCode.FORBIDDEN: Forbidden,
    ErrorCode.APPROVAL_REFUSED: Forbidden,
    ErrorCode.NOT_FOUND: NotFound,
    ErrorCode.INVALID_REQUEST: InvalidRequest,
    ErrorCode.INSUFFICIENT_INVENTORY: InsufficientInventory,
    ErrorCode.INSUFFICIENT_TENDER: InsufficientTender,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: IdempotencyKeyReused,
    ErrorCode.IDEMPOTENCY_KEY_VOIDED: IdempotencyKeyVoided,
    ErrorCode.REQUEST_IN_PROGRESS: RequestInProgress,
    ErrorCode.TOO_MANY_ATTEMPTS: TooManyAttempts,
}


def api_error_from(status: int, body: ErrorBody, *, retry_after: float | None = None) -> ApiError:
    """The :class:`ApiError` subclass for ``body.error`` (by code first, then 409 ->
    :class:`Conflict`, else plain :class:`ApiError`)."""
    cls = _BY_CODE.get(body.error)
    if cls is None:
        cls = Conflict if status == 409 else ApiError
    if issubclass(cls, _RetryAfter):
        return cls(status, body.error, body.message, body, retry_after=retry_after)
    return cls(status, body.error, body.message, body)
