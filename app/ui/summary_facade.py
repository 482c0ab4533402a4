"""What the Zusammenfassen page needs from the composition root (the summary service plus the library manifest).

The bootstrap passes an object with these four methods; tests pass a fake. The page calls `summarize` and
`export_memo` only through the TaskRunner, `document_text` through the passage viewer (also on the runner), and
`documents` on the GUI thread (a quick read of the index manifest).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from app.core.documents import FileRecord
from app.core.progress import CancelToken
from app.core.summary import Summary, SummaryRequest


class SummaryFacade(Protocol):
    """`MainWindow(..., summarizer=...)`: summarising indexed documents into a draft with cited points."""

    def summarize(self, request: SummaryRequest, cancel: CancelToken) -> Iterator[object]:
        """A generator for the task runner.

        Yields `Progress(done, total, German message)` and a `SummaryStep` after every model call (the map steps
        over the input first, then the reduce steps); may yield `str` pieces of the final (reduce) step's text as
        the model streams them. Returns the `Summary`. Raises `Cancelled` when cancelled – there is no result then.
        """
        ...

    def document_text(self, path: str) -> str:
        """The document's full text as indexed (`Chunk.start`/`end` are offsets into it), for the passage viewer.

        Raises an `AktenlotseError` with a German `user_message` if the file is gone or unreadable.
        """
        ...

    def documents(self) -> list[FileRecord]:
        """The files of the index manifest; the page offers those with status INDEXED."""
        ...

    def export_memo(self, summary: Summary, path: Path) -> Path:
        """Write the summary as a draft-marked Vermerk (DOCX) to `path`; returns the written path.

        Raises an `AktenlotseError` with a German `user_message` on failure.
        """
        ...
