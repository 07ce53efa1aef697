""":class:`InventoryClient`: the terminal's only way to talk to the central inventory API."""

from __future__ import annotations

import ssl
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ValidationError

from pos_app.api.schemas import (
    CashMovement,
    CashMovementCreate,
    ErrorBody,
    EventsResponse,
    Health,
    Hold,
    HoldCreate,
    HoldList,
    HoldRelease,
    ManagerApproval,
    PairRequest,
    PairResponse,
    Refund,
    RefundCreate,
    Sale,
    SaleCreate,
    SalesPage,
    SessionCreate,
    SessionResponse,
    Shift,
    ShiftClose,
    ShiftList,
    ShiftOpen,
)
from pos_app.client._errors import (
    InvalidResponse,
    NotFound,
    NotPaired,
    NotSignedIn,
    OutcomeUnknown,
    ServerUnreachable,
    TlsVerificationFailed,
    api_error_from,
)
from pos_app.client._manager import ManagerCalls

if TYPE_CHECKING:  # imported on the first request (~80 ms): the window shows before that
    import httpx

__all__ = ["InventoryClient", "KeyState", "sale_json", "tls_context"]

_M = TypeVar("_M", bound=BaseModel)
REQUEST_THREADS_KEPT = 256
_USER_AGENT = "pos-app-terminal/1"


def _not_sent() -> tuple[type[Exception], ...]:
    """Failures while opening the connection: the request bytes were never sent."""
    import httpx

    return (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError,
            httpx.UnsupportedProtocol)


def tls_context(ca_file: Path) -> ssl.SSLContext:
    """A client TLS context trusting only ``ca_file`` (PEM), TLS 1.2 or newer, host checked.

    Raises:
        FileNotFoundError: ``ca_file`` does not exist.
        ssl.SSLError: ``ca_file`` holds no usable certificate.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _is_cert_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError | ssl.CertificateError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None



PIN_CHECK_TIMEOUT = 7 * 60.0
"""Seconds a request that carries a PIN (sign-in, a manager's approval) waits for its answer:
after repeated failures for a username the server holds every next PIN for it up to 6
minutes before checking it (``docs/api.md``, Approvals and throttling); the usual 10 s
would turn that wait into an unknown outcome."""

class InventoryClient(ManagerCalls):
    """Client of the central inventory API (``shared/API.md``) over one keep-alive connection.

    Args:
        base_url: ``https://host:port`` of the server (no ``/v1``).
        ca_file: PEM of the private CA pinned at pairing; the only trust anchor (TLS >= 1.2,
            host name checked). Not read when ``transport`` is given.
        terminal_token: sent on ``POST /v1/sessions`` only.
        session_token: sent on every other authenticated call.
        timeout: seconds for each of connect, read, write and pool waits.
        transport: an ``httpx`` transport to use instead of the network (tests:
            ``httpx.MockTransport``).

    Every method raises the :class:`~pos_app.client.ClientError` tree: ``ServerUnreachable``
    when the request was never sent, ``OutcomeUnknown`` when it was sent and no usable answer
    came (5xx included), an ``ApiError`` subclass for a contract error body, ``NotSignedIn`` /
    ``NotPaired`` when the needed token is missing (before any traffic). Safe to share between
    threads. The process's proxy variables are ignored (``trust_env=False``): terminals talk to
    their server directly.

    ``request_threads`` (always on, cheap): the last :data:`REQUEST_THREADS_KEPT` requests as
    ``(thread, method, path)``, ``thread`` being the ``threading.current_thread()`` that sent
    it; the window's tests use it to prove no request runs on the GUI thread.
    """

    def __init__(self, base_url: str, *, ca_file: Path, terminal_token: str | None = None,
                 session_token: str | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.ca_file = Path(ca_file)
        self._lock = threading.Lock()
        self.request_threads: deque[tuple[threading.Thread, str, str]] = deque(
            maxlen=REQUEST_THREADS_KEPT)
        self._terminal_token = terminal_token
        self._session_token = session_token
        self._verify: ssl.SSLContext | bool = (tls_context(self.ca_file) if transport is None
                                               else True)
        self._transport = transport
        self._timeout = timeout
        self._client: httpx.Client | None = None
        self._closed = False

    @property
    def _http(self) -> httpx.Client:
        """The ``httpx.Client``, made on first use (so is the ``httpx`` import)."""
        client = self._client
        if client is not None:
            return client
        import httpx  # outside the lock: the first import takes a while

        with self._lock:
            if self._client is None:
                if self._closed:
                    raise RuntimeError("The client has been closed.")
                timeout = self._timeout
                self._client = httpx.Client(
                    base_url=self.base_url, verify=self._verify, transport=self._transport,
                    trust_env=False, follow_redirects=False,
                    timeout=httpx.Timeout(connect=timeout, read=timeout, write=timeout,
                                          pool=timeout),
                    headers={"User-Agent": _USER_AGENT, "Accept": "application/json"})
            return self._client

    # --- tokens -------------------------------------------------------------------------------

    def set_session_token(self, token: str | None) -> None:
        """Use ``token`` for later calls (``None``: signed out)."""
        with self._lock:
            self._session_token = token

    def set_terminal_token(self, token: str | None) -> None:
        """Use ``token`` for ``POST /v1/sessions``."""
        with self._lock:
            self._terminal_token = token

    @property
    def has_session(self) -> bool:
        """Whether a session token is set (it may have expired on the server)."""
        with self._lock:
            return self._session_token is not None

    def _session_auth(self) -> dict[str, str]:
        with self._lock:
            token = self._session_token
        if token is None:
            raise NotSignedIn("Not signed in - sign in first.")
        return {"Authorization": f"Bearer {token}"}

    def _terminal_auth(self) -> dict[str, str]:
        with self._lock:
            token = self._terminal_token
        if token is None:
            raise NotPaired("This terminal is not paired - run: pos-app pair URL CODE --ca-file F")
        return {"Authorization": f"Bearer {token}"}

    # --- transport ----------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, json: Any = None,
              headers: Mapping[str, str] | None = None,
              timeout: float | None = None) -> httpx.Response:
        """Send one request; translate transport failures and error statuses. ``timeout``
        (seconds) replaces the client's wait for the answer for this call (a long
        server-side job); connecting still gives up after the client's usual time."""
        self.request_threads.append((threading.current_thread(), method, path))
        http = self._http
        import httpx

        try:
            response = http.request(
                method, path, json=json, headers=headers,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None
                else httpx.Timeout(self._timeout, read=timeout))
        except _not_sent() as exc:
            if _is_cert_failure(exc):
                raise TlsVerificationFailed(
                    f"The server at {self.base_url} did not present a certificate from the "
                    f"pinned CA ({self.ca_file}) - re-pair this terminal with the right CA file "
                    "(pos-app pair URL CODE --ca-file F).") from exc
            raise ServerUnreachable(f"Cannot reach the server at {self.base_url}: "
                                    f"{exc or type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise OutcomeUnknown(f"No answer from the server at {self.base_url}: "
                                 f"{exc or type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise OutcomeUnknown(f"The server answered {response.status_code}.",
                                 status=response.status_code)
        if response.status_code >= 400:
            try:
                body = ErrorBody.model_validate_json(response.content)
            except ValidationError:
                body = ErrorBody(error=f"http_{response.status_code}",
                                 message=f"The server refused the request "
                                         f"({response.status_code}).")
            raise api_error_from(response.status_code, body, retry_after=_retry_after(response))
        return response

    @staticmethod
    def _parse(response: httpx.Response, model: type[_M]) -> _M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise InvalidResponse(f"The server's answer is not a valid {model.__name__}: "
                                  f"{exc.error_count()} problem(s)",
                                  status=response.status_code) from exc

    # --- API ----------------------------------------------------------------------------------

    def health(self) -> Health:
        """``GET /v1/health`` (no auth)."""
        return self._parse(self._send("GET", "/v1/health"), Health)

    def pair(self, pairing_code: str) -> PairResponse:
        """``POST /v1/terminals/pair``: exchange a single-use code for the terminal token.

        Raises ``NotFound`` / ``Unauthorized`` / ``InvalidRequest`` for a bad or used code.
        """
        body = PairRequest(pairing_code=pairing_code).model_dump(mode="json")
        return self._parse(self._send("POST", "/v1/terminals/pair", json=body), PairResponse)

    def create_session(self, username: str, pin: str) -> SessionResponse:
        """``POST /v1/sessions`` with the terminal token. Does not keep the returned token:
        call :meth:`set_session_token`. Raises ``Unauthorized`` (wrong username or PIN),
        ``TooManyAttempts`` (locked, ``retry_after`` seconds), ``NotPaired`` (no terminal token).
        """
        body = SessionCreate(username=username, pin=pin).model_dump(mode="json")
        response = self._send("POST", "/v1/sessions", json=body, headers=self._terminal_auth(),
                              timeout=PIN_CHECK_TIMEOUT)
        return self._parse(response, SessionResponse)

    def delete_session(self, *, token: str | None = None) -> None:
        """``DELETE /v1/sessions/current``: sign the session out on the server; ``token``
        names another session to end than the one in use (one just replaced by a new
        sign-in), and leaves the one in use as it is."""
        headers = ({"Authorization": f"Bearer {token}"} if token is not None
                   else self._session_auth())
        self._send("DELETE", "/v1/sessions/current", headers=headers)

    def list_events(self, *, etag: str | None = None
                    ) -> tuple[EventsResponse | None, str | None]:
        """``GET /v1/events``, conditional on ``etag``.

        Returns ``(events, etag)``; ``events`` is ``None`` when the server answered 304 (the
        caller's copy for ``etag`` is current), and the returned etag is then ``etag``.
        """
        headers = self._session_auth()
        if etag is not None:
            headers["If-None-Match"] = etag
        response = self._send("GET", "/v1/events", headers=headers)
        if response.status_code == 304:
            return None, response.headers.get("ETag", etag)
        return self._parse(response, EventsResponse), response.headers.get("ETag")

    def create_sale(self, body: SaleCreate, *, idempotency_key: str) -> Sale:
        """``POST /v1/sales`` with ``Idempotency-Key: idempotency_key``; returns the sale
        (a replay of an earlier identical request returns the same sale).

        The JSON sent is ``body.model_dump(mode="json", exclude_none=True)``, the same form
        the journal stores, so a retry of a journaled body is byte-for-byte the same request.
        """
        headers = self._session_auth()
        headers["Idempotency-Key"] = idempotency_key
        response = self._send("POST", "/v1/sales", json=sale_json(body), headers=headers)
        return self._parse(response, Sale)

    def get_sale(self, id_or_number: str | int) -> Sale:
        """``GET /v1/sales/{id or number}``. Raises ``NotFound``."""
        path = f"/v1/sales/{quote(str(id_or_number), safe='')}"
        return self._parse(self._send("GET", path, headers=self._session_auth()), Sale)

    def list_sales(self, *, shift_id: int | None = None, from_: datetime | None = None,
                   to: datetime | None = None, limit: int = 100,
                   cursor: str | None = None) -> SalesPage:
        """``GET /v1/sales``: one page of sales by ascending number; follow ``next_cursor``
        (``None`` on the last page).

        Args:
            shift_id: only the sales of this shift.
            from_: only sales created at or after this instant (timezone-aware).
            to: only sales created before this instant (timezone-aware).
            limit: sales per page, 1..=1000 (the server's bounds).
            cursor: the previous page's ``next_cursor``.

        Raises:
            ValueError: ``from_`` or ``to`` is naive (nothing is sent: the server would
                refuse it and a naive time has no single meaning).
            InvalidRequest: a filter or cursor the server rejects.
            Unauthorized, NotSignedIn, ServerUnreachable, OutcomeUnknown, InvalidResponse.
        """
        params: dict[str, str] = {}
        if shift_id is not None:
            params["shift_id"] = str(int(shift_id))
        for name, moment in (("from", from_), ("to", to)):
            if moment is None:
                continue
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
            params[name] = moment.isoformat()
        if cursor is not None:
            params["cursor"] = cursor
        query = urlencode({**params, "limit": str(limit)})
        return self._parse(self._send("GET", f"/v1/sales?{query}",
                                      headers=self._session_auth()), SalesPage)

    # --- shifts -------------------------------------------------------------------------------

    def _post_keyed(self, path: str, body: Any, idempotency_key: str, *,
                    timeout: float | None = None) -> httpx.Response:
        headers = self._session_auth()
        headers["Idempotency-Key"] = idempotency_key
        return self._send("POST", path, json=body, headers=headers, timeout=timeout)

    def open_shift(self, opening_float: int, *, idempotency_key: str) -> Shift:
        """``POST /v1/shifts``: open a shift at this terminal with ``opening_float`` minor
        units in the drawer. Raises ``Conflict`` (``shift_already_open``), ``Forbidden``."""
        body = ShiftOpen(opening_float=opening_float).model_dump(mode="json")
        return self._parse(self._post_keyed("/v1/shifts", body, idempotency_key), Shift)

    def add_cash_movement(self, shift_id: int, kind: str, amount: int, reason: str, *,
                          idempotency_key: str) -> CashMovement:
        """``POST /v1/shifts/{id}/cash-movements``: ``kind`` is ``pay_in``, ``pay_out`` or
        ``drop``; ``amount`` > 0 minor units. Raises ``Conflict`` (``shift_not_open``),
        ``NotFound``, ``Forbidden``, ``InvalidRequest``."""
        body = CashMovementCreate.model_validate(
            {"kind": kind, "amount": amount, "reason": reason}).model_dump(mode="json")
        path = f"/v1/shifts/{int(shift_id)}/cash-movements"
        return self._parse(self._post_keyed(path, body, idempotency_key), CashMovement)

    def close_shift(self, shift_id: int, counted_cash: int, note: str | None = None, *,
                    idempotency_key: str, manager: ManagerApproval | None = None) -> Shift:
        """``POST /v1/shifts/{id}/close`` with the cash counted (minor units); returns the
        shift with the server's ``expected_cash`` and ``variance``. A count off by more than
        the server's threshold needs ``manager`` (username and PIN; sent, never kept) and a
        ``note``. Raises ``Conflict`` (``shift_not_open``, ``variance_needs_approval``),
        ``NotFound``, ``Forbidden`` (also a wrong manager PIN)."""
        body = ShiftClose(counted_cash=counted_cash, note=note, manager=manager).model_dump(
            mode="json", exclude_none=True)
        path = f"/v1/shifts/{int(shift_id)}/close"
        timeout = PIN_CHECK_TIMEOUT if manager is not None else None
        return self._parse(self._post_keyed(path, body, idempotency_key, timeout=timeout), Shift)

    def get_shift(self, shift_id: int) -> Shift:
        """``GET /v1/shifts/{id}`` with its totals. Raises ``NotFound``, ``Forbidden``."""
        path = f"/v1/shifts/{int(shift_id)}"
        return self._parse(self._send("GET", path, headers=self._session_auth()), Shift)

    def current_shift(self) -> Shift | None:
        """The open shift at this terminal (``GET /v1/shifts?terminal_id=me&status=open``),
        or ``None`` when no shift is open."""
        response = self._send("GET", "/v1/shifts?terminal_id=me&status=open&limit=1",
                              headers=self._session_auth())
        shifts = self._parse(response, ShiftList).shifts
        return shifts[0] if shifts else None

    # --- idempotency keys, holds, refunds -----------------------------------------------------

    def add_event_hook(self, event: Literal["request", "response"],
                       hook: Callable[[Any], None]) -> None:
        """Call ``hook(request)`` before every request is sent (``"request"``) or
        ``hook(response)`` once every response's headers arrived (``"response"``); the
        ``httpx`` event hooks. Used by the journal's crash points (``POS_APP_CRASH_AT``)."""
        hooks = self._http.event_hooks
        hooks[event] = [*hooks.get(event, []), hook]
        self._http.event_hooks = hooks

    def lookup_key(self, key: str) -> KeyState | None:
        """``GET /v1/idempotency-keys/{key}``: what the server knows of one of this
        terminal's keys, or ``None`` when it never saw it (404). Never executes anything."""
        path = f"/v1/idempotency-keys/{quote(key, safe='')}"
        try:
            response = self._send("GET", path, headers=self._session_auth())
        except NotFound:
            return None
        return KeyState.from_json(response)

    def void_key(self, key: str) -> KeyState:
        """``POST /v1/idempotency-keys/{key}/void``: make sure the request with ``key`` can
        never execute later. Returns ``completed`` (with the request's stored response) when
        it already ran, else ``voided``. Raises ``RequestInProgress`` while it runs."""
        path = f"/v1/idempotency-keys/{quote(key, safe='')}/void"
        return KeyState.from_json(self._send("POST", path, headers=self._session_auth()))

    def create_hold(self, body: HoldCreate, *, idempotency_key: str) -> Hold:
        """``POST /v1/holds``: hold ``body.lines``. Raises ``InsufficientInventory``,
        ``InvalidRequest``, ``Forbidden``."""
        payload = body.model_dump(mode="json", exclude_none=True)
        return self._parse(self._post_keyed("/v1/holds", payload, idempotency_key), Hold)

    def release_hold(self, ref: str, reason: str | None = None, *,
                     idempotency_key: str) -> Hold:
        """``POST /v1/holds/{id or code}/release`` with the optional ``reason``. Raises
        ``Conflict`` (``hold_not_active``), ``NotFound``, ``Forbidden``."""
        payload = HoldRelease(reason=reason).model_dump(mode="json", exclude_none=True)
        path = f"/v1/holds/{quote(ref, safe='')}/release"
        return self._parse(self._post_keyed(path, payload, idempotency_key), Hold)

    def get_hold(self, ref: str) -> Hold:
        """``GET /v1/holds/{id or code}``. Raises ``NotFound``."""
        path = f"/v1/holds/{quote(ref, safe='')}"
        return self._parse(self._send("GET", path, headers=self._session_auth()), Hold)

    def list_holds(self, *, status: str | None = None, kind: str | None = None,
                   q: str | None = None, limit: int = 100,
                   cursor: str | None = None) -> HoldList:
        """``GET /v1/holds`` (newest first; follow ``next_cursor``)."""
        params = {name: value for name, value in (("status", status), ("kind", kind),
                                                  ("q", q), ("cursor", cursor))
                  if value is not None}
        query = urlencode({**params, "limit": str(limit)})
        return self._parse(self._send("GET", f"/v1/holds?{query}",
                                      headers=self._session_auth()), HoldList)

    def refund(self, sale_ref: str, body: RefundCreate, *, idempotency_key: str) -> Refund:
        """``POST /v1/sales/{id or number}/refunds``. Raises ``Forbidden`` (a cashier without
        a manager's approval), ``NotFound``, ``Conflict``, ``InvalidRequest``."""
        payload = body.model_dump(mode="json", exclude_none=True)
        path = f"/v1/sales/{quote(str(sale_ref), safe='')}/refunds"
        timeout = PIN_CHECK_TIMEOUT if body.manager is not None else None
        return self._parse(self._post_keyed(path, payload, idempotency_key, timeout=timeout),
                           Refund)

    def close(self) -> None:
        """Close the connection pool; the client cannot be used afterwards."""
        with self._lock:
            client, self._client, self._closed = self._client, None, True
        if client is not None:
            client.close()

    def __enter__(self) -> InventoryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def sale_json(body: SaleCreate) -> dict[str, Any]:
    """The wire JSON of a sale request, as sent and as journaled."""
    return body.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True, slots=True)
class KeyState:
    """What the server knows of an idempotency key (``GET /v1/idempotency-keys/{key}``).

    Attributes:
        status: ``completed``, ``in_progress`` or ``voided``.
        response_status: the HTTP status the request got (``completed`` only).
        response: the JSON body it got (``completed`` only): the created resource or an
            error body for a stored refusal.
    """

    status: Literal["completed", "in_progress", "voided"]
    response_status: int | None = None
    response: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, http_response: httpx.Response) -> KeyState:
        try:
            document = http_response.json()
            status = document["status"]
            stored = document.get("response")
            if status not in ("completed", "in_progress", "voided"):
                raise ValueError(status)
            if stored is None:
                return cls(status)
            return cls(status, int(stored["status"]), dict(stored["body"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidResponse("The server's answer is not a valid idempotency key state.",
                                  status=http_response.status_code) from exc
