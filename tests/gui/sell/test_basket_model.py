"""BasketModel: a well-behaved Qt table model that holds the cashier's intent."""

from __future__ import annotations

import pytest
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import SaleLineIn, TicketType
from pos_app.gui.sell.basket_model import BasketFull, BasketModel, WrongEvent


def ticket_type(id: int, name: str, *, available: int = 5, price: int = 2500,
                event_id: str = "night") -> TicketType:
    return TicketType.model_validate({
        "id": id, "event_id": event_id, "name": name, "price": price, "currency": "USD",
        "capacity": 10, "public_limit": None, "sold": 10 - available, "held": 0,
        "available": available, "public_available": available,
        "stock_level": "in_stock" if available > 2 else "low" if available else "sold_out",
        "thresholds": {"low": 2, "critical": 1}, "alert_ladder": [2, 1, 0], "version": 1})


GA = ticket_type(1, "GA")
VIP = ticket_type(2, "VIP", price=6000, available=2)


def test_model_with_lines_passes_the_qt_model_tester(qtmodeltester: ModelTester) -> None:
    model = BasketModel()
    model.add(GA)
    model.add(GA)
    model.add(VIP)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2
    assert model.data(model.index(0, BasketModel.TICKET)) == "GA"
    assert model.data(model.index(0, BasketModel.QTY)) == "2"
    assert model.data(model.index(1, BasketModel.PRICE)) == "$60.00"
    assert model.data(model.index(0, BasketModel.AMOUNT)) == "$50.00"


def test_adding_the_same_type_again_increments_its_line() -> None:
    model = BasketModel()
    assert model.add(GA) == 0
    assert model.add(VIP) == 1
    assert model.add(GA) == 0
    assert [(line.name, line.quantity) for line in model.lines] == [("GA", 2), ("VIP", 1)]
    assert model.total == 2 * 2500 + 6000
    assert model.sale_lines() == [SaleLineIn(ticket_type_id=1, quantity=2),
                                  SaleLineIn(ticket_type_id=2, quantity=1)]


def test_total_changed_is_emitted_with_the_new_total(qtbot: QtBot) -> None:
    model = BasketModel()
    with qtbot.waitSignal(model.total_changed) as blocker:
        model.add(VIP)
    assert blocker.args == [6000]


def test_increment_stops_at_what_is_left() -> None:
    model = BasketModel()
    model.add(VIP)
    model.increment(0)
    assert not model.can_add(VIP)
    with pytest.raises(BasketFull, match="Only 2 VIP"):
        model.increment(0)
    assert model.quantity_of(2) == 2


def test_decrement_to_zero_removes_the_line() -> None:
    model = BasketModel()
    model.add(GA)
    model.add(GA)
    model.add(VIP)
    model.decrement(0)
    assert model.quantity_of(1) == 1
    model.decrement(0)
    assert model.rowCount() == 1
    assert model.lines[0].name == "VIP"


def test_remove_and_clear_empty_the_basket() -> None:
    model = BasketModel()
    model.add(GA)
    model.add(VIP)
    model.remove(0)
    assert [line.name for line in model.lines] == ["VIP"]
    model.clear()
    assert model.is_empty()
    assert model.total == 0


def test_sold_out_types_and_other_events_cannot_be_added() -> None:
    model = BasketModel()
    with pytest.raises(BasketFull, match="sold out"):
        model.add(ticket_type(3, "Balcony", available=0))
    model.add(GA)
    other = ticket_type(9, "GA", event_id="another-night")
    assert not model.can_add(other)
    with pytest.raises(WrongEvent):
        model.add(other)


def test_a_locked_basket_refuses_every_change() -> None:
    model = BasketModel()
    model.add(GA)
    model.set_locked(True)
    assert not model.can_add(GA)
    for change in (lambda: model.add(GA), lambda: model.increment(0),
                   lambda: model.decrement(0), lambda: model.remove(0), model.clear):
        with pytest.raises(RuntimeError):
            change()
    model.set_locked(False)
    model.increment(0)
    assert model.quantity_of(1) == 2
