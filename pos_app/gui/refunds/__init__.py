"""Refunds and the receipts of the shift: find a sale, pick its tickets, refund them, reprint."""
