"""The manager's live inventory dashboard against a real server: counts follow a sale made at
another register through the live feed, the needs-attention order, alerts as rungs are
crossed, the channel split of box office and online, and the chart's lines per channel.

Polling is switched off (10-minute timers) in these tests, so what changes after start-up
came through the live feed. Refreshes ``docs/screenshots/dashboard.png`` from a server with
three days of backdated sales (:func:`fill_history`).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import (
    SalesReport,
    SecurityAlertOut,
    SecurityAlertsResponse,
    StockAlertOut,
    TicketType,
)
from pos_app.client import pair_terminal
from pos_app.domain.clock import FixedClock
from pos_app.domain.inventory import StockLevel
from pos_app.gui.app import feed_factory_for
from pos_app.gui.core.freshness import STALE_BADGE_COLOUR, STALE_NUMBER_COLOUR
from pos_app.gui.core.live_inventory import LiveInventory
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.manager.dashboard.dashboard import Dashboard
from pos_app.gui.manager.dashboard.dashboard_alerts import alert_text
from pos_app.gui.manager.dashboard.dashboard_model import (
    LEVEL_RANK,
    ROW_ROLE,
    DashboardModel,
    DashboardRow,
    attention_key,
)
from pos_app.gui.manager.dashboard.sales_chart import cumulative_points
from pos_app.journal import Register, open_register
from tests.gui.helpers import unnamed_controls
from tests.support.api import new_key, staff_client, ticket_type
from tests.support.live_server import ROOT, LiveServer, free_port

SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"
NEVER = 600_000  # ms: a timer that does not fire during a test

OpenDashboard = Callable[..., Dashboard]


@pytest.fixture
def open_dashboard(qtbot: QtBot, styled_app: object) -> Iterator[OpenDashboard]:
    """``open_dashboard(register)``: sign the register in as the manager and show its
    dashboard at 1280x800, following the live feed (started at the version the register
    read), with polling off; it returns once the first reports are in. ``live=False`` leaves
    the live feed out and polls every ``poll_ms``; ``username`` / ``pin`` sign in someone
    else (then it returns at once)."""
    opened: list[tuple[Dashboard, LiveInventory | None, TaskRunner]] = []

    def open_(register: Register, *, live: bool = True, poll_ms: int = NEVER,
              username: str = "morgan", pin: str = "2468") -> Dashboard:
        register.sign_in(username, pin)
        feed: LiveInventory | None = None
        if live:
            factory = feed_factory_for(register)
            assert factory is not None
            feed = LiveInventory(factory)
        runner = TaskRunner()
        dashboard = Dashboard(register, runner, live=feed, poll_interval_ms=poll_ms,
                              report_interval_ms=NEVER, alerts_interval_ms=NEVER)
        qtbot.addWidget(dashboard)
        dashboard.resize(1280, 800)
        dashboard.show()
        opened.append((dashboard, feed, runner))
        if feed is not None:
            feed.start(register.events().inventory_version)
            qtbot.waitUntil(lambda: feed.connected is True, timeout=10_000)
        if username != "morgan":
            dashboard.start()
            return dashboard
        with qtbot.waitSignal(dashboard.reports_loaded, timeout=30_000):
            dashboard.start()
        return dashboard

    yield open_
    for dashboard, feed, runner in opened:
        dashboard.stop()
        if feed is not None:
            feed.stop()
        runner.wait_idle()


def rows(dashboard: Dashboard) -> list[DashboardRow]:
    """The table's rows in the order shown."""
    proxy = dashboard.proxy
    return [proxy.index(r, 0).data(ROW_ROLE) for r in range(proxy.rowCount())]


def cells(dashboard: Dashboard, ticket_type_id: int) -> dict[str, str]:
    """What the table shows for a ticket type, by column title."""
    proxy = dashboard.proxy
    for r in range(proxy.rowCount()):
        if proxy.index(r, 0).data(ROW_ROLE).ticket_type.id == ticket_type_id:
            return {title: str(proxy.index(r, c).data())
                    for c, title in enumerate(DashboardModel.COLUMNS)}
    raise AssertionError(f"ticket type {ticket_type_id} is not shown")


def online_channel(server: LiveServer) -> httpx.Client:
    token = server.add_channel_token("online", "Dashboard shop")
    return httpx.Client(base_url=server.base_url, verify=server.tls_context(),
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def sell_online(shop: httpx.Client, ticket_type_id: int, quantity: int) -> None:
    response = shop.post("/v1/sales", headers={"Idempotency-Key": new_key()}, json={
        "lines": [{"ticket_type_id": ticket_type_id, "quantity": quantity}],
        "payment": {"method": "external", "reference": f"web-{uuid.uuid4().hex[:8]}"}})
    assert response.status_code == 201, response.text


def test_counts_follow_a_sale_at_another_register_live(
        qtbot: QtBot, qtmodeltester: Any, live_server: LiveServer, register: Register,
        open_dashboard: OpenDashboard) -> None:
    event_id = live_server.small_event(capacity=10, types=("GA", "VIP"))
    ga = ticket_type(live_server, event_id, "GA")["id"]
    dashboard = open_dashboard(register)
    qtmodeltester.check(dashboard.model)
    qtmodeltester.check(dashboard.proxy)
    assert cells(dashboard, ga)["Sold"] == "0"

    other = staff_client(live_server)
    try:
        assert other.sell({ga: 3}).status_code == 201
    finally:
        other.close()
    qtbot.waitUntil(lambda: cells(dashboard, ga)["Sold"] == "3", timeout=5_000)

    server = ticket_type(live_server, event_id, "GA")
    shown = cells(dashboard, ga)
    assert shown["Capacity"] == str(server["capacity"])
    assert shown["Public limit"] == str(server["public_limit"])
    assert (shown["Sold"], shown["Held"]) == (str(server["sold"]), str(server["held"]))
    assert shown["Available"] == str(server["available"]) == "7"
    assert shown["Online avail."] == str(server["public_available"])
    assert shown["Stock level"] == "In stock"
    assert "live" in dashboard.updated_label.text()
    qtmodeltester.check(dashboard.proxy)


def test_without_the_live_feed_the_counts_are_polled(
        qtbot: QtBot, live_server: LiveServer, register: Register,
        open_dashboard: OpenDashboard) -> None:
    event_id = live_server.small_event(capacity=10)
    ga = ticket_type(live_server, event_id)["id"]
    dashboard = open_dashboard(register, live=False, poll_ms=300)
    assert "checked every" in dashboard.updated_label.text()
    other = staff_client(live_server)
    try:
        assert other.sell({ga: 4}).status_code == 201
    finally:
        other.close()
    qtbot.waitUntil(lambda: cells(dashboard, ga)["Available"] == "6", timeout=5_000)


def test_counts_older_than_30_seconds_without_the_feed_or_a_read_are_marked_not_current(
        qtbot: QtBot, live_server: LiveServer, register: Register,
        open_dashboard: OpenDashboard, tmp_path: Path) -> None:
    event_id = live_server.small_event(capacity=10)
    ga = ticket_type(live_server, event_id)["id"]
    dashboard = open_dashboard(register)  # live feed on, polling off
    model = dashboard.model

    dashboard.freshness.fresh_at -= 31
    dashboard.freshness.check()
    assert not model.stale  # the connected feed would have said: current
    assert dashboard.live is not None
    dashboard.live.stop()  # the feed is gone and no poll comes: nothing new for 30 s
    dashboard.freshness.fresh_at -= 31
    qtbot.waitUntil(lambda: model.stale, timeout=3_000)  # its own once-a-second check

    shown = cells(dashboard, ga)
    assert shown["Stock level"] == "Not current"  # as the tiles' badge says it
    assert shown["Available"] == "10"  # the last numbers read, greyed
    level = [dashboard.proxy.index(r, DashboardModel.LEVEL) for r in
             range(dashboard.proxy.rowCount())]
    assert all(i.data(Qt.ItemDataRole.BackgroundRole).name() == STALE_BADGE_COLOUR
               for i in level)
    available = dashboard.proxy.index(level[0].row(), DashboardModel.AVAILABLE)
    assert available.data(Qt.ItemDataRole.ForegroundRole).name() == STALE_NUMBER_COLOUR
    assert available.data(Qt.ItemDataRole.AccessibleTextRole).endswith("counts not current")
    assert dashboard.updated_label.text().endswith("· counts not current")
    assert dashboard.updated_label.property("warning") is True
    dashboard.grab().save(str(tmp_path / "dashboard-stale.png"))

    with qtbot.waitSignal(dashboard.counts_changed, timeout=10_000):
        dashboard.refresh()  # a read answers
    assert not model.stale
    assert cells(dashboard, ga)["Stock level"] == "In stock"


def test_a_cashier_is_told_the_dashboard_is_for_managers(
        qtbot: QtBot, register: Register, open_dashboard: OpenDashboard) -> None:
    dashboard = open_dashboard(register, username="alex", pin="1234")
    qtbot.waitUntil(lambda: "Only a manager" in dashboard.updated_label.text(),
                    timeout=10_000)
    assert dashboard.updated_label.property("warning") is True
    assert dashboard.alerts_model.rowCount() == 0


def test_what_needs_attention_comes_first(
        qtbot: QtBot, live_server: LiveServer, register: Register,
        open_dashboard: OpenDashboard) -> None:
    event_id = live_server.small_event(capacity=5, types=("GA", "VIP", "Student"))
    ga, vip, student = (ticket_type(live_server, event_id, n)["id"]
                        for n in ("GA", "VIP", "Student"))
    dashboard = open_dashboard(register)
    other = staff_client(live_server)
    try:
        assert other.sell({ga: 4, vip: 5}).status_code == 201  # GA critical, VIP sold out
    finally:
        other.close()
    qtbot.waitUntil(lambda: cells(dashboard, vip)["Stock level"] == "Sold out", timeout=5_000)
    qtbot.waitUntil(lambda: cells(dashboard, ga)["Stock level"] == "Almost gone",
                    timeout=5_000)

    order = [row.ticket_type.id for row in rows(dashboard)]
    assert order.index(vip) < order.index(ga) < order.index(student)
    # The whole table: sold out, critical, low, in stock, and within each the least left.
    keys = [attention_key(row.ticket_type) for row in rows(dashboard)]
    assert keys == sorted(keys)
    ranks = [LEVEL_RANK[StockLevel(row.ticket_type.stock_level)] for row in rows(dashboard)]
    assert ranks == sorted(ranks)

    dashboard.table.sortByColumn(DashboardModel.SOLD, Qt.SortOrder.DescendingOrder)
    sold = [row.ticket_type.sold for row in rows(dashboard)]
    assert sold == sorted(sold, reverse=True)


def test_an_alert_is_listed_as_each_rung_is_crossed(
        qtbot: QtBot, qtmodeltester: Any, live_server: LiveServer, register: Register,
        open_dashboard: OpenDashboard) -> None:
    event_id = live_server.small_event(capacity=5)  # ladder 2, 1, 0
    ga = ticket_type(live_server, event_id)["id"]
    dashboard = open_dashboard(register)
    other = staff_client(live_server)
    try:
        with qtbot.waitSignal(dashboard.alerts_added, timeout=10_000,
                              check_params_cb=lambda added: any(
                                  a.ticket_type_id == ga for a in added)):
            assert other.sell({ga: 3}).status_code == 201  # 2 left: rung 2 crossed
        qtmodeltester.check(dashboard.alerts_model)
        top = dashboard.alerts_model.index(0).data()
        assert top.endswith("GA (Test night " + event_id[-4:] + ") down to 2 left (rung 2)")
        assert re.match(r"\d\d:\d\d  ", top)
        assert dashboard.alerts.badge.isVisible()

        with qtbot.waitSignal(dashboard.alerts_added, timeout=10_000,
                              check_params_cb=lambda added: any(
                                  a.available == 0 and a.ticket_type_id == ga
                                  for a in added)):
            assert other.sell({ga: 2}).status_code == 201  # rungs 1 and 0: sold out
    finally:
        other.close()
    texts = [dashboard.alerts_model.index(r).data()
             for r in range(dashboard.alerts_model.rowCount())]
    assert texts[0].endswith(f"GA (Test night {event_id[-4:]}) SOLD OUT")
    assert dashboard.alerts.badge.text() == str(len(texts))


def test_a_security_alert_shows_in_red_over_the_live_inventory(
        qtbot: QtBot, live_server: LiveServer, register: Register,
        open_dashboard: OpenDashboard) -> None:
    live_server.small_event(capacity=5)
    dashboard = open_dashboard(register)
    known = register.manager.security_alerts()  # the read the dashboard's alerts timer makes
    assert dashboard.security.isVisible() == bool(known.alerts)
    newest = max((a.seq for a in known.alerts), default=0) + 1
    added: list[Any] = []
    dashboard.security_alerts_added.connect(added.append)
    burst = SecurityAlertOut(seq=newest, at=datetime.now(UTC), terminal_id=1,
                             reason="5 failed PINs for 'morgan' within 15 minutes (latest: "
                                    "approval from 10.0.0.2)")
    dashboard.on_security_alerts_read(SecurityAlertsResponse(alerts=[burst]))
    dashboard.on_security_alerts_read(SecurityAlertsResponse(alerts=[burst]))  # read twice
    assert [[a.seq for a in batch] for batch in added] == [[newest]]
    assert dashboard.security.isVisible()
    assert dashboard.security_model.index(0).data().endswith(burst.reason)
    table_top = dashboard.table.mapTo(dashboard, dashboard.table.rect().topLeft()).y()
    assert dashboard.security.geometry().bottom() < table_top
    assert unnamed_controls(dashboard) == []


def test_the_split_and_the_chart_show_box_office_and_online(
        qtbot: QtBot, live_server: LiveServer, register: Register,
        open_dashboard: OpenDashboard) -> None:
    event_id = live_server.small_event(capacity=20)
    ga = ticket_type(live_server, event_id)["id"]
    dashboard = open_dashboard(register)
    door = staff_client(live_server)
    try:
        with online_channel(live_server) as shop:
            assert door.sell({ga: 2}).status_code == 201
            sell_online(shop, ga, 3)
    finally:
        door.close()
    qtbot.waitUntil(lambda: (cells(dashboard, ga)["Box office"],
                             cells(dashboard, ga)["Online"]) == ("2", "3"), timeout=10_000)
    assert cells(dashboard, ga)["Sold"] == "5"

    chart = dashboard.chart
    chart.event_combo.setCurrentIndex(chart.event_combo.findData(event_id))
    qtbot.waitUntil(lambda: chart.report is not None and chart.report.event_id == event_id
                    and bool(chart.curves), timeout=10_000)
    assert chart.report is not None
    assert set(chart.curves) == set(chart.report.channels) >= {"box_office", "online"}
    finals = {channel: int(curve.getData()[1][-1]) for channel, curve in chart.curves.items()}
    assert finals["box_office"] == 2 and finals["online"] == 3
    assert unnamed_controls(dashboard) == []


def test_the_dashboard_does_not_load_the_chart_library_at_import() -> None:
    code = ("import sys, pos_app.gui.manager.dashboard.dashboard, pos_app.gui.shell.main_window; "
            "print('pyqtgraph' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.stdout.split() == ["False", "False"]


def test_alert_lines_name_the_type_and_event_and_say_sold_out() -> None:
    tt = TicketType.model_validate({
        "id": 7, "event_id": "jazz", "name": "GA", "price": 2500, "currency": "USD",
        "capacity": 30, "public_limit": None, "sold": 25, "held": 0, "available": 5,
        "public_available": 5, "stock_level": "low", "thresholds": {"low": 5, "critical": 2},
        "alert_ladder": [25, 15, 10, 5, 2, 0], "version": 3})
    at = datetime(2026, 3, 14, 20, 41, tzinfo=UTC)
    names = {7: (tt, "Jazz night")}
    five = StockAlertOut(seq=1, at=at, ticket_type_id=7, event_id="jazz", level=5,
                         available=5)
    gone = five.model_copy(update={"seq": 2, "level": 0, "available": 0})
    ten = five.model_copy(update={"seq": 0, "level": 10})
    assert alert_text([five], names, UTC) == "20:41  GA (Jazz night) down to 5 left (rung 5)"
    assert alert_text([five, ten], names, UTC).endswith("down to 5 left (rungs 10 and 5)")
    assert alert_text([gone], names, UTC) == "20:41  GA (Jazz night) SOLD OUT"
    assert alert_text([five], {}, UTC).startswith("20:41  Ticket type 7 down to 5")


def test_a_channel_line_is_flat_between_sales_and_ends_on_its_total() -> None:
    start = datetime(2026, 3, 14, 18, 0, tzinfo=UTC)
    report = SalesReport.model_validate({
        "event_id": "jazz", "currency": "USD", "bucket_seconds": 900, "start": start,
        "end": start + timedelta(hours=2), "channels": ["box_office", "online"],
        "ticket_types": [], "series": [
            {"channel": "box_office", "points": [
                {"at": start, "tickets": 2, "amount": 5000},
                {"at": start + timedelta(hours=1), "tickets": 3, "amount": 7500}]},
            {"channel": "online", "points": []}]})
    t0 = start.timestamp()
    xs, ys = cumulative_points(report, "box_office")
    assert list(zip(xs, ys, strict=True)) == [
        (t0, 0), (t0 + 900, 2), (t0 + 3600, 2), (t0 + 4500, 5), (t0 + 7200, 5)]
    assert cumulative_points(report, "online") == ([t0, t0 + 7200], [0, 0])


# --- the screenshot: three days of sales ----------------------------------------------------


def fill_history(data_dir: Path) -> None:
    """The demo catalog with three days of sales, made in-process through the API with a
    clock moved hour by hour: online all along, the box office on the last day; VIP Lounge
    down to 2 and Dallas VIP sold out (their alerts)."""
    from fastapi.testclient import TestClient

    from pos_app.server import admin
    from pos_app.server.app import create_app
    from pos_app.server.db import Database
    from pos_app.server.services import anchoring, live, sealing_keys
    from pos_app.server.settings import ServerSettings, database_url_for

    db = str(data_dir)
    admin.load_demo(db)
    clock = FixedClock(datetime.now(UTC) - timedelta(hours=72, minutes=5))
    code = admin.add_terminal(db, "History till", clock=clock).pairing_code
    _, shop_token = admin.add_channel_token(db, "online", "Web shop", clock=clock)
    # the data folder's keys: the demo staff's PINs are sealed with its pin.key
    database = Database(database_url_for(db),
                        chain=anchoring.load_chain(data_dir, create=False),
                        keys=sealing_keys.load_keys(data_dir, create=False),
                        write_hooks=[live.install_session_hooks])
    app = create_app(ServerSettings(database_url=database_url_for(db), clock=clock,
                                    session_ttl=timedelta(days=30),
                                    session_idle_timeout=timedelta(days=30)),
                     database=database)
    rng = random.Random(6)
    with TestClient(app) as client:
        terminal = client.post("/v1/terminals/pair", json={"pairing_code": code}).json()
        session = client.post("/v1/sessions", json={"username": "morgan", "pin": "2468"},
                              headers={"Authorization": f"Bearer {terminal['terminal_token']}"})
        door = {"Authorization": f"Bearer {session.json()['token']}"}
        shop = {"Authorization": f"Bearer {shop_token}"}
        client.post("/v1/shifts", json={"opening_float": 20_000},
                    headers={**door, "Idempotency-Key": new_key()}).raise_for_status()
        types = {(e["id"], t["name"]): t["id"]
                 for e in client.get("/v1/events", headers=door).json()["events"]
                 for t in e["ticket_types"]}

        def sell(headers: dict[str, str], key: tuple[str, str], quantity: int) -> None:
            payment = ({"method": "external", "reference": new_key()[:12]} if headers is shop
                       else {"method": "cash", "tendered": 10_000_000})
            client.post("/v1/sales", headers={**headers, "Idempotency-Key": new_key()},
                        json={"lines": [{"ticket_type_id": types[key], "quantity": quantity}],
                              "payment": payment}).raise_for_status()

        hall = "grand-hall-2026-03-14"
        for hour in range(72):
            clock.advance(timedelta(minutes=rng.randint(50, 70)))
            sell(shop, (hall, "General Admission"), rng.randint(1, 3 + hour // 12))
            if hour % 3 == 0:
                sell(shop, (hall, "Balcony"), rng.randint(1, 2))
            if hour % 4 == 1 and hour < 64:
                sell(shop, (hall, "VIP Lounge"), 3)  # 48 of 50: rungs 10, 5 and 3
            if hour >= 56:
                sell(door, (hall, "General Admission"), rng.randint(2, 8))
                sell(door, (hall, "Student"), rng.randint(1, 3))
            if hour in (60, 66, 70):
                sell(door, ("dallas-jan-2026", "VIP"), 5)
            if hour in (40, 52):
                sell(shop, ("atlanta-feb-2026", "GA"), 15)
    database.dispose()


@pytest.fixture
def history_server(tmp_path: Path) -> Iterator[LiveServer]:
    data_dir = tmp_path / "history"
    data_dir.mkdir()
    fill_history(data_dir)
    server = LiveServer(data_dir=data_dir, port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.filterwarnings(  # fill_history's TestClient: not ours to fix (as test_schemathesis)
    "ignore:Using `httpx` with `starlette.testclient` is deprecated")
def test_screenshot_of_the_dashboard_with_three_days_of_sales(
        qtbot: QtBot, history_server: LiveServer, pos_home: Path,
        open_dashboard: OpenDashboard) -> None:
    pair_terminal(history_server.base_url, history_server.add_terminal("Office"),
                  ca_file=history_server.ca_file)
    with open_register() as register:
        dashboard = open_dashboard(register)
        qtbot.waitUntil(lambda: dashboard.alerts_model.rowCount() > 0, timeout=10_000)
        chart = dashboard.chart
        chart.event_combo.setCurrentIndex(chart.event_combo.findData("grand-hall-2026-03-14"))
        qtbot.waitUntil(lambda: chart.report is not None and bool(chart.curves)
                        and chart.report.event_id == "grand-hall-2026-03-14", timeout=10_000)
        assert chart.report is not None and chart.report.bucket_seconds == 900  # 3 days
        top = rows(dashboard)[0].ticket_type
        assert (top.name, top.stock_level) == ("VIP", "sold_out")
        assert dashboard.alerts_model.index(0).data().endswith("SOLD OUT")
        qtbot.wait(200)
        dashboard.grab().save(str(SCREENSHOTS / "dashboard.png"))
