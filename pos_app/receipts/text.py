"""Text helpers of the printed documents: local times for people, codes read aloud, and
wrapping to a width in points."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from reportlab.pdfbase.pdfmetrics import stringWidth

__all__ = ["format_local_time", "group_code", "spell_code", "wrap_text"]

# Fixed English names: strftime's %a/%b follow the process locale, which Qt may change.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ICAO/NATO spelling alphabet (ICAO Annex 10, Vol. II), for codes read over a counter or phone.
_SPOKEN = {
    "A": "Alfa", "B": "Bravo", "C": "Charlie", "D": "Delta", "E": "Echo", "F": "Foxtrot",
    "G": "Golf", "H": "Hotel", "I": "India", "J": "Juliett", "K": "Kilo", "L": "Lima",
    "M": "Mike", "N": "November", "O": "Oscar", "P": "Papa", "Q": "Quebec", "R": "Romeo",
    "S": "Sierra", "T": "Tango", "U": "Uniform", "V": "Victor", "W": "Whiskey", "X": "X-ray",
    "Y": "Yankee", "Z": "Zulu", "0": "Zero", "1": "One", "2": "Two", "3": "Three",
    "4": "Four", "5": "Five", "6": "Six", "7": "Seven", "8": "Eight", "9": "Nine",
}  # fmt: skip


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def format_local_time(moment: datetime, zone: str) -> str:
    """``moment`` as wall-clock time in IANA ``zone``, e.g. ``"Sun 25 Jan 2026, 9:00 AM CST"``.

    The abbreviation is the zone database's (``CST``/``CDT``, ``BST``, or ``+0530``-style
    where the database has none), so daylight saving time is shown as it applies that day.

    Raises:
        ValueError: ``moment`` is naive.
        zoneinfo.ZoneInfoNotFoundError: ``zone`` is not in the time zone database.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"cannot place a naive datetime in a zone: {moment!r}")
    local = moment.astimezone(_zone(zone))
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}, "
        f"{hour}:{local.minute:02d} {meridiem} {local.tzname()}"
    )


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` points in ``font`` at ``size`` pt.

    Breaks at spaces; a single word wider than ``width`` is broken between characters.
    Always returns at least one line (an empty string for empty text).
    """
    words = text.split()
    if not words:
        return [""]
    space = stringWidth(" ", font, size)
    lines: list[str] = []
    current = ""
    current_width = 0.0
    for word in words:
        word_width = stringWidth(word, font, size)
        if current and current_width + space + word_width <= width:
            current += " " + word
            current_width += space + word_width
            continue
        if current:
            lines.append(current)
        while word_width > width:  # an over-long word: split between characters
            cut = len(word) - 1
            while cut > 1 and stringWidth(word[:cut], font, size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
            word_width = stringWidth(word, font, size)
        current, current_width = word, word_width
    lines.append(current)
    return lines


def group_code(code: str, size: int = 3) -> str:
    """``code`` upper-cased in groups of ``size`` characters, e.g. ``"k7qx3m" -> "K7Q X3M"``.

    Short groups are easier to read aloud and to type back; spaces and dashes already in
    ``code`` are dropped first.
    """
    plain = "".join(code.split()).replace("-", "").upper()
    return " ".join(plain[start : start + size] for start in range(0, len(plain), size))


def spell_code(code: str) -> str:
    """``code`` in the ICAO spelling alphabet, groups of :func:`group_code` apart by `` - ``.

    E.g. ``"K7QX3M" -> "Kilo Seven Quebec - X-ray Three Mike"``. A character without a code
    word (punctuation, accents) is spelled as itself.
    """
    return " - ".join(
        " ".join(_SPOKEN.get(char, char) for char in group) for group in group_code(code).split()
    )
