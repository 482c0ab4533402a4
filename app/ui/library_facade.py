"""What the Bibliothek page needs from the composition root, and how it reads the indexing service's reports.

The bootstrap passes `app.services.library.LibraryService` (from `build_library(config)`); any object with the
four methods of `LibraryFacade` will do (tests pass a fake). The page calls `index`, `search` and `statuses` only
through the TaskRunner, never on the GUI thread; `check_folders` is called on the GUI thread when the user adds a
folder (a realpath and an existence check).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from app.core.documents import FileRecord, FileStatus, Hit
from app.core.progress import CancelToken, Progress
from app.ui.file_status_model import FileRow
from app.ui.i18n import tr


class LibraryFacade(Protocol):
    """`MainWindow(..., library=...)`: the document library as the UI sees it (= LibraryService's front)."""

    def index(self, folders: Sequence[Path | str], cancel: CancelToken | None = None) -> Iterator[object]:
        """Yields IndexProgress (phase, eta_s) and FileEvents; lexical phase first, then embedding."""
        ...

    def search(self, query: str, k: int = 10, paths: Sequence[str] | None = None) -> list[Hit]: ...

    def statuses(self) -> list[FileRecord]: ...

    def check_folders(self, paths: Sequence[Path | str]) -> list[Path]:
        """Real paths; raises PolicyViolation (German message) for a folder outside the allowed roots."""
        ...


# -- reading the service's reports (kept in one place, so an API change touches only this) ------------------
LEXICAL, EMBEDDING = "lexical", "embed"


def phase_of(progress: Progress) -> str:
    """The IndexProgress phase: "recover", "scan", "lexical", "embed", "done" ("" for a plain Progress)."""
    phase = getattr(progress, "phase", "") or ""
    return str(getattr(phase, "value", phase))


def phase_text(phase: str) -> str:
    if phase == EMBEDDING:
        return tr("Bedeutungssuche wird vorbereitet (Vektoren) …")
    if phase == LEXICAL:
        return tr("Texte werden gelesen – Stichwortsuche ist sofort möglich")
    return ""


def eta_seconds(progress: Progress) -> float | None:
    value = getattr(progress, "eta_s", None)
    return None if value is None else float(value)


def format_eta(seconds: float | None) -> str:
    """"noch etwa 2 Min." – rounded the way a person would say it; "" when unknown."""
    if seconds is None or seconds <= 0:
        return ""
    if seconds < 50:
        if seconds < 10:
            return tr("noch wenige Sekunden")
        return tr("noch etwa {n} Sek.").format(n=round(seconds / 10) * 10)
    minutes = round(seconds / 60)
    if minutes < 60:
        return tr("noch etwa {n} Min.").format(n=max(1, minutes))
    hours, rest = divmod(minutes, 60)
    return tr("noch etwa {h} Std. {m} Min.").format(h=hours, m=rest)


def apply_event(old: FileRow | None, event: object) -> FileRow | None:
    """The row after a FileEvent (path, status, reason, chunks, action); None if the file left the index.

    Returns `old` unchanged for anything that is not a FileEvent. An "embedded" event marks the vectors as stored
    and keeps what the lexical phase reported.
    """
    if isinstance(event, FileRecord):
        return FileRow.from_record(event)
    path = getattr(event, "path", None)
    status = getattr(event, "status", None)
    if path is None or not isinstance(status, FileStatus):
        return old
    action = getattr(event, "action", "indexed")
    if action == "removed":
        return None
    chunks = int(getattr(event, "chunks", 0) or 0)
    if action == "embedded" and old is not None:
        return replace(old, status=status, chunks=chunks or old.chunks, embedded=True)
    return FileRow(
        path=str(path), status=status, reason=str(getattr(event, "reason", "") or ""), chunks=chunks,
        pages=old.pages if old is not None else None, embedded=action == "embedded",
    )


def is_inside(folder: Path, roots: Sequence[Path]) -> bool:
    """True if `folder` (resolved, symlinks followed) is one of `roots` or below one of them."""
    try:
        target = folder.expanduser().resolve()
    except OSError:
        return False
    for root in roots:
        try:
            base = Path(root).expanduser().resolve()
        except OSError:
            continue
        if target == base or base in target.parents:
            return True
    return False
