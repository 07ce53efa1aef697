"""Issue 16, attack 8: no request makes the server read or wait without limit. Each test is
the attack, over raw TLS against a real ``pos-app serve`` (its uvicorn settings are what is
tested), with the head deadline shortened to 1 s by ``POS_APP_HEADER_TIMEOUT``:

* a 40 MB body, without any token: 413 before the body is sent (it used to be read in full
  before the 401), and a chunked one stopped once past 1 MiB;
* a 20 KiB header: 431;
* a request head sent slowly (slowloris): the connection is dropped at the deadline.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.server.http_limits import MAX_BODY_BYTES
from tests.support.live_server import LiveServer, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(data_dir=tmp_path_factory.mktemp("limits"), port=free_port(),
                      demo=False, extra_env={"POS_APP_HEADER_TIMEOUT": "1"})
    live.start()
    try:
        yield live
    finally:
        live.stop()


def _connect(server: LiveServer) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return server.tls_context().wrap_socket(raw, server_hostname="127.0.0.1")


def _status(conn: ssl.SSLSocket, data: bytes = b"") -> tuple[int, bytes]:
    """The status code of the answer and all that came with it (after ``data`` read
    already), read to the close."""
    while True:
        try:
            chunk = conn.recv(65536)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_a_40_mb_body_is_refused_before_it_is_sent(server: LiveServer) -> None:
    with _connect(server) as conn:
        conn.sendall(b"POST /v1/sales HTTP/1.1\r\nHost: pos\r\nContent-Type: application/json"
                     b"\r\nContent-Length: 41943040\r\n\r\n")
        began = time.monotonic()
        status, data = _status(conn)  # not one byte of the body was sent
    assert status == 413 and b"payload_too_large" in data, data
    assert time.monotonic() - began < 5


def test_a_chunked_body_is_answered_413_once_past_one_mebibyte(server: LiveServer) -> None:
    """A body with no length: the answer comes while the client is still sending, long
    before the 40 MB are out (what was sent by then is the 1 MiB read and what the two
    sockets' buffers hold)."""
    sent = 0
    chunk = b"x" * 65536
    with _connect(server) as conn:
        conn.sendall(b"POST /v1/sales HTTP/1.1\r\nHost: pos\r\nContent-Type: application/json"
                     b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.settimeout(5)
        first = b""
        while sent < 40 * MAX_BODY_BYTES and not first:
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            first = _answer_so_far(conn)
        status, data = _status(conn, first)
    assert status == 413 and b"payload_too_large" in data, data[:300]
    assert sent < 20 * MAX_BODY_BYTES, sent


def _answer_so_far(conn: ssl.SSLSocket) -> bytes:
    """What the server has answered so far, without waiting (TLS records that carry no
    data, such as session tickets, make the socket readable with nothing to read)."""
    if not select.select([conn], [], [], 0)[0] and not conn.pending():
        return b""
    conn.setblocking(False)
    try:
        return conn.recv(65536)
    except (ssl.SSLWantReadError, BlockingIOError):
        return b""
    finally:
        conn.settimeout(5)


def test_a_20_kib_header_is_refused_with_431(server: LiveServer) -> None:
    with _connect(server) as conn:
        conn.sendall(b"GET /v1/health HTTP/1.1\r\nHost: pos\r\nX-Filler: " + b"a" * 20480
                     + b"\r\n\r\n")
        status, data = _status(conn)
    assert status == 431 and b"request_header_fields_too_large" in data, data


def test_a_request_head_sent_slowly_is_dropped_at_the_deadline(server: LiveServer) -> None:
    with _connect(server) as conn:
        conn.settimeout(10)
        began = time.monotonic()
        conn.sendall(b"GET /v1/health HTTP/1.1\r\nHost: pos\r\n")  # and never the rest
        for _ in range(5):  # a byte now and then keeps no connection open
            time.sleep(0.3)
            try:
                conn.sendall(b"X")
            except (ConnectionError, ssl.SSLError):
                break
        try:
            rest = conn.recv(1024)
        except (ConnectionError, ssl.SSLError):
            rest = b""
        elapsed = time.monotonic() - began
    assert rest == b"" and elapsed < 3.5, (rest, elapsed)


def test_a_whole_request_still_gets_its_answer(server: LiveServer, tmp_path: Path) -> None:
    with _connect(server) as conn:
        conn.sendall(b"GET /v1/health HTTP/1.1\r\nHost: pos\r\nConnection: close\r\n\r\n")
        status, _ = _status(conn)
    assert status == 200
