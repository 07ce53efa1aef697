"""Headless terminal commands of ``shared/CLI.md``: ``pair``, ``login``, ``logout``, ``sell``,
``hold`` (place / ``pay`` / ``release``), ``reconcile``, ``journal``,
``shift open|close|status``. They use the same :class:`~pos_app.journal.Register` path as the
window.

Exit codes (``shared/CLI.md``): 0 done; 1 refused by the server; 2 usage or bad input;
3 server unreachable or outcome unknown (the journal keeps the entry); 4 not paired / not
signed in.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from pos_app.api.schemas import (
    MAX_QUANTITY_PER_LINE,
    Customer,
    Event,
    ManagerApproval,
    SaleLineIn,
    Shift,
)
from pos_app.client import (
    ApiError,
    KeyringUnavailable,
    NotPaired,
    NotSignedIn,
    OutcomeUnknown,
    ServerUnreachable,
    Unauthorized,
    pair_terminal,
    terminal_paths,
)
from pos_app.domain.money import InvalidAmount, format_money, parse_major
from pos_app.journal import (
    DEFAULT_PENDING_AFTER,
    EntryState,
    HoldOutcome,
    Register,
    SaleOutcome,
    ShiftOutcome,
    open_register,
)

__all__ = ["run_terminal_command"]

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_UNREACHABLE, EXIT_NOT_SIGNED_IN = 0, 1, 2, 3, 4


class _Exit(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _emit(args: argparse.Namespace, document: dict[str, Any], text: str) -> None:
    print(json.dumps(document, default=str) if args.json else text)


def run_terminal_command(args: argparse.Namespace) -> int:
    """Run one terminal command parsed by :func:`pos_app.cli.build_parser`; returns exit code."""
    try:
        if args.command == "pair":
            return _pair(args)
        register = open_register()
        try:
            return _COMMANDS[args.command](args, register)
        finally:
            register.close()
    except _Exit as exc:
        print(f"pos-app: {exc}", file=sys.stderr)
        return exc.code
    except (NotPaired, KeyringUnavailable) as exc:  # InsecureKeyring too: the table's 4
        print(f"pos-app: {exc}", file=sys.stderr)
        return EXIT_NOT_SIGNED_IN
    except (NotSignedIn, Unauthorized) as exc:
        print(f"pos-app: {exc} - sign in with: pos-app login USERNAME", file=sys.stderr)
        return EXIT_NOT_SIGNED_IN
    except (ServerUnreachable, OutcomeUnknown) as exc:
        print(f"pos-app: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ApiError as exc:
        print(f"pos-app: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _pair(args: argparse.Namespace) -> int:
    try:
        return _pair_with_code(args)
    except Unauthorized as exc:  # the server refused the code: signing in cannot help
        raise _Exit(f"{exc} Pairing codes are single-use and valid for 10 minutes: get a new "
                    "one with pos-app admin add-terminal NAME", EXIT_REFUSED) from None


def _pair_with_code(args: argparse.Namespace) -> int:
    if args.ca_fingerprint:
        try:
            config = pair_terminal(args.url, args.code, ca_fingerprint=args.ca_fingerprint,
                                   paths=terminal_paths())
        except ValueError as exc:  # a malformed fingerprint or URL
            raise _Exit(str(exc), EXIT_BAD_INPUT) from None
    else:
        ca_file = Path(args.ca_file)
        if not ca_file.is_file():
            raise _Exit(f"CA file {ca_file} does not exist", EXIT_BAD_INPUT)
        config = pair_terminal(args.url, args.code, ca_file=ca_file, paths=terminal_paths())
    _emit(args, {"terminal_id": config.terminal_id, "name": config.terminal_name,
                 "server_url": config.server_url},
          f"Paired as terminal {config.terminal_name!r} (id {config.terminal_id}) "
          f"with {config.server_url}")
    return EXIT_OK


def _login(args: argparse.Namespace, register: Register) -> int:
    pin = sys.stdin.readline().strip()
    if not pin:
        raise _Exit("give the PIN on standard input", EXIT_BAD_INPUT)
    try:
        session = register.sign_in(args.username, pin)
    except Unauthorized:
        raise _Exit("wrong username or PIN", EXIT_REFUSED) from None
    _emit(args, session.model_dump(mode="json", exclude={"token"}),
          f"Signed in as {session.staff.display_name} ({session.staff.role}) on "
          f"{session.terminal.name}")
    return EXIT_OK


def _logout(args: argparse.Namespace, register: Register) -> int:
    register.sign_out()
    _emit(args, {"signed_out": True}, "Signed out")
    return EXIT_OK


def _find_event(register: Register, event_id: str) -> Event:
    for event in register.events().events:
        if event.id == event_id:
            return event
    raise _Exit(f"no event with id {event_id!r}", EXIT_BAD_INPUT)


def _parse_lines(event: Event, specs: list[str]) -> list[SaleLineIn]:
    by_name = {t.name.casefold(): t for t in event.ticket_types}
    quantities: dict[int, int] = {}
    for spec in specs:
        name, sep, qty_text = spec.rpartition("=")
        if not sep or not name:
            raise _Exit(f"--type wants NAME=QTY, got {spec!r}", EXIT_BAD_INPUT)
        ticket_type = by_name.get(name.strip().casefold())
        if ticket_type is None:
            known = ", ".join(t.name for t in event.ticket_types)
            raise _Exit(f"{event.name} has no ticket type {name!r} (it has: {known})",
                        EXIT_BAD_INPUT)
        if not qty_text.strip().isdigit() or int(qty_text) < 1:
            raise _Exit(f"quantity must be a whole number of at least 1, got {qty_text!r}",
                        EXIT_BAD_INPUT)
        quantities[ticket_type.id] = quantities.get(ticket_type.id, 0) + int(qty_text)
        if quantities[ticket_type.id] > MAX_QUANTITY_PER_LINE:  # the API's limit per line
            raise _Exit(f"at most {MAX_QUANTITY_PER_LINE} {ticket_type.name} tickets in one "
                        f"go, not {quantities[ticket_type.id]}", EXIT_BAD_INPUT)
    return [SaleLineIn(ticket_type_id=tid, quantity=q) for tid, q in quantities.items()]


def _sell(args: argparse.Namespace, register: Register) -> int:
    if register.session is None:
        raise NotSignedIn("not signed in")
    event = _find_event(register, args.event)
    lines = _parse_lines(event, args.types)
    try:
        tendered = parse_major(args.tendered, event.currency)
    except InvalidAmount as exc:
        raise _Exit(str(exc), EXIT_BAD_INPUT) from None
    return _sale_outcome(args, register, event, register.sell(lines, tendered))


def _sale_outcome(args: argparse.Namespace, register: Register, event: Event,
                  outcome: SaleOutcome) -> int:
    if outcome.state is not EntryState.CONFIRMED or outcome.sale is None:
        document = {"state": str(outcome.state), "key": outcome.key, "message": outcome.message,
                    "error": outcome.error.model_dump(mode="json") if outcome.error else None}
        if args.json:
            print(json.dumps(document))
        print(f"pos-app: {outcome.message}", file=sys.stderr)
        offline = outcome.error is not None and outcome.error.error == "offline"
        if outcome.state is EntryState.UNKNOWN or offline:
            return EXIT_UNREACHABLE
        return EXIT_REFUSED
    sale = outcome.sale
    pdf = getattr(args, "pdf", None)
    record, receipt = _write_receipt(register, event, sale, Path(pdf) if pdf else None)
    delivered = f"Receipt: {receipt}" + (f" (kept in {record})" if receipt != record else "")
    if getattr(args, "print_receipt", False):
        printed = _deliver(register, record)
        delivered = printed if printed is not None else f"Receipt: {record} (not printed)"
    change = sale.payment.change or 0
    _emit(args, {"sale": sale.model_dump(mode="json"), "receipt": str(receipt),
                 "record": str(record)},
          f"Sale #{sale.number} confirmed: total {format_money(sale.total, sale.currency)}, "
          f"change due {format_money(change, sale.currency)}\n{delivered}")
    return EXIT_OK


def _write_receipt(register: Register, event: Event, sale: Any,
                   pdf: Path | None) -> tuple[Path, Path]:
    """Save the receipt in the receipts folder (always: the record) and, with ``pdf``, also
    at that path (replacing a file there: the caller named it). Returns ``(record, receipt)``,
    the two equal without ``pdf`` or when ``pdf`` cannot be written (said on standard error:
    the sale went through, so this is no failure of the command)."""
    from pos_app.receipts import receipt_from_sale, render_receipt, write_receipt
    from pos_app.receipts.layout import write_pdf

    session = register.session
    data = receipt_from_sale(sale, event,
                             staff_name=session.staff.display_name if session else "",
                             terminal_name=register.config.terminal_name)
    record = write_receipt(data, register.paths.receipts_dir)
    if pdf is None:
        return record, record
    try:
        return record, write_pdf(render_receipt(data), pdf)
    except OSError as exc:
        print(f"pos-app: sale #{sale.number} went through, but --pdf {pdf} cannot be written "
              f"({exc.strerror or exc}); the receipt is in {record}", file=sys.stderr)
        return record, record


def _deliver(register: Register, pdf: Path) -> str | None:
    """Print ``pdf`` on this terminal's printer (its ``printer.json``, as the window does): the
    printer's sentence ("Printed on ..."), or ``None`` when nothing was printed, said on
    standard error with where the PDF is. The sale went through either way, so the command
    still exits 0 (README, "Command line")."""
    from pos_app.gui.printing.printer_config import (
        PrinterSettingsError,
        load_printer_settings,
        printer_settings_path,
    )
    from pos_app.gui.printing.printing import ReceiptPrinter, print_headless
    from pos_app.gui.printing.thermal_jobs import PrintFailed

    try:
        settings = load_printer_settings(printer_settings_path(register.paths))
        sentence = print_headless(pdf, ReceiptPrinter(settings=settings))
    except (PrintFailed, PrinterSettingsError, OSError) as exc:
        print(f"pos-app: nothing was printed ({exc}); the receipt PDF is {pdf}",
              file=sys.stderr)
        return None
    if not sentence.startswith("Printed on "):  # "Saved to ...": no printer is set up
        print(f"pos-app: nothing was printed: no printer is set up (printer.json says PDF "
              f"only, or there is no system printer); the receipt PDF is {pdf}",
              file=sys.stderr)
        return None
    return sentence


def _journal(args: argparse.Namespace, register: Register) -> int:
    """``pos-app journal [--state S] [--json]``: newest first. When this home has journaled
    for more than one server (paired with another since), each line names its server, so
    two servers' "sale 1" are told apart; ``--json`` always carries ``server``."""
    state = EntryState(args.state) if args.state else None
    entries = register.journal.entries(state=state)
    if args.json:
        print(json.dumps([{"key": e.key, "operation": e.operation, "state": str(e.state),
                           "reference": e.reference, "error_code": e.error_code,
                           "created_at": e.created_at.isoformat(),
                           "flagged_for_manager": e.flagged_for_manager, "server": e.server}
                          for e in entries]))
        return EXIT_OK
    if not entries:
        print("The journal is empty" + (f" for state {state}" if state else ""))
    several = len(register.journal.servers()) > 1
    for e in entries:
        server = f"  on {e.server or 'an earlier server (not recorded)'}" if several else ""
        print(f"{e.created_at:%Y-%m-%d %H:%M:%S}  {e.operation:<8} {e.state!s:<10} "
              f"{e.reference or e.error_code or '-':<24} {e.key}{server}"
              + ("  FLAGGED for the manager" if e.flagged_for_manager else ""))
    return EXIT_OK


def _shift(args: argparse.Namespace, register: Register) -> int:
    """``pos-app shift open --float A`` / ``close --counted A [--note N] [--manager USER]``
    (the manager's PIN on stdin) / ``status``."""
    if register.session is None:
        raise NotSignedIn("not signed in")
    if args.shift_command == "open":
        opening_float = _amount(args.opening_float, _venue_currency(register))
        return _shift_outcome(args, register.open_shift(opening_float))
    current = register.current_shift()
    if args.shift_command == "status":
        if current is None:
            _emit(args, {"shift": None}, "No shift is open at this terminal.")
            return EXIT_OK
        _emit(args, current.model_dump(mode="json"), _shift_summary(current))
        return EXIT_OK
    if current is None:
        raise _Exit("no shift is open at this terminal", EXIT_REFUSED)
    counted = _amount(args.counted, current.currency)
    manager = None
    if args.manager:
        pin = sys.stdin.readline().strip()
        if not pin:
            raise _Exit("give the manager's PIN on standard input", EXIT_BAD_INPUT)
        if not (args.note or "").strip():
            raise _Exit("a manager's approval needs --note (why the count is off)",
                        EXIT_BAD_INPUT)
        manager = ManagerApproval(username=args.manager, pin=pin)
    return _shift_outcome(args, register.close_shift(current.id, counted, args.note,
                                                     manager=manager))


def _amount(text: str, currency: str) -> int:
    try:
        return parse_major(text, currency)
    except InvalidAmount as exc:
        raise _Exit(str(exc), EXIT_BAD_INPUT) from None


def _venue_currency(register: Register) -> str:
    """The currency the venue sells in (its events'), for typing the float; USD if unclear."""
    currencies = {event.currency for event in register.events().events}
    return currencies.pop() if len(currencies) == 1 else "USD"


def _shift_outcome(args: argparse.Namespace, outcome: ShiftOutcome) -> int:
    if outcome.state is EntryState.CONFIRMED and outcome.shift is not None:
        _emit(args, outcome.shift.model_dump(mode="json"), outcome.message)
        return EXIT_OK
    if args.json:
        print(json.dumps({"state": str(outcome.state), "key": outcome.key,
                          "message": outcome.message,
                          "error": outcome.error.model_dump(mode="json")
                          if outcome.error else None}))
    print(f"pos-app: {outcome.message}", file=sys.stderr)
    offline = outcome.error is not None and outcome.error.error == "offline"
    if outcome.state is EntryState.UNKNOWN or offline:
        return EXIT_UNREACHABLE
    return EXIT_REFUSED


def _shift_summary(shift: Shift) -> str:
    """``shift status`` for people; for a cashier the server withholds an open shift's money
    totals (``blind``: the count stays blind), and this says so instead."""
    money = shift.currency
    since = f"Shift {shift.id} open since {shift.opened_at:%Y-%m-%d %H:%M} UTC"
    if (shift.opening_float is None or shift.sales is None or shift.refunds is None
            or shift.pay_ins is None or shift.pay_outs is None or shift.drops is None
            or shift.ticket_types is None):
        held = shift.holds
        return "\n".join([
            since + (f", opened by {shift.opened_by_name}" if shift.opened_by_name else ""),
            "Money totals are not shown while the shift is open (blind count); the close "
            "shows them.",
            f"Holds: {held.placed} placed, {held.active} active, {held.converted} paid, "
            f"{held.released} released, {held.expired} expired"])
    lines = [f"{since}, float {format_money(shift.opening_float, money)}",
             f"Cash sales: {shift.sales.count} ({format_money(shift.sales.amount, money)}); "
             f"refunds: {shift.refunds.count} ({format_money(shift.refunds.amount, money)})",
             f"Pay-ins {format_money(shift.pay_ins, money)}, pay-outs "
             f"{format_money(shift.pay_outs, money)}, drops {format_money(shift.drops, money)}"]
    lines += [f"  {t.name}: {t.tickets} ticket(s), {format_money(t.amount, money)}"
              for t in shift.ticket_types]
    return "\n".join(lines)


def _hold(args: argparse.Namespace, register: Register) -> int:
    """``pos-app hold --event ID --type NAME=QTY ... --customer NAME [--phone P]`` /
    ``hold pay CODE --tendered AMOUNT`` / ``hold release CODE [--reason R]``."""
    if register.session is None:
        raise NotSignedIn("not signed in")
    action = list(args.hold_action)
    if not action:
        return _place_hold(args, register)
    if len(action) != 2 or action[0] not in ("pay", "release"):
        raise _Exit("use: pos-app hold pay CODE --tendered AMOUNT, pos-app hold release CODE "
                    "[--reason R], or pos-app hold --event ID --type NAME=QTY --customer NAME",
                    EXIT_BAD_INPUT)
    verb, code = action
    if verb == "release":
        return _hold_outcome(args, register.release_hold(code, args.reason))
    if not args.tendered:
        raise _Exit("hold pay needs --tendered AMOUNT", EXIT_BAD_INPUT)
    hold = register.client.get_hold(code)
    tendered = _amount(args.tendered, hold.currency)
    event = _find_event(register, hold.event_id)
    return _sale_outcome(args, register, event, register.pay_hold(hold.id, tendered))


def _place_hold(args: argparse.Namespace, register: Register) -> int:
    if not args.event or not args.types or not args.customer:
        raise _Exit("a new hold needs --event ID, --type NAME=QTY and --customer NAME",
                    EXIT_BAD_INPUT)
    if not args.customer.strip():
        raise _Exit("--customer must not be blank", EXIT_BAD_INPUT)
    event = _find_event(register, args.event)
    lines = _parse_lines(event, args.types)
    try:
        customer = Customer(name=args.customer.strip(), phone=args.phone or None)
    except ValueError as exc:
        raise _Exit(f"bad customer details: {exc}", EXIT_BAD_INPUT) from None
    return _hold_outcome(args, register.hold(lines, "cash", customer))


def _hold_outcome(args: argparse.Namespace, outcome: HoldOutcome) -> int:
    if outcome.state is EntryState.CONFIRMED and outcome.hold is not None:
        hold = outcome.hold
        if args.json:
            print(json.dumps({"hold": hold.model_dump(mode="json"), "key": outcome.key}))
        elif outcome.operation == "hold":
            print(f"{outcome.message}\n{hold.code}")  # the code alone on the last line
        else:
            print(outcome.message)
        return EXIT_OK
    if args.json:
        print(json.dumps({"state": str(outcome.state), "key": outcome.key,
                          "message": outcome.message,
                          "error": outcome.error.model_dump(mode="json")
                          if outcome.error else None}))
    print(f"pos-app: {outcome.message}", file=sys.stderr)
    offline = outcome.error is not None and outcome.error.error == "offline"
    if outcome.state is EntryState.UNKNOWN or offline:
        return EXIT_UNREACHABLE
    return EXIT_REFUSED


def _reconcile(args: argparse.Namespace, register: Register) -> int:
    """``pos-app reconcile [--void-after SECONDS]``: 0 when nothing is left unresolved, else 3.

    Pending entries younger than :data:`~pos_app.journal.DEFAULT_PENDING_AFTER` (5 s) are left
    alone: another process (the window, a script's ``sell``) may still be sending them, and
    voiding a key under a running request would refuse a sale the cashier is charging. The
    output says so and when to run again."""
    if args.void_after < 0:
        raise _Exit("--void-after must be 0 or more seconds", EXIT_BAD_INPUT)
    if register.session is None:
        raise NotSignedIn("not signed in")
    report = register.reconcile(void_after=timedelta(seconds=args.void_after))
    text = (f"Reconciled: {len(report.confirmed)} confirmed ({len(report.flagged)} flagged "
            f"for the manager), {len(report.refused)} refused, {len(report.voided)} voided, "
            f"{report.unresolved} unresolved")
    if report.offline:
        text += " - the server could not be reached"
    grace = DEFAULT_PENDING_AFTER.total_seconds()
    if report.recent:
        text += (f"\n{_entries(len(report.recent))} younger than {grace:g} s (a request may "
                 "still be in flight): try again in a few seconds")
    if report.not_due:
        text += (f"\n{_entries(len(report.not_due))} not seen by the server and younger than "
                 f"--void-after {args.void_after:g} s: run again then, or with --void-after 0 "
                 "once no till is still sending them")
    _emit(args, report.as_json(), text)
    return EXIT_OK if report.unresolved == 0 else EXIT_UNREACHABLE


def _entries(count: int) -> str:
    return f"{count} entry is" if count == 1 else f"{count} entries are"


_COMMANDS = {"login": _login, "logout": _logout, "sell": _sell, "journal": _journal,
             "shift": _shift, "hold": _hold, "reconcile": _reconcile}
