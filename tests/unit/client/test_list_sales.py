"""``InventoryClient.list_sales``: ``GET /v1/sales`` with its filters, through
``httpx.MockTransport`` (no network)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from pos_app.client import InvalidRequest, InvalidResponse, InventoryClient, NotSignedIn

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler, *, session_token: str | None = "sess-1") -> InventoryClient:
    return InventoryClient("https://pos.test", ca_file=Path("unused.pem"),
                           session_token=session_token, transport=httpx.MockTransport(handler))


def sale_json(number: int, *, shift_id: int = 7) -> dict[str, Any]:
    return {
        "id": f"{number:032x}", "number": number, "status": "confirmed", "channel": "box_office",
        "event_id": "night", "total": 5000, "currency": "USD",
        "lines": [{"ticket_type_id": 1, "name": "GA", "quantity": 2, "unit_price": 2500,
                   "amount": 5000}],
        "payment": {"method": "cash", "tendered": 6000, "change": 1000},
        "tickets": [{"code": f"CODE{number}A", "ticket_type_id": 1, "status": "valid"},
                    {"code": f"CODE{number}B", "ticket_type_id": 1, "status": "valid"}],
        "created_at": "2026-03-14T19:05:00Z", "terminal_id": 3, "staff_id": 1,
        "shift_id": shift_id,
    }


def recording(pages: list[dict[str, Any]], seen: list[httpx.Request]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[len(seen) - 1])
    return handler


def test_list_sales_sends_the_filters_and_the_session_and_parses_the_page() -> None:
    seen: list[httpx.Request] = []
    client = client_for(recording([{"sales": [sale_json(41), sale_json(42)],
                                    "next_cursor": "eyJudW1iZXIiOjQyfQ"}], seen))
    chicago = timezone(timedelta(hours=-6))
    page = client.list_sales(shift_id=7, from_=datetime(2026, 3, 14, 18, 0, tzinfo=chicago),
                             to=datetime(2026, 3, 15, 6, 0, tzinfo=UTC), limit=2)

    assert [sale.number for sale in page.sales] == [41, 42]
    assert page.sales[1].tickets[0].code == "CODE42A"
    assert page.next_cursor == "eyJudW1iZXIiOjQyfQ"
    request = seen[0]
    assert (request.method, request.url.path) == ("GET", "/v1/sales")
    assert dict(request.url.params) == {
        "shift_id": "7", "from": "2026-03-14T18:00:00-06:00",
        "to": "2026-03-15T06:00:00+00:00", "limit": "2"}
    assert b"%2B00%3A00" in request.url.query  # the offset's "+" is not read as a space
    assert request.headers["Authorization"] == "Bearer sess-1"


def test_list_sales_follows_a_cursor_and_sends_only_the_filters_given() -> None:
    seen: list[httpx.Request] = []
    client = client_for(recording([{"sales": [sale_json(43)], "next_cursor": None}], seen))
    page = client.list_sales(cursor="eyJudW1iZXIiOjQyfQ")
    assert [sale.number for sale in page.sales] == [43] and page.next_cursor is None
    assert dict(seen[0].url.params) == {"cursor": "eyJudW1iZXIiOjQyfQ", "limit": "100"}


def test_list_sales_refuses_a_naive_time_before_sending_anything() -> None:
    seen: list[httpx.Request] = []
    client = client_for(recording([], seen))
    with pytest.raises(ValueError, match="from must be timezone-aware"):
        client.list_sales(from_=datetime(2026, 3, 14, 18, 0))
    with pytest.raises(ValueError, match="to must be timezone-aware"):
        client.list_sales(to=datetime(2026, 3, 14, 18, 0))
    assert seen == []


def test_list_sales_needs_a_session_and_maps_the_servers_refusals() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(NotSignedIn):
        client_for(recording([], seen), session_token=None).list_sales(shift_id=1)
    assert seen == []

    bad_cursor = client_for(lambda request: httpx.Response(
        422, json={"error": "invalid_request", "message": "The cursor is not valid."}))
    with pytest.raises(InvalidRequest, match="cursor is not valid"):
        bad_cursor.list_sales(cursor="nonsense")

    broken = client_for(lambda request: httpx.Response(200, json={"sales": [{"id": 1}]}))
    with pytest.raises(InvalidResponse):
        broken.list_sales(shift_id=1)
