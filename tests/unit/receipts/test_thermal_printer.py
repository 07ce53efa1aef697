"""A network ESC/POS printer, played by a real TCP server on a loopback port: addresses, jobs,
the drawer kick, and the status shown before charging."""

from __future__ import annotations

import threading

import pytest

from pos_app.receipts import (
    PrinterState,
    PrinterUnreachable,
    ThermalPrinter,
    parse_printer_url,
)
from pos_app.receipts.thermal import hold_slip_commands, sale_commands
from pos_app.receipts.thermal_printer import PrinterAddress
from tests.unit.receipts.escpos_reader import read_job
from tests.unit.receipts.printer_server import LoopbackPrinter, closed_port
from tests.unit.receipts.samples import GA_CODE, VIP_CODE, hold_slip, sale

ONLINE, OFFLINE = 0x12, 0x1A  # DLE EOT 1: bit 3 = offline
PAPER_OK, PAPER_LOW, PAPER_OUT = 0x12, 0x1E, 0x72  # DLE EOT 4: bits 2-3 near end, 5-6 end
COVER_OPEN, PRINTER_ERROR = 0x16, 0x52  # DLE EOT 2: bit 2 cover open, bit 6 error


# --- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("tcp://192.168.1.50:9100", PrinterAddress("network", host="192.168.1.50", port=9100)),
        ("192.168.1.50", PrinterAddress("network", host="192.168.1.50", port=9100)),
        (
            "printer.box-office.lan:9101",
            PrinterAddress("network", host="printer.box-office.lan", port=9101),
        ),
        ("tcp://[fe80::1]:9100", PrinterAddress("network", host="fe80::1", port=9100)),
        ("usb://04b8:0202", PrinterAddress("usb", vendor_id=0x04B8, product_id=0x0202)),
        ("usb://0x04b8:0x0e15", PrinterAddress("usb", vendor_id=0x04B8, product_id=0x0E15)),
        (
            "serial:///dev/ttyUSB0?baudrate=19200",
            PrinterAddress("serial", device="/dev/ttyUSB0", baudrate=19200),
        ),
        ("serial:/dev/ttyS0", PrinterAddress("serial", device="/dev/ttyS0", baudrate=9600)),
    ],
)
def test_printer_settings_are_read_as_network_usb_or_serial_addresses(
    url: str, address: PrinterAddress
) -> None:
    assert parse_printer_url(url) == address
    assert parse_printer_url(str(address)) == address  # the canonical form reads back


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "lpd://printer",
        "tcp://:9100",
        "tcp://host:99999",
        "usb://04b8",
        "usb://zzzz:0202",
        "serial://?baudrate=9600",
        "serial:/dev/ttyS0?baudrate=fast",
    ],
)
def test_a_bad_printer_setting_is_refused_with_the_setting_in_the_message(url: str) -> None:
    with pytest.raises(ValueError, match="printer address"):
        parse_printer_url(url)


# --- jobs over TCP -----------------------------------------------------------------------------


def test_a_sale_reaches_the_network_printer_byte_for_byte() -> None:
    with LoopbackPrinter() as server:
        ThermalPrinter(server.url).print_sale(sale())
        [received] = server.wait_for_jobs(1)

    assert received == sale_commands(sale())
    job = read_job(received)
    assert job.qr_contents() == [GA_CODE, VIP_CODE]
    assert len(job.named("GS V")) == 3  # receipt and two tickets, each cut


def test_the_drawer_kick_goes_out_on_its_own_connection_before_the_receipt() -> None:
    with LoopbackPrinter() as server:
        printer = ThermalPrinter(server.url)
        printer.kick_drawer()
        printer.print_sale(sale())
        kick, receipt = server.wait_for_jobs(2)

    assert kick == b"\x1bp\x00\x32\x32"
    assert receipt == sale_commands(sale())


def test_jobs_from_two_threads_never_interleave_on_one_printer() -> None:
    with LoopbackPrinter() as server:
        printer = ThermalPrinter(server.url)
        threads = [
            threading.Thread(target=printer.print_sale, args=(sale(),)),
            threading.Thread(target=printer.kick_drawer),
            threading.Thread(target=printer.print_hold_slip, args=(hold_slip(),)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        received = server.wait_for_jobs(3)

    assert sorted(received) == sorted(
        [sale_commands(sale()), b"\x1bp\x00\x32\x32", hold_slip_commands(hold_slip())]
    )


def test_a_prebuilt_job_reaches_the_printer_byte_for_byte_in_one_connection() -> None:
    job = b"\x1b@" + b"TEST PRINT\n" + b"\x1dV\x00"  # ESC @, a line, GS V cut

    with LoopbackPrinter() as server:
        ThermalPrinter(server.url).print_job(job)
        [received] = server.wait_for_jobs(1)

    assert received == job


def test_a_prebuilt_job_and_a_drawer_kick_never_interleave() -> None:
    job = hold_slip_commands(hold_slip())
    with LoopbackPrinter() as server:
        printer = ThermalPrinter(server.url)
        threads = [
            threading.Thread(target=printer.print_job, args=(job,)),
            threading.Thread(target=printer.kick_drawer),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        received = server.wait_for_jobs(2)

    assert sorted(received) == sorted([job, b"\x1bp\x00\x32\x32"])


def test_printing_to_a_printer_that_is_not_there_raises_unreachable() -> None:
    printer = ThermalPrinter(f"tcp://127.0.0.1:{closed_port()}", timeout=2)

    with pytest.raises(PrinterUnreachable, match=r"127\.0\.0\.1"):
        printer.print_sale(sale())
    with pytest.raises(PrinterUnreachable):
        printer.kick_drawer()
    with pytest.raises(PrinterUnreachable):
        printer.print_job(b"\x1b@")


# --- status ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "state", "words"),
    [
        ({1: ONLINE, 4: PAPER_OK}, PrinterState.READY, "ready"),
        ({1: ONLINE, 4: PAPER_LOW}, PrinterState.PAPER_LOW, "running low"),
        ({1: OFFLINE, 4: PAPER_OUT}, PrinterState.OUT_OF_PAPER, "out of paper"),
        ({1: OFFLINE, 2: COVER_OPEN, 4: PAPER_OK}, PrinterState.COVER_OPEN, "cover is open"),
        ({1: OFFLINE, 2: PRINTER_ERROR, 4: PAPER_OK}, PrinterState.OFFLINE, "printer error"),
        ({1: OFFLINE, 4: PAPER_OK}, PrinterState.OFFLINE, "offline"),
        ({}, PrinterState.UNKNOWN, "does not report"),
    ],
)
def test_status_reports_what_the_printer_answers(
    answers: dict[int, int], state: PrinterState, words: str
) -> None:
    with LoopbackPrinter(answers) as server:
        status = ThermalPrinter(server.url, status_timeout=0.3).status()

    assert status.state is state
    assert words in status.message
    assert status.can_print == (
        state in {PrinterState.READY, PrinterState.PAPER_LOW, PrinterState.UNKNOWN}
    )


def test_status_sends_only_real_time_requests_and_never_prints() -> None:
    with LoopbackPrinter({1: ONLINE, 4: PAPER_OK}) as server:
        ThermalPrinter(server.url).status()
        [received] = server.wait_for_jobs(1)

    assert received == b"\x10\x04\x01\x10\x04\x04"


def test_an_offline_printer_is_asked_why_and_an_open_cover_is_its_own_state() -> None:
    with LoopbackPrinter({1: OFFLINE, 2: COVER_OPEN, 4: PAPER_OK}) as server:
        status = ThermalPrinter(server.url).status()
        [received] = server.wait_for_jobs(1)

    assert received == b"\x10\x04\x01\x10\x04\x04\x10\x04\x02"
    assert status.state is PrinterState.COVER_OPEN
    assert status.message == "Printer is offline: the cover is open"
    assert not status.can_print


def test_a_printer_that_is_not_there_is_reported_unreachable_not_raised() -> None:
    status = ThermalPrinter(f"tcp://127.0.0.1:{closed_port()}", status_timeout=1).status()

    assert status.state is PrinterState.UNREACHABLE
    assert not status.can_print
    assert "127.0.0.1" in status.message


def test_usb_and_serial_printers_need_their_libraries() -> None:
    pytest.importorskip("escpos.printer")
    from escpos.printer import Serial, Usb  # type: ignore[import-untyped]

    if Usb.is_usable() or Serial.is_usable():
        pytest.skip("pyusb or pyserial is installed here")
    usb = ThermalPrinter("usb://04b8:0202").status()
    serial = ThermalPrinter("serial:///dev/ttyUSB0").status()

    assert usb.state is PrinterState.UNREACHABLE and "pyusb" in usb.message
    assert serial.state is PrinterState.UNREACHABLE and "pyserial" in serial.message
