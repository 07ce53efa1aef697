"""``GET /v1/reports/sales`` against a real server: sales at the box office and through the
online channel's token, a refund taken off the channel that sold, buckets in time, the
500-point bound, and managers only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import StaffClient, new_key, staff_client, ticket_type
from tests.support.live_server import LiveServer, free_port
from tests.support.postgres import PostgresServer

REPORT = "/v1/reports/sales"


@pytest.fixture(scope="module")
def manager(live_server: LiveServer) -> Iterator[StaffClient]:
    client = staff_client(live_server, "morgan", "2468")  # a shift open: cash refunds
    yield client
    client.close()


@pytest.fixture(scope="module")
def cashier(live_server: LiveServer) -> Iterator[StaffClient]:
    client = staff_client(live_server)
    yield client
    client.close()


@pytest.fixture(scope="module")
def online(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The web shop's backend: a channel token of the ``online`` channel."""
    with online_channel(live_server) as client:
        yield client


def sell_online(online: httpx.Client, lines: dict[int, int]) -> dict[str, Any]:
    response = online.post("/v1/sales", headers={"Idempotency-Key": new_key()}, json={
        "lines": [{"ticket_type_id": t, "quantity": q} for t, q in lines.items()],
        "payment": {"method": "external", "reference": f"web-{uuid.uuid4().hex[:8]}"}})
    assert response.status_code == 201, response.text
    return dict(response.json())


def sell_at_door(cashier: StaffClient, lines: dict[int, int]) -> dict[str, Any]:
    response = cashier.sell(lines)
    assert response.status_code == 201, response.text
    return dict(response.json())


def report(client: StaffClient, **params: Any) -> dict[str, Any]:
    response = client.http.get(REPORT, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def online_channel(server: LiveServer) -> httpx.Client:
    """The web shop's backend: a new channel token of the ``online`` channel."""
    token = server.add_channel_token("online", "Report shop")
    return httpx.Client(base_url=server.base_url, verify=server.tls_context(),
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def check_channel_split(server: LiveServer, manager: StaffClient, cashier: StaffClient,
                        online: httpx.Client) -> None:
    """Sell at the door and online, refund one door ticket: the report splits by channel,
    net of the refund, in minute buckets, and adds up to the ticket types' ``sold``."""
    event_id = server.small_event(capacity=10, price=2500, types=("GA", "VIP"))
    ga = ticket_type(server, event_id, "GA")["id"]
    vip = ticket_type(server, event_id, "VIP")["id"]
    door = sell_at_door(cashier, {ga: 3, vip: 1})
    sell_online(online, {ga: 2})
    refunded = next(t["code"] for t in door["tickets"] if t["ticket_type_id"] == ga)
    refund = manager.post(f"/v1/sales/{door['id']}/refunds",
                          {"reason": "could not come", "ticket_codes": [refunded]})
    assert refund.status_code == 201, refund.text

    body = report(manager, event_id=event_id)

    assert body["event_id"] == event_id and body["currency"] == "USD"
    assert body["channels"][0] == "box_office" and "online" in body["channels"]
    split = {t["ticket_type_id"]: t["by_channel"] for t in body["ticket_types"]}
    assert split[ga]["box_office"] == 2 and split[ga]["online"] == 2
    assert split[vip]["box_office"] == 1 and split[vip]["online"] == 0
    # Over the whole history the split adds up to what the ticket types say is sold.
    assert sum(split[ga].values()) == ticket_type(server, event_id, "GA")["sold"] == 4
    series = {s["channel"]: s["points"] for s in body["series"]}
    assert sum(p["tickets"] for p in series["box_office"]) == 3  # 3 + 1 sold, 1 refunded
    assert sum(p["amount"] for p in series["box_office"]) == 3 * 2500
    assert sum(p["tickets"] for p in series["online"]) == 2
    assert body["bucket_seconds"] == 60  # seconds of sales: the finest nice bucket
    for points in series.values():
        ats = [datetime.fromisoformat(p["at"]) for p in points]
        assert ats == sorted(ats)
        assert all(at.timestamp() % 60 == 0 for at in ats)


def test_sales_are_split_by_channel_net_of_refunds(
        live_server: LiveServer, manager: StaffClient, cashier: StaffClient,
        online: httpx.Client) -> None:
    check_channel_split(live_server, manager, cashier, online)


@pytest.mark.postgres
@pytest.mark.slow
def test_the_report_buckets_the_same_on_postgresql(
        postgres: PostgresServer, tmp_path: Path) -> None:
    server = LiveServer(data_dir=tmp_path, port=free_port(),
                        database_url=postgres.create_database(f"report_{uuid.uuid4().hex[:8]}"))
    server.start()
    try:
        manager, cashier = staff_client(server, "morgan", "2468"), staff_client(server)
        with online_channel(server) as online:
            check_channel_split(server, manager, cashier, online)
        manager.close()
        cashier.close()
    finally:
        server.stop()


def test_a_window_and_bucket_put_the_sales_in_their_hour(
        live_server: LiveServer, manager: StaffClient, cashier: StaffClient) -> None:
    event_id = live_server.small_event(capacity=10)
    ga = ticket_type(live_server, event_id)["id"]
    sell_at_door(cashier, {ga: 2})
    now = datetime.now(UTC)
    body = report(manager, event_id=event_id, bucket=3600,
                  **{"from": (now - timedelta(days=1)).isoformat(),
                     "to": (now + timedelta(hours=1)).isoformat()})
    assert body["bucket_seconds"] == 3600
    (point,) = next(s["points"] for s in body["series"] if s["channel"] == "box_office")
    at = datetime.fromisoformat(point["at"])
    assert at.timestamp() % 3600 == 0 and at <= now < at + timedelta(hours=1)
    assert (point["tickets"], point["amount"]) == (2, 5000)

    before = report(manager, event_id=event_id, **{"to": (now - timedelta(hours=2))
                                                   .isoformat()})
    assert all(not s["points"] for s in before["series"])
    assert before["ticket_types"][0]["by_channel"]["box_office"] == 0


def test_an_event_without_sales_has_empty_series(live_server: LiveServer,
                                                 manager: StaffClient) -> None:
    event_id = live_server.small_event(capacity=3)
    body = report(manager, event_id=event_id)
    assert [s["points"] for s in body["series"]] == [[] for _ in body["channels"]]
    assert body["ticket_types"][0]["by_channel"]["box_office"] == 0


@pytest.mark.parametrize(("params", "status", "needle"), [
    ({"bucket": 60, "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, 422,
     "more than 500 points"),
    ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, 422,
     "from must not be after to"),
    ({"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T00:00:00Z"}, 422, "too wide"),
    ({"from": "0001-01-01T00:00:00+05:00"}, 422, "outside the range"),
    ({"from": "2026-01-01T00:00:00"}, 422, "timezone"),
    ({"bucket": 0}, 422, "bucket"),
    ({"bucket": "soon"}, 422, "bucket"),
])
def test_bad_parameters_are_refused_in_a_sentence(live_server: LiveServer, manager: StaffClient,
                                                  params: dict[str, Any], status: int,
                                                  needle: str) -> None:
    event_id = live_server.small_event(capacity=3)
    response = manager.http.get(REPORT, params={"event_id": event_id, **params})
    assert response.status_code == status, response.text
    assert response.json()["error"] == "invalid_request"
    assert needle in response.json()["message"]


def test_an_unknown_event_is_not_found(manager: StaffClient) -> None:
    response = manager.http.get(REPORT, params={"event_id": "no-such-event"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_only_managers_read_the_report(live_server: LiveServer, cashier: StaffClient,
                                       online: httpx.Client) -> None:
    event_id = live_server.small_event(capacity=3)
    refused = cashier.http.get(REPORT, params={"event_id": event_id})
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert online.get(REPORT, params={"event_id": event_id}).status_code == 403
    with httpx.Client(base_url=live_server.base_url, verify=live_server.tls_context()) as anon:
        assert anon.get(REPORT, params={"event_id": event_id}).status_code == 401
