"""Read ESC/POS jobs back for the tests: the commands python-escpos sent, and the text lines.

Only the commands our documents use are understood; anything else fails loudly, so a test
never silently skips bytes it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS = 0x1B, 0x1D

# Commands with a fixed number of parameter bytes after the command byte.
_FIXED = {
    (ESC, ord("@")): 0,  # initialise
    (ESC, ord("!")): 1,  # print mode (size)
    (ESC, ord("E")): 1,  # bold
    (ESC, ord("-")): 1,  # underline
    (ESC, ord("a")): 1,  # justification
    (ESC, ord("t")): 1,  # code page
    (ESC, ord("d")): 1,  # print and feed n lines
    (ESC, ord("p")): 3,  # drawer kick pulse: pin, on time, off time
    (ESC, ord("M")): 1,  # font
    (GS, ord("!")): 1,  # character size
    (GS, ord("B")): 1,  # white/black reverse
}


@dataclass
class Job:
    """A parsed job: ``commands`` as ``(name, parameter bytes)`` in order, and ``lines``,
    the text printed between line feeds (decoded as code page 437, styles dropped)."""

    commands: list[tuple[str, bytes]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def named(self, name: str) -> list[bytes]:
        return [params for command, params in self.commands if command == name]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def qr_contents(self) -> list[str]:
        """Data stored in the printer's QR symbol buffer (``GS ( k`` function 180)."""
        return [p[3:].decode() for p in self.named("GS ( k") if p[:3] == b"1P0"]

    def pieces(self) -> list[str]:
        """The text of each cut piece of paper."""
        pieces, current = [], []
        for command, params in self.commands:
            if command == "text":
                current.append(params.decode("cp437"))
            elif command == "GS V":
                pieces.append("".join(current))
                current = []
        return pieces


def read_job(data: bytes) -> Job:
    """Split ``data`` into commands and text lines.

    Raises:
        AssertionError: an escape sequence this reader does not know.
    """
    job = Job()
    line = bytearray()
    i = 0

    def flush_text() -> None:
        if line:
            job.commands.append(("text", bytes(line)))

    while i < len(data):
        byte = data[i]
        if byte in (ESC, GS):
            flush_text()
            command = data[i + 1]
            name = f"{'ESC' if byte == ESC else 'GS'} {chr(command)}"
            if (byte, command) in _FIXED:
                size = _FIXED[(byte, command)]
                job.commands.append((name, data[i + 2 : i + 2 + size]))
                i += 2 + size
            elif (byte, command) == (GS, ord("V")):
                size = 2 if data[i + 2] in (65, 66) else 1
                job.commands.append(("GS V", data[i + 2 : i + 2 + size]))
                i += 2 + size
            elif (byte, command) == (GS, ord("(")) and data[i + 2] in b"kL":
                length = data[i + 3] + 256 * data[i + 4]
                name = f"GS ( {chr(data[i + 2])}"
                job.commands.append((name, data[i + 5 : i + 5 + length]))
                i += 5 + length
            elif (byte, command) == (GS, ord("v")):  # GS v 0 m xL xH yL yH raster
                width_bytes = data[i + 4] + 256 * data[i + 5]
                height = data[i + 6] + 256 * data[i + 7]
                job.commands.append(("GS v 0", data[i + 4 : i + 8]))
                i += 8 + width_bytes * height
            else:
                raise AssertionError(f"unknown command {data[i : i + 4]!r} at {i}")
            line.clear()
            continue
        line.append(byte)
        i += 1
    flush_text()
    text = b"".join(p for c, p in job.commands if c == "text").decode("cp437")
    job.lines = text.split("\n")
    return job
