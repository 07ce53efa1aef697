"""Pairing: turn a single-use pairing code into a configured terminal.

The server's private CA is pinned either from a copy of its ``ca.pem`` (``ca_file``) or from
its SHA-256 fingerprint (``ca_fingerprint``, printed by ``pos-app serve`` at start): then the
CA certificate is fetched from ``GET /v1/tls/ca.pem`` (:func:`fetch_server_ca`) and kept only
when its fingerprint matches.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import ssl
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from pos_app.client._config import TerminalConfig, load_config, save_config
from pos_app.client._credentials import Credentials
from pos_app.client._errors import NotPaired, ServerUnreachable, TlsVerificationFailed
from pos_app.client._http import InventoryClient
from pos_app.client._paths import TerminalPaths, terminal_paths
from pos_app.files import atomic_write

__all__ = ["fetch_server_ca", "normalize_fingerprint", "pair_terminal"]

_HEX64 = re.compile(r"[0-9A-F]{64}")
CA_PATH = "/v1/tls/ca.pem"


def normalize_fingerprint(fingerprint: str) -> bytes:
    """The 32 bytes of a SHA-256 fingerprint written ``AB:CD:...`` or as 64 hex digits
    (case, spaces and an ``SHA256:`` / ``sha256=`` prefix ignored).

    Raises:
        ValueError: not a SHA-256 fingerprint.
    """
    text = fingerprint.strip().upper()
    for prefix in ("SHA256:", "SHA-256:", "SHA256=", "SHA-256="):
        if text.startswith(prefix):
            text = text[len(prefix):]
    text = re.sub(r"[\s:\-]", "", text)
    if not _HEX64.fullmatch(text):
        raise ValueError(f"{fingerprint!r} is not a SHA-256 fingerprint (64 hex digits, "
                         "optionally as AB:CD:... pairs)")
    return bytes.fromhex(text)


def _format(digest: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in digest)


def _host_port(server_url: str) -> tuple[str, int]:
    parts = urlsplit(server_url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"the server URL must be https://host:port, not {server_url!r}")
    return parts.hostname, parts.port or 443


def _load_cert(pem: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise TlsVerificationFailed(f"{what} is not a PEM certificate.") from exc


def fetch_server_ca(server_url: str, ca_fingerprint: str, *, timeout: float = 10.0) -> bytes:
    """The server's CA certificate (PEM), fetched and checked against ``ca_fingerprint``.

    1. Reads the server's own (leaf) certificate with :func:`ssl.get_server_certificate`.
    2. Fetches ``GET /v1/tls/ca.pem`` over TLS >= 1.2 that trusts only that leaf (partial
       chain), host name checked - so the answer comes from the holder of the leaf's key.
    3. Compares the SHA-256 of the CA's DER with ``ca_fingerprint`` in constant time.
    4. Only on a match, checks that the leaf is directly issued (signed) by that CA.

    Nothing is written. Raises ``ValueError`` for a malformed fingerprint or URL,
    ``TlsVerificationFailed`` for a mismatch (naming both fingerprints) or any failed check,
    ``ServerUnreachable`` when the server cannot be reached or does not publish its CA.
    """
    expected = normalize_fingerprint(ca_fingerprint)
    host, port = _host_port(server_url.rstrip("/"))
    try:
        leaf_pem = ssl.get_server_certificate((host, port), timeout=timeout)
    except ssl.SSLError as exc:
        raise TlsVerificationFailed(f"TLS handshake with {server_url} failed: {exc}") from exc
    except OSError as exc:
        raise ServerUnreachable(f"Cannot reach the server at {server_url}: {exc}") from exc
    leaf = _load_cert(leaf_pem.encode("ascii"), "The server's certificate")

    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=leaf_pem)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    url = server_url.rstrip("/") + CA_PATH
    try:
        with httpx.Client(verify=context, trust_env=False, timeout=timeout,
                          follow_redirects=False) as http:
            response = http.get(url, headers={"Accept": "application/x-pem-file"})
    except httpx.ConnectError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc) or isinstance(
                exc.__context__, ssl.SSLCertVerificationError):
            raise TlsVerificationFailed(
                f"The server at {server_url} changed its certificate while pairing, or its "
                f"certificate does not name {host}: {exc}") from exc
        raise ServerUnreachable(f"Cannot reach the server at {server_url}: {exc}") from exc
    except httpx.HTTPError as exc:
        raise ServerUnreachable(f"Cannot fetch {url}: {exc or type(exc).__name__}") from exc
    if response.status_code != 200:
        raise ServerUnreachable(
            f"The server at {server_url} does not publish its CA certificate ({CA_PATH} "
            f"answered {response.status_code}) - pair with --ca-file instead.")

    ca = _load_cert(response.content, f"{CA_PATH} from {server_url}")
    actual = hashlib.sha256(ca.public_bytes(serialization.Encoding.DER)).digest()
    if not hmac.compare_digest(actual, expected):
        raise TlsVerificationFailed(
            f"The server's CA fingerprint is {_format(actual)}, not the expected "
            f"{_format(expected)} - check the fingerprint printed by the server at start "
            "(pos-app serve) and that this is the right server; nothing was stored and the "
            "pairing code was not used.")
    try:
        leaf.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise TlsVerificationFailed(
            f"The server's certificate is not issued by the CA with fingerprint "
            f"{_format(actual)}; nothing was stored and the pairing code was not used.") from exc
    return ca.public_bytes(serialization.Encoding.PEM)


def _forget_previous_server(paths: TerminalPaths, server_url: str) -> None:
    """Drop this home's tokens for the server it was paired with before, if another one: the
    new configuration no longer names it, so they would linger in the keyring unused."""
    try:
        previous = load_config(paths)
    except NotPaired:
        return
    if previous.server_url != server_url:
        old = Credentials(previous.server_url, paths)
        del old.terminal_token
        del old.session_token


def pair_terminal(server_url: str, pairing_code: str, *, ca_file: Path | None = None,
                  ca_fingerprint: str | None = None, paths: TerminalPaths | None = None,
                  transport: httpx.BaseTransport | None = None) -> TerminalConfig:
    """Pair this terminal with the server at ``server_url`` (``https://host:port``).

    Give exactly one of ``ca_file`` (a copy of the server's CA certificate, PEM) or
    ``ca_fingerprint`` (its SHA-256, ``AB:CD:...`` or hex: the CA is then fetched with
    :func:`fetch_server_ca` and kept only when it matches).

    Checks the keyring first (a pairing code is single-use, so it is spent only when the token
    can be kept), calls ``POST /v1/terminals/pair`` over TLS verified against the CA, then
    copies the CA into the terminal home (``paths.ca_file``), stores the terminal token in the
    keyring (dropping any old session token of that server) and writes the configuration.

    Returns the new :class:`TerminalConfig`. Raises ``ValueError`` for neither or both CA
    options or a malformed fingerprint, ``InsecureKeyring`` / ``KeyringUnavailable``,
    ``FileNotFoundError`` or ``ssl.SSLError`` for an unusable ``ca_file``,
    ``TlsVerificationFailed`` when the server's certificate is not from that CA or the
    fingerprint does not match (nothing stored, code not spent), ``ServerUnreachable``,
    ``OutcomeUnknown``, or an ``ApiError`` for a wrong or used code.
    """
    if (ca_file is None) == (ca_fingerprint is None):
        raise ValueError("give exactly one of ca_file or ca_fingerprint")
    paths = (paths or terminal_paths()).ensure()
    server_url = server_url.rstrip("/")
    credentials = Credentials(server_url, paths)
    if ca_file is not None:
        ca_pem = Path(ca_file).read_bytes()
        with InventoryClient(server_url, ca_file=Path(ca_file), transport=transport) as client:
            paired = client.pair(pairing_code)
    else:
        assert ca_fingerprint is not None
        ca_pem = fetch_server_ca(server_url, ca_fingerprint)
        fd, name = tempfile.mkstemp(prefix=".ca-", suffix=".pem", dir=paths.home)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(ca_pem)
            with InventoryClient(server_url, ca_file=Path(name),
                                 transport=transport) as client:
                paired = client.pair(pairing_code)
        finally:
            Path(name).unlink(missing_ok=True)
    atomic_write(paths.ca_file, ca_pem)
    _forget_previous_server(paths, server_url)
    credentials.terminal_token = paired.terminal_token
    del credentials.session_token
    paths.session_file.unlink(missing_ok=True)
    config = TerminalConfig(server_url=server_url, ca_file=paths.ca_file,
                            terminal_id=paired.terminal_id, terminal_name=paired.name)
    save_config(paths, config)
    return config
