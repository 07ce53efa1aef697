"""The ``pos-app`` command line (``docs/cli.md``): window, server, administration, headless
selling.

Exit codes (:data:`EPILOG`): 0 done; 1 refused by the server; 2 usage or bad input; 3 server
unreachable or outcome unknown (also an unexpected error); 4 not paired or not signed in;
130 interrupted; 141 standard output closed early. Heavy modules (Qt, FastAPI, SQLAlchemy) are
imported only by the command that needs them, so ``pos-app --help`` and the window start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "EPILOG",
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_SIGNED_IN",
    "EXIT_OK",
    "EXIT_OUTPUT_CLOSED",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_NOT_SIGNED_IN = 4


EXIT_INTERRUPTED = 130
EXIT_OUTPUT_CLOSED = 141
"""128 + SIGPIPE: the reader of standard output closed it early (``pos-app journal | head``),
as any Unix tool ends then; the command did not finish printing."""

DEBUG_ENV = "POS_APP_DEBUG"

EPILOG = """\
exit codes:
  0    done
  1    refused by the server (sold out, hold expired, wrong PIN, pairing code not valid,
       ...); audit verify: the chain or its counts are broken
  2    usage or bad input; nothing was changed
  3    server unreachable or outcome unknown (the journal keeps the entry: pos-app
       reconcile); also an unexpected internal error, whose outcome is unknown too
  4    not paired, not signed in, or no safe keyring for the terminal's secrets
  130  interrupted (Ctrl+C)
  141  standard output closed by its reader before the end (e.g. | head)

environment:
  POS_APP_HOME                    terminal folder: config, journal, receipts, logs
                                  (default: the user data folder, ~/.local/share/pos-app)
  POS_APP_ALLOW_INSECURE_KEYRING  1 accepts a plaintext or null keyring backend for the
                                  terminal's tokens (tests, throwaway demos; default: refused)
  PYTHON_KEYRING_BACKEND          keyring's own choice of backend
  POS_APP_LOCK_MINUTES            window: minutes without input before it locks and asks
                                  for the PIN, 1 to 60 (default 5; no way to turn it off)
  POS_APP_VARIANCE_THRESHOLD      serve: cash-up variance allowed without a manager, minor
                                  units (default 500 = 5.00; or --variance-threshold)
  POS_APP_SSE_KEEPALIVE           serve: seconds between inventory stream keepalives
                                  (default 15)
  POS_APP_DB_RETRY_ATTEMPTS       serve: retries of a PostgreSQL serialization failure or
                                  deadlock before answering 409 (default 5)
  POS_APP_HEADER_TIMEOUT          serve: seconds a client has to send a request's headers
                                  before its connection is closed (default 10)
  POS_APP_PIN_FREE_FAILURES       serve: failed PINs per username per hour, venue-wide,
                                  before each next attempt waits (default 2)
  POS_APP_PIN_ADDRESS_FAILURES    serve: failed PINs from one client address in 10 minutes
                                  before 429 (default 20)
  POS_APP_ALLOW_PRIVATE_WEBHOOKS  serve: 1 posts to webhooks on loopback or private
                                  addresses (default: refused; or --allow-private-webhooks)
  POS_APP_DOCS                    serve: 1 serves /docs, /redoc and /openapi.json (default:
                                  not served; or --docs; on with --demo)
  POS_APP_SESSION_IDLE_MINUTES    serve: minutes a staff session may go unused before it
                                  is refused like an expired one, 1 to 720 (default 30)
  POS_APP_PIN_KEY_FILE            serve and admin: absolute path of the pepper key sealing
                                  PIN hashes (default: DATA_DIR/secrets/pin.key); the same
                                  for every server process and admin command of the venue
  POS_APP_DATABASE_URL            set by serve for its --workers processes (do not set)
  POS_APP_DATA_DIR                set by serve for its --workers processes (do not set)
  POS_APP_TLS_CA_FILE             set by serve: the CA served at /v1/tls/ca.pem (do not set)
  POS_APP_DEBUG                   1 shows the traceback of an unexpected error
  POS_APP_CRASH_AT                tests only: kill the sale path at a named crash point
  POS_APP_STARTUP_PROBE           benchmarks only: 1 prints the time of the first paint, quits

The full contract: docs/cli.md (commands, the catalog format) and docs/api.md.
"""


class CliError(Exception):
    """A failure to report as one sentence on standard error with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _db_target(args: argparse.Namespace, *, serving: bool = False) -> str:
    """The server database named by ``--database-url`` or ``--data-dir`` (one is required).

    For ``serve`` (``serving``) the data folder itself; for the other commands the database
    the folder's server recorded (:func:`pos_app.server.data_dir.database_for_data_dir`).

    Raises:
        CliError: neither option, or a folder that does not say which database it uses.
    """
    if getattr(args, "database_url", None):
        return str(args.database_url)
    if getattr(args, "data_dir", None):
        folder = Path(args.data_dir).expanduser().resolve()
        if serving:
            return str(folder)
        from pos_app.server.data_dir import DataDirError, database_for_data_dir

        try:
            return database_for_data_dir(folder)
        except DataDirError as exc:
            raise CliError(str(exc)) from None
    raise CliError("give --data-dir DIR or --database-url URL")


def _data_dir(args: argparse.Namespace) -> Path:
    """The server's data folder (``--data-dir``): its ``secrets`` folder holds the audit key
    and anchors and the keys sealing PIN hashes and webhook secrets, which every admin
    command and verification needs, so with ``--database-url`` it is required too.

    Raises:
        CliError: no ``--data-dir``.
    """
    if not getattr(args, "data_dir", None):
        raise CliError("give --data-dir DIR too: the server's data folder holds the keys and "
                       "audit anchors (DIR/secrets) this command needs")
    return Path(args.data_dir).expanduser().resolve()


def _add_db_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR",
                   help="the server's data folder: its database is the one pos-app serve "
                        "recorded there (SQLite DIR/pos.sqlite3, or the --database-url it "
                        "was started with); always needed, for its secrets folder")
    p.add_argument("--database-url", metavar="URL",
                   help="SQLAlchemy URL, e.g. postgresql+psycopg://pos@db/pos (wins over "
                        "the database --data-dir names; --data-dir is still needed)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every ``pos-app`` command."""
    parser = argparse.ArgumentParser(
        prog="pos-app",
        description="Box-office point of sale. Without a command, opens the POS window.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    # --json is accepted after the command too (``pos-app journal --json``); SUPPRESS keeps a
    # subcommand from resetting a --json given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve", parents=[common], help="run the central inventory service over HTTPS"
    )
    serve.add_argument("--data-dir", metavar="DIR",
                       help="data folder: SQLite database (unless --database-url), TLS files "
                            "in DIR/tls, and DIR/database.json naming the database for the "
                            "admin commands")
    serve.add_argument("--database-url", metavar="URL",
                       help="SQLAlchemy URL, e.g. postgresql+psycopg://pos@db/pos (default: "
                            "SQLite in --data-dir)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on; 0.0.0.0 for every interface "
                            "(default: %(default)s, this machine only)")
    serve.add_argument("--port", type=int, default=8443,
                       help="HTTPS port (default: %(default)s)")
    serve.add_argument(
        "--demo", action="store_true",
        help="load the demo catalog and staff into an empty database (implies --docs)"
    )
    serve.add_argument("--docs", action="store_true",
                       help="serve the interactive API documentation (/docs, /redoc) and the "
                            "live /openapi.json (default: not served; sets POS_APP_DOCS)")
    serve.add_argument("--allow-private-webhooks", action="store_true",
                       help="post to webhooks whose host is or resolves to a loopback, "
                            "private, link-local or reserved address (default: refused; sets "
                            "POS_APP_ALLOW_PRIVATE_WEBHOOKS)")
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes; more than 1 needs PostgreSQL "
                            "(default: %(default)s)")
    serve.add_argument("--certfile", metavar="PEM",
                       help="TLS certificate instead of the private CA's (default: DIR/tls)")
    serve.add_argument("--keyfile", metavar="PEM", help="TLS private key for --certfile")
    serve.add_argument(
        "--variance-threshold", type=int, metavar="MINOR_UNITS",
        help="cash-up variance (either way) allowed without a manager's PIN and a note, in "
             "minor units (default 500, i.e. 5.00; sets POS_APP_VARIANCE_THRESHOLD)",
    )

    admin = sub.add_parser(
        "admin", parents=[common], help="administer the central inventory database"
    )
    admin_sub = admin.add_subparsers(dest="admin_command", metavar="ADMIN_COMMAND")
    add_terminal = admin_sub.add_parser(
        "add-terminal",
        parents=[common],
        help="create a terminal; prints its pairing code (single use, valid 10 minutes) on "
             "the last line",
    )
    add_terminal.add_argument("name", help="the terminal's name, e.g. 'Till 1'")
    _add_db_options(add_terminal)
    add_channel_token = admin_sub.add_parser(
        "add-channel-token",
        parents=[common],
        help="create a sales channel's token (holds and sales only); prints it on the last line",
    )
    add_channel_token.add_argument("channel", help="the channel it sells as, e.g. online")
    add_channel_token.add_argument("--name", help="a label for the token (default: CHANNEL)")
    _add_db_options(add_channel_token)
    add_staff = admin_sub.add_parser(
        "add-staff", parents=[common], help="create staff (PIN, 4-12 digits, read from stdin)"
    )
    add_staff.add_argument("username", help="the sign-in name, unique")
    add_staff.add_argument("--role", choices=["cashier", "manager", "admin"], required=True,
                           help="what they may do (each role includes the ones before)")
    add_staff.add_argument("--display-name", help="name shown on screen and receipts "
                                                  "(default: USERNAME)")
    _add_db_options(add_staff)
    import_catalog = admin_sub.add_parser(
        "import-catalog", parents=[common],
        help="create the events, ticket types and staff of a catalog file (format: "
             "docs/cli.md); existing events and usernames are left unchanged",
    )
    import_catalog.add_argument("file", help="the catalog, JSON")
    _add_db_options(import_catalog)
    add_webhook = admin_sub.add_parser(
        "add-webhook",
        parents=[common],
        help="post every stock alert from now on to URL (https://, or http:// to this "
             "machine); prints its signing secret on the last line",
    )
    add_webhook.add_argument("url", help="where to post the alerts")
    add_webhook.add_argument("--allow-private-webhooks", action="store_true",
                             help="accept a loopback, private, link-local or reserved address "
                                  "(the server needs the same flag to post to it)")
    _add_db_options(add_webhook)
    list_webhooks = admin_sub.add_parser(
        "list-webhooks", parents=[common],
        help="list the webhooks and their delivery state (never their secrets)",
    )
    _add_db_options(list_webhooks)
    remove_webhook = admin_sub.add_parser(
        "remove-webhook", parents=[common],
        help="stop posting to webhook ID and erase its secret (its delivery log stays)",
    )
    remove_webhook.add_argument("webhook_id", type=int, metavar="ID",
                                help="the webhook's id (list-webhooks)")
    _add_db_options(remove_webhook)

    audit = sub.add_parser("audit", parents=[common], help="check the server's audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="AUDIT_COMMAND")
    audit_verify = audit_sub.add_parser(
        "verify", parents=[common],
        help="recompute the audit hash chain and counts; exit 0 when intact, 1 when broken",
    )
    _add_db_options(audit_verify)

    sub.add_parser(
        "demo", parents=[common], help="start an embedded demo server, pair and open the window"
    )

    pair = sub.add_parser("pair", parents=[common], help="pair this terminal with a server")
    pair.add_argument("url", help="the server, https://HOST:PORT")
    pair.add_argument("code", help="the pairing code from pos-app admin add-terminal (single "
                                   "use, valid 10 minutes)")
    pin_ca = pair.add_mutually_exclusive_group(required=True)
    pin_ca.add_argument("--ca-file", help="the server's CA certificate (PEM)")
    pin_ca.add_argument("--ca-fingerprint", help="SHA-256 fingerprint of the server's CA")

    login = sub.add_parser("login", parents=[common], help="sign in (PIN read from standard input)")
    login.add_argument("username", help="the staff member's username")
    sub.add_parser("logout", parents=[common], help="sign out")

    sell = sub.add_parser("sell", parents=[common], help="one cash sale through the journal")
    sell.add_argument("--event", required=True, help="event id")
    sell.add_argument(
        "--type",
        action="append",
        required=True,
        metavar="NAME=QTY",
        dest="types",
        help="ticket type and quantity, 1 to 50 (repeatable)",
    )
    sell.add_argument("--tendered", required=True, help="cash handed over, e.g. 100.00")
    out = sell.add_mutually_exclusive_group()
    out.add_argument("--pdf", help="write the receipt PDF here")
    out.add_argument(
        "--print",
        action="store_true",
        dest="print_receipt",
        help="print the receipt on the default printer",
    )

    shift = sub.add_parser(
        "shift", parents=[common], help="open, close or show this terminal's shift"
    )
    shift_sub = shift.add_subparsers(dest="shift_command", metavar="SHIFT_COMMAND", required=True)
    shift_open = shift_sub.add_parser(
        "open", parents=[common], help="open a shift with the cash in the drawer"
    )
    shift_open.add_argument(
        "--float", required=True, dest="opening_float", metavar="AMOUNT",
        help="opening float, e.g. 200.00",
    )
    shift_close = shift_sub.add_parser(
        "close", parents=[common], help="close the open shift with the cash counted"
    )
    shift_close.add_argument(
        "--counted", required=True, metavar="AMOUNT", help="cash counted in the drawer"
    )
    shift_close.add_argument("--note", help="a note for the manager (e.g. why it is short)")
    shift_close.add_argument(
        "--manager", metavar="USERNAME",
        help="a manager approving a variance beyond the threshold (their PIN is read from "
             "standard input; --note is then required)")
    shift_sub.add_parser("status", parents=[common], help="show the open shift and its totals")

    hold = sub.add_parser(
        "hold", parents=[common],
        help="hold tickets for a customer (prints the hold code), or: hold pay CODE "
             "--tendered AMOUNT / hold release CODE [--reason R]",
        usage="pos-app hold --event ID --type NAME=QTY [--type ...] --customer NAME [--phone P]"
              "\n       pos-app hold pay CODE --tendered AMOUNT"
              "\n       pos-app hold release CODE [--reason R]",
    )
    hold.add_argument(
        "hold_action", nargs="*", metavar="pay CODE | release CODE",
        help="pay or release an existing hold by its code (omit to place a new hold)",
    )
    hold.add_argument("--event", help="event id (new hold)")
    hold.add_argument(
        "--type", action="append", metavar="NAME=QTY", dest="types", default=[],
        help="ticket type and quantity, 1 to 50 (new hold; repeatable)",
    )
    hold.add_argument("--customer", help="the customer's name (new hold)")
    hold.add_argument("--phone", help="the customer's phone number (new hold)")
    hold.add_argument("--tendered", help="cash handed over (hold pay), e.g. 100.00")
    hold.add_argument("--reason", help="why the hold is released (hold release)")

    reconcile = sub.add_parser(
        "reconcile", parents=[common],
        help="settle pending/unknown journal entries with the server (never re-sends); "
             "exit 0 when none is left unresolved, else 3",
    )
    reconcile.add_argument(
        "--void-after", type=float, default=120.0, metavar="SECONDS",
        help="void entries the server never saw once this old (default 120; 0 voids at once)",
    )

    journal = sub.add_parser(
        "journal", parents=[common], help="list this terminal's journal entries"
    )
    journal.add_argument(
        "--state", choices=["pending", "unknown", "confirmed", "refused", "voided"],
        help="only entries in this state (default: all)",
    )
    return parser


def _validation_sentence(exc: ValidationError) -> str:
    """The first problem of a pydantic error as one line: ``quantity: Input should be ...``."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    more = exc.error_count() - 1
    return (f"bad input: {where + ': ' if where else ''}{first.get('msg', 'not valid')}"
            + (f" (and {more} more)" if more else ""))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pos-app``; returns the process exit code (the table in
    :data:`EPILOG`). Every failure is one line on standard error, never a traceback:
    bad input (a pydantic ``ValidationError`` of a request built from the arguments) exits 2;
    standard output closed by its reader exits 141 quietly; any other unexpected exception
    exits 3 (``POS_APP_DEBUG=1`` re-raises it), since whether it struck before or after the
    server acted is not known."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args, parser)
    except CliError as exc:
        print(f"pos-app: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OUTPUT_CLOSED
    except Exception as exc:
        from pydantic import ValidationError  # loaded already when one was raised

        if isinstance(exc, ValidationError):
            print(f"pos-app: {_validation_sentence(exc)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        print(f"pos-app: unexpected error ({exc.__class__.__name__}: {exc}); the outcome is "
              f"unknown: check with pos-app journal or reconcile; {DEBUG_ENV}=1 shows the "
              "traceback", file=sys.stderr)
        return EXIT_UNREACHABLE


def _silence_stdout() -> None:
    """Point standard output at the null device, so flushing it at exit cannot raise
    ``BrokenPipeError`` again (the Python documentation's recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor behind stdout
        pass


def _dispatch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    command = args.command
    if command == "serve":
        from pos_app.server.runner import (
            ENV_ALLOW_PRIVATE_WEBHOOKS,
            ENV_DOCS,
            ENV_VARIANCE_THRESHOLD,
            ServeOptions,
            serve,
        )

        # The environment reaches --workers processes too.
        if args.variance_threshold is not None:
            os.environ[ENV_VARIANCE_THRESHOLD] = str(args.variance_threshold)
        if args.docs or args.demo:
            os.environ[ENV_DOCS] = "1"
        if args.allow_private_webhooks:
            os.environ[ENV_ALLOW_PRIVATE_WEBHOOKS] = "1"
        serve(
            ServeOptions(
                database=_db_target(args, serving=True),
                host=args.host,
                port=args.port,
                demo=args.demo,
                workers=args.workers,
                certfile=args.certfile,
                keyfile=args.keyfile,
                data_dir=Path(args.data_dir).expanduser().resolve() if args.data_dir else None,
            )
        )
        return EXIT_OK
    if command == "admin":
        return _admin(args, parser)
    if command == "audit":
        return _audit(args, parser)
    if command == "demo":
        from pos_app.demo import run_demo

        return run_demo()
    if command in {"pair", "login", "logout", "sell", "journal", "shift", "hold", "reconcile"}:
        from pos_app.terminal_commands import run_terminal_command

        return run_terminal_command(args)
    from pos_app.gui.launcher import run_window

    return run_window()


def _admin(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from pos_app.server import admin

    sub = args.admin_command
    if sub == "add-terminal":
        try:
            created = admin.add_terminal(_db_target(args), args.name,
                                         data_dir=_data_dir(args))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        print(
            f"Terminal {args.name!r} created (id {created.terminal_id}); pairing code, single "
            f"use, valid until {created.expires_at:%Y-%m-%d %H:%M} UTC (10 minutes):"
        )
        print(created.pairing_code)
        return EXIT_OK
    if sub == "add-channel-token":
        try:
            token_id, token = admin.add_channel_token(_db_target(args), args.channel, args.name,
                                                      data_dir=_data_dir(args))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        print(
            f"Channel token {args.name or args.channel!r} for channel {args.channel!r} created "
            f"(id {token_id}); it is shown only once:"
        )
        print(token)
        return EXIT_OK
    if sub == "add-staff":
        database = _db_target(args)  # a folder that names no database is refused first
        folder = _data_dir(args)
        pin = sys.stdin.readline().strip()
        if not pin.isdigit() or not 4 <= len(pin) <= 12:
            raise CliError("the PIN on standard input must be 4 to 12 digits")
        try:
            staff = admin.add_staff(database, args.username, role=args.role, pin=pin,
                                    display_name=args.display_name or args.username,
                                    data_dir=folder)
        except ValueError as exc:  # a taken username, a bad name
            raise CliError(str(exc)) from None
        print(f"Staff {staff.username!r} ({staff.role}) created with id {staff.id}")
        return EXIT_OK
    if sub == "import-catalog":
        return _import_catalog(args)
    if sub in {"add-webhook", "list-webhooks", "remove-webhook"}:
        return _admin_webhooks(args)
    parser.parse_args(["admin", "--help"])
    return EXIT_BAD_INPUT


def _import_catalog(args: argparse.Namespace) -> int:
    """``pos-app admin import-catalog FILE``: says every event, ticket type and username it
    created (never a PIN), which events were already there, and which differ from the file
    and were skipped, with the differences; ``--json`` prints that as one document."""
    import json
    from dataclasses import asdict

    from pos_app.server import admin

    database = _db_target(args)
    folder = _data_dir(args)
    try:
        catalog = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read catalog {args.file}: {exc}") from None
    try:
        report = admin.import_catalog(database, catalog, data_dir=folder)
    except ValueError as exc:  # the file's first problem; nothing was imported
        raise CliError(f"{args.file}: {exc}; nothing was imported") from None
    if getattr(args, "json", False):
        document = asdict(report)
        document["staff_created"] = [{"username": u, "role": r}
                                     for u, r in report.staff_created]
        print(json.dumps(document))
        return EXIT_OK
    for event in report.created:
        print(f"Created event {event.id} ({event.name}) with ticket types "
              + ", ".join(event.ticket_types))
    for event_id in report.unchanged:
        print(f"Event {event_id} was already there, as in the file")
    for skipped in report.skipped:
        print(f"Skipped event {skipped.id}: it exists and differs from the "
              "file (updating events is not supported yet; nothing of it was changed): "
              + "; ".join(skipped.differences))
    for username, role in report.staff_created:
        print(f"Created staff {username} ({role}) with the PIN given in the file")
    for username in report.staff_existing:
        print(f"Staff {username} was already there (left unchanged, PIN not reset)")
    print(f"Imported {len(report.created)} new event(s), {len(report.staff_created)} new "
          f"staff; {len(report.unchanged)} event(s) already there, {len(report.skipped)} "
          "skipped")
    return EXIT_OK


def _admin_webhooks(args: argparse.Namespace) -> int:
    """``pos-app admin add-webhook URL`` (the secret alone on the last line),
    ``list-webhooks`` and ``remove-webhook ID``; ``--json`` prints the API's shapes."""
    from pos_app.server import admin

    as_json = getattr(args, "json", False)
    if args.admin_command == "add-webhook":
        try:
            created = admin.add_webhook(_db_target(args), args.url,
                                        allow_private=args.allow_private_webhooks,
                                        data_dir=_data_dir(args))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        if as_json:
            print(created.model_dump_json())
            return EXIT_OK
        print(
            f"Webhook {created.id} added for {created.url}: every stock alert after "
            f"#{created.last_seq} is posted there, signed with this secret (shown only once):"
        )
        print(created.secret)
        return EXIT_OK
    if args.admin_command == "list-webhooks":
        listed = admin.list_webhooks(_db_target(args), data_dir=_data_dir(args))
        if as_json:
            print(listed.model_dump_json())
            return EXIT_OK
        if not listed.webhooks:
            print("No webhooks (add one with pos-app admin add-webhook URL)")
        for hook in listed.webhooks:
            if not hook.active:
                state = f"removed {hook.removed_at:%Y-%m-%d %H:%M} UTC"
            elif hook.next_attempt_at is not None:
                state = (f"retrying alert #{hook.last_seq + 1} ({hook.attempts} failed, "
                         f"next {hook.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC)")
            else:
                state = "active"
            print(f"{hook.id}\t{hook.url}\t{state}; done with alert #{hook.last_seq}, "
                  f"{hook.pending} pending")
        return EXIT_OK
    webhook_id = args.webhook_id
    if not 1 <= webhook_id <= 2**31 - 1:
        raise CliError(f"there is no webhook {webhook_id}")
    try:
        removed = admin.remove_webhook(_db_target(args), webhook_id,
                                       data_dir=_data_dir(args))
    except LookupError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        print(removed.model_dump_json())
    else:
        print(f"Webhook {removed.id} ({removed.url}) removed at "
              f"{removed.removed_at:%Y-%m-%d %H:%M} UTC; its delivery log is kept")
    return EXIT_OK


def _audit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``pos-app audit verify``: 0 when the chain is intact and its counts follow on, 1
    naming the first bad seq and what is wrong there."""
    if args.audit_command != "verify":
        parser.parse_args(["audit", "--help"])
        return EXIT_BAD_INPUT
    import json

    from sqlalchemy.exc import SQLAlchemyError

    from pos_app.server.services.audit_query import verify_database

    try:
        result = verify_database(_db_target(args), _data_dir(args))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise CliError(f"cannot read the audit log: {exc.__class__.__name__}") from None
    if getattr(args, "json", False):
        print(json.dumps(result._asdict()))
    elif result.ok:
        old = (f"; {result.old_count_breaks} count breaks in entries from before the count "
               "check" if result.old_count_breaks else "")
        print(f"Audit log intact: {result.entries_checked} entries checked{old}")
    elif result.problem == "counts":
        print(f"Audit log counts BROKEN at seq {result.first_bad_seq}: its before-counts are "
              "not the after-counts of the previous change of its ticket type "
              f"({result.entries_checked} entries checked)")
    elif result.problem == "truncated":
        print(f"Audit log TRUNCATED: entries from seq {result.first_bad_seq} are missing "
              f"({result.entries_checked} entries checked)")
    elif result.problem == "rewritten":
        print(f"Audit log REWRITTEN from seq {result.first_bad_seq}: its hashes were "
              "recomputed without the audit key, or it no longer holds an anchored head "
              f"({result.entries_checked} entries checked)")
    else:
        print(f"Audit log BROKEN at seq {result.first_bad_seq} "
              f"({result.entries_checked} entries checked)")
    return EXIT_OK if result.ok else EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
