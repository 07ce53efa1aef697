"""The register's manager desk against a real server: capacity changes journaled with their
idempotency keys, bulk all-or-nothing, ticket type edits, alerts, audit pages and shifts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.api.schemas import ThresholdsIn, TicketType, TicketTypePatch
from pos_app.client import Forbidden, pair_terminal
from pos_app.journal import EntryState, Register, open_register
from tests.support.live_server import LiveServer


@pytest.fixture
def register(live_server: LiveServer, pos_home: Path) -> Iterator[Register]:
    code = live_server.add_terminal("Manager desk")
    pair_terminal(live_server.base_url, code, ca_file=live_server.ca_file)
    with open_register() as reg:
        yield reg


def _types(register: Register, event_id: str) -> list[TicketType]:
    register.events()
    return list(register.event(event_id).ticket_types)


def test_capacity_change_is_journaled_and_audited(live_server: LiveServer,
                                                  register: Register) -> None:
    event_id = live_server.small_event(capacity=5, types=("GA", "VIP"))
    register.sign_in("morgan", "2468")
    ga, vip = _types(register, event_id)

    outcome = register.manager.change_capacity(ga.id, 3, "Balcony opened")
    assert outcome.state is EntryState.CONFIRMED
    assert [t.capacity for t in outcome.ticket_types] == [8]
    assert outcome.message == "Capacity of GA is now 8."
    entry = register.journal.get(outcome.key)
    assert entry is not None and entry.operation == "capacity_change"
    assert entry.reference == f"ticket type {ga.id}"

    refused = register.manager.change_capacity(vip.id, -6, "Stage moved")
    assert refused.state is EntryState.REFUSED
    assert refused.error is not None and refused.error.error == "capacity_below_committed"
    assert "below the tickets already sold" in refused.message

    # All or nothing: the VIP decrease is refused, so the GA increase does not happen.
    bulk = register.manager.bulk_capacity([(ga.id, 2), (vip.id, -6)], "Re-plan")
    assert bulk.state is EntryState.REFUSED
    assert [t.capacity for t in _types(register, event_id)] == [8, 5]
    bulk = register.manager.bulk_capacity([(ga.id, 2), (vip.id, -1)], "Re-plan")
    assert bulk.state is EntryState.CONFIRMED
    assert [t.capacity for t in bulk.ticket_types] == [10, 4]
    assert bulk.message == "Capacity changed for 2 ticket types."

    page = register.manager.audit_page({"ticket_type_id": ga.id}, limit=10)
    actions = [(e.action, e.reason) for e in page.entries]
    assert actions[:2] == [("capacity_increase", "Re-plan"),
                           ("capacity_increase", "Balcony opened")]
    assert register.manager.verify_audit().ok


def test_edits_alerts_and_shifts(live_server: LiveServer, register: Register) -> None:
    event_id = live_server.small_event(capacity=5)
    register.sign_in("morgan", "2468")
    (ga,) = _types(register, event_id)
    outcome = register.manager.update_ticket_type(
        ga.id, TicketTypePatch(public_limit=3, thresholds=ThresholdsIn(low=3, critical=1)))
    assert outcome.state is EntryState.CONFIRMED, outcome.message
    (edited,) = outcome.ticket_types
    assert (edited.public_limit, edited.thresholds.low) == (3, 3)
    assert outcome.message == "GA saved."

    before = register.manager.alerts().alerts
    since = before[-1].seq if before else None
    register.manager.change_capacity(ga.id, -4, "Fire marshal")  # 1 left: crosses 2 and 1
    fresh = register.manager.alerts(since=since).alerts
    assert [(a.ticket_type_id, a.available) for a in fresh][-2:] == [(ga.id, 1), (ga.id, 1)]

    opened = register.open_shift(10_000)
    assert opened.shift is not None
    listed = register.manager.shifts(terminal_id="me", status="open")
    assert [s.id for s in listed.shifts] == [opened.shift.id]
    assert register.manager.shift(opened.shift.id).opening_float == 10_000


def test_cashier_is_refused_capacity(live_server: LiveServer, register: Register) -> None:
    event_id = live_server.small_event(capacity=5)
    register.sign_in("alex", "1234")
    (ga,) = _types(register, event_id)
    outcome = register.manager.change_capacity(ga.id, 1, "Try")
    assert outcome.state is EntryState.REFUSED
    assert outcome.message == "Only a manager can change capacity."
    with pytest.raises(Forbidden):
        register.manager.audit_page()
    with pytest.raises(ValueError):
        register.manager.change_capacity(ga.id, 0, "nothing")
