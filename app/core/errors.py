"""One typed exception hierarchy; every error carries a German message for the user and a technical detail."""

from __future__ import annotations


class AktenlotseError(Exception):
    """Base of all errors the app expects. `user_message` is German and shown as is; `detail` goes behind "Details"."""

    user_message: str = "Ein unerwarteter Fehler ist aufgetreten."

    def __init__(self, user_message: str | None = None, detail: str = "") -> None:
        if user_message is not None:
            self.user_message = user_message
        self.detail = detail
        super().__init__(self.user_message if not detail else f"{self.user_message} ({detail})")


class Cancelled(AktenlotseError):
    """The user cancelled. A normal outcome: presenters ignore it."""

    user_message = "Abgebrochen."


class ConfigError(AktenlotseError):
    """Policy or settings could not be read or are invalid."""

    user_message = "Die Konfiguration ist ungültig."


class PolicyViolation(AktenlotseError):
    """Something the admin policy forbids (e.g. a path outside the allowed roots, changing a locked key)."""

    user_message = "Diese Aktion ist durch die Richtlinie Ihrer IT nicht erlaubt."


class ModelError(AktenlotseError):
    """The language model could not be found, verified, loaded or run."""

    user_message = "Das Sprachmodell ist nicht verfügbar."


class ModelNotFound(ModelError):
    user_message = "Die Modelldatei wurde nicht gefunden."


class ModelChecksumMismatch(ModelError):
    user_message = "Die Prüfsumme der Modelldatei stimmt nicht. Die Datei ist beschädigt oder nicht die freigegebene Datei."


class InvalidModelFile(ModelError):
    user_message = "Die Modelldatei ist keine gültige GGUF-Datei oder unvollständig."


class ModelNotReady(ModelError):
    user_message = "Das Sprachmodell ist noch nicht bereit."


class RemoteError(ModelError):
    """A data-centre endpoint (model or shared knowledge) failed. The German message names the endpoint."""

    user_message = "Der Dienst im Rechenzentrum ist nicht verfügbar."


class RemoteUnavailable(RemoteError):
    """Not reachable, timed out or overloaded – after the retries the policy allows. Falling back may help."""

    user_message = "Das Rechenzentrum ist nicht erreichbar. Bitte später erneut versuchen oder die IT verständigen."


class RemoteRejected(RemoteError):
    """Reached, but it refused the request (token, model name, request too long). Retrying or falling back will not
    help: the configuration or the request must change."""

    user_message = "Das Rechenzentrum hat die Anfrage abgelehnt."


class RemoteConfigError(RemoteError):
    """The policy's endpoint settings cannot be used (not https, CA file missing, no token in the keyring)."""

    user_message = "Die Verbindung zum Rechenzentrum ist falsch eingerichtet. Bitte wenden Sie sich an Ihre IT."
