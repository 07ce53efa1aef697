"""The server's private certificate authority and its HTTPS certificate (``cryptography``).

On first start :func:`ensure_tls` creates ``DIR/ca.pem`` + ``DIR/ca-key.pem`` (a private CA,
valid 10 years) and ``DIR/server.pem`` + ``DIR/server-key.pem`` signed by it, with subject
alternative names ``localhost``, ``127.0.0.1``, ``::1`` and the serving host. Terminals pin
``ca.pem``. The server certificate is re-issued when it does not cover the host or expires
within 30 days; the CA is kept. Private keys are written with mode 0600.

:func:`ensure_tls` also logs the CA's SHA-256 fingerprint (:func:`ca_fingerprint`; an installer
pairs with ``pos-app pair URL CODE --ca-fingerprint FP``) and publishes the CA file to the
process (and any worker processes it starts) through :data:`ENV_CA_FILE`, which is what
``GET /v1/tls/ca.pem`` serves (:func:`served_ca_pem`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["ENV_CA_FILE", "TlsFiles", "ca_fingerprint", "ensure_tls", "format_fingerprint",
           "hosts_to_cover", "served_ca_pem"]

log = logging.getLogger("pos_app.server.tls")

ENV_CA_FILE = "POS_APP_TLS_CA_FILE"

CA_LIFETIME = timedelta(days=3650)
SERVER_LIFETIME = timedelta(days=825)
RENEW_BEFORE = timedelta(days=30)
_DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files: CA certificate, server certificate and server key."""

    ca_file: Path
    certfile: Path
    keyfile: Path


def hosts_to_cover(host: str) -> list[str]:
    """Names and addresses the server certificate must cover when serving on ``host``.

    A wildcard bind (``0.0.0.0``, ``::``, empty) adds this machine's host name.
    """
    hosts = list(_DEFAULT_HOSTS)
    extra = socket.gethostname() if host in {"", "0.0.0.0", "::"} else host
    if extra and extra not in hosts:
        hosts.append(extra)
    return hosts


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _create_ca(ca_file: Path, ca_key_file: Path, now: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pos-app private CA"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pos-app box office")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(ca_key_file, _key_pem(key))
    _write_public(ca_file, cert.public_bytes(serialization.Encoding.PEM))


def _server_cert_ok(certfile: Path, keyfile: Path, hosts: list[str], now: datetime) -> bool:
    if not (certfile.exists() and keyfile.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(certfile.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    covered = {str(v) for v in san.get_values_for_type(x509.DNSName)}
    covered |= {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    wanted = {str(ipaddress.ip_address(h)) if _is_ip(h) else h for h in hosts}
    return wanted <= covered and cert.not_valid_after_utc - now > RENEW_BEFORE


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _create_server_cert(ca_file: Path, ca_key_file: Path, certfile: Path, keyfile: Path,
                        hosts: list[str], now: datetime) -> None:
    ca_cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{ca_key_file} is not the EC key this server creates")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[-1])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + SERVER_LIFETIME)
        .add_extension(_san(hosts), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(keyfile, _key_pem(key))
    _write_public(certfile, cert.public_bytes(serialization.Encoding.PEM))


def format_fingerprint(digest: bytes) -> str:
    """``digest`` as colon-separated upper-case hex pairs (``AB:CD:...``)."""
    return ":".join(f"{byte:02X}" for byte in digest)


def ca_fingerprint(ca_pem: bytes) -> str:
    """The SHA-256 fingerprint of the (first) certificate in ``ca_pem``, over its DER bytes,
    formatted ``AB:CD:...`` (what ``openssl x509 -fingerprint -sha256`` prints).

    Raises ``ValueError`` when ``ca_pem`` holds no certificate.
    """
    cert = x509.load_pem_x509_certificate(ca_pem)
    return format_fingerprint(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER))
                              .digest())


def served_ca_pem() -> bytes | None:
    """The CA certificate (PEM) this server process publishes at ``GET /v1/tls/ca.pem``: the
    file named by :data:`ENV_CA_FILE` (set by :func:`ensure_tls`), or ``None`` when there is
    none (the server runs on ``--certfile``/``--keyfile`` or was built without TLS files)."""
    path = os.environ.get(ENV_CA_FILE)
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def ensure_tls(tls_dir: Path, host: str, *, now: datetime | None = None) -> TlsFiles:
    """Create (if missing) the CA and a server certificate covering ``host`` in ``tls_dir``.

    Returns the paths to pass to uvicorn (``certfile``, ``keyfile``) and to pin (``ca_file``).
    Logs the CA's SHA-256 fingerprint and publishes the CA file (:data:`ENV_CA_FILE`) for
    ``GET /v1/tls/ca.pem``.
    Raises ``ValueError`` when an existing CA key is not readable as this server's kind.
    """
    now = now or datetime.now(UTC)
    tls_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tls_dir, 0o700)
    ca_file, ca_key_file = tls_dir / "ca.pem", tls_dir / "ca-key.pem"
    certfile, keyfile = tls_dir / "server.pem", tls_dir / "server-key.pem"
    hosts = hosts_to_cover(host)
    if not (ca_file.exists() and ca_key_file.exists()):
        _create_ca(ca_file, ca_key_file, now)
        certfile.unlink(missing_ok=True)
    if not _server_cert_ok(certfile, keyfile, hosts, now):
        _create_server_cert(ca_file, ca_key_file, certfile, keyfile, hosts, now)
    os.environ[ENV_CA_FILE] = str(ca_file.resolve())
    log.info("TLS: CA fingerprint (SHA-256) %s - pair terminals with: pos-app pair URL CODE "
             "--ca-fingerprint FINGERPRINT", ca_fingerprint(ca_file.read_bytes()))
    return TlsFiles(ca_file=ca_file, certfile=certfile, keyfile=keyfile)
