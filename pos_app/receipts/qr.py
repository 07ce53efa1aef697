"""QR codes drawn as one filled PDF path.

``segno`` encodes (fast, ISO/IEC 18004); each row's horizontal runs of dark modules become
one rectangle, and all rectangles of a symbol go into a single path filled once. That keeps
the PDF small and the rendering fast (see ``shared/MEASUREMENTS.md``, Receipts).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

import segno

__all__ = ["QR_ERROR_LEVEL", "QR_QUIET_ZONE", "draw_qr", "qr_matrix", "qr_runs", "trace_runs"]

QR_ERROR_LEVEL = "m"
"""Error correction level: M restores ~15% of damaged modules (a creased receipt)."""

QR_QUIET_ZONE = 4
"""Light modules required around the symbol by ISO/IEC 18004; the caller leaves this space."""

_DARK_RUN = re.compile(rb"[^\x00]+")

Matrix = Sequence[Sequence[int]]
"""Rows of modules, top to bottom; a truthy value is a dark module (segno's ``.matrix``)."""


class PathLike(Protocol):
    """What :func:`trace_runs` needs of a path: reportlab's ``PDFPathObject`` has it."""

    def rect(self, x: float, y: float, width: float, height: float) -> Any: ...


def qr_matrix(code: str) -> tuple[bytearray, ...]:
    """Module matrix of ``code`` as a QR code at error level M, without quiet zone.

    Returns:
        Square tuple of rows (``bytearray``, 1 = dark), 21 to 177 modules a side.

    Raises:
        segno.DataOverflowError: ``code`` does not fit in a QR code at level M.
    """
    matrix: tuple[bytearray, ...] = segno.make_qr(code, error=QR_ERROR_LEVEL).matrix
    return matrix


def qr_runs(matrix: Matrix) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules in ``matrix``, as ``(row, col_start, length)``.

    Rows are counted from the top, columns from the left, in modules. Expanding every run
    gives back exactly the dark modules of ``matrix``; runs never touch within a row.
    """
    runs: list[tuple[int, int, int]] = []
    append = runs.append
    for row, modules in enumerate(matrix):
        data = modules if isinstance(modules, bytes | bytearray) else bytes(map(bool, modules))
        for match in _DARK_RUN.finditer(data):
            start, end = match.span()
            append((row, start, end - start))
    return runs


def trace_runs(path: PathLike, runs: Sequence[tuple[int, int, int]]) -> None:
    """Add one rectangle per run to ``path``, in module units.

    Run ``(row, col, length)`` becomes the rectangle ``x=col, y=row, width=length,
    height=1``: the caller's transformation maps module space (y growing down the symbol)
    to the page.
    """
    rect = path.rect
    for row, col, length in runs:
        rect(col, row, length, 1)


def draw_qr(canvas: Any, matrix: Matrix, *, x: float, top: float, size: float) -> None:
    """Draw the QR symbol ``matrix`` (from :func:`qr_matrix`) on ``canvas`` as one filled path.

    Args:
        canvas: a ``reportlab.pdfgen.canvas.Canvas``.
        matrix: square module matrix without quiet zone, rows top to bottom.
        x: left edge of the symbol, in points from the page's left edge.
        top: top edge of the symbol, in points from the page's bottom edge.
        size: width and height of the symbol without its quiet zone, in points.
    """
    module = size / len(matrix)
    path = canvas.beginPath()
    trace_runs(path, qr_runs(matrix))
    canvas.saveState()
    # Module space: origin at the symbol's top-left corner, one unit per module, y down.
    canvas.transform(module, 0, 0, -module, x, top)
    canvas.setFillGray(0)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()
