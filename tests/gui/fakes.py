"""A fake LanguageModel for GUI tests, benchmarks and screenshots: streams pieces and honours the CancelToken."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from app.core.errors import AktenlotseError, Cancelled
from app.core.llm import ChatMessage, GenerationParams, ModelInfo
from app.core.progress import CancelToken

ANSWER = (
    "Eine Eingangsbestätigung teilt der antragstellenden Person mit, dass ihr Antrag bei der Behörde "
    "eingegangen ist. Sie nennt das Eingangsdatum, das Aktenzeichen und gegebenenfalls fehlende Unterlagen."
)

FAKE_INFO = ModelInfo(
    path="/opt/aktenlotse/models/fake-model.Q4_K_M.gguf",
    size_bytes=4_368_439_296,
    architecture="llama",
    name="Fake-Modell 7B Instruct",
    context_length=8192,
    chat_template="{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}",
    model_id="fake-7b",
    role="admin",
)


def words(text: str) -> list[str]:
    """Pieces as a tokenizer would stream them: each word with its leading space."""
    parts = text.split(" ")
    return [parts[0]] + [" " + part for part in parts[1:]]


class FakeLanguageModel:
    """Implements the LanguageModel port without any library.

    * `load_gate`: load() blocks until this event is set (to see the window in state "lädt").
    * `load_error`: load() raises it.
    * `pieces`: what stream_chat yields; `endless=True` keeps yielding until cancelled.
    * `block_until_cancelled`: after the pieces, wait (without sleeping in the test) until the token is set.
    * `piece_delay`: seconds between pieces, to mimic a real model's pace (benchmarks, screenshots).
    """

    def __init__(
        self,
        info: ModelInfo = FAKE_INFO,
        pieces: Sequence[str] | None = None,
        *,
        load_gate: threading.Event | None = None,
        load_error: AktenlotseError | None = None,
        endless: bool = False,
        block_until_cancelled: bool = False,
        piece_delay: float = 0.0,
        remote: bool = False,
    ) -> None:
        self._info = info
        self.pieces = list(pieces) if pieces is not None else words(ANSWER)
        self.load_gate = load_gate
        self.load_error = load_error
        self.endless = endless
        self.block_until_cancelled = block_until_cancelled
        self.piece_delay = piece_delay
        self.remote = remote
        self.loaded = False
        self.closed = False
        self.prompts: list[str] = []
        self.streaming = threading.Event()  # set once the first piece of a generation has been yielded
        self._pace = threading.Event()  # never set: Event.wait(timeout) paces the stream like a model would

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def backend_name(self) -> str:
        return "Testgegenstelle (fern)" if self.remote else "lokal (Fake)"

    @property
    def is_remote(self) -> bool:
        return self.remote

    @property
    def endpoint(self) -> str:
        return "http://127.0.0.1:9/v1" if self.remote else ""

    def load(self) -> ModelInfo:
        if self.load_gate is not None and not self.load_gate.wait(timeout=30):
            raise AktenlotseError("Fake: load_gate was never opened")
        if self.load_error is not None:
            raise self.load_error
        self.loaded = True
        return self._info

    def stream_chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken
    ) -> Iterator[str]:
        self.prompts.append(messages[-1].content)
        while True:
            for piece in self.pieces:
                cancel.raise_if_cancelled()
                if self.piece_delay:
                    self._pace.wait(self.piece_delay)
                yield piece
                self.streaming.set()
            if not self.endless:
                break
        if self.block_until_cancelled:
            # CancelToken has no public wait(); a fake may use its event so the test needs no sleep.
            if not cancel._event.wait(timeout=30):  # noqa: SLF001
                raise AktenlotseError("Fake: never cancelled")
            raise Cancelled()

    def close(self) -> None:
        self.closed = True
