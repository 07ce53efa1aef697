"""Automatic reconciliation of the journal with the server (``shared/DESIGN.md``).

It settles every ``pending`` / ``unknown`` entry by *looking its key up* and, when the entry
is old enough (or was left by a crash), *voiding* it; it never re-sends a request, so nothing
ever executes late. A request that completed on the server without the cashier seeing it is
settled ``confirmed`` and flagged for the manager (``flagged_for_manager``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pos_app.api.errors import ErrorCode
from pos_app.client import (
    ApiError,
    ClientError,
    Forbidden,
    InventoryClient,
    KeyState,
    NotSignedIn,
    OutcomeUnknown,
    RequestInProgress,
    ServerUnreachable,
    Unauthorized,
)
from pos_app.journal._operations import reference_of
from pos_app.journal._store import EntryState, InvalidTransition, Journal, JournalEntry

__all__ = ["DEFAULT_PENDING_AFTER", "DEFAULT_VOID_AFTER", "ReconcileReport", "reconcile",
           "settle_from_key_state"]

DEFAULT_VOID_AFTER = timedelta(minutes=2)
# A pending entry younger than this may belong to a request still running in this process.
DEFAULT_PENDING_AFTER = timedelta(seconds=5)
VOIDED_BODY = {"error": ErrorCode.IDEMPOTENCY_KEY_VOIDED,
               "message": "Voided on the server: this request can never execute."}


@dataclass
class ReconcileReport:
    """What one reconciliation run did, by journal key.

    Attributes:
        confirmed: settled ``confirmed`` (each one also in ``flagged``).
        refused: settled ``refused`` from a stored refusal.
        voided: settled ``voided`` (the server guarantees they never execute).
        flagged: completed without the cashier seeing it: for the manager.
        left: still ``pending`` / ``unknown`` (too recent, running, or the server could not
            be asked).
        recent: of ``left``, the ``pending`` entries younger than ``pending_after`` (they may
            belong to a request still in flight in a running process): not even looked up;
            due once that old (``pos-app reconcile`` says "try again in a few seconds").
        not_due: of ``left``, the keys the server never saw whose entries are younger than
            ``void_after``: voided on a later run.
        offline: the server could not be reached (the run stopped early).
    """

    confirmed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)
    offline: bool = False

    @property
    def unresolved(self) -> int:
        """How many entries are still unresolved."""
        return len(self.left)

    def as_json(self) -> dict[str, Any]:
        return {"confirmed": self.confirmed, "refused": self.refused, "voided": self.voided,
                "flagged": self.flagged, "left": self.left, "recent": self.recent,
                "not_due": self.not_due, "offline": self.offline, "unresolved": self.unresolved}


def settle_from_key_state(journal: Journal, entry: JournalEntry,
                          state: KeyState) -> JournalEntry | None:
    """Settle ``entry`` from the server's ``state`` of its key: ``completed`` with a 2xx ->
    ``confirmed`` and flagged for the manager; a stored refusal -> ``refused``; ``voided``
    -> ``voided``. Returns the settled entry, or ``None`` when there is nothing to settle
    (``in_progress``) or another thread settled it first."""
    try:
        if state.status == "voided":
            return journal.settle(entry.key, EntryState.VOIDED, response=VOIDED_BODY,
                                  error_code=ErrorCode.IDEMPOTENCY_KEY_VOIDED)
        if state.status != "completed" or state.response_status is None:
            return None
        body = state.response or {}
        if 200 <= state.response_status < 300:
            return journal.settle(entry.key, EntryState.CONFIRMED, response=body,
                                  reference=reference_of(entry.operation, body), flagged=True)
        return journal.settle(entry.key, EntryState.REFUSED, response=body,
                              error_code=str(body.get("error") or
                                             f"http_{state.response_status}"))
    except InvalidTransition:
        return None


def reconcile(journal: Journal, client: InventoryClient, *,
              void_after: timedelta = DEFAULT_VOID_AFTER,
              pending_after: timedelta = DEFAULT_PENDING_AFTER, at_startup: bool = False,
              now: datetime | None = None) -> ReconcileReport:
    """Settle every ``pending`` / ``unknown`` journal entry with the server, oldest first.

    For each: its key is looked up (``GET /v1/idempotency-keys/{key}``); a completed
    request is settled from its stored response (a success ``confirmed`` and flagged); a
    running one is left. A key the server never saw is voided (``POST .../void``; the
    answer is settled the same way) when the entry is due: ``unknown`` entries last tried
    ``void_after`` or longer ago; ``pending`` entries (left by a crash, or still running in
    this process) ``min(void_after, pending_after)`` or longer ago, or any at start-up.
    Pending entries not yet due are not even looked up. Nothing is ever re-sent.

    A network failure leaves the remaining entries as they are (``report.offline``).

    Raises:
        Unauthorized / Forbidden / NotSignedIn: the session cannot ask the server.
    """
    now = now or datetime.now(UTC)
    report = ReconcileReport()
    entries = journal.unresolved()
    pending_due = min(void_after, pending_after)
    for index, entry in enumerate(entries):
        age = now - entry.updated_at
        if entry.state is EntryState.PENDING and not at_startup and age < pending_due:
            report.left.append(entry.key)
            report.recent.append(entry.key)
            continue
        due = (at_startup or age >= pending_due if entry.state is EntryState.PENDING
               else age >= void_after)
        try:
            state = client.lookup_key(entry.key)
            if state is None and due:
                state = client.void_key(entry.key)
        except (Unauthorized, Forbidden, NotSignedIn):
            raise
        except RequestInProgress:
            report.left.append(entry.key)
            continue
        except (ServerUnreachable, OutcomeUnknown):
            report.offline = True
            report.left.extend(e.key for e in entries[index:])
            break
        except (ApiError, ClientError):
            report.left.append(entry.key)
            continue
        settled = None if state is None else settle_from_key_state(journal, entry, state)
        if settled is None:
            current = journal.get(entry.key)
            if current is None or current.state in (EntryState.PENDING, EntryState.UNKNOWN):
                report.left.append(entry.key)
                if state is None:  # never seen by the server, not yet due to be voided
                    report.not_due.append(entry.key)
            continue
        if settled.state is EntryState.CONFIRMED:
            report.confirmed.append(entry.key)
        elif settled.state is EntryState.REFUSED:
            report.refused.append(entry.key)
        else:
            report.voided.append(entry.key)
        if settled.flagged_for_manager:
            report.flagged.append(entry.key)
    return report
