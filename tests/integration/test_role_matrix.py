"""Over real HTTPS (``pos-app serve --demo``): every mutating endpoint x every kind of
caller (anonymous, an expired session token, cashier, manager, admin, the online channel's
token) gets the contract's status (``shared/API.md``, Identity). Each refusal changes
nothing (inventory, holds, shifts, the audit log apart from one ``denied`` entry with the
reason, and the idempotency key is not stored); each allowed call succeeds.

The table is checked against the app's routes, so a new POST/PATCH/DELETE under ``/v1``
fails here until it is given a row. Pairing and sign-in take no session and are covered by
their own test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from pos_app.server.app import create_app
from pos_app.server.settings import ServerSettings
from tests.support.api import new_key, staff_client
from tests.support.live_server import LiveServer

PRINCIPALS = ("anonymous", "expired", "cashier", "channel", "manager", "admin")
"""In the order they are exercised: the anonymous caller's keys are retried by the
manager, who must see them executed (never stored by the refusal)."""

ANON_WHY = "no credentials"
EXPIRED_WHY = "session expired"
ROLE_WHY = "needs the manager role"
CHANNEL_WHY = "a channel token may only hold and sell"
REFUND_WHY = "A cashier needs a manager's username and PIN to refund."
SPECIAL = {("POST", "/v1/terminals/pair"), ("POST", "/v1/sessions")}


def _row(cashier: int | str, manager: int, channel: int | str) -> dict[str, int | str]:
    """Expected outcome per principal: a status, or for a refusal ``"403:<why>"``."""
    return {"anonymous": f"401:{ANON_WHY}", "expired": f"401:{EXPIRED_WHY}",
            "cashier": cashier, "manager": manager, "admin": manager, "channel": channel}


CH403 = f"403:{CHANNEL_WHY}"
MGR403 = f"403:{ROLE_WHY}"

# (method, route) -> expected outcome per principal. Rows run in this order for each
# principal, so an allowed call can use what an earlier one made (a shift, a hold, a sale).
MATRIX: dict[tuple[str, str], dict[str, int | str]] = {
    ("POST", "/v1/shifts"): _row(201, 201, CH403),
    ("POST", "/v1/shifts/{shift_id}/cash-movements"): _row(201, 201, CH403),
    ("POST", "/v1/holds"): _row(201, 201, 201),
    ("POST", "/v1/holds/{ref}/release"): _row(200, 200, 200),
    ("POST", "/v1/sales"): _row(201, 201, 201),
    ("POST", "/v1/sales/{ref}/refunds"): _row(f"403:{REFUND_WHY}", 201, CH403),
    ("POST", "/v1/ticket-types/{ticket_type_id}/capacity"): _row(MGR403, 200, CH403),
    ("POST", "/v1/capacity/bulk"): _row(MGR403, 200, CH403),
    ("PATCH", "/v1/ticket-types/{ticket_type_id}"): _row(MGR403, 200, CH403),
    ("POST", "/v1/terminals"): _row(MGR403, 201, CH403),
    ("POST", "/v1/idempotency-keys/{key:path}/void"): _row(200, 200, 200),
    ("POST", "/v1/shifts/{shift_id}/close"): _row(200, 200, CH403),
    ("DELETE", "/v1/sessions/current"): _row(204, 204, CH403),
}


def _mutating_routes(data_dir: Path) -> set[tuple[str, str]]:
    app = create_app(ServerSettings(database_url=f"sqlite:///{data_dir / 'never-opened.db'}"))
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        for method in route.methods or ():
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                found.add((method, path))
    return found


def test_the_matrix_covers_every_mutating_route(tmp_path: Path) -> None:
    routes = _mutating_routes(tmp_path)
    assert all(path.startswith("/v1/") for _, path in routes), routes
    missing = routes - set(MATRIX) - SPECIAL
    assert not missing, f"mutating routes without a row in the role matrix: {sorted(missing)}"
    assert set(MATRIX) | SPECIAL <= routes, "rows for routes that no longer exist"


# --- callers ----------------------------------------------------------------------------------


def _http(server: LiveServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.base_url, verify=server.tls_context(),
                        headers=headers, timeout=30)


@dataclass
class Caller:
    """One principal: its client and what its allowed calls made."""

    name: str
    http: httpx.Client
    terminal_token: str | None = None
    terminal_id: int | None = None
    staff_id: int | None = None
    channel: str | None = None
    shift_id: int | None = None
    hold_id: str | None = None
    sale_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _staff(server: LiveServer, name: str, username: str, pin: str, *,
           open_shift: bool = False) -> Caller:
    client = staff_client(server, username, pin, open_shift=open_shift)
    return Caller(name, client.http, terminal_token=client.terminal_token,
                  terminal_id=client.terminal_id, staff_id=client.staff["id"],
                  channel="box_office", shift_id=client.shift_id)


def _sign_in(server: LiveServer, terminal_token: str, username: str, pin: str) -> httpx.Client:
    http = _http(server, terminal_token)
    signed = http.post("/v1/sessions", json={"username": username, "pin": pin})
    assert signed.status_code == 201, signed.text
    http.headers["Authorization"] = f"Bearer {signed.json()['token']}"
    return http


@dataclass
class World:
    server: LiveServer
    auditor: Caller  # a manager with an open shift, a hold and a sale ("someone else's")
    ticket_type_id: int
    event_id: str
    checkers: dict[str, httpx.Client] = field(default_factory=dict)

    def checker(self, terminal_token: str) -> httpx.Client:
        """A manager signed in at the terminal of ``terminal_token`` (same key scope)."""
        if terminal_token not in self.checkers:
            self.checkers[terminal_token] = _sign_in(self.server, terminal_token,
                                                     "morgan", "2468")
        return self.checkers[terminal_token]

    def snapshot(self, caller: Caller) -> dict[str, Any]:
        """What a refusal must not change."""
        http = self.auditor.http
        events = http.get("/v1/events").json()["events"]
        event = next(e for e in events if e["id"] == self.event_id)
        shifts = {}
        for terminal_id in {self.auditor.terminal_id, caller.terminal_id} - {None}:
            listed = http.get("/v1/shifts", params={"terminal_id": str(terminal_id)}).json()
            shifts[terminal_id] = listed["shifts"]
        holds = http.get("/v1/holds", params={"limit": 20}).json()["holds"]
        return {"ticket_types": event["ticket_types"], "shifts": shifts,
                "holds": [h["id"] for h in holds]}

    def last_seq(self) -> int:
        page = self.auditor.http.get("/v1/audit", params={"order": "desc", "limit": 1})
        entries = page.json()["entries"]
        return int(entries[0]["seq"]) if entries else 0

    def entries_after(self, seq: int) -> list[dict[str, Any]]:
        page = self.auditor.http.get("/v1/audit", params={"order": "desc", "limit": 50})
        return [e for e in page.json()["entries"]
                if e["seq"] > seq and e["action"] not in ("expire", "stock_alert")]


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> Iterator[World]:
    event_id = live_server.small_event(capacity=100)
    auditor = _staff(live_server, "auditor", "morgan", "2468")
    world = World(live_server, auditor, ticket_type_id=0, event_id=event_id)
    events = auditor.http.get("/v1/events").json()["events"]
    world.ticket_type_id = next(e for e in events if e["id"] == event_id)["ticket_types"][0]["id"]
    tt = world.ticket_type_id
    opened = auditor.http.post("/v1/shifts", json={"opening_float": 1000},
                               headers={"Idempotency-Key": new_key()})
    assert opened.status_code == 201, opened.text
    auditor.shift_id = opened.json()["id"]
    held = auditor.http.post("/v1/holds", json={
        "kind": "cash", "lines": [{"ticket_type_id": tt, "quantity": 1}],
        "customer": {"name": "Someone Else"}}, headers={"Idempotency-Key": new_key()})
    assert held.status_code == 201, held.text
    auditor.hold_id = held.json()["id"]
    sold = auditor.http.post("/v1/sales", json={
        "lines": [{"ticket_type_id": tt, "quantity": 1}],
        "payment": {"method": "cash", "tendered": 2500}}, headers={"Idempotency-Key": new_key()})
    assert sold.status_code == 201, sold.text
    auditor.sale_id = sold.json()["id"]
    yield world
    for http in world.checkers.values():
        http.close()
    auditor.http.close()


def _callers(world: World) -> dict[str, Caller]:
    server = world.server
    admin_name = f"root-{uuid.uuid4().hex[:6]}"
    server.add_staff(admin_name, role="admin", pin="97531")
    channel_token = server.add_channel_token("online", "Matrix shop")
    expired = _staff(server, "expired", "alex", "1234")
    assert expired.http.delete("/v1/sessions/current").status_code == 204
    return {
        "anonymous": Caller("anonymous", _http(server)),
        "expired": expired,
        "cashier": _staff(server, "cashier", "alex", "1234"),
        "channel": Caller("channel", _http(server, channel_token), channel="online"),
        "manager": _staff(server, "manager", "morgan", "2468"),
        "admin": _staff(server, "admin", admin_name, "97531"),
    }


# --- requests ---------------------------------------------------------------------------------

Request = tuple[str, dict[str, Any] | None]  # url, JSON body (None: no body)


def _request(route: tuple[str, str], caller: Caller, world: World, allowed: bool) -> Request:
    """A valid request for ``route``: an allowed caller acts on what it made itself, a
    refused one on the auditor's (someone else's) shift, hold and sale."""
    tt = world.ticket_type_id
    own = caller if allowed else world.auditor
    line = [{"ticket_type_id": tt, "quantity": 1}]
    path = route[1]
    if path == "/v1/shifts":
        return path, {"opening_float": 1000}
    if path == "/v1/shifts/{shift_id}/cash-movements":
        return (f"/v1/shifts/{own.shift_id}/cash-movements",
                {"kind": "pay_in", "amount": 500, "reason": "role matrix"})
    if path == "/v1/shifts/{shift_id}/close":
        # Counted 0 is beyond the variance threshold: a manager's PIN approves it.
        return f"/v1/shifts/{own.shift_id}/close", {
            "counted_cash": 0, "note": "role matrix",
            "manager": {"username": "morgan", "pin": "2468"}}
    if path == "/v1/holds":
        return path, {"kind": "checkout", "lines": line}
    if path == "/v1/holds/{ref}/release":
        return f"/v1/holds/{own.hold_id}/release", {"reason": "role matrix"}
    if path == "/v1/sales":
        payment: dict[str, Any] = (
            {"method": "external", "reference": f"web-{uuid.uuid4().hex[:8]}"}
            if caller.name == "channel" else {"method": "cash", "tendered": 2500})
        return path, {"lines": line, "payment": payment}
    if path == "/v1/sales/{ref}/refunds":
        # a cashier is refused even on its own sale without a manager's PIN
        sale = caller.sale_id if caller.name == "cashier" else own.sale_id
        return f"/v1/sales/{sale}/refunds", {"reason": "role matrix"}
    if path == "/v1/ticket-types/{ticket_type_id}/capacity":
        return f"/v1/ticket-types/{tt}/capacity", {"delta": 1, "reason": "role matrix"}
    if path == "/v1/capacity/bulk":
        return path, {"changes": [{"ticket_type_id": tt, "delta": 1}], "reason": "role matrix"}
    if path == "/v1/ticket-types/{ticket_type_id}":
        return f"/v1/ticket-types/{tt}", {"alert_ladder": [2, 1, 0], "reason": "role matrix"}
    if path == "/v1/terminals":
        return path, {"name": f"matrix-{uuid.uuid4().hex[:6]}"}
    if path == "/v1/idempotency-keys/{key:path}/void":
        return f"/v1/idempotency-keys/{new_key()}/void", None
    if path == "/v1/sessions/current":
        return path, None
    raise AssertionError(f"no request for {route}")


def _remember(route: tuple[str, str], caller: Caller, body: dict[str, Any]) -> None:
    path = route[1]
    if path == "/v1/shifts":
        caller.shift_id = body["id"]
    elif path == "/v1/holds":
        caller.hold_id = body["id"]
    elif path == "/v1/sales":
        caller.sale_id = body["id"]


def _key_of(url: str, key: str) -> str:
    """The key a request would have stored: the header's, or the void route's path key."""
    if url.startswith("/v1/idempotency-keys/"):
        return url.removeprefix("/v1/idempotency-keys/").removesuffix("/void")
    return key


def _check_refusal(world: World, caller: Caller, route: tuple[str, str], url: str,
                   key: str, expected: str,
                   send: Callable[[], httpx.Response]) -> None:
    status, why = expected.split(":", 1)
    before, seq = world.snapshot(caller), world.last_seq()
    answer = send()
    label = f"{caller.name} {route[0]} {route[1]}"
    assert answer.status_code == int(status), f"{label}: {answer.status_code} {answer.text}"
    assert answer.json()["error"] == ("unauthorized" if status == "401" else "forbidden"), label
    # no effect: inventory, shifts, holds, and the audit log has only the denial
    assert world.snapshot(caller) == before, label
    new = world.entries_after(seq)
    assert [e["action"] for e in new] == ["denied"], f"{label}: {new}"
    entry = new[0]
    assert entry["reason"] == f"{route[0]} {url}: {why}", label
    actor = entry["actor"]
    if caller.name == "anonymous":
        assert actor == {"staff_id": None, "terminal_id": None, "channel": None}, label
    else:
        assert (actor["staff_id"], actor["terminal_id"], actor["channel"]) == (
            caller.staff_id, caller.terminal_id, caller.channel), label
    for secret in (caller.http.headers.get("Authorization", "").removeprefix("Bearer "),
                   caller.terminal_token):
        if secret:
            assert secret not in str(entry), label
    # the key was not stored (anonymous: the manager reuses it later and it executes)
    stored_key = _key_of(url, key)
    if caller.name == "channel":
        scope_http = caller.http
    elif caller.terminal_token is not None:
        scope_http = world.checker(caller.terminal_token)
    else:
        return
    looked = scope_http.get(f"/v1/idempotency-keys/{stored_key}")
    assert looked.status_code == 404, f"{label}: {looked.text}"


def test_every_mutating_endpoint_answers_each_principal_per_contract(world: World) -> None:
    callers = _callers(world)
    anonymous_keys: dict[tuple[str, str], str] = {}
    seen: dict[str, dict[str, int]] = {}
    try:
        for name in PRINCIPALS:
            caller = callers[name]
            for route, outcomes in MATRIX.items():
                expected = outcomes[name]
                allowed = isinstance(expected, int)
                url, body = _request(route, caller, world, allowed)
                key = new_key()
                if name == "manager" and route in anonymous_keys:
                    key = anonymous_keys[route]
                    if route[1].startswith("/v1/idempotency-keys/"):
                        url = f"/v1/idempotency-keys/{key}/void"

                def send(url: str = url, body: dict[str, Any] | None = body,
                         key: str = key, method: str = route[0],
                         http: httpx.Client = caller.http) -> httpx.Response:
                    return http.request(
                        method, url, json=body, headers={"Idempotency-Key": key})

                if allowed:
                    answer = send()
                    assert answer.status_code == expected, \
                        f"{name} {route}: {answer.status_code} {answer.text}"
                    assert "Idempotent-Replayed" not in answer.headers, (name, route)
                    if route[1].startswith("/v1/idempotency-keys/"):
                        assert answer.json()["status"] == "voided", (name, answer.text)
                    if answer.content:
                        _remember(route, caller, answer.json())
                else:
                    assert isinstance(expected, str)
                    if name == "anonymous":
                        anonymous_keys[route] = _key_of(url, key)
                    _check_refusal(world, caller, route, url, key, expected, send)
                seen.setdefault(f"{route[0]} {route[1]}", {})[name] = (
                    int(expected) if allowed else int(str(expected)[:3]))
        _other_terminal_refusals(world)
    finally:
        for caller in callers.values():
            caller.http.close()
    assert len(seen) == len(MATRIX)


def _other_terminal_refusals(world: World) -> None:
    """A cashier may not release another terminal's hold or touch its shift; with a
    manager's PIN in the body a cashier's refund goes through."""
    cashier = _staff(world.server, "cashier", "alex", "1234", open_shift=True)
    try:
        auditor = world.auditor
        cases = [
            (("POST", "/v1/holds/{ref}/release"), f"/v1/holds/{auditor.hold_id}/release",
             {"reason": "not mine"},
             "403:A cashier may release only the holds of this terminal; ask a manager."),
            (("POST", "/v1/shifts/{shift_id}/cash-movements"),
             f"/v1/shifts/{auditor.shift_id}/cash-movements",
             {"kind": "drop", "amount": 100, "reason": "not mine"},
             "403:A cashier may only work with the shift of their own terminal."),
            (("POST", "/v1/shifts/{shift_id}/close"), f"/v1/shifts/{auditor.shift_id}/close",
             {"counted_cash": 0}, "403:A cashier may only work with the shift of their own "
                                  "terminal."),
        ]
        for route, url, body, expected in cases:
            key = new_key()

            def send(url: str = url, body: dict[str, Any] = body,
                     key: str = key) -> httpx.Response:
                return cashier.http.post(url, json=body, headers={"Idempotency-Key": key})

            _check_refusal(world, cashier, route, url, key, expected, send)
        _refused_approval(world, cashier)
        refund = cashier.http.post(
            f"/v1/sales/{auditor.sale_id}/refunds",
            json={"reason": "approved", "manager": {"username": "morgan", "pin": "2468"}},
            headers={"Idempotency-Key": new_key()})
        assert refund.status_code == 201, refund.text
        assert refund.json()["approved_by"] != cashier.staff_id
    finally:
        cashier.http.close()


def test_pairing_and_sign_in_refusals_are_audited_once(world: World) -> None:
    server = world.server
    with _http(server) as anonymous:
        seq = world.last_seq()
        bad = anonymous.post("/v1/terminals/pair", json={"pairing_code": "ZZZZ-ZZZZ"})
        assert (bad.status_code, bad.json()["error"]) == (401, "unauthorized")
        new = world.entries_after(seq)
        assert [(e["action"], e["reason"]) for e in new] == [
            ("denied", "POST /v1/terminals/pair: pairing code not valid")]
        paired = anonymous.post("/v1/terminals/pair",
                                json={"pairing_code": server.add_terminal()})
        assert paired.status_code == 201, paired.text
        terminal_token = paired.json()["terminal_token"]
        # sign-in without a terminal token: denied (no login was attempted)
        seq = world.last_seq()
        no_terminal = anonymous.post("/v1/sessions", json={"username": "alex", "pin": "1234"})
        assert (no_terminal.status_code, no_terminal.json()["error"]) == (401, "unauthorized")
        assert [(e["action"], e["reason"]) for e in world.entries_after(seq)] == [
            ("denied", "POST /v1/sessions: no credentials")]
    with _http(server, terminal_token) as terminal:
        # a wrong PIN at a paired terminal is login_failed only, never also denied
        seq = world.last_seq()
        wrong = terminal.post("/v1/sessions",
                              json={"username": f"nobody-{uuid.uuid4().hex[:6]}", "pin": "1111"})
        assert wrong.status_code == 401
        assert [e["action"] for e in world.entries_after(seq)] == ["login_failed"]
        seq = world.last_seq()
        ok = terminal.post("/v1/sessions", json={"username": "alex", "pin": "1234"})
        assert ok.status_code == 201, ok.text
        assert [e["action"] for e in world.entries_after(seq)] == ["login"]


def _refused_approval(world: World, cashier: Caller) -> None:
    """A wrong manager PIN: 403 ``approval_refused`` (the same answer for every reason), no
    effect, one ``approval_failed`` audit entry naming the cause, and the key not stored."""
    url = f"/v1/sales/{world.auditor.sale_id}/refunds"
    key = new_key()
    before, seq = world.snapshot(cashier), world.last_seq()
    answer = cashier.http.post(url, json={
        "reason": "wrong PIN", "manager": {"username": "morgan", "pin": "0000"}},
        headers={"Idempotency-Key": key})
    assert (answer.status_code, answer.json()["error"]) == (403, "approval_refused"), answer.text
    assert world.snapshot(cashier) == before
    # Other tests of this session's server failed morgan's PIN too: a burst alert may come
    # with this refusal, which is the alert's own business (tests/security).
    new = [e for e in world.entries_after(seq) if e["action"] != "security_alert"]
    assert [(e["action"], e["reason"]) for e in new] == [
        ("approval_failed", "refund approval refused: wrong PIN for 'morgan'")], new
    assert (new[0]["actor"]["staff_id"], new[0]["actor"]["terminal_id"]) == (
        cashier.staff_id, cashier.terminal_id)
    assert cashier.terminal_token is not None
    looked = world.checker(cashier.terminal_token).get(f"/v1/idempotency-keys/{key}")
    assert looked.status_code == 404, looked.text


# --- read scopes (issue 16; docs/api.md, Scopes) -----------------------------------------------

BLIND = ("opening_float", "sales", "refunds", "pay_ins", "pay_outs", "drops", "ticket_types",
         "cash_movements")


def test_reads_are_scoped_per_principal(world: World) -> None:
    """Someone else's (the auditor's, at another terminal) sale, shift and holds as each
    caller reads them: by number only a manager; by id also another till's cashier; never
    a channel token. A cashier's own open shift is blind; a manager's read is whole."""
    server, auditor = world.server, world.auditor
    channel = _http(server, server.add_channel_token("online", "Scope shop"))
    cashier = _staff(server, "cashier", "alex", "1234", open_shift=True)
    manager = _staff(server, "manager", "morgan", "2468")
    basket = auditor.http.post("/v1/holds", json={
        "kind": "checkout", "lines": [{"ticket_type_id": world.ticket_type_id, "quantity": 1}]},
        headers={"Idempotency-Key": new_key()})
    assert basket.status_code == 201, basket.text
    try:
        sale = auditor.http.get(f"/v1/sales/{auditor.sale_id}").json()
        reads: dict[str, tuple[int, int, int]] = {  # url -> (cashier, manager, channel)
            f"/v1/sales/{sale['number']}": (404, 200, 404),
            f"/v1/sales/{sale['id']}": (200, 200, 404),
            f"/v1/sales/{sale['tickets'][0]['code']}": (200, 200, 404),
            f"/v1/shifts/{auditor.shift_id}": (403, 200, 403),
            f"/v1/holds/{auditor.hold_id}": (200, 200, 404),  # a cash hold
            f"/v1/holds/{basket.json()['id']}": (404, 200, 404),  # a checkout hold
        }
        for url, expected in reads.items():
            got = (cashier.http.get(url).status_code, manager.http.get(url).status_code,
                   channel.get(url).status_code)
            assert got == expected, url
        others = {"shift_id": str(auditor.shift_id)}
        assert cashier.http.get("/v1/sales", params=others).json()["sales"] == []
        assert channel.get("/v1/sales", params=others).json()["sales"] == []
        assert manager.http.get("/v1/sales", params=others).json()["sales"] != []
        own = cashier.http.get(f"/v1/shifts/{cashier.shift_id}").json()
        assert own["blind"] is True and all(own[f] is None for f in BLIND), own
        whole = manager.http.get(f"/v1/shifts/{cashier.shift_id}").json()
        assert whole["blind"] is False and whole["opening_float"] == 20_000, whole
    finally:
        for http in (channel, cashier.http, manager.http):
            http.close()
