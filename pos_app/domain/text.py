"""Characters no text a person types may carry into the system.

* NUL (U+0000): PostgreSQL text cannot hold it (the statement fails), C strings end at it.
* The bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069,
  Unicode UAX #9 "Unicode Bidirectional Algorithm", section 2): they reorder what is shown
  around them, so a name printed on a hold slip or shown in the audit log can read differently
  from what is stored ("Trojan Source", CVE-2021-42574). The implicit marks (U+200E, U+200F,
  U+061C) only affect neutral characters next to them and stay allowed for right-to-left
  names.
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE_TEXT", "unsafe_character"]

UNSAFE_TEXT = re.compile("[\x00\u202a-\u202e\u2066-\u2069]")
"""Matches any character :func:`unsafe_character` refuses."""

_NAMES = {"\x00": "NUL", "\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF", "\u202d": "LRO",
          "\u202e": "RLO", "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI"}


def unsafe_character(text: str) -> str | None:
    """A description of the first refused character in ``text`` (``"U+202E (RLO)"``), or
    None when ``text`` is clean.

    >>> unsafe_character("Dana Smith"), unsafe_character("a\\u202ebc")
    (None, 'U+202E (RLO)')
    """
    found = UNSAFE_TEXT.search(text)
    if found is None:
        return None
    char = found.group()
    return f"U+{ord(char):04X} ({_NAMES[char]})"
