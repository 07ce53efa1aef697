"""Catalog parsing: local start times become UTC; bad documents say what is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from pos_app.server.admin import DEMO_CATALOG
from pos_app.server.catalog import parse_catalog


def _event(**changes: Any) -> dict[str, Any]:
    event = {"id": "gig", "name": "Gig", "venue": "Hall", "starts_at": "2026-01-25T09:00:00",
             "timezone": "America/Chicago", "currency": "USD",
             "ticket_types": [{"name": "GA", "price": 100, "capacity": 5}]}
    event.update(changes)
    return event


def test_local_start_time_is_converted_to_utc() -> None:
    event = parse_catalog({"events": [_event()]}).events[0]
    assert event.starts_at == datetime(2026, 1, 25, 15, 0, tzinfo=UTC)


def test_the_demo_catalog_parses_with_its_staff() -> None:
    catalog = parse_catalog(json.loads(DEMO_CATALOG.read_text(encoding="utf-8")))
    assert len(catalog.events) == 3
    assert {s.username for s in catalog.staff} == {"alex", "morgan"}


@pytest.mark.parametrize(("event", "message"), [
    (_event(timezone="Mars/Olympus"), "time zone"),
    (_event(starts_at="tomorrow"), "starts_at"),
    (_event(ticket_types=[]), "ticket_types"),
    (_event(ticket_types=[{"name": "GA", "price": -1, "capacity": 5}]), "price"),
    (_event(ticket_types=[{"name": "GA", "price": 1, "capacity": 5,
                           "thresholds": {"low": 1, "critical": 2}}]), "critical"),
    (_event(id="Bad Id"), "slug"),
])
def test_a_bad_catalog_is_a_value_error_naming_the_problem(event: dict[str, Any],
                                                           message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_catalog({"events": [event]})
