"""Which system printer the settings mean, and what a printer's own status means for the
cashier: :class:`~pos_app.gui.printing.printer_config.PrinterReadiness` ("Printer ready", "Printer
is out of paper"), shown in the header and asked about before charging.

Every function here asks a printer or the print system (CUPS) and may block for a few
seconds: worker threads only (``ReceiptPrinter.readiness`` runs them on the
:class:`~pos_app.gui.core.task_runner.TaskRunner`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from pos_app.gui.printing.printer_config import PrinterReadiness, PrinterSettings, Readiness

if TYPE_CHECKING:
    from pos_app.receipts import ThermalPrinter

__all__ = ["system_printer", "system_readiness", "thermal_readiness"]


def system_printer(settings: PrinterSettings) -> QPrinterInfo | None:
    """The system printer ``settings`` name (their default printer when they name none), or
    ``None`` when the destination is not ``system`` or the system has no such printer."""
    if settings.destination != "system":
        return None
    if settings.system_printer is not None:
        info = QPrinterInfo.printerInfo(settings.system_printer)
    else:
        info = QPrinterInfo.defaultPrinter()
    return None if info.isNull() else info


def system_readiness(settings: PrinterSettings) -> PrinterReadiness:
    """Readiness of a ``system`` or ``pdf`` destination: ``NO_PRINTER`` for PDF only or a
    printer that is not installed; else from ``QPrinterInfo.state()`` (Idle/Active: ``OK``,
    Aborted/Error: ``OFFLINE``)."""
    if settings.destination == "pdf":
        return PrinterReadiness(Readiness.NO_PRINTER, "Receipts are saved as PDF (no printer)")
    info = system_printer(settings)
    if info is None:
        missing = (f"Printer {settings.system_printer!r} is not installed"
                   if settings.system_printer else "No printer is installed")
        return PrinterReadiness(Readiness.NO_PRINTER, f"{missing} - receipts are saved as PDF")
    name = info.printerName()
    state = info.state()
    if state in (QPrinter.PrinterState.Idle, QPrinter.PrinterState.Active):
        return PrinterReadiness(Readiness.OK, f"Printer ready ({name})")
    if state == QPrinter.PrinterState.Aborted:
        return PrinterReadiness(Readiness.OFFLINE, f"Printer {name} stopped its last job")
    return PrinterReadiness(Readiness.OFFLINE, f"Printer {name} is stopped or offline")


def thermal_readiness(thermal: ThermalPrinter) -> PrinterReadiness:
    """Readiness of a thermal printer from its real-time status
    (:meth:`~pos_app.receipts.ThermalPrinter.status`), with the printer's own sentence.
    An unreachable printer reads ``OFFLINE``; an open cover ``COVER_OPEN``, since the
    cashier's fix (close the cover) differs from that of a printer that is off. Never raises
    for printer trouble."""
    from pos_app.receipts import PrinterState

    states: dict[PrinterState, Readiness] = {
        PrinterState.READY: Readiness.OK,
        PrinterState.PAPER_LOW: Readiness.PAPER_LOW,
        PrinterState.UNKNOWN: Readiness.UNKNOWN,
        PrinterState.OUT_OF_PAPER: Readiness.PAPER_OUT,
        PrinterState.COVER_OPEN: Readiness.COVER_OPEN,
        PrinterState.OFFLINE: Readiness.OFFLINE,
        PrinterState.UNREACHABLE: Readiness.OFFLINE,
    }
    status = thermal.status()
    return PrinterReadiness(states[status.state], status.message)
