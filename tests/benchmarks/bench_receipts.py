"""Receipt rendering speed: our one-path QR drawing against reportlab's own QR widget.

Run ``python tests/benchmarks/bench_receipts.py`` from the repository root. It renders the
same 2-ticket receipt (layout, text, PDF serialisation included) 200 times after a warm-up,
first as shipped, then with each QR drawn the way people usually write it
(``QrCodeWidget`` in a ``Drawing``, sized with ``getBounds()``), and prints p50/p95 of each
and their ratio. It also compares reportlab's page compression on and off. No timing is
asserted: numbers depend on the machine. Importable: :func:`main` returns the figures.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

from pos_app.receipts import ReceiptData, qr_matrix, render_receipt
from pos_app.receipts import render as receipt_render

RUNS = 200
WARM_UP = 20


def sample_receipt(tickets: int = 2) -> ReceiptData:
    """The demo sale: ``tickets`` x General Admission at $45.00, paid with $100.00."""
    codes = [f"GA7K-3QX9-PL2M-{n:04d}" for n in range(1, tickets + 1)]
    total = 4500 * tickets
    return ReceiptData(
        venue="The Grand Hall, Chicago IL",
        event_name="Harbour Lights - Live at the Grand Hall",
        event_starts_at=datetime(2026, 1, 26, 2, 0, tzinfo=UTC),
        timezone="America/Chicago",
        sale_number=42,
        sale_created_at=datetime(2026, 1, 25, 15, 0, tzinfo=UTC),
        lines=(("General Admission", tickets, 4500, total),),
        total=total,
        currency="USD",
        tendered=max(10000, total),
        change=max(10000, total) - total,
        staff_name="Maria Lopez",
        terminal_name="Box Office 1",
        tickets=tuple((code, "General Admission") for code in codes),
    )


def draw_qr_naive(canvas: Any, code: str, matrix: Any, x: float, top: float, size: float) -> None:
    """The usual reportlab recipe: a ``QrCodeWidget`` scaled to ``size`` via ``getBounds()``.

    Ignores ``matrix`` and encodes ``code`` with reportlab's pure-Python encoder.
    """
    widget = QrCodeWidget(code, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, top - size)


def time_ms(render: Callable[[], object], runs: int = RUNS) -> list[float]:
    """Wall time in ms of ``runs`` calls of ``render``, after :data:`WARM_UP` untimed calls."""
    for _ in range(WARM_UP):
        render()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        render()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p50_p95(samples: list[float]) -> tuple[float, float]:
    """Median and 95th percentile of ``samples``."""
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def main() -> dict[str, tuple[float, float]]:
    """Run every measurement, print a table, return ``{name: (p50_ms, p95_ms)}``."""
    data = sample_receipt(2)
    results: dict[str, tuple[float, float]] = {}

    results["segno encode, 1 ticket"] = p50_p95(time_ms(lambda: qr_matrix(data.tickets[0].code)))
    results["receipt, one-path QR (shipped)"] = p50_p95(time_ms(lambda: render_receipt(data)))
    results["receipt, naive QrCodeWidget"] = p50_p95(
        time_ms(lambda: receipt_render._render(data, draw_qr_naive))
    )
    shipped = receipt_render.PAGE_COMPRESSION
    try:
        for level in (0, 1):
            receipt_render.PAGE_COMPRESSION = level
            results[f"receipt, pageCompression={level}"] = p50_p95(
                time_ms(lambda: render_receipt(data))
            )
    finally:
        receipt_render.PAGE_COMPRESSION = shipped

    print(f"Receipt rendering, 2 tickets, {RUNS} runs after {WARM_UP} warm-up (ms)")
    print(f"{'':34} {'p50':>8} {'p95':>8}")
    for name, (p50, p95) in results.items():
        print(f"{name:34} {p50:8.2f} {p95:8.2f}")
    fast = results["receipt, one-path QR (shipped)"][0]
    naive = results["receipt, naive QrCodeWidget"][0]
    print(f"naive / shipped at p50: {naive / fast:.1f}x  (target: shipped p50 <= 15 ms)")
    print(f"shipped pageCompression={shipped}; PDF size {len(render_receipt(data))} bytes")
    return results


if __name__ == "__main__":
    main()
