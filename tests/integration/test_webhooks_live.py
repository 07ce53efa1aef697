"""Over real HTTPS (``pos-app serve --demo``): a webhook added with the CLI receives a
stock alert raised by a manager's capacity change, signed as documented, and managers
(only) read it back in the delivery log."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import StaffClient, staff_client, ticket_type
from tests.support.live_server import LiveServer, pos_app
from tests.support.webhook_receiver import WebhookReceiver, webhook_receiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as started:
        yield started


@pytest.fixture
def manager(live_server: LiveServer) -> Iterator[StaffClient]:
    client = staff_client(live_server, "morgan", "2468", open_shift=False)
    yield client
    client.close()


def _deliveries(manager: StaffClient, webhook_id: int,
                timeout: float = 10) -> list[dict[str, Any]]:
    """The delivery log once it holds an entry (the record follows the receiver's answer)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = manager.http.get(f"/v1/webhooks/{webhook_id}/deliveries")
        assert answer.status_code == 200, answer.text
        if answer.json()["deliveries"] or time.monotonic() > deadline:
            return list(answer.json()["deliveries"])
        time.sleep(0.1)


def test_a_webhook_from_the_cli_receives_a_signed_stock_alert_from_the_running_server(
        live_server: LiveServer, receiver: WebhookReceiver, manager: StaffClient) -> None:
    out = pos_app("admin", "add-webhook", receiver.url, "--allow-private-webhooks",
                  *live_server.db_args())
    secret = out.stdout.strip().splitlines()[-1]
    listed = json.loads(pos_app("admin", "list-webhooks", "--json",
                                *live_server.db_args()).stdout)["webhooks"]
    webhook_id = next(w["id"] for w in listed if w["url"] == receiver.url and w["active"])
    try:
        event_id = live_server.small_event(capacity=5)  # alert ladder 2, 1, 0
        ga = ticket_type(live_server, event_id)
        cut = manager.post(f"/v1/ticket-types/{ga['id']}/capacity",
                           {"delta": -3, "reason": "blocked seats"})
        assert cut.status_code == 200, cut.text

        [request] = receiver.wait_for(1, timeout=15)
        timestamp = request.headers["x-pos-timestamp"]
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body,
                            hashlib.sha256).hexdigest()
        assert request.headers["x-pos-signature"] == f"sha256={expected}"
        assert abs(time.time() - int(timestamp)) < 60
        body = request.json()
        assert (body["type"], body["event"]["id"], body["ticket_type"]["id"]) == (
            "stock_alert", event_id, ga["id"])
        assert (body["level"], body["available"], body["capacity"]) == (2, 2, 2)

        [delivered] = _deliveries(manager, webhook_id)
        assert (delivered["alert_seq"], delivered["status_code"], delivered["outcome"]) == (
            body["seq"], 200, "delivered")
        assert delivered["delivery_id"] == request.headers["x-pos-delivery"]
        with httpx.Client(base_url=live_server.base_url, verify=live_server.tls_context(),
                          timeout=30) as anonymous:
            assert anonymous.get("/v1/webhooks").status_code == 401
        cashier = staff_client(live_server, open_shift=False)
        try:
            assert cashier.http.get("/v1/webhooks").status_code == 403
        finally:
            cashier.close()
    finally:
        # the server is shared by the session's tests: nothing more goes to this receiver
        pos_app("admin", "remove-webhook", str(webhook_id), *live_server.db_args())
    [shown] = [w for w in manager.http.get("/v1/webhooks").json()["webhooks"]
               if w["id"] == webhook_id]
    assert shown["active"] is False
