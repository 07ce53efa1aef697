"""The dashboard's security alerts: hidden while there are none, then naming each burst of
failed PINs newest first in the venue's time, each alert once however often it is read. The
dashboard showing them over the live inventory is in ``test_dashboard.py``; the server raising
them, as an attack, in ``tests/security/test_approval_pins.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pytestqt.qtbot import QtBot

from pos_app.api.schemas import SecurityAlertOut
from pos_app.gui.manager.dashboard.dashboard_security import (
    SecurityAlertsModel,
    SecurityAlertsPanel,
    security_alert_text,
)

CHICAGO = ZoneInfo("America/Chicago")


def _alert(seq: int, minute: int, who: str = "morgan") -> SecurityAlertOut:
    return SecurityAlertOut(
        seq=seq, at=datetime(2026, 3, 15, 2, minute, tzinfo=UTC), terminal_id=2,
        reason=f"5 failed PINs for {who!r} within 15 minutes (latest: approval from "
               "10.0.0.2)")


def test_alerts_are_listed_newest_first_once_each_in_the_venues_time(
        qtbot: QtBot, qtmodeltester: Any) -> None:
    model = SecurityAlertsModel(zone=CHICAGO)
    panel = SecurityAlertsPanel(model)
    qtbot.addWidget(panel)
    assert panel.isHidden() and model.last_seq is None

    assert [a.seq for a in model.add([_alert(40, 5), _alert(12, 1, "alex")])] == [12, 40]
    assert model.add([_alert(40, 5)]) == []  # read again: not repeated
    qtmodeltester.check(model)
    assert model.last_seq == 40
    assert [model.index(r).data() for r in range(model.rowCount())] == [
        "21:05  5 failed PINs for 'morgan' within 15 minutes (latest: approval from 10.0.0.2)",
        "21:01  5 failed PINs for 'alex' within 15 minutes (latest: approval from 10.0.0.2)"]
    assert not panel.isHidden()
    assert panel.heading.text() == ("Security alerts (2): repeated wrong PINs. The audit log "
                                    "has each attempt.")
    assert security_alert_text(_alert(1, 7), CHICAGO).startswith("21:07  ")
