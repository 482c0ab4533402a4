"""Progress reports and cancellation for long work written as generators (house habit 3)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from app.core.errors import Cancelled


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of long work: `done` of `total` (total 0 = unknown) with a German message."""

    done: int = 0
    total: int = 0
    message: str = ""

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


class CancelToken:
    """A thread-safe flag set by whoever asks to cancel and checked by the worker between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()
