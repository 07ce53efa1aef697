"""Issue 16, attacks 1, 2 and 7, as the attacker would run them: a cashier guessing the
manager's PIN through the approval routes, telling colleagues' PINs apart by the refusal, and
locking a user out from one terminal. In-process app, clock moved by the server's own waits
(``conftest.ClockSleep``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pos_app.server import security
from pos_app.server.models import AuditEntry, LoginAttempt
from pos_app.server.services import pin_attempts
from tests.security.conftest import CASHIER_PIN, MANAGER_PIN, NOW, Venue

# Starlette's TestClient asks for "httpx2"; its deprecation of plain httpx is not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Using `httpx` with `starlette.testclient` is deprecated")

GUESSES = [f"{n:04d}" for n in range(1000, 1050)]
"""A cashier's 50 guesses; the right PIN is slipped in at :data:`RIGHT_AT`."""
RIGHT_AT = 30


def _answer(response: Any) -> tuple[int, Any, str | None]:
    """What the caller learns: status, body and Retry-After."""
    return response.status_code, response.json(), response.headers.get("Retry-After")


def _cashier_with_a_sale(venue: Venue) -> tuple[dict[str, str], str, int]:
    """alex at till1 with an open shift (float 10.00) and one 25.00 cash sale."""
    auth = venue.sign_in("till1", "alex", CASHIER_PIN)
    shift = venue.post("till1", "/v1/shifts", {"opening_float": 1000}, auth)
    assert shift.status_code == 201, shift.text
    sale = venue.post("till1", "/v1/sales", {
        "lines": [{"ticket_type_id": 1, "quantity": 1}],
        "payment": {"method": "cash", "tendered": 2500}}, auth)
    assert sale.status_code == 201, sale.text
    return auth, sale.json()["id"], shift.json()["id"]


def _guess_all(venue: Venue, send: Any) -> list[tuple[int, Any, str | None]]:
    answers = []
    for number, guess in enumerate(GUESSES):
        pin = MANAGER_PIN if number == RIGHT_AT else guess
        answers.append(_answer(send(pin)))
    return answers


def _assert_guessing_ends_in_429_and_tells_nothing(
        venue: Venue, answers: list[tuple[int, Any, str | None]], send: Any) -> None:
    limit = venue.settings.login_max_failures
    assert [a[0] for a in answers[:limit]] == [403] * limit
    assert {a[1]["error"] for a in answers[:limit]} == {"approval_refused"}
    assert [a[0] for a in answers[limit:]] == [429] * (len(GUESSES) - limit)
    assert {a[1]["error"] for a in answers[limit:]} == {"too_many_attempts"}
    # the right PIN, throttled, is answered exactly like a wrong one at the same moment
    right, wrong = _answer(send(MANAGER_PIN)), _answer(send("9999"))
    assert right == wrong == answers[RIGHT_AT]
    assert right[0] == 429 and right[2] is not None and int(right[2]) > 0
    # the server waited before comparing (venue-wide delay), then stopped comparing
    assert sum(venue.sleep.waits) > 0
    with venue.db.read() as session:
        evaluated = session.scalar(select(func.count()).select_from(LoginAttempt)
                                   .where(LoginAttempt.username == "morgan"))
    assert evaluated == limit


def test_a_cashiers_50_guesses_at_the_managers_pin_through_a_refund_end_in_429_and_never_tell_the_right_one(  # noqa: E501
        venue: Venue, dialect: str) -> None:
    auth, sale_id, _ = _cashier_with_a_sale(venue)

    def send(pin: str) -> Any:
        return venue.post("till1", f"/v1/sales/{sale_id}/refunds",
                          {"reason": "x", "manager": {"username": "morgan", "pin": pin}}, auth)

    _assert_guessing_ends_in_429_and_tells_nothing(venue, _guess_all(venue, send), send)
    with venue.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "refund")) == 0


def test_a_cashiers_50_guesses_at_the_managers_pin_through_a_variance_approval_end_in_429_and_never_tell_the_right_one(  # noqa: E501
        venue: Venue, dialect: str) -> None:
    auth, _, shift_id = _cashier_with_a_sale(venue)

    def send(pin: str) -> Any:  # counted 0 of 35.00: far beyond the 5.00 threshold
        return venue.post("till1", f"/v1/shifts/{shift_id}/close", {
            "counted_cash": 0, "note": "x", "manager": {"username": "morgan", "pin": pin}},
            auth)

    _assert_guessing_ends_in_429_and_tells_nothing(venue, _guess_all(venue, send), send)
    shift = venue.tills["till1"].get(f"/v1/shifts/{shift_id}", headers=auth).json()
    assert shift["status"] == "open"


def test_unknown_inactive_not_a_manager_and_a_wrong_pin_get_one_answer_after_one_argon2_check(
        venue: Venue, monkeypatch: pytest.MonkeyPatch) -> None:
    auth, sale_id, shift_id = _cashier_with_a_sale(venue)
    checks: list[str] = []
    real_verify = security.verify_pin  # Argon2 against the user's hash, or a dummy one

    def counting_verify(pin_hash: str | None, pin: str) -> bool:
        checks.append(pin)
        return real_verify(pin_hash, pin)

    monkeypatch.setattr(security, "verify_pin", counting_verify)
    approvers = [("nobody", "1111"), ("pat", "3579"), ("sam", "1111"), ("morgan", "0000")]
    for path, body in ((f"/v1/sales/{sale_id}/refunds", {"reason": "x"}),
                       (f"/v1/shifts/{shift_id}/close", {"counted_cash": 0, "note": "x"})):
        answers = []
        for username, pin in approvers:
            checks.clear()
            response = venue.post("till1", path, {
                **body, "manager": {"username": username, "pin": pin}}, auth)
            answers.append((response.status_code, response.json(),
                            sorted(set(response.headers) - {"content-length"})))
            assert checks == [pin], (username, "the PIN is compared once, whoever it names")
        assert answers[0][:2] == (403, {
            "error": "approval_refused",
            "message": "The approval was refused: check the manager's username and PIN. "
                       "Nothing was changed."})
        assert all(answer == answers[0] for answer in answers), answers
    with venue.db.read() as session:
        reasons = list(session.scalars(select(AuditEntry.reason).where(
            AuditEntry.action == "approval_failed").order_by(AuditEntry.seq)))
    assert reasons[:4] == [  # managers see why in the audit log; the PIN is nowhere
        "refund approval refused: unknown username 'nobody'",
        "refund approval refused: inactive staff 'pat'",
        "refund approval refused: 'sam' is not a manager",
        "refund approval refused: wrong PIN for 'morgan'"]


def test_an_unknown_sale_or_shift_is_404_whatever_the_pin_and_no_pin_is_looked_at(
        venue: Venue) -> None:
    auth, _, _ = _cashier_with_a_sale(venue)
    answers = [_answer(venue.post("till1", "/v1/sales/999999/refunds", {
        "reason": "x", "manager": {"username": "morgan", "pin": pin}}, auth))[:2]
        for pin in (MANAGER_PIN, "0000")]
    assert answers == [(404, {"error": "not_found", "message": "Sale '999999' was not found."})
                       ] * 2
    answers = [_answer(venue.post("till1", "/v1/shifts/999999/close", {
        "counted_cash": 0, "note": "x", "manager": {"username": "morgan", "pin": pin}},
        auth))[:2] for pin in (MANAGER_PIN, "0000")]
    assert answers == [(404, {"error": "not_found", "message": "Shift 999999 was not found."})
                       ] * 2
    with venue.db.read() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)
                              .where(LoginAttempt.kind == "approval")) == 0


def test_failures_for_morgan_at_one_terminal_do_not_stop_morgan_signing_in_at_another(
        venue: Venue) -> None:
    auth, sale_id, _ = _cashier_with_a_sale(venue)
    for guess in GUESSES:
        venue.post("till1", f"/v1/sales/{sale_id}/refunds",
                   {"reason": "x", "manager": {"username": "morgan", "pin": guess}}, auth)
    # at the attacker's till morgan is throttled for sign-ins too (one count)...
    refused = venue.tills["till1"].post("/v1/sessions", json={
        "username": "morgan", "pin": MANAGER_PIN}, headers=venue.terminal_auth("till1"))
    assert (refused.status_code, refused.json()["error"]) == (429, "too_many_attempts")
    # ...while at another till the right PIN works, after the venue-wide delay
    venue.sleep.waits.clear()
    signed = venue.tills["till2"].post("/v1/sessions", json={
        "username": "morgan", "pin": MANAGER_PIN}, headers=venue.terminal_auth("till2"))
    assert signed.status_code == 201, signed.text
    assert 0 < sum(venue.sleep.waits) <= venue.settings.pin_delay_cap.total_seconds()
    # and morgan approves there too, with no lock-out anywhere but the attacker's till
    assert venue.sign_in("till2", "morgan", MANAGER_PIN)


def test_a_second_guess_from_one_terminal_cannot_queue_behind_the_first(venue: Venue) -> None:
    settings = venue.settings
    for _ in range(settings.pin_free_failures):  # free failures: no delay yet
        attempt = pin_attempts.reserve(venue.db, settings, username="morgan", terminal_id=1,
                                       client="10.0.0.1", kind="approval", now=NOW)
        assert attempt.due == NOW
    waiting = pin_attempts.reserve(venue.db, settings, username="morgan", terminal_id=1,
                                   client="10.0.0.1", kind="approval", now=NOW)
    assert waiting.due == NOW + settings.pin_delay_base
    with pytest.raises(Exception) as refused:
        pin_attempts.reserve(venue.db, settings, username="morgan", terminal_id=1,
                             client="10.0.0.1", kind="approval", now=NOW)
    assert getattr(refused.value, "status", None) == 429


def test_guessing_from_every_till_and_address_is_bounded_to_about_ten_an_hour_venue_wide(
        venue: Venue) -> None:
    """Five terminals at five addresses guess as fast as the server lets them for two
    hours; the evaluated guesses are counted per hour of the time they were evaluated."""
    settings, start = venue.settings, NOW
    now = start
    while now < start + timedelta(hours=2):
        for terminal in range(1, 6):
            try:
                attempt = pin_attempts.reserve(venue.db, settings, username="morgan",
                                               terminal_id=terminal,
                                               client=f"10.1.0.{terminal}", kind="approval",
                                               now=now)
            except Exception as refused:
                assert getattr(refused, "status", None) == 429
                continue
            with venue.db.write() as session:  # wrong, once due
                pin_attempts.settle(session, attempt, ok=False, settings=settings)
        now += timedelta(seconds=30)
    with venue.db.read() as session:
        due = list(session.scalars(select(LoginAttempt.at).where(
            LoginAttempt.username == "morgan")))
    per_hour = [sum(1 for at in due if start + timedelta(hours=h) <= at
                    < start + timedelta(hours=h + 1)) for h in range(2)]
    assert per_hour[0] <= 13 and per_hour[1] <= 10, per_hour
    assert per_hour[1] >= 9, per_hour  # still guessing: slowed, never locked out


def test_a_burst_of_failures_is_a_security_alert_in_the_audit_log(venue: Venue) -> None:
    auth, sale_id, _ = _cashier_with_a_sale(venue)
    for guess in GUESSES[:venue.settings.pin_alert_failures]:
        venue.post("till1", f"/v1/sales/{sale_id}/refunds",
                   {"reason": "x", "manager": {"username": "morgan", "pin": guess}}, auth)
    with venue.db.read() as session:
        alerts = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "security_alert")))
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.staff_id, alert.terminal_id) == (1, 1)  # alex at till1
    assert alert.reason is not None and alert.reason.startswith(
        f"{venue.settings.pin_alert_failures} failed PINs for 'morgan' within 15 minutes")
    assert "10.0.0.1" in alert.reason

    # Managers are told (the dashboard reads GET /v1/alerts/security); a cashier is not.
    morgan = venue.sign_in("till2", "morgan", MANAGER_PIN)
    listed = venue.tills["till2"].get("/v1/alerts/security", headers=morgan)
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"alerts": [{
        "seq": alert.seq, "at": alert.at.isoformat().replace("+00:00", "Z"),
        "reason": alert.reason, "terminal_id": 1}]}
    after = venue.tills["till2"].get("/v1/alerts/security", headers=morgan,
                                     params={"since": alert.seq})
    assert after.json() == {"alerts": []}
    refused = venue.tills["till1"].get("/v1/alerts/security", headers=auth)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")


def test_old_attempts_are_purged(venue: Venue) -> None:
    for minute in (0, 50, 90):  # kept: the last hour (the longest window)
        pin_attempts.reserve(venue.db, venue.settings, username="alex", terminal_id=1,
                             client="10.0.0.1", kind="sign_in",
                             now=NOW + timedelta(minutes=minute))
    assert pin_attempts.purge(venue.db, venue.settings,
                              now=NOW + timedelta(minutes=100)) == 1
    with venue.db.read() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)
                              .where(LoginAttempt.username == "alex")) == 2


def test_the_loosened_limits_come_only_from_valid_environment_counts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pos_app.server.runner import (
        ENV_PIN_ADDRESS_FAILURES,
        ENV_PIN_FREE_FAILURES,
        ServeError,
        settings_from_environment,
    )

    defaults = settings_from_environment("sqlite://")
    assert (defaults.pin_free_failures, defaults.login_address_max_failures) == (2, 20)
    monkeypatch.setenv(ENV_PIN_FREE_FAILURES, "7")
    monkeypatch.setenv(ENV_PIN_ADDRESS_FAILURES, "50")
    loosened = settings_from_environment("sqlite://")
    assert (loosened.pin_free_failures, loosened.login_address_max_failures) == (7, 50)
    for bad in ("0", "-1", "lots", "2000000", "１"):
        monkeypatch.setenv(ENV_PIN_FREE_FAILURES, bad)
        with pytest.raises(ServeError, match=ENV_PIN_FREE_FAILURES):
            settings_from_environment("sqlite://")
