"""Secrets in the OS keyring: the terminal token (from pairing) and the session token."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from pos_app.client._errors import InsecureKeyring, KeyringUnavailable
from pos_app.client._paths import TerminalPaths

__all__ = ["ALLOW_INSECURE_ENV", "SERVICE", "Credentials", "check_keyring", "insecure_reason"]

SERVICE = "pos-app"
ALLOW_INSECURE_ENV = "POS_APP_ALLOW_INSECURE_KEYRING"
_INSTALL_HINT = ("Install and unlock GNOME Keyring or KWallet (SecretService) on Linux; macOS "
                 "Keychain and Windows Credential Locker are used automatically. Only for tests "
                 f"or a throwaway demo, set {ALLOW_INSECURE_ENV}=1: tokens then go to a "
                 "plain-text file in the terminal home (POS_APP_HOME); the demo (make run) "
                 "does so itself, so set it too for pos-app commands at the demo's terminal.")


def _describe(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def insecure_reason(backend: KeyringBackend) -> str | None:
    """Why ``backend`` must not hold secrets (``None`` when it may): the ``fail`` and ``null``
    backends, an empty chainer, or any plain-text store such as keyrings.alt's
    ``PlaintextKeyring``. A chainer is judged by its first backend, which receives writes."""
    module = type(backend).__module__
    name = type(backend).__name__
    if module.startswith("keyring.backends.chainer"):
        chained = list(getattr(backend, "backends", []))
        if not chained:
            return "no keyring backend is available"
        return insecure_reason(chained[0])
    if module in {"keyring.backends.fail", "keyring.backends.null"}:
        return f"{_describe(backend)} stores nothing"
    if "plaintext" in name.lower() or "plaintext" in module.lower() or "null" in name.lower():
        return f"{_describe(backend)} stores secrets unencrypted"
    wrapped = getattr(backend, "_keyring", None)  # keyrings.alt.multi wrapper
    if isinstance(wrapped, KeyringBackend):
        return insecure_reason(wrapped)
    return None


def check_keyring() -> None:
    """Raise :class:`~pos_app.client.InsecureKeyring` when the OS keyring cannot keep secrets
    safely and ``POS_APP_ALLOW_INSECURE_KEYRING=1`` is not set; return quietly otherwise."""
    reason = insecure_reason(keyring.get_keyring())
    if reason is not None and os.environ.get(ALLOW_INSECURE_ENV) != "1":
        raise InsecureKeyring(f"The OS keyring cannot keep this terminal's secrets safely: "
                              f"{reason}. {_INSTALL_HINT}")


def _home_file_backend(backend: KeyringBackend, paths: TerminalPaths) -> KeyringBackend:
    """``backend``, or when it is a keyrings.alt file keyring left at its default file (in the
    OS user's data folder, shared by every terminal home), the same kind of keyring kept in
    ``paths.keyring_dir`` (folder 0700; keyrings.alt creates the file 0600). A file chosen
    with ``KEYRING_PROPERTY_FILE_PATH`` is left where it is."""
    if not type(backend).__module__.startswith("keyrings.alt.file") or os.environ.get(
            "KEYRING_PROPERTY_FILE_PATH"):
        return backend
    folder = paths.keyring_dir
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # mkdir's mode is cut by the umask and ignored for an existing folder
    local = type(backend)()
    local.file_path = str(folder / Path(str(backend.file_path)).name)  # type: ignore[attr-defined]
    return local


class Credentials:
    """The secrets of this terminal home (``paths``) with one server (``server_url``), in
    keyring service "pos-app", under names ``"<server_url>#<home id>#<kind>"``: two terminal
    homes of one OS user (two ``POS_APP_HOME``s) keep their own tokens even for one server
    (:meth:`TerminalPaths.home_id`).

    An entry of the name used before (``"<server_url>#<kind>"``, one per server whatever the
    home) is moved to the new name when first read, so a paired terminal stays paired across
    the upgrade. When plain text is allowed (``POS_APP_ALLOW_INSECURE_KEYRING=1``: tests, the
    demo), a keyrings.alt file keyring is kept in ``paths.keyring_dir`` rather than in the
    OS user's data folder; an old entry is then moved from that shared file.

    ``terminal_token`` and ``session_token`` are read/write properties; assigning ``None`` or
    ``del`` removes the secret. Raises :class:`~pos_app.client.InsecureKeyring` at construction
    when the backend is plain text / null / empty (unless ``POS_APP_ALLOW_INSECURE_KEYRING=1``),
    :class:`~pos_app.client.KeyringUnavailable` when the keyring refuses an operation
    (e.g. locked), ``OSError`` when the home's id cannot be read or created.
    """

    def __init__(self, server_url: str, paths: TerminalPaths) -> None:
        self.server_url = server_url.rstrip("/")
        check_keyring()
        self._shared = keyring.get_keyring()  # where entries of the old names are
        self._backend = _home_file_backend(self._shared, paths)
        self._paths = paths
        self._home_id: str | None = None  # read (or created) on first use: a failed pairing
        # leaves the home as it found it

    def _name(self, kind: str) -> str:
        if self._home_id is None:
            self._home_id = self._paths.home_id()
        return f"{self.server_url}#{self._home_id}#{kind}"

    def _get(self, kind: str) -> str | None:
        try:
            value = self._backend.get_password(SERVICE, self._name(kind))
            if value is None:
                value = self._migrate(kind)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"The OS keyring refused to read a secret: {exc}") from exc
        return None if value is None else str(value)

    def _migrate(self, kind: str) -> str | None:
        """Move the entry of the name used before per-home names, if there is one: store it
        under the new name first, then delete the old, so a crash between leaves a copy."""
        old_name = f"{self.server_url}#{kind}"
        value = self._shared.get_password(SERVICE, old_name)
        if value is None:
            return None
        self._backend.set_password(SERVICE, self._name(kind), value)
        with contextlib.suppress(keyring.errors.PasswordDeleteError):  # moved by another process
            self._shared.delete_password(SERVICE, old_name)
        return str(value)

    def _set(self, kind: str, value: str | None) -> None:
        if value is None:
            self._delete(kind)
            return
        try:
            self._backend.set_password(SERVICE, self._name(kind), value)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"The OS keyring refused to store a secret: {exc}") from exc

    def _delete(self, kind: str) -> None:
        try:
            self._backend.delete_password(SERVICE, self._name(kind))
        except keyring.errors.PasswordDeleteError:
            pass  # already absent
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"The OS keyring refused to delete a secret: {exc}") from exc

    @property
    def terminal_token(self) -> str | None:
        """The long-lived token from pairing, or ``None``."""
        return self._get("terminal_token")

    @terminal_token.setter
    def terminal_token(self, value: str | None) -> None:
        self._set("terminal_token", value)

    @terminal_token.deleter
    def terminal_token(self) -> None:
        self._delete("terminal_token")

    @property
    def session_token(self) -> str | None:
        """The short-lived token of the signed-in staff member, or ``None``."""
        return self._get("session_token")

    @session_token.setter
    def session_token(self, value: str | None) -> None:
        self._set("session_token", value)

    @session_token.deleter
    def session_token(self) -> None:
        self._delete("session_token")
