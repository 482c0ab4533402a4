"""What the Entwerfen page needs from the composition root (the letter service plus the library manifest).

The bootstrap passes an object with these five methods; tests pass a fake. The page calls `draft` and
`export_letter` only through the TaskRunner; `letter_types`, `documents` and `recheck` on the GUI thread (they are
quick: resource files, the index manifest, and the rule-based plain-language check – no model call).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from app.core.documents import FileRecord
from app.core.letters import LetterDraft, LetterRequest, LetterType
from app.core.progress import CancelToken


class LetterFacade(Protocol):
    """`MainWindow(..., drafter=...)`: drafting an official letter of a given type, edited and exported as draft."""

    def letter_types(self) -> list[LetterType]:
        """The available letter types (shipped and admin-provided), in the order the page offers them."""
        ...

    def documents(self) -> list[FileRecord]:
        """The files of the index manifest; the page offers those with status INDEXED as case documents."""
        ...

    def draft(self, request: LetterRequest, cancel: CancelToken) -> Iterator[object]:
        """A generator for the task runner.

        Yields `Progress(done, total, German message)` and the body's `str` pieces as the model streams them.
        For Leichte Sprache it may rewrite the body in further rounds: it then yields a `Progress` such as
        „Prüfung der Verständlichkeit … Runde 2“ and streams the new body – a `str` piece that follows a
        `Progress` which itself followed text starts a new version of the body on the page. Returns the
        `LetterDraft`. Raises `Cancelled` when cancelled – there is no draft then.
        """
        ...

    def recheck(self, draft: LetterDraft, body: str) -> LetterDraft:
        """After the caseworker edited the body: a new draft with `body` and recomputed plain-language findings
        (`plain_findings`, offsets into `body`). Open placeholders are a property of the draft."""
        ...

    def export_letter(self, draft: LetterDraft, path: Path) -> Path:
        """Write the draft-marked letter (DOCX, `DRAFT_LINE` in header and footer) to `path`; returns the path.

        Raises an `AktenlotseError` with a German `user_message` on failure.
        """
        ...
