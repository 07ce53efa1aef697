"""Test doubles shared by the test suites. Only ``Fake*`` classes live here."""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from keyring.backend import KeyringBackend
from pydantic import ValidationError

from pos_app.api.schemas import SaleCreate

if TYPE_CHECKING:
    from pos_app.journal import SaleOutcome


class FakeKeyring(KeyringBackend):
    """An in-memory OS keyring shared by every instance (as the user's real keyring is shared
    by every terminal home): select it with ``PYTHON_KEYRING_BACKEND=tests.fakes.FakeKeyring``.
    It is not plain text on disk, so the terminal treats it as a secure keyring."""

    priority = 1  # type: ignore[assignment]
    entries: ClassVar[dict[tuple[str, str], str]] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        import keyring.errors

        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class FakeCredentials:
    """In-memory stand-in for :class:`pos_app.client.Credentials` (no keyring)."""

    def __init__(self, server_url: str = "https://fake.test", *,
                 terminal_token: str | None = None, session_token: str | None = None) -> None:
        self.server_url = server_url
        self.terminal_token = terminal_token
        self.session_token = session_token


class FakeInventoryServer:
    """An in-memory central inventory API behind ``httpx.MockTransport``.

    Implements health, pairing, sessions, ``GET /v1/events`` (with ETag), ``POST /v1/sales``
    (idempotency keys with replay, ``idempotency_key_reused``, stock and tender checks) and
    ``GET /v1/sales/{id or number}``. Staff: alex/1234 (cashier), morgan/2468 (manager).

    Steer failures with :attr:`failures`, a queue of modes used by the next requests:
    ``"connect"`` (refused, never sent), ``"tls"`` (certificate not trusted), ``"read_timeout"``
    (sent, not executed, no answer), ``"lost_answer"`` (executed, then no answer), ``"500"``.
    :attr:`on_request` is called with each request before it is handled.
    """

    terminal_token = "fake-terminal-token-7f3a"
    pairing_code = "PAIR-CODE-1"
    staff: ClassVar[dict[str, tuple[str, int, str, str]]] = {
        "alex": ("1234", 1, "Alex", "cashier"), "morgan": ("2468", 2, "Morgan", "manager")}

    def __init__(self, *, capacity: int = 5, price: int = 2500,
                 types: tuple[str, ...] = ("GA",)) -> None:
        self.lock = threading.Lock()
        self.version = 1
        self.ticket_types: dict[int, dict[str, Any]] = {}
        for index, name in enumerate(types, start=1):
            self.ticket_types[index] = {
                "id": index, "event_id": "fake-night", "name": name, "price": price,
                "currency": "USD", "capacity": capacity, "public_limit": capacity, "sold": 0,
                "held": 0, "thresholds": {"low": 2, "critical": 1}, "alert_ladder": [2, 1, 0],
            }
        self.sessions: dict[str, int] = {}
        self.sales: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self.requests: list[httpx.Request] = []
        self.failures: list[str] = []
        self.on_request: Callable[[httpx.Request], None] | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- plumbing -----------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str, **extra: Any) -> httpx.Response:
        return httpx.Response(status, json={"error": code, "message": message, **extra})

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.on_request is not None:
            self.on_request(request)
        mode = self.failures.pop(0) if self.failures else None
        if mode == "connect":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if mode == "tls":
            try:
                raise ssl.SSLCertVerificationError(
                    1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
            except ssl.SSLError as exc:
                raise httpx.ConnectError(str(exc), request=request) from exc
        if mode == "read_timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if mode == "500":
            return httpx.Response(500, text="Internal Server Error")
        with self.lock:
            response = self._route(request)
        if mode == "lost_answer":
            raise httpx.ReadTimeout("timed out", request=request)
        return response

    def _staff_of(self, request: httpx.Request) -> int | None:
        auth = request.headers.get("Authorization", "")
        return self.sessions.get(auth.removeprefix("Bearer "))

    def _route(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if path == "/v1/health":
            return httpx.Response(200, json={"status": "ok", "version": "fake",
                                             "database": "ok",
                                             "server_time": datetime.now(UTC).isoformat()})
        if path == "/v1/terminals/pair" and method == "POST":
            if json.loads(request.content).get("pairing_code") != self.pairing_code:
                return self._error(401, "unauthorized", "Unknown or used pairing code.")
            return httpx.Response(201, json={"terminal_id": 7, "name": "till-1",
                                             "terminal_token": self.terminal_token})
        if path == "/v1/sessions" and method == "POST":
            return self._sign_in(request)
        staff_id = self._staff_of(request)
        if staff_id is None:
            return self._error(401, "unauthorized", "Sign in first.")
        if path == "/v1/sessions/current" and method == "DELETE":
            # Only the session that asks ends, as on the server (not the staff's others).
            self.sessions.pop(request.headers["Authorization"].removeprefix("Bearer "))
            return httpx.Response(204)
        if path == "/v1/events" and method == "GET":
            etag = f'"v{self.version}"'
            if request.headers.get("If-None-Match") == etag:
                return httpx.Response(304, headers={"ETag": etag})
            return httpx.Response(200, json=self._events(), headers={"ETag": etag})
        if path == "/v1/sales" and method == "POST":
            return self._sell(request, staff_id)
        if path.startswith("/v1/sales/") and method == "GET":
            ident = path.rsplit("/", 1)[1]
            for sale in self.sales.values():
                if ident in (sale["id"], str(sale["number"])):
                    return httpx.Response(200, json=sale)
            return self._error(404, "not_found", "No such sale.")
        return self._error(404, "not_found", "No such route.")

    def _sign_in(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {self.terminal_token}":
            return self._error(401, "unauthorized", "Unknown terminal.")
        body = json.loads(request.content)
        known = self.staff.get(body.get("username", ""))
        if known is None or known[0] != body.get("pin"):
            return self._error(401, "unauthorized", "Wrong username or PIN.")
        token = f"session-{uuid.uuid4().hex}"
        self.sessions[token] = known[1]
        return httpx.Response(201, json={
            "token": token,
            "expires_at": (datetime.now(UTC) + timedelta(hours=8)).isoformat(),
            "staff": {"id": known[1], "username": body["username"], "display_name": known[2],
                      "role": known[3]},
            "terminal": {"id": 7, "name": "till-1"}})

    def _ticket_type(self, tt: dict[str, Any]) -> dict[str, Any]:
        available = tt["capacity"] - tt["sold"] - tt["held"]
        level = ("sold_out" if available <= 0 else "critical" if available <= 1
                 else "low" if available <= 2 else "in_stock")
        return {**tt, "available": available, "public_available": max(0, available),
                "stock_level": level, "version": self.version}

    def _events(self) -> dict[str, Any]:
        return {"inventory_version": self.version, "events": [{
            "id": "fake-night", "name": "Fake Night", "venue": "Test Hall",
            "starts_at": "2026-12-31T20:00:00Z", "timezone": "America/Chicago",
            "currency": "USD",
            "ticket_types": [self._ticket_type(tt) for tt in self.ticket_types.values()]}]}

    def _sell(self, request: httpx.Request, staff_id: int) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return self._error(422, "invalid_request", "Idempotency-Key is required.")
        digest = hashlib.sha256(request.content).hexdigest()
        if key in self.keys:
            stored_digest, status, stored = self.keys[key]
            if stored_digest != digest:
                return self._error(422, "idempotency_key_reused",
                                   "This key was used with another request.")
            return httpx.Response(status, json=stored, headers={"Idempotent-Replayed": "true"})
        try:
            body = SaleCreate.model_validate_json(request.content)
        except ValidationError as exc:
            return self._error(422, "invalid_request", str(exc.errors()[0]["msg"]))
        assert body.lines is not None and body.payment.method == "cash"
        short = []
        for line in body.lines:
            tt = self.ticket_types.get(line.ticket_type_id)
            if tt is None:
                return self._error(404, "not_found", "No such ticket type.")
            available = tt["capacity"] - tt["sold"] - tt["held"]
            if line.quantity > available:
                short.append({"ticket_type_id": tt["id"], "requested": line.quantity,
                              "available": available})
        if short:
            status, out = 409, {"error": "insufficient_inventory",
                                "message": "Not enough tickets.", "lines": short}
        else:
            total = sum(self.ticket_types[ln.ticket_type_id]["price"] * ln.quantity
                        for ln in body.lines)
            if body.payment.tendered < total:
                status, out = 422, {"error": "insufficient_tender",
                                    "message": "Tendered is less than the total."}
            else:
                status, out = 201, self._record_sale(body, staff_id, total)
        self.keys[key] = (digest, status, out)
        return httpx.Response(status, json=out)

    def _record_sale(self, body: SaleCreate, staff_id: int, total: int) -> dict[str, Any]:
        assert body.lines is not None and body.payment.method == "cash"
        lines, tickets = [], []
        for line in body.lines:
            tt = self.ticket_types[line.ticket_type_id]
            tt["sold"] += line.quantity
            lines.append({"ticket_type_id": tt["id"], "name": tt["name"],
                          "quantity": line.quantity, "unit_price": tt["price"],
                          "amount": tt["price"] * line.quantity})
            tickets += [{"code": uuid.uuid4().hex[:12].upper(), "ticket_type_id": tt["id"],
                         "status": "valid"} for _ in range(line.quantity)]
        self.version += 1
        sale = {"id": str(uuid.uuid4()), "number": len(self.sales) + 1001,
                "status": "confirmed", "channel": "box_office", "event_id": "fake-night",
                "lines": lines, "total": total, "currency": "USD",
                "payment": {"method": "cash", "tendered": body.payment.tendered,
                            "change": body.payment.tendered - total},
                "tickets": tickets, "created_at": datetime.now(UTC).isoformat(),
                "terminal_id": 7, "staff_id": staff_id, "shift_id": None}
        self.sales[sale["id"]] = sale
        return sale


# --- the POS window's register (pos_app.gui) ------------------------------------------------
# Appended by the GUI work; imports are local so this section stays independent of the above.


class FakeRegisterConfig:
    """What the window reads from ``Register.config``."""

    def __init__(self, terminal_name: str, server_url: str) -> None:
        self.terminal_name = terminal_name
        self.server_url = server_url


class FakeRegisterPaths:
    """What the window reads from ``Register.paths``."""

    def __init__(self, receipts_dir: Any) -> None:
        self.receipts_dir = receipts_dir


class FakeRegister:
    """In-memory stand-in for :class:`pos_app.journal.Register`, for the POS window's tests.

    One event ``fake-night`` (USD, America/Chicago) with one ticket type per name in
    ``types`` (ids 1, 2, ...), ``capacity`` each at ``price`` minor units. Staff alex/1234.

    Every method records ``(name, threading.current_thread())`` in :attr:`calls` and sleeps
    ``delay`` seconds first; :attr:`sell_gate`, when set to an unset ``threading.Event``,
    makes ``sell`` wait for it (a charge held in flight). Queue outcomes with
    :attr:`refusals` (``ErrorBody`` values, answered ``refused``) and :attr:`unknowns` (a
    count of sales answered ``unknown``); otherwise a sale checks stock and tender like the
    server and is ``confirmed``. :attr:`unreachable` makes ``sign_in`` and ``events`` raise
    ``ServerUnreachable``; :attr:`throttled` (seconds) makes ``sign_in`` answer
    ``TooManyAttempts``; :attr:`expired` makes ``events`` raise ``Unauthorized`` (the server
    let the session lapse). Staff: alex/1234 and sam/5678, both cashiers; each sign-in gets a
    new token, :attr:`revoked` lists those signed out.
    """

    staff: ClassVar[dict[str, tuple[str, int, str]]] = {
        "alex": ("1234", 1, "Alex Rivera"), "sam": ("5678", 3, "Sam Okafor")}

    def __init__(self, receipts_dir: Any, *, capacity: int = 5, price: int = 2500,
                 types: tuple[str, ...] = ("GA", "VIP"), delay: float = 0.0,
                 terminal_name: str = "Front desk 1") -> None:
        from pathlib import Path

        self.delay = delay
        self.calls: list[tuple[str, threading.Thread]] = []
        self.sell_gate: threading.Event | None = None
        self.refusals: list[Any] = []
        self.unknowns = 0
        self.unreachable = False
        self.throttled: float | None = None
        self.expired = False
        self.revoked: list[str] = []
        self.sales: list[Any] = []
        self._lock = threading.Lock()
        self._session: Any = None
        self._config = FakeRegisterConfig(terminal_name, "https://box-office.test:8443")
        self._paths = FakeRegisterPaths(Path(receipts_dir))
        self._sold: dict[int, int] = {}
        self._types = [{"id": index, "name": name, "price": price, "capacity": capacity}
                       for index, name in enumerate(types, start=1)]

    # --- recording ---------------------------------------------------------------------------

    def _enter(self, name: str) -> None:
        with self._lock:
            self.calls.append((name, threading.current_thread()))
        if self.delay:
            import time

            time.sleep(self.delay)

    def calls_to(self, name: str) -> int:
        """How many times method ``name`` ran."""
        with self._lock:
            return sum(1 for called, _thread in self.calls if called == name)

    def threads(self) -> list[threading.Thread]:
        with self._lock:
            return [thread for _name, thread in self.calls]

    # --- Register interface ------------------------------------------------------------------

    @property
    def session(self) -> Any:
        return self._session

    @property
    def config(self) -> FakeRegisterConfig:
        return self._config

    @property
    def paths(self) -> FakeRegisterPaths:
        return self._paths

    def available(self, ticket_type_id: int) -> int:
        kind = self._types[ticket_type_id - 1]
        return int(kind["capacity"]) - self._sold.get(ticket_type_id, 0)

    def sign_in(self, username: str, pin: str) -> Any:
        from pos_app.api.schemas import ErrorBody, SessionResponse
        from pos_app.client import ServerUnreachable, TooManyAttempts, Unauthorized

        self._enter("sign_in")
        if self.unreachable:
            raise ServerUnreachable("Connection refused by box-office.test:8443")
        if self.throttled is not None:
            body = ErrorBody(error="too_many_attempts", message="Too many failed sign-ins.")
            raise TooManyAttempts(429, "too_many_attempts", body.message, body,
                                  retry_after=self.throttled)
        known = self.staff.get(username)
        if known is None or known[0] != pin:
            body = ErrorBody(error="unauthorized", message="Wrong username or PIN.")
            raise Unauthorized(401, "unauthorized", body.message, body)
        self.expired = False
        self._session = SessionResponse.model_validate({
            "token": f"fake-session-{uuid.uuid4().hex[:8]}",
            "expires_at": datetime.now(UTC) + timedelta(hours=8),
            "staff": {"id": known[1], "username": username, "display_name": known[2],
                      "role": "cashier"},
            "terminal": {"id": 1, "name": self._config.terminal_name}})
        return self._session

    def sign_out(self) -> None:
        self._enter("sign_out")
        if self._session is not None:
            self.revoked.append(self._session.token)
        self._session = None

    def replace_session(self, username: str, pin: str) -> Any:
        """As ``Register.replace_session``: sign in afresh, then sign the old token out."""
        self._enter("replace_session")
        previous = self._session
        session = self.sign_in(username, pin)
        if previous is not None:
            self.revoked.append(previous.token)
        return session

    def events(self) -> Any:
        from pos_app.api.schemas import EventsResponse

        self._enter("events")
        if self.unreachable:
            from pos_app.client import ServerUnreachable

            raise ServerUnreachable("Connection refused by box-office.test:8443")
        if self.expired:
            from pos_app.api.schemas import ErrorBody
            from pos_app.client import Unauthorized

            body = ErrorBody(error="unauthorized", message="Your session has expired.")
            raise Unauthorized(401, "unauthorized", body.message, body)
        ticket_types = []
        for kind in self._types:
            left = self.available(int(kind["id"]))
            level = ("sold_out" if left <= 0 else "critical" if left <= 1
                     else "low" if left <= 2 else "in_stock")
            sold = self._sold.get(int(kind["id"]), 0)
            ticket_types.append({
                **kind, "event_id": "fake-night", "currency": "USD",
                "public_limit": kind["capacity"], "sold": sold, "held": 0, "available": left,
                "public_available": left, "stock_level": level,
                "thresholds": {"low": 2, "critical": 1}, "alert_ladder": [2, 1, 0],
                "version": 1 + sold})
        return EventsResponse.model_validate({"inventory_version": 1 + len(self.sales),
                                              "events": [{
            "id": "fake-night", "name": "Harbour Lights Live", "venue": "The Grand Hall",
            "starts_at": "2026-03-15T01:30:00Z", "timezone": "America/Chicago",
            "currency": "USD", "ticket_types": ticket_types}]})

    def sell(self, lines: Any, tendered: int) -> Any:
        from pos_app.api.schemas import ErrorBody, Sale
        from pos_app.journal import EntryState, SaleOutcome

        self._enter("sell")
        if self.sell_gate is not None:
            self.sell_gate.wait(30)
        key = uuid.uuid4().hex
        if self.unknowns:
            self.unknowns -= 1
            return SaleOutcome(key, EntryState.UNKNOWN, None,
                               ErrorBody(error="outcome_unknown", message="read timeout"),
                               "No answer from the server - the sale may or may not have "
                               "gone through. Do not hand over tickets; ask a manager.")
        if self.refusals:
            error = self.refusals.pop(0)
            return SaleOutcome(key, EntryState.REFUSED, None, error, error.message)
        short = [line for line in lines if line.quantity > self.available(line.ticket_type_id)]
        if short:
            line = short[0]
            left = self.available(line.ticket_type_id)
            name = self._types[line.ticket_type_id - 1]["name"]
            error = ErrorBody.model_validate({
                "error": "insufficient_inventory", "message": "Not enough tickets.",
                "lines": [{"ticket_type_id": line.ticket_type_id, "requested": line.quantity,
                           "available": left}]})
            return SaleOutcome(key, EntryState.REFUSED, None, error,
                               f"Only {left} {name} left - reduce the quantity.")
        total = sum(self._types[line.ticket_type_id - 1]["price"] * line.quantity
                    for line in lines)
        if tendered < total:
            error = ErrorBody(error="insufficient_tender", message="Tendered below total.")
            return SaleOutcome(key, EntryState.REFUSED, None, error,
                               "Cash tendered is less than the total.")
        for line in lines:
            self._sold[line.ticket_type_id] = self._sold.get(line.ticket_type_id, 0) + (
                line.quantity)
        number = len(self.sales) + 1
        sale = Sale.model_validate({
            "id": uuid.uuid4().hex, "number": number, "status": "confirmed",
            "channel": "box_office", "event_id": "fake-night",
            "lines": [{"ticket_type_id": line.ticket_type_id,
                       "name": self._types[line.ticket_type_id - 1]["name"],
                       "quantity": line.quantity,
                       "unit_price": self._types[line.ticket_type_id - 1]["price"],
                       "amount": self._types[line.ticket_type_id - 1]["price"] * line.quantity}
                      for line in lines],
            "total": total, "currency": "USD",
            "payment": {"method": "cash", "tendered": tendered, "change": tendered - total},
            "tickets": [{"code": f"T{number:04d}{line.ticket_type_id}{i:02d}",
                         "ticket_type_id": line.ticket_type_id, "status": "valid"}
                        for line in lines for i in range(line.quantity)],
            "created_at": datetime.now(UTC), "terminal_id": 1, "staff_id": 1,
            "shift_id": None})
        self.sales.append(sale)
        return SaleOutcome(key, EntryState.CONFIRMED, sale, None,
                           f"Sale {number} confirmed - change due.")


class FakeSettlingRegister(FakeRegister):
    """A fake register whose unknown sales can be retried (confirmed) or abandoned.

    :attr:`settled` records ``("retry" | "abandon", key)`` per call. ``retry_sale`` sells one
    ticket of type 2 for 3000 tendered; ``abandon_sale`` answers ``voided``. With
    ``abandon=False`` the register has no ``abandon_sale`` (it is ``None``).
    """

    def __init__(self, *args: Any, abandon: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settled: list[tuple[str, str]] = []
        if not abandon:
            self.abandon_sale = None  # type: ignore[assignment, method-assign]

    def retry_sale(self, key: str) -> SaleOutcome:
        self.settled.append(("retry", key))
        return self.sell_lines_again()

    def sell_lines_again(self) -> SaleOutcome:
        from pos_app.api.schemas import SaleLineIn

        outcome = self.sell([SaleLineIn(ticket_type_id=2, quantity=1)], 3000)
        return outcome  # type: ignore[no-any-return]

    def abandon_sale(self, key: str) -> SaleOutcome:
        from pos_app.journal import EntryState, SaleOutcome

        self.settled.append(("abandon", key))
        return SaleOutcome(key, EntryState.VOIDED, None, None, "Abandoned.")
