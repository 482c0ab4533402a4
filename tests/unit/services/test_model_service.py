"""The model's lifecycle and the "Modell testen" use case, with a fake LanguageModel (no llama.cpp)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from app.core.errors import Cancelled, InvalidModelFile, ModelChecksumMismatch, ModelError, ModelNotReady
from app.core.llm import ChatMessage, GenerationParams, LanguageModel, ModelInfo, ModelState
from app.core.progress import CancelToken, Progress
from app.services.model_service import SYSTEM_PROMPT_TEST, ModelService


class FakeModel:
    """A LanguageModel that streams fixed pieces and checks the CancelToken before each one."""

    def __init__(self, pieces: Sequence[str] = ("Guten", " Tag", "!"), load_error: BaseException | None = None):
        self._info = ModelInfo(path="/models/fake.gguf", size_bytes=1, name="Fake")
        self.pieces = list(pieces)
        self.load_error = load_error
        self.load_calls = 0
        self.closed = False
        self.received: list[tuple[list[ChatMessage], GenerationParams]] = []
        self.on_piece = lambda index: None  # lets a test act between pieces

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def backend_name(self) -> str:
        return "Attrappe"

    @property
    def is_remote(self) -> bool:
        return False

    @property
    def endpoint(self) -> str:
        return ""

    def load(self) -> ModelInfo:
        self.load_calls += 1
        if self.load_error is not None:
            raise self.load_error
        return self._info

    def stream_chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken
    ) -> Iterator[str]:
        self.received.append((list(messages), params))
        for index, piece in enumerate(self.pieces):
            cancel.raise_if_cancelled()
            yield piece
            self.on_piece(index)

    def close(self) -> None:
        self.closed = True


def loaded_service(model: FakeModel) -> ModelService:
    service = ModelService(model)
    list(service.load())
    return service


def test_fake_satisfies_the_port() -> None:
    assert isinstance(FakeModel(), LanguageModel)


def test_load_goes_not_loaded_loading_ready_and_tells_listeners() -> None:
    model = FakeModel()
    service = ModelService(model)
    seen: list[ModelState] = []
    service.add_listener(seen.append)
    assert service.state is ModelState.NOT_LOADED and service.error is None

    steps = service.load()
    first = next(steps)
    assert isinstance(first, Progress) and service.state is ModelState.LOADING and model.load_calls == 0
    rest = list(steps)

    assert seen == [ModelState.LOADING, ModelState.READY]
    assert service.state is ModelState.READY and model.load_calls == 1
    assert rest[-1].fraction == 1.0 and "bereit" in rest[-1].message
    assert service.info is not None and service.info.name == "Fake"


def test_loading_again_when_ready_does_nothing() -> None:
    model = FakeModel()
    service = loaded_service(model)
    assert list(service.load()) == [] and model.load_calls == 1


def test_a_model_error_while_loading_sets_error_with_the_german_message() -> None:
    error = InvalidModelFile(detail="/models/fake.gguf: abgeschnitten")
    service = ModelService(FakeModel(load_error=error))
    seen: list[ModelState] = []
    service.add_listener(seen.append)
    with pytest.raises(InvalidModelFile):
        list(service.load())
    assert seen == [ModelState.LOADING, ModelState.ERROR]
    assert service.state is ModelState.ERROR and service.error is error
    assert service.error.user_message == "Die Modelldatei ist keine gültige GGUF-Datei oder unvollständig."
    assert service.state.label_de == "Fehler"


def test_an_unexpected_library_error_becomes_a_model_error() -> None:
    service = ModelService(FakeModel(load_error=RuntimeError("ggml: out of cheese")))
    with pytest.raises(ModelError) as caught:
        list(service.load())
    assert caught.value.user_message == "Das Sprachmodell konnte nicht geladen werden."
    assert "out of cheese" in caught.value.detail and service.error is caught.value


def test_preflight_failure_stops_before_the_model_is_loaded() -> None:
    model = FakeModel()

    def preflight() -> None:
        raise ModelChecksumMismatch(detail="erwartet a, gefunden b")

    service = ModelService(model, preflight=preflight)
    with pytest.raises(ModelChecksumMismatch):
        list(service.load())
    assert model.load_calls == 0 and service.state is ModelState.ERROR
    assert "Prüfsumme" in service.error.user_message  # type: ignore[union-attr]


def test_cancelled_load_returns_to_not_loaded() -> None:
    model = FakeModel()
    service = ModelService(model)
    cancel = CancelToken()
    steps = service.load(cancel)
    next(steps)
    cancel.cancel()
    with pytest.raises(Cancelled):
        list(steps)
    assert service.state is ModelState.NOT_LOADED and service.error is None and model.load_calls == 0


def test_without_a_model_the_service_is_in_error_and_says_why() -> None:
    reason = ModelError("Es ist kein Sprachmodell eingerichtet.")
    service = ModelService(None, reason)
    assert service.state is ModelState.ERROR and service.info is None
    with pytest.raises(ModelError) as caught:
        list(service.load())
    assert caught.value is reason
    with pytest.raises(ModelError):
        list(service.test_prompt("Hallo", CancelToken()))


def test_test_prompt_before_loading_raises_not_ready() -> None:
    service = ModelService(FakeModel())
    with pytest.raises(ModelNotReady) as caught:
        list(service.test_prompt("Hallo", CancelToken()))
    assert caught.value.user_message == "Das Sprachmodell ist noch nicht bereit."


def test_test_prompt_after_a_load_error_raises_that_error() -> None:
    error = InvalidModelFile(detail="kaputt")
    service = ModelService(FakeModel(load_error=error))
    with pytest.raises(InvalidModelFile):
        list(service.load())
    with pytest.raises(InvalidModelFile) as caught:
        list(service.test_prompt("Hallo", CancelToken()))
    assert caught.value is error


def test_test_prompt_streams_the_answer_with_the_system_prompt() -> None:
    model = FakeModel()
    service = loaded_service(model)
    pieces = list(service.test_prompt("Wie geht es?", CancelToken(), GenerationParams(max_tokens=7)))
    assert pieces == ["Guten", " Tag", "!"]
    messages, params = model.received[0]
    assert messages == [ChatMessage("system", SYSTEM_PROMPT_TEST), ChatMessage("user", "Wie geht es?")]
    assert params.max_tokens == 7


def test_test_prompt_honours_cancel_between_pieces() -> None:
    model = FakeModel(pieces=["eins", "zwei", "drei", "vier"])
    service = loaded_service(model)
    cancel = CancelToken()
    model.on_piece = lambda index: cancel.cancel() if index == 1 else None
    received: list[str] = []
    with pytest.raises(Cancelled):
        for piece in service.test_prompt("Zähle", cancel):
            received.append(piece)
    assert received == ["eins", "zwei"]
    assert service.state is ModelState.READY  # cancelling an answer does not unload the model


def test_close_closes_the_model() -> None:
    model = FakeModel()
    ModelService(model).close()
    assert model.closed
