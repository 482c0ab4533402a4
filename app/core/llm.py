"""The language-model port: what services need of a model, whether local (llama.cpp) or remote later."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, Protocol, runtime_checkable

from app.core.progress import CancelToken

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Sampling parameters; recorded with every draft so a result can be traced."""

    max_tokens: int = 512
    temperature: float = 0.2
    top_p: float = 0.9
    seed: int | None = None
    stop: tuple[str, ...] = ()
    repeat_penalty: float = 1.1  # > 1 discourages small models from looping on one line


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What is known of a model file, read from its GGUF header and the manifest."""

    path: str
    size_bytes: int
    architecture: str = ""
    name: str = ""
    context_length: int = 0
    chat_template: str = ""
    model_id: str = ""
    role: str = "admin"  # "test", "default" (demo) or "admin" (placed by IT)
    sha256: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_demo(self) -> bool:
        return self.role in ("default", "test")

    @property
    def display_name(self) -> str:
        return self.name or self.model_id or self.path.rsplit("/", 1)[-1]


class ModelState(str, Enum):
    """Lifecycle of the model, shown in the status bar (lädt / bereit / Fehler)."""

    NOT_LOADED = "not_loaded"
    LOADING = "loading"
    READY = "ready"
    ERROR = "error"

    @property
    def label_de(self) -> str:
        return {
            ModelState.NOT_LOADED: "nicht geladen",
            ModelState.LOADING: "lädt",
            ModelState.READY: "bereit",
            ModelState.ERROR: "Fehler",
        }[self]


@runtime_checkable
class LanguageModel(Protocol):
    """A chat model. Implementations own their heavy resource on one thread of their own.

    `stream_chat` yields text pieces as they are generated and stops soon after `cancel` is set,
    raising `Cancelled`. It may be called from any thread; calls are served one at a time.
    """

    @property
    def info(self) -> ModelInfo: ...

    @property
    def backend_name(self) -> str:
        """Short name for the UI and audit, e.g. "lokal (llama.cpp)"."""
        ...

    @property
    def is_remote(self) -> bool: ...

    @property
    def endpoint(self) -> str:
        """Where requests go, for the offline indicator and the audit log: "" for a local model, else the remote
        endpoint without credentials (e.g. "https://llm.rz.example.de/v1")."""
        ...

    def load(self) -> ModelInfo:
        """Load the model (blocking until ready); raises a ModelError subclass on failure."""
        ...

    def stream_chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken
    ) -> Iterator[str]: ...

    def close(self) -> None: ...
