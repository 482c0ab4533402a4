"""Indexing the document library: incremental, crash-safe, lexically searchable at once, vectors filled in behind.

API (for the UI and the CLI)
----------------------------
``IndexService(extractor=, chunker=, manifest=, lexical=, vectors=, embedder=, scanner=, limits=IndexLimits())``
  Ports from ``app.core.library`` (Extractor, Manifest, LexicalIndex, VectorStore, Embedder — ``embedder`` and
  ``vectors`` may be None: lexical only), ``chunker(doc, doc_id) -> list[Chunk]`` and a ``Scanner`` (below).

``check_folders(paths) -> list[Path]``
  Resolves the folders a user chose; raises ``PolicyViolation`` (German message) for one outside the allowed roots.

``run(folders, cancel=None, *, embed=True) -> Iterator[IndexProgress | FileEvent]``
  The long work, as a generator (house habit 3). It yields
  - ``IndexProgress`` (a ``Progress``: ``done``/``total``/``message`` plus ``phase`` and ``eta_s`` seconds left),
    phases ``"recover"``, ``"scan"``, ``"lexical"``, ``"embed"``, ``"done"``;
  - ``FileEvent(path, status, reason, chunks, action)`` for each file whose state changed: ``action`` is
    ``"indexed"`` (lexically searchable now), ``"failed"`` (status + German reason), ``"removed"`` (deleted or
    moved away) or ``"embedded"`` (its dense vectors are stored). Unchanged files yield nothing.
  Phase 1 scans, skips unchanged files by (size, mtime_ns) and then content hash (blake2b), removes the chunks of
  deleted/moved files from both stores, extracts and chunks new or changed files and adds them to the lexical
  index, flushing in short batches so files become searchable while the run goes on. Phase 2 embeds every chunk
  that has no vector yet in batches of ``limits.embed_batch`` and upserts them, marking files embedded.
  ``cancel.raise_if_cancelled()`` is checked between files and between batches: cancelling raises ``Cancelled``
  after flushing what is done (nothing is lost or half-written). Per-file errors never stop a run.
  After the run ``last_run`` holds a ``RunStats`` (counts of this run).

``recover() -> RecoveryReport``
  Run once at start (``run`` calls it on first use): every PENDING record's chunk ids are deleted from both stores
  and the file is marked for re-indexing; ids in the stores that no record lists (orphans) are deleted; INDEXED
  records whose chunks are missing from the lexical store are re-indexed, and ones missing vectors re-embedded.

``statuses() -> list[FileRecord]``, ``summary() -> dict[FileStatus, int]``, ``problems() -> list[FileRecord]``
  Read the manifest; safe from any thread while a run goes on.

Crash safety
------------
Before the stores are touched for a file, its manifest record is written as PENDING listing every chunk id that
may be touched (old and planned new ones). Only after the lexical index is flushed is it set to its final status
(INDEXED with the new ids, ``embedded=False``); ``embedded=True`` is set only after its vectors are upserted. Chunk
ids are deterministic (sha1 of doc id, ordinal, text) and stores upsert/delete by id, so replaying any step after a
kill -9 gives no duplicate and no missing chunk.

Threading
---------
``run`` and ``recover`` execute on ONE owner thread (the library worker); it is the only writer of the manifest
and the stores. ``statuses``/``summary`` may be called from any thread (the SQLite manifest uses per-thread
connections in WAL mode). Searches from another thread go through the retrieval service; the store adapters
serialise their own calls. Folder watching: when the watcher reports changes, call ``run(folders)`` again — an
unchanged tree is re-checked in well under 2 s per 1,000 files.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from app.core.documents import (
    Chunk,
    ExtractedDocument,
    FileEvent,
    FileRecord,
    FileStatus,
    IndexProgress,
    ScannedFile,
)
from app.core.errors import AktenlotseError, Cancelled, PolicyViolation
from app.core.library import (
    Embedder,
    ExtractionError,
    Extractor,
    LexicalIndex,
    Manifest,
    VectorStore,
)
from app.core.progress import CancelToken

Chunker = Callable[[ExtractedDocument, str], list[Chunk]]


class Scanner(Protocol):
    def scan(self, folders: Sequence[Path | str]) -> Iterable[ScannedFile]: ...

    def allowed_root_of(self, path: Path | str) -> Path | None: ...


@dataclass(frozen=True)
class IndexLimits:
    embed_batch: int = 16
    flush_min_s: float = 1.0  # lexical flush at most this often (grows with the flush's own cost)
    flush_max_files: int = 200


@dataclass
class RunStats:
    scanned: int = 0
    unchanged: int = 0
    indexed: int = 0
    failed: int = 0
    removed: int = 0
    chunks_added: int = 0
    chunks_embedded: int = 0
    files_embedded: int = 0
    seconds_lexical: float = 0.0
    seconds_embed: float = 0.0
    seconds_in_embedder: float = 0.0  # of seconds_embed: time inside Embedder.passages
    cancelled: bool = False
    embed_error: str = ""  # German reason when dense vectors could not be made (lexical search still works)


@dataclass
class RecoveryReport:
    pending_reset: int = 0
    orphan_vectors: int = 0
    orphan_lexical: int = 0
    missing_lexical: int = 0
    missing_vectors: int = 0
    notes: list[str] = field(default_factory=list)


def file_hash(path: str) -> str:
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def doc_id_for(path: str) -> str:
    return hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


class _Eta:
    """Seconds left from an exponential moving average of seconds per item."""

    def __init__(self) -> None:
        self.per_item: float | None = None
        self._last = time.perf_counter()

    def step(self, items: int) -> None:
        now = time.perf_counter()
        if items > 0:
            sample = (now - self._last) / items
            self.per_item = sample if self.per_item is None else 0.7 * self.per_item + 0.3 * sample
        self._last = now

    def left(self, remaining: int) -> float | None:
        return None if self.per_item is None else max(0.0, remaining * self.per_item)


def _under(path: str, folders: Sequence[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


class IndexService:
    """Builds and keeps the library index current; see the module docstring for the API and its guarantees."""

    def __init__(
        self,
        *,
        extractor: Extractor,
        chunker: Chunker,
        manifest: Manifest,
        lexical: LexicalIndex,
        vectors: VectorStore | None,
        embedder: Embedder | None,
        scanner: Scanner,
        limits: IndexLimits | None = None,
    ) -> None:
        self.extractor = extractor
        self.chunker = chunker
        self.manifest = manifest
        self.lexical = lexical
        self.vectors = vectors
        self.embedder = embedder
        self.scanner = scanner
        self.limits = limits or IndexLimits()
        self.last_run = RunStats()
        self._recovered = False
        self._dirty = False  # lexical changes not yet flushed
        self._cache: dict[str, list[Chunk]] = {}  # chunks made in this run, for the embed phase

    # -- queries (any thread) -----------------------------------------------------------
    def statuses(self) -> list[FileRecord]:
        return self.manifest.all()

    def summary(self) -> dict[FileStatus, int]:
        counts: dict[FileStatus, int] = {}
        for rec in self.manifest.all():
            counts[rec.status] = counts.get(rec.status, 0) + 1
        return counts

    def problems(self) -> list[FileRecord]:
        return [r for r in self.manifest.all() if r.status not in (FileStatus.INDEXED, FileStatus.PENDING) or r.reason]

    def check_folders(self, paths: Sequence[Path | str]) -> list[Path]:
        out: list[Path] = []
        for p in paths:
            real = Path(os.path.realpath(p))
            if not real.exists():
                raise AktenlotseError(f"{p} existiert nicht.")
            if self.scanner.allowed_root_of(real) is None:
                raise PolicyViolation(
                    f"{p} liegt außerhalb der freigegebenen Ordner. Ihre IT legt fest, welche Ordner Aktenlotse "
                    "lesen darf."
                )
            out.append(real)
        return out

    # -- recovery -----------------------------------------------------------------------
    def recover(self) -> RecoveryReport:
        report = RecoveryReport()
        records = self.manifest.all()
        pending = [r for r in records if r.status is FileStatus.PENDING]
        for rec in pending:
            if rec.chunk_ids:
                self.lexical.delete(rec.chunk_ids)
                if self.vectors is not None:
                    self.vectors.delete(rec.chunk_ids)
        if pending:
            self.lexical.flush()
            self.manifest_put_many([replace(r, chunk_ids=(), embedded=False, content_hash="") for r in pending])
            report.pending_reset = len(pending)
        listed: set[str] = set()
        for rec in self.manifest.all():
            listed.update(rec.chunk_ids)
        if self.vectors is not None:
            vector_ids = self.vectors.ids()
            orphans = vector_ids - listed
            if orphans:
                self.vectors.delete(orphans)
                report.orphan_vectors = len(orphans)
            fix = [r for r in self.manifest.all()
                   if r.status is FileStatus.INDEXED and r.embedded and not set(r.chunk_ids) <= vector_ids]
            if fix:
                self.manifest_put_many([replace(r, embedded=False) for r in fix])
                report.missing_vectors = len(fix)
        lexical_ids = getattr(self.lexical, "ids", None)
        if callable(lexical_ids):
            have: set[str] = set(lexical_ids())
            orphans = have - listed
            if orphans:
                self.lexical.delete(orphans)
                self.lexical.flush()
                report.orphan_lexical = len(orphans)
            broken = [r for r in self.manifest.all()
                      if r.status is FileStatus.INDEXED and not set(r.chunk_ids) <= have]
            for rec in broken:  # re-index from scratch
                self.lexical.delete(rec.chunk_ids)
                if self.vectors is not None:
                    self.vectors.delete(rec.chunk_ids)
            if broken:
                self.lexical.flush()
                self.manifest_put_many([replace(r, status=FileStatus.PENDING, chunk_ids=(), embedded=False,
                                                content_hash="") for r in broken])
                report.missing_lexical = len(broken)
        else:  # no id listing (e.g. Bm25Index): look the listed ids up instead; orphans cannot be listed there
            indexed = [r for r in self.manifest.all() if r.status is FileStatus.INDEXED and r.chunk_ids]
            wanted = [cid for r in indexed for cid in r.chunk_ids]
            have = set()
            for i in range(0, len(wanted), 2000):
                have.update(c.id for c in self.lexical.get(wanted[i:i + 2000]))
            broken = [r for r in indexed if not set(r.chunk_ids) <= have]
            for rec in broken:
                self._drop(rec.chunk_ids)
            if broken:
                self.lexical.flush()
                self._dirty = False
                self.manifest_put_many([replace(r, status=FileStatus.PENDING, chunk_ids=(), embedded=False,
                                                content_hash="") for r in broken])
                report.missing_lexical = len(broken)
            report.notes.append("lexical index lists no ids: orphan check there skipped")
        self._recovered = True
        return report

    def manifest_put_many(self, records: list[FileRecord]) -> None:
        put_many = getattr(self.manifest, "put_many", None)
        if callable(put_many):
            put_many(records)
        else:
            for r in records:
                self.manifest.put(r)

    # -- the run ------------------------------------------------------------------------
    def run(
        self, folders: Sequence[Path | str], cancel: CancelToken | None = None, *, embed: bool = True
    ) -> Iterator[IndexProgress | FileEvent]:
        cancel = cancel or CancelToken()
        stats = RunStats()
        self.last_run = stats
        if not self._recovered:
            yield IndexProgress(0, 0, "Index wird geprüft …", phase="recover")
            self.recover()
        try:
            yield from self._lexical_phase(folders, cancel, stats)
            if embed and self.embedder is not None and self.vectors is not None:
                try:
                    yield from self._embed_phase(cancel, stats)
                except Cancelled:
                    raise
                except AktenlotseError as exc:  # e.g. the embedding model cannot load: keep what is searchable
                    stats.embed_error = exc.user_message
                    yield IndexProgress(0, 0, exc.user_message, phase="embed")
        except BaseException:
            stats.cancelled = cancel.cancelled
            raise
        finally:
            self._cache.clear()
        yield IndexProgress(stats.scanned, stats.scanned, "Fertig.", phase="done", eta_s=0.0)

    def _lexical_phase(self, folders: Sequence[Path | str], cancel: CancelToken, stats: RunStats
                       ) -> Iterator[IndexProgress | FileEvent]:
        started = time.perf_counter()
        real_folders = [os.path.realpath(f) for f in folders]
        yield IndexProgress(0, 0, "Ordner werden durchsucht …", phase="scan")
        entries = list(self.scanner.scan(real_folders))
        seen = {e.path for e in entries}
        records = {r.path: r for r in self.manifest.all()}
        # files left PENDING by a crash elsewhere in the library are re-indexed too
        for path, rec in records.items():
            if rec.status is FileStatus.PENDING and path not in seen and os.path.exists(path):
                for extra in self.scanner.scan([path]):
                    if extra.path not in seen:
                        entries.append(extra)
                        seen.add(extra.path)
        gone = [r for p, r in records.items() if p not in seen and (  # deleted, moved, excluded
            _under(p, real_folders) or (r.status is FileStatus.PENDING and not os.path.exists(p)))]
        total = len(entries)
        stats.scanned = total
        batch: list[tuple[str, FileRecord | str]] = []  # ("put", record) | ("delete", path) after the next flush
        last_flush = time.perf_counter()
        flush_cost = 0.0
        eta = _Eta()

        def flush() -> Iterator[FileEvent]:
            nonlocal last_flush, flush_cost
            if not batch:
                return
            if self._dirty:
                t0 = time.perf_counter()
                self.lexical.flush()
                self._dirty = False
                flush_cost = time.perf_counter() - t0
            puts = [item for kind, item in batch if kind == "put"]
            self.manifest_put_many(puts)  # type: ignore[arg-type]
            events: list[FileEvent] = []
            for kind, item in batch:
                if kind == "delete":
                    self.manifest.delete(item)  # type: ignore[arg-type]
                    events.append(FileEvent(item, FileStatus.PENDING, "Datei entfernt oder verschoben.", 0,
                                            "removed"))
                else:
                    rec = item  # type: ignore[assignment]
                    ok = rec.status is FileStatus.INDEXED
                    events.append(FileEvent(rec.path, rec.status, rec.reason, len(rec.chunk_ids),
                                            "indexed" if ok else "failed"))
            batch.clear()
            last_flush = time.perf_counter()
            yield from events

        try:
            for rec in gone:
                cancel.raise_if_cancelled()
                if rec.chunk_ids:
                    self.manifest.put(replace(rec, status=FileStatus.PENDING))
                    self._drop(rec.chunk_ids)
                batch.append(("delete", rec.path))
                stats.removed += 1
            done = 0
            for entry in entries:
                cancel.raise_if_cancelled()
                outcome = self._one_file(entry, records.get(entry.path), stats)
                done += 1
                eta.step(1)
                if outcome is not None:
                    batch.append(("put", outcome))
                due = max(self.limits.flush_min_s, 4 * flush_cost)
                if batch and (time.perf_counter() - last_flush >= due or len(batch) >= self.limits.flush_max_files):
                    yield from flush()
                if outcome is not None or done == total or done % 50 == 0:
                    yield IndexProgress(done, total, f"{done}/{total} Dateien geprüft", phase="lexical",
                                        eta_s=eta.left(total - done))
            yield from flush()
        finally:
            # on cancel or an unexpected error too: what is done becomes durable and final (events not yielded)
            for _event in flush():
                pass
            stats.seconds_lexical = time.perf_counter() - started

    def _drop(self, chunk_ids: Sequence[str]) -> None:
        self._dirty = True
        self.lexical.delete(chunk_ids)
        if self.vectors is not None:
            self.vectors.delete(chunk_ids)

    def _one_file(self, entry: ScannedFile, rec: FileRecord | None, stats: RunStats) -> FileRecord | None:
        """Bring one file's index entry up to date; None when unchanged. Stores are touched only after PENDING."""
        base = FileRecord(entry.path, entry.size, entry.mtime_ns, "", FileStatus.PENDING, root=entry.root)
        old_ids = rec.chunk_ids if rec else ()
        if entry.refused:
            if rec and rec.status is FileStatus.REFUSED and rec.reason == entry.refused and not old_ids:
                stats.unchanged += 1
                return None
            return self._final(base, old_ids, replace(base, status=FileStatus.REFUSED, reason=entry.refused), stats)
        if rec and rec.status is not FileStatus.PENDING and rec.size == entry.size and rec.mtime_ns == entry.mtime_ns:
            stats.unchanged += 1
            return None
        try:
            digest = file_hash(entry.path)
        except OSError as exc:
            return self._final(base, old_ids, replace(base, status=FileStatus.ERROR,
                               reason=f"Datei kann nicht gelesen werden ({exc.strerror or exc})."), stats)
        base = replace(base, content_hash=digest)
        if rec and rec.status is not FileStatus.PENDING and rec.content_hash == digest:
            self.manifest.put(replace(rec, size=entry.size, mtime_ns=entry.mtime_ns))  # touched, same bytes
            stats.unchanged += 1
            return None
        try:
            doc = self.extractor.extract(Path(entry.path))
        except ExtractionError as exc:
            try:
                status = FileStatus(exc.status)
            except ValueError:
                status = FileStatus.ERROR
            return self._final(base, old_ids, replace(base, status=status, reason=exc.reason), stats)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the run
            return self._final(base, old_ids, replace(base, status=FileStatus.ERROR,
                               reason=f"Unerwarteter Fehler beim Lesen: {type(exc).__name__}"), stats)
        base = replace(base, format=doc.format, page_count=doc.page_count)
        try:
            chunks = self.chunker(doc, doc_id_for(entry.path))
        except Exception as exc:  # noqa: BLE001
            return self._final(base, old_ids, replace(base, status=FileStatus.ERROR,
                               reason=f"Text konnte nicht zerlegt werden: {type(exc).__name__}"), stats)
        chunks = [c if c.path == entry.path else replace(c, path=entry.path) for c in chunks]
        if not chunks:
            if doc.pages_without_text:
                status, reason = FileStatus.NO_TEXT_LAYER, "Keine Textebene – Texterkennung (OCR) nötig."
            else:
                status, reason = FileStatus.EMPTY, "Die Datei enthält keinen Text."
            return self._final(base, old_ids, replace(base, status=status, reason=reason), stats)
        new_ids = tuple(c.id for c in chunks)
        planned = tuple(dict.fromkeys(old_ids + new_ids))
        self.manifest.put(replace(base, chunk_ids=planned))  # PENDING before any store is touched
        if old_ids:
            self._drop(old_ids)
        self._dirty = True
        self.lexical.add(chunks)
        self._cache[entry.path] = chunks
        stats.indexed += 1
        stats.chunks_added += len(chunks)
        return replace(base, status=FileStatus.INDEXED, reason=" ".join(doc.warnings), chunk_ids=new_ids,
                       embedded=False)

    def _final(self, pending: FileRecord, old_ids: tuple[str, ...], final: FileRecord, stats: RunStats
               ) -> FileRecord:
        """A file that yields no chunks: its old chunks leave the stores (after a PENDING record)."""
        if old_ids:
            self.manifest.put(replace(pending, chunk_ids=old_ids))
            self._drop(old_ids)
        stats.failed += 1
        return final

    def _embed_phase(self, cancel: CancelToken, stats: RunStats) -> Iterator[IndexProgress | FileEvent]:
        assert self.embedder is not None and self.vectors is not None
        started = time.perf_counter()
        todo = [r for r in self.manifest.all() if r.status is FileStatus.INDEXED and not r.embedded and r.chunk_ids]
        total = sum(len(r.chunk_ids) for r in todo)
        if not total:
            return
        remaining = {r.path: set(r.chunk_ids) for r in todo}
        by_path = {r.path: r for r in todo}
        queue: list[tuple[str, str]] = [(r.path, cid) for r in todo for cid in r.chunk_ids]
        done = 0
        eta = _Eta()
        yield IndexProgress(0, total, f"Bedeutungssuche: 0/{total} Abschnitte", phase="embed")
        size = self.limits.embed_batch
        try:
            for i in range(0, len(queue), size):
                cancel.raise_if_cancelled()
                part = queue[i:i + size]
                chunks = self._chunks_for(part)
                if chunks:
                    t0 = time.perf_counter()
                    vecs = self.embedder.passages([c.embedding_text() for c in chunks])
                    stats.seconds_in_embedder += time.perf_counter() - t0
                    self.vectors.upsert(chunks, vecs)
                for c in chunks:
                    remaining.get(c.path, set()).discard(c.id)
                done += len(part)
                stats.chunks_embedded += len(chunks)
                eta.step(len(part))
                finished = [p for p in dict.fromkeys(p for p, _ in part) if not remaining.get(p)]
                for path in finished:
                    rec = self.manifest.get(path)
                    if rec and rec.status is FileStatus.INDEXED and rec.chunk_ids == by_path[path].chunk_ids:
                        self.manifest.put(replace(rec, embedded=True))
                        stats.files_embedded += 1
                        yield FileEvent(path, rec.status, rec.reason, len(rec.chunk_ids), "embedded")
                    remaining.pop(path, None)
                yield IndexProgress(done, total, f"Bedeutungssuche: {done}/{total} Abschnitte", phase="embed",
                                    eta_s=eta.left(total - done))
        finally:
            stats.seconds_embed = time.perf_counter() - started

    def _chunks_for(self, part: list[tuple[str, str]]) -> list[Chunk]:
        found: dict[str, Chunk] = {}
        missing: list[str] = []
        cached: dict[str, dict[str, Chunk]] = {}
        for path, cid in part:
            if path not in cached:
                cached[path] = {c.id: c for c in self._cache.get(path, ())}
            if cid in cached[path]:
                found[cid] = cached[path][cid]
            else:
                missing.append(cid)
        if missing:
            for c in self.lexical.get(missing):
                found[c.id] = c
        return [found[cid] for _, cid in part if cid in found]
