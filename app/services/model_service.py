"""Owns the model's lifecycle (lädt / bereit / Fehler), every chat call of the features and "Modell testen".

With a remote model (data centre) every chat call is pseudonymised when the policy says so (names, addresses,
dates of birth, IBAN, phone numbers, e-mail addresses and file numbers become placeholders before the text leaves
the PC; the answer is restored while it streams – `app.services.pseudonymised_chat`), and the run's audit record
gets the endpoint, whether it was pseudonymised and how many identifiers of each kind were masked (numbers only).
Where the policy allows a local fallback, an unreachable data centre (before the first piece of an answer, or at
load) switches to the local model; listeners of `add_backend_listener` hear "local-fallback".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import PurePath

from app.core.audit import AuditTrail
from app.core.errors import (
    AktenlotseError,
    Cancelled,
    ModelError,
    ModelNotReady,
    RemoteUnavailable,
)
from app.core.llm import (
    ChatMessage,
    GenerationParams,
    LanguageModel,
    ModelInfo,
    ModelState,
)
from app.core.progress import CancelToken, Progress
from app.services.audit_fields import AiRequest, model_fields, new_request_id
from app.services.pseudonymised_chat import Masking

SYSTEM_PROMPT_TEST = (
    "Du bist Aktenlotse, ein Assistent für Sachbearbeiterinnen und Sachbearbeiter in der deutschen "
    "Verwaltung. Antworte knapp, sachlich und auf Deutsch."
)

StateListener = Callable[[ModelState], None]
BackendListener = Callable[[str], None]

# `active_backend` values
BACKEND_LOCAL = "local"
BACKEND_REMOTE = "remote"
BACKEND_FALLBACK = "local-fallback"
FALLBACK_NOTICE_DE = "Rechenzentrum nicht erreichbar – lokales Modell in Verwendung"


class ModelService:
    """The app's one handle on the language model. Listeners are called from the thread that changes state."""

    def __init__(
        self,
        model: LanguageModel | None,
        unavailable_reason: AktenlotseError | None = None,
        *,
        preflight: Callable[[], str] | None = None,
        audit: AuditTrail | None = None,
        pseudonymise: bool = True,
        fallback: LanguageModel | None = None,
    ) -> None:
        """`preflight` runs on the loading thread before the model loads: the checksum check, returning the
        verified SHA-256 (kept in `verified_sha256`) or raising a ModelError. `audit` records `model_loaded` /
        `model_load_failed` and the "Modell testen" requests (`ai_request`, feature "model_test").

        For a remote `model` only: `pseudonymise` (policy `remote_pseudonymise`) masks every chat call;
        `fallback` (a local model, given only when the policy's `remote_fallback_local` allows it) answers when
        the data centre is unreachable (its own `load` checks its checksum; a `verified_sha256` attribute of it is
        reported while it answers)."""
        self._preflight = preflight
        self._audit = audit
        self._verified_sha256: str | None = None
        if model is None and unavailable_reason is None:
            unavailable_reason = ModelError("Es ist kein Sprachmodell eingerichtet.")
        self._model = model
        self._pseudonymise = pseudonymise
        self._fallback = fallback
        self._fallback_loaded = False
        self._fallback_lock = threading.Lock()
        self._remote_loaded = False  # False after a load that fell back: the remote model was never loaded
        self._active = BACKEND_REMOTE if model is not None and model.is_remote else BACKEND_LOCAL
        self._lock = threading.Lock()
        self._listeners: list[StateListener] = []
        self._backend_listeners: list[BackendListener] = []
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
        """The model answering now: the local fallback while it is in use, else the configured model."""
        if self._active == BACKEND_FALLBACK and self._fallback is not None:
            return self._fallback
        return self._model

    @property
    def verified_sha256(self) -> str | None:
        """The SHA-256 the preflight verified, of the model answering now."""
        if self._active == BACKEND_FALLBACK and self._fallback is not None:
            return getattr(self._fallback, "verified_sha256", None) or None
        return self._verified_sha256

    @verified_sha256.setter
    def verified_sha256(self, value: str | None) -> None:
        self._verified_sha256 = value

    @property
    def configured_model(self) -> LanguageModel | None:
        return self._model

    @property
    def info(self) -> ModelInfo | None:
        model = self.model
        return model.info if model is not None else None

    @property
    def active_backend(self) -> str:
        """"remote", "local-fallback" (data centre unreachable, the local model answers) or "local"."""
        return self._active

    @property
    def pseudonymises(self) -> bool:
        """Whether chat calls are masked now (a remote model answers and the policy asks for it)."""
        return self._pseudonymise and self._active == BACKEND_REMOTE

    def add_listener(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    def add_backend_listener(self, listener: BackendListener) -> None:
        """`listener(active_backend)` whenever the answering backend changes (from the thread that changes it);
        on "local-fallback" the UI says `FALLBACK_NOTICE_DE`."""
        self._backend_listeners.append(listener)

    def _set_backend(self, backend: str) -> None:
        with self._lock:
            changed, self._active = self._active != backend, backend
        if changed:
            for listener in list(self._backend_listeners):
                listener(backend)

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
            unreachable = False
            try:
                self._model.load()
                self._remote_loaded = self._model.is_remote
            except RemoteUnavailable:
                if not self._model.is_remote or self._fallback is None:
                    raise
                unreachable = True  # the policy allows the local model: load it instead
            if unreachable:
                yield Progress(1, 2, "Rechenzentrum nicht erreichbar – lokales Sprachmodell wird geladen …")
                if cancel is not None:
                    cancel.raise_if_cancelled()
                self._load_fallback()
                self._set_backend(BACKEND_FALLBACK)
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
        """Stream the model's answer to a free prompt (the "Modell testen" box) – pseudonymised like any feature."""
        if self._model is None or self._state is not ModelState.READY:
            raise self._error if self._state is ModelState.ERROR and self._error else ModelNotReady()
        messages = [ChatMessage("system", SYSTEM_PROMPT_TEST), ChatMessage("user", prompt)]
        trace = AiRequest(self._audit, "model_test", self, content={"prompt": prompt})
        trace.request_id, trace.params = new_request_id(), params or GenerationParams(max_tokens=256)
        yield from trace.run(self.chat(messages, trace.params, cancel, trace=trace))

    def chat(self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken, *,
             trace: AiRequest | None = None, known_names: Sequence[str] = ()) -> Iterator[str]:
        """Stream the model's reply to prepared messages (the features' own prompts); ModelNotReady before load.

        A local model gets the messages as they are. A remote one gets them pseudonymised (policy) with the run's
        `Masking` – kept on `trace`, so every call of one run shares one mapping – and the reply is restored while
        it streams; `known_names` (e.g. a letter's recipient) are masked wherever they occur. `trace.extra` gets
        "remote" (the endpoint), "pseudonymised" and "masked" (counts per kind), and "fallback": "local" when the
        data centre was unreachable before the first piece and the local fallback answered instead."""
        if self._model is None or self._state is not ModelState.READY:
            raise self._error if self._state is ModelState.ERROR and self._error else ModelNotReady()
        model = self._model
        if not model.is_remote:
            yield from model.stream_chat(messages, params, cancel)
            return
        if self._fallback is not None and (not self._remote_loaded or (
                trace is not None and trace.extra.get("fallback") == "local")):
            # the remote model never loaded, or this run already fell back: stay local for the whole run
            yield from self._fallback_chat(messages, params, cancel, trace)
            return
        extra: dict[str, object] = trace.extra if trace is not None else {}
        extra["remote"] = model.endpoint
        masking: Masking | None = None
        if self._pseudonymise:
            masking = trace.masking if trace is not None else None
            if masking is None:
                masking = Masking(known_names)
                if trace is not None:
                    trace.masking = masking
            else:
                masking.add_known_names(known_names)
            sent = masking.mask_messages(messages)
            extra["pseudonymised"] = True
            extra["masked"] = masking.counts()
        else:
            sent = list(messages)
            extra["pseudonymised"] = False
        received = False

        def remote_pieces() -> Iterator[str]:
            nonlocal received
            stream = model.stream_chat(sent, params, cancel)
            try:
                for piece in stream:
                    received = True
                    yield piece
            finally:
                _close(stream)

        pieces = remote_pieces() if masking is None else masking.restore_stream(remote_pieces())
        unreachable = False
        try:
            yield from pieces
        except RemoteUnavailable:
            if received or self._fallback is None:
                raise  # part of the answer is out already (or no fallback allowed): never switch models
            unreachable = True
        finally:
            _close(pieces)
        if unreachable:
            yield from self._fallback_chat(messages, params, cancel, trace)
            return
        self._set_backend(BACKEND_REMOTE)

    def reconnect(self, cancel: CancelToken | None = None) -> Iterator[Progress]:
        """„Erneut verbinden“ while the local fallback answers: ask the data centre again (its reachability check);
        if it answers, the next runs go there. Raises the remote error (German message) if it still does not – the
        fallback then stays in use. A generator for the UI task runner."""
        model = self._model
        if model is None or not model.is_remote or self._active != BACKEND_FALLBACK:
            return
        yield Progress(0, 1, "Verbindung zum Rechenzentrum wird geprüft …")
        if cancel is not None:
            cancel.raise_if_cancelled()
        model.load()
        self._remote_loaded = True
        if self._audit is not None:
            self._audit.record("model_reconnected", {"remote": model.endpoint, "model": model.info.display_name})
        self._set_backend(BACKEND_REMOTE)
        yield Progress(1, 1, "Rechenzentrum erreichbar")

    def _fallback_chat(self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken,
                       trace: AiRequest | None) -> Iterator[str]:
        """The local fallback answers: the original messages, unmasked – nothing leaves the PC."""
        assert self._fallback is not None
        self._load_fallback()
        if trace is not None:
            trace.extra["fallback"] = "local"
        self._set_backend(BACKEND_FALLBACK)
        yield from self._fallback.stream_chat(messages, params, cancel)

    def _load_fallback(self) -> None:
        """Load the local fallback model once (blocking)."""
        assert self._fallback is not None
        with self._fallback_lock:
            if not self._fallback_loaded:
                self._fallback.load()
                self._fallback_loaded = True

    def _record_loaded(self, seconds: float) -> None:
        if self._audit is None or self._model is None:
            return
        known = model_fields(self)
        answering = self.model  # the data centre's model, or the local file (also as the fallback)
        local_file = self.info is not None and answering is not None and not answering.is_remote
        fields: dict[str, object] = {"model": known["model"], "file": PurePath(self.info.path).name if local_file else "",
                                     "sha256": known["model_sha256"], "backend": known["backend"]}
        if self._model.is_remote:
            fields["remote"] = self._model.endpoint
            if self._active == BACKEND_FALLBACK:
                fields["fallback"] = "local"
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
        model = self.model
        n_ctx = getattr(model, "n_ctx", 0) if model is not None else 0
        return int(n_ctx or (self.info.context_length if self.info else 0) or 0)

    def close(self) -> None:
        if self._model is not None:
            self._model.close()
        if self._fallback is not None and self._fallback_loaded:
            self._fallback.close()


def _close(iterator: object) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()
