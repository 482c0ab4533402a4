"""A fake document library (LibraryService's front) for GUI tests and screenshots: streams FileEvents, answers searches."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.core.documents import (
    Chunk,
    FileEvent,
    FileRecord,
    FileStatus,
    Hit,
    IndexProgress,
    SearchMode,
)
from app.core.errors import AktenlotseError, Cancelled
from app.core.progress import CancelToken

ROOT = "/srv/akten/Ordnungsamt"

#: (file name, status, reason, chunks, pages) – realistic rows for tests and screenshots.
FILES: list[tuple[str, FileStatus, str, int, int | None]] = [
    ("Bescheid_Hundesteuer_2024.docx", FileStatus.INDEXED, "", 6, None),
    ("Anhörung_Gewerbeuntersagung_Müller.pdf", FileStatus.INDEXED, "", 14, 4),
    ("Widerspruch_Sondernutzung_Marktplatz.pdf", FileStatus.INDEXED, "", 9, 3),
    ("Personalausweis_Scan_2023.pdf", FileStatus.NO_TEXT_LAYER, "Seite 1–2: keine Textebene – OCR nötig", 0, 2),
    ("Gehaltsnachweise_vertraulich.pdf", FileStatus.ENCRYPTED, "Die PDF-Datei ist mit einem Kennwort geschützt.", 0, None),
    ("Aktenvermerk_Ortstermin.doc", FileStatus.UNSUPPORTED, "Altes Word-Format (.doc): bitte als .docx speichern.", 0, None),
    ("Satzung_Hundesteuer_2022.odt", FileStatus.INDEXED, "", 11, None),
    ("Protokoll_Bauausschuss_März.pdf", FileStatus.ERROR, "Die Datei ist beschädigt (PDF-Struktur unlesbar).", 0, None),
    ("Leere_Vorlage.txt", FileStatus.EMPTY, "Die Datei enthält keinen Text.", 0, None),
    ("Gewerbeanmeldung_Formular_GewA1.pdf", FileStatus.INDEXED, "", 5, 2),
]


def events(root: str = ROOT) -> list[FileEvent]:
    return [FileEvent(f"{root}/{name}", status, reason, chunks, "indexed" if status is FileStatus.INDEXED else "failed")
            for name, status, reason, chunks, _pages in FILES]


def records(root: str = ROOT) -> list[FileRecord]:
    return [
        FileRecord(f"{root}/{name}", 1000, 0, "", status, reason, tuple(f"c{i}" for i in range(chunks)),
                   embedded=status is FileStatus.INDEXED, page_count=pages, root=root)
        for name, status, reason, chunks, pages in FILES
    ]


def chunk(path: str, text: str, page: int | None, heading: tuple[str, ...]) -> Chunk:
    return Chunk(id=f"{path}#{page}", doc_id=path, path=path, text=text, ordinal=0, start=0, end=len(text),
                 page=page, heading_path=heading)


HITS = [
    Hit(chunk(f"{ROOT}/Satzung_Hundesteuer_2022.odt",
              "Die Steuer wird auf Antrag um die Hälfte ermäßigt für Hunde, die zur Bewachung von Gebäuden, die von "
              "dem nächsten bewohnten Gebäude mehr als 200 m entfernt liegen, erforderlich sind.",
              None, ("Hundesteuersatzung", "§ 6 Steuerermäßigungen")), 0.91, SearchMode.HYBRID),
    Hit(chunk(f"{ROOT}/Bescheid_Hundesteuer_2024.docx",
              "Für Ihren Hund „Bello“ wird die Hundesteuer für das Kalenderjahr 2024 auf 96,00 EUR festgesetzt. "
              "Eine Ermäßigung nach § 6 der Satzung wurde nicht beantragt.",
              None, ("Festsetzung",)), 0.74, SearchMode.LEXICAL),
    Hit(chunk(f"{ROOT}/Anhörung_Gewerbeuntersagung_Müller.pdf",
              "Vor Erlass eines Verwaltungsaktes, der in Rechte eines Beteiligten eingreift, ist diesem Gelegenheit "
              "zu geben, sich zu den für die Entscheidung erheblichen Tatsachen zu äußern (§ 28 Abs. 1 VwVfG).",
              2, ("Anhörung", "Rechtsgrundlage")), 0.52, SearchMode.DENSE),
]


@dataclass
class FakeLibrary:
    """`index` yields `progress` first, then `file_events`, then (if `block_until_cancelled`) waits for the cancel.

    `yielded_all` is set once the generator has yielded everything before blocking, so a test can wait for it.
    `search` returns `hits` and records the queries; `check_folders` raises `refuse` if set.
    """

    progress: list[IndexProgress] = field(default_factory=list)
    file_events: list[FileEvent] = field(default_factory=list)
    manifest: list[FileRecord] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=lambda: list(HITS))
    block_until_cancelled: bool = False
    error: AktenlotseError | None = None
    refuse: AktenlotseError | None = None
    runs: list[list[Path]] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    yielded_all: threading.Event = field(default_factory=threading.Event)

    def index(self, folders: Sequence[Path | str], cancel: CancelToken | None = None) -> Iterator[object]:
        self.runs.append([Path(f) for f in folders])
        cancel = cancel or CancelToken()
        yield IndexProgress(0, 0, "Ordner werden durchsucht …", phase="scan")
        for item in [*self.progress, *self.file_events]:
            cancel.raise_if_cancelled()
            yield item
        self.yielded_all.set()
        if self.error is not None:
            raise self.error
        if self.block_until_cancelled:
            # CancelToken has no public wait(); the fake uses its event so the test needs no sleep.
            if not cancel._event.wait(timeout=30):
                raise AktenlotseError("Fake: never cancelled")
            raise Cancelled()
        yield IndexProgress(len(self.file_events), len(self.file_events), "Fertig.", phase="done", eta_s=0.0)

    def search(self, query: str, k: int = 10, paths: Sequence[str] | None = None) -> list[Hit]:
        self.queries.append(query)
        return self.hits[:k]

    def statuses(self) -> list[FileRecord]:
        return list(self.manifest)

    def check_folders(self, paths: Sequence[Path | str]) -> list[Path]:
        if self.refuse is not None:
            raise self.refuse
        return [Path(p).resolve() for p in paths]


@dataclass
class WatchedFakeLibrary(FakeLibrary):
    """A FakeLibrary with the watcher half of LibraryService: `pending` is what the watcher has seen."""

    watched: list[list[Path]] = field(default_factory=list)
    pending: set[str] = field(default_factory=set)

    def watch(self, folders: Sequence[Path | str]) -> None:
        self.watched.append([Path(f) for f in folders])

    def changes(self, timeout: float = 0.0) -> set[str]:
        taken, self.pending = self.pending, set()
        return taken
