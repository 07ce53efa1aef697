"""Each terminal home keeps its own secrets: two ``POS_APP_HOME``s of one OS user, paired with
one server, never read or overwrite each other's tokens; a plain-text keyring file (tests, the
demo) lives inside the home; entries of the old per-server names move over on first read."""

from __future__ import annotations

import configparser
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.core
import pytest
from keyrings.alt.escape import unescape
from keyrings.alt.file import PlaintextKeyring

from pos_app.client import Credentials, TerminalPaths
from tests.fakes import FakeKeyring
from tests.support.live_server import LiveServer
from tests.support.terminal_cli import TerminalCli


@pytest.fixture
def shared_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[tuple[str, str], str]]:
    """The OS user's one keyring, in memory, chosen through ``PYTHON_KEYRING_BACKEND``."""
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.fakes.FakeKeyring")
    backend = keyring.core.load_env()
    assert isinstance(backend, FakeKeyring)
    keyring.set_keyring(backend)
    FakeKeyring.entries.clear()
    try:
        yield FakeKeyring.entries
    finally:
        FakeKeyring.entries.clear()
        keyring.set_keyring(previous)


def homes(tmp_path: Path) -> tuple[TerminalPaths, TerminalPaths]:
    return (TerminalPaths.under(tmp_path / "till-a").ensure(),
            TerminalPaths.under(tmp_path / "till-b").ensure())


def test_two_homes_keep_their_own_tokens_for_one_server_in_one_keyring(
        tmp_path: Path, shared_keyring: dict[tuple[str, str], str]) -> None:
    a, b = homes(tmp_path)
    till_a = Credentials("https://pos.test", a)
    till_b = Credentials("https://pos.test", b)
    till_a.terminal_token, till_a.session_token = "term-A", "sess-A"
    till_b.terminal_token, till_b.session_token = "term-B", "sess-B"

    assert (till_a.terminal_token, till_a.session_token) == ("term-A", "sess-A")
    assert (Credentials("https://pos.test", b).terminal_token,
            Credentials("https://pos.test", b).session_token) == ("term-B", "sess-B")
    del till_b.session_token  # signing out at B leaves A signed in
    assert Credentials("https://pos.test", a).session_token == "sess-A"
    assert len(shared_keyring) == 3


def test_a_home_keeps_its_identity_when_moved(
        tmp_path: Path, shared_keyring: dict[tuple[str, str], str]) -> None:
    a, _ = homes(tmp_path)
    Credentials("https://pos.test", a).terminal_token = "term-A"
    moved = a.home.rename(tmp_path / "moved")
    assert Credentials("https://pos.test", TerminalPaths.under(moved)).terminal_token == "term-A"


def test_a_token_of_the_old_per_server_name_moves_to_the_home_that_reads_it(
        tmp_path: Path, shared_keyring: dict[tuple[str, str], str]) -> None:
    a, b = homes(tmp_path)
    shared_keyring[("pos-app", "https://pos.test#terminal_token")] = "term-old"

    assert Credentials("https://pos.test", a).terminal_token == "term-old"  # still paired
    assert ("pos-app", "https://pos.test#terminal_token") not in shared_keyring
    assert Credentials("https://pos.test", a).terminal_token == "term-old"
    assert Credentials("https://pos.test", b).terminal_token is None


def test_a_plaintext_keyring_file_lives_in_the_terminal_home_and_is_private(
        tmp_path: Path) -> None:
    shared = keyring.get_keyring()  # conftest: keyrings.alt PlaintextKeyring in XDG_DATA_HOME
    shared.set_password("pos-app", "https://pos.test#terminal_token", "term-old")
    a, b = homes(tmp_path)

    assert Credentials("https://pos.test", a).terminal_token == "term-old"  # moved in
    Credentials("https://pos.test", b).terminal_token = "term-B"

    assert shared.get_password("pos-app", "https://pos.test#terminal_token") is None
    for home, token in ((a, "term-old"), (b, "term-B")):
        files = list(home.keyring_dir.iterdir())
        in_file = PlaintextKeyring()
        in_file.file_path = str(files[0])
        assert len(files) == 1
        assert token in {in_file.get_password("pos-app", name) for name in names(files[0])}
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
        assert stat.S_IMODE(home.keyring_dir.stat().st_mode) == 0o700
    assert not [name for name in names(Path(shared.file_path)) if "pos.test" in name]


def names(keyring_file: Path) -> list[str]:
    """The entry names of service "pos-app" in a keyrings.alt file."""
    parser = configparser.RawConfigParser()
    parser.read(keyring_file, encoding="utf-8")
    if not parser.has_section("pos_2Dapp"):
        return []
    return [unescape(name) for name in parser.options("pos_2Dapp")]


def test_two_terminal_homes_sign_in_on_their_own_tills(
        tmp_path: Path, shared_keyring: dict[tuple[str, str], str], live_server: LiveServer,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cli = TerminalCli(monkeypatch, capsys)
    a, b = tmp_path / "till-a", tmp_path / "till-b"
    for home, name in ((a, "Home A till"), (b, "Home B till")):
        paired = cli(home, "pair", live_server.base_url, live_server.add_terminal(name),
                     "--ca-file", str(live_server.ca_file))
        assert paired.code == 0, paired.stderr

    signed_a = cli(a, "login", "alex", stdin="1234\n")
    signed_b = cli(b, "login", "morgan", stdin="2468\n")

    assert signed_a.code == signed_b.code == 0
    assert signed_a.stdout.strip().endswith("on Home A till")
    assert signed_b.stdout.strip().endswith("on Home B till")
    status = cli(a, "shift", "status")  # A is still signed in, as alex, after B's sign-in
    assert status.code == 0, status.stderr
    assert cli(a, "logout").code == 0
    assert cli(b, "shift", "status").code == 0  # signing out at A leaves B signed in
