"""Owns the model's lifecycle (lädt / bereit / Fehler) and the "Modell testen" use case."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import PurePath

from app.core.audit import AuditTrail
from app.core.errors import AktenlotseError, Cancelled, ModelError, ModelNotReady
from app.core.llm import (
    ChatMessage,
    GenerationParams,
    LanguageModel,
    ModelInfo,
    ModelState,
)
from app.core.progress import CancelToken, Progress
from app.services.audit_fields import AiRequest, model_fields, new_request_id

SYSTEM_PROMPT_TEST = (
    "Du bist Aktenlotse, ein Assistent für Sachbearbeiterinnen und Sachbearbeiter in der deutschen "
    "Verwaltung. Antworte knapp, sachlich und auf Deutsch."
)

StateListener = Callable[[ModelState], None]


class ModelService:
    """The app's one handle on the language model. Listeners are called from the thread that changes state."""

    def __init__(
        self,
        model: LanguageModel | None,
        unavailable_reason: AktenlotseError | None = None,
        *,
        preflight: Callable[[], str] | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        """`preflight` runs on the loading thread before the model loads: the checksum check, returning the
        verified SHA-256 (kept in `verified_sha256`) or raising a ModelError. `audit` records `model_loaded` /
        `model_load_failed` and the "Modell testen" requests (`ai_request`, feature "model_test")."""
        self._preflight = preflight
        self._audit = audit
        self.verified_sha256: str | None = None
        if model is None and unavailable_reason is None:
            unavailable_reason = ModelError("Es ist kein Sprachmodell eingerichtet.")
        self._model = model
        self._lock = threading.Lock()
        self._listeners: list[StateListener] = []
        self._error: AktenlotseError | None = unavailable_reason
        self._state = ModelState.ERROR if model is None else ModelState.NOT_LOADED

    # -- state ----------------------------------------------------------------------
    @property
    def state(self) -> ModelState:
        return self._state

    @property
    def error(self) -> AktenlotseError | None:
        return self._error

    @property
    def model(self) -> LanguageModel | None:
        return self._model

    @property
    def info(self) -> ModelInfo | None:
        return self._model.info if self._model is not None else None

    def add_listener(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    def _set_state(self, state: ModelState, error: AktenlotseError | None = None) -> None:
        with self._lock:
            self._state, self._error = state, error
        for listener in list(self._listeners):
            listener(state)

    # -- use cases ------------------------------------------------------------------
    def load(self, cancel: CancelToken | None = None) -> Iterator[Progress]:
        """Load the model; a generator so the UI task runner can run it in the background."""
        if self._model is None:
            raise self._error or ModelError()
        if self._state is ModelState.READY:
            return
        self._set_state(ModelState.LOADING)
        started = time.perf_counter()
        try:
            if self._preflight is not None:
                yield Progress(0, 2, "Prüfsumme der Modelldatei wird geprüft …")
                self.verified_sha256 = self._preflight()
            yield Progress(1, 2, "Sprachmodell wird geladen …")
            if cancel is not None:
                cancel.raise_if_cancelled()
            self._model.load()
        except Cancelled:
            self._set_state(ModelState.NOT_LOADED)
            raise
        except AktenlotseError as exc:
            self._set_state(ModelState.ERROR, exc)
            self._record_failure(exc)
            raise
        except GeneratorExit:  # the consumer stopped before loading finished
            self._set_state(ModelState.NOT_LOADED)
            raise
        except Exception as exc:  # a library error we did not foresee: still a clear message
            error = ModelError("Das Sprachmodell konnte nicht geladen werden.", repr(exc))
            self._set_state(ModelState.ERROR, error)
            self._record_failure(exc)
            raise error from exc
        try:  # on disk before the model is reported ready
            self._record_loaded(time.perf_counter() - started)
        except AktenlotseError as exc:
            self._set_state(ModelState.ERROR, exc)
            raise
        self._set_state(ModelState.READY)
        yield Progress(2, 2, "Sprachmodell bereit")

    def test_prompt(
        self, prompt: str, cancel: CancelToken, params: GenerationParams | None = None
    ) -> Iterator[str]:
        """Stream the model's answer to a free prompt (the "Modell testen" box)."""
        if self._model is None or self._state is not ModelState.READY:
            raise self._error if self._state is ModelState.ERROR and self._error else ModelNotReady()
        messages = [ChatMessage("system", SYSTEM_PROMPT_TEST), ChatMessage("user", prompt)]
        trace = AiRequest(self._audit, "model_test", self, content={"prompt": prompt})
        trace.request_id, trace.params = new_request_id(), params or GenerationParams(max_tokens=256)
        yield from trace.run(self._model.stream_chat(messages, trace.params, cancel))

    def chat(self, messages: list[ChatMessage], params: GenerationParams, cancel: CancelToken) -> Iterator[str]:
        """Stream the model's reply to prepared messages (the features' own prompts); ModelNotReady before load."""
        if self._model is None or self._state is not ModelState.READY:
            raise self._error if self._state is ModelState.ERROR and self._error else ModelNotReady()
        yield from self._model.stream_chat(messages, params, cancel)

    def _record_loaded(self, seconds: float) -> None:
        if self._audit is None or self._model is None:
            return
        known = model_fields(self)
        fields: dict[str, object] = {"model": known["model"], "file": PurePath(self.info.path).name if self.info else "",
                                     "sha256": known["model_sha256"], "backend": known["backend"]}
        if self.context_length:
            fields["n_ctx"] = self.context_length
        fields["seconds"] = round(seconds, 3)
        self._audit.record("model_loaded", fields)

    def _record_failure(self, exc: BaseException) -> None:
        if self._audit is not None:
            self._audit.record("model_load_failed", {"model": model_fields(self)["model"],
                                                     "reason": type(exc).__name__})

    @property
    def context_length(self) -> int:
        """Tokens the loaded model accepts (prompt + answer); 0 when unknown."""
        n_ctx = getattr(self._model, "n_ctx", 0) if self._model is not None else 0
        return int(n_ctx or (self.info.context_length if self.info else 0) or 0)

    def close(self) -> None:
        if self._model is not None:
            self._model.close()
