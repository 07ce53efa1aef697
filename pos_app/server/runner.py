"""``pos-app serve``: migrate, optionally load the demo, make TLS files, run uvicorn.

uvicorn handles SIGTERM and SIGINT: it stops accepting, finishes in-flight requests and
exits; the app's lifespan then disposes the database engine.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from pos_app.server import admin, migrate
from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.settings import ServerSettings, database_url_for
from pos_app.server.tls import ensure_tls

__all__ = ["ServeError", "ServeOptions", "serve"]

log = logging.getLogger("pos_app.server")


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
        workers: processes; only 1 is supported for now.
        certfile, keyfile: a TLS certificate and key to use instead of the private CA's.
        data_dir: the data folder when ``database`` is a URL (for TLS files).
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
            (e.g. ``workers > 1``, a relative data folder, a missing certificate file).
    """
    try:
        _serve(options)
    except ServeError as exc:
        print(f"pos-app serve: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(options: ServeOptions) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    if options.workers != 1:
        raise ServeError("--workers > 1 is not yet supported (one process serialises "
                         "SQLite writers; multi-process PostgreSQL comes later)")
    try:
        url = database_url_for(options.database)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    certfile, keyfile = _tls_paths(options)
    database = Database(url)
    migrate.upgrade(database)
    if options.demo and admin.load_demo(options.database):
        log.info("demo catalog and staff loaded (alex/1234 cashier, morgan/2468 manager)")
    app = create_app(ServerSettings(database_url=url), database=database)
    shown = f"[{options.host}]" if ":" in options.host else options.host
    log.info("serving https://%s:%d/v1 (database: %s, pid %d)", shown, options.port,
             database.dialect, os.getpid())
    try:
        uvicorn.run(app, host=options.host, port=options.port, ssl_certfile=certfile,
                    ssl_keyfile=keyfile, log_level="info", access_log=False,
                    timeout_graceful_shutdown=10)
    finally:
        database.dispose()
