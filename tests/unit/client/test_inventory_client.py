from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pos_app.api.schemas import CashPayment, SaleCreate, SaleLineIn
from pos_app.client import (
    ApiError,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    IdempotencyKeyVoided,
    InsufficientInventory,
    InsufficientTender,
    InvalidRequest,
    InvalidResponse,
    InventoryClient,
    NotFound,
    NotPaired,
    NotSignedIn,
    OutcomeUnknown,
    RequestInProgress,
    ServerUnreachable,
    TlsVerificationFailed,
    TooManyAttempts,
    Unauthorized,
    sale_json,
)
from pos_app.client._http import tls_context
from tests.fakes import FakeInventoryServer

Handler = Callable[[httpx.Request], httpx.Response]
SALE = SaleCreate(lines=[SaleLineIn(ticket_type_id=1, quantity=2)],
                  payment=CashPayment(method="cash", tendered=5000))


def client_for(handler: Handler, **kwargs: object) -> InventoryClient:
    options: dict[str, object] = {"session_token": "sess-1", "terminal_token": "term-1"}
    options.update(kwargs)
    return InventoryClient("https://pos.test", ca_file=Path("unused.pem"),
                           transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)
    return handler


def raising(exc_type: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("boom", request=request)
    return handler


@pytest.mark.parametrize(("status", "code", "error_type"), [
    (401, "unauthorized", Unauthorized),
    (403, "forbidden", Forbidden),
    (404, "not_found", NotFound),
    (422, "invalid_request", InvalidRequest),
    (409, "insufficient_inventory", InsufficientInventory),
    (422, "insufficient_tender", InsufficientTender),
    (422, "idempotency_key_reused", IdempotencyKeyReused),
    (409, "idempotency_key_voided", IdempotencyKeyVoided),
    (409, "request_in_progress", RequestInProgress),
    (429, "too_many_attempts", TooManyAttempts),
    (409, "hold_expired", Conflict),
    (409, "shift_not_open", Conflict),
])
def test_each_error_code_maps_to_its_exception(status: int, code: str,
                                               error_type: type[ApiError]) -> None:
    client = client_for(answer(status, {"error": code, "message": "Nope."}))
    with pytest.raises(error_type) as caught:
        client.create_sale(SALE, idempotency_key="k1")
    assert type(caught.value) is error_type
    assert (caught.value.status, caught.value.code, caught.value.message) == (status, code, "Nope.")
    assert caught.value.body.error == code


def test_an_unknown_non_conflict_code_is_a_plain_api_error() -> None:
    client = client_for(answer(400, {"error": "brand_new_code", "message": "New."}))
    with pytest.raises(ApiError) as caught:
        client.health()
    assert type(caught.value) is ApiError and caught.value.code == "brand_new_code"


def test_an_error_without_a_contract_body_still_is_an_api_error() -> None:
    client = client_for(lambda request: httpx.Response(404, text="<html>nope</html>"))
    with pytest.raises(ApiError) as caught:
        client.get_sale(5)
    assert caught.value.status == 404 and caught.value.code == "http_404"


def test_insufficient_inventory_exposes_the_short_lines() -> None:
    body = {"error": "insufficient_inventory", "message": "Short.",
            "lines": [{"ticket_type_id": 1, "requested": 3, "available": 1}]}
    with pytest.raises(InsufficientInventory) as caught:
        client_for(answer(409, body)).create_sale(SALE, idempotency_key="k")
    assert [(ln.ticket_type_id, ln.requested, ln.available) for ln in caught.value.lines] == [
        (1, 3, 1)]


@pytest.mark.parametrize(("code", "status", "error_type"), [
    ("request_in_progress", 409, RequestInProgress), ("too_many_attempts", 429, TooManyAttempts)])
def test_retry_after_is_read_from_the_header(code: str, status: int,
                                              error_type: type[RequestInProgress]) -> None:
    client = client_for(answer(status, {"error": code, "message": "Wait."},
                               headers={"Retry-After": "30"}))
    with pytest.raises(error_type) as caught:
        client.create_session("alex", "1234")
    assert caught.value.retry_after == 30


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout,
                                      httpx.PoolTimeout])
def test_failures_before_the_request_is_written_mean_unreachable(
        exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(ServerUnreachable) as caught:
        client_for(raising(exc_type)).create_sale(SALE, idempotency_key="k")
    assert not isinstance(caught.value, OutcomeUnknown)
    assert not isinstance(caught.value, TlsVerificationFailed)


@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.ReadError, httpx.WriteTimeout,
                                      httpx.WriteError, httpx.RemoteProtocolError])
def test_failures_after_the_request_is_written_mean_outcome_unknown(
        exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(OutcomeUnknown) as caught:
        client_for(raising(exc_type)).create_sale(SALE, idempotency_key="k")
    assert not isinstance(caught.value, ServerUnreachable)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_mean_outcome_unknown(status: int) -> None:
    client = client_for(lambda request: httpx.Response(status, text="oops"))
    with pytest.raises(OutcomeUnknown) as caught:
        client.create_sale(SALE, idempotency_key="k")
    assert caught.value.status == status


def test_an_untrusted_certificate_is_reported_with_how_to_re_pair() -> None:
    server = FakeInventoryServer()
    server.failures.append("tls")
    client = InventoryClient("https://pos.test", ca_file=Path("ca.pem"),
                             transport=server.transport())
    with pytest.raises(TlsVerificationFailed) as caught:
        client.health()
    assert isinstance(caught.value, ServerUnreachable)
    assert "pos-app pair" in str(caught.value)


@pytest.mark.parametrize("payload", [b"not json", b'{"status": "ok"}', b"[]"])
def test_a_success_that_breaks_the_contract_is_an_invalid_response(payload: bytes) -> None:
    client = client_for(lambda request: httpx.Response(201, content=payload))
    with pytest.raises(InvalidResponse) as caught:
        client.create_sale(SALE, idempotency_key="k")
    assert isinstance(caught.value, OutcomeUnknown)


def test_create_sale_sends_the_key_the_session_token_and_the_journal_form_of_the_body() -> None:
    server = FakeInventoryServer()
    client = InventoryClient("https://pos.test", ca_file=Path("ca.pem"),
                             terminal_token=server.terminal_token, transport=server.transport())
    session = client.create_session("alex", "1234")
    client.set_session_token(session.token)
    sale = client.create_sale(SALE, idempotency_key="key-123")
    request = server.requests[-1]
    assert request.headers["Idempotency-Key"] == "key-123"
    assert request.headers["Authorization"] == f"Bearer {session.token}"
    assert json.loads(request.content) == sale_json(SALE)
    assert "hold_id" not in json.loads(request.content)
    assert sale.total == 5000 and len(sale.tickets) == 2
    assert client.get_sale(sale.number).id == sale.id


def test_sign_in_uses_the_terminal_token_not_the_session_token() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(401, json={"error": "unauthorized", "message": "No."})

    with pytest.raises(Unauthorized):
        client_for(handler).create_session("alex", "0000")
    assert seen == ["Bearer term-1"]


def test_calls_needing_a_token_fail_locally_without_one() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    client = client_for(handler, session_token=None, terminal_token=None)
    with pytest.raises(NotSignedIn):
        client.create_sale(SALE, idempotency_key="k")
    with pytest.raises(NotSignedIn):
        client.list_events()
    with pytest.raises(NotPaired):
        client.create_session("alex", "1234")
    assert calls == []


def test_list_events_is_conditional_and_returns_none_on_not_modified() -> None:
    server = FakeInventoryServer()
    client = InventoryClient("https://pos.test", ca_file=Path("ca.pem"),
                             terminal_token=server.terminal_token, transport=server.transport())
    client.set_session_token(client.create_session("alex", "1234").token)
    events, etag = client.list_events()
    assert events is not None and events.events[0].ticket_types[0].name == "GA"
    assert etag is not None
    again, same = client.list_events(etag=etag)
    assert again is None and same == etag
    assert server.requests[-1].headers["If-None-Match"] == etag


def test_delete_session_signs_out_on_the_server() -> None:
    server = FakeInventoryServer()
    client = InventoryClient("https://pos.test", ca_file=Path("ca.pem"),
                             terminal_token=server.terminal_token, transport=server.transport())
    client.set_session_token(client.create_session("alex", "1234").token)
    client.delete_session()
    with pytest.raises(Unauthorized):
        client.list_events()


def test_the_client_can_be_shared_by_worker_threads() -> None:
    server = FakeInventoryServer()
    client = InventoryClient("https://pos.test", ca_file=Path("ca.pem"),
                             transport=server.transport())
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert client.health().status == "ok"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(server.requests) == 160


def test_tls_trusts_only_the_pinned_ca_with_modern_tls_and_host_checks(ca_file: Path) -> None:
    context = tls_context(ca_file)
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("commonName", "unit test CA"),),)]


def test_a_closed_port_is_unreachable_over_real_tls(ca_file: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with InventoryClient(f"https://127.0.0.1:{port}", ca_file=ca_file, timeout=2) as client, \
            pytest.raises(ServerUnreachable):
        client.health()


def test_a_missing_ca_file_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        InventoryClient("https://pos.test", ca_file=tmp_path / "missing.pem")


def test_requests_that_carry_a_pin_wait_for_the_servers_pin_delay() -> None:
    """After repeated failures the server holds a username's next PIN up to
    ``pin_delay_cap`` before checking it (issue 16): a sign-in or a manager's approval must
    wait longer than that for its answer, or the till reports an unknown outcome; connecting
    and every other request keep the usual 10 s."""
    from pos_app.api.schemas import ManagerApproval, RefundCreate
    from pos_app.client._http import PIN_CHECK_TIMEOUT
    from pos_app.server.settings import ServerSettings

    seen: dict[str, dict[str, float | None]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[f"{request.method} {request.url.path}"] = request.extensions["timeout"]
        return httpx.Response(401, json={"error": "unauthorized", "message": "no"})

    longest = ServerSettings(database_url="sqlite://").pin_delay_cap.total_seconds()
    assert longest < PIN_CHECK_TIMEOUT
    client = client_for(handler)
    approval = ManagerApproval(username="morgan", pin="0000")
    for call in (lambda: client.create_session("alex", "1234"),
                 lambda: client.refund("7", RefundCreate(reason="ill", manager=approval),
                                       idempotency_key="r1"),
                 lambda: client.close_shift(3, 100, "short", idempotency_key="c1",
                                            manager=approval),
                 lambda: client.refund("8", RefundCreate(reason="ill"), idempotency_key="r2")):
        with pytest.raises(Unauthorized):
            call()
    for path in ("POST /v1/sessions", "POST /v1/sales/7/refunds", "POST /v1/shifts/3/close"):
        assert seen[path]["read"] == PIN_CHECK_TIMEOUT and seen[path]["connect"] == 10.0, path
    assert seen["POST /v1/sales/8/refunds"]["read"] == 10.0  # no PIN: the usual wait
