"""Issue 16, attacks 3 and 5 and the scopes of holds, as the attacker would run them: a web
shop's channel token reading box-office sales, a cashier walking sale numbers and listing
another till's sales and takings, a cashier working out the blind count from an open shift,
a cashier releasing another till's cash hold, and another till using a checkout hold.
In-process app on SQLite and PostgreSQL (the scopes are SQL conditions)."""

from __future__ import annotations

from typing import Any

import pytest

from pos_app.server.services import channels
from tests.security.conftest import CASHIER_PIN, MANAGER_PIN, NOW, Venue

# Starlette's TestClient asks for "httpx2"; its deprecation of plain httpx is not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Using `httpx` with `starlette.testclient` is deprecated")

SAM_PIN = "1111"
MONEY_FIELDS = ("opening_float", "sales", "refunds", "pay_ins", "pay_outs", "drops",
                "ticket_types", "cash_movements")


def _get(venue: Venue, till: str, path: str, auth: dict[str, str],
         **params: Any) -> Any:
    return venue.tills[till].get(path, headers=auth, params=params)


def _open_shift(venue: Venue, till: str, auth: dict[str, str], opening_float: int) -> int:
    opened = venue.post(till, "/v1/shifts", {"opening_float": opening_float}, auth)
    assert opened.status_code == 201, opened.text
    return int(opened.json()["id"])


def _cash_sale(venue: Venue, till: str, auth: dict[str, str]) -> dict[str, Any]:
    sold = venue.post(till, "/v1/sales", {
        "lines": [{"ticket_type_id": 1, "quantity": 1}],
        "payment": {"method": "cash", "tendered": 2500}}, auth)
    assert sold.status_code == 201, sold.text
    return dict(sold.json())


def _hold(venue: Venue, till: str, auth: dict[str, str], kind: str) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "lines": [{"ticket_type_id": 1, "quantity": 2}]}
    if kind == "cash":
        body["customer"] = {"name": "Ada Lovelace", "phone": "555-0100"}
    held = venue.post(till, "/v1/holds", body, auth)
    assert held.status_code == 201, held.text
    return dict(held.json())


def _web_shop(venue: Venue) -> dict[str, str]:
    with venue.db.write() as session:
        _, token = channels.create_channel_token(session, "online", name="Web shop", now=NOW)
    return {"Authorization": f"Bearer {token}"}


def _not_found(answer: Any) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]


def test_a_web_shops_token_reads_no_box_office_sale_by_number_id_or_ticket_code(
        venue: Venue, dialect: str) -> None:
    alex = venue.sign_in("till1", "alex", CASHIER_PIN)
    _open_shift(venue, "till1", alex, 1000)
    box_office = _cash_sale(venue, "till1", alex)
    shop = _web_shop(venue)
    web = venue.post("till2", "/v1/sales", {
        "lines": [{"ticket_type_id": 1, "quantity": 1}],
        "payment": {"method": "external", "reference": "psp-1"}}, shop)
    assert web.status_code == 201, web.text

    nowhere = _get(venue, "till2", "/v1/sales/999999", shop)
    assert nowhere.status_code == 404
    assert nowhere.json() == {"error": "not_found", "message": "Sale '999999' was not found."}
    for ref in (str(box_office["number"]), box_office["id"],
                box_office["tickets"][0]["code"], box_office["tickets"][0]["code"].lower()):
        answer = _get(venue, "till2", f"/v1/sales/{ref}", shop)
        # the same answer as a sale that does not exist
        assert (answer.status_code, answer.json()) == (404, {
            "error": "not_found", "message": f"Sale {ref!r} was not found."}), ref
    listed = _get(venue, "till2", "/v1/sales", shop).json()["sales"]
    assert [s["id"] for s in listed] == [web.json()["id"]]
    by_shift = _get(venue, "till2", "/v1/sales", shop, shift_id=box_office["shift_id"])
    assert by_shift.json()["sales"] == []
    # its own sale it reads by any reference
    own = web.json()
    for ref in (str(own["number"]), own["id"], own["tickets"][0]["code"]):
        assert _get(venue, "till2", f"/v1/sales/{ref}", shop).status_code == 200, ref


def test_a_cashier_walking_sale_numbers_reads_only_its_own_tills_sales(
        venue: Venue, dialect: str) -> None:
    alex = venue.sign_in("till1", "alex", CASHIER_PIN)
    sam = venue.sign_in("till2", "sam", SAM_PIN)
    _open_shift(venue, "till1", alex, 1000)
    _open_shift(venue, "till2", sam, 1000)
    alexs = [_cash_sale(venue, "till1", alex) for _ in range(3)]
    sams = _cash_sale(venue, "till2", sam)

    walked = {n: _get(venue, "till2", f"/v1/sales/{n}", sam).status_code
              for n in range(1, 8)}
    assert walked == {n: 200 if n == sams["number"] else 404 for n in range(1, 8)}
    # a customer brings a receipt from till1: its sale id or a ticket code on it works
    receipt = alexs[0]
    for ref in (receipt["id"], receipt["tickets"][0]["code"]):
        read = _get(venue, "till2", f"/v1/sales/{ref}", sam)
        assert read.status_code == 200, ref
        assert read.json()["id"] == receipt["id"]
    # a manager reads any sale by number
    morgan = venue.sign_in("till2", "morgan", MANAGER_PIN)
    assert _get(venue, "till2", f"/v1/sales/{receipt['number']}", morgan).status_code == 200


def test_a_cashier_walking_sale_numbers_through_refunds_learns_nothing(
        venue: Venue, dialect: str) -> None:
    """The refund route names a sale as the read does: another till's sale by number is
    the 404 of a sale that does not exist, answered before the manager's PIN is looked at
    (no attempt counted); its ticket code reaches it, and the approved refund is made."""
    alex = venue.sign_in("till1", "alex", CASHIER_PIN)
    sam = venue.sign_in("till2", "sam", SAM_PIN)
    _open_shift(venue, "till1", alex, 1000)
    _open_shift(venue, "till2", sam, 5000)
    receipt = _cash_sale(venue, "till1", alex)
    approval = {"username": "morgan", "pin": MANAGER_PIN}

    def refund(ref: str, pin: str) -> Any:
        return venue.post("till2", f"/v1/sales/{ref}/refunds",
                          {"reason": "walk", "manager": {**approval, "pin": pin}}, sam)

    for pin in (MANAGER_PIN, "0000"):  # right or wrong PIN: the same 404
        walked = refund(str(receipt["number"]), pin)
        assert _not_found(walked) == (404, "not_found")
        assert walked.json()["message"] == f"Sale '{receipt['number']}' was not found."
        assert _not_found(refund("999999", pin)) == (404, "not_found")
    assert venue.sleep.waits == []  # no PIN was compared, so nothing slowed down
    # The customer's ticket (its QR code scanned at till2) names the sale: refunded there.
    done = refund(receipt["tickets"][0]["code"], MANAGER_PIN)
    assert done.status_code == 201, done.text
    assert [t["code"] for t in done.json()["tickets"]] == [receipt["tickets"][0]["code"]]


def test_a_cashier_lists_no_other_tills_sales_or_takings(venue: Venue, dialect: str) -> None:
    alex = venue.sign_in("till1", "alex", CASHIER_PIN)
    sam = venue.sign_in("till2", "sam", SAM_PIN)
    till1_shift = _open_shift(venue, "till1", alex, 1000)
    _open_shift(venue, "till2", sam, 1000)
    alexs = _cash_sale(venue, "till1", alex)
    sams = _cash_sale(venue, "till2", sam)

    assert _get(venue, "till2", "/v1/sales", sam, shift_id=till1_shift).json() == {
        "sales": [], "next_cursor": None}
    assert [s["id"] for s in _get(venue, "till2", "/v1/sales", sam).json()["sales"]] == [
        sams["id"]]
    assert _get(venue, "till2", f"/v1/shifts/{till1_shift}", sam).status_code == 403
    till1 = _get(venue, "till2", "/v1/shifts", sam, terminal_id=str(alexs["terminal_id"]))
    assert till1.status_code == 403
    listed = _get(venue, "till2", "/v1/shifts", sam).json()["shifts"]
    assert {s["terminal_id"] for s in listed} == {sams["terminal_id"]}
    # a manager lists every till's sales
    morgan = venue.sign_in("till2", "morgan", MANAGER_PIN)
    everything = _get(venue, "till2", "/v1/sales", morgan).json()["sales"]
    assert [s["id"] for s in everything] == [alexs["id"], sams["id"]]


def test_a_cashier_cannot_work_out_the_expected_cash_while_the_shift_is_open(
        venue: Venue, dialect: str) -> None:
    alex = venue.sign_in("till1", "alex", CASHIER_PIN)
    shift_id = _open_shift(venue, "till1", alex, 1000)
    _cash_sale(venue, "till1", alex)
    for kind, amount in (("pay_in", 500), ("drop", 200)):
        moved = venue.post("till1", f"/v1/shifts/{shift_id}/cash-movements",
                           {"kind": kind, "amount": amount, "reason": "x"}, alex)
        assert moved.status_code == 201, moved.text
    expected = 1000 + 2500 + 500 - 200

    reads = [_get(venue, "till1", f"/v1/shifts/{shift_id}", alex).json(),
             *_get(venue, "till1", "/v1/shifts", alex).json()["shifts"],
             *_get(venue, "till1", "/v1/shifts", alex, terminal_id="me",
                   status="open").json()["shifts"]]
    assert len(reads) == 3
    for shift in reads:
        assert {f: shift[f] for f in MONEY_FIELDS} == dict.fromkeys(MONEY_FIELDS)
        assert shift["blind"] is True
        assert (shift["expected_cash"], shift["counted_cash"], shift["variance"]) == (
            None, None, None)
        assert shift["holds"]["placed"] == 0 and shift["status"] == "open"
    # a manager sees everything
    morgan = venue.sign_in("till2", "morgan", MANAGER_PIN)
    whole = _get(venue, "till2", f"/v1/shifts/{shift_id}", morgan).json()
    assert whole["blind"] is False
    assert (whole["opening_float"], whole["sales"]["amount"], whole["pay_ins"],
            whole["drops"]) == (1000, 2500, 500, 200)
    # after the close the cashier sees the result of their own close, as before
    closed = venue.post("till1", f"/v1/shifts/{shift_id}/close",
                        {"counted_cash": expected}, alex)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["expected_cash"], closed.json()["variance"]) == (expected, 0)
    after = _get(venue, "till1", f"/v1/shifts/{shift_id}", alex).json()
    assert after["blind"] is False
    assert (after["expected_cash"], after["opening_float"], after["sales"]["amount"]) == (
        expected, 1000, 2500)


def test_a_cashier_cannot_release_another_tills_cash_hold_but_finds_and_pays_it(
        venue: Venue, dialect: str) -> None:
    alex = venue.sign_in("till1", "alex", CASHIER_PIN)
    sam = venue.sign_in("till2", "sam", SAM_PIN)
    kept, paid = _hold(venue, "till1", alex, "cash"), _hold(venue, "till1", alex, "cash")

    for q in (kept["code"], "lovelace", "555-0100"):
        found = _get(venue, "till2", "/v1/holds", sam, q=q).json()["holds"]
        assert kept["id"] in {h["id"] for h in found}, q
    assert _get(venue, "till2", f"/v1/holds/{kept['code']}", sam).status_code == 200
    released = venue.post("till2", f"/v1/holds/{kept['code']}/release", {"reason": "x"}, sam)
    assert (released.status_code, released.json()["error"]) == (403, "forbidden")
    assert _get(venue, "till2", f"/v1/holds/{kept['id']}", sam).json()["status"] == "active"
    # the customer pays at till2
    _open_shift(venue, "till2", sam, 1000)
    sale = venue.post("till2", "/v1/sales", {
        "hold_id": paid["code"], "payment": {"method": "cash", "tendered": 5000}}, sam)
    assert sale.status_code == 201, sale.text
    # a manager at till2 releases it
    morgan = venue.sign_in("till2", "morgan", MANAGER_PIN)
    released = venue.post("till2", f"/v1/holds/{kept['code']}/release", {"reason": "x"},
                          morgan)
    assert released.status_code == 200, released.text


def test_another_till_neither_sees_nor_pays_nor_releases_a_checkout_hold(
        venue: Venue, dialect: str) -> None:
    alex = venue.sign_in("till1", "alex", CASHIER_PIN)
    sam = venue.sign_in("till2", "sam", SAM_PIN)
    _open_shift(venue, "till2", sam, 1000)
    basket = _hold(venue, "till1", alex, "checkout")

    nowhere = _not_found(_get(venue, "till2", "/v1/holds/ZZZZZZ", sam))
    assert nowhere == (404, "not_found")
    for ref in (basket["id"], basket["code"]):
        assert _not_found(_get(venue, "till2", f"/v1/holds/{ref}", sam)) == nowhere
    for params in ({}, {"q": basket["code"]}, {"kind": "checkout"}):
        listed = _get(venue, "till2", "/v1/holds", sam, **params).json()["holds"]
        assert basket["id"] not in {h["id"] for h in listed}, params
    paid = venue.post("till2", "/v1/sales", {
        "hold_id": basket["id"], "payment": {"method": "cash", "tendered": 5000}}, sam)
    assert _not_found(paid) == nowhere
    released = venue.post("till2", f"/v1/holds/{basket['id']}/release", {}, sam)
    assert _not_found(released) == nowhere
    # a manager at till2 sees it but cannot pay a basket standing at till1
    morgan = venue.sign_in("till2", "morgan", MANAGER_PIN)
    assert _get(venue, "till2", f"/v1/holds/{basket['id']}", morgan).status_code == 200
    paid = venue.post("till2", "/v1/sales", {
        "hold_id": basket["id"], "payment": {"method": "cash", "tendered": 5000}}, morgan)
    assert (paid.status_code, paid.json()["error"]) == (403, "forbidden")
    # at its own till it is still there, and paid
    assert _get(venue, "till1", f"/v1/holds/{basket['id']}", alex).json()["status"] == "active"
    _open_shift(venue, "till1", alex, 1000)
    sale = venue.post("till1", "/v1/sales", {
        "hold_id": basket["id"], "payment": {"method": "cash", "tendered": 5000}}, alex)
    assert sale.status_code == 201, sale.text
