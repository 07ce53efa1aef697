"""Receipts and tickets on paper: the printer settings, the print paths (PDF, system queue,
thermal) and the printer's status in the header."""
