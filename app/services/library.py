"""The document library as one object for front ends: index folders, follow progress, search, read statuses.

API (for the UI and the CLI; built by `app.bootstrap.build_library(config)`)
-----------------------------------------------------------------------------
``LibraryService(indexing, retrieval=None, closers=(), watcher_factory=None, *, audit=None, shared=None)``
- ``check_folders(paths) -> list[Path]`` — real paths; raises ``PolicyViolation`` (German) outside the allowed roots
  (recorded as ``policy_violation`` with the path's SHA-256 when an ``audit`` trail is given).
- ``index(folders, cancel=None, *, embed=True) -> Iterator[IndexProgress | FileEvent]`` — the long work; run it on
  the library's owner thread (the generic task runner). See ``app.services.indexing`` for events and guarantees.
  With an ``audit`` trail every run ends with an ``index_run`` record (counts and outcome, no paths).
- ``search(query, k=10, paths=None) -> list[Hit]`` — ranked hits; each says which mode answered (``hit.mode``).
  Works while ``index`` runs (from another thread). Without a retrieval service: BM25 only (mode LEXICAL).
  With ``shared`` (a ``SharedSearch`` over the data centre's departmental collections) and the whole library as
  scope (``paths is None``), the local hits are fused with the shared ones (RRF; see ``app.services.shared_search``);
  shared hits have ``chunk.collection`` set. A scope of local folders or files searches those files only.
- ``last_notice`` — German notice of the latest ``search`` ("" if none), e.g. that the shared server could not be
  reached and only the caseworker's own documents were searched. The search itself still returns the local hits.
- ``statuses() -> list[FileRecord]``, ``summary() -> dict[FileStatus, int]``, ``problems() -> list[FileRecord]``
  — from the manifest, any thread.
- ``last_run`` — ``RunStats`` of the latest ``index`` run.
- ``watch(folders)`` / ``unwatch()`` — follow changes in the folders (watchdog; debounced, quiet period 2 s);
  ``changes(timeout=0.0) -> set[str]`` returns the settled changed paths (empty while changes are still coming in;
  blocks up to ``timeout``). Poll it (e.g. a 2 s timer) and, when it is non-empty, run ``index(folders)`` again on the
  owner thread: unchanged files cost a stat each, so the whole tree is simply re-checked.
- ``chunks(path) -> list[Chunk]`` — the stored chunks of an indexed file in document order.
- ``document_text(path) -> str`` — the full text of an indexed file as the chunker saw it (``Chunk.start``/``end``
  index into it), read again through the sandboxed extractor; ``AktenlotseError`` (German) if the file is not in
  the index, gone or unreadable. Only files in the manifest are read, so nothing outside the allowed roots.
  A path of departmental knowledge (a shared hit's ``chunk.path``) is never opened locally: ``AktenlotseError``
  (German) – the passage text is all there is; ``read_chunks`` likewise.
- ``close()`` — release stores and the extractor's worker process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from app.core.audit import AuditTrail
from app.core.chunking import document_text
from app.core.documents import (
    Chunk,
    FileEvent,
    FileRecord,
    FileStatus,
    Hit,
    IndexProgress,
    SearchMode,
)
from app.core.errors import AktenlotseError, PolicyViolation
from app.core.library import ExtractionError
from app.core.progress import CancelToken
from app.services.audit_fields import outcome_of, record_policy_violation
from app.services.indexing import IndexService, RunStats
from app.services.shared_search import SharedSearch

OUTSIDE_ROOTS = "outside_allowed_roots"


class Watcher(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def take_changes(self) -> set[str]: ...

    def wait_for_changes(self, timeout: float) -> set[str]: ...


class Retrieval(Protocol):
    def search(self, query: str, k: int = 10, paths: Sequence[str] | None = None) -> list[Hit]: ...


class LibraryService:
    def __init__(self, indexing: IndexService, retrieval: Retrieval | None = None,
                 closers: Sequence[Callable[[], None]] = (),
                 watcher_factory: Callable[[Sequence[Path]], Watcher] | None = None, *,
                 audit: AuditTrail | None = None, shared: SharedSearch | None = None) -> None:
        self.indexing = indexing
        self.shared = shared
        self.last_notice = ""
        self._shared_paths: set[str] = set()
        self._audit = audit
        self.retrieval = retrieval
        self._closers = list(closers)
        self._watcher_factory = watcher_factory
        self._watcher: Watcher | None = None

    # -- watching -------------------------------------------------------------------------
    def watch(self, folders: Sequence[Path | str]) -> None:
        self.unwatch()
        if self._watcher_factory is None:
            return
        watcher = self._watcher_factory(self.check_folders(folders))
        watcher.start()
        self._watcher = watcher

    def unwatch(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def changes(self, timeout: float = 0.0) -> set[str]:
        if self._watcher is None:
            return set()
        return self._watcher.wait_for_changes(timeout) if timeout > 0 else self._watcher.take_changes()

    def check_folders(self, paths: Sequence[Path | str]) -> list[Path]:
        out: list[Path] = []
        for path in paths:
            try:
                out += self.indexing.check_folders([path])
            except PolicyViolation:
                record_policy_violation(self._audit, OUTSIDE_ROOTS, path, "check_folders")
                raise
        return out

    def index(self, folders: Sequence[Path | str], cancel: CancelToken | None = None, *, embed: bool = True
              ) -> Iterator[IndexProgress | FileEvent]:
        run = self.indexing.run(folders, cancel, embed=embed)
        return run if self._audit is None else self._audited(run, len(folders), embed)

    def _audited(self, run: Iterator[IndexProgress | FileEvent], folders: int, embed: bool
                 ) -> Iterator[IndexProgress | FileEvent]:
        started = time.perf_counter()
        try:
            yield from run
        except BaseException as exc:
            self._record_run(folders, embed, outcome_of(exc), started)
            raise
        self._record_run(folders, embed, "done", started)

    def _record_run(self, folders: int, embed: bool, outcome: str, started: float) -> None:
        s = self.indexing.last_run
        if self._audit is None:
            return
        self._audit.record("index_run", {
            "folders": folders, "files_seen": s.scanned, "unchanged": s.unchanged, "indexed": s.indexed,
            "failed": s.failed, "removed": s.removed, "chunks_added": s.chunks_added,
            "chunks_embedded": s.chunks_embedded, "files_embedded": s.files_embedded, "embed": embed,
            "embed_failed": bool(s.embed_error), "outcome": outcome,
            "seconds": round(time.perf_counter() - started, 3)})

    @property
    def last_run(self) -> RunStats:
        return self.indexing.last_run

    def search(self, query: str, k: int = 10, paths: Sequence[str] | None = None) -> list[Hit]:
        local = self._local_search(query, k, paths)
        if self.shared is None or paths is not None:
            self.last_notice = ""
            return local
        result = self.shared.fuse(query, local, k)
        self.last_notice = result.notice
        self._shared_paths.update(h.chunk.path for h in result.hits if h.chunk.is_shared)
        return result.hits

    def is_shared_path(self, path: str) -> bool:
        """True for the path of a departmental passage found by `search` (no local file to open)."""
        return str(path) in self._shared_paths

    def _refuse_shared(self, path: str) -> None:
        if self.is_shared_path(path):
            raise AktenlotseError(
                "Diese Textstelle stammt aus dem Fachbereichswissen im Rechenzentrum; sie kann nicht als Datei "
                "geöffnet werden. Angezeigt wird die veröffentlichte Textstelle.", str(path))

    def _local_search(self, query: str, k: int, paths: Sequence[str] | None) -> list[Hit]:
        if self.retrieval is not None:
            return self.retrieval.search(query, k=k, paths=paths)
        lexical = self.indexing.lexical
        ranked = lexical.search(query, k, paths)
        chunks = {c.id: c for c in lexical.get([cid for cid, _ in ranked])}
        return [Hit(chunks[cid], score, SearchMode.LEXICAL, {"bm25_rank": float(rank)})
                for rank, (cid, score) in enumerate(ranked, 1) if cid in chunks]

    def statuses(self) -> list[FileRecord]:
        return self.indexing.statuses()

    def chunks(self, path: str) -> list[Chunk]:
        """The stored chunks of an indexed file in document order ([] if the file is not indexed)."""
        record = self.indexing.manifest.get(str(path))
        if record is None or record.status is not FileStatus.INDEXED or not record.chunk_ids:
            return []
        return sorted(self.indexing.lexical.get(list(record.chunk_ids)), key=lambda c: c.ordinal)

    def read_chunks(self, path: str) -> list[Chunk]:
        """Chunks of any readable file inside the allowed roots: the stored ones if it is indexed and unchanged,
        otherwise read now through the sandboxed extractor (nothing is stored). For picked case documents."""
        self._refuse_shared(path)
        real = str(self.check_folders([path])[0])  # PolicyViolation outside the allowed roots
        stored = self.chunks(real)
        record = self.indexing.manifest.get(real)
        if stored and record is not None:
            try:
                st = Path(real).stat()
                if st.st_size == record.size and st.st_mtime_ns == record.mtime_ns:
                    return stored
            except OSError:
                pass
        if not Path(real).is_file():
            raise AktenlotseError(f"{Path(real).name} ist keine lesbare Datei.", real)
        try:
            doc = self.indexing.extractor.extract(Path(real))
        except ExtractionError as exc:
            raise AktenlotseError(f"{Path(real).name} kann nicht gelesen werden: {exc.reason}", real) from exc
        from app.services.indexing import doc_id_for

        return [c if c.path == real else replace(c, path=real) for c in self.indexing.chunker(doc, doc_id_for(real))]

    def document_text(self, path: str) -> str:
        self._refuse_shared(path)
        record = self.indexing.manifest.get(str(path))
        if record is None or record.status is not FileStatus.INDEXED:
            raise AktenlotseError("Diese Datei ist nicht (mehr) in der Dokumentenbibliothek.", str(path))
        if self.indexing.scanner.allowed_root_of(path) is None:
            record_policy_violation(self._audit, OUTSIDE_ROOTS, path, "document_text")
            raise PolicyViolation("Diese Datei liegt nicht in einem freigegebenen Ordner.", str(path))
        if not Path(path).is_file():
            raise AktenlotseError("Die Datei wurde gelöscht oder verschoben.", str(path))
        try:
            doc = self.indexing.extractor.extract(Path(path))
        except ExtractionError as exc:
            raise AktenlotseError(f"Die Datei kann nicht mehr gelesen werden: {exc.reason}", str(path)) from exc
        return document_text(doc)

    def summary(self) -> dict[FileStatus, int]:
        return self.indexing.summary()

    def problems(self) -> list[FileRecord]:
        return self.indexing.problems()

    def close(self) -> None:
        self.unwatch()
        for close in reversed(self._closers):
            try:
                close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self._closers.clear()
