"""Webhooks for stock alerts (issue 6): the endpoints, what is posted to them, how it is
signed, and the delivery log. Posting itself is :mod:`.webhook_dispatcher`.

A webhook is a URL plus a secret made here and shown once (``pos-app admin add-webhook``).
``https://`` URLs only, except ``http://`` to this machine's loopback (a receiver under test
or a local relay); loopback, private, link-local, multicast and reserved targets only with
``--allow-private-webhooks`` (:func:`validate_url`, and at delivery
:func:`pos_app.server.services.webhook_http.post`). The database keeps the secret itself,
not a hash: the server needs it to sign every delivery, as Stripe and GitHub keep theirs; but
sealed (AES-256-GCM under ``webhook.key`` in the data folder's secrets, bound to the
webhook's id: :mod:`pos_app.server.sealing`), so a copy of the database alone cannot sign.
It is opened only to sign a delivery.
Removing a webhook stops its deliveries at once, erases its secret and keeps its delivery log.

Signature scheme (after Stripe's ``Stripe-Signature`` and GitHub's
``X-Hub-Signature-256``), on every attempt of every delivery::

    Content-Type:    application/json
    X-POS-Event:     stock_alert
    X-POS-Delivery:  <UUID, the same for each attempt of one alert to one webhook>
    X-POS-Delivery-Attempt: <1 for the first attempt, 2 for the first retry, ...>
    X-POS-Timestamp: <unix seconds when this attempt was signed, server clock>
    X-POS-Signature: sha256=<hex HMAC-SHA256(key=secret as UTF-8,
                                             msg=timestamp + "." + raw body)>

A receiver recomputes the HMAC over the exact bytes it received, compares it in constant
time (``hmac.compare_digest``), refuses a timestamp more than a few minutes from its own
clock (a replayed request) and, since delivery is at least once, ignores an
``X-POS-Delivery`` it has already handled. :func:`verify_signature` does all but the last.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ErrorCode
from pos_app.server.errors import ApiError
from pos_app.server.models import (
    AuditEntry,
    Event,
    StockAlert,
    TicketType,
    Webhook,
    WebhookDelivery,
)
from pos_app.server.services.audit_query import decode_cursor, encode_cursor
from pos_app.server.services.webhook_http import is_private_address
from pos_app.server.tx_state import state

__all__ = [
    "EVENT_STOCK_ALERT",
    "MAX_URL_LENGTH",
    "PRIVATE_REFUSED",
    "SECRET_PREFIX",
    "SIGNATURE_TOLERANCE_SECONDS",
    "PendingAlert",
    "create_webhook",
    "delivery_id",
    "get_webhook",
    "list_deliveries",
    "list_webhooks",
    "new_secret",
    "next_alert",
    "redacted_url",
    "remove_webhook",
    "sign",
    "validate_url",
    "verify_signature",
    "webhook_out",
]

EVENT_STOCK_ALERT = "stock_alert"
"""The ``X-POS-Event`` header and ``type`` field of a stock alert delivery."""

SECRET_PREFIX = "whsec_"
"""Secrets read as what they are in a config file or a log someone pastes."""

MAX_URL_LENGTH = 2000

SIGNATURE_TOLERANCE_SECONDS = 300
"""How far from the receiver's clock :func:`verify_signature` accepts a timestamp (5 min,
Stripe's default tolerance)."""

_DELIVERY_NAMESPACE = uuid.UUID("6f1d7f3e-0c55-4f0e-9a43-5e0b3f6f2a11")


def _invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_REQUEST, message)


PRIVATE_REFUSED = ("A webhook URL may not point at a loopback, private, link-local, multicast, "
                   "unspecified or reserved address (this machine, the local network, a "
                   "cloud's metadata service): use a public https:// receiver, or allow "
                   "private targets explicitly with --allow-private-webhooks.")
"""The 422 message for such a target (:func:`validate_url`)."""


def _literal_addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses ``host`` names without any DNS lookup: an IP literal in any form the
    resolver accepts (``127.0.0.1``, ``127.1``, ``2130706433``, ``0x7f.1``, ``[::1]``), and
    ``localhost`` / ``*.localhost`` (RFC 6761: always loopback); [] for another name."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1")]
    try:
        found = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return []  # a name: checked at every delivery, once resolved (webhook_http.post)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


def _is_loopback(host: str) -> bool:
    addresses = _literal_addresses(host)
    return bool(addresses) and all(a.is_loopback or (
        isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None
        and a.ipv4_mapped.is_loopback) for a in addresses)


def validate_url(url: str, *, allow_private: bool = False) -> str:
    """``url`` stripped, when it may receive webhooks: ``https://host[:port]/...``, or
    ``http://`` to a loopback host (``localhost``, ``127.0.0.0/8``, ``::1``); ASCII (a
    non-ASCII host in its ``xn--`` form), no spaces, no ``user:password@`` (the signature
    authenticates the server), no ``#fragment``, at most :data:`MAX_URL_LENGTH` characters.
    Unless ``allow_private`` (``--allow-private-webhooks``), a host that is an address which
    is not public (:func:`~pos_app.server.services.webhook_http.is_private_address`, in any
    spelling) or ``localhost`` is refused, and so ``http://`` too; a host name is checked
    again at every delivery against the addresses it resolves to.

    Raises:
        ApiError: 422 ``invalid_request`` with a sentence naming the problem.
    """
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise _invalid(f"A webhook URL is 1 to {MAX_URL_LENGTH} characters.")
    if not url.isascii() or any(c.isspace() or not c.isprintable() for c in url):
        raise _invalid("A webhook URL has no spaces and only ASCII characters (write a "
                       "non-ASCII host name in its xn-- form).")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise _invalid("A webhook URL starts with https://.")
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise _invalid("The webhook URL's port is not a number from 1 to 65535.") from None
    if not host:
        raise _invalid("The webhook URL names no host.")
    if parts.username is not None or parts.password is not None:
        raise _invalid("A webhook URL carries no user name or password: receivers check "
                       "the X-POS-Signature header instead.")
    if parts.fragment or url.endswith("#"):
        raise _invalid("A webhook URL has no #fragment.")
    if scheme == "http" and not _is_loopback(host):
        raise _invalid("A webhook URL must use https://; http:// is only for a receiver on "
                       "this machine (localhost, 127.0.0.1, ::1).")
    if not allow_private and any(is_private_address(a) for a in _literal_addresses(host)):
        raise _invalid(PRIVATE_REFUSED)
    return url


def new_secret() -> str:
    """A fresh signing secret: :data:`SECRET_PREFIX` and 32 random bytes in URL-safe
    base64 (49 characters)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-POS-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds):
    ``sha256=`` and the hex HMAC-SHA256, keyed by ``secret`` (UTF-8), of
    ``b"<timestamp>." + body``."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, body: bytes, *, timestamp: str | None,
                     signature: str | None, now: float,
                     tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver checks: ``signature`` (the ``X-POS-Signature`` header) is
    :func:`sign` of the raw ``body`` at ``timestamp`` (the ``X-POS-Timestamp`` header),
    compared in constant time, and ``timestamp`` is within ``tolerance`` seconds of ``now``
    (the receiver's unix time). False for a missing or malformed header."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def delivery_id(webhook_id: int, created_at: datetime, seq: int) -> str:
    """The ``X-POS-Delivery`` of alert ``seq`` to webhook ``webhook_id`` (created at
    ``created_at``): a UUID derived from the three, so every attempt, before and after a
    restart, carries the same one and a receiver can drop a second copy."""
    name = f"{webhook_id}:{created_at.isoformat()}:{seq}"
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, name))


def _pending(session: Session, webhook: Webhook) -> int:
    if not webhook.active:
        return 0
    return int(session.scalar(select(func.count()).select_from(StockAlert)
                              .where(StockAlert.seq > webhook.cursor_seq)) or 0)


def redacted_url(url: str) -> str:
    """``url`` with its path and query cut to ``/...`` (``https://hooks.example.com/...``):
    they often are the receiver's own credential (a Slack incoming-webhook URL is one), so
    only the server's administrators see them whole."""
    parts = urlsplit(url)
    rest = "/..." if parts.path not in ("", "/") or parts.query else "/"
    return f"{parts.scheme}://{parts.netloc}{rest}"


def webhook_out(session: Session, webhook: Webhook, *,
                full_url: bool = False) -> schemas.WebhookOut:
    """The wire shape of ``webhook`` (never its secret) with its count of pending alerts;
    its URL :func:`redacted_url` unless ``full_url``."""
    url = webhook.url if full_url else redacted_url(webhook.url)
    return schemas.WebhookOut(
        id=webhook.id, url=url, active=webhook.active, created_at=webhook.created_at,
        removed_at=webhook.removed_at, last_seq=webhook.cursor_seq,
        pending=_pending(session, webhook), attempts=webhook.attempts,
        next_attempt_at=webhook.next_attempt_at)


def create_webhook(session: Session, url: str, *, now: datetime,
                   allow_private: bool = False) -> schemas.WebhookCreated:
    """Add a webhook for ``url`` (see :func:`validate_url`; ``allow_private`` lets it name a
    loopback or private address) that receives every stock alert raised after now; returns
    it with its new secret, which is not shown again (the database keeps it sealed under the
    webhook key of ``session``'s database).

    Its cursor starts at the newest alert: alerts commit in ``seq`` order (on PostgreSQL
    every writer holds the audit chain's lock, :func:`pos_app.server.audit.lock_chain`,
    and this runs in such a write), so none raised before it is sent and none after it is
    missed.

    Raises:
        ApiError: 422 ``invalid_request`` for a URL that cannot receive webhooks.
    """
    url = validate_url(url, allow_private=allow_private)
    secret = new_secret()
    newest = int(session.scalar(select(func.max(StockAlert.seq))) or 0)
    row = Webhook(url=url, secret=None, active=True, created_at=now, cursor_seq=newest,
                  attempts=0)
    session.add(row)
    session.flush()  # its id: the sealed secret is bound to it
    row.secret = state(session).sealing_keys().webhooks.seal(secret, str(row.id))
    session.flush()
    return schemas.WebhookCreated(id=row.id, url=url, secret=secret, created_at=now,
                                  last_seq=newest)


def get_webhook(session: Session, webhook_id: int) -> Webhook:
    """Webhook ``webhook_id``, removed or not.

    Raises:
        ApiError: 404 ``not_found`` when there is no such webhook.
    """
    row = session.get(Webhook, webhook_id)
    if row is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"There is no webhook {webhook_id}.")
    return row


def list_webhooks(session: Session, *, full_urls: bool = False) -> schemas.WebhookList:
    """Every webhook, removed ones included, oldest first; URLs :func:`redacted_url`
    unless ``full_urls`` (the admin command on the server)."""
    rows = session.scalars(select(Webhook).order_by(Webhook.id))
    return schemas.WebhookList(webhooks=[webhook_out(session, w, full_url=full_urls)
                                         for w in rows])


def remove_webhook(session: Session, webhook_id: int, *, now: datetime) -> schemas.WebhookOut:
    """Stop posting to webhook ``webhook_id`` and erase its secret; its delivery log stays.
    Removing a removed webhook changes nothing. An attempt already in flight still ends in
    the log. Returns the webhook with its full URL (for the admin who removed it).

    Raises:
        ApiError: 404 ``not_found`` when there is no such webhook.
    """
    row = get_webhook(session, webhook_id)
    if row.active:
        row.active = False
        row.removed_at = now
        row.secret = None
        row.next_attempt_at = None
        session.flush()
    return webhook_out(session, row, full_url=True)


def list_deliveries(session: Session, webhook_id: int, *, limit: int = 100,
                    cursor: str | None = None) -> schemas.WebhookDeliveryPage:
    """The delivery log of webhook ``webhook_id``, newest attempt first, ``limit`` per page;
    ``next_cursor`` (opaque) continues after the page, null at the end.

    Raises:
        ApiError: 404 ``not_found`` for an unknown webhook; 422 ``invalid_request`` for a
            cursor this server did not give out.
    """
    get_webhook(session, webhook_id)
    query = (select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
             .order_by(WebhookDelivery.id.desc()).limit(limit + 1))
    if cursor is not None:
        query = query.where(WebhookDelivery.id < decode_cursor(cursor, "desc"))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return schemas.WebhookDeliveryPage(
        deliveries=[schemas.WebhookDeliveryOut(
            id=d.id, webhook_id=d.webhook_id, alert_seq=d.alert_seq, delivery_id=d.delivery_id,
            attempt=d.attempt, at=d.at, status_code=d.status_code, error=d.error,
            duration_ms=d.duration_ms, outcome=d.outcome)
            for d in rows],
        next_cursor=encode_cursor(rows[-1].id, "desc") if more else None)


@dataclass(frozen=True)
class PendingAlert:
    """The next stock alert for a webhook: its ``seq``, when it was raised (``at``) and the
    JSON ``body`` to post (:class:`pos_app.api.schemas.StockAlertWebhook`, compact)."""

    seq: int
    at: datetime
    body: bytes


def _text(event: str, ticket_type: str, level: int, available: int, capacity: int) -> str:
    if available == 0:
        return f"{event}, {ticket_type}: sold out (alert level {level})"
    return f"{event}, {ticket_type}: {available} of {capacity} left (alert level {level})"


def next_alert(session: Session, after_seq: int) -> PendingAlert | None:
    """The lowest stock alert above ``after_seq`` as it is posted, or None.

    ``capacity``, ``sold`` and ``held`` are those of the crossing, from the alert's own
    ``stock_alert`` audit entry (same transaction, time, ticket type and rung: see
    :func:`pos_app.server.services.changes.record`), so a retry hours later still says what
    happened then; the ticket type's current counts stand in if no entry matches.
    """
    row = session.execute(
        select(StockAlert, TicketType, Event)
        .join(TicketType, TicketType.id == StockAlert.ticket_type_id)
        .join(Event, Event.id == StockAlert.event_id)
        .where(StockAlert.seq > after_seq).order_by(StockAlert.seq).limit(1)).first()
    if row is None:
        return None
    alert, tt, event = row
    counts = session.execute(
        select(AuditEntry.after_capacity, AuditEntry.after_sold, AuditEntry.after_held)
        .where(AuditEntry.at == alert.at, AuditEntry.action == "stock_alert",
               AuditEntry.ticket_type_id == alert.ticket_type_id,
               AuditEntry.quantity == alert.level)
        .order_by(AuditEntry.seq).limit(1)).first()
    capacity, sold, held = (tt.capacity, tt.sold, tt.held)
    if counts is not None:
        at_capacity, at_sold, at_held = counts
        if at_capacity is not None and at_sold is not None and at_held is not None:
            capacity, sold, held = at_capacity, at_sold, at_held
    payload = schemas.StockAlertWebhook(
        seq=alert.seq, at=alert.at,
        event=schemas.WebhookEventRef(id=event.id, name=event.name, venue=event.venue,
                                      starts_at=event.starts_at),
        ticket_type=schemas.WebhookTicketTypeRef(id=tt.id, name=tt.name),
        level=alert.level, available=alert.available, capacity=capacity, sold=sold,
        held=held, text=_text(event.name, tt.name, alert.level, alert.available, capacity))
    return PendingAlert(seq=alert.seq, at=alert.at,
                        body=payload.model_dump_json().encode("utf-8"))
