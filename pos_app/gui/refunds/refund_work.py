"""What the refund dialog (:mod:`pos_app.gui.refunds.refund_dialog`) asks of the register, and the
work it runs on the :class:`~pos_app.gui.core.task_runner.TaskRunner`: finding a sale by its
number, and making and printing the refund slip. Worker functions only: they block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pos_app.api.schemas import Event, ManagerApproval, Refund, Sale
from pos_app.gui.core.ports import OutcomeLike, RegisterBase
from pos_app.gui.printing.printing import ReceiptPrinter

__all__ = [
    "RefundOutcomeLike",
    "RefundPort",
    "deliver_refund_slip",
    "read_sale",
    "refund_failure_sentence",
    "refusal_sentence",
]

_LOCAL_CODES = ("offline", "outcome_unknown", "unauthorized")
"""Refusals worded by the register (never sent, no answer, session over), not the server."""


class RefundOutcomeLike(OutcomeLike, Protocol):
    """A journal-settled refund (``pos_app.journal.RefundOutcome``): ``refund`` is the
    server's refund when ``confirmed``."""

    @property
    def refund(self) -> Refund | None: ...


class RefundPort(RegisterBase, Protocol):
    """What the refund dialog needs from the register (``pos_app.journal.Register``); every
    call blocks: through the runner only."""

    def sale(self, ref: str | int) -> Sale: ...

    def event(self, event_id: str) -> Event: ...

    def refund(self, sale_ref: str, *, reason: str, ticket_codes: Sequence[str] | None = None,
               manager: ManagerApproval | None = None) -> RefundOutcomeLike: ...


def read_sale(register: RefundPort, ref: str) -> Sale:
    """The sale ``ref`` (number, ticket code or id: :mod:`pos_app.domain.sale_refs`) as the
    server has it now, within the caller's scope (docs/api.md, Scopes). Worker only.

    Raises ``NotFound`` (no such sale) and the other client errors.
    """
    return register.sale(ref)


def _event_of(register: RefundPort, sale: Sale) -> Event:
    try:
        return register.event(sale.event_id)
    except KeyError:
        register.events()  # the cached events may predate this event: read them again
        try:
            return register.event(sale.event_id)
        except KeyError:
            raise LookupError(f"The event of sale #{sale.number} is no longer listed, so "
                              "the refund slip cannot be made.") from None


def deliver_refund_slip(register: RefundPort, printer: ReceiptPrinter, refund: Refund,
                        sale: Sale, *, approver_name: str, staff_name: str,
                        terminal_name: str) -> str:
    """Make the slip of ``refund`` (of ``sale``), save it as a PDF in the receipts folder and
    print it (:meth:`ReceiptPrinter.deliver_refund_slip`). Worker only.

    Returns the printer's sentence ("Printed on ..." / "Saved to <path>"). Raises
    ``LookupError`` (the sale's event is no longer listed), ``ValueError`` (the refund does
    not match the sale), :class:`~pos_app.gui.printing.printing.PrintFailed` (the PDF is saved) and
    ``OSError``.
    """
    from pos_app.receipts import refund_slip_from_refund

    data = refund_slip_from_refund(refund, sale, _event_of(register, sale),
                                   approver_name=approver_name, staff_name=staff_name,
                                   terminal_name=terminal_name)
    return printer.deliver_refund_slip(register, data)


def refund_failure_sentence(exc: BaseException) -> str:
    """The cashier's sentence for a slip that could not be made or printed (the refund itself
    stands)."""
    from pos_app.gui.printing.thermal_jobs import PrintFailed

    if isinstance(exc, LookupError):
        return f"The refund is done, but {str(exc)[0].lower()}{str(exc)[1:]}"
    if isinstance(exc, PrintFailed):
        return f"The refund is done, but the printer refused the slip ({exc})."
    return f"The refund is done, but the slip could not be made ({exc})."


def refusal_sentence(outcome: RefundOutcomeLike) -> str:
    """The sentence for a refund that was not confirmed: the server's own words when it
    refused (a wrong PIN, a ticket refunded meanwhile, no open shift: more precise than the
    register's generic ones), else the register's; says that nothing was refunded."""
    error = outcome.error
    text = outcome.message
    if (outcome.state == "refused" and error is not None and error.message
            and error.error not in _LOCAL_CODES):
        text = error.message
    if outcome.state == "refused" and "nothing" not in text.lower():
        text = f"{text.rstrip('.')}. Nothing was refunded."
    return text
