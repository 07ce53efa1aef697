"""An ESC/POS thermal printer reached by a URL-like setting: print jobs, drawer kick, status.

Printer addresses (:func:`parse_printer_url`)::

    tcp://192.168.1.50:9100     network printer (raw TCP, port 9100 when left out)
    192.168.1.50:9100           the same, without the scheme
    usb://04b8:0202             USB vendor:product in hex (needs ``pyusb``)
    serial:///dev/ttyUSB0?baudrate=19200   serial device (needs ``pyserial``; 9600 baud)

Every call opens its own connection and closes it afterwards: a network printer serves one
connection at a time, and a USB or serial device can be opened by one process only. Calls on
one :class:`ThermalPrinter` are serialised by a lock, so a drawer kick never interleaves its
bytes with a print job; all of them block, so run them on a worker thread.

Exceptions::

    ThermalPrinterError          the job did not reach the printer (nothing or part printed)
     +-- PrinterUnreachable      could not connect: wrong address, off, unplugged, no driver
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs, urlsplit

from pos_app.receipts.data import ReceiptData
from pos_app.receipts.slip_data import HoldSlipData, RefundSlipData
from pos_app.receipts.thermal import (
    DEFAULT_PROFILE,
    QrMode,
    hold_slip_commands,
    receipt_commands,
    refund_slip_commands,
    sale_commands,
    tickets_commands,
)

__all__ = [
    "DLE_EOT_OFFLINE_CAUSE",
    "DLE_EOT_PAPER",
    "DLE_EOT_PRINTER",
    "EscposConnection",
    "PrinterAddress",
    "PrinterState",
    "PrinterStatus",
    "PrinterUnreachable",
    "ThermalPrinter",
    "ThermalPrinterError",
    "open_connection",
    "parse_printer_url",
]

DEFAULT_PORT = 9100
"""Raw TCP printing port of network receipt printers."""

# Real-time status requests (ESC/POS DLE EOT n): answered with one byte even while the printer
# is offline. Bits 1 and 4 of every answer are set and bits 0 and 7 clear.
DLE_EOT_PRINTER = b"\x10\x04\x01"
"""Printer status: bit 3 set = offline."""
DLE_EOT_OFFLINE_CAUSE = b"\x10\x04\x02"
"""Offline cause: bit 2 cover open, bit 3 paper being fed by button, bit 5 stopped for paper
end, bit 6 error."""
DLE_EOT_PAPER = b"\x10\x04\x04"
"""Roll paper sensor: bits 2-3 near end, bits 5-6 paper end."""
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12


class ThermalPrinterError(RuntimeError):
    """The job did not reach the printer: nothing, or only part of it, printed."""


class PrinterUnreachable(ThermalPrinterError):
    """The printer could not be connected: wrong address, switched off, unplugged, or the
    connection's library (``pyusb``, ``pyserial``) is missing."""


class EscposConnection(Protocol):
    """What is used of a python-escpos printer (``Network``, ``Usb``, ``Serial``, ``Dummy``)."""

    def open(self) -> None: ...
    def close(self) -> None: ...
    def _raw(self, msg: bytes) -> None: ...
    def query_status(self, mode: bytes) -> bytes: ...
    def cashdraw(self, pin: int) -> None: ...


@dataclass(frozen=True, slots=True)
class PrinterAddress:
    """Where a thermal printer is: ``kind`` and the fields that kind uses.

    ``network``: ``host``, ``port``; ``usb``: ``vendor_id``, ``product_id``; ``serial``:
    ``device``, ``baudrate``. ``str()`` gives back the canonical URL.
    """

    kind: Literal["network", "usb", "serial"]
    host: str = ""
    port: int = DEFAULT_PORT
    vendor_id: int = 0
    product_id: int = 0
    device: str = ""
    baudrate: int = 9600

    def __str__(self) -> str:
        if self.kind == "network":
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"tcp://{host}:{self.port}"
        if self.kind == "usb":
            return f"usb://{self.vendor_id:04x}:{self.product_id:04x}"
        return f"serial://{self.device}?baudrate={self.baudrate}"


def parse_printer_url(url: str) -> PrinterAddress:
    """The :class:`PrinterAddress` of a printer setting (forms in the module docstring).

    Raises:
        ValueError: ``url`` is empty, has an unknown scheme, or a bad port, id or baud rate.
    """
    text = url.strip()
    if not text:
        raise ValueError("no printer address given")
    if "://" not in text and not text.startswith("serial:"):
        text = f"tcp://{text}"
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme in ("tcp", "socket", "network"):
            if not parts.hostname:
                raise ValueError("no host")
            return PrinterAddress("network", host=parts.hostname, port=parts.port or DEFAULT_PORT)
        if scheme == "usb":
            vendor, _, product = parts.netloc.partition(":")
            return PrinterAddress("usb", vendor_id=_hex_id(vendor), product_id=_hex_id(product))
        if scheme == "serial":
            device = (parts.netloc + parts.path) or ""
            query = parse_qs(parts.query)
            baudrate = int(query.get("baudrate", ["9600"])[0])
            if not device or baudrate <= 0:
                raise ValueError("no device or bad baud rate")
            return PrinterAddress("serial", device=device, baudrate=baudrate)
    except ValueError as error:
        raise ValueError(f"bad printer address {url!r}: {error}") from None
    raise ValueError(f"bad printer address {url!r}: use tcp://, usb:// or serial://")


def _hex_id(text: str) -> int:
    value = int(text.removeprefix("0x"), 16)
    if not 0 < value <= 0xFFFF:
        raise ValueError(f"USB id {text!r} out of range")
    return value


def open_connection(
    address: PrinterAddress, *, profile: str = DEFAULT_PROFILE, timeout: float = 5.0
) -> EscposConnection:
    """An open python-escpos connection to ``address``; ``timeout`` in seconds bounds the
    network connect and every read and write.

    Raises:
        PrinterUnreachable: the printer cannot be reached, or the library the connection
            needs is not installed.
    """
    from escpos import printer as escpos_printer  # type: ignore[import-untyped]

    connection: Any
    if address.kind == "network":
        connection = escpos_printer.Network(
            address.host, address.port, timeout=timeout, profile=profile
        )
    elif address.kind == "usb":
        if not escpos_printer.Usb.is_usable():
            raise PrinterUnreachable("USB printing needs the pyusb package")
        connection = escpos_printer.Usb(
            address.vendor_id, address.product_id, timeout=int(timeout * 1000), profile=profile
        )
    else:
        if not escpos_printer.Serial.is_usable():
            raise PrinterUnreachable("serial printing needs the pyserial package")
        connection = escpos_printer.Serial(
            devfile=address.device, baudrate=address.baudrate, timeout=timeout, profile=profile
        )
    try:
        connection.open()
    except Exception as error:  # DeviceNotFoundError, OSError, usb/serial errors
        detail = " ".join(str(error).split())  # python-escpos puts newlines in its messages
        raise PrinterUnreachable(f"cannot reach the printer at {address}: {detail}") from error
    opened: EscposConnection = connection
    return opened


class PrinterState(StrEnum):
    """What a status check found, from best to worst for printing."""

    READY = "ready"
    PAPER_LOW = "paper_low"
    UNKNOWN = "unknown"
    """Connected, but the printer did not answer a status request (some models never do)."""
    OUT_OF_PAPER = "out_of_paper"
    COVER_OPEN = "cover_open"
    """Offline because the paper cover is open (the offline cause says so): close it."""
    OFFLINE = "offline"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """A status check's outcome: ``state`` and a sentence for the cashier."""

    state: PrinterState
    message: str

    @property
    def can_print(self) -> bool:
        """``True`` when a job would probably print (ready, paper low, or not saying)."""
        return self.state in (PrinterState.READY, PrinterState.PAPER_LOW, PrinterState.UNKNOWN)


Connect = Callable[[PrinterAddress, float], EscposConnection]
"""Opens a connection: ``(address, timeout in seconds)``; raises :class:`PrinterUnreachable`."""


class ThermalPrinter:
    """One ESC/POS printer: print the documents, kick its cash drawer, check its status.

    Args:
        url: the printer's address (see :func:`parse_printer_url`) or a parsed one.
        profile: python-escpos printer profile (columns, code pages, image width).
        qr_mode: ``"native"`` QR command, or ``"image"`` for printers without one.
        drawer_pin: the drawer kick connector pin, 2 or 5 (most drawers: 2).
        timeout: seconds allowed to connect and to write a job.
        status_timeout: seconds to wait for each status answer.
        connect: opens connections; tests pass one returning a python-escpos ``Dummy``.

    Raises:
        ValueError: ``url`` is not a printer address.
    """

    def __init__(
        self,
        url: str | PrinterAddress,
        *,
        profile: str = DEFAULT_PROFILE,
        qr_mode: QrMode = "native",
        drawer_pin: Literal[2, 5] = 2,
        timeout: float = 5.0,
        status_timeout: float = 1.5,
        connect: Connect | None = None,
    ) -> None:
        self.address = url if isinstance(url, PrinterAddress) else parse_printer_url(url)
        self.profile = profile
        self.qr_mode: QrMode = qr_mode
        self.drawer_pin = drawer_pin
        self.timeout = timeout
        self.status_timeout = status_timeout
        self._connect: Connect = connect or (
            lambda address, seconds: open_connection(address, profile=profile, timeout=seconds)
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ThermalPrinter({str(self.address)!r})"

    # --- jobs ------------------------------------------------------------------------------

    def kick_drawer(self) -> None:
        """Open the cash drawer wired to the printer (``ESC p``), at once.

        Call it as the sale confirms, before rendering or printing the receipt: it is a
        separate, tiny job, so the drawer opens while the receipt is still being made.

        Raises:
            ThermalPrinterError: the kick did not reach the printer.
        """
        self._send(lambda connection: connection.cashdraw(self.drawer_pin))

    def print_sale(self, data: ReceiptData) -> None:
        """Print the receipt (codes listed) then each ticket on its own cut piece.

        Raises:
            ThermalPrinterError: the job did not reach the printer.
        """
        self.print_job(sale_commands(data, profile=self.profile, qr_mode=self.qr_mode))

    def print_receipt(self, data: ReceiptData, *, ticket_qr: bool = True) -> None:
        """Print the receipt alone, with each ticket's QR code unless ``ticket_qr`` is false.

        Raises:
            ThermalPrinterError: the job did not reach the printer.
        """
        self.print_job(
            receipt_commands(data, profile=self.profile, qr_mode=self.qr_mode, ticket_qr=ticket_qr)
        )

    def print_tickets(self, data: ReceiptData, *, codes: Collection[str] | None = None) -> None:
        """Print the sale's tickets (only ``codes`` when given), one cut piece each.

        Raises:
            ValueError: ``codes`` names a ticket of another sale (nothing is sent).
            ThermalPrinterError: the job did not reach the printer.
        """
        self.print_job(
            tickets_commands(data, codes=codes, profile=self.profile, qr_mode=self.qr_mode)
        )

    def print_hold_slip(self, data: HoldSlipData) -> None:
        """Print a cash hold's slip.

        Raises:
            ThermalPrinterError: the job did not reach the printer.
        """
        self.print_job(hold_slip_commands(data, profile=self.profile, qr_mode=self.qr_mode))

    def print_refund_slip(self, data: RefundSlipData) -> None:
        """Print a refund slip.

        Raises:
            ThermalPrinterError: the job did not reach the printer.
        """
        self.print_job(refund_slip_commands(data, profile=self.profile, qr_mode=self.qr_mode))

    def print_job(self, job: bytes) -> None:
        """Send ``job``, a finished ESC/POS byte string (a python-escpos ``Dummy``'s output:
        a raster image, a test page), in one write, never interleaved with another job.

        Raises:
            ThermalPrinterError: the job did not reach the printer.
        """
        # The job is rendered completely before connecting; it goes out in one write through
        # the connection's raw channel (python-escpos's way to replay ``Dummy`` output).
        self._send(lambda connection: connection._raw(job))

    def _send(self, write: Callable[[EscposConnection], None]) -> None:
        with self._lock:
            connection = self._connect(self.address, self.timeout)
            try:
                write(connection)
            except Exception as error:  # OSError, USB or serial errors mid-job
                raise ThermalPrinterError(
                    f"the printer at {self.address} stopped taking the job: {error}"
                ) from error
            finally:
                _close_quietly(connection)

    # --- status ----------------------------------------------------------------------------

    def status(self) -> PrinterStatus:
        """Ask the printer whether it can print now (show it before charging).

        Sends the real-time requests ``DLE EOT 1/4`` (and ``2`` when offline) and reads one
        byte each. python-escpos's ``is_online()``/``paper_status()`` send the same requests
        but read silence as "offline" and "paper adequate"; here silence is
        :attr:`PrinterState.UNKNOWN`; offline with the cover bit in its offline cause,
        :attr:`PrinterState.COVER_OPEN`. Never raises for printer trouble.
        """
        with self._lock:
            try:
                connection = self._connect(self.address, self.status_timeout)
            except ThermalPrinterError as error:
                return PrinterStatus(PrinterState.UNREACHABLE, f"Printer not reachable - {error}")
            try:
                return self._read_status(connection)
            finally:
                _close_quietly(connection)

    def _read_status(self, connection: EscposConnection) -> PrinterStatus:
        silent = PrinterStatus(
            PrinterState.UNKNOWN, "Printer connected; it does not report its status"
        )
        printer = _ask(connection, DLE_EOT_PRINTER)
        if printer is None:
            return silent
        paper = _ask(connection, DLE_EOT_PAPER)
        if paper is None:
            return silent
        if paper & 0x60:
            return PrinterStatus(PrinterState.OUT_OF_PAPER, "Printer is out of paper")
        if printer & 0x08:
            cause = _ask(connection, DLE_EOT_OFFLINE_CAUSE)
            if cause is not None and cause & 0x04:  # the cashier's fix: close the cover
                return PrinterStatus(
                    PrinterState.COVER_OPEN, "Printer is offline: the cover is open"
                )
            reason = "offline"
            if cause is not None and cause & 0x40:
                reason = "offline: printer error (check the cutter and the paper path)"
            return PrinterStatus(PrinterState.OFFLINE, f"Printer is {reason}")
        if paper & 0x0C:
            return PrinterStatus(PrinterState.PAPER_LOW, "Printer paper is running low")
        return PrinterStatus(PrinterState.READY, "Printer ready")


def _ask(connection: EscposConnection, request: bytes) -> int | None:
    """The status byte answering ``request``, or ``None`` when the printer stays silent."""
    try:
        answer = connection.query_status(request)
    except Exception:  # a timeout, no read channel (NotImplementedError), USB/serial errors
        return None
    if not answer:
        return None
    value = answer[-1]  # the newest byte: earlier ones may be automatic status messages
    return value if value & _FIXED_MASK == _FIXED_BITS else None


def _close_quietly(connection: EscposConnection) -> None:
    with contextlib.suppress(Exception):  # closing a dead connection: nothing more to do
        connection.close()
