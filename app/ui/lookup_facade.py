"""What the Nachschlagen page needs from the composition root (= `app.services.lookup.LookupService`).

The bootstrap passes the lookup service; any object with these two methods will do (tests pass a fake). The page
calls both only through the TaskRunner, never on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from app.core.lookup import Scope
from app.core.progress import CancelToken


class LookupFacade(Protocol):
    """`MainWindow(..., lookup=...)`: answering a question from the released documents, with citations."""

    def ask(self, question: str, scope: Scope, cancel: CancelToken) -> Iterator[object]:
        """A generator for the task runner.

        Yields an optional `Progress`, then exactly one `SourcesFound(sources)` (an empty tuple: nothing fits),
        then the answer's `str` pieces as the model streams them, and returns the final `LookupAnswer` with its
        grounding (sentences and flags). When nothing was found it yields `SourcesFound(())` and returns an answer
        with `nothing_found=True` and `text == NOTHING_FOUND` without asking the model.
        """
        ...

    def document_text(self, path: str) -> str:
        """The document's full text as indexed (`Chunk.start`/`end` are offsets into it).

        Raises an `AktenlotseError` with a German `user_message` if the file is gone or unreadable.
        """
        ...
