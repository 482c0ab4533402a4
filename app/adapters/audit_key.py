"""The audit log's signing key: 32 random bytes per installation in the OS keyring (Windows Credential Manager,
macOS Keychain, Secret Service on Linux), created on first run.

Without a usable keyring (headless Linux has none) the key is None and `KeyStatus.message_de` says why; the log is
then hash-chained but not signed. A keyring that fails later (locked, removed) is reported the same way.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

SERVICE = "Aktenlotse"
ACCOUNT = "audit-hmac-key"


@dataclass(frozen=True)
class KeyStatus:
    key: bytes | None
    created: bool = False
    backend: str = ""
    message_de: str = ""


def load_or_create_key(service: str = SERVICE, account: str = ACCOUNT) -> KeyStatus:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError as exc:  # pragma: no cover - keyring is a dependency
        return KeyStatus(None, message_de=f"Die Schlüsselbund-Bibliothek fehlt ({exc}).")
    try:
        backend = keyring.get_keyring()
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        stored = keyring.get_password(service, account)
        if stored:
            return KeyStatus(bytes.fromhex(stored), backend=name)
        key = secrets.token_bytes(32)
        keyring.set_password(service, account, key.hex())
        if keyring.get_password(service, account) != key.hex():
            return KeyStatus(None, backend=name, message_de="Der Schlüsselbund hat den Schlüssel nicht gespeichert.")
        return KeyStatus(key, created=True, backend=name)
    except (KeyringError, ValueError, RuntimeError, OSError) as exc:
        return KeyStatus(None, message_de=(
            "Kein nutzbarer Schlüsselbund (z. B. Windows-Anmeldeinformationsverwaltung): das Prüfprotokoll wird "
            f"verkettet, aber nicht signiert. ({type(exc).__name__}: {exc})"))
