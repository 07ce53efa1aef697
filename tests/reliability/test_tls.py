"""TLS proofs through :class:`pos_app.client.InventoryClient`: the terminal talks only to a
server whose certificate chains to the pinned CA, is current, names the host it dialled, and
speaks TLS 1.2 or newer. Every refusal happens in the handshake: the request never reaches an
application (the in-test servers count the requests they are handed)."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from pos_app.client import InventoryClient, ServerUnreachable, TlsVerificationFailed
from tests.support.certs import Issued, make_ca, make_leaf, serve_https

NOW = datetime.now(UTC)


@dataclass
class TinyServer:
    base_url: str
    requests: list[str] = field(default_factory=list)


@contextmanager
def https_server(certfile: Path, keyfile: Path) -> Iterator[TinyServer]:
    """An HTTPS server answering ``GET /v1/health`` like the real one, recording every
    request path that reaches it."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = (b'{"status":"ok","version":"test","database":"sqlite",'
                    b'"server_time":"2026-01-01T00:00:00Z"}')
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serve_https(certfile, keyfile, Handler) as base_url:
        yield TinyServer(base_url, seen)


@pytest.fixture(scope="module")
def pinned_ca() -> Issued:
    return make_ca("pos-app private CA (pinned)")


@pytest.fixture
def pinned_ca_file(pinned_ca: Issued, tmp_path: Path) -> Path:
    return pinned_ca.write(tmp_path, "pinned-ca")[0]


def health_through_client(base_url: str, ca_file: Path) -> None:
    with InventoryClient(base_url, ca_file=ca_file, timeout=5) as client:
        client.health()


def test_the_control_a_good_certificate_is_accepted(
        pinned_ca: Issued, pinned_ca_file: Path, tmp_path: Path) -> None:
    certfile, keyfile = make_leaf(pinned_ca).write(tmp_path, "good")
    with https_server(certfile, keyfile) as server:
        health_through_client(server.base_url, pinned_ca_file)
    assert server.requests == ["/v1/health"]


def test_a_server_of_another_ca_fails_verification_and_says_how_to_re_pair(
        pinned_ca_file: Path, tmp_path: Path) -> None:
    stranger = make_ca("somebody else's CA")
    certfile, keyfile = make_leaf(stranger).write(tmp_path, "stranger")
    with https_server(certfile, keyfile) as server, \
            pytest.raises(TlsVerificationFailed) as caught:
        health_through_client(server.base_url, pinned_ca_file)
    message = str(caught.value)
    assert "re-pair" in message and "pos-app pair" in message
    assert server.requests == []


def test_the_real_server_is_refused_by_a_terminal_pinned_to_another_ca(
        live_server: object, tmp_path: Path) -> None:
    from tests.support.live_server import LiveServer

    assert isinstance(live_server, LiveServer)
    wrong = make_ca("not the server's").write(tmp_path, "wrong-ca")[0]
    with pytest.raises(TlsVerificationFailed, match="re-pair"):
        health_through_client(live_server.base_url, wrong)


def test_an_expired_server_certificate_is_refused(pinned_ca: Issued, pinned_ca_file: Path,
                                                  tmp_path: Path) -> None:
    expired = make_leaf(pinned_ca, not_before=NOW - timedelta(days=20),
                        not_after=NOW - timedelta(days=1))
    certfile, keyfile = expired.write(tmp_path, "expired")
    with https_server(certfile, keyfile) as server, \
            pytest.raises(TlsVerificationFailed, match="re-pair"):
        health_through_client(server.base_url, pinned_ca_file)
    assert isinstance(TlsVerificationFailed("x"), ServerUnreachable)
    assert server.requests == []


def test_a_certificate_for_another_host_name_is_refused(pinned_ca: Issued,
                                                        pinned_ca_file: Path,
                                                        tmp_path: Path) -> None:
    certfile, keyfile = make_leaf(pinned_ca, hosts=("other.example",)).write(tmp_path, "other")
    with https_server(certfile, keyfile) as server, pytest.raises(TlsVerificationFailed):
        health_through_client(server.base_url, pinned_ca_file)
    assert server.requests == []


@dataclass
class RawOutcome:
    handshake_done: bool = False
    application_bytes: bytes = b""
    error: str = ""


@contextmanager
def tls11_only_server(certfile: Path, keyfile: Path) -> Iterator[tuple[int, RawOutcome]]:
    """A raw TLS server socket that offers at most TLS 1.1 (if this OpenSSL can offer it at
    all) and records whether a handshake completed and what application bytes arrived."""
    outcome = RawOutcome()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    try:
        with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as exc:
        outcome.error = f"server could not restrict itself to TLS 1.1: {exc}"
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = int(listener.getsockname()[1])

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError as exc:
            outcome.error = outcome.error or str(exc)
            return
        conn.settimeout(5)
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                outcome.handshake_done = True
                outcome.application_bytes = tls.recv(4096)
        except (ssl.SSLError, OSError) as exc:
            outcome.error = outcome.error or f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port, outcome
    finally:
        thread.join(timeout=10)
        listener.close()


def test_a_server_that_only_speaks_tls_1_1_is_refused(pinned_ca: Issued, pinned_ca_file: Path,
                                                      tmp_path: Path) -> None:
    certfile, keyfile = make_leaf(pinned_ca).write(tmp_path, "tls11")
    with tls11_only_server(certfile, keyfile) as (port, outcome), \
            pytest.raises(ServerUnreachable) as caught:
        health_through_client(f"https://127.0.0.1:{port}", pinned_ca_file)
    # Whether OpenSSL offered TLS 1.1 and the client refused it, or could not offer it at all,
    # the handshake never completed and no request bytes reached the server.
    assert not outcome.handshake_done, outcome
    assert outcome.application_bytes == b""
    assert "handshake" in str(caught.value).lower() or "ssl" in str(caught.value).lower() \
        or "version" in str(caught.value).lower() or "protocol" in str(caught.value).lower()


def test_the_real_server_with_an_expired_certificate_is_refused(
        pinned_ca: Issued, pinned_ca_file: Path, tmp_path: Path) -> None:
    """``pos-app serve --certfile --keyfile`` with a certificate that expired yesterday."""
    import subprocess
    import sys
    import time

    from tests.support.live_server import ROOT, free_port

    expired = make_leaf(pinned_ca, not_before=NOW - timedelta(days=20),
                        not_after=NOW - timedelta(days=1))
    certfile, keyfile = expired.write(tmp_path, "expired-real")
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pos_app.cli", "serve", "--data-dir", str(tmp_path / "data"),
             "--host", "127.0.0.1", "--port", str(port), "--certfile", str(certfile),
             "--keyfile", str(keyfile)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while b"Uvicorn running" not in log.read_bytes():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        with pytest.raises(TlsVerificationFailed, match="re-pair"):
            health_through_client(f"https://127.0.0.1:{port}", pinned_ca_file)
    finally:
        process.terminate()
        process.wait(timeout=15)
