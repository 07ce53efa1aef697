"""Printed documents for an 80 mm thermal roll: receipt, admission tickets, hold and refund
slips, as PDFs (reportlab) and as ESC/POS jobs (python-escpos).

Build the data from the wire schemas: :func:`receipt_from_sale` (receipt and tickets),
:func:`hold_slip_from_hold`, :func:`refund_slip_from_refund`; every one takes ``reprint=True``
to mark the document REPRINT. Then either

- render PDFs: :func:`render_receipt`, :func:`render_tickets` (one page per ticket),
  :func:`render_sale_documents` (receipt then a page per ticket, one print job),
  :func:`render_hold_slip`, :func:`render_refund_slip`; each ``write_*`` twin saves the PDF
  atomically into a folder and returns its path; or
- print on an ESC/POS printer: :class:`ThermalPrinter` (``kick_drawer()`` as the sale
  confirms, ``print_sale()`` etc., ``status()`` before charging).

QR codes are encoded by ``segno`` and drawn as one path each (:func:`qr_runs`).
"""

from __future__ import annotations

from pos_app.receipts.data import (
    ReceiptData,
    ReceiptLine,
    ReceiptTicket,
    receipt_from_sale,
    ticket_price,
)
from pos_app.receipts.qr import qr_matrix, qr_runs
from pos_app.receipts.render import PAGE_WIDTH, receipt_filename, render_receipt, write_receipt
from pos_app.receipts.slip_data import (
    HoldSlipData,
    RefundSlipData,
    RefundSlipTicket,
    hold_slip_from_hold,
    refund_slip_from_refund,
)
from pos_app.receipts.slips import (
    hold_slip_filename,
    refund_slip_filename,
    render_hold_slip,
    render_refund_slip,
    write_hold_slip,
    write_refund_slip,
)
from pos_app.receipts.thermal_printer import (
    PrinterState,
    PrinterStatus,
    PrinterUnreachable,
    ThermalPrinter,
    ThermalPrinterError,
    parse_printer_url,
)
from pos_app.receipts.tickets import (
    render_sale_documents,
    render_tickets,
    sale_documents_filename,
    tickets_filename,
    write_sale_documents,
    write_tickets,
)

__all__ = [
    "PAGE_WIDTH",
    "HoldSlipData",
    "PrinterState",
    "PrinterStatus",
    "PrinterUnreachable",
    "ReceiptData",
    "ReceiptLine",
    "ReceiptTicket",
    "RefundSlipData",
    "RefundSlipTicket",
    "ThermalPrinter",
    "ThermalPrinterError",
    "hold_slip_filename",
    "hold_slip_from_hold",
    "parse_printer_url",
    "qr_matrix",
    "qr_runs",
    "receipt_filename",
    "receipt_from_sale",
    "refund_slip_filename",
    "refund_slip_from_refund",
    "render_hold_slip",
    "render_receipt",
    "render_refund_slip",
    "render_sale_documents",
    "render_tickets",
    "sale_documents_filename",
    "ticket_price",
    "tickets_filename",
    "write_hold_slip",
    "write_receipt",
    "write_refund_slip",
    "write_sale_documents",
    "write_tickets",
]
