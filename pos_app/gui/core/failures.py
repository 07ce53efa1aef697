"""The one way the window turns a call's exception into a sentence for people (never a
traceback).

:func:`failure_sentence` sorts the exception into a kind, most specific first: the session
ended (``NotSignedIn``, ``Unauthorized``), not allowed (``Forbidden``), the server cannot be
reached (``ServerUnreachable``), no answer in time (``OutcomeUnknown``), not found
(``NotFound``), refused (any other ``ApiError``), cannot be sent (``ValueError``). Each place
that reads or changes something says in a :class:`FailureWords` what each kind means there;
a kind it leaves ``None`` is not told apart and goes on to the next kind that fits, and
finally to ``other``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FailureWords", "Said", "failure_sentence", "first_line", "nothing_changed",
           "server_message"]

Said = str | Callable[[BaseException], str] | None
"""A sentence, or a function of the exception that gives one; ``None``: not told apart."""


@dataclass(frozen=True, kw_only=True)
class FailureWords:
    """What to say for each kind of failure (module docstring) in one place of the window."""

    other: Callable[[BaseException], str]
    session_ended: Said = None
    forbidden: Said = None
    unreachable: Said = None
    no_answer: Said = None
    not_found: Said = None
    refused: Said = None
    invalid: Said = None


def failure_sentence(exc: BaseException, words: FailureWords | None = None) -> str:
    """The sentence for a call that raised ``exc``, in ``words`` (default:
    :func:`nothing_changed`)."""
    from pos_app.client import (
        ApiError,
        Forbidden,
        NotFound,
        NotSignedIn,
        OutcomeUnknown,
        ServerUnreachable,
        Unauthorized,
    )

    words = words if words is not None else nothing_changed()
    kinds: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Said], ...] = (
        ((NotSignedIn, Unauthorized), words.session_ended),
        (Forbidden, words.forbidden),
        (ServerUnreachable, words.unreachable),
        (OutcomeUnknown, words.no_answer),
        (NotFound, words.not_found),
        (ApiError, words.refused),
        (ValueError, words.invalid),
    )
    for kind, said in kinds:
        if said is not None and isinstance(exc, kind):
            return said if isinstance(said, str) else said(exc)
    return words.other(exc)


def server_message(exc: BaseException) -> str:
    """The server's own message of an ``ApiError`` (else the exception's text)."""
    from pos_app.client import ApiError

    return exc.body.message if isinstance(exc, ApiError) else str(exc)


def first_line(exc: BaseException) -> str:
    """The first lines of ``exc``'s text, without the link pydantic appends to its docs."""
    text = str(exc).strip().splitlines()
    # pydantic puts the field and the rule on the first lines; the URL of its docs after.
    return " ".join(line.strip() for line in text[:3] if not line.strip().startswith("For "))


def nothing_changed(what: str = "Nothing was changed") -> FailureWords:
    """The words for a change (or a search) a manager or cashier asked for; ``what`` says
    what did not happen."""
    return FailureWords(
        session_ended=f"Your session has ended: sign in again. {what}.",
        unreachable=f"Cannot reach the server. {what}; try again when the connection is back.",
        no_answer="The server did not answer in time. Check before trying again.",
        not_found=lambda exc: f"{server_message(exc)} {what}.",
        refused=lambda exc: f"The server refused: {server_message(exc)}",
        invalid=lambda exc: f"That cannot be sent ({first_line(exc)}). {what}.",
        other=lambda exc: f"{what} ({exc}).",
    )
