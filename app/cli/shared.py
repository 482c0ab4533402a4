"""`aktenlotse shared publish|list`: departmental knowledge on the data centre's Chroma server, for its admins.

    aktenlotse shared publish --url https://wissen.rz.example.de:8000 --collection Gewerberecht ORDNER...
    aktenlotse shared list --url https://wissen.rz.example.de:8000

`publish` reads the files with the app's reader and chunker, embeds the chunks with the same e5 model the desktop
search uses (in batches) and replaces each document's chunks in the named collection. Only paths relative to the
given folder are stored (for a file given directly: its name), never the admin's absolute paths. `list` prints the
collections and their chunk counts. This writes to the server: the desktop app's search only reads
(`ChromaSharedKnowledge`).

The CLI may not import adapters (import-linter), so the composition root passes them in:
``run_shared(args, publisher_factory=..., extractor=..., embedder=...)`` – see ``add_shared_parser``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, TextIO

from app.core.chunking import chunk_document
from app.core.documents import Chunk, ExtractedDocument
from app.core.errors import AktenlotseError
from app.core.library import Embedder, ExtractionError, Extractor


class Publisher(Protocol):
    """What publishing needs of the server (= `app.adapters.shared_knowledge.ChromaSharedPublisher`)."""

    display: str

    def publish(self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> int: ...

    def list(self) -> list[tuple[str, int]]: ...

    def close(self) -> None: ...


PublisherFactory = Callable[[str], Publisher]  # url -> publisher (token and CA bundle are the bootstrap's business)
Chunker = Callable[[ExtractedDocument, str], list[Chunk]]


@dataclass
class PublishReport:
    collection: str
    files: int = 0
    chunks: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relative path, German reason)


def add_shared_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    shared = subparsers.add_parser(
        "shared", help="Fachbereichswissen auf dem Server im Rechenzentrum veröffentlichen oder auflisten (für die IT).")
    sub = shared.add_subparsers(dest="shared_command", metavar="AKTION", required=True)
    publish = sub.add_parser("publish", help="Dateien lesen, einbetten und in eine Sammlung schreiben.")
    publish.add_argument("--url", required=True, help="Adresse des Chroma-Servers (https://…; http nur 127.0.0.1)")
    publish.add_argument("--collection", required=True, help="Name der Sammlung, z. B. Gewerberecht")
    publish.add_argument("folders", nargs="+", metavar="ORDNER", help="Ordner oder Dateien")
    publish.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    listing = sub.add_parser("list", help="Sammlungen und Anzahl der Abschnitte anzeigen.")
    listing.add_argument("--url", required=True, help="Adresse des Chroma-Servers")
    listing.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    return shared


def _files(folder: Path) -> Iterator[tuple[Path, str]]:
    """(file, relative path as published) for a folder (recursively, sorted) or a single file."""
    if folder.is_file():
        yield folder, folder.name
        return
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        yield path, path.relative_to(folder).as_posix()


def doc_id_for(collection: str, relative: str) -> str:
    return hashlib.blake2b(f"{collection}\x00{relative}".encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


def publish_folders(folders: Iterable[Path | str], collection: str, publisher: Publisher, extractor: Extractor,
                    embedder: Embedder, *, chunker: Chunker | None = None, batch: int = 64,
                    err: TextIO | None = None) -> PublishReport:
    """Read, chunk, embed and publish every file under `folders` into `collection`; returns the counts."""
    collection = collection.strip()
    if not collection:
        raise AktenlotseError("Bitte einen Namen für die Sammlung angeben (--collection).")
    chunker = chunker or (lambda doc, doc_id: chunk_document(doc, doc_id))
    report = PublishReport(collection)
    pending: list[Chunk] = []

    def flush() -> None:
        if pending:
            vectors = embedder.passages([c.embedding_text() for c in pending])
            report.chunks += publisher.publish(collection, list(pending), vectors)
            pending.clear()

    for folder in folders:
        root = Path(folder)
        if not root.exists():
            raise AktenlotseError(f"Nicht gefunden: {root}")
        for path, relative in _files(root):
            try:
                doc = extractor.extract(path)
            except ExtractionError as exc:
                report.skipped.append((relative, exc.reason))
                continue
            chunks = [replace(c, path=relative) for c in chunker(doc, doc_id_for(collection, relative))]
            if not chunks:
                report.skipped.append((relative, "kein Text"))
                continue
            report.files += 1
            if err is not None:
                err.write(f"{relative}: {len(chunks)} Abschnitte\n")
            # one document's chunks go out together, so the server replaces the whole document at once
            if len(pending) + len(chunks) > batch:
                flush()
            pending.extend(chunks)
    flush()
    return report


def run_shared(args: argparse.Namespace, *, publisher_factory: PublisherFactory, extractor: Extractor | None = None,
               embedder: Embedder | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        publisher = publisher_factory(args.url)
    except AktenlotseError as exc:
        err.write(f"Fehler: {exc.user_message}\n")
        return 2
    try:
        if args.shared_command == "list":
            rows = publisher.list()
            if args.json:
                out.write(json.dumps([{"collection": n, "chunks": c} for n, c in rows], ensure_ascii=False) + "\n")
            else:
                out.write(f"Sammlungen auf {publisher.display}:\n" if rows else f"Keine Sammlungen auf {publisher.display}.\n")
                for name, count in rows:
                    out.write(f"  {name}: {count} Abschnitt{'' if count == 1 else 'e'}\n")
            return 0
        if extractor is None or embedder is None:
            raise AktenlotseError("Zum Veröffentlichen fehlen Dokumentenleser oder Einbettungsmodell.")
        report = publish_folders(args.folders, args.collection, publisher, extractor, embedder, err=err)
        if args.json:
            out.write(json.dumps({"collection": report.collection, "files": report.files, "chunks": report.chunks,
                                  "skipped": [{"path": p, "reason": r} for p, r in report.skipped]},
                                 ensure_ascii=False) + "\n")
        else:
            out.write(f"Sammlung „{report.collection}“ auf {publisher.display} veröffentlicht – "
                      f"Dateien: {report.files}, Abschnitte: {report.chunks}.\n")
            for path, reason in report.skipped:
                out.write(f"  übersprungen: {path} – {reason}\n")
        return 0 if report.files or not report.skipped else 1
    except AktenlotseError as exc:
        err.write(f"Fehler: {exc.user_message}\n")
        if exc.detail:
            err.write(f"  ({exc.detail})\n")
        return 1
    finally:
        publisher.close()
