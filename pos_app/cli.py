"""The ``pos-app`` command line (``shared/CLI.md``): window, server, administration, headless
selling.

Exit codes: 0 done; 1 refused by the server; 2 usage or bad input; 3 server unreachable or
outcome unknown; 4 not paired or not signed in. Heavy modules (Qt, FastAPI, SQLAlchemy) are
imported only by the command that needs them, so ``pos-app --help`` and the window start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_NOT_SIGNED_IN",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "main",
]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_NOT_SIGNED_IN = 4


class CliError(Exception):
    """A failure to report as one sentence on standard error with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _db_target(args: argparse.Namespace) -> str:
    """The server database named by ``--database-url`` or ``--data-dir`` (one is required)."""
    if getattr(args, "database_url", None):
        return str(args.database_url)
    if getattr(args, "data_dir", None):
        return str(Path(args.data_dir).expanduser().resolve())
    raise CliError("give --data-dir DIR or --database-url URL")


def _add_db_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="server data folder (SQLite database, TLS files)")
    p.add_argument("--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://...")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every ``pos-app`` command."""
    parser = argparse.ArgumentParser(
        prog="pos-app",
        description="Box-office point of sale. Without a command, opens the POS window.",
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
    _add_db_options(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8443)
    serve.add_argument(
        "--demo", action="store_true", help="load the demo catalog and staff into an empty database"
    )
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--certfile", help="TLS certificate (PEM) instead of the private CA's")
    serve.add_argument("--keyfile", help="TLS private key (PEM) for --certfile")
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
        help="create a terminal; prints its pairing code on the last line",
    )
    add_terminal.add_argument("name")
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
        "add-staff", parents=[common], help="create staff (PIN read from stdin)"
    )
    add_staff.add_argument("username")
    add_staff.add_argument("--role", choices=["cashier", "manager", "admin"], required=True)
    add_staff.add_argument("--display-name")
    _add_db_options(add_staff)
    import_catalog = admin_sub.add_parser(
        "import-catalog", parents=[common], help="import events from JSON"
    )
    import_catalog.add_argument("file")
    _add_db_options(import_catalog)
    add_webhook = admin_sub.add_parser(
        "add-webhook",
        parents=[common],
        help="post every stock alert from now on to URL (https://, or http:// to this "
             "machine); prints its signing secret on the last line",
    )
    add_webhook.add_argument("url")
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
    remove_webhook.add_argument("webhook_id", type=int, metavar="ID")
    _add_db_options(remove_webhook)

    audit = sub.add_parser("audit", parents=[common], help="check the server's audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="AUDIT_COMMAND")
    audit_verify = audit_sub.add_parser(
        "verify", parents=[common],
        help="recompute the audit hash chain; exit 0 when intact, 1 when broken",
    )
    _add_db_options(audit_verify)

    sub.add_parser(
        "demo", parents=[common], help="start an embedded demo server, pair and open the window"
    )

    pair = sub.add_parser("pair", parents=[common], help="pair this terminal with a server")
    pair.add_argument("url")
    pair.add_argument("code")
    pin_ca = pair.add_mutually_exclusive_group(required=True)
    pin_ca.add_argument("--ca-file", help="the server's CA certificate (PEM)")
    pin_ca.add_argument("--ca-fingerprint", help="SHA-256 fingerprint of the server's CA")

    login = sub.add_parser("login", parents=[common], help="sign in (PIN read from standard input)")
    login.add_argument("username")
    sub.add_parser("logout", parents=[common], help="sign out")

    sell = sub.add_parser("sell", parents=[common], help="one cash sale through the journal")
    sell.add_argument("--event", required=True, help="event id")
    sell.add_argument(
        "--type",
        action="append",
        required=True,
        metavar="NAME=QTY",
        dest="types",
        help="ticket type and quantity (repeatable)",
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
        help="ticket type and quantity (new hold; repeatable)",
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
        "--state", choices=["pending", "unknown", "confirmed", "refused", "voided"]
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pos-app``; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args, parser)
    except CliError as exc:
        print(f"pos-app: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    command = args.command
    if command == "serve":
        import os

        from pos_app.server.runner import ENV_VARIANCE_THRESHOLD, ServeOptions, serve

        if args.variance_threshold is not None:  # the environment reaches --workers too
            os.environ[ENV_VARIANCE_THRESHOLD] = str(args.variance_threshold)
        serve(
            ServeOptions(
                database=_db_target(args),
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
        created = admin.add_terminal(_db_target(args), args.name)
        print(
            f"Terminal {args.name!r} created (id {created.terminal_id}); pairing code valid "
            f"until {created.expires_at:%Y-%m-%d %H:%M} UTC:"
        )
        print(created.pairing_code)
        return EXIT_OK
    if sub == "add-channel-token":
        try:
            token_id, token = admin.add_channel_token(_db_target(args), args.channel, args.name)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        print(
            f"Channel token {args.name or args.channel!r} for channel {args.channel!r} created "
            f"(id {token_id}); it is shown only once:"
        )
        print(token)
        return EXIT_OK
    if sub == "add-staff":
        pin = sys.stdin.readline().strip()
        if not pin.isdigit() or not 4 <= len(pin) <= 12:
            raise CliError("the PIN on standard input must be 4 to 12 digits")
        staff = admin.add_staff(
            _db_target(args),
            args.username,
            role=args.role,
            pin=pin,
            display_name=args.display_name or args.username,
        )
        print(f"Staff {staff.username!r} ({staff.role}) created with id {staff.id}")
        return EXIT_OK
    if sub == "import-catalog":
        import json

        try:
            catalog = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read catalog {args.file}: {exc}") from None
        count = admin.import_catalog(_db_target(args), catalog)
        print(f"Imported {count} events")
        return EXIT_OK
    if sub in {"add-webhook", "list-webhooks", "remove-webhook"}:
        return _admin_webhooks(args)
    parser.parse_args(["admin", "--help"])
    return EXIT_BAD_INPUT


def _admin_webhooks(args: argparse.Namespace) -> int:
    """``pos-app admin add-webhook URL`` (the secret alone on the last line),
    ``list-webhooks`` and ``remove-webhook ID``; ``--json`` prints the API's shapes."""
    from pos_app.server import admin

    as_json = getattr(args, "json", False)
    if args.admin_command == "add-webhook":
        try:
            created = admin.add_webhook(_db_target(args), args.url)
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
        listed = admin.list_webhooks(_db_target(args))
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
        removed = admin.remove_webhook(_db_target(args), webhook_id)
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
        result = verify_database(_db_target(args))
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
    else:
        print(f"Audit log BROKEN at seq {result.first_bad_seq} "
              f"({result.entries_checked} entries checked)")
    return EXIT_OK if result.ok else EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
