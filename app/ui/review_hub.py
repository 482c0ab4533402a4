"""What the Entwürfe workspace needs from the composition root, and the hub the other workspaces hand drafts to.

`ReviewFacade` is `app.services.review.ReviewService` (tests pass a fake or the real service on `tmp_path`).
`ReviewHub` wraps it as the `DraftReview` port for Nachschlagen, Zusammenfassen and Entwerfen and announces every
hand-over with `draft_submitted`, so the Entwürfe list and the navigation count follow at once. Draft operations
are small SQLite writes and run on the GUI thread; DOCX export runs on the TaskRunner.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Signal

from app.core.drafts import Draft, ReviewPolicy


class ReviewFacade(Protocol):
    reviewer: str
    policy: ReviewPolicy

    def submit(self, item: object, edited_body: str | None = None) -> str: ...

    def now(self) -> datetime: ...

    def drafts(self, *, open_only: bool = False) -> list[Draft]: ...

    def get(self, draft_id: str) -> Draft: ...

    def start_review(self, draft_id: str) -> Draft: ...

    def edit(self, draft_id: str, text: str) -> Draft: ...

    def edit_frame(self, draft_id: str, *, subject: str, recipient_lines: tuple[str, ...],
                   info: tuple[tuple[str, str], ...], signature: tuple[str, ...]) -> Draft: ...

    def open_source(self, draft_id: str, number: int) -> Draft: ...

    def tick(self, draft_id: str, key: str, checked: bool = True) -> Draft: ...

    def confirm(self, draft_id: str) -> Draft: ...

    def reject(self, draft_id: str, reason: str = "") -> Draft: ...

    def discard(self, draft_id: str) -> Draft: ...

    def export(self, draft_id: str, path: Path, *, final: bool = True) -> Path: ...

    def copy_text(self, draft_id: str, *, final: bool) -> str: ...


class DocumentTexts(Protocol):
    """The library: a document's full indexed text, for the passage viewer."""

    def document_text(self, path: str) -> str: ...


class ReviewHub(QObject):
    """The `DraftReview` port for the workspaces; `draft_submitted(id)` after every hand-over."""

    draft_submitted = Signal(str)

    def __init__(self, service: ReviewFacade, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service

    def submit(self, item: object, edited_body: str | None = None) -> str:
        draft_id = self.service.submit(item, edited_body)
        self.draft_submitted.emit(draft_id)
        return draft_id
