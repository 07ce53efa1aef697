"""The private CA and the admin commands' database effects."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from pos_app.domain.clock import FixedClock
from pos_app.server import admin
from pos_app.server.admin import open_database
from pos_app.server.errors import ApiError
from pos_app.server.services.identity import pair_terminal
from pos_app.server.tls import ensure_tls


def _sans(certfile: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(certfile.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in san.get_values_for_type(x509.DNSName)} | {
        str(v) for v in san.get_values_for_type(x509.IPAddress)}


def test_tls_files_cover_loopback_and_keys_are_private(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path / "tls", "127.0.0.1")
    assert {"localhost", "127.0.0.1", "::1"} <= _sans(files.certfile)
    for key in (files.keyfile, tmp_path / "tls" / "ca-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    x509.load_pem_x509_certificate(files.certfile.read_bytes()).verify_directly_issued_by(ca)


def test_a_new_host_reissues_the_server_certificate_but_keeps_the_ca(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path / "tls", "127.0.0.1")
    ca_before = first.ca_file.read_bytes()
    second = ensure_tls(tmp_path / "tls", "box-office.local")
    assert "box-office.local" in _sans(second.certfile)
    assert second.ca_file.read_bytes() == ca_before


def test_importing_a_catalog_twice_does_not_duplicate_events(tmp_path: Path) -> None:
    catalog = {"events": [{
        "id": "gig", "name": "Gig", "venue": "Hall", "starts_at": "2026-01-25T09:00:00",
        "timezone": "America/Chicago", "currency": "USD",
        "ticket_types": [{"name": "GA", "price": 100, "capacity": 5}]}]}
    assert [e.id for e in admin.import_catalog(str(tmp_path), catalog).created] == ["gig"]
    again = admin.import_catalog(str(tmp_path), catalog)
    assert (again.created, again.unchanged, again.skipped) == ([], ["gig"], [])
    with pytest.raises(ValueError, match="events"):
        admin.import_catalog(str(tmp_path), {"events": "nope"})


def test_the_demo_loads_only_into_an_empty_database(tmp_path: Path) -> None:
    assert admin.load_demo(str(tmp_path)) is True
    assert admin.load_demo(str(tmp_path)) is False


def test_a_pairing_code_expires_after_ten_minutes(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    created = admin.add_terminal(str(tmp_path), "till", clock=clock)
    assert created.expires_at == clock.now() + timedelta(minutes=10)
    with open_database(str(tmp_path)) as db, db.write() as session, \
            pytest.raises(ApiError, match="expired"):
        pair_terminal(session, created.pairing_code.lower(),
                      now=clock.now() + timedelta(minutes=10))


def test_add_staff_refuses_a_taken_username(tmp_path: Path) -> None:
    staff = admin.add_staff(str(tmp_path), "kim", role="manager", pin="4321",
                            display_name="Kim")
    assert (staff.username, staff.role) == ("kim", "manager")
    with pytest.raises(ValueError, match="taken"):
        admin.add_staff(str(tmp_path), "kim", role="cashier", pin="4321", display_name="K")
