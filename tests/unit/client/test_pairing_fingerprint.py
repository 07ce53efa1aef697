"""Pairing by the CA's SHA-256 fingerprint (``pos-app pair URL CODE --ca-fingerprint FP``).

The fetch-and-check step runs against a tiny in-test HTTPS server (so a server can lie about
its CA); the whole pairing against a real ``pos-app serve``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pos_app.client import (
    Credentials,
    InventoryClient,
    ServerUnreachable,
    TerminalPaths,
    TlsVerificationFailed,
    pair_terminal,
)
from pos_app.client._pairing import fetch_server_ca, normalize_fingerprint
from pos_app.server.tls import ca_fingerprint
from tests.support.certs import Issued, make_ca, make_leaf, serve_https
from tests.support.live_server import LiveServer, pos_app


def fingerprint_of(cert: Issued) -> str:
    return ":".join(f"{b:02X}" for b in
                    hashlib.sha256(cert.cert.public_bytes(serialization.Encoding.DER)).digest())


@contextmanager
def https_server(tmp_path: Path, leaf: Issued, published_ca: bytes | None) -> Iterator[str]:
    """A tiny HTTPS server presenting ``leaf`` and answering ``GET /v1/tls/ca.pem`` with
    ``published_ca`` (404 when ``None``); yields its base URL."""
    certfile, keyfile = leaf.write(tmp_path, "leaf")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/v1/tls/ca.pem" and published_ca is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-pem-file")
                self.send_header("Content-Length", str(len(published_ca)))
                self.end_headers()
                self.wfile.write(published_ca)
            else:
                self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    with serve_https(certfile, keyfile, Handler) as base_url:
        yield base_url


# --- fingerprint syntax ---------------------------------------------------------------------

def test_fingerprints_are_accepted_with_colons_or_as_plain_hex_in_any_case() -> None:
    digest = bytes(range(32))
    colons = ":".join(f"{b:02X}" for b in digest)
    assert normalize_fingerprint(colons) == digest
    assert normalize_fingerprint(digest.hex()) == digest
    assert normalize_fingerprint(f"  SHA256:{colons.lower()} ") == digest


@pytest.mark.parametrize("bad", ["", "AB:CD", "zz" * 32, "AB" * 31, "AB" * 33])
def test_a_malformed_fingerprint_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="SHA-256 fingerprint"):
        normalize_fingerprint(bad)


def test_the_server_fingerprint_is_the_sha256_of_the_ca_der() -> None:
    ca = make_ca()
    assert ca_fingerprint(ca.pem) == fingerprint_of(ca)


# --- fetch and check against a tiny server --------------------------------------------------

def test_the_ca_is_returned_when_its_fingerprint_matches(tmp_path: Path) -> None:
    ca = make_ca()
    with https_server(tmp_path, make_leaf(ca), ca.pem) as url:
        assert fetch_server_ca(url, fingerprint_of(ca)) == ca.pem


def test_a_different_ca_is_refused_naming_both_fingerprints(tmp_path: Path) -> None:
    ca, expected = make_ca(), make_ca("the one the installer wrote down")
    with https_server(tmp_path, make_leaf(ca), ca.pem) as url, \
            pytest.raises(TlsVerificationFailed) as caught:
        fetch_server_ca(url, fingerprint_of(expected).replace(":", "").lower())
    assert fingerprint_of(ca) in str(caught.value)
    assert fingerprint_of(expected) in str(caught.value)


def test_a_matching_ca_that_did_not_issue_the_servers_certificate_is_refused(
        tmp_path: Path) -> None:
    real, published = make_ca("real"), make_ca("published")
    with https_server(tmp_path, make_leaf(real), published.pem) as url, \
            pytest.raises(TlsVerificationFailed, match="not issued by"):
        fetch_server_ca(url, fingerprint_of(published))


def test_a_certificate_for_another_host_is_refused_before_the_ca_is_fetched(
        tmp_path: Path) -> None:
    ca = make_ca()
    with https_server(tmp_path, make_leaf(ca, hosts=("other.example",)), ca.pem) as url, \
            pytest.raises(TlsVerificationFailed):
        fetch_server_ca(url, fingerprint_of(ca))


def test_a_server_that_does_not_publish_its_ca_is_reported(tmp_path: Path) -> None:
    ca = make_ca()
    with https_server(tmp_path, make_leaf(ca), None) as url, \
            pytest.raises(ServerUnreachable, match="--ca-file"):
        fetch_server_ca(url, fingerprint_of(ca))


def test_no_server_is_unreachable() -> None:
    from tests.support.live_server import free_port

    with pytest.raises(ServerUnreachable) as caught:
        fetch_server_ca(f"https://127.0.0.1:{free_port()}", "AB" * 32)
    assert not isinstance(caught.value, TlsVerificationFailed)


# --- against a real server ------------------------------------------------------------------

def test_the_server_publishes_its_ca_and_logs_its_fingerprint(live_server: LiveServer) -> None:
    import httpx

    answer = httpx.get(f"{live_server.base_url}/v1/tls/ca.pem", verify=live_server.tls_context())
    assert answer.status_code == 200
    assert answer.content == live_server.ca_file.read_bytes()
    fingerprint = ca_fingerprint(live_server.ca_file.read_bytes())
    assert fingerprint in (live_server.data_dir / "server.log").read_text()


def test_pairing_by_fingerprint_pins_the_ca_and_signs_in(live_server: LiveServer,
                                                         tmp_path: Path) -> None:
    paths = TerminalPaths.under(tmp_path / "terminal").ensure()
    fingerprint = ca_fingerprint(live_server.ca_file.read_bytes())

    config = pair_terminal(live_server.base_url, live_server.add_terminal(),
                           ca_fingerprint=fingerprint, paths=paths)

    assert config.ca_file.read_bytes() == live_server.ca_file.read_bytes()
    assert sorted(p.name for p in paths.home.iterdir() if p.is_file()) == ["ca.pem",
                                                                          "config.json", "home-id"]
    token = Credentials(live_server.base_url, paths).terminal_token
    with InventoryClient(live_server.base_url, ca_file=config.ca_file,
                         terminal_token=token) as client:
        assert client.create_session("alex", "1234").staff.username == "alex"


def test_a_wrong_fingerprint_stores_nothing_and_leaves_the_code_unspent(
        live_server: LiveServer, tmp_path: Path) -> None:
    paths = TerminalPaths.under(tmp_path / "terminal").ensure()
    code = live_server.add_terminal()
    wrong = fingerprint_of(make_ca())

    with pytest.raises(TlsVerificationFailed, match=wrong):
        pair_terminal(live_server.base_url, code, ca_fingerprint=wrong, paths=paths)

    assert [p for p in paths.home.iterdir() if p.is_file()] == []
    right = ca_fingerprint(live_server.ca_file.read_bytes())
    config = pair_terminal(live_server.base_url, code, ca_fingerprint=right, paths=paths)
    assert config.ca_file.read_bytes() == live_server.ca_file.read_bytes()


def test_the_cli_pairs_by_fingerprint(live_server: LiveServer, tmp_path: Path) -> None:
    env = {"POS_APP_HOME": str(tmp_path / "terminal")}
    right = ca_fingerprint(live_server.ca_file.read_bytes())
    bad = pos_app("pair", live_server.base_url, live_server.add_terminal(),
                  "--ca-fingerprint", "not-a-fingerprint", env=env, check=False)
    assert bad.returncode == 2 and "SHA-256 fingerprint" in bad.stderr
    wrong = pos_app("pair", live_server.base_url, live_server.add_terminal(),
                    "--ca-fingerprint", fingerprint_of(make_ca()), env=env, check=False)
    assert wrong.returncode == 3 and right in wrong.stderr
    assert not (tmp_path / "terminal" / "config.json").exists()

    done = pos_app("pair", live_server.base_url, live_server.add_terminal(),
                   "--ca-fingerprint", right.replace(":", "").lower(), env=env)

    assert "Paired as terminal" in done.stdout
    assert (tmp_path / "terminal" / "ca.pem").read_bytes() == live_server.ca_file.read_bytes()
