from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail, null
from keyrings.alt.file import PlaintextKeyring

from pos_app.client import (
    Credentials,
    InsecureKeyring,
    NotPaired,
    TerminalConfig,
    TerminalPaths,
    Unauthorized,
    load_config,
    pair_terminal,
    save_config,
    terminal_paths,
)
from tests.fakes import FakeInventoryServer


def test_terminal_paths_live_in_pos_app_home_and_exist(pos_home: Path) -> None:
    paths = terminal_paths()
    assert paths.home == pos_home.resolve()
    assert paths.config_file.parent == paths.journal_file.parent == paths.home
    assert paths.receipts_dir.is_dir() and paths.logs_dir.is_dir()


def test_without_pos_app_home_the_user_data_folder_is_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POS_APP_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert terminal_paths().home == (tmp_path / "xdg" / "pos-app").resolve()


def test_config_round_trips_with_the_ca_relative_to_home(pos_home: Path) -> None:
    paths = terminal_paths()
    config = TerminalConfig(server_url="https://pos.test:8443", ca_file=paths.home / "ca.pem",
                            terminal_id=3, terminal_name="till-3")
    save_config(paths, config)
    assert json.loads(paths.config_file.read_text())["ca_file"] == "ca.pem"
    assert load_config(paths) == config
    assert not list(paths.home.glob(".config.json.*"))  # no temporary file left behind


def test_a_missing_or_broken_config_means_not_paired(pos_home: Path) -> None:
    paths = terminal_paths()
    with pytest.raises(NotPaired, match="pos-app pair"):
        load_config(paths)
    paths.config_file.write_text("{not json")
    with pytest.raises(NotPaired):
        load_config(paths)


def test_credentials_refuse_a_plaintext_keyring_unless_allowed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(keyring.get_keyring(), PlaintextKeyring)
    monkeypatch.delenv("POS_APP_ALLOW_INSECURE_KEYRING")
    with pytest.raises(InsecureKeyring, match="SecretService") as caught:
        Credentials("https://pos.test", terminal_paths())
    assert "PlaintextKeyring" in str(caught.value)
    # what to do at the demo's terminal is said too
    assert "POS_APP_ALLOW_INSECURE_KEYRING=1" in str(caught.value)
    assert "make run" in str(caught.value)
    monkeypatch.setenv("POS_APP_ALLOW_INSECURE_KEYRING", "1")
    Credentials("https://pos.test", terminal_paths())


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_credentials_refuse_backends_that_store_nothing(
        backend: keyring.backend.KeyringBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POS_APP_ALLOW_INSECURE_KEYRING")
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    with pytest.raises(InsecureKeyring):
        Credentials("https://pos.test", terminal_paths())


def test_tokens_are_kept_per_server_and_can_be_deleted(pos_home: Path) -> None:
    paths = terminal_paths()
    first, other = Credentials("https://one.test/", paths), Credentials("https://two.test", paths)
    first.terminal_token, first.session_token = "term-A", "sess-A"
    assert (first.terminal_token, first.session_token) == ("term-A", "sess-A")
    assert Credentials("https://one.test", paths).terminal_token == "term-A"
    assert other.terminal_token is None
    del first.session_token
    del first.session_token  # deleting twice is fine
    first.terminal_token = None
    assert (first.terminal_token, first.session_token) == (None, None)


def test_pairing_stores_the_token_in_the_keyring_and_the_rest_in_config(
        pos_home: Path, ca_file: Path) -> None:
    server = FakeInventoryServer()
    config = pair_terminal("https://pos.test/", server.pairing_code, ca_file=ca_file,
                           transport=server.transport())
    paths = terminal_paths()
    assert config == load_config(paths)
    assert (config.server_url, config.terminal_id, config.terminal_name) == (
        "https://pos.test", 7, "till-1")
    assert config.ca_file == paths.home / "ca.pem"
    assert config.ca_file.read_bytes() == ca_file.read_bytes()
    assert Credentials("https://pos.test", paths).terminal_token == server.terminal_token
    assert server.terminal_token.encode() not in paths.config_file.read_bytes()


def test_a_wrong_pairing_code_leaves_the_terminal_unpaired(pos_home: Path, ca_file: Path) -> None:
    server = FakeInventoryServer()
    with pytest.raises(Unauthorized):
        pair_terminal("https://pos.test", "WRONG", ca_file=ca_file, transport=server.transport())
    with pytest.raises(NotPaired):
        load_config(TerminalPaths.under(pos_home))


def test_pairing_with_an_insecure_keyring_does_not_spend_the_code(
        pos_home: Path, ca_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POS_APP_ALLOW_INSECURE_KEYRING")
    server = FakeInventoryServer()
    with pytest.raises(InsecureKeyring):
        pair_terminal("https://pos.test", server.pairing_code, ca_file=ca_file,
                      transport=server.transport())
    assert server.requests == []
