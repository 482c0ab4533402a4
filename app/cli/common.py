"""What subcommands share: load the model if need be, follow a service generator with progress on stderr, turn a
cancellation or an `AktenlotseError` into a message and exit code 1 (`summarize`, `draft`), and write an export to a
file or stdout (`stats export`, `audit export`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from pathlib import Path
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


def write_output(text: str, output: str | None, out: TextIO, done: str) -> int:
    """`text` to the file `output` (then `done` – e.g. "12 Einträge geschrieben: …" – on stderr) or to `out`;
    exit code 1 with a German message when the file cannot be written."""
    if not output:
        out.write(text)
        return 0
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"Fehler: Die Datei kann nicht geschrieben werden: {exc}", file=sys.stderr)
        return 1
    print(done, file=sys.stderr)
    return 0
