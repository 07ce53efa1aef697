"""InventoryFeed: the SSE parser, the backoff, and the reconnect / poll loop (MockTransport)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from pos_app.client import InventoryFeed, SseEvent, SseParser, backoff_delay


def ticket_type(tid: int, available: int, version: int) -> dict[str, Any]:
    level = "sold_out" if available <= 0 else "low" if available <= 2 else "in_stock"
    return {"id": tid, "event_id": "e1", "name": "GA", "price": 2500, "currency": "USD",
            "capacity": 10, "public_limit": 10, "sold": 10 - available, "held": 0,
            "available": available, "public_available": available, "stock_level": level,
            "thresholds": {"low": 2, "critical": 1}, "alert_ladder": [2, 1, 0],
            "version": version}


def sse(version: int, *types: dict[str, Any]) -> bytes:
    data = json.dumps({"inventory_version": version, "ticket_types": list(types)})
    return f"id: {version}\nevent: inventory\ndata: {data}\n\n".encode()


def test_the_parser_dispatches_events_on_blank_lines_and_skips_comments() -> None:
    parser = SseParser()
    lines = ["retry: 2000", ": keepalive", "", "id: 7", "event: inventory", "data: {\"a\":",
             "data: 1}", "", "data:no-space", ""]
    events = list(parser.events(lines))
    assert events == [SseEvent("inventory", '{"a":\n1}', "7"),
                      SseEvent("message", "no-space", "7")]
    assert parser.retry_ms == 2000
    assert parser.last_id == "7"


def test_an_event_without_data_is_not_dispatched() -> None:
    parser = SseParser()
    assert list(parser.events(["event: inventory", "id: 3", ""])) == []
    assert parser.last_id == "3"


def test_backoff_doubles_up_to_the_cap_with_jitter_between_half_and_full() -> None:
    assert backoff_delay(0, base=0.5, cap=30, rand=lambda: 0.0) == 0.25
    assert backoff_delay(3, base=0.5, cap=30, rand=lambda: 0.999999) < 4.0
    assert backoff_delay(3, base=0.5, cap=30, rand=lambda: 0.999999) > 3.99
    assert backoff_delay(50, base=0.5, cap=30, rand=lambda: 0.0) == 15.0
    delays = {backoff_delay(2) for _ in range(20)}
    assert len(delays) > 1 and all(1.0 <= d < 2.0 for d in delays)


class Recorder:
    def __init__(self) -> None:
        self.changes: list[tuple[int, list[Any]]] = []
        self.states: list[bool] = []
        self.event = threading.Event()

    def on_changes(self, version: int, types: list[Any]) -> None:
        self.changes.append((version, types))
        self.event.set()

    def on_state(self, connected: bool) -> None:
        self.states.append(connected)
        self.event.set()

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.01)


def test_the_feed_delivers_events_and_resumes_with_last_event_id() -> None:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        assert request.headers["Authorization"] == "Bearer tok"
        if len(requests) == 1:
            return httpx.Response(200, headers={"Content-Type": "text/event-stream"},
                                  content=b"retry: 2000\n\n" + sse(5, ticket_type(1, 4, 5)))
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"},
                              content=sse(6, ticket_type(1, 3, 6)))

    rec = Recorder()
    feed = InventoryFeed("https://x.test", ca_file=None, token=lambda: "tok",
                         on_changes=rec.on_changes, on_state=rec.on_state, since=4,
                         transport=httpx.MockTransport(handle), backoff_base=0.01)
    feed.start()
    try:
        rec.wait_for(lambda: len(rec.changes) >= 2)
    finally:
        feed.stop()
    assert requests[0].headers["Last-Event-ID"] == "4"
    assert requests[1].headers["Last-Event-ID"] == "5"
    assert rec.changes[0][0] == 5 and rec.changes[0][1][0].available == 4
    assert rec.changes[1][1][0].available == 3
    assert rec.states[0] is True
    assert feed.version >= 6


def test_while_the_stream_is_down_the_feed_says_so_and_polls_since() -> None:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == "/v1/inventory/stream":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"inventory_version": 9,
                                         "ticket_types": [ticket_type(1, 2, 9)]})

    rec = Recorder()
    feed = InventoryFeed("https://x.test", ca_file=None, token=lambda: "tok",
                         on_changes=rec.on_changes, on_state=rec.on_state, since=3,
                         transport=httpx.MockTransport(handle), poll_interval=0.1,
                         backoff_base=0.05, backoff_cap=0.2)
    feed.start()
    try:
        rec.wait_for(lambda: rec.changes)
    finally:
        feed.stop()
    polls = [r for r in requests if r.url.path == "/v1/inventory"]
    assert polls and polls[0].url.params["since"] == "3"
    assert rec.states[0] is False  # the stream could not be opened
    assert rec.changes[0][0] == 9 and rec.changes[0][1][0].stock_level == "low"


def test_a_server_at_its_stream_cap_is_up_so_the_feed_polls_without_going_offline() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/inventory/stream":
            return httpx.Response(503, headers={"Retry-After": "5"}, json={
                "error": "server_busy", "message": "Too many live streams.",
                "limit": 500, "retry_after": 5})
        return httpx.Response(200, json={"inventory_version": 4,
                                         "ticket_types": [ticket_type(1, 5, 4)]})

    rec = Recorder()
    feed = InventoryFeed("https://x.test", ca_file=None, token=lambda: "tok",
                         on_changes=rec.on_changes, on_state=rec.on_state, since=1,
                         transport=httpx.MockTransport(handle), poll_interval=0.1,
                         backoff_base=0.05, backoff_cap=0.2)
    feed.start()
    try:
        rec.wait_for(lambda: rec.changes)
    finally:
        feed.stop()
    assert rec.changes[0][0] == 4
    assert False not in rec.states  # never shown offline: the server answered


def test_stop_returns_promptly_while_a_stream_is_open() -> None:
    opened = threading.Event()

    def endless() -> Any:
        yield b": hello\n\n"
        opened.set()
        while True:
            time.sleep(0.05)
            yield b": keepalive\n\n"

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"},
                              content=endless())

    rec = Recorder()
    feed = InventoryFeed("https://x.test", ca_file=None, token=lambda: "tok",
                         on_changes=rec.on_changes, on_state=rec.on_state,
                         transport=httpx.MockTransport(handle))
    feed.start()
    assert opened.wait(5)
    started = time.monotonic()
    feed.stop(timeout=3)
    assert time.monotonic() - started < 2
    assert not feed.running
