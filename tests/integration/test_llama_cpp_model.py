"""LlamaCppModel with the real test model: owner thread, streaming, cancellation, errors, chat template."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.adapters.llama_cpp_model import LlamaCppModel, default_threads
from app.adapters.model_files import GgufModelFiles
from app.core.errors import Cancelled, InvalidModelFile, ModelError, ModelNotReady
from app.core.llm import ChatMessage, GenerationParams, LanguageModel, ModelInfo
from app.core.progress import CancelToken

pytestmark = pytest.mark.model

QUESTION = [ChatMessage("system", "Antworte kurz."), ChatMessage("user", "Nenne drei Farben.")]
GREEDY = GenerationParams(max_tokens=8, temperature=0.0, seed=7)
LONG = GenerationParams(max_tokens=200, temperature=0.0, seed=7)


@pytest.fixture(scope="module")
def model(test_model_path: Path) -> Iterator[LlamaCppModel]:
    llm = LlamaCppModel(GgufModelFiles().inspect(test_model_path))
    llm.load()
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def baseline(model: LlamaCppModel) -> list[str]:
    """The greedy answer of a fresh model: later runs must give the same after any cancellation."""
    return list(model.stream_chat(QUESTION, GREEDY, CancelToken()))


def test_implements_the_port(model: LlamaCppModel) -> None:
    assert isinstance(model, LanguageModel)
    assert model.backend_name == "lokal (llama.cpp)" and model.is_remote is False


def test_loads_and_generates_on_its_own_thread(test_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    used_on: dict[str, int] = {}

    class RecordingLlama(llama_cpp.Llama):  # type: ignore[misc]
        def __init__(self, *args: object, **kwargs: object) -> None:
            used_on["init"] = threading.get_ident()
            super().__init__(*args, **kwargs)

        def create_chat_completion(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            used_on["generate"] = threading.get_ident()
            return super().create_chat_completion(*args, **kwargs)

    monkeypatch.setattr(llama_cpp, "Llama", RecordingLlama)
    llm = LlamaCppModel(GgufModelFiles().inspect(test_model_path), n_threads=1, n_ctx=512)
    try:
        info = llm.load()
        pieces = list(llm.stream_chat(QUESTION, GREEDY, CancelToken()))
        owner = llm.owner_thread
        assert owner is not None and owner.daemon and owner.is_alive()
        assert used_on["init"] == used_on["generate"] == owner.ident != threading.get_ident()
        assert pieces
        assert info.extra["n_threads"] == "1" and info.extra["n_ctx"] == "512"
    finally:
        llm.close()
    assert not owner.is_alive()


def test_streams_several_pieces(model: LlamaCppModel, baseline: list[str]) -> None:
    assert len(baseline) >= 3 and "".join(baseline).strip()
    assert model.last_run is not None and model.last_run.finish_reason in ("length", "stop")
    assert list(model.stream_chat(QUESTION, GREEDY, CancelToken())) == baseline  # greedy is deterministic


def test_cancel_mid_generation_stops_quickly_and_the_model_stays_usable(
    model: LlamaCppModel, baseline: list[str]
) -> None:
    cancel = CancelToken()
    received: list[str] = []
    stream = model.stream_chat(QUESTION, LONG, cancel)
    with pytest.raises(Cancelled):
        for piece in stream:
            received.append(piece)
            if len(received) == 2:
                cancel.cancel()
                cancelled_at = time.perf_counter()
    assert time.perf_counter() - cancelled_at < 2.0
    assert received and len(received) == 2
    assert model.wait_idle(timeout=10)
    assert model.last_run is not None and model.last_run.finish_reason == "cancelled"
    assert model.last_run.pieces <= 3  # checked per token: at most the piece in flight
    assert list(model.stream_chat(QUESTION, GREEDY, CancelToken())) == baseline


class CancelAfterPolls(CancelToken):
    """Cancels itself when asked for the n-th time: no timer, the owner thread asks once as it starts
    a generation and a waiting consumer asks every 50 ms while no piece arrives."""

    def __init__(self, polls: int) -> None:
        super().__init__()
        self.remaining = polls

    @property
    def cancelled(self) -> bool:
        self.remaining -= 1
        if self.remaining <= 0:
            self.cancel()
        return super().cancelled


def test_cancel_while_the_prompt_is_processed(model: LlamaCppModel, baseline: list[str]) -> None:
    """llama.cpp stops inside prompt processing (seconds for a long prompt), not only between tokens."""
    assert model.info.extra["prompt_cancel"] == "ja"
    long_text = " ".join(f"Absatz {i}: Die Behörde prüft den Antrag fristgerecht und sorgfältig." for i in range(60))
    cancel = CancelAfterPolls(2)  # cancelled ~50 ms into the ~1800-token prompt
    with pytest.raises(Cancelled):
        list(model.stream_chat([ChatMessage("user", long_text)], LONG, cancel))
    assert model.wait_idle(timeout=10)
    assert model.last_run is not None and model.last_run.finish_reason == "cancelled"
    assert model.last_run.aborted_in_prompt and model.last_run.pieces == 0
    assert list(model.stream_chat(QUESTION, GREEDY, CancelToken())) == baseline


def test_closing_the_consumer_stops_generation(model: LlamaCppModel, baseline: list[str]) -> None:
    stream = model.stream_chat(QUESTION, LONG, CancelToken())
    first = next(stream)
    stream.close()
    assert first
    assert model.wait_idle(timeout=10)
    assert model.last_run is not None and model.last_run.finish_reason == "closed"
    assert model.last_run.pieces < 10  # not the 200 tokens asked for
    assert list(model.stream_chat(QUESTION, GREEDY, CancelToken())) == baseline


def test_an_already_cancelled_token_raises_before_any_work(model: LlamaCppModel) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(model.stream_chat(QUESTION, GREEDY, cancel))


def test_uses_the_chat_template_from_the_gguf(model: LlamaCppModel) -> None:
    assert model.chat_format == "chat_template.default"  # llama-cpp-python's name for the file's own template
    assert model.info.extra["chat_template_source"] == "GGUF"
    prompt = model.render_prompt([ChatMessage("user", "Hallo")])
    # SmolLM2's template adds its own default system prompt: a generic ChatML template would not
    assert prompt.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    assert prompt.endswith("<|im_start|>user\nHallo<|im_end|>\n<|im_start|>assistant\n")


def test_too_long_input_is_a_german_model_error(test_model_path: Path) -> None:
    llm = LlamaCppModel(GgufModelFiles().inspect(test_model_path), n_ctx=256)
    try:
        llm.load()
        with pytest.raises(ModelError) as caught:
            list(llm.stream_chat([ChatMessage("user", "Wort " * 400)], GREEDY, CancelToken()))
        assert "zu lang" in caught.value.user_message and "256" in caught.value.user_message
        assert list(llm.stream_chat(QUESTION, GREEDY, CancelToken()))  # still usable
    finally:
        llm.close()


def test_truncated_file_fails_to_load_with_a_german_message(test_model_path: Path, tmp_path: Path) -> None:
    half = tmp_path / "halb.gguf"
    with test_model_path.open("rb") as src, half.open("wb") as dst:
        dst.write(src.read(test_model_path.stat().st_size // 2))
    info = ModelInfo(path=str(half), size_bytes=half.stat().st_size, context_length=8192)
    llm = LlamaCppModel(info)
    try:
        with pytest.raises(InvalidModelFile) as caught:
            llm.load()
        assert "beschädigt, unvollständig" in caught.value.user_message
        assert str(half) in caught.value.detail
        with pytest.raises(ModelNotReady):
            next(llm.stream_chat(QUESTION, GREEDY, CancelToken()))
    finally:
        llm.close()


def test_missing_and_non_gguf_files(tmp_path: Path) -> None:
    text = tmp_path / "brief.gguf"
    text.write_text("Sehr geehrte Damen und Herren", encoding="utf-8")
    for path, error in ((tmp_path / "fehlt.gguf", ModelError), (text, InvalidModelFile)):
        llm = LlamaCppModel(ModelInfo(path=str(path), size_bytes=0))
        with pytest.raises(error) as caught:
            llm.load()
        assert caught.value.user_message.startswith("Die ")
        llm.close()


def test_closed_model_refuses_work(test_model_path: Path) -> None:
    llm = LlamaCppModel(GgufModelFiles().inspect(test_model_path), n_ctx=512)
    llm.load()
    owner = llm.owner_thread
    llm.close()
    assert owner is not None and not owner.is_alive()
    with pytest.raises(ModelError):
        next(llm.stream_chat(QUESTION, GREEDY, CancelToken()))
    with pytest.raises(ModelError):
        llm.load()


def test_thread_and_context_sizing() -> None:
    assert default_threads(1) == (1, 1)
    assert default_threads(2) == (2, 2)
    assert default_threads(16) == (8, 15)
    assert default_threads(64) == (8, 16)
    info = ModelInfo(path="x.gguf", size_bytes=0, context_length=2048)
    assert LlamaCppModel(info).n_ctx == 2048  # never more than the model was trained for
    assert LlamaCppModel(info, n_ctx=1024).n_ctx == 1024
    assert LlamaCppModel(ModelInfo(path="x.gguf", size_bytes=0, context_length=32768)).n_ctx == 4096
