"""View model of the model's state for every widget that depends on it: state, error and why AI is off."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.config import EffectiveConfig
from app.core.endpoints import parse_endpoint
from app.core.errors import AktenlotseError, RemoteConfigError
from app.core.llm import ModelInfo, ModelState
from app.core.models import ModelSelection
from app.services.model_service import BACKEND_FALLBACK, ModelService
from app.ui.i18n import tr


class ModelStatus(QObject):
    """Mirrors `ModelService.state` in the GUI thread. The service calls listeners from its worker thread,
    so the listener only emits a signal, which Qt queues to the GUI thread."""

    state_changed = Signal(object)  # ModelState, in the GUI thread
    _state_reported = Signal(object)  # ModelState, from any thread
    backend_changed = Signal(str)  # ModelService.active_backend, in the GUI thread
    _backend_reported = Signal(str)  # from any thread

    def __init__(
        self,
        config: EffectiveConfig,
        service: ModelService,
        selection: ModelSelection | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.service = service
        self.selection = selection
        self._state = service.state
        self._state_reported.connect(self._on_state_reported)
        service.add_listener(self._listener)
        self._backend_reported.connect(self.backend_changed)
        service.add_backend_listener(self._backend_listener)

    # -- any thread ---------------------------------------------------------------------
    def _listener(self, state: ModelState) -> None:
        try:
            self._state_reported.emit(state)
        except RuntimeError:  # the window is gone while the service still reports; nothing to update
            pass

    def _backend_listener(self, backend: str) -> None:
        try:
            self._backend_reported.emit(backend)
        except RuntimeError:
            pass

    # -- GUI thread ---------------------------------------------------------------------
    def _on_state_reported(self, state: ModelState) -> None:
        self._state = state
        self.state_changed.emit(state)

    @property
    def state(self) -> ModelState:
        return self._state

    @property
    def error(self) -> AktenlotseError | None:
        return self.service.error if self._state is ModelState.ERROR else None

    @property
    def info(self) -> ModelInfo | None:
        """The model that answers: the data centre's when the policy names one (or, during a fallback, the local
        one), else the selected local file."""
        configured = self.service.configured_model
        if configured is not None and configured.is_remote:
            return self.service.info
        if self.selection is not None and self.selection.info is not None:
            return self.selection.info
        return self.service.info

    @property
    def display_name(self) -> str:
        info = self.info
        return info.display_name if info is not None else tr("kein Modell")

    @property
    def is_demo(self) -> bool:
        info = self.info
        return info is not None and info.is_demo

    @property
    def remote_endpoints(self) -> list[str]:
        """Every remote endpoint the policy configures, named, with what it is for and whether it is in use;
        empty while everything runs on this PC."""
        endpoints: list[str] = []
        configured = self.service.configured_model
        if configured is not None and configured.is_remote:
            where = _display(configured.endpoint, "Sprachmodell")
            if self.service.active_backend == BACKEND_FALLBACK:
                endpoints.append(tr("Sprachmodell {where} nicht erreichbar – lokales Modell in Verwendung").format(
                    where=where))
            else:
                endpoints.append(tr("Sprachmodell {where}").format(where=where))
        s = self.config.settings
        if s.shared_knowledge_url and s.shared_collections:
            endpoints.append(tr("Fachbereichswissen {where} ({collections})").format(
                where=_display(s.shared_knowledge_url, "Fachbereichswissen"),
                collections=", ".join(s.shared_collections)))
        return endpoints

    @property
    def remote_details(self) -> str:
        """The tooltip: what goes where, and whether it is pseudonymised."""
        lines: list[str] = []
        configured = self.service.configured_model
        if configured is not None and configured.is_remote:
            if self.service.active_backend == BACKEND_FALLBACK:
                lines.append(tr("Das Rechenzentrum ist nicht erreichbar; das Sprachmodell auf diesem Rechner "
                                "antwortet. Nichts verlässt den Rechner."))
            else:
                lines.append(tr("Fragen und Textstellen gehen an das Sprachmodell im Rechenzentrum ({url}).").format(
                    url=configured.endpoint))
                lines.append(tr("Namen, Anschriften, Geburtsdaten, IBAN, Telefonnummern, E-Mail-Adressen und "
                                "Aktenzeichen werden vorher durch Platzhalter ersetzt.") if self.service.pseudonymises
                             else tr("Die Texte werden NICHT pseudonymisiert (Richtlinie)."))
        s = self.config.settings
        if s.shared_knowledge_url and s.shared_collections:
            lines.append(tr("Das Fachbereichswissen wird auf {url} durchsucht; dorthin geht nur der Suchvektor "
                            "der Frage, keine eigene Datei.").format(url=s.shared_knowledge_url))
        return "\n".join(lines)

    def block_reason(self) -> str | None:
        """German reason why features that need the model are off, or None when they can be used."""
        if self.config.policy_error is not None:
            return tr("Die KI-Funktionen sind ausgeschaltet, weil die Richtlinie Ihrer IT fehlerhaft ist.")
        if self._state is ModelState.READY:
            return None
        if self._state is ModelState.LOADING:
            return tr("Das Sprachmodell wird noch geladen …")
        if self._state is ModelState.ERROR:
            error = self.service.error
            return error.user_message if error is not None else tr("Das Sprachmodell ist nicht verfügbar.")
        return tr("Das Sprachmodell ist noch nicht geladen.")


def _display(url: str, purpose: str) -> str:
    """"llm.rz.example.de:443" for the status bar; the URL as given if the policy's value cannot be parsed."""
    try:
        return parse_endpoint(url, purpose).display
    except RemoteConfigError:
        return url
