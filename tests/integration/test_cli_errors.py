"""Terminal commands that used to end in a traceback or the wrong exit code, called
in-process through ``pos_app.cli.main`` against the session's live server: one line on
standard error and the table's code."""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path

import pytest

from pos_app.cli import main
from tests.support.live_server import LiveServer


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str,
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def pairing_code(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["admin", "add-terminal", f"till-{uuid.uuid4().hex[:6]}", "--data-dir",
                 str(live_server.data_dir)]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_a_used_pairing_code_is_refused_by_the_server_with_exit_1_not_a_sign_in_hint(
        live_server: LiveServer, pos_home: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    code = pairing_code(live_server, capsys)
    pair = ("pair", live_server.base_url, code, "--ca-file", str(live_server.ca_file))
    assert run(capsys, monkeypatch, *pair)[0] == 0
    status, out, err = run(capsys, monkeypatch, *pair)
    assert (status, out) == (1, "")
    assert "not valid or was already used" in one_line(err)
    assert "10 minutes" in err and "pos-app admin add-terminal" in err
    assert "login" not in err


def test_a_pairing_code_the_api_cannot_take_is_bad_input_exit_2(
        live_server: LiveServer, pos_home: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    status, out, err = run(capsys, monkeypatch, "pair", live_server.base_url, "X" * 65,
                           "--ca-file", str(live_server.ca_file))
    assert (status, out) == (2, "")
    assert "pairing_code" in one_line(err) and "at most 64" in err


def test_more_than_fifty_of_a_type_is_bad_input_and_a_closed_pipe_ends_quietly(
        live_server: LiveServer, pos_home: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    event_id = f"test-{uuid.uuid4().hex[:10]}"
    catalog = pos_home / "catalog.json"
    catalog.write_text(json.dumps({"events": [{
        "id": event_id, "name": "Big night", "venue": "Hall",
        "starts_at": "2026-12-31T20:00:00", "timezone": "America/Chicago", "currency": "USD",
        "ticket_types": [{"name": "GA", "price": 100, "capacity": 200}]}]}))
    assert main(["admin", "import-catalog", str(catalog), "--data-dir",
                 str(live_server.data_dir)]) == 0
    code = pairing_code(live_server, capsys)
    assert run(capsys, monkeypatch, "pair", live_server.base_url, code, "--ca-file",
               str(live_server.ca_file))[0] == 0
    assert run(capsys, monkeypatch, "login", "alex", stdin="1234\n")[0] == 0

    for argv in (["sell", "--event", event_id, "--type", "GA=51", "--tendered", "100"],
                 ["sell", "--event", event_id, "--type", "GA=30", "--type", "GA=21",
                  "--tendered", "100"],
                 ["hold", "--event", event_id, "--type", "GA=51", "--customer", "Dana"]):
        status, out, err = run(capsys, monkeypatch, *argv)
        assert (status, out) == (2, ""), argv
        assert "at most 50 GA tickets in one go, not 51" in one_line(err)
    assert run(capsys, monkeypatch, "journal", "--json")[1].strip() == "[]"  # nothing begun

    read_end, write_end = os.pipe()
    os.close(read_end)  # ``pos-app journal | head -3`` after head has gone
    with capsys.disabled(), io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8",
                                             line_buffering=True) as closed_pipe:
        monkeypatch.setattr("sys.stdout", closed_pipe)
        assert main(["journal"]) == 141
        monkeypatch.setattr("sys.stdout", io.StringIO())


def test_serve_records_which_database_it_uses_in_a_private_file(
        live_server: LiveServer) -> None:
    record = live_server.data_dir / "database.json"
    assert json.loads(record.read_text()) == {
        "database_url": f"sqlite:///{live_server.data_dir.resolve() / 'pos.sqlite3'}",
        "password_omitted": False}
    assert record.stat().st_mode & 0o777 == 0o600
