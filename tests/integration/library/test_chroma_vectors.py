"""ChromaVectorStore.vectors(): the stored vectors come back in the order asked for (dense feedback uses them)."""

from __future__ import annotations

from pathlib import Path

from app.adapters.chroma_store import ChromaVectorStore
from app.core.documents import Chunk


def chunk(cid: str, path: str) -> Chunk:
    return Chunk(id=cid, doc_id="d", path=path, text=f"Text {cid}", ordinal=0, start=0, end=6)


def test_vectors_round_trip_in_requested_order(tmp_path: Path) -> None:
    store = ChromaVectorStore(tmp_path / "vectors")
    try:
        store.upsert([chunk("a", "/x/a.txt"), chunk("b", "/x/b.txt")], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        got = store.vectors(["b", "unbekannt", "a"])
        assert got[1] is None
        assert [round(v, 5) for v in got[0]] == [0.0, 1.0, 0.0]
        assert [round(v, 5) for v in got[2]] == [1.0, 0.0, 0.0]
        assert store.vectors([]) == []
    finally:
        store.close()
