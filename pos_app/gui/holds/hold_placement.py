"""Placing a cash hold from the sell screen, and printing hold slips and paid-hold receipts.

:func:`place_cash_hold` is what the sell screen's "Hold for cash" calls with the basket and
the customer from :class:`~pos_app.gui.holds.hold_dialog.HoldForCashDialog`: the hold goes through
the journal on the :class:`~pos_app.gui.core.task_runner.TaskRunner`'s journal thread, then its
slip is saved as a PDF in the receipts folder and printed on a worker (natively on a thermal
printer), the way the sell screen's ``deliver_receipt`` prints a receipt. The ``deliver_*``
functions run on workers only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from pos_app.api.schemas import Customer, Event, Hold, Sale, SaleLineIn
from pos_app.gui.core.ports import HoldDeskPort, HoldOutcomeLike, state_name
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printing import ReceiptPrinter

__all__ = [
    "HoldPlacement",
    "deliver_hold_slip",
    "deliver_sale_receipt",
    "find_event",
    "place_cash_hold",
    "printed_sentence",
]


def find_event(register: HoldDeskPort, event_id: str,
                known: Mapping[str, Event] | None = None) -> Event:
    """``event_id``'s event: from ``known``, else from ``register.events()`` (worker only).

    Raises ``LookupError`` when the server does not list it (any more)."""
    if known and event_id in known:
        return known[event_id]
    for event in register.events().events:
        if event.id == event_id:
            return event
    raise LookupError(f"event {event_id} is not listed by the server")


def _names(register: HoldDeskPort, staff_id: int | None,
           terminal_id: int | None) -> tuple[str, str]:
    """Who and where, as printed: the signed-in cashier and this terminal when they are the
    ones recorded, else their ids."""
    session = register.session
    staff = session.staff.display_name if session is not None else ""
    if session is not None and staff_id not in (None, session.staff.id):
        staff = f"Staff #{staff_id}"
    terminal = register.config.terminal_name
    if session is not None and terminal_id not in (None, session.terminal.id):
        terminal = f"Terminal #{terminal_id}"
    return staff, terminal


def deliver_hold_slip(register: HoldDeskPort, printer: ReceiptPrinter, hold: Hold, *,
                      reprint: bool = False, event: Event | None = None) -> str:
    """Save cash hold ``hold``'s slip as a PDF in the receipts folder and print it
    (:meth:`ReceiptPrinter.deliver_hold_slip`). Worker only (reads the events when ``event``
    is not given).

    Returns the printer's sentence ("Printed on ..." or "Saved to <path>"). Raises
    ``LookupError`` (event not listed), ``ValueError`` (not a cash hold), ``OSError``,
    :class:`~pos_app.gui.printing.printing.PrintFailed` and the client errors.
    """
    from pos_app.receipts import hold_slip_from_hold

    event = event if event is not None and event.id == hold.event_id else find_event(
        register, hold.event_id)
    staff, terminal = _names(register, hold.staff_id, hold.terminal_id)
    data = hold_slip_from_hold(hold, event, staff_name=staff, terminal_name=terminal,
                               reprint=reprint)
    return printer.deliver_hold_slip(register, data)


def deliver_sale_receipt(register: HoldDeskPort, printer: ReceiptPrinter, sale: Sale,
                          known: Mapping[str, Event], reprint: bool) -> str:
    """Save the receipt of ``sale`` (a paid hold) as a PDF in the receipts folder and print
    it (:meth:`ReceiptPrinter.deliver_sale`), as the sell screen's ``deliver_receipt`` does;
    ``known`` events are used before asking the server. Worker only. Returns the printer's
    sentence; raises as :func:`deliver_hold_slip`."""
    event = find_event(register, sale.event_id, known)
    staff, terminal = _names(register, sale.staff_id, sale.terminal_id)
    return printer.deliver_sale(register, sale, event, reprint=reprint, staff_name=staff,
                                terminal_name=terminal)


class HoldPlacement(QObject):
    """One cash hold being placed, then its slip printed (see :func:`place_cash_hold`).

    Deletes itself (``deleteLater``) once ``finished`` was emitted.

    Signals:
        placed(object): the journal settled the hold ``confirmed`` (``HoldOutcome``; its
            ``hold`` has the code); the slip is printed next.
        refused(object): the hold was not placed for sure: ``refused`` (``error`` says why,
            e.g. ``insufficient_inventory``), ``unknown`` or ``voided``; ``message`` is the
            cashier's sentence.
        failed(object): ``register.hold`` raised (not signed in, a body the schema rejects);
            nothing was journaled.
        slip_delivered(str): the slip was printed or saved ("Printed on ..." / "Saved to ...").
        slip_failed(object): rendering or printing the slip raised this exception.
        finished(): nothing more will be reported.
    """

    placed = Signal(object)
    refused = Signal(object)
    failed = Signal(object)
    slip_delivered = Signal(str)
    slip_failed = Signal(object)
    finished = Signal()

    def __init__(self, register: HoldDeskPort, runner: TaskRunner, printer: ReceiptPrinter,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._register = register
        self._runner = runner
        self._printer = printer
        self.outcome: HoldOutcomeLike | None = None

    def start(self, lines: Sequence[SaleLineIn], customer: Customer,
              ttl_seconds: int | None = None, replaces: str | None = None) -> None:
        """Run ``register.hold(lines, kind="cash", customer=customer, replaces=replaces)`` on
        the journal thread."""
        task = self._runner.write(self._register.hold, list(lines), "cash", customer,
                                  ttl_seconds=ttl_seconds, replaces=replaces)
        task.finished.connect(self.on_hold_task_finished)
        task.failed.connect(self.on_hold_task_failed)

    def on_hold_task_finished(self, outcome: HoldOutcomeLike) -> None:
        self.outcome = outcome
        if state_name(outcome) != "confirmed" or outcome.hold is None:
            self.refused.emit(outcome)
            self._finish()
            return
        self.placed.emit(outcome)
        task = self._runner.read(deliver_hold_slip, self._register, self._printer,
                                 outcome.hold)
        task.finished.connect(self.on_slip_task_finished)
        task.failed.connect(self.on_slip_task_failed)

    def on_hold_task_failed(self, exc: BaseException) -> None:
        self.failed.emit(exc)
        self._finish()

    def on_slip_task_finished(self, where: str) -> None:
        self.slip_delivered.emit(where)
        self._finish()

    def on_slip_task_failed(self, exc: BaseException) -> None:
        self.slip_failed.emit(exc)
        self._finish()

    def _finish(self) -> None:
        self.finished.emit()
        self.deleteLater()


def place_cash_hold(register: HoldDeskPort, runner: TaskRunner, printer: ReceiptPrinter,
                    lines: Sequence[SaleLineIn], customer: Customer, *,
                    ttl_seconds: int | None = None, replaces: str | None = None,
                    parent: QObject | None = None) -> HoldPlacement:
    """Hold ``lines`` (ticket type ids and quantities, one event) for cash for ``customer``
    (from :class:`~pos_app.gui.holds.hold_dialog.HoldForCashDialog`), then print the hold slip.

    Returns at once: ``register.hold(lines, kind="cash", customer=customer,
    ttl_seconds=ttl_seconds)`` runs on ``runner``'s journal thread, the slip is rendered into
    the receipts folder and printed on a worker. ``replaces``: the basket's checkout hold,
    which the cash hold takes the place of in one server transaction. Connect to the returned
    :class:`HoldPlacement`'s signals (outcomes arrive on the GUI thread, always after this
    returns). ``ttl_seconds`` may only shorten the server's 4 hours (tests).
    """
    placement = HoldPlacement(register, runner, printer, parent if parent is not None
                              else runner)
    placement.start(lines, customer, ttl_seconds, replaces)
    return placement


def printed_sentence(what: str, where: str) -> str:
    """The cashier's line for a delivered document: ``"Slip saved as hold-K7QX2M.pdf"``
    (the folder is long; the file name is what matters) or ``"Receipt: Printed on ..."``."""
    if where.startswith("Saved to "):
        return f"{what} saved as {Path(where.removeprefix('Saved to ')).name}"
    return f"{what}: {where}"
