"""What the draft-producing subcommands (`summarize`, `draft`) share: load the model if need be, follow a service
generator with progress on stderr, and turn a cancellation or an `AktenlotseError` into a message and exit code 1."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TextIO, TypeVar

from app.core.errors import AktenlotseError, Cancelled
from app.core.llm import ModelState
from app.core.progress import CancelToken, Progress
from app.services.model_service import ModelService

R = TypeVar("R")


def run_reporting(job: Callable[[CancelToken], R], *, cancelled: str, err: TextIO) -> R | None:
    """`job(cancel)` (which makes the result and writes its file); None after a cancellation (Ctrl+C too) or an
    error, with `cancelled` or "Fehler: …" (and the detail) written to `err` – the caller then exits with 1."""
    cancel = CancelToken()
    try:
        return job(cancel)
    except (Cancelled, KeyboardInterrupt):
        cancel.cancel()
        err.write(f"{cancelled}\n")
    except AktenlotseError as exc:
        err.write(f"Fehler: {exc.user_message}\n")
        if exc.detail:
            err.write(f"  ({exc.detail})\n")
    return None


def ensure_loaded(models: ModelService, cancel: CancelToken, err: TextIO) -> None:
    """Load the language model unless it is ready (saying so on `err`)."""
    if models.state is not ModelState.READY:
        err.write("Sprachmodell wird geladen …\n")
        for _ in models.load(cancel):
            pass


def follow(gen: Generator[object, None, R], err: TextIO, describe: Callable[[object], str] | None = None) -> R:
    """Run a service generator to its return value; each Progress with a message becomes a line on `err`, other
    items the line `describe(item)` gives ("" for none)."""
    while True:
        try:
            item = next(gen)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, Progress):
            if item.message:
                err.write(f"[{item.done}/{item.total}] {item.message}\n")
        elif describe is not None:
            err.write(describe(item))
