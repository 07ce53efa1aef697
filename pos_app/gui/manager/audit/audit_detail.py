"""The audit viewer's detail pane (every field of the selected entry, hashes included) and
the sentences the viewer says about its list: loading, empty, how much is shown, and why the
audit log cannot be read."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QFrame, QTextBrowser, QVBoxLayout, QWidget

from pos_app.api.schemas import AuditCounts, AuditEntry, AuditVerify
from pos_app.domain.audit_words import action_label
from pos_app.gui.core.failures import FailureWords, failure_sentence, server_message
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.widgets import named
from pos_app.gui.manager.audit.audit_model import AuditTableModel

__all__ = ["DETAIL_STYLE", "READ_FAILED", "VERIFY_FAILED", "AuditDetailPane", "chain_status",
           "detail_html", "list_sentences"]

DETAIL_STYLE = style_sheet("audit_detail")
_NOTHING = "Select an entry to see every field of it here, its hashes included."


def _counts(counts: AuditCounts | None) -> str:
    if counts is None:
        return "—"
    return (f"capacity {counts.capacity if counts.capacity is not None else '—'}, "
            f"sold {counts.sold if counts.sold is not None else '—'}, "
            f"held {counts.held if counts.held is not None else '—'}")


def detail_html(entry: AuditEntry, model: AuditTableModel) -> str:
    """Every field of ``entry`` as HTML, two columns of fields then the hashes (times in the
    model's zone and in UTC, names as the model knows them, reference and hashes in full)."""
    def value(text: object, *, mono: bool = False) -> str:
        shown = escape(str(text)) if text not in (None, "") else "—"
        return f"<code>{shown}</code>" if mono else shown

    staff = entry.actor.staff_id
    ticket = entry.ticket_type_id
    left = [
        ("Time", value(model.time_text(entry.at)) + " <span style='color:#64748b'>("
         + escape(entry.at.isoformat(timespec="microseconds")) + ")</span>"),
        ("Action", value(f"{action_label(entry.action)} ({entry.action})")),
        ("Ticket type", value(f"{model.ticket_type_name(ticket)} (id {ticket})"
                              if ticket is not None else None)),
        ("Quantity", value(entry.quantity)),
        ("Before", value(_counts(entry.before))),
        ("After", value(_counts(entry.after))),
    ]
    right = [
        ("Staff", value(f"{model.staff_name(entry)} (id {staff})" if staff is not None
                        else None)),
        ("Terminal", value(entry.actor.terminal_id)),
        ("Channel", value(entry.actor.channel)),
        ("Shift", value(entry.shift_id)),
        ("Approved by", value(f"staff id {entry.approved_by}" if entry.approved_by is not None
                              else None)),
        ("Reference", value(", ".join(f"{k} {v}" for k, v in (entry.ref or {}).items()),
                            mono=True)),
    ]
    cell = "style='color:#475569; padding:1px 10px 1px 0; font-weight:600' valign='top'"
    rows = "".join(
        f"<tr><td {cell}>{ln}</td><td style='padding:1px 28px 1px 0'>{lv}</td>"
        f"<td {cell}>{rn}</td><td style='padding:1px 0'>{rv}</td></tr>"
        for (ln, lv), (rn, rv) in zip(left, right, strict=True))
    rows += "".join(f"<tr><td {cell}>{name}</td><td colspan='3'>{text}</td></tr>" for name, text
                    in (("Reason", value(entry.reason)),
                        ("Previous hash", value(entry.prev_hash, mono=True)),
                        ("Hash", value(entry.hash, mono=True))))
    warning = ""
    if model.is_broken(entry):
        first = model.first_bad_seq
        if model.problem == "counts":
            why = ("The counts before this change are not the counts the previous change of "
                   "this ticket type left: a change is missing from the log or was recorded "
                   "wrong.")
        elif entry.seq == first:
            why = ("The hash chain breaks at this entry: it was changed, or the entry before "
                   "it was removed or changed.")
        else:
            why = f"After the break at entry #{first}: this entry cannot be trusted either."
        warning = (f"<p style='color:#991b1b; font-weight:700; background:#fee2e2; "
                   f"margin:0 0 4px 0'>{escape(why)}</p>")
    return (f"<p style='margin:0 0 4px 0; font-size:16px; font-weight:700'>Entry #{entry.seq}"
            f" · {escape(action_label(entry.action))}</p>{warning}"
            f"<table cellspacing='0' cellpadding='0'>{rows}</table>")


class AuditDetailPane(QFrame):
    """Shows one entry's fields (:func:`detail_html`), or a hint when none is selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditDetail")
        self.text = named(QTextBrowser(), "auditDetailText")
        self.text.setAccessibleName("Selected audit entry, every field")
        self.text.setOpenLinks(False)
        self.text.document().setDocumentMargin(2)
        self.text.setPlainText(_NOTHING)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.addWidget(self.text, 1)
        self.entry: AuditEntry | None = None

    def show_entry(self, entry: AuditEntry | None, model: AuditTableModel) -> None:
        """Show ``entry`` (``None``: the hint)."""
        self.entry = entry
        if entry is None:
            self.text.setPlainText(_NOTHING)
        else:
            self.text.setHtml(detail_html(entry, model))


READ_FAILED = FailureWords(
    forbidden="Only a manager can read the audit log. Sign in as a manager to review it.",
    session_ended="Your session has ended: sign in again to read the audit log.",
    unreachable=("Cannot reach the server, so the audit log cannot be shown. Check the "
                 "connection, then press Retry."),
    no_answer="The server did not answer in time. Press Retry to ask again.",
    refused=lambda exc: f"The server would not list these entries: {server_message(exc)}",
    invalid=lambda exc: f"These filters cannot be asked for: {exc}",
    other=lambda exc: f"The audit log could not be read ({exc}). Press Retry to ask again.",
)
"""The manager's sentence for a failed read of the audit log (never a traceback)."""


def chain_status(result: AuditVerify) -> tuple[str, str]:
    """The chain status line for a finished check and its state (``ok`` | ``broken``)."""
    if result.ok:
        text = f"Chain verified: {result.entries_checked:,} entries"
        if result.old_count_breaks:
            text += (f" ({result.old_count_breaks:,} count breaks from before the server "
                     "checked counts)")
        return text, "ok"
    seq = result.first_bad_seq
    if result.problem == "counts":
        return f"Counts do not follow on at entry #{seq}", "broken"
    if result.problem == "truncated":
        return f"Chain cut short: entries from #{seq} are missing", "broken"
    if result.problem == "rewritten":
        return (f"Chain rewritten from entry #{seq}: its hashes were recomputed without the "
                "server's key", "broken")
    return f"Chain broken at entry #{seq}", "broken"


VERIFY_FAILED = FailureWords(
    forbidden="Chain not checked: only a manager can check it.",
    unreachable="Chain not checked: the server cannot be reached.",
    # A long log takes longer than the answer time.
    no_answer="Chain not checked: no answer in time. Try again, or run pos-app audit verify.",
    other=lambda _exc: "Chain not checked: the server did not finish the check.",
)
"""The chain status line when the check itself could not run."""


def list_sentences(model: AuditTableModel) -> tuple[str | None, str, bool]:
    """``(placeholder, status, failed)`` for the list's state: the sentence shown in the
    table's place (``None``: show the table), the line under it, and whether a read failed.
    """
    rows = model.rowCount()
    error = model.error
    failure = failure_sentence(error, READ_FAILED) if error is not None else None
    placeholder: str | None = None
    if rows == 0 and (failure or not model.at_end or not model.loaded):
        placeholder = failure or ("Searching the log…" if "q" in model.filters and model.loaded
                                  else "Loading the audit log…")
    elif rows == 0:
        placeholder = ("No audit entries match these filters." if model.filters
                       else "The audit log is empty.")
    order = "newest first" if model.order == "desc" else "oldest first"
    if failure:
        status = failure
    elif model.capped:
        status = (f"Showing the first {rows:,} entries, {order}. Narrow the filters, or "
                  "export to get them all.")
    elif model.at_end:
        status = f"All {rows:,} matching entries shown, {order}."
    else:
        status = f"{rows:,} entries shown, {order}; more load as you scroll."
    return placeholder, status, failure is not None
