""":class:`Register`: the terminal-side service every screen and CLI command goes through.

It owns the sale path of ``shared/DESIGN.md``: the journal entry (and with it the idempotency
key) is committed ``pending`` before any network traffic, the request is sent with that key,
and the entry is settled from what the server said, or did not say.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import ssl
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import ValidationError

from pos_app.api.schemas import (
    CashMovement,
    CashPayment,
    Customer,
    ErrorBody,
    Event,
    EventsResponse,
    Hold,
    HoldCreate,
    HoldLineIn,
    ManagerApproval,
    RefundCreate,
    Sale,
    SaleCreate,
    SaleLineIn,
    SessionResponse,
    Shift,
)
from pos_app.client import (
    ApiError,
    ClientError,
    Credentials,
    Forbidden,
    IdempotencyKeyVoided,
    InvalidRequest,
    InventoryClient,
    NotPaired,
    NotSignedIn,
    OutcomeUnknown,
    RequestInProgress,
    ServerUnreachable,
    TerminalConfig,
    TerminalPaths,
    TlsVerificationFailed,
    TooManyAttempts,
    Unauthorized,
    load_config,
    sale_json,
    terminal_paths,
)
from pos_app.journal._crash import crash_armed, crash_point, request_written_hook
from pos_app.journal._manager import ManagerDesk
from pos_app.journal._messages import (
    OFFLINE,
    OUTCOME_UNKNOWN,
    TLS_UNTRUSTED,
    confirmed_message,
    refused_message,
)
from pos_app.journal._operations import (
    HoldOutcome,
    RefundOutcome,
    hold_message,
    refund_message,
    run_operation,
)
from pos_app.journal._reconcile import (
    DEFAULT_PENDING_AFTER,
    DEFAULT_VOID_AFTER,
    ReconcileReport,
    reconcile,
    settle_from_key_state,
)
from pos_app.journal._shifts import ShiftOutcome, run_shift_operation
from pos_app.journal._store import (
    EntryNotFound,
    EntryState,
    InvalidTransition,
    Journal,
    JournalEntry,
)

__all__ = ["OFFLINE_CODE", "UNKNOWN_CODE", "Register", "SaleOutcome", "open_register",
           "server_label"]

OFFLINE_CODE = "offline"  # error_code of a request the server never saw
UNKNOWN_CODE = "outcome_unknown"  # error_code of a request sent without an answer
# Answers to a *repeated* request that say nothing about the first attempt with that key.
_INCONCLUSIVE_ON_RETRY = (Unauthorized, Forbidden, InvalidRequest, TooManyAttempts)
ABANDON_IN_PROGRESS = ("The server is still working on this sale - wait a moment, then "
                       "abandon or retry again.")
ABANDON_OFFLINE = ("Cannot reach the server to cancel this sale - it stays unresolved; do "
                   "not hand over tickets, try again when the connection is back.")


@dataclass(frozen=True, slots=True)
class SaleOutcome:
    """How a sale ended, as settled in the journal.

    Attributes:
        key: the journal entry's idempotency key.
        state: ``confirmed``, ``refused`` (``error`` says why; ``offline`` = never sent),
            ``unknown`` (may or may not have happened) or ``voided``.
        sale: the server's sale when confirmed, else ``None``.
        error: the server's error body, or a local one with code ``offline`` /
            ``outcome_unknown``; ``None`` when confirmed.
        message: one sentence for the cashier.
    """

    key: str
    state: EntryState
    sale: Sale | None
    error: ErrorBody | None
    message: str


class Register:
    """The terminal's service: session, events, and the journaled sale path.

    Every method may block on the network or the disk: call it from a worker thread, never
    from the GUI thread. Safe to call from several threads at once. Errors are the
    :class:`~pos_app.client.ClientError` tree; the outcome of a sale is never an exception but
    a :class:`SaleOutcome`.
    """

    def __init__(self, client: InventoryClient, journal: Journal, credentials: Credentials,
                 config: TerminalConfig, paths: TerminalPaths) -> None:
        self.client = client
        self.journal = journal
        self.credentials = credentials
        self._config = config
        self._paths = paths
        self._lock = threading.Lock()
        self._session: SessionResponse | None = None
        self._events: EventsResponse | None = None
        self._etag: str | None = None
        if crash_armed("after_request_written"):  # tests only: POS_APP_CRASH_AT
            client.add_event_hook("request", request_written_hook)

    @property
    def config(self) -> TerminalConfig:
        return self._config

    @property
    def paths(self) -> TerminalPaths:
        return self._paths

    @property
    def manager(self) -> ManagerDesk:
        """The manager's calls (capacity, alerts, audit log, shifts) through this register."""
        return ManagerDesk(self)

    @property
    def session(self) -> SessionResponse | None:
        """The signed-in session (it may have expired on the server), or ``None``."""
        with self._lock:
            return self._session

    # --- session ------------------------------------------------------------------------------

    def sign_in(self, username: str, pin: str) -> SessionResponse:
        """Sign ``username`` in with ``pin``; the token goes to the keyring and the client, the
        staff details (never the token or PIN) to the terminal home for other processes.

        Raises ``Unauthorized`` (wrong username or PIN), ``TooManyAttempts``,
        ``ServerUnreachable``, ``OutcomeUnknown``, ``KeyringUnavailable``.
        """
        session = self.client.create_session(username, pin)
        self.credentials.session_token = session.token
        self.client.set_session_token(session.token)
        document = session.model_dump(mode="json", exclude={"token"})
        self._paths.session_file.write_text(json.dumps(document), encoding="utf-8")
        with self._lock:
            self._session = session
        return session

    def sign_out(self) -> None:
        """Sign out on the server (best effort) and always forget the session locally."""
        try:
            if self.client.has_session:
                self.client.delete_session()
        except ClientError:
            pass
        finally:
            self.client.set_session_token(None)
            with self._lock:
                self._session = None
            self._paths.session_file.unlink(missing_ok=True)
            self.credentials.session_token = None

    def replace_session(self, username: str, pin: str) -> SessionResponse:
        """Sign ``username`` in afresh over the current session (the locked window: the same
        cashier's PIN, or another cashier taking over the till), then end the previous
        session on the server (best effort: it may have expired already).

        The previous session stays in use until the server accepts the new sign-in, so a
        wrong PIN or a refusal changes nothing. Raises what :meth:`sign_in` raises.
        """
        previous = self.session
        session = self.sign_in(username, pin)
        if previous is not None and previous.token != session.token:
            # Expired, revoked or unreachable: it ends by itself at its idle deadline.
            with contextlib.suppress(ClientError):
                self.client.delete_session(token=previous.token)
        return session

    def resume_session(self) -> SessionResponse | None:
        """Restore the session kept by an earlier sign-in (keyring token + staff details),
        without contacting the server; ``None`` when there is none to restore."""
        token = self.credentials.session_token
        if token is None:
            return None
        self.client.set_session_token(token)
        try:
            document = json.loads(self._paths.session_file.read_text(encoding="utf-8"))
            session = SessionResponse.model_validate({**document, "token": token})
        except (OSError, ValueError):
            return None
        if session.terminal.id != self._config.terminal_id:
            return None
        with self._lock:
            self._session = session
        return session

    # --- events -------------------------------------------------------------------------------

    def events(self) -> EventsResponse:
        """Events with live counts, fetched with ``If-None-Match``; the cached copy when the
        server says 304. Raises the client errors (``Unauthorized``, ``ServerUnreachable``...).
        """
        with self._lock:
            etag = self._etag if self._events is not None else None
        fresh, new_etag = self.client.list_events(etag=etag)
        with self._lock:
            if fresh is not None:
                self._events, self._etag = fresh, new_etag
            if self._events is None:
                raise OutcomeUnknown("The server answered 304 to an unconditional request.")
            return self._events

    def event(self, event_id: str) -> Event:
        """Event ``event_id`` from the last :meth:`events` result (fetched if none yet).

        Raises ``KeyError`` when the event is not in it.
        """
        with self._lock:
            cached = self._events
        for item in (cached or self.events()).events:
            if item.id == event_id:
                return item
        raise KeyError(event_id)

    def _ticket_type_names(self) -> dict[int, str]:
        with self._lock:
            cached = self._events
        if cached is None:
            return {}
        return {tt.id: tt.name for ev in cached.events for tt in ev.ticket_types}

    # --- sales --------------------------------------------------------------------------------

    def sell(self, lines: Sequence[SaleLineIn], tendered: int) -> SaleOutcome:
        """Sell ``lines`` for cash, ``tendered`` minor units handed over: THE sale path.

        Journals the request ``pending`` (committed) before any traffic, sends it with the
        entry's key as ``Idempotency-Key``, settles the entry and returns the outcome. The
        server alone decides (stock, tender, shift); no business rule is checked here.

        Raises:
            ValueError: no lines, or lines the wire schema rejects (a programming error);
                nothing is journaled.
            NotSignedIn: nobody is signed in; nothing is journaled.
        """
        lines = list(lines)
        if not lines:
            raise ValueError("a sale needs at least one line")
        body = SaleCreate(lines=lines, payment=CashPayment(method="cash", tendered=tendered))
        session = self.session
        if session is None or not self.client.has_session:
            raise NotSignedIn("Not signed in - sign in before selling.")
        return self._begin_sale(body, session.staff.id)

    def pay_hold(self, ref: str, tendered: int) -> SaleOutcome:
        """Sell hold ``ref`` (id or code) for cash, ``tendered`` minor units: the hold is
        read (``GET /v1/holds/{ref}``, not journaled), then a sale ``{hold_id, payment}``
        goes through the sale path exactly like :meth:`sell` (retry / abandon alike).

        Raises ``NotSignedIn`` and, from reading the hold, ``NotFound`` /
        ``ServerUnreachable`` / ``OutcomeUnknown`` (nothing journaled then).
        """
        session = self.session
        if session is None or not self.client.has_session:
            raise NotSignedIn("Not signed in - sign in before selling.")
        hold = self.client.get_hold(ref)
        body = SaleCreate(hold_id=hold.id, payment=CashPayment(method="cash",
                                                                tendered=tendered))
        return self._begin_sale(body, session.staff.id)

    def _begin_sale(self, body: SaleCreate, staff_id: int) -> SaleOutcome:
        entry = self.journal.begin("sale", sale_json(body), staff_id=staff_id,
                                   terminal_id=self._config.terminal_id)
        crash_point("after_pending_commit")
        return self._send_sale(entry, body)

    def retry_sale(self, key: str) -> SaleOutcome:
        """Re-send a ``pending`` / ``unknown`` sale with its own key, for the cashier with the
        customer still at the counter: it executes now or the server replays the first
        outcome. A settled entry is not re-sent; its recorded outcome is returned.

        Raises ``EntryNotFound``, ``NotSignedIn``, ``ValueError`` (not a sale).
        """
        entry = self.journal.get(key)
        if entry is None:
            raise EntryNotFound(key)
        if entry.operation != "sale":
            raise ValueError(f"journal entry {key} is a {entry.operation}, not a sale")
        if entry.state not in (EntryState.PENDING, EntryState.UNKNOWN):
            return self.outcome(entry)
        if not self.client.has_session:
            raise NotSignedIn("Not signed in - sign in before selling.")
        return self._send_sale(entry, SaleCreate.model_validate(entry.body), retry=True)

    def outcome(self, entry: JournalEntry) -> SaleOutcome:
        """The :class:`SaleOutcome` a settled (or pending) sale entry records."""
        sale = error = None
        try:
            if entry.state is EntryState.CONFIRMED and entry.response is not None:
                sale = Sale.model_validate(entry.response)
            elif entry.response is not None:
                error = ErrorBody.model_validate(entry.response)
        except ValidationError:
            pass
        if sale is not None:
            message = confirmed_message(sale)
        elif entry.state in (EntryState.UNKNOWN, EntryState.PENDING):
            message = OUTCOME_UNKNOWN
        elif entry.error_code == OFFLINE_CODE:
            message = error.message if error is not None else OFFLINE
        elif error is not None:
            message = refused_message(error, self._ticket_type_names())
        else:
            message = f"This sale is {entry.state.value}."
        return SaleOutcome(key=entry.key, state=entry.state, sale=sale, error=error,
                           message=message)

    def _send_sale(self, entry: JournalEntry, body: SaleCreate, *,
                   retry: bool = False) -> SaleOutcome:
        key = entry.key
        try:
            try:
                sale = self.client.create_sale(body, idempotency_key=key)
            except ApiError:
                crash_point("after_response")
                raise
            crash_point("after_response")
        except RequestInProgress as exc:
            return self._unknown(entry, exc.body, refused_message(exc.body, {}))
        except IdempotencyKeyVoided as exc:
            return self._settle(key, EntryState.VOIDED, exc.body)
        except ApiError as exc:
            if retry and isinstance(exc, _INCONCLUSIVE_ON_RETRY):
                return self._unknown(entry, exc.body,
                                     refused_message(exc.body, self._ticket_type_names()))
            return self._settle(key, EntryState.REFUSED, exc.body)
        except ServerUnreachable as exc:
            message = TLS_UNTRUSTED if isinstance(exc, TlsVerificationFailed) else OFFLINE
            error = ErrorBody(error=OFFLINE_CODE, message=message)
            if retry:  # this attempt never left, but the first one may have gone through
                return self._unknown(entry, error, message)
            return self._settle(key, EntryState.REFUSED, error)
        except OutcomeUnknown as exc:
            error = ErrorBody(error=UNKNOWN_CODE, message=str(exc))
            return self._unknown(entry, error, OUTCOME_UNKNOWN)
        try:
            settled = self.journal.settle(key, EntryState.CONFIRMED,
                                          response=sale.model_dump(mode="json"),
                                          reference=str(sale.number))
        except InvalidTransition:  # settled meanwhile (a reconciliation in another thread)
            return self.outcome(self.journal._require(key))
        crash_point("after_journal_update")
        return SaleOutcome(key=key, state=settled.state, sale=sale, error=None,
                           message=confirmed_message(sale))

    def _settle(self, key: str, state: EntryState, error: ErrorBody) -> SaleOutcome:
        try:
            self.journal.settle(key, state, response=error.model_dump(mode="json",
                                                                      exclude_none=True),
                                error_code=error.error)
        except InvalidTransition:  # settled meanwhile (a reconciliation in another thread)
            return self.outcome(self.journal._require(key))
        crash_point("after_journal_update")
        message = (error.message if error.error == OFFLINE_CODE
                   else refused_message(error, self._ticket_type_names()))
        return SaleOutcome(key=key, state=state, sale=None, error=error, message=message)

    def _unknown(self, entry: JournalEntry, error: ErrorBody, message: str) -> SaleOutcome:
        current = self.journal.get(entry.key)
        if current is not None and current.state is EntryState.UNKNOWN:
            self.journal.touch(entry.key)
        else:
            self.journal.settle(entry.key, EntryState.UNKNOWN,
                                response=error.model_dump(mode="json", exclude_none=True),
                                error_code=error.error)
        return SaleOutcome(key=entry.key, state=EntryState.UNKNOWN, sale=None, error=error,
                           message=message)

    def abandon_sale(self, key: str) -> SaleOutcome:
        """Abandon a ``pending`` / ``unknown`` sale: void its key on the server
        (``POST /v1/idempotency-keys/{key}/void``). Either the sale had completed - the entry
        is settled ``confirmed`` and flagged for the manager, and the outcome carries the
        sale (receipt printable, refundable) - or the server guarantees it never executes
        (``voided``). While the server still runs it, or when it cannot be reached, the entry
        stays as it is and the outcome says so. A settled entry's outcome is returned as is.

        Raises ``EntryNotFound``, ``NotSignedIn``, ``Unauthorized``, ``ValueError`` (not a
        sale).
        """
        entry = self.journal.get(key)
        if entry is None:
            raise EntryNotFound(key)
        if entry.operation != "sale":
            raise ValueError(f"journal entry {key} is a {entry.operation}, not a sale")
        if entry.state not in (EntryState.PENDING, EntryState.UNKNOWN):
            return self.outcome(entry)
        try:
            state = self.client.void_key(key)
        except RequestInProgress:
            return replace(self.outcome(entry), message=ABANDON_IN_PROGRESS)
        except (ServerUnreachable, OutcomeUnknown):
            return replace(self.outcome(entry), message=ABANDON_OFFLINE)
        settled = settle_from_key_state(self.journal, entry, state)
        outcome = self.outcome(settled or self.journal._require(key))
        if outcome.state is EntryState.CONFIRMED and outcome.sale is not None:
            return replace(outcome, message=f"This sale went through after all. "
                                            f"{confirmed_message(outcome.sale)} "
                                            "Flagged for the manager.")
        if outcome.state is EntryState.VOIDED:
            return replace(outcome, message="Sale cancelled - it can never go through.")
        return outcome

    def reconcile(self, *, void_after: timedelta = DEFAULT_VOID_AFTER,
                  pending_after: timedelta = DEFAULT_PENDING_AFTER, at_startup: bool = False,
                  now: datetime | None = None) -> ReconcileReport:
        """Settle every ``pending`` / ``unknown`` entry by looking its key up, voiding the
        ones due (see :func:`pos_app.journal._reconcile.reconcile`); never re-sends anything.
        For start-up, reconnect, the 30 s timer and ``pos-app reconcile``.

        Raises ``NotSignedIn``, ``Unauthorized``, ``Forbidden``; network failures leave
        entries as they are (``report.offline``).
        """
        if not self.client.has_session:
            raise NotSignedIn("Not signed in - sign in to reconcile the journal.")
        return reconcile(self.journal, self.client, void_after=void_after,
                         pending_after=pending_after, at_startup=at_startup, now=now)

    # --- holds and refunds (journaled like sales; see pos_app.journal._operations) -------------

    def hold(self, lines: Sequence[SaleLineIn], kind: str = "cash",
             customer: Customer | None = None, *,
             ttl_seconds: int | None = None, replaces: str | None = None) -> HoldOutcome:
        """Hold ``lines`` (``kind`` ``cash``: pay later, ``customer`` with a name required;
        ``checkout``: a basket being paid now) through the journal (operation ``hold``).
        ``replaces``: the id of this terminal's active hold of the same kind that the new one
        takes the place of, in one server transaction (a grown or shrunk basket); when the new
        hold is refused the old one stays.

        Raises ``ValueError`` (pydantic) for a body the wire schema rejects and
        ``NotSignedIn``; nothing is journaled then.
        """
        body = HoldCreate.model_validate({
            "kind": kind, "customer": customer, "ttl_seconds": ttl_seconds,
            "replaces": replaces,
            "lines": [HoldLineIn(ticket_type_id=line.ticket_type_id, quantity=line.quantity)
                      for line in lines]})
        staff_id = self._staff_id()
        key, state, hold, error, message = run_operation(
            self.journal, "hold", body.model_dump(mode="json", exclude_none=True),
            staff_id=staff_id, terminal_id=self._config.terminal_id,
            send=lambda k: self.client.create_hold(body, idempotency_key=k),
            message=lambda h: hold_message("hold", h), names=self._ticket_type_names())
        return HoldOutcome(key, "hold", state, hold, error, message)

    def list_holds(self, status: str | None = None, kind: str | None = None,
                   q: str | None = None, *, limit: int = 500) -> list[Hold]:
        """Holds, newest first, as the server reads them now (``GET /v1/holds``, following
        ``next_cursor``; not journaled): ``status`` ``active`` / ``converted`` / ``released`` /
        ``expired`` (effective: a lapsed hold is ``expired``), ``kind`` ``cash`` /
        ``checkout``, ``q`` part of the code, customer name or phone (any case). Stops after
        ``limit`` holds.

        Raises ``NotSignedIn``, ``Unauthorized``, ``InvalidRequest`` (a bad filter),
        ``ServerUnreachable``, ``OutcomeUnknown``.
        """
        found: list[Hold] = []
        cursor: str | None = None
        while len(found) < limit:
            page = self.client.list_holds(status=status, kind=kind, q=q or None,
                                          limit=min(100, limit - len(found)), cursor=cursor)
            found.extend(page.holds)
            cursor = page.next_cursor
            if cursor is None:
                break
        return found

    def shift_sales(self, *, limit: int = 500) -> list[Sale]:
        """The sales of this terminal's open shift, newest first, as the server reads them
        now (``GET /v1/sales?shift_id=``, every page followed; not journaled). The newest
        ``limit`` are kept; an empty list when no shift is open here.

        Raises ``NotSignedIn``, ``Unauthorized``, ``Forbidden``, ``ServerUnreachable``,
        ``OutcomeUnknown``, ``InvalidResponse``; ``ValueError`` when ``limit`` < 1.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if not self.client.has_session:
            raise NotSignedIn("Not signed in - sign in first.")
        shift = self.client.current_shift()
        if shift is None:
            return []
        # The server pages oldest first: read to the end, keeping only the newest ``limit``.
        newest: deque[Sale] = deque(maxlen=limit)
        cursor: str | None = None
        while True:
            page = self.client.list_sales(shift_id=shift.id, limit=min(limit, 1000),
                                          cursor=cursor)
            newest.extend(page.sales)
            cursor = page.next_cursor
            if cursor is None or not page.sales:
                break
        return sorted(newest, key=lambda sale: sale.number, reverse=True)

    def sale(self, ref: str | int) -> Sale:
        """Sale ``ref`` (id or number) as the server has it now (any shift or terminal;
        tickets with their current status). Raises ``NotFound`` and the client errors."""
        return self.client.get_sale(ref)

    def release_hold(self, ref: str, reason: str | None = None) -> HoldOutcome:
        """Release hold ``ref`` (id or code) with an optional ``reason`` through the journal
        (operation ``hold_release``). Raises ``NotSignedIn`` (nothing journaled)."""
        staff_id = self._staff_id()
        body: dict[str, object] = {"hold_ref": ref}
        if reason:
            body["reason"] = reason
        key, state, hold, error, message = run_operation(
            self.journal, "hold_release", body, staff_id=staff_id,
            terminal_id=self._config.terminal_id,
            send=lambda k: self.client.release_hold(ref, reason or None, idempotency_key=k),
            message=lambda h: hold_message("hold_release", h))
        return HoldOutcome(key, "hold_release", state, hold, error, message)

    def refund(self, sale_ref: str, *, reason: str, ticket_codes: Sequence[str] | None = None,
               manager: ManagerApproval | None = None) -> RefundOutcome:
        """Refund ``ticket_codes`` (default: every still-valid ticket) of sale ``sale_ref``
        (id or number) through the journal (operation ``refund``); a cashier gives a
        manager's ``ManagerApproval`` (the PIN is sent, never journaled).

        Raises ``ValueError`` (pydantic) for a bad body and ``NotSignedIn``.
        """
        body = RefundCreate(reason=reason, manager=manager,
                            ticket_codes=list(ticket_codes) if ticket_codes else None)
        record: dict[str, object] = {"sale_ref": str(sale_ref),
                                     **body.model_dump(mode="json", exclude_none=True,
                                                       exclude={"manager"})}
        if manager is not None:
            record["manager"] = {"username": manager.username}
        staff_id = self._staff_id()
        key, state, refund, error, message = run_operation(
            self.journal, "refund", record, staff_id=staff_id,
            terminal_id=self._config.terminal_id,
            send=lambda k: self.client.refund(str(sale_ref), body, idempotency_key=k),
            message=refund_message)
        if error is not None and error.error in ("forbidden", "approval_refused") \
                and error.message:
            # The server's sentence: no approval given, or the approval refused (one
            # answer for a wrong PIN, an unknown user and not a manager).
            message = error.message
        return RefundOutcome(key, state, refund, error, message)

    def _staff_id(self) -> int:
        session = self.session
        if session is None or not self.client.has_session:
            raise NotSignedIn("Not signed in - sign in first.")
        return session.staff.id

    # --- shifts (journaled like sales; see pos_app.journal._shifts) ---------------------------

    def current_shift(self) -> Shift | None:
        """The open shift at this terminal, or ``None``. Raises the client errors."""
        return self.client.current_shift()

    def open_shift(self, opening_float: int) -> ShiftOutcome:
        """Open a shift here with ``opening_float`` minor units in the drawer, through the
        journal (operation ``shift_open``). Raises ``NotSignedIn`` (nothing journaled)."""
        return self._shift_operation("shift_open", {"opening_float": opening_float},
                                     lambda key: self.client.open_shift(
                                         opening_float, idempotency_key=key))

    def cash_movement(self, shift_id: int, kind: str, amount: int,
                      reason: str) -> ShiftOutcome:
        """Record a ``pay_in`` / ``pay_out`` / ``drop`` of ``amount`` minor units on shift
        ``shift_id`` through the journal (operation ``cash_movement``)."""
        body = {"shift_id": shift_id, "kind": kind, "amount": amount, "reason": reason}
        return self._shift_operation("cash_movement", body,
                                     lambda key: self.client.add_cash_movement(
                                         shift_id, kind, amount, reason, idempotency_key=key))

    def close_shift(self, shift_id: int, counted_cash: int, note: str | None = None, *,
                    manager: ManagerApproval | None = None) -> ShiftOutcome:
        """Close shift ``shift_id`` with the cash counted (minor units) through the journal
        (operation ``shift_close``); the confirmed outcome's shift carries the server's
        ``expected_cash`` and ``variance``. A count off by more than the server's threshold
        is refused ``variance_needs_approval`` unless ``manager`` approves (a manager's
        username and PIN: the PIN is sent, never journaled) and a ``note`` says why; resend
        under a new journal entry. Raises ``NotSignedIn`` (nothing journaled)."""
        body: dict[str, object] = {"shift_id": shift_id, "counted_cash": counted_cash}
        if note:
            body["note"] = note
        if manager is not None:
            body["manager"] = {"username": manager.username}
        return self._shift_operation("shift_close", body,
                                     lambda key: self.client.close_shift(
                                         shift_id, counted_cash, note or None,
                                         idempotency_key=key, manager=manager))

    def _shift_operation(self, operation: str, body: dict[str, object],
                         send: Callable[[str], Shift | CashMovement]) -> ShiftOutcome:
        session = self.session
        if session is None or not self.client.has_session:
            raise NotSignedIn("Not signed in - sign in first.")
        return run_shift_operation(self.journal, operation, body, staff_id=session.staff.id,
                                   terminal_id=self._config.terminal_id, send=send)

    def close(self) -> None:
        """Close the HTTP connection and the journal."""
        self.client.close()
        self.journal.close()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----")


def server_label(config: TerminalConfig) -> str:
    """How the journal names the server ``config`` pairs with: ``"<server_url> CA AB:CD:EF:01"``,
    the first 4 bytes of the SHA-256 of the pinned CA certificate (the fingerprint
    ``pos-app serve`` prints begins so). Two servers at one URL (a demo on 8443, then
    another) have different private CAs; just the URL when the CA file cannot be read."""
    try:
        found = _PEM_CERT.search(config.ca_file.read_text(encoding="ascii"))
        der = ssl.PEM_cert_to_DER_cert(found.group(0)) if found else None
    except (OSError, ValueError):
        der = None
    if der is None:
        return config.server_url
    digest = hashlib.sha256(der).hexdigest().upper()
    return f"{config.server_url} CA {':'.join(digest[i:i + 2] for i in range(0, 8, 2))}"


def open_register(paths: TerminalPaths | None = None) -> Register:
    """The composition root of the terminal: configuration, keyring, journal, client.

    Restores the session kept by an earlier sign-in, if any (it may have expired: the server
    will say so with ``Unauthorized``).

    Raises:
        NotPaired: no configuration, or no terminal token in the keyring.
        InsecureKeyring / KeyringUnavailable: the keyring cannot be used.
        JournalCorrupt: the journal file fails its integrity check.
    """
    paths = (paths or terminal_paths()).ensure()
    config = load_config(paths)
    credentials = Credentials(config.server_url, paths)
    terminal_token = credentials.terminal_token
    if terminal_token is None:
        raise NotPaired("This terminal has no terminal token in the keyring - pair it again: "
                        "pos-app pair URL CODE --ca-file F")
    journal = Journal(paths.journal_file, server=server_label(config))
    try:
        client = InventoryClient(config.server_url, ca_file=config.ca_file,
                                 terminal_token=terminal_token)
    except BaseException:
        journal.close()
        raise
    register = Register(client, journal, credentials, config, paths)
    register.resume_session()
    return register
