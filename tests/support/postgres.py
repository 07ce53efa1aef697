"""A throwaway PostgreSQL server started from the machine's own binaries.

Debian keeps ``initdb``/``pg_ctl`` in ``/usr/lib/postgresql/<version>/bin`` (not on PATH), and
PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` system user
in a temporary folder it owns, on a free loopback port. ``.ci/run`` installs ``postgresql``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.live_server import free_port


def postgres_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest Debian version first), or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                        else 0, reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass(frozen=True)
class PostgresServer:
    """A running cluster: ``url`` is a SQLAlchemy URL to the database ``pos``."""

    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/pos"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` and return its SQLAlchemy URL."""
        run_as_postgres([str(pg_bin("psql")), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                          "postgres", "-d", "postgres", "-qc", f'CREATE DATABASE "{name}"'])
        return self.url_for(name)


def pg_bin(name: str) -> Path:
    folder = postgres_bin_dir()
    if folder is None:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")
    path = folder / name
    return path if path.exists() else Path(shutil.which(name) or name)


def run_as_postgres(args: list[str]) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120)


@contextmanager
def start_postgres(*, fsync: bool = True) -> Iterator[PostgresServer]:
    """Start a fresh cluster with a database ``pos``; stop and delete it on exit.

    ``fsync=False`` trades crash safety for speed (tests only; benchmarks keep the default).
    """
    root = Path(tempfile.mkdtemp(prefix="pos-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    port = free_port()
    run_as_postgres([str(pg_bin("initdb")), "-D", str(data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--no-instructions"])
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200 "
               f"-c fsync={'on' if fsync else 'off'}")
    run_as_postgres([str(pg_bin("pg_ctl")), "-D", str(data), "-o", options, "-l",
                      str(root / "postgres.log"), "-w", "-t", "60", "start"])
    server = PostgresServer(port=port, data_dir=data)
    try:
        server.create_database("pos")
        yield server
    finally:
        subprocess.run((["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
                       + [str(pg_bin("pg_ctl")), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
