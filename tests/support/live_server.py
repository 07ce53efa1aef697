"""Start and drive a real ``pos-app serve`` process, only through its command-line contract."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pos_app.server import admin
from pos_app.server.db import Database
from pos_app.server.services import anchoring, live, sealing_keys

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (bound to port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pos_app(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``pos-app ARGS`` as a subprocess of this Python; returns the completed process."""
    result = subprocess.run(
        [sys.executable, "-m", "pos_app.cli", *args], input=stdin, text=True,
        capture_output=True, env={**os.environ, **(env or {})}, cwd=ROOT, timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"pos-app {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


@dataclass
class LiveServer:
    """A running server: ``base_url`` is ``https://127.0.0.1:PORT``; ``ca_file`` its pinned CA.

    With ``database_url`` (PostgreSQL) the data lives there and ``data_dir`` keeps only the
    TLS files and the log; the admin CLI helpers go to the same database. ``workers`` and
    ``extra_env`` pass through to ``pos-app serve``.
    """

    data_dir: Path
    port: int
    demo: bool = True
    database_url: str | None = None
    workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "tls" / "ca.pem"

    def tls_context(self) -> ssl.SSLContext:
        """A client TLS context trusting only this server's private CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def start(self, timeout: float = 30) -> None:
        """Start the process and wait until ``/v1/health`` answers over verified TLS."""
        args = [sys.executable, "-m", "pos_app.cli", "serve", "--data-dir", str(self.data_dir),
                "--host", "127.0.0.1", "--port", str(self.port)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        if self.workers != 1:
            args += ["--workers", str(self.workers)]
        if self.demo:
            args.append("--demo")
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                        env={**os.environ, **self.extra_env})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited {self.process.returncode}: "
                                   + (self.data_dir / "server.log").read_text()[-3000:])
            if self.ca_file.exists():
                try:
                    httpx.get(f"{self.base_url}/v1/health", verify=self.tls_context(),
                              timeout=1).raise_for_status()
                    return
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not answer /v1/health in time")

    def stop(self, *, kill: bool = False) -> None:
        """Stop the process (SIGTERM, or SIGKILL with ``kill=True``) and wait for it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def db_args(self) -> list[str]:
        """The admin CLI's options naming this server's database."""
        if self.database_url:  # the data folder still holds the audit key and anchors
            return ["--database-url", self.database_url, "--data-dir", str(self.data_dir)]
        return ["--data-dir", str(self.data_dir)]

    def open_database(self) -> Database:
        """This server's database, chaining and verifying the audit log with its data
        folder's key and anchors and sealing with its keys, as a second process of the venue
        would; dispose of it."""
        return Database(self.sqlalchemy_url,
                        chain=anchoring.load_chain(self.data_dir, create=False),
                        keys=sealing_keys.load_keys(self.data_dir, create=False),
                        write_hooks=[live.install_session_hooks])

    @property
    def sqlalchemy_url(self) -> str:
        """The SQLAlchemy URL of this server's database."""
        return self.database_url or f"sqlite:///{self.data_dir / 'pos.sqlite3'}"

    def admin_target(self) -> tuple[str, Path | None]:
        """``(database, data_dir)`` for the admin functions of :mod:`pos_app.server.admin`:
        the data folder alone, or the PostgreSQL URL with the data folder (its secrets)."""
        if self.database_url:
            return self.database_url, self.data_dir
        return str(self.data_dir), None

    # In-process, as ``pos-app admin`` would do them (the CLI itself is tested once per
    # command): a new Python process per fixture call cost 1.5-2 s here, these ~35 ms.

    def add_terminal(self, name: str | None = None) -> str:
        """Create a terminal (``pos-app admin add-terminal``); returns its pairing code."""
        database, data_dir = self.admin_target()
        return admin.add_terminal(database, name or f"till-{uuid.uuid4().hex[:6]}",
                                  data_dir=data_dir).pairing_code

    def import_catalog(self, catalog: dict[str, Any]) -> None:
        """Import events (``pos-app admin import-catalog``; works while serving)."""
        database, data_dir = self.admin_target()
        admin.import_catalog(database, catalog, data_dir=data_dir)

    def add_channel_token(self, channel: str = "online", name: str | None = None) -> str:
        """A new sales channel token (``pos-app admin add-channel-token``)."""
        database, data_dir = self.admin_target()
        return admin.add_channel_token(database, channel, name, data_dir=data_dir)[1]

    def add_staff(self, username: str, *, role: str, pin: str,
                  display_name: str | None = None) -> None:
        """A new staff member (``pos-app admin add-staff``)."""
        database, data_dir = self.admin_target()
        admin.add_staff(database, username, role=role, pin=pin,
                        display_name=display_name or username, data_dir=data_dir)

    def small_event(self, *, capacity: int = 5, price: int = 2500,
                    types: tuple[str, ...] = ("GA",)) -> str:
        """Import a fresh event with one ticket type per name in ``types`` (USD, America/Chicago)
        and return its id."""
        event_id = f"test-{uuid.uuid4().hex[:10]}"
        self.import_catalog({"events": [{
            "id": event_id, "name": f"Test night {event_id[-4:]}", "venue": "Test Hall",
            "starts_at": "2026-12-31T20:00:00", "timezone": "America/Chicago",
            "currency": "USD",
            "ticket_types": [{"name": name, "price": price, "capacity": capacity,
                              "public_limit": capacity,
                              "thresholds": {"low": 2, "critical": 1},
                              "alert_ladder": [2, 1, 0]} for name in types],
        }]})
        return event_id


@contextmanager
def start_live_server(data_dir: Path, *, demo: bool = True) -> Iterator[LiveServer]:
    """Context manager: a started :class:`LiveServer` on a free port, stopped on exit."""
    # The session's shared server signs alex and morgan in hundreds of times a minute, and
    # its tests' wrong PINs would make every later attempt wait out the venue-wide delay
    # and, all from 127.0.0.1, reach the per-address limit: both are loosened here and
    # tested in-process with a clock (tests/security, tests/unit/server). Its webhook test
    # posts to a receiver on 127.0.0.1, a private target the server refuses unless allowed.
    server = LiveServer(data_dir=data_dir, port=free_port(), demo=demo,
                        extra_env={"POS_APP_PIN_FREE_FAILURES": "1000000",
                                   "POS_APP_PIN_ADDRESS_FAILURES": "1000000",
                                   "POS_APP_ALLOW_PRIVATE_WEBHOOKS": "1"})
    server.start()
    try:
        yield server
    finally:
        server.stop()
