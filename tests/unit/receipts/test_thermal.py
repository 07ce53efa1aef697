"""ESC/POS jobs, read back byte by byte from python-escpos's ``Dummy`` printer."""

from __future__ import annotations

from typing import Any

import pytest
from escpos.printer import Dummy  # type: ignore[import-untyped]

from pos_app.receipts import PrinterState, ThermalPrinter, ThermalPrinterError
from pos_app.receipts.thermal import (
    hold_slip_commands,
    receipt_commands,
    refund_slip_commands,
    sale_commands,
    tickets_commands,
)
from pos_app.receipts.thermal_printer import PrinterAddress
from tests.unit.receipts.escpos_reader import read_job
from tests.unit.receipts.samples import (
    GA_CODE,
    GA_CODE_2,
    HOLD_CODE,
    VIP_CODE,
    hold_slip,
    refund_slip,
    sale,
)

INIT = b"\x1b@"
FULL_CUT = b"\x1dV\x00"
KICK_PIN_2 = b"\x1bp\x00\x32\x32"  # ESC p m t1 t2: pin 2, 100 ms on, 100 ms off
KICK_PIN_5 = b"\x1bp\x01\x32\x32"


def native_qr(code: str, module_dots: int) -> bytes:
    """The ``GS ( k`` sequence printing ``code`` as a model 2 QR at level M."""
    data = code.encode()
    store = len(data) + 3
    return (
        b"\x1d(k\x04\x001A2\x00"  # model 2
        + b"\x1d(k\x03\x001C"
        + bytes([module_dots])  # module size in dots
        + b"\x1d(k\x03\x001E1"  # error correction M
        + b"\x1d(k"
        + bytes([store % 256, store // 256])
        + b"1P0"
        + data  # store
        + b"\x1d(k\x03\x001Q0"  # print
    )


# --- the documents -----------------------------------------------------------------------------


def test_receipt_job_starts_with_a_reset_prints_each_tickets_qr_natively_and_ends_with_a_cut() -> (
    None
):
    job = receipt_commands(sale())

    assert job.startswith(INIT)
    assert native_qr(GA_CODE, 10) in job  # 25 modules x 10 dots: ~31 mm, like the PDF
    assert native_qr(VIP_CODE, 10) in job
    assert job.endswith(b"\x1bd\x06" + FULL_CUT)  # feed past the cutter, then cut
    assert job.count(FULL_CUT) == 1
    text = read_job(job).text
    for expected in ("Sale #000042", "Maria Lopez", "$165.00", "Change due", GA_CODE):
        assert expected in text


def test_sale_job_is_the_receipt_then_each_ticket_on_its_own_cut_piece() -> None:
    job = read_job(sale_commands(sale()))
    receipt, ga, vip = job.pieces()

    assert len(job.named("GS V")) == 3
    assert job.qr_contents() == [GA_CODE, VIP_CODE]  # only on the tickets
    assert "TOTAL" in receipt and GA_CODE in receipt and "printed separately" in receipt
    for piece in (ga, vip):
        assert "Harbour Lights - Live at the Grand Hall" in piece
        assert "Sun 25 Jan 2026, 8:00 PM CST" in piece
        assert "The Grand Hall, Chicago IL" in piece
    assert "General Admission" in ga and "$45.00" in ga and "Ticket 1 of 2" in ga
    assert "VIP" in vip and "$120.00" in vip and "Ticket 2 of 2" in vip


def test_ticket_type_is_printed_double_size() -> None:
    job = read_job(tickets_commands(sale(), codes=[VIP_CODE]))
    sizes_before_type = []
    for command, params in job.commands:
        if command == "text" and params == b"VIP\n":
            break
        if command == "ESC !":
            sizes_before_type.append(params)

    assert sizes_before_type[-1] == b"\x30"  # double width and height


def test_reprinting_one_ticket_prints_only_that_one_marked_reprint() -> None:
    job = read_job(tickets_commands(sale(reprint=True), codes=[VIP_CODE]))

    assert job.qr_contents() == [VIP_CODE]
    assert len(job.named("GS V")) == 1
    assert " REPRINT " in job.text
    assert job.named("GS B")[:2] == [b"\x01", b"\x00"]  # white on black, then back
    with pytest.raises(ValueError, match="NOPE"):
        tickets_commands(sale(), codes=["NOPE"])


def test_hold_slip_prints_the_code_at_triple_size_with_its_qr_and_pay_by_time() -> None:
    job = read_job(hold_slip_commands(hold_slip()))
    code_size = None
    for command, params in job.commands:
        if command == "GS !":
            code_size = params
        if command == "text" and b"K7Q X3M" in params:
            break

    assert code_size == b"\x22"  # 3x width, 3x height
    assert job.qr_contents() == [HOLD_CODE]
    for expected in (
        "Kilo Seven Quebec - X-ray Three Mike",
        "Jordan Smith",
        "$210.00",
        "PAY BY",
        "Sun 25 Jan 2026, 1:00 PM CST",
        "This slip is not a ticket",
    ):
        assert expected in job.text
    assert len(job.named("GS V")) == 1


def test_refund_slip_prints_sale_codes_cash_amount_approver_and_time() -> None:
    job = read_job(refund_slip_commands(refund_slip()))

    for expected in (
        "REFUND",
        "Sale #000042",
        GA_CODE,
        GA_CODE_2,
        "REFUNDED IN CASH",
        "$90.00",
        "Sam Patel",
        "Sun 25 Jan 2026, 3:15 PM CST",
        "Customer signature",
    ):
        assert expected in job.text
    assert job.qr_contents() == []
    assert len(job.named("GS V")) == 1


def test_every_document_is_marked_reprint_only_when_it_is_one() -> None:
    makers: list[Any] = [
        lambda reprint: receipt_commands(sale(reprint=reprint)),
        lambda reprint: sale_commands(sale(reprint=reprint)),
        lambda reprint: hold_slip_commands(hold_slip(reprint=reprint)),
        lambda reprint: refund_slip_commands(refund_slip(reprint=reprint)),
    ]
    for make in makers:
        assert "REPRINT" not in read_job(make(False)).text
        pieces = read_job(make(True)).pieces()
        assert all("REPRINT" in piece for piece in pieces)


def test_no_line_is_wider_than_the_48_columns_of_the_roll() -> None:
    long = "Premium Balcony Seating with Complimentary Programme and Backstage Tour"
    jobs = [
        sale_commands(
            sale(
                lines=((long, 2, 1999900, 3999800),),
                total=3999800,
                tendered=4000000,
                change=200,
                event_name="An Extraordinarily Long Evening of Chamber Music, "
                "Poetry and Light - Twenty-Fifth Anniversary Gala",
                staff_name="Maximiliana Alexandra Featherstonehaugh-Worthington",
            )
        ),
        hold_slip_commands(
            hold_slip(
                customer_name="Maximiliana Alexandra Featherstonehaugh-Worthington of Chicago"
            )
        ),
        refund_slip_commands(
            refund_slip(
                reason="The customer's whole family came down with "
                "the flu the night before, doctor's note shown"
            )
        ),
    ]
    for job in jobs:
        parsed = read_job(job)
        assert max(len(line) for line in parsed.lines) <= 48
    words = read_job(jobs[0]).text
    assert "Backstage" in words and "Tour @ $19,999.00" in words and "$39,998.00" in words
    assert not any(line.endswith(" ") for line in read_job(jobs[0]).lines)


def test_accented_names_are_sent_in_a_code_page_the_printer_has() -> None:
    job = receipt_commands(sale(staff_name="José Müller"))

    assert b"Jos\x82 M\x81ller" in job  # code page 437
    assert "José Müller" in read_job(job).text


def test_image_mode_sends_each_qr_as_a_centred_raster_instead_of_the_qr_command() -> None:
    job = read_job(receipt_commands(sale(), qr_mode="image"))

    assert job.named("GS ( k") == []
    rasters = job.named("GS v 0")
    assert len(rasters) == 2
    width_bytes = rasters[0][0] + 256 * rasters[0][1]
    height = rasters[0][2] + 256 * rasters[0][3]
    assert width_bytes * 8 == 576  # padded to the full printable width: centred
    assert height == (25 + 2 * 4) * 10  # 25 modules and the quiet zone, 10 dots each


# --- the printer, with python-escpos's Dummy as its connection ---------------------------------


class DummyConnections:
    """Hands out ``Dummy`` printers and keeps them, so tests can read what was sent."""

    def __init__(self) -> None:
        self.opened: list[Any] = []

    def __call__(self, address: PrinterAddress, timeout: float) -> Any:
        printer = Dummy(profile="TM-T20II")
        self.opened.append(printer)
        return printer


def test_drawer_kick_is_a_separate_job_of_just_the_kick_pulse() -> None:
    connections = DummyConnections()
    printer = ThermalPrinter("tcp://printer.local", connect=connections)

    printer.kick_drawer()
    printer.print_sale(sale())

    kick, job = (connection.output for connection in connections.opened)
    assert kick == KICK_PIN_2
    assert KICK_PIN_2 not in job and job == sale_commands(sale())


def test_drawer_on_pin_5_gets_the_pin_5_pulse() -> None:
    connections = DummyConnections()

    ThermalPrinter("tcp://printer.local", drawer_pin=5, connect=connections).kick_drawer()

    assert connections.opened[0].output == KICK_PIN_5


def test_each_print_method_sends_its_documents_job() -> None:
    connections = DummyConnections()
    printer = ThermalPrinter("tcp://printer.local", connect=connections, qr_mode="image")

    printer.print_receipt(sale())
    printer.print_tickets(sale(), codes=[GA_CODE])
    printer.print_hold_slip(hold_slip())
    printer.print_refund_slip(refund_slip())

    assert [connection.output for connection in connections.opened] == [
        receipt_commands(sale(), qr_mode="image"),
        tickets_commands(sale(), codes=[GA_CODE], qr_mode="image"),
        hold_slip_commands(hold_slip(), qr_mode="image"),
        refund_slip_commands(refund_slip(), qr_mode="image"),
    ]


def test_a_printer_that_cannot_answer_status_requests_reports_unknown_but_printable() -> None:
    status = ThermalPrinter("tcp://printer.local", connect=DummyConnections()).status()

    assert status.state is PrinterState.UNKNOWN
    assert status.can_print


def test_a_connection_that_breaks_mid_job_raises_and_is_closed() -> None:
    class Breaking(Dummy):  # type: ignore[misc]
        closed = False

        def _raw(self, msg: bytes) -> None:
            raise ConnectionResetError("peer reset")

        def close(self) -> None:
            Breaking.closed = True

    printer = ThermalPrinter("tcp://printer.local", connect=lambda address, timeout: Breaking())

    with pytest.raises(ThermalPrinterError, match="peer reset"):
        printer.print_sale(sale())
    assert Breaking.closed


def test_every_piece_selects_its_code_page_again_after_the_reset() -> None:
    job = read_job(sale_commands(sale(event_name="Café Tacvba en concierto")))
    code_page = None
    accented_pieces = 0
    for command, params in job.commands:
        if command == "ESC @":
            code_page = None  # ESC @ puts the printer back on its default code page
        elif command == "ESC t":
            code_page = params
        elif command == "text" and "é".encode("cp437") in params:
            assert code_page is not None
            accented_pieces += 1

    assert accented_pieces == 3  # the receipt and both tickets
