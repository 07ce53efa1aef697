"""Secrets in the OS keyring: the terminal token (from pairing) and the session token."""

from __future__ import annotations

import os

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from pos_app.client._errors import InsecureKeyring, KeyringUnavailable

__all__ = ["ALLOW_INSECURE_ENV", "SERVICE", "Credentials", "check_keyring", "insecure_reason"]

SERVICE = "pos-app"
ALLOW_INSECURE_ENV = "POS_APP_ALLOW_INSECURE_KEYRING"
_INSTALL_HINT = ("Install and unlock GNOME Keyring or KWallet (SecretService) on Linux; macOS "
                 "Keychain and Windows Credential Locker are used automatically. Only for tests "
                 f"or a throwaway demo machine, set {ALLOW_INSECURE_ENV}=1.")


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


class Credentials:
    """The secrets of one server (``server_url``) in keyring service "pos-app".

    ``terminal_token`` and ``session_token`` are read/write properties; assigning ``None`` or
    ``del`` removes the secret. Raises :class:`~pos_app.client.InsecureKeyring` at construction
    when the backend is plain text / null / empty (unless ``POS_APP_ALLOW_INSECURE_KEYRING=1``),
    and :class:`~pos_app.client.KeyringUnavailable` when the keyring refuses an operation
    (e.g. locked).
    """

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url.rstrip("/")
        check_keyring()
        self._backend = keyring.get_keyring()

    def _name(self, kind: str) -> str:
        return f"{self.server_url}#{kind}"

    def _get(self, kind: str) -> str | None:
        try:
            value = self._backend.get_password(SERVICE, self._name(kind))
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"The OS keyring refused to read a secret: {exc}") from exc
        return None if value is None else str(value)

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
