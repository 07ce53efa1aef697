"""Throwaway certificate authorities and server certificates for TLS tests (EC P-256 keys,
SHA-256 signatures, made with ``cryptography``), and a tiny HTTPS server presenting them."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        """The certificate, PEM-encoded."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        """The private key, PEM-encoded PKCS#8 without a passphrase."""
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        """Write ``folder/<stem>.pem`` (:attr:`pem`) and ``folder/<stem>-key.pem``
        (:attr:`key_pem`); returns ``(certfile, keyfile)``."""
        certfile, keyfile = folder / f"{stem}.pem", folder / f"{stem}-key.pem"
        certfile.write_bytes(self.pem)
        keyfile.write_bytes(self.key_pem)
        return certfile, keyfile


def make_ca(name: str = "test CA", *, not_before: datetime | None = None,
            not_after: datetime | None = None) -> Issued:
    """A self-signed CA with common name ``name``, valid from ``not_before`` (default 30 days
    ago) to ``not_after`` (default 30 days ahead). Critical extensions: basic constraints
    ``ca=True, path_length=0``; key usage digital signature, certificate and CRL signing."""
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(days=30))
            .not_valid_after(not_after or now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return Issued(cert, key)


def make_leaf(ca: Issued, *, hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
              not_before: datetime | None = None,
              not_after: datetime | None = None) -> Issued:
    """A server certificate signed by ``ca``, valid from ``not_before`` (default a day ago)
    to ``not_after`` (default a day ahead). Common name ``hosts[0]``; subject alternative
    names: each of ``hosts`` as an IP address when it parses as one, else as a DNS name.
    Basic constraints ``ca=False`` (critical); extended key usage server authentication."""
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(days=1))
            .not_valid_after(not_after or now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca.key, hashes.SHA256()))
    return Issued(cert, key)


@contextmanager
def serve_https(certfile: Path, keyfile: Path,
                handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` over TLS with ``certfile``/``keyfile`` on a free loopback port, in a
    background thread; yields the base URL ``https://127.0.0.1:<port>`` and stops the server
    on exit."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
