"""``pos-app admin``, ``audit`` and ``--help`` called in-process through ``main``: one line
on standard error and the table's exit code for every refusal, the data folder's record of
its database, and what a catalog import says it did."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pos_app.cli import EPILOG, build_parser, main
from pos_app.server import admin
from pos_app.server.data_dir import RECORD_FILENAME, record_database
from pos_app.server.models import Event, Staff, TicketType
from pos_app.server.services.inventory import inventory_version
from pos_app.server.services.live import load_changes
from pos_app.server.settings import database_url_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder as ``pos-app serve --data-dir`` leaves it: a migrated SQLite database
    and the record naming it."""
    folder = tmp_path / "srv"
    admin.list_webhooks(str(folder))  # creates and migrates DIR/pos.sqlite3
    record_database(folder, database_url_for(str(folder)))
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = "",
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def event(event_id: str = "gig", *, capacity: int = 5, price: int = 100) -> dict[str, Any]:
    return {"id": event_id, "name": "Gig", "venue": "Hall", "starts_at": "2026-09-25T20:00:00",
            "timezone": "America/Chicago", "currency": "USD",
            "ticket_types": [{"name": "GA", "price": price, "capacity": capacity}]}


def write_catalog(folder: Path, document: dict[str, Any]) -> str:
    path = folder / "catalog.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_adding_a_taken_username_is_one_line_and_exit_2(
        data_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("admin", "add-staff", "kim", "--role", "cashier", "--data-dir", str(data_dir))
    assert run(capsys, *args, stdin="4321\n", monkeypatch=monkeypatch)[0] == 0
    code, out, err = run(capsys, *args, stdin="5678\n", monkeypatch=monkeypatch)
    assert (code, out) == (2, "")
    assert "taken" in one_line(err)


def test_a_catalog_with_a_wrong_field_is_one_line_exit_2_and_imports_nothing(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = event("second")
    bad["ticket_types"][0]["capacity"] = "lots"
    path = write_catalog(data_dir, {"events": [event("first"), bad]})
    code, out, err = run(capsys, "admin", "import-catalog", path, "--data-dir", str(data_dir))
    assert (code, out) == (2, "")
    assert "'capacity' must be a whole number" in one_line(err)
    assert "nothing was imported" in err
    with admin.open_database(str(data_dir)) as db, db.read() as session:
        assert session.scalars(select(Event.id)).all() == []


def test_an_import_says_what_it_created_and_never_a_pin(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_catalog(data_dir, {
        "events": [event("gig")],
        "staff": [{"username": "sam", "role": "manager", "pin": "8642"}]})
    code, out, _ = run(capsys, "admin", "import-catalog", path, "--data-dir", str(data_dir))
    assert code == 0
    assert "Created event gig (Gig) with ticket types GA" in out
    assert "Created staff sam (manager)" in out
    assert "8642" not in out

    code, out, _ = run(capsys, "admin", "import-catalog", path, "--data-dir", str(data_dir))
    assert code == 0
    assert "Event gig was already there, as in the file" in out
    assert "Staff sam was already there (left unchanged, PIN not reset)" in out
    assert "Created" not in out


def test_an_import_gets_an_inventory_version_a_server_on_the_database_picks_up(
        capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    """Admin commands open the database with the live inventory's hooks, as the server
    does: the new ticket types are stamped with the import's inventory version."""
    with admin.open_database(str(data_dir)) as db, db.read() as session:
        before = inventory_version(session)
    code, _, _ = run(capsys, "admin", "import-catalog",
                     write_catalog(data_dir, {"events": [event()]}), "--data-dir", str(data_dir))
    assert code == 0
    with admin.open_database(str(data_dir)) as db, db.read() as session:
        changed = load_changes(session, before, now=datetime.now(UTC))
    assert changed.inventory_version > before
    assert [t.name for t in changed.ticket_types] == ["GA"]


def test_an_existing_event_that_differs_is_skipped_and_the_output_says_why(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "admin", "import-catalog", write_catalog(data_dir, {"events": [event()]}),
        "--data-dir", str(data_dir))
    changed = write_catalog(data_dir, {"events": [event(capacity=9, price=150)]})
    code, out, _ = run(capsys, "admin", "import-catalog", changed, "--data-dir", str(data_dir))
    assert code == 0
    assert "Skipped event gig: it exists and differs from the file" in out
    assert "price of 'GA': file 150, server 100" in out
    assert "capacity of 'GA': file 9, server 5" in out

    code, out, _ = run(capsys, "--json", "admin", "import-catalog", changed, "--data-dir",
                       str(data_dir))
    assert json.loads(out)["skipped"][0]["id"] == "gig"
    with admin.open_database(str(data_dir)) as db, db.read() as session:
        assert session.execute(select(TicketType.capacity, TicketType.price)).all() == [
            (5, 100)]


def test_serving_records_the_database_without_its_password_in_a_private_file(
        tmp_path: Path) -> None:
    path = record_database(tmp_path, "postgresql+psycopg://pos:s3cret@db:5432/pos"
                                     "?sslmode=require&password=other")
    assert "s3cret" not in path.read_text() and "other" not in path.read_text()
    assert json.loads(path.read_text()) == {
        "database_url": "postgresql+psycopg://pos@db:5432/pos?sslmode=require",
        "password_omitted": True}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_admin_on_a_postgresql_folder_whose_password_was_not_recorded_refuses_with_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record_database(tmp_path, "postgresql+psycopg://pos:s3cret@db/pos")
    code, out, err = run(capsys, "admin", "add-terminal", "Till 9", "--data-dir", str(tmp_path))
    assert (code, out) == (2, "")
    assert "is served from PostgreSQL (postgresql+psycopg://pos@db/pos, password not " \
           "recorded): pass --database-url" in one_line(err)
    assert sorted(os.listdir(tmp_path)) == [RECORD_FILENAME]  # no SQLite database made


def test_admin_goes_to_the_database_the_folder_records(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    served = tmp_path / "srv"
    record_database(served, f"sqlite:///{elsewhere / 'shared.sqlite3'}")
    code, _, _ = run(capsys, "admin", "add-staff", "kim", "--role", "cashier", "--data-dir",
                     str(served), stdin="4321\n", monkeypatch=monkeypatch)
    assert code == 0
    assert not (served / "pos.sqlite3").exists()
    # with the same data folder: kim's PIN is sealed with its pin.key
    with admin.open_database(f"sqlite:///{elsewhere / 'shared.sqlite3'}",
                             data_dir=served) as db, db.read() as session:
        assert session.scalars(select(Staff.username)).all() == ["kim"]


def test_a_folder_holding_no_server_database_is_refused_and_left_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "verify", "--data-dir", str(tmp_path))
    assert (code, out) == (2, "")
    assert "holds no server database" in one_line(err)
    assert os.listdir(tmp_path) == []


def test_standard_output_closed_by_its_reader_ends_quietly_with_141(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (``head``) is gone
    with capsys.disabled(), io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8",
                                             line_buffering=True) as closed_pipe:
        monkeypatch.setattr("sys.stdout", closed_pipe)
        code = main(["admin", "list-webhooks", "--data-dir", str(data_dir)])
        monkeypatch.undo()
    assert code == 141


def test_top_level_help_lists_the_exit_codes_and_every_environment_variable_read() -> None:
    read = set()
    for path in (ROOT / "pos_app").rglob("*.py"):
        read |= set(re.findall(r"POS_APP_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    assert read >= {"POS_APP_HOME", "POS_APP_SSE_KEEPALIVE"}
    help_text = build_parser().format_help()
    assert {name for name in read if name not in help_text} == set()
    for code in ("0", "1", "2", "3", "4"):
        assert re.search(rf"^  {code} +\S", EPILOG, re.MULTILINE), code


def _parsers(parser: Any) -> list[Any]:
    found = [parser]
    for action in parser._actions:
        for child in getattr(action, "choices", None) or {}:
            if isinstance(action.choices, dict):
                found += _parsers(action.choices[child])
    return found


def test_every_option_and_argument_has_help_and_defaults_are_shown() -> None:
    missing = [f"{p.prog} {a.dest}" for p in _parsers(build_parser()) for a in p._actions
               if not a.help and a.dest != "help"
               and not a.dest.endswith("command")]  # the subcommand slots list their own
    assert missing == []
    text = next(p for p in _parsers(build_parser()) if p.prog == "pos-app serve").format_help()
    assert "(default: 127.0.0.1" in text and "(default: 8443)" in text
    assert "(default: 1)" in text
