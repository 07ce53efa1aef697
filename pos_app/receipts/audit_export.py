"""The audit log as files a manager takes away: CSV (every field, for a spreadsheet) and PDF
(a landscape A4 table to read or file).

Both start with what was exported: the filters as the viewer showed them and the hash
chain's status when it was exported, so a printout says what it is a selection of and
whether the log could be trusted. Times are shown in the venue's time zone (``timezone``;
the computer's local zone when ``None``) and written with their UTC offset in the CSV.

The words come from the caller (:class:`AuditNames`: action labels, ticket type and staff
names), so the file says what the screen says. A name that is not known is written as the
number (``#12``). Both writers save atomically (a temporary file renamed over the target).

Text that a spreadsheet would run as a formula (a reason starting with ``=``, ``+``, ``-``,
``@``) is written with a leading apostrophe in the CSV (OWASP "CSV injection"). The PDF uses
the base-14 fonts, so characters outside Windows-1252 print as ``?``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from pos_app.api.schemas import AuditCounts, AuditEntry
from pos_app.domain.audit_words import action_label, counts_text
from pos_app.files import atomic_file
from pos_app.receipts.layout import BOLD, MONO, REGULAR, write_pdf
from pos_app.receipts.text import wrap_text

__all__ = [
    "CSV_COLUMNS",
    "AuditNames",
    "counts_text",
    "ref_text",
    "write_audit_csv",
    "write_audit_pdf",
]

CSV_COLUMNS = (
    "seq", "time", "action", "action_label", "ticket_type_id", "ticket_type", "quantity",
    "before_capacity", "before_sold", "before_held", "after_capacity", "after_sold",
    "after_held", "staff_id", "staff", "terminal_id", "channel", "shift_id", "approved_by",
    "ref", "reason", "prev_hash", "hash",
)
"""The CSV's header row, after the preamble rows (title, filters, chain, exported at)."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditNames:
    """What the numbers and codes of an entry are called: ``actions`` maps an action code
    to its label ("capacity_increase" -> "Capacity increase"), ``ticket_types`` and
    ``staff`` map ids to names."""

    actions: Mapping[str, str] = field(default_factory=dict)
    ticket_types: Mapping[int, str] = field(default_factory=dict)
    staff: Mapping[int, str] = field(default_factory=dict)

    def action(self, code: str) -> str:
        """The label of ``code``; unknown codes as words ("seat_move" -> "Seat move")."""
        return action_label(code, self.actions)

    def ticket_type(self, ticket_type_id: int | None) -> str:
        """The ticket type's name, ``#id`` when unknown, ``""`` for none."""
        if ticket_type_id is None:
            return ""
        return self.ticket_types.get(ticket_type_id) or f"#{ticket_type_id}"

    def staff_name(self, staff_id: int | None) -> str:
        """The staff member's name, ``#id`` when unknown, ``""`` for none."""
        if staff_id is None:
            return ""
        return self.staff.get(staff_id) or f"#{staff_id}"


def ref_text(ref: Mapping[str, str] | None) -> str:
    """An entry's reference as words: ``{"sale_id": "9f2c"}`` -> ``"sale 9f2c"``."""
    if not ref:
        return ""
    return ", ".join(f"{kind.removesuffix('_id')} {value}" for kind, value in ref.items())


def _local(at: datetime, zone: tzinfo | None) -> datetime:
    return at.astimezone(zone) if zone is not None else at.astimezone()


def _safe_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_audit_csv(entries: Iterable[AuditEntry], path: Path, *, filters_text: str,
                    chain_text: str, names: AuditNames | None = None,
                    timezone: tzinfo | None = None, note: str | None = None,
                    exported_at: datetime | None = None) -> int:
    """Write ``entries`` (in the order given) to ``path`` as UTF-8 CSV (with a BOM, so
    spreadsheets read it as UTF-8) and return how many were written.

    The file starts with preamble rows ``["Audit log export"]``, ``["Filters",
    filters_text]``, ``["Chain", chain_text]``, ``["Exported", ISO time]``, ``["Note",
    note]`` (only with ``note``, e.g. the row cap), an empty row, then :data:`CSV_COLUMNS`
    and one row per entry: ``time`` is ISO 8601 in ``timezone`` with its offset, counts in
    their own columns, ``ref`` as :func:`ref_text`, hashes in full.

    Raises:
        OSError: the folder does not exist or is not writable (nothing is left behind).
    """
    names = names or AuditNames()
    stamp = (exported_at or datetime.now(UTC))
    count = 0

    with atomic_file(path, encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Audit log export"])
        out.writerow(["Filters", _safe_cell(filters_text)])
        out.writerow(["Chain", chain_text])
        out.writerow(["Exported", _local(stamp, timezone).isoformat(timespec="seconds")])
        if note:
            out.writerow(["Note", note])
        out.writerow([])
        out.writerow(CSV_COLUMNS)
        for e in entries:
            b, a = e.before, e.after
            out.writerow([
                e.seq, _local(e.at, timezone).isoformat(), e.action, names.action(e.action),
                _blank(e.ticket_type_id), _safe_cell(names.ticket_type(e.ticket_type_id)),
                _blank(e.quantity),
                *_count_cells(b), *_count_cells(a),
                _blank(e.actor.staff_id), _safe_cell(names.staff_name(e.actor.staff_id)),
                _blank(e.actor.terminal_id), e.actor.channel or "", _blank(e.shift_id),
                _blank(e.approved_by), _safe_cell(ref_text(e.ref)),
                _safe_cell(e.reason or ""), e.prev_hash, e.hash])
            count += 1

    return count


def _blank(value: int | None) -> str | int:
    return "" if value is None else value


def _count_cells(counts: AuditCounts | None) -> list[str | int]:
    if counts is None:
        return ["", "", ""]
    return [_blank(counts.capacity), _blank(counts.sold), _blank(counts.held)]


# --- PDF -----------------------------------------------------------------------------------

_PAGE = landscape(A4)
_MARGIN = 28.0
_SIZE = 7.5
_LEADING = 9.0
_PAD = 2.5
_MAX_LINES = 3  # of a wrapped reason; the CSV has it all
# (title, width in points, font); the last column takes what is left.
_COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("#", 40, REGULAR), ("Time", 82, REGULAR), ("Action", 86, BOLD),
    ("Ticket type", 84, REGULAR), ("Qty", 24, REGULAR), ("Counts", 128, REGULAR),
    ("Staff", 68, REGULAR), ("Term.", 30, REGULAR), ("Shift", 34, REGULAR),
    ("Hash", 42, MONO), ("Reason / reference", 0, REGULAR),
)
_RED = (0.73, 0.11, 0.11)
_TINT = (0.996, 0.886, 0.886)


def _pdf_text(text: str) -> str:
    return text.encode("cp1252", "replace").decode("cp1252")


def _fit(text: str, font: str, width: float, size: float = _SIZE) -> str:
    """``text`` cut with an ellipsis to fit ``width`` points at ``size`` pt."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _widths() -> list[float]:
    fixed = sum(w for _, w, _ in _COLUMNS)
    rest = _PAGE[0] - 2 * _MARGIN - fixed
    return [w or rest for _, w, _ in _COLUMNS]


def _cells(e: AuditEntry, names: AuditNames, zone: tzinfo | None) -> list[str]:
    reason = " · ".join(t for t in (e.reason or "", ref_text(e.ref)) if t)
    return [str(e.seq), _local(e.at, zone).strftime("%Y-%m-%d %H:%M:%S"),
            names.action(e.action), names.ticket_type(e.ticket_type_id),
            "" if e.quantity is None else str(e.quantity),
            counts_text(e.before, e.after, arrow="->"),
            names.staff_name(e.actor.staff_id),
            "" if e.actor.terminal_id is None else str(e.actor.terminal_id),
            "" if e.shift_id is None else str(e.shift_id), e.hash[:8], reason]


def write_audit_pdf(entries: Sequence[AuditEntry], path: Path, *, filters_text: str,
                    chain_text: str, names: AuditNames | None = None,
                    timezone: tzinfo | None = None, note: str | None = None,
                    first_bad_seq: int | None = None,
                    exported_at: datetime | None = None) -> int:
    """Write ``entries`` to ``path`` as a landscape A4 PDF table and return its page count.

    The first page starts with the title, the export time and zone, ``filters_text``,
    ``chain_text`` (red when it says the chain is broken) and ``note``; every page repeats
    the header row and is numbered "Page n of N". Entries at or after ``first_bad_seq``
    (the first broken link of the hash chain) are tinted red. A reason is wrapped to three
    lines at most; the hash column shows the first 8 hex digits (the CSV has them all).

    Raises:
        OSError: the folder does not exist or is not writable (nothing is left behind).
    """
    names = names or AuditNames()
    stamp = exported_at or datetime.now(UTC)
    widths = _widths()
    width, height = _PAGE
    top = height - _MARGIN
    bottom = _MARGIN + 14  # room for the footer
    head_lines = [("Audit log", BOLD, 14.0, None),
                  (f"Exported {_local(stamp, timezone).strftime('%Y-%m-%d %H:%M')} · times "
                   f"in {_zone_name(timezone)} · {len(entries):,} entries", REGULAR, 9.0, None),
                  (f"Filters: {filters_text}", REGULAR, 9.0, None),
                  (chain_text, BOLD, 9.0, _RED if "broken" in chain_text.lower() else None)]
    if note:
        head_lines.append((note, BOLD, 9.0, None))

    # Lay out first (rows into pages), so every page knows the page count.
    rows: list[tuple[list[list[str]], float, bool]] = []
    for e in entries:
        cells = [_pdf_text(c) for c in _cells(e, names, timezone)]
        lines = wrap_text(cells[-1], REGULAR, _SIZE, widths[-1] - 2 * _PAD)[:_MAX_LINES] \
            if cells[-1] else [""]
        body = [[_fit(c, font, w - 2 * _PAD)] for c, (_, _, font), w
                in zip(cells[:-1], _COLUMNS[:-1], widths[:-1], strict=True)]
        body.append(lines)
        broken = first_bad_seq is not None and e.seq >= first_bad_seq
        rows.append((body, len(lines) * _LEADING + 2 * _PAD - 1, broken))
    header_height = _LEADING + 2 * _PAD + 2
    first_top = top - sum(size + 5 for _, _, size, _ in head_lines) - 4
    pages: list[list[int]] = [[]]
    y = first_top - header_height
    for i, (_, h, _) in enumerate(rows):
        if y - h < bottom and pages[-1]:
            pages.append([])
            y = top - header_height
        pages[-1].append(i)
        y -= h

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=_PAGE, pageCompression=1)
    canvas.setTitle("Audit log")
    total = len(pages)
    for number, indexes in enumerate(pages, start=1):
        y = top
        if number == 1:
            for text, font, size, colour in head_lines:
                canvas.setFont(font, size)
                canvas.setFillColorRGB(*(colour or (0, 0, 0)))
                canvas.drawString(_MARGIN, y - size,
                                  _fit(_pdf_text(text), font, width - 2 * _MARGIN, size))
                y -= size + 5
            y -= 4
        y = _draw_header(canvas, y, widths)
        for i in indexes:
            body, h, broken = rows[i]
            if broken:
                canvas.setFillColorRGB(*_TINT)
                canvas.rect(_MARGIN, y - h, width - 2 * _MARGIN, h, stroke=0, fill=1)
            canvas.setFillColorRGB(*(_RED if broken else (0, 0, 0)))
            x = _MARGIN
            for (_, _, font), w, lines in zip(_COLUMNS, widths, body, strict=True):
                canvas.setFont(font, _SIZE)
                for k, line in enumerate(lines):
                    canvas.drawString(x + _PAD, y - _PAD - _SIZE - k * _LEADING + 1, line)
                x += w
            canvas.setStrokeColorRGB(0.88, 0.9, 0.93)
            canvas.line(_MARGIN, y - h, width - _MARGIN, y - h)
            y -= h
        if not indexes:
            canvas.setFont(REGULAR, 10)
            canvas.setFillColorRGB(0.3, 0.33, 0.4)
            canvas.drawString(_MARGIN, y - 16, "No audit entries match these filters.")
        canvas.setFont(REGULAR, 8)
        canvas.setFillColorRGB(0.3, 0.33, 0.4)
        canvas.drawString(_MARGIN, _MARGIN, _fit(_pdf_text(f"Audit log · {filters_text}"),
                                                 REGULAR, width / 2, 8))
        canvas.drawRightString(width - _MARGIN, _MARGIN, f"Page {number} of {total}")
        canvas.showPage()
    canvas.save()
    write_pdf(buffer.getvalue(), path)
    return total


def _draw_header(canvas: Canvas, y: float, widths: list[float]) -> float:
    h = _LEADING + 2 * _PAD + 2
    canvas.setFillColorRGB(0.945, 0.961, 0.976)
    canvas.rect(_MARGIN, y - h, sum(widths), h, stroke=0, fill=1)
    canvas.setFillColorRGB(0.28, 0.33, 0.41)
    canvas.setFont(BOLD, _SIZE)
    x = _MARGIN
    for (title, _, _), w in zip(_COLUMNS, widths, strict=True):
        canvas.drawString(x + _PAD, y - _PAD - _SIZE, title)
        x += w
    return y - h


def _zone_name(zone: tzinfo | None) -> str:
    if zone is None:
        return "local time"
    return str(getattr(zone, "key", None) or zone.tzname(None) or zone)
