"""VectorStore port in memory (numpy cosine): for tests, benchmarks and small libraries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from app.core.documents import Chunk


class MemoryVectorStore:
    """Exact cosine search over normalised vectors held in one numpy matrix (not persistent, not thread-safe)."""

    def __init__(self, dim: int = 384) -> None:
        self._dim = dim
        self._ids: list[str] = []
        self._paths: list[str] = []
        self._row: dict[str, int] = {}
        self._matrix = np.zeros((0, dim), dtype=np.float32)

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        if len(chunks) != len(vectors):
            raise ValueError("chunks and vectors differ in length")
        if not chunks:
            return
        new = np.asarray(vectors, dtype=np.float32).reshape(len(chunks), self._dim)
        norms = np.linalg.norm(new, axis=1, keepdims=True)
        new = new / np.where(norms == 0, 1, norms)
        self.delete(c.id for c in chunks)
        start = len(self._ids)
        for i, chunk in enumerate(chunks):
            self._row[chunk.id] = start + i
            self._ids.append(chunk.id)
            self._paths.append(chunk.path)
        self._matrix = np.vstack([self._matrix, new])

    def delete(self, chunk_ids: Iterable[str]) -> None:
        gone = {i for i in chunk_ids if i in self._row}
        if not gone:
            return
        keep = [r for r, cid in enumerate(self._ids) if cid not in gone]
        self._ids = [self._ids[r] for r in keep]
        self._paths = [self._paths[r] for r in keep]
        self._matrix = self._matrix[keep]
        self._row = {cid: r for r, cid in enumerate(self._ids)}

    def query(self, vector: Sequence[float], k: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        if not self._ids or k <= 0:
            return []
        scores = self._matrix @ np.asarray(vector, dtype=np.float32)
        if paths is not None:
            allowed = set(paths)
            mask = np.fromiter((p in allowed for p in self._paths), dtype=bool, count=len(self._paths))
            scores = np.where(mask, scores, -np.inf)
        k = min(k, len(self._ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[r], float(scores[r])) for r in top if np.isfinite(scores[r])]

    def vectors(self, chunk_ids: Sequence[str]) -> list[list[float] | None]:
        """Stored (normalised) vectors in the order asked for; None for unknown ids."""
        return [self._matrix[self._row[i]].tolist() if i in self._row else None for i in chunk_ids]

    def ids(self) -> set[str]:
        return set(self._ids)
