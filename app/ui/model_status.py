"""View model of the model's state for every widget that depends on it: state, error and why AI is off."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.config import EffectiveConfig
from app.core.errors import AktenlotseError
from app.core.llm import ModelInfo, ModelState
from app.core.models import ModelSelection
from app.services.model_service import ModelService
from app.ui.i18n import tr


class ModelStatus(QObject):
    """Mirrors `ModelService.state` in the GUI thread. The service calls listeners from its worker thread,
    so the listener only emits a signal, which Qt queues to the GUI thread."""

    state_changed = Signal(object)  # ModelState, in the GUI thread
    _state_reported = Signal(object)  # ModelState, from any thread

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

    # -- any thread ---------------------------------------------------------------------
    def _listener(self, state: ModelState) -> None:
        try:
            self._state_reported.emit(state)
        except RuntimeError:  # the window is gone while the service still reports; nothing to update
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
        """Where AI requests go when they leave the machine; empty while everything runs locally."""
        model = self.service.model
        if model is not None and model.is_remote:
            return [model.backend_name]
        return []

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
