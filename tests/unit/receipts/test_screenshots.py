"""Pictures of the printed documents, as a person sees them.

Refreshes ``docs/screenshots/ticket.png``, ``docs/screenshots/hold-slip.png`` and
``docs/screenshots/refund-slip.png``: each PDF rendered at 150 dpi with poppler's ``pdftoppm``
(skipped where it is not installed).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from pos_app.receipts import render_hold_slip, render_refund_slip, render_tickets
from tests.unit.receipts.samples import hold_slip, refund_slip, sale

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
DPI = 150

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm")


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def save_first_page(pdf: bytes, name: str, tmp_path: Path) -> bytes:
    """Page 1 of ``pdf`` as ``docs/screenshots/<name>.png``; returns the PNG's bytes."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(DPI),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(tmp_path / name),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    png = (tmp_path / f"{name}.png").read_bytes()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}.png").write_bytes(png)
    return png


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("ticket", lambda: render_tickets(sale())),
        ("hold-slip", lambda: render_hold_slip(hold_slip())),
        ("refund-slip", lambda: render_refund_slip(refund_slip())),
    ],
)
def test_documents_render_to_80_mm_wide_pictures_for_the_docs(
    name: str, render: object, tmp_path: Path
) -> None:
    assert callable(render)
    png = save_first_page(render(), name, tmp_path)

    width, height = png_size(png)
    assert abs(width - 80 / 25.4 * DPI) <= 1  # 472 px: the 80 mm roll
    assert height > width
