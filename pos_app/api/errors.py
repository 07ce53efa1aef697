"""Machine-readable error codes of the API (``shared/API.md``, Conventions) and their statuses."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ERROR_STATUS", "ErrorCode"]


class ErrorCode(StrEnum):
    """The ``error`` field of every error body."""

    INVALID_REQUEST = "invalid_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INSUFFICIENT_INVENTORY = "insufficient_inventory"
    HOLD_NOT_ACTIVE = "hold_not_active"
    HOLD_EXPIRED = "hold_expired"
    INSUFFICIENT_TENDER = "insufficient_tender"
    CAPACITY_BELOW_COMMITTED = "capacity_below_committed"
    SHIFT_NOT_OPEN = "shift_not_open"
    SHIFT_ALREADY_OPEN = "shift_already_open"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_VOIDED = "idempotency_key_voided"
    REQUEST_IN_PROGRESS = "request_in_progress"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    # Not named by the contract; documented in the OpenAPI document where used.
    ALREADY_REFUNDED = "already_refunded"
    # A close whose count is off by more than the threshold without a manager's approval.
    VARIANCE_NEEDS_APPROVAL = "variance_needs_approval"
    # Limits of one request (pos_app.server.http_limits): a body over 1 MiB, a head over 16 KiB.
    PAYLOAD_TOO_LARGE = "payload_too_large"
    HEADERS_TOO_LARGE = "request_header_fields_too_large"
    # A manager's approval (username and PIN) refused: one answer whatever was wrong.
    APPROVAL_REFUSED = "approval_refused"
    # Live-inventory streams (pos_app.server.services.live_streams): a credential with its
    # 4 streams open already; this server process at its cap of streams.
    TOO_MANY_STREAMS = "too_many_streams"
    SERVER_BUSY = "server_busy"


ERROR_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INSUFFICIENT_INVENTORY: 409,
    ErrorCode.HOLD_NOT_ACTIVE: 409,
    ErrorCode.HOLD_EXPIRED: 409,
    ErrorCode.INSUFFICIENT_TENDER: 422,
    ErrorCode.CAPACITY_BELOW_COMMITTED: 409,
    ErrorCode.SHIFT_NOT_OPEN: 409,
    ErrorCode.SHIFT_ALREADY_OPEN: 409,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.IDEMPOTENCY_KEY_VOIDED: 409,
    ErrorCode.REQUEST_IN_PROGRESS: 409,
    ErrorCode.TOO_MANY_ATTEMPTS: 429,
    ErrorCode.ALREADY_REFUNDED: 409,
    ErrorCode.VARIANCE_NEEDS_APPROVAL: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.HEADERS_TOO_LARGE: 431,
    ErrorCode.APPROVAL_REFUSED: 403,
    ErrorCode.TOO_MANY_STREAMS: 429,
    ErrorCode.SERVER_BUSY: 503,
}
