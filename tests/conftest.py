"""Test-wide setup: offscreen Qt, a throwaway keyring file, and a live HTTPS server.

Environment is set at import time, before any test imports keyring or Qt.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_KEYRING_HOME = tempfile.mkdtemp(prefix="pos-keyring-")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
os.environ["XDG_DATA_HOME"] = _KEYRING_HOME  # where PlaintextKeyring keeps its file
os.environ["POS_APP_ALLOW_INSECURE_KEYRING"] = "1"

from tests.support.live_server import LiveServer, start_live_server  # noqa: E402
from tests.support.postgres import (  # noqa: E402
    PostgresServer,
    postgres_bin_dir,
    start_postgres,
)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real ``pos-app serve --demo`` over HTTPS on a free loopback port for the session.

    Tests that change inventory should import their own small event with
    :meth:`LiveServer.import_catalog` so they do not depend on each other.
    """
    with start_live_server(tmp_path_factory.mktemp("server")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster (``fsync`` off) for the session's tests that ask for
    it; skipped where the server binaries are missing (``.ci/run`` installs them)."""
    if postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    with start_postgres(fsync=False) as server:
        yield server


@pytest.fixture
def pos_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh terminal home (config, journal, receipts) for one test."""
    home = tmp_path / "terminal"
    home.mkdir()
    monkeypatch.setenv("POS_APP_HOME", str(home))
    return home
