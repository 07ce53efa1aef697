"""Receipt PDFs for an 80 mm thermal printer.

Build a :class:`ReceiptData` with :func:`receipt_from_sale` (or directly), then
:func:`render_receipt` for the PDF bytes or :func:`write_receipt` to save it atomically.
QR codes are encoded by ``segno`` and drawn as one path each (:func:`qr_runs`).
"""

from __future__ import annotations

from pos_app.receipts.data import ReceiptData, ReceiptLine, ReceiptTicket, receipt_from_sale
from pos_app.receipts.qr import qr_matrix, qr_runs
from pos_app.receipts.render import PAGE_WIDTH, receipt_filename, render_receipt, write_receipt

__all__ = [
    "PAGE_WIDTH",
    "ReceiptData",
    "ReceiptLine",
    "ReceiptTicket",
    "qr_matrix",
    "qr_runs",
    "receipt_filename",
    "receipt_from_sale",
    "render_receipt",
    "write_receipt",
]
