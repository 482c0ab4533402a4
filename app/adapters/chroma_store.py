"""Dense vectors in a chromadb PersistentClient: telemetry off, our own embeddings only, cosine space.

chromadb is imported lazily (first use), after `ANONYMIZED_TELEMETRY=False` is set, and the collection is created
with `embedding_function=None`, so chromadb never loads (or downloads) its default model: every vector comes from
our Embedder. Each vector carries metadata `path` (scope filter) and `doc_id`. Calls are serialised by a lock, so
searches from another thread may run while the indexing owner thread upserts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from app.core.documents import Chunk
from app.core.errors import AktenlotseError

COLLECTION = "chunks"
_BATCH = 512


def _import_chromadb() -> Any:
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    os.environ.setdefault("CHROMA_TELEMETRY_IMPL", "")  # harmless when unknown
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError as exc:  # pragma: no cover - a broken installation
        raise AktenlotseError("Die Vektordatenbank (chromadb) ist nicht installiert.", repr(exc)) from exc
    return chromadb, Settings


class ChromaVectorStore:
    """Implements the VectorStore port on `<folder>` (a chromadb persistent directory)."""

    def __init__(self, folder: Path, *, collection: str = COLLECTION) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._name = collection
        self._lock = threading.RLock()
        self._client: Any = None
        self._collection: Any = None

    def _coll(self) -> Any:
        if self._collection is None:
            chromadb, settings_cls = _import_chromadb()
            settings = settings_cls(anonymized_telemetry=False, allow_reset=False, is_persistent=True)
            self._client = chromadb.PersistentClient(path=str(self.folder), settings=settings)
            self._collection = self._client.get_or_create_collection(
                self._name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        return self._collection

    # -- VectorStore port ---------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        if len(chunks) != len(vectors):
            raise ValueError("chunks and vectors differ in length")
        with self._lock:
            coll = self._coll()
            for i in range(0, len(chunks), _BATCH):
                part = chunks[i : i + _BATCH]
                coll.upsert(
                    ids=[c.id for c in part],
                    embeddings=[[float(x) for x in v] for v in vectors[i : i + _BATCH]],
                    metadatas=[{"path": c.path, "doc_id": c.doc_id, "ordinal": c.ordinal} for c in part],
                )

    def delete(self, chunk_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(chunk_ids))
        if not ids:
            return
        with self._lock:
            coll = self._coll()
            for i in range(0, len(ids), _BATCH):
                coll.delete(ids=ids[i : i + _BATCH])

    def query(self, vector: Sequence[float], k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        if k <= 0 or (paths is not None and not paths):
            return []
        where: dict[str, Any] | None = None
        if paths is not None:
            where = {"path": paths[0]} if len(paths) == 1 else {"path": {"$in": list(paths)}}
        with self._lock:
            coll = self._coll()
            n = coll.count()
            if n == 0:
                return []
            result = coll.query(
                query_embeddings=[[float(x) for x in vector]], n_results=min(k, n), where=where,
                include=["distances"],
            )
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, distances)]

    def vectors(self, chunk_ids: Sequence[str]) -> list[list[float] | None]:
        """Stored vectors in the order asked for; None for unknown ids (used by the search's dense feedback)."""
        if not chunk_ids:
            return []
        with self._lock:
            got = self._coll().get(ids=list(chunk_ids), include=["embeddings"])
        by_id = {cid: [float(x) for x in vec] for cid, vec in zip(got["ids"], got["embeddings"])}
        return [by_id.get(cid) for cid in chunk_ids]

    def ids(self) -> set[str]:
        with self._lock:
            coll = self._coll()
            out: set[str] = set()
            offset = 0
            while True:
                got = coll.get(include=[], limit=5000, offset=offset)["ids"]
                out.update(got)
                if len(got) < 5000:
                    return out
                offset += len(got)

    def count(self) -> int:
        with self._lock:
            return int(self._coll().count())

    def close(self) -> None:
        """Drop the client; chromadb keeps a per-path system cache, cleared so the folder can be reopened."""
        with self._lock:
            self._collection = None
            if self._client is not None:
                try:
                    self._client._system.stop()
                except Exception:  # noqa: BLE001
                    pass
                try:
                    from chromadb.api.shared_system_client import SharedSystemClient

                    SharedSystemClient.clear_system_cache()
                except Exception:  # noqa: BLE001
                    pass
            self._client = None
