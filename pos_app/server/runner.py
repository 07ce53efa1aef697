"""``pos-app serve``: migrate, optionally load the demo, make TLS files, run uvicorn.

uvicorn handles SIGTERM and SIGINT: it stops accepting, finishes in-flight requests and
exits; the app's lifespan then ends the live-inventory streams and disposes the database
engine.

``--workers N`` (N > 1) needs PostgreSQL: uvicorn then runs N processes, each building its app
with :func:`worker_app` from environment variables (:data:`ENV_DATABASE_URL`,
:data:`ENV_DATA_DIR` for the secrets folder, and the ones read
by :func:`settings_from_environment`); each process LISTENs for the others' inventory changes.
With SQLite it is refused: SQLite writers are serialised by one in-process lock, which
several processes would defeat (``MEASUREMENTS.md``: ``busy_timeout`` is unfair).

Environment (all optional, for tests and tuning): ``POS_APP_SSE_KEEPALIVE`` (seconds between
SSE keepalive comments, default 15), ``POS_APP_DB_RETRY_ATTEMPTS`` (default 5),
``POS_APP_VARIANCE_THRESHOLD`` (minor units a cash-up count may be off without a manager's
approval, default 500; ``pos-app serve --variance-threshold`` sets it),
``POS_APP_PIN_FREE_FAILURES`` (failed PINs per username per hour before the venue-wide delay
starts, default 2), ``POS_APP_PIN_ADDRESS_FAILURES`` (failed PINs per client address in
10 minutes before 429, default 20), ``POS_APP_SESSION_IDLE_MINUTES`` (a staff session unused
this long is refused, default 30), ``POS_APP_DOCS`` (``1``: serve ``/docs``, ``/redoc`` and
``/openapi.json``; ``serve --docs`` or ``--demo`` sets it) and
``POS_APP_ALLOW_PRIVATE_WEBHOOKS`` (``1``: post to loopback and private webhook targets;
``serve --allow-private-webhooks`` sets it).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from pos_app.server import admin, migrate
from pos_app.server.app import create_app
from pos_app.server.audit_anchors import AnchorFileError
from pos_app.server.data_dir import record_database, without_password
from pos_app.server.db import Database
from pos_app.server.http_limits import uvicorn_options
from pos_app.server.secrets_dir import SecretsError
from pos_app.server.services import anchoring, live, sealing_keys
from pos_app.server.settings import ServerSettings, database_url_for
from pos_app.server.tls import ensure_tls

__all__ = ["ENV_ALLOW_PRIVATE_WEBHOOKS", "ENV_DATABASE_URL", "ENV_DATA_DIR",
           "ENV_DB_RETRY_ATTEMPTS", "ENV_DOCS", "ENV_PIN_ADDRESS_FAILURES",
           "ENV_PIN_FREE_FAILURES", "ENV_SESSION_IDLE_MINUTES", "ENV_SSE_KEEPALIVE",
           "ENV_VARIANCE_THRESHOLD", "MAX_VARIANCE_THRESHOLD", "ServeError", "ServeOptions",
           "describe_database", "serve", "settings_from_environment", "worker_app"]

log = logging.getLogger("pos_app.server")

ENV_DATABASE_URL = "POS_APP_DATABASE_URL"
ENV_DATA_DIR = "POS_APP_DATA_DIR"
ENV_SSE_KEEPALIVE = "POS_APP_SSE_KEEPALIVE"
ENV_DB_RETRY_ATTEMPTS = "POS_APP_DB_RETRY_ATTEMPTS"
ENV_VARIANCE_THRESHOLD = "POS_APP_VARIANCE_THRESHOLD"
ENV_PIN_FREE_FAILURES = "POS_APP_PIN_FREE_FAILURES"
ENV_PIN_ADDRESS_FAILURES = "POS_APP_PIN_ADDRESS_FAILURES"
ENV_SESSION_IDLE_MINUTES = "POS_APP_SESSION_IDLE_MINUTES"
ENV_DOCS = "POS_APP_DOCS"
ENV_ALLOW_PRIVATE_WEBHOOKS = "POS_APP_ALLOW_PRIVATE_WEBHOOKS"
MAX_SESSION_IDLE_MINUTES = 720
"""Longest idle timeout accepted (12 hours, the longest a session lasts anyway)."""
MAX_VARIANCE_THRESHOLD = 1_000_000_000
"""Largest threshold accepted (the largest count a close may send, ``MAX_CASH_AMOUNT``)."""


def settings_from_environment(database_url: str) -> ServerSettings:
    """:class:`ServerSettings` for ``database_url`` with the overrides found in the
    environment (``POS_APP_SSE_KEEPALIVE`` seconds, ``POS_APP_DB_RETRY_ATTEMPTS``,
    ``POS_APP_VARIANCE_THRESHOLD`` minor units of the venue's currency, 0 or more,
    ``POS_APP_PIN_FREE_FAILURES`` and ``POS_APP_PIN_ADDRESS_FAILURES`` counts,
    ``POS_APP_SESSION_IDLE_MINUTES`` 1 to 720, ``POS_APP_DOCS`` and
    ``POS_APP_ALLOW_PRIVATE_WEBHOOKS`` ``1`` or ``0``).

    Raises:
        ServeError: an override that is not a positive number (or, for the switches, not
            ``0`` or ``1``).
    """
    settings = ServerSettings(database_url=database_url)
    keepalive = os.environ.get(ENV_SSE_KEEPALIVE)
    if keepalive:
        try:
            seconds = float(keepalive)
        except ValueError:
            seconds = -1
        if not 0 < seconds <= 3600:
            raise ServeError(f"{ENV_SSE_KEEPALIVE} must be seconds in (0, 3600], "
                             f"not {keepalive!r}")
        settings = replace(settings, sse_keepalive=timedelta(seconds=seconds))
    attempts = os.environ.get(ENV_DB_RETRY_ATTEMPTS)
    if attempts:
        if not attempts.isdigit() or not 1 <= int(attempts) <= 100:
            raise ServeError(f"{ENV_DB_RETRY_ATTEMPTS} must be 1 to 100, not {attempts!r}")
        settings = replace(settings, db_retry_attempts=int(attempts))
    threshold = os.environ.get(ENV_VARIANCE_THRESHOLD)
    if threshold:
        text = threshold.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 10) \
                or int(text) > MAX_VARIANCE_THRESHOLD:
            raise ServeError(f"{ENV_VARIANCE_THRESHOLD} must be minor units from 0 to "
                             f"{MAX_VARIANCE_THRESHOLD}, e.g. 500 for $5.00, not {threshold!r}")
        settings = replace(settings, variance_threshold=int(text))
    free = _count(ENV_PIN_FREE_FAILURES)
    if free is not None:
        settings = replace(settings, pin_free_failures=free)
    per_address = _count(ENV_PIN_ADDRESS_FAILURES)
    if per_address is not None:
        settings = replace(settings, login_address_max_failures=per_address)
    idle = _count(ENV_SESSION_IDLE_MINUTES)
    if idle is not None:
        if idle > MAX_SESSION_IDLE_MINUTES:
            raise ServeError(f"{ENV_SESSION_IDLE_MINUTES} must be minutes from 1 to "
                             f"{MAX_SESSION_IDLE_MINUTES}, not {idle}")
        settings = replace(settings, session_idle_timeout=timedelta(minutes=idle))
    return replace(settings, docs=_switch(ENV_DOCS),
                   allow_private_webhooks=_switch(ENV_ALLOW_PRIVATE_WEBHOOKS))


def _switch(env: str) -> bool:
    """Environment variable ``env`` as a switch: ``1`` on, unset, empty or ``0`` off.

    Raises:
        ServeError: any other value.
    """
    value = os.environ.get(env, "").strip()
    if value not in ("", "0", "1"):
        raise ServeError(f"{env} must be 1 or 0, not {value!r}")
    return value == "1"


def _count(env: str) -> int | None:
    """The count 1..1,000,000 in environment variable ``env``; None when unset.

    Raises:
        ServeError: a value that is not such a count.
    """
    value = os.environ.get(env, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 7
            and 1 <= int(value) <= 1_000_000):
        raise ServeError(f"{env} must be a count from 1 to 1000000, not {value!r}")
    return int(value)


def worker_app() -> FastAPI:
    """The app of one ``--workers`` process (a uvicorn factory): settings from the
    environment, database ``POS_APP_DATABASE_URL`` (already migrated, its audit chain and
    sealed values prepared by the parent), audit key, anchors and sealing keys from
    ``POS_APP_DATA_DIR``'s secrets (the pepper from ``POS_APP_PIN_KEY_FILE`` when set)."""
    url = os.environ.get(ENV_DATABASE_URL)
    folder = os.environ.get(ENV_DATA_DIR)
    if not url or not folder:
        raise RuntimeError(f"{ENV_DATABASE_URL} or {ENV_DATA_DIR} is not set (start with "
                           "pos-app serve)")
    settings = settings_from_environment(url)
    database = Database(url, retry_attempts=settings.db_retry_attempts,
                        batch_limit=settings.write_batch_limit,
                        chain=anchoring.load_chain(Path(folder), create=False),
                        keys=sealing_keys.load_keys(Path(folder), create=False),
                        write_hooks=[live.install_session_hooks])
    app = create_app(settings, database=database)
    tune_gc()
    return app


def tune_gc() -> None:
    """Garbage collection for a serving process: everything loaded so far (modules, the app,
    its routes and schemas) goes to the permanent generation the collector never scans
    (:func:`gc.freeze`), and the youngest generation is collected after 20,000 allocations
    instead of 700. Each request allocates thousands of short-lived objects, almost all freed
    by reference counting; with the defaults the cyclic collector ran several times a request
    and took ~7% of the server's CPU under load (``perf``)."""
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def describe_database(url: str) -> str:
    """How the start-up log names the database at ``url``: SQLite's file, or the URL with
    its password (and any ``password`` query parameter) removed, other query parameters
    such as ``sslmode`` kept. A PostgreSQL password belongs in libpq's own places
    (``PGPASSWORD``, ``~/.pgpass``), which the driver reads when the URL has none; when the
    URL carries one anyway, it is still never logged."""
    clean, omitted = without_password(url)
    return f"{clean} (password not shown)" if omitted else clean


class ServeError(ValueError):
    """The server cannot start as asked (bad options); :func:`serve` prints it and exits 2."""


@dataclass
class ServeOptions:
    """What ``pos-app serve`` was asked to do.

    Attributes:
        database: absolute data folder (SQLite ``DIR/pos.sqlite3``, TLS in ``DIR/tls``) or a
            SQLAlchemy URL (then TLS needs ``data_dir`` or ``certfile``/``keyfile``).
        host, port: where to listen (HTTPS only).
        demo: load the demo catalog and staff into an empty database.
        workers: processes; more than 1 only with PostgreSQL.
        certfile, keyfile: a TLS certificate and key to use instead of the private CA's.
        data_dir: the data folder when ``database`` is a URL (for TLS files). Either way
            the data folder gets ``database.json`` naming the database without its password
            (:mod:`pos_app.server.data_dir`), for the admin commands given ``--data-dir``.
    """

    database: str
    host: str
    port: int
    demo: bool
    workers: int
    certfile: str | None
    keyfile: str | None
    data_dir: Path | None


def _tls_paths(options: ServeOptions) -> tuple[str, str]:
    if options.certfile or options.keyfile:
        if not (options.certfile and options.keyfile):
            raise ServeError("give both --certfile and --keyfile")
        for path in (options.certfile, options.keyfile):
            if not Path(path).is_file():
                raise ServeError(f"{path} does not exist")
        return options.certfile, options.keyfile
    folder = options.data_dir
    if folder is None and "://" not in options.database:
        folder = Path(options.database)
    if folder is None:
        raise ServeError("with --database-url give --data-dir (for the TLS files) or "
                         "--certfile and --keyfile")
    files = ensure_tls(folder / "tls", options.host)
    log.info("TLS: pin %s on terminals", files.ca_file)
    return str(files.certfile), str(files.keyfile)


def serve(options: ServeOptions) -> None:
    """Run the server in the foreground until SIGTERM/SIGINT, then return.

    Raises:
        SystemExit: code 2 after printing a sentence, for options it cannot serve
            (e.g. ``workers > 1`` on SQLite, a relative data folder, a missing certificate
            file).
    """
    try:
        _serve(options)
    except ServeError as exc:
        print(f"pos-app serve: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(options: ServeOptions) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    if options.workers < 1:
        raise ServeError("--workers must be at least 1")
    try:
        url = database_url_for(options.database)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    if options.workers > 1 and url.startswith("sqlite"):
        raise ServeError(
            f"--workers {options.workers} needs PostgreSQL (--database-url "
            "postgresql+psycopg://...): with SQLite every write must pass this process's "
            "single writer lock, which several processes would defeat; use --workers 1")
    settings = settings_from_environment(url)
    if settings.allow_private_webhooks:
        log.warning("webhooks may post to loopback and private addresses "
                    "(--allow-private-webhooks)")
    record_folder = options.data_dir or (None if "://" in options.database
                                         else Path(options.database))
    if record_folder is None:
        raise ServeError("with --database-url give --data-dir too: its secrets folder holds "
                         "the audit key and anchors and the keys sealing PIN hashes and "
                         "webhook secrets (and its tls folder the certificates)")
    certfile, keyfile = _tls_paths(options)
    try:
        chain = anchoring.load_chain(record_folder, create=True)
        keys = sealing_keys.load_keys(record_folder, create=True)
        database = Database(url, retry_attempts=settings.db_retry_attempts,
                            batch_limit=settings.write_batch_limit, chain=chain, keys=keys,
                            write_hooks=[live.install_session_hooks])
        migrate.upgrade(database)
        anchoring.prepare_chain(database, settings.clock.now())
        sealing_keys.prepare_keys(database)
    except (SecretsError, AnchorFileError) as exc:
        raise ServeError(str(exc)) from None
    # admin commands given --data-dir go where this server goes
    record_database(record_folder, url)
    if options.demo and admin.load_demo(options.database, data_dir=record_folder):
        log.info("demo catalog and staff loaded (alex/1234 cashier, morgan/2468 manager)")
    shown = f"[{options.host}]" if ":" in options.host else options.host
    log.info("serving https://%s:%d/v1 (database: %s, pid %d, workers %d)", shown,
             options.port, describe_database(url), os.getpid(), options.workers)
    if options.workers > 1:
        database.dispose()  # each worker opens its own engine
        os.environ[ENV_DATABASE_URL] = url
        os.environ[ENV_DATA_DIR] = str(record_folder)
        uvicorn.run("pos_app.server.runner:worker_app", factory=True, workers=options.workers,
                    host=options.host, port=options.port, ssl_certfile=certfile,
                    ssl_keyfile=keyfile, log_level="info", access_log=False,
                    timeout_graceful_shutdown=10, **uvicorn_options())
        return
    app = create_app(settings, database=database)
    tune_gc()
    try:
        uvicorn.run(app, host=options.host, port=options.port, ssl_certfile=certfile,
                    ssl_keyfile=keyfile, log_level="info", access_log=False,
                    timeout_graceful_shutdown=10, **uvicorn_options())
    finally:
        database.dispose()
