"""Tokens for the data-centre endpoints in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service).

Service "Aktenlotse"; one entry per endpoint kind: "model" (OpenAI-compatible chat endpoint) and "knowledge"
(shared Chroma server). `get_token` never raises: without a keyring, requests go without a token and the message
says so. `set_token`/`delete_token` raise `RemoteConfigError` with a German message when there is no keyring.
Tokens never appear in messages, logs or reprs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.core.errors import RemoteConfigError

SERVICE = "Aktenlotse"
MODEL_TOKEN_ACCOUNT = "remote-model-token"
KNOWLEDGE_TOKEN_ACCOUNT = "shared-knowledge-token"
TokenKind = Literal["model", "knowledge"]
ACCOUNTS: dict[str, str] = {"model": MODEL_TOKEN_ACCOUNT, "knowledge": KNOWLEDGE_TOKEN_ACCOUNT}
LABELS: dict[str, str] = {"model": "Sprachmodell im Rechenzentrum", "knowledge": "Fachbereichswissen"}
NO_KEYRING = "Kein Schlüsselbund verfügbar – Anfragen an das Rechenzentrum gehen ohne Token"


@dataclass(frozen=True, slots=True)
class TokenStatus:
    token: str | None = field(repr=False)
    message: str = ""  # German: why there is no token ("" when there is one)

    @property
    def present(self) -> bool:
        return bool(self.token)


def _account(kind: str) -> str:
    try:
        return ACCOUNTS[kind]
    except KeyError:
        raise RemoteConfigError(f"Unbekannte Token-Art „{kind}“ (erlaubt: model, knowledge).") from None


def get_token(kind: TokenKind) -> TokenStatus:
    account = _account(kind)
    try:
        import keyring
        from keyring.errors import KeyringError, NoKeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        return TokenStatus(None, NO_KEYRING + " (Bibliothek fehlt).")
    try:
        token = keyring.get_password(SERVICE, account)
    except NoKeyringError:
        return TokenStatus(None, NO_KEYRING + ".")
    except (KeyringError, RuntimeError, OSError) as exc:
        return TokenStatus(None, f"{NO_KEYRING} (Schlüsselbund nicht lesbar: {type(exc).__name__}).")
    if not token:
        return TokenStatus(None, f"Für „{LABELS[kind]}“ ist kein Token hinterlegt – Anfragen gehen ohne Token "
                                 "(einrichten: aktenlotse remote token set --for " + kind + ").")
    return TokenStatus(token, "")


def set_token(kind: TokenKind, token: str) -> None:
    account = _account(kind)
    token = (token or "").strip()
    if not token:
        raise RemoteConfigError("Das Token ist leer; es wurde nichts gespeichert.")
    keyring, errors = _keyring()
    try:
        keyring.set_password(SERVICE, account, token)
    except errors as exc:
        raise _keyring_error("gespeichert", exc) from None


def delete_token(kind: TokenKind) -> bool:
    """True when a token was stored and is now removed, False when there was none."""
    account = _account(kind)
    keyring, errors = _keyring()
    try:
        if keyring.get_password(SERVICE, account) is None:
            return False
        keyring.delete_password(SERVICE, account)
    except errors as exc:
        if type(exc).__name__ == "PasswordDeleteError":
            return False
        raise _keyring_error("gelöscht", exc) from None
    return True


def _keyring():  # type: ignore[no-untyped-def]
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError as exc:  # pragma: no cover - keyring is a dependency
        raise RemoteConfigError(f"{NO_KEYRING}: die Schlüsselbund-Bibliothek fehlt.", repr(exc)) from None
    return keyring, (KeyringError, RuntimeError, OSError)


def _keyring_error(action: str, exc: BaseException) -> RemoteConfigError:
    from keyring.errors import NoKeyringError

    if isinstance(exc, NoKeyringError):
        return RemoteConfigError(
            f"Kein Schlüsselbund verfügbar – das Token kann auf diesem Rechner nicht {action} werden. "
            "Unter Windows ist das die Anmeldeinformationsverwaltung; bitte die IT verständigen.",
            type(exc).__name__)
    return RemoteConfigError(f"Der Schlüsselbund hat das Token nicht {action} ({type(exc).__name__}).",
                             type(exc).__name__)
