"""Issue 16, attack 11: webhooks as a probe of the server's own network.

A webhook to ``http://127.0.0.1:PORT`` (an admin port), ``https://169.254.169.254/`` (a
cloud's metadata service) or a 10.x printer made the server post there, and its delivery log
told a manager whether something answered. Now such targets are refused when the webhook is
added, whatever the spelling of the address, and again at every delivery for the addresses
the host actually resolves to, unless the server and the admin command are given
``--allow-private-webhooks``; a refused delivery is logged only as "refused: private
address". The receiver is a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from pos_app import cli
from pos_app.server.models import Webhook
from pos_app.server.services import webhooks
from pos_app.server.services.webhook_dispatcher import WebhookDispatcher
from pos_app.server.services.webhook_http import REFUSED_PRIVATE, is_private_address
from tests.security.conftest import MANAGER_PIN, Venue
from tests.support.live_server import free_port
from tests.support.webhook_receiver import WebhookReceiver, webhook_receiver

PRIVATE_TARGETS = [
    "http://127.0.0.1:8080/admin",  # a local admin port
    "http://localhost:5432/",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "https://10.0.0.5/printer",
    "https://172.16.4.4/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",  # carrier-grade NAT: not globally routable
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "https://[fe80::1]/",
    "https://[fd00::1]/",
    "https://224.0.0.1/",  # multicast
    "https://0.0.0.0/",  # unspecified
    "https://[::]/",
    "https://240.0.0.1/",  # reserved
    "https://2130706433/",  # 127.0.0.1 as one number
    "https://127.1/",  # 127.0.0.1, short form
    "https://0x7f.0.0.1/",  # 127.0.0.1 in hex
    "https://api.localhost/",  # RFC 6761: always loopback
]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as started:
        yield started


def _admin_add(venue: Venue, capsys: pytest.CaptureFixture[str], url: str,
               *flags: str) -> tuple[int, str, str]:
    code = cli.main(["admin", "add-webhook", url, *flags, "--database-url", venue.db.url,
                     "--data-dir", str(venue.data_dir)])  # the venue's secrets folder
    out, err = capsys.readouterr()
    return code, out, err


def _webhook_count(venue: Venue) -> int:
    with venue.db.read() as session:
        return len(list(session.scalars(select(Webhook.id))))


def _raise_stock_alert(venue: Venue, manager: dict[str, str]) -> None:
    """GA (50) gets an alert rung at 40; cutting 20 seats crosses it."""
    [event] = venue.tills["till1"].get("/v1/events", headers=manager).json()["events"]
    ga = event["ticket_types"][0]["id"]
    patched = venue.tills["till1"].patch(f"/v1/ticket-types/{ga}", json={"alert_ladder": [40]},
                                         headers={**manager, "Idempotency-Key": uuid.uuid4().hex})
    assert patched.status_code == 200, patched.text
    cut = venue.post("till1", f"/v1/ticket-types/{ga}/capacity",
                     {"delta": -20, "reason": "blocked seats"}, manager)
    assert cut.status_code == 200, cut.text


def _deliver(venue: Venue, *, allow_private: bool) -> None:
    dispatcher = WebhookDispatcher(venue.db, clock=venue.clock, timeout=1.0,
                                   rng=lambda: 0.0, allow_private_targets=allow_private)
    asyncio.run(dispatcher.run_once())


@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_an_admin_cannot_add_a_webhook_to_a_private_address_without_the_flag(
        venue: Venue, capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, err = _admin_add(venue, capsys, url)

    assert code == cli.EXIT_BAD_INPUT, (url, out)
    assert "--allow-private-webhooks" in err and "private" in err
    assert out == "" and _webhook_count(venue) == 0


def test_the_explicit_flag_adds_a_local_receiver(
        venue: Venue, capsys: pytest.CaptureFixture[str], receiver: WebhookReceiver) -> None:
    code, out, _ = _admin_add(venue, capsys, receiver.url, "--allow-private-webhooks")
    assert code == cli.EXIT_OK, out
    assert _webhook_count(venue) == 1
    # A public https:// target needs no flag (its name is checked at every delivery).
    assert webhooks.validate_url("https://hooks.example.com/pos") == \
        "https://hooks.example.com/pos"


def test_a_server_without_the_flag_never_contacts_a_private_target_and_logs_nothing_more(
        venue: Venue, receiver: WebhookReceiver) -> None:
    # Webhooks that name private targets (added with the flag, or before this check existed):
    # one answers (the receiver, through the *name* localhost, which resolves to 127.0.0.1),
    # one does not (nothing listens on that port). The log must not tell them apart.
    with venue.db.write() as session:
        answering = webhooks.create_webhook(
            session, receiver.url.replace("127.0.0.1", "localhost"), now=venue.clock.now(),
            allow_private=True)
        silent = webhooks.create_webhook(session, f"http://127.0.0.1:{free_port()}/x",
                                         now=venue.clock.now(), allow_private=True)
    manager = venue.sign_in("till1", "morgan", MANAGER_PIN)
    _raise_stock_alert(venue, manager)

    _deliver(venue, allow_private=False)

    assert receiver.requests() == []  # nothing was posted to the local port
    logs = []
    for hook in (answering, silent):
        answer = venue.tills["till1"].get(f"/v1/webhooks/{hook.id}/deliveries",
                                          headers=manager)
        assert answer.status_code == 200, answer.text
        [entry] = answer.json()["deliveries"]
        logs.append({k: entry[k] for k in ("status_code", "error", "duration_ms", "outcome")})
    assert logs == [{"status_code": None, "error": REFUSED_PRIVATE, "duration_ms": 0,
                     "outcome": "failed"}] * 2


def test_with_the_flag_the_server_posts_to_a_local_receiver(
        venue: Venue, receiver: WebhookReceiver) -> None:
    with venue.db.write() as session:
        webhooks.create_webhook(session, receiver.url, now=venue.clock.now(),
                                allow_private=True)
    _raise_stock_alert(venue, venue.sign_in("till1", "morgan", MANAGER_PIN))

    _deliver(venue, allow_private=True)

    assert len(receiver.requests()) == 1


@pytest.mark.parametrize(("address", "private"), [
    ("169.254.169.254", True), ("10.1.2.3", True), ("172.31.255.255", True),
    ("192.168.0.10", True), ("127.0.0.53", True), ("100.64.0.1", True), ("0.0.0.0", True),
    ("224.0.0.251", True), ("255.255.255.255", True), ("::1", True), ("fe80::1", True),
    ("fd12:3456::1", True), ("ff02::1", True), ("::", True), ("::ffff:169.254.169.254", True),
    ("93.184.216.34", False), ("8.8.8.8", False), ("2606:4700:4700::1111", False),
])
def test_the_address_policy(address: str, private: bool) -> None:
    assert is_private_address(ipaddress.ip_address(address)) is private
