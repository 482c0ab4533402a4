"""Ports of the document library: reading files, embedding, storing vectors, the lexical index and the manifest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from app.core.documents import Chunk, ExtractedDocument, FileRecord


class ExtractionError(Exception):
    """Raised by an Extractor for a file it cannot index; carries the status and a German reason."""

    def __init__(self, status: str, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.status = status  # a FileStatus value
        self.reason = reason
        self.detail = detail


class Extractor(Protocol):
    """Reads one file (format detected by content) into blocks; isolates crashes and hangs of the readers."""

    def extract(self, path: Path) -> ExtractedDocument:
        """Raises ExtractionError with a FileStatus value and a German reason for anything it cannot index."""
        ...


class Embedder(Protocol):
    name: str
    dim: int

    def passages(self, texts: Sequence[str]) -> list[list[float]]: ...

    def query(self, text: str) -> list[float]: ...


class VectorStore(Protocol):
    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None: ...

    def delete(self, chunk_ids: Iterable[str]) -> None: ...

    def query(self, vector: Sequence[float], k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, similarity) best first; `paths` restricts to those files (scope)."""
        ...

    def ids(self) -> set[str]: ...

    def vectors(self, chunk_ids: Sequence[str]) -> list[list[float] | None]:
        """Stored vectors in the order asked for, None for unknown ids."""
        ...


class LexicalIndex(Protocol):
    def add(self, chunks: Sequence[Chunk]) -> None: ...

    def delete(self, chunk_ids: Iterable[str]) -> None: ...

    def search(self, query: str, k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]: ...

    def get(self, chunk_ids: Sequence[str]) -> list[Chunk]: ...

    def ids(self) -> set[str]:
        """Every stored chunk id (recovery uses it to find orphans)."""
        ...

    def flush(self) -> None:
        """Make additions searchable and durable (e.g. rebuild and save the BM25 matrix)."""
        ...


class Manifest(Protocol):
    def get(self, path: str) -> FileRecord | None: ...

    def put(self, record: FileRecord) -> None: ...

    def delete(self, path: str) -> None: ...

    def all(self) -> list[FileRecord]: ...


class SharedKnowledge(Protocol):
    """Read-only departmental knowledge on the data centre's server (*Fachbereich*), searched by vector only.

    Only a query vector is sent; nothing of the caseworker's own files. Raises `RemoteUnavailable` (not reachable,
    timed out) or `RemoteRejected` (token refused, a named collection does not exist) with a German message.
    """

    display: str  # "wissen.rz.example.de:443" – where it is, for notices

    def query(self, vector: Sequence[float], k: int) -> list[tuple[Chunk, float]]:
        """Up to `k` chunks over all named collections, best first, with their cosine similarity; every chunk has
        `collection` set and the id "<collection>:<chunk id>"."""
        ...

    def describe(self) -> list[tuple[str, int]]:
        """(collection, number of chunks) for every named collection."""
        ...
